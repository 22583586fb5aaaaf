// Package sdktest is the conformance suite every Lethe connector should
// pass. Run it with `go test` from a connector's own tests against a real
// plugin process (see Launch) or any sdk.Connector:
//
//	func TestConformance(t *testing.T) {
//		c := sdktest.Launch(t, binaryPath, nil)
//		sdktest.Run(t, c, sdktest.Fixtures{Seed: seedMyStore})
//	}
package sdktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/connectors/sdk"
)

// Fixtures is what the suite needs from the connector under test.
type Fixtures struct {
	// Seed stores some data on each subject in the connector's store, by
	// whatever means the store offers (not through the connector, which
	// has no write call). The data must carry at least one of the
	// subject's identifiers (name, e-mail or phone) so the anonymise test
	// can see them go. Required.
	Seed func(ctx context.Context, subjects []sdk.Subject) error
	// SeedUnlinked stores one record per subject carrying its identifiers
	// but no customer id (CustomerID is empty): a sign-up keyed by e-mail,
	// a call log keyed by phone. Required when the connector declares
	// match_email or match_phone (or UnlinkedBy is set).
	SeedUnlinked func(ctx context.Context, records []sdk.Subject) error
	// UnlinkedBy lists the identifiers ("email", "phone") unlinked records
	// are matched by; nil means what the connector declares
	// (sdk.CapabilityMatchEmail, sdk.CapabilityMatchPhone).
	UnlinkedBy []string
	// BatchSize is the number of subjects in the batch test; default 500,
	// the most Lethe sends in one call.
	BatchSize int
	// Timeout bounds each subtest; default 30s.
	Timeout time.Duration
}

// Run runs the suite as subtests of t. Subjects are fresh random ones, so
// the suite can run repeatedly against the same store.
func Run(t *testing.T, c sdk.Connector, fx Fixtures) {
	t.Helper()
	if fx.Seed == nil {
		t.Fatal("conformance: Fixtures.Seed is required")
	}
	if fx.BatchSize <= 0 {
		fx.BatchSize = 500
	}
	if fx.Timeout <= 0 {
		fx.Timeout = 30 * time.Second
	}
	run := randomHex(4)
	runNum, _ := strconv.ParseUint(run[:4], 16, 32)
	s := &suite{c: c, fx: fx, run: run, runNum: int(runNum % 10000)}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, context.Context)
	}{
		{"Describe", s.describe},
		{"ExportUnknownSubjectIsEmpty", s.exportUnknown},
		{"ExportSeededSubject", s.exportSeeded},
		{"DeleteThenExportIsEmpty", s.deleteThenExport},
		{"RepeatedActionIDsAreHarmless", s.repeatedIDs},
		{"DeletingWhatIsGoneIsSuccess", s.deleteGone},
		{"AnonymiseLeavesNoIdentifier", s.anonymise},
		{"BatchResultsLineUpWithActions", s.batch},
		{"NeighbourSharingEmail", s.neighbours(shareEmail)},
		{"NeighbourSharingPhone", s.neighbours(sharePhone)},
		{"NeighbourSharingName", s.neighbours(shareName)},
		{"RecordOfAnotherCustomerWithTheSameIdentifiers", s.neighbours(shareAll)},
		{"RepeatedActionChangesNothing", s.repeatChangesNothing},
		{"AnonymiseFields", s.anonymiseFields},
		{"PurgeAsLetheSendsIt", s.purgeLinked},
		{"UnlinkedRecords", s.unlinked},
		{"Documents", s.documents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), fx.Timeout)
			defer cancel()
			tc.fn(t, ctx)
		})
	}
}

type suite struct {
	c      sdk.Connector
	fx     Fixtures
	run    string
	runNum int
	n      int
}

// subjects returns n new subjects whose identifiers occur nowhere else, so
// a substring search for them in an export is meaningful.
func (s *suite) subjects(n int) []sdk.Subject {
	out := make([]sdk.Subject, n)
	for i := range out {
		s.n++
		tag := fmt.Sprintf("%s%05d", s.run, s.n)
		out[i] = sdk.Subject{
			CustomerID: "conformance-" + tag,
			FirstName:  "Firstname" + tag,
			LastName:   "Lastname" + tag,
			Email:      "subscriber." + tag + "@sdktest.example",
			Phone:      fmt.Sprintf("+4917%04d%05d", s.runNum, s.n),
		}
	}
	return out
}

func (s *suite) seed(t *testing.T, ctx context.Context, subjects []sdk.Subject) {
	t.Helper()
	if err := s.fx.Seed(ctx, subjects); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func (s *suite) export(t *testing.T, ctx context.Context, subjects []sdk.Subject) map[string]json.RawMessage {
	t.Helper()
	exports, err := s.c.Export(ctx, subjects)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	out := map[string]json.RawMessage{}
	for _, e := range exports {
		if !json.Valid(e.Data) && len(e.Data) > 0 {
			t.Errorf("export of %s is not valid JSON: %.200s", e.CustomerID, e.Data)
		}
		if _, dup := out[e.CustomerID]; dup {
			t.Errorf("export has two entries for %s", e.CustomerID)
		}
		out[e.CustomerID] = withDocuments(t, e)
	}
	return out
}

// withDocuments folds an export's document declarations into its JSON, so
// that every check on exports (empty after delete, a neighbour unchanged
// byte for byte) covers the documents too.
func withDocuments(t *testing.T, e sdk.SubjectExport) json.RawMessage {
	if len(e.Documents) == 0 {
		return e.Data
	}
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	b, err := json.Marshal(struct {
		Data      json.RawMessage `json:"data"`
		Documents []sdk.Document  `json:"documents"`
	}{data, e.Documents})
	if err != nil {
		t.Fatalf("export of %s: %v", e.CustomerID, err)
	}
	return b
}

func actions(subjects []sdk.Subject, prefix string) []sdk.Action {
	out := make([]sdk.Action, len(subjects))
	for i, sub := range subjects {
		out[i] = sdk.Action{ID: prefix + "-" + sub.CustomerID, Subject: sub}
	}
	return out
}

// checkResults asserts one result per action, matched by id, for the
// action's customer, and returns them by action id.
func checkResults(t *testing.T, acts []sdk.Action, results []sdk.ActionResult) map[string]sdk.ActionResult {
	t.Helper()
	if len(results) != len(acts) {
		t.Fatalf("got %d results for %d actions", len(results), len(acts))
	}
	byID := map[string]sdk.ActionResult{}
	for _, r := range results {
		if _, dup := byID[r.ActionID]; dup {
			t.Errorf("two results for action %s", r.ActionID)
		}
		byID[r.ActionID] = r
	}
	for _, a := range acts {
		r, ok := byID[a.ID]
		if !ok {
			t.Errorf("no result for action %s", a.ID)
			continue
		}
		if r.CustomerID != a.Subject.CustomerID {
			t.Errorf("result for action %s names customer %q, want %q", a.ID, r.CustomerID, a.Subject.CustomerID)
		}
	}
	return byID
}

func (s *suite) describe(t *testing.T, ctx context.Context) {
	info, err := s.c.Describe(ctx)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if info.Name == "" {
		t.Error("Describe returned no name")
	}
	if len(info.Categories) == 0 {
		t.Error("Describe declares no data category")
	}
	for _, c := range []string{sdk.CapabilityExport, sdk.CapabilityAnonymise, sdk.CapabilityDelete} {
		if !slices.Contains(info.Capabilities, c) {
			t.Errorf("Describe lacks capability %q (has %v)", c, info.Capabilities)
		}
	}
	if err := s.c.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func (s *suite) exportUnknown(t *testing.T, ctx context.Context) {
	subs := s.subjects(1)
	got := s.export(t, ctx, subs)
	if data, ok := got[subs[0].CustomerID]; ok && !IsEmpty(data) {
		t.Errorf("export of an unknown subject is not empty: %.300s", data)
	}
	for id := range got {
		if id != subs[0].CustomerID {
			t.Errorf("export returned data for %q, which was not asked for", id)
		}
	}
}

func (s *suite) exportSeeded(t *testing.T, ctx context.Context) {
	subs := s.subjects(2)
	s.seed(t, ctx, subs[:1])
	got := s.export(t, ctx, subs)
	if data := got[subs[0].CustomerID]; IsEmpty(data) {
		t.Errorf("export of a seeded subject is empty: %q", data)
	}
	if data, ok := got[subs[1].CustomerID]; ok && !IsEmpty(data) {
		t.Errorf("export of the unseeded subject beside it is not empty: %.300s", data)
	}
}

func (s *suite) deleteThenExport(t *testing.T, ctx context.Context) {
	subs := s.subjects(1)
	s.seed(t, ctx, subs)
	acts := actions(subs, "del")
	results, err := s.c.Delete(ctx, acts)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	r := checkResults(t, acts, results)[acts[0].ID]
	if r.Outcome != sdk.OutcomeDeleted {
		t.Errorf("Delete of a seeded subject: outcome %s (%s), want DELETED", r.Outcome, r.Reason)
	}
	if data := s.export(t, ctx, subs)[subs[0].CustomerID]; !IsEmpty(data) {
		t.Errorf("export after delete is not empty: %.300s", data)
	}
}

func (s *suite) repeatedIDs(t *testing.T, ctx context.Context) {
	subs := s.subjects(2)
	s.seed(t, ctx, subs)
	del := actions(subs[:1], "rep-del")
	anon := actions(subs[1:], "rep-anon")
	for i := range 3 {
		results, err := s.c.Delete(ctx, del)
		if err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
		if r := checkResults(t, del, results)[del[0].ID]; !r.Outcome.Confirmed() {
			t.Errorf("Delete #%d with a repeated action id: outcome %s (%s)", i+1, r.Outcome, r.Reason)
		}
		results, err = s.c.Anonymise(ctx, anon)
		if err != nil {
			t.Fatalf("Anonymise #%d: %v", i+1, err)
		}
		if r := checkResults(t, anon, results)[anon[0].ID]; !r.Outcome.Confirmed() {
			t.Errorf("Anonymise #%d with a repeated action id: outcome %s (%s)", i+1, r.Outcome, r.Reason)
		}
	}
	got := s.export(t, ctx, subs)
	if data := got[subs[0].CustomerID]; !IsEmpty(data) {
		t.Errorf("export after repeated deletes is not empty: %.300s", data)
	}
	assertNoIdentifiers(t, subs[1], got[subs[1].CustomerID])
}

func (s *suite) deleteGone(t *testing.T, ctx context.Context) {
	subs := s.subjects(1)
	for _, op := range []struct {
		name string
		call func(context.Context, []sdk.Action) ([]sdk.ActionResult, error)
	}{{"Delete", s.c.Delete}, {"Anonymise", s.c.Anonymise}} {
		acts := actions(subs, "gone-"+op.name)
		results, err := op.call(ctx, acts)
		if err != nil {
			t.Fatalf("%s of an unknown subject: %v", op.name, err)
		}
		r := checkResults(t, acts, results)[acts[0].ID]
		if r.Outcome != sdk.OutcomeNotFound && r.Outcome != sdk.OutcomeDeleted && r.Outcome != sdk.OutcomeAnonymised {
			t.Errorf("%s of an unknown subject: outcome %s (%s), want NOT_FOUND", op.name, r.Outcome, r.Reason)
		}
	}
}

func (s *suite) anonymise(t *testing.T, ctx context.Context) {
	subs := s.subjects(1)
	s.seed(t, ctx, subs)
	before := s.export(t, ctx, subs)[subs[0].CustomerID]
	if !containsAnyIdentifier(subs[0], before) {
		t.Fatalf("seeded export carries none of the subject's identifiers, so anonymising cannot be checked: %.300s", before)
	}
	acts := actions(subs, "anon")
	results, err := s.c.Anonymise(ctx, acts)
	if err != nil {
		t.Fatalf("Anonymise: %v", err)
	}
	r := checkResults(t, acts, results)[acts[0].ID]
	if r.Outcome != sdk.OutcomeAnonymised && r.Outcome != sdk.OutcomeDeleted {
		t.Errorf("Anonymise of a seeded subject: outcome %s (%s), want ANONYMISED", r.Outcome, r.Reason)
	}
	assertNoIdentifiers(t, subs[0], s.export(t, ctx, subs)[subs[0].CustomerID])
}

func (s *suite) batch(t *testing.T, ctx context.Context) {
	subs := s.subjects(s.fx.BatchSize)
	var seeded []sdk.Subject
	for i, sub := range subs {
		if i%2 == 0 {
			seeded = append(seeded, sub)
		}
	}
	s.seed(t, ctx, seeded)
	before := s.export(t, ctx, subs)
	for i, sub := range subs {
		if empty := IsEmpty(before[sub.CustomerID]); empty == (i%2 == 0) {
			t.Fatalf("batch export: subject %d (seeded=%v) has empty=%v", i, i%2 == 0, empty)
		}
	}
	// Reverse the order so a connector that answers in storage order
	// rather than by action id is caught.
	acts := actions(subs, "batch")
	slices.Reverse(acts)
	results, err := s.c.Delete(ctx, acts)
	if err != nil {
		t.Fatalf("Delete of %d subjects: %v", len(acts), err)
	}
	byID := checkResults(t, acts, results)
	for i, sub := range subs {
		r := byID["batch-"+sub.CustomerID]
		switch {
		case i%2 == 0 && r.Outcome != sdk.OutcomeDeleted:
			t.Errorf("seeded subject %d: outcome %s (%s), want DELETED", i, r.Outcome, r.Reason)
		case i%2 == 1 && !r.Outcome.Confirmed():
			t.Errorf("unseeded subject %d: outcome %s (%s), want NOT_FOUND", i, r.Outcome, r.Reason)
		}
	}
	for id, data := range s.export(t, ctx, subs) {
		if !IsEmpty(data) {
			t.Errorf("export of %s after batch delete is not empty", id)
		}
	}
}

func containsAnyIdentifier(sub sdk.Subject, data []byte) bool {
	for _, id := range identifiers(sub) {
		if bytes.Contains(data, []byte(id)) {
			return true
		}
	}
	return false
}

func assertNoIdentifiers(t *testing.T, sub sdk.Subject, data []byte) {
	t.Helper()
	for _, id := range identifiers(sub) {
		if bytes.Contains(data, []byte(id)) {
			t.Errorf("export after anonymising still contains %q: %.300s", id, data)
		}
	}
}

// identifiers lists the subject's non-empty identifiers.
func identifiers(sub sdk.Subject) []string {
	var out []string
	for _, v := range []string{sub.FirstName, sub.LastName, sub.Email, sub.Phone} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// IsEmpty reports whether an export holds nothing: absent, null, "", {}, []
// or an object or array made only of such values.
func IsEmpty(data []byte) bool {
	if len(bytes.TrimSpace(data)) == 0 {
		return true
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return false
	}
	return emptyValue(v)
}

func emptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		for _, e := range x {
			if !emptyValue(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !emptyValue(e) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
