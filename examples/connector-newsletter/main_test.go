package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/conformance"
	"github.com/lethe-privacy/lethe/retention"
)

// TestConformance builds this connector, launches it the way Lethe does and
// runs the connector conformance suite against the running process.
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "connector-newsletter")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	dataDir := t.TempDir()
	c := conformance.LaunchIn(t, dataDir, bin, nil)
	// LaunchIn names the connector "conformance"; its data dir follows.
	list := filepath.Join(dataDir, "connectors", "conformance", "subscribers.json")
	conformance.Run(t, c, conformance.Fixtures{Seed: func(_ context.Context, subjects []retention.Subject) error {
		l, err := load(list)
		if err != nil {
			return err
		}
		for _, s := range subjects {
			l.Subscribers = append(l.Subscribers, Subscriber{CustomerID: s.CustomerID, Email: s.Email,
				Name: s.FirstName + " " + s.LastName, Topics: []string{"offers"}, SubscribedAt: time.Now().UTC()})
		}
		return save(list, l)
	}})
}
