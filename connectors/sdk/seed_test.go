package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// plain implements Connector only: it has no demo data.
type plain struct{ settings map[string]string }

func (p *plain) Configure(_ context.Context, s map[string]string) error {
	if s["fail"] != "" {
		return errors.New(s["fail"])
	}
	p.settings = s
	return nil
}
func (p *plain) Describe(context.Context) (Info, error)                     { return Info{Name: "plain"}, nil }
func (p *plain) Export(context.Context, []Subject) ([]SubjectExport, error) { return nil, nil }
func (p *plain) Anonymise(context.Context, []Action) ([]ActionResult, error) {
	return nil, nil
}
func (p *plain) Delete(context.Context, []Action) ([]ActionResult, error) { return nil, nil }
func (p *plain) Health(context.Context) error                             { return nil }

// seeding records the batches it is given, after Configure.
type seeding struct {
	plain
	batches []SeedBatch
}

func (s *seeding) Seed(_ context.Context, b SeedBatch) error {
	if s.settings == nil {
		return errors.New("seeded before Configure")
	}
	s.batches = append(s.batches, b)
	return nil
}

func seedInput(t *testing.T, values ...any) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return &buf
}

func TestSeedCommandConfiguresThenSeedsEveryBatch(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	b1 := SeedBatch{Seed: 7, Now: now, Customers: []SeedCustomer{{Subject: Subject{CustomerID: "c1", FirstName: "Ada"}, CallRecords: 3}}}
	b2 := SeedBatch{Seed: 7, Now: now, Visits: []VisitRecord{{VisitID: "v1", CustomerID: "c1", EndedAt: now}}}
	c := &seeding{}
	var errOut bytes.Buffer
	if code := seedMain(c, seedInput(t, map[string]string{"data_dir": "/x"}, b1, b2), &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if c.settings["data_dir"] != "/x" {
		t.Fatalf("settings: %v", c.settings)
	}
	if len(c.batches) != 2 || c.batches[0].Customers[0].CallRecords != 3 || c.batches[0].Customers[0].FirstName != "Ada" ||
		!c.batches[1].Visits[0].EndedAt.Equal(now) {
		t.Fatalf("batches: %+v", c.batches)
	}
}

func TestSeedCommandFailures(t *testing.T) {
	var errOut bytes.Buffer
	if code := seedMain(&plain{}, seedInput(t, map[string]string{}), &errOut); code != ExitNoSeeder {
		t.Fatalf("a connector without Seed: exit %d, want %d", code, ExitNoSeeder)
	}
	errOut.Reset()
	if code := seedMain(&seeding{}, seedInput(t, map[string]string{"fail": "no store here"}), &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "no store here") {
		t.Fatalf("a failed Configure: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := seedMain(&seeding{}, strings.NewReader(`{"data_dir":"/x"} {"Seed": "not a number"}`), &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "read batch") {
		t.Fatalf("a malformed batch: exit %d, %q", code, errOut.String())
	}
}

func TestFullName(t *testing.T) {
	for _, tc := range []struct{ first, last, want string }{{"Ada", "Byron", "Ada Byron"}, {"Ada", "", "Ada"}, {"", "Byron", "Byron"}, {"", "", ""}} {
		if got := (Subject{FirstName: tc.first, LastName: tc.last}).FullName(); got != tc.want {
			t.Errorf("%q %q: %q, want %q", tc.first, tc.last, got, tc.want)
		}
	}
}
