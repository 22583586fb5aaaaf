package sdk_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/connectors/sdk/sdktest"
)

// A plugin built with the first SDK speaks protocol 1 only; the host side
// of this SDK negotiates down to it and maps every call protocol 1 has.
func TestHostNegotiatesProtocol1WithAV1Plugin(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "v1connector")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/v1connector").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c := sdktest.Launch(t, bin, map[string]string{"customers": "c1"})
	if c.Protocol() != 1 {
		t.Fatalf("negotiated protocol %d, want 1", c.Protocol())
	}
	ctx := context.Background()
	info, err := c.Describe(ctx)
	if err != nil || info.Version != "1.0.0-v1" {
		t.Fatalf("Describe: %+v, %v", info, err)
	}
	exports, err := c.Export(ctx, []sdk.Subject{{CustomerID: "c1"}, {CustomerID: "c2"}})
	if err != nil || len(exports) != 1 || exports[0].CustomerID != "c1" || len(exports[0].Documents) != 0 {
		t.Fatalf("Export: %+v, %v", exports, err)
	}
	results, err := c.Delete(ctx, []sdk.Action{{ID: "a2", Subject: sdk.Subject{CustomerID: "c2"}}, {ID: "a1", Subject: sdk.Subject{CustomerID: "c1"}}})
	if err != nil || len(results) != 2 || results[0].Outcome != sdk.OutcomeNotFound || results[1].Outcome != sdk.OutcomeDeleted {
		t.Fatalf("Delete: %+v, %v", results, err)
	}
	if _, err := c.AnonymiseFields(ctx, []sdk.FieldAction{{ID: "f1", Subject: sdk.Subject{CustomerID: "c1"}, Fields: []string{sdk.FieldEmail}}}); err == nil {
		t.Error("AnonymiseFields on a protocol 1 plugin succeeded; it must fail, not pretend the fields were dropped")
	}
}

func TestVersionPrefersTheStampedVersion(t *testing.T) {
	if got := sdk.Version("2.3.4"); got != "2.3.4" {
		t.Errorf("Version(2.3.4) = %q", got)
	}
}
