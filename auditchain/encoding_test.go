package auditchain_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/lethe-privacy/lethe/auditchain"
)

func sp(s string) *string { return &s }

// TestEncodingIsPinned writes out the canonical encoding of one event byte
// by byte, as docs/audit-and-evidence.md states it, so that a verifier
// written elsewhere from that page computes the same hash, and any change
// of the encoding fails here first.
func TestEncodingIsPinned(t *testing.T) {
	var prev auditchain.Hash
	for i := range prev {
		prev[i] = byte(i)
	}
	e := auditchain.Event{Pos: 2, Prev: prev, ID: "aud_1", At: 1767225600000000, Actor: "alice", Action: "policy.update",
		Subject: sp("visit_days"), Details: sp(`{"retentionDays":{"new":60,"old":30}}`)}
	want := "lethe-audit-event-v1\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x02" + string(prev[:]) +
		"\x00\x00\x00\x05aud_1" +
		string(binary.BigEndian.AppendUint64(nil, 1767225600000000)) +
		"\x00\x00\x00\x05alice" + "\x00\x00\x00\x0dpolicy.update" +
		"\x01\x00\x00\x00\x0avisit_days" + "\x01\x00\x00\x00\x25" + `{"retentionDays":{"new":60,"old":30}}`
	got := string(auditchain.Encode(nil, &e))
	if got != want {
		t.Fatalf("encoding:\n got %x\nwant %x", got, want)
	}
	var h auditchain.Hasher
	sum := sha256.Sum256([]byte(want))
	if h.Sum(&e).Hex() != hex.EncodeToString(sum[:]) {
		t.Fatal("the hash is not the SHA-256 of the encoding")
	}
}

// TestEncodingTellsFieldsApart: NULL and empty, and a byte moved from one
// field to the next, encode differently.
func TestEncodingTellsFieldsApart(t *testing.T) {
	base := auditchain.Event{Pos: 1, ID: "a", Actor: "bc", Action: "d"}
	variants := []auditchain.Event{base, base, base, base}
	variants[1].Subject = sp("")
	variants[2].Details = sp("")
	variants[3].ID, variants[3].Actor = "ab", "c"
	seen := map[string]int{}
	for i := range variants {
		var h auditchain.Hasher
		k := h.Sum(&variants[i]).Hex()
		if j, ok := seen[k]; ok {
			t.Errorf("variants %d and %d hash alike", j, i)
		}
		seen[k] = i
	}
}

// rows is a Source over rows in memory, for the verifier's own edge cases
// (the database-backed tests are in store/auditchain_test.go).
type rows []auditchain.Row

func (r rows) WalkAudit(_ context.Context, fn func(*auditchain.Row) bool) error {
	for i := range r {
		if !fn(&r[i]) {
			break
		}
	}
	return nil
}
func (rows) AuditCheckpoints(context.Context) ([]auditchain.Checkpoint, error) { return nil, nil }
func (r rows) LocateAudit(_ context.Context, pos int64) (int64, bool, error) {
	for _, x := range r {
		if x.Event.Pos == pos {
			return x.Seq, true, nil
		}
	}
	return 0, false, nil
}

// TestVerifyFirstRowClaimsPositionZero: a row claiming position 0 before
// any event is named as event 1's problem, never as event 0.
func TestVerifyFirstRowClaimsPositionZero(t *testing.T) {
	e := auditchain.Event{Pos: 0, ID: "aud_x", Actor: "m", Action: "a"}
	var h auditchain.Hasher
	res, err := auditchain.Verify(context.Background(), rows{{Seq: 1, Event: e, Hash: h.Sum(&e)}}, nil)
	if err != nil || res.OK() || res.Break.Position != 1 || res.Verified != 0 {
		t.Fatalf("%s %v", res.Summary(), err)
	}
}
