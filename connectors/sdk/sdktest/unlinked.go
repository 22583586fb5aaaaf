package sdktest

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Unlinked records carry no customer id: a website sign-up keyed by its
// e-mail, a call log keyed by a phone number. PROTOCOL.md lets a connector
// match such a record by an identifier of the subject only while no other
// customer claims that identifier. These cases seed them through
// Fixtures.SeedUnlinked, for each identifier the connector matches by
// (Fixtures.UnlinkedBy, by default what it declares: match_email,
// match_phone).

// identifier is one identifier an unlinked record may be keyed by.
type identifier struct {
	name  string // "email", "phone"
	field string // the sdk.Field constant naming it in a field action
	get   func(*sdk.Subject) *string
}

var identifiersByName = map[string]identifier{
	"email": {"email", sdk.FieldEmail, func(s *sdk.Subject) *string { return &s.Email }},
	"phone": {"phone", sdk.FieldPhone, func(s *sdk.Subject) *string { return &s.Phone }},
}

// matchesBy lists the identifiers the connector declares it matches by.
func (s *suite) matchesBy(t *testing.T, ctx context.Context) []string {
	var out []string
	for _, c := range []string{sdk.CapabilityMatchEmail, sdk.CapabilityMatchPhone} {
		if s.declares(t, ctx, c) {
			out = append(out, strings.TrimPrefix(c, "match_"))
		}
	}
	return out
}

// unlinkedBy lists the identifiers to test unlinked records by.
func (s *suite) unlinkedBy(t *testing.T, ctx context.Context) []identifier {
	by := s.fx.UnlinkedBy
	if by == nil {
		by = s.matchesBy(t, ctx)
	}
	var out []identifier
	for _, name := range by {
		id, ok := identifiersByName[name]
		if !ok {
			t.Fatalf("Fixtures.UnlinkedBy: unknown identifier %q (use email or phone)", name)
		}
		out = append(out, id)
	}
	if len(out) > 0 && s.fx.SeedUnlinked == nil {
		t.Fatalf("the connector matches unlinked records by %v: Fixtures.SeedUnlinked is required to check it", by)
	}
	return out
}

// seedUnlinked stores records carrying only these identifiers (the
// subjects' CustomerID is blanked).
func (s *suite) seedUnlinked(t *testing.T, ctx context.Context, records ...sdk.Subject) {
	t.Helper()
	for i := range records {
		records[i].CustomerID = ""
	}
	if err := s.fx.SeedUnlinked(ctx, records); err != nil {
		t.Fatalf("SeedUnlinked: %v", err)
	}
}

// unlinked runs the unlinked cases for every identifier.
func (s *suite) unlinked(t *testing.T, ctx context.Context) {
	by := s.unlinkedBy(t, ctx)
	if len(by) == 0 {
		t.Skip("the connector declares neither " + sdk.CapabilityMatchEmail + " nor " + sdk.CapabilityMatchPhone + ": it keeps no unlinked records")
	}
	for _, id := range by {
		t.Run(id.name, func(t *testing.T) {
			t.Run("ExportAndDelete", func(t *testing.T) { s.unlinkedDelete(t, ctx, id) })
			t.Run("ClaimedByAnotherCustomer", func(t *testing.T) { s.unlinkedClaimed(t, ctx, id) })
			if s.canAnonymiseFields(t, ctx) {
				t.Run("PurgeAsLetheSendsIt", func(t *testing.T) {
					a := s.subjects(1)[0]
					s.seedUnlinked(t, ctx, a)
					s.purgeAsLethe(t, ctx, a, id, true)
				})
			}
		})
	}
}

// unlinkedDelete: an unlinked record nobody else claims is the subject's:
// exported with it, deleted with it.
func (s *suite) unlinkedDelete(t *testing.T, ctx context.Context, id identifier) {
	a := s.subjects(1)[0]
	s.seedUnlinked(t, ctx, a)
	if data := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]; !bytes.Contains(data, []byte(*id.get(&a))) {
		t.Fatalf("export of %s does not show the unlinked record keyed by its %s: %.300s", a.CustomerID, id.name, data)
	}
	acts := actions([]sdk.Subject{a}, "unl-del-"+id.name)
	results, err := s.c.Delete(ctx, acts)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if r := checkResults(t, acts, results)[acts[0].ID]; r.Outcome != sdk.OutcomeDeleted {
		t.Errorf("Delete of a subject holding an unlinked record: outcome %s (%s), want DELETED", r.Outcome, r.Reason)
	}
	if data := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]; !IsEmpty(data) {
		t.Errorf("export after delete still shows the unlinked record: %.300s", data)
	}
}

// unlinkedClaimed: another customer's record carries the same identifier,
// so the unlinked record cannot be told to be the subject's. Deleting,
// anonymising or exporting the subject leaves the other customer's records
// (the linked one and the unlinked one it claims) byte for byte, and the
// subject's export shows neither.
func (s *suite) unlinkedClaimed(t *testing.T, ctx context.Context, id identifier) {
	for _, op := range []struct {
		name string
		call func(context.Context, []sdk.Action) ([]sdk.ActionResult, error)
	}{{"Export", nil}, {"Delete", s.c.Delete}, {"Anonymise", s.c.Anonymise}} {
		t.Run(op.name, func(t *testing.T) {
			subs := s.subjects(3)
			a, b, stray := subs[0], subs[1], subs[2]
			*id.get(&b) = *id.get(&a)
			*id.get(&stray) = *id.get(&a)
			s.seed(t, ctx, []sdk.Subject{b})
			s.seedUnlinked(t, ctx, stray)
			if data := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]; !IsEmpty(data) {
				t.Errorf("export of %s shows records another customer claims by the shared %s: %.300s", a.CustomerID, id.name, data)
			}
			if op.call == nil {
				return
			}
			s.checkNeighbour(t, ctx, b, func() {
				acts := actions([]sdk.Subject{a}, "unl-claimed-"+op.name+"-"+id.name)
				results, err := op.call(ctx, acts)
				if err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
				if r := checkResults(t, acts, results)[acts[0].ID]; !r.Outcome.Confirmed() {
					t.Errorf("%s of %s: outcome %s (%s)", op.name, a.CustomerID, r.Outcome, r.Reason)
				}
			})
		})
	}
}

// purgeAsLethe drops fields of a seeded subject the way Lethe does when
// an administrator makes them HIDDEN one after the other: first id's field,
// sent with its value (Lethe recorded it before purging its own copy), then
// the names, sent without that field (Lethe holds it no more), then a
// Delete with only what Lethe still holds. A record keyed by the purged
// identifier must still be found by the later calls: a connector keeps a
// key (the subject's customer id) when it drops the identifier it matched
// a record by.
//
// keyed says the store keeps id as that field (the connector matches by
// it, or the record is unlinked): the purge must then find and drop it.
// Otherwise the value may sit in a field of another meaning (a phone typed
// into a custom field), which a purge of the field leaves alone: the calls
// must only succeed, and the record stay reachable by its customer id.
func (s *suite) purgeAsLethe(t *testing.T, ctx context.Context, a sdk.Subject, id identifier, keyed bool) {
	fa := s.c.(sdk.FieldAnonymiser)
	value := *id.get(&a)
	before := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]
	if !bytes.Contains(before, []byte(value)) {
		t.Fatalf("the seeded export does not show the %s %q, so its purge cannot be checked: %.300s", id.name, value, before)
	}
	held := func(v string) bool { return bytes.Contains(before, []byte(v)) }
	step := func(name string, sub sdk.Subject, fields []string, mustFind bool) {
		t.Helper()
		acts := []sdk.FieldAction{{ID: "purge-" + name + "-" + sub.CustomerID, Subject: sub, Fields: fields}}
		results, err := fa.AnonymiseFields(ctx, acts)
		if err != nil {
			t.Fatalf("AnonymiseFields %v: %v", fields, err)
		}
		if len(results) != 1 || results[0].ActionID != acts[0].ID {
			t.Fatalf("AnonymiseFields %v: results %+v", fields, results)
		}
		if r := results[0]; !r.Outcome.Confirmed() {
			t.Errorf("AnonymiseFields %v as Lethe sends it: outcome %s (%s)", fields, r.Outcome, r.Reason)
		} else if mustFind && r.Outcome != sdk.OutcomeAnonymised {
			t.Errorf("AnonymiseFields %v of a subject whose %v the store holds: outcome %s (%s), want ANONYMISED; "+
				"Lethe counts NOT_FOUND as done, so the values would stay (sent: %+v)", fields, strings.Join(fields, ", "), r.Outcome, r.Reason, sub)
		}
	}
	step(id.name, a, []string{id.field}, keyed)
	sent := a
	*id.get(&sent) = ""
	if data := s.export(t, ctx, []sdk.Subject{sent})[a.CustomerID]; keyed && bytes.Contains(data, []byte(value)) {
		t.Errorf("the purged %s is still exported: %.300s", id.name, data)
	}
	step("names", sent, []string{sdk.FieldFirstName, sdk.FieldLastName}, keyed && (held(a.FirstName) || held(a.LastName)))
	sent.FirstName, sent.LastName = "", ""
	if data := s.export(t, ctx, []sdk.Subject{sent})[a.CustomerID]; keyed && containsAnyIdentifier(sdk.Subject{FirstName: a.FirstName, LastName: a.LastName, Email: value}, data) {
		t.Errorf("a purged value is still exported: %.300s", data)
	}
	acts := actions([]sdk.Subject{sent}, "purge-del")
	results, err := s.c.Delete(ctx, acts)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if r := checkResults(t, acts, results)[acts[0].ID]; !r.Outcome.Confirmed() {
		t.Errorf("Delete after the purges: outcome %s (%s)", r.Outcome, r.Reason)
	}
	if data := s.export(t, ctx, []sdk.Subject{sent})[a.CustomerID]; !IsEmpty(data) {
		t.Errorf("export after the delete is not empty: %.300s", data)
	}
}

func (s *suite) canAnonymiseFields(t *testing.T, ctx context.Context) bool {
	_, ok := s.c.(sdk.FieldAnonymiser)
	return ok && s.declares(t, ctx, sdk.CapabilityAnonymiseFields)
}

// purgeLinked is the purge as Lethe sends it for a record that names its
// customer: every connector declaring anonymise_fields runs it.
func (s *suite) purgeLinked(t *testing.T, ctx context.Context) {
	if !s.canAnonymiseFields(t, ctx) {
		t.Skip("the connector does not declare " + sdk.CapabilityAnonymiseFields)
	}
	for _, id := range []identifier{identifiersByName["email"], identifiersByName["phone"]} {
		t.Run(id.name, func(t *testing.T) {
			a := s.subjects(1)[0]
			s.seed(t, ctx, []sdk.Subject{a})
			if before := s.export(t, ctx, []sdk.Subject{a})[a.CustomerID]; !bytes.Contains(before, []byte(*id.get(&a))) {
				t.Skipf("the store keeps no %s", id.name)
			}
			s.purgeAsLethe(t, ctx, a, id, slices.Contains(s.matchesBy(t, ctx), id.name))
		})
	}
}
