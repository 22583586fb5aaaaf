package connectors_test

import (
	"github.com/lethe-privacy/lethe/connectors"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/conformance"
)

// TestConformance runs the suite against every shipped connector as a real
// plugin process launched by the Manager.
func TestConformance(t *testing.T) {
	w := newWorld(t, connectors.Config{})
	for name, seed := range w.seeders() {
		t.Run(name, func(t *testing.T) {
			conformance.Run(t, w.connector(t, name), conformance.Fixtures{Seed: seed})
		})
	}
}
