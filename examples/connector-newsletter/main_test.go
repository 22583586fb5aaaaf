package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/connectors/sdk/sdktest"
)

// TestConformance builds this connector, launches it the way Lethe does and
// runs the SDK's conformance suite against the running process.
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "connector-newsletter")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	dataDir := t.TempDir()
	c := sdktest.LaunchIn(t, dataDir, bin, nil)
	list := filepath.Join(dataDir, "subscribers.json")
	// add appends subscriptions to the list file, as the mailing tool does;
	// unlinked ones (website sign-ups) carry no customer id.
	add := func(subjects []sdk.Subject) error {
		l, err := load(list)
		if err != nil {
			return err
		}
		for _, s := range subjects {
			l.Subscribers = append(l.Subscribers, Subscriber{CustomerID: s.CustomerID, Email: s.Email,
				Name: s.FirstName + " " + s.LastName, Topics: []string{"offers"}, SubscribedAt: time.Now().UTC()})
		}
		return save(list, l)
	}
	seed := func(_ context.Context, subjects []sdk.Subject) error { return add(subjects) }
	sdktest.Run(t, c, sdktest.Fixtures{Seed: seed, SeedUnlinked: seed})
}

// TestVersionFlag: the binary built as the README says answers --version
// with its name and the stamped version, so an operator can tell which
// build a checksum belongs to.
func TestVersionFlag(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "connector-newsletter")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "newsletter 1.2.3\n" {
		t.Fatalf("--version: %q %v", out, err)
	}
}
