package sdktest

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// A neighbour is another customer who shares an identifier with the
// subject: a family e-mail address, a shared phone, a common name, or all
// of them (a record that names another customer id). A connector acts on
// exactly the subject it is given, so whatever it does to the subject
// leaves the neighbour's data byte for byte as it was, and the subject's
// export shows nothing of the neighbour.

func shareEmail(a, b *sdk.Subject) { b.Email = a.Email }
func sharePhone(a, b *sdk.Subject) { b.Phone = a.Phone }
func shareName(a, b *sdk.Subject)  { b.FirstName, b.LastName = a.FirstName, a.LastName }
func shareAll(a, b *sdk.Subject) {
	b.FirstName, b.LastName, b.Email, b.Phone = a.FirstName, a.LastName, a.Email, a.Phone
}

// pair returns a subject and a neighbour made by share, both seeded.
func (s *suite) pair(t *testing.T, ctx context.Context, share func(a, b *sdk.Subject)) (sdk.Subject, sdk.Subject) {
	subs := s.subjects(2)
	share(&subs[0], &subs[1])
	s.seed(t, ctx, subs)
	return subs[0], subs[1]
}

func (s *suite) neighbours(share func(a, b *sdk.Subject)) func(*testing.T, context.Context) {
	return func(t *testing.T, ctx context.Context) {
		t.Run("Export", func(t *testing.T) {
			a, b := s.pair(t, ctx, share)
			got := s.export(t, ctx, []sdk.Subject{a})
			if bytes.Contains(got[a.CustomerID], []byte(b.CustomerID)) {
				t.Errorf("export of %s holds its neighbour %s's record: %.300s", a.CustomerID, b.CustomerID, got[a.CustomerID])
			}
			for id := range got {
				if id != a.CustomerID {
					t.Errorf("export of %s returned data for %s", a.CustomerID, id)
				}
			}
			s.checkNeighbour(t, ctx, b, func() {})
		})
		for _, op := range []struct {
			name string
			call func(*suite) func(context.Context, []sdk.Action) ([]sdk.ActionResult, error)
		}{
			{"Delete", func(s *suite) func(context.Context, []sdk.Action) ([]sdk.ActionResult, error) { return s.c.Delete }},
			{"Anonymise", func(s *suite) func(context.Context, []sdk.Action) ([]sdk.ActionResult, error) { return s.c.Anonymise }},
		} {
			t.Run(op.name, func(t *testing.T) {
				a, b := s.pair(t, ctx, share)
				s.checkNeighbour(t, ctx, b, func() {
					acts := actions([]sdk.Subject{a}, "nb-"+op.name)
					results, err := op.call(s)(ctx, acts)
					if err != nil {
						t.Fatalf("%s: %v", op.name, err)
					}
					if r := checkResults(t, acts, results)[acts[0].ID]; !r.Outcome.Confirmed() {
						t.Errorf("%s of %s: outcome %s (%s)", op.name, a.CustomerID, r.Outcome, r.Reason)
					}
				})
				if op.name == "Delete" {
					if data := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]; !IsEmpty(data) {
						t.Errorf("export of %s after delete is not empty: %.300s", a.CustomerID, data)
					}
				}
			})
		}
		if fa, ok := s.c.(sdk.FieldAnonymiser); ok && s.declares(t, ctx, sdk.CapabilityAnonymiseFields) {
			t.Run("AnonymiseFields", func(t *testing.T) {
				a, b := s.pair(t, ctx, share)
				s.checkNeighbour(t, ctx, b, func() {
					acts := []sdk.FieldAction{{ID: "nb-fields-" + a.CustomerID, Subject: a, Fields: allFields}}
					if _, err := fa.AnonymiseFields(ctx, acts); err != nil {
						t.Fatalf("AnonymiseFields: %v", err)
					}
				})
			})
		}
	}
}

// checkNeighbour asserts that act leaves b's export exactly as it was.
func (s *suite) checkNeighbour(t *testing.T, ctx context.Context, b sdk.Subject, act func()) {
	t.Helper()
	before := s.export(t, ctx, []sdk.Subject{b})[b.CustomerID]
	if IsEmpty(before) {
		t.Fatalf("the neighbour's export is empty right after seeding, so it cannot be checked")
	}
	act()
	after := s.export(t, ctx, []sdk.Subject{b})[b.CustomerID]
	if !bytes.Equal(before, after) {
		t.Errorf("the neighbour %s changed:\nbefore %.400s\nafter  %.400s", b.CustomerID, before, after)
	}
}

// repeatChangesNothing sends each action a second time with the same id
// and asserts the second call changed nothing.
func (s *suite) repeatChangesNothing(t *testing.T, ctx context.Context) {
	for _, op := range []struct {
		name string
		call func(context.Context, []sdk.Action) ([]sdk.ActionResult, error)
	}{{"Delete", s.c.Delete}, {"Anonymise", s.c.Anonymise}} {
		t.Run(op.name, func(t *testing.T) {
			subs := s.subjects(2)
			s.seed(t, ctx, subs)
			acts := actions(subs[:1], "twice-"+op.name)
			if _, err := op.call(ctx, acts); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			first := s.export(t, ctx, subs)
			results, err := op.call(ctx, acts)
			if err != nil {
				t.Fatalf("%s again: %v", op.name, err)
			}
			if r := checkResults(t, acts, results)[acts[0].ID]; !r.Outcome.Confirmed() {
				t.Errorf("%s again with the same id: outcome %s (%s)", op.name, r.Outcome, r.Reason)
			}
			second := s.export(t, ctx, subs)
			for _, sub := range subs {
				if !bytes.Equal(first[sub.CustomerID], second[sub.CustomerID]) {
					t.Errorf("repeating action id %s changed %s:\nbefore %.300s\nafter  %.300s", acts[0].ID, sub.CustomerID, first[sub.CustomerID], second[sub.CustomerID])
				}
			}
		})
	}
}

var allFields = []string{sdk.FieldFirstName, sdk.FieldLastName, sdk.FieldEmail, sdk.FieldPhone,
	sdk.FieldCustom1, sdk.FieldCustom2, sdk.FieldCustom3, sdk.FieldCustom4, sdk.FieldCustom5}

// anonymiseFields checks a connector declaring anonymise_fields: dropping
// every field leaves none of the subject's identifiers, repeating is
// harmless, and a subject it holds nothing on is success.
func (s *suite) anonymiseFields(t *testing.T, ctx context.Context) {
	fa, ok := s.c.(sdk.FieldAnonymiser)
	if !ok || !s.declares(t, ctx, sdk.CapabilityAnonymiseFields) {
		t.Skip("the connector does not declare " + sdk.CapabilityAnonymiseFields)
	}
	subs := s.subjects(2)
	s.seed(t, ctx, subs[:1])
	acts := []sdk.FieldAction{
		{ID: "fields-" + subs[0].CustomerID, Subject: subs[0], Fields: allFields},
		{ID: "fields-" + subs[1].CustomerID, Subject: subs[1], Fields: allFields},
	}
	for i := range 2 {
		results, err := fa.AnonymiseFields(ctx, acts)
		if err != nil {
			t.Fatalf("AnonymiseFields #%d: %v", i+1, err)
		}
		if len(results) != len(acts) {
			t.Fatalf("AnonymiseFields #%d: %d results for %d actions", i+1, len(results), len(acts))
		}
		for j, r := range results {
			if r.ActionID != acts[j].ID || !r.Outcome.Confirmed() {
				t.Errorf("AnonymiseFields #%d result %d: %+v", i+1, j, r)
			}
		}
	}
	assertNoIdentifiers(t, subs[0], s.export(t, ctx, subs[:1])[subs[0].CustomerID])
}

func (s *suite) declares(t *testing.T, ctx context.Context, capability string) bool {
	info, err := s.c.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	return slices.Contains(info.Capabilities, capability)
}
