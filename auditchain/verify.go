package auditchain

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"time"
)

// Row is one row of the audit table as the verifier reads it, in table
// order (the store's seq ascending).
type Row struct {
	Seq   int64
	Event Event
	Hash  Hash
	// Unchained: the row has no position or hash (or one that does not
	// parse): it was never appended through the chain.
	Unchained bool
}

// Source is the audit log as stored.
type Source interface {
	// WalkAudit calls fn for every row in table order until fn returns
	// false. The Row is reused between calls.
	WalkAudit(ctx context.Context, fn func(*Row) bool) error
	// AuditCheckpoints lists the checkpoints, by position.
	AuditCheckpoints(ctx context.Context) ([]Checkpoint, error)
	// LocateAudit finds the row that claims chain position pos (the
	// lowest seq when several do).
	LocateAudit(ctx context.Context, pos int64) (seq int64, found bool, err error)
}

// Kind says how the chain breaks.
type Kind string

const (
	// Changed: an event no longer matches its hash, or its link to the
	// event before it, or a signed checkpoint.
	Changed Kind = "changed"
	// Missing: an event is gone (deleted).
	Missing Kind = "missing"
	// Reordered: an event is in the wrong place.
	Reordered Kind = "reordered"
	// Inserted: an event that the chain never held.
	Inserted Kind = "inserted"
	// CheckpointSignature: a checkpoint's signature is not by a trusted key.
	CheckpointSignature Kind = "checkpoint signature wrong"
)

// Break is the first place where the log is not what was appended.
type Break struct {
	// Position is the first chain position that is not intact: event
	// Position is changed, missing, out of place or preceded by an
	// insertion; for CheckpointSignature the position the checkpoint signs.
	Position int64
	Kind     Kind
	// Seq and ID name the row found at that place (0 and "" if none).
	Seq    int64
	ID     string
	Detail string
}

// CheckpointResult is one checkpoint as the verifier found it.
type CheckpointResult struct {
	Checkpoint
	// Valid: signed by a trusted key and matching the chain (false also
	// when the walk stopped before reaching it).
	Valid bool
}

// Result is the outcome of a verification.
type Result struct {
	// Verified is the number of events verified in order: events 1 to
	// Verified are intact; VerifiedAt and VerifiedHash are event
	// Verified's time (microseconds) and hash.
	Verified     int64
	VerifiedAt   int64
	VerifiedHash Hash
	// Signed is the highest event covered by a valid checkpoint; events
	// after it are chained but not yet signed.
	Signed      int64
	Checkpoints []CheckpointResult
	// Break is nil when the whole log verified.
	Break *Break
}

// OK reports whether the whole log verified.
func (r *Result) OK() bool { return r.Break == nil }

// Summary is the one-line answer of `lethe audit verify`.
func (r *Result) Summary() string {
	at := "-"
	if r.Verified > 0 {
		at = time.UnixMicro(r.VerifiedAt).UTC().Format(time.RFC3339)
	}
	if r.Break == nil {
		return fmt.Sprintf("verified up to event %d at %s (signed up to event %d, %d checkpoints)", r.Verified, at, r.Signed, len(r.Checkpoints))
	}
	b := r.Break
	return fmt.Sprintf("BROKEN at event %d: %s — %s (verified up to event %d at %s)", b.Position, b.Kind, b.Detail, r.Verified, at)
}

// Verify walks src and its checkpoints against the trusted keys.
func Verify(ctx context.Context, src Source, keys []ed25519.PublicKey) (*Result, error) {
	cps, err := src.AuditCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Pos, b.Pos) })
	v := &verifier{ctx: ctx, src: src, keys: keys, res: &Result{}}
	for _, c := range cps {
		v.res.Checkpoints = append(v.res.Checkpoints, CheckpointResult{Checkpoint: c})
	}
	if err := src.WalkAudit(ctx, v.step); err != nil {
		return nil, err
	}
	if v.ahead != nil {
		if err := v.locate(); err != nil {
			return nil, err
		}
	}
	if v.res.Break == nil {
		v.end()
	}
	return v.res, nil
}

// verifier is the state of one walk.
type verifier struct {
	ctx  context.Context
	src  Source
	keys []ed25519.PublicKey
	res  *Result
	h    Hasher
	// head is the hash of the last verified event, lastPrev its Prev.
	head, lastPrev Hash
	lastSeq        int64
	lastID         string
	nextCP         int
	// ahead is the row found where an earlier event belongs.
	ahead *Row
	// mismatch is a checkpoint that does not match the event at its place.
	mismatch *CheckpointResult
}

func (v *verifier) fail(pos int64, kind Kind, r *Row, format string, args ...any) bool {
	b := &Break{Position: pos, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	if r != nil {
		b.Seq, b.ID = r.Seq, r.Event.ID
	}
	v.res.Break = b
	return false
}

// step checks one row; false stops the walk at the first break.
func (v *verifier) step(r *Row) bool {
	if v.mismatch != nil {
		return v.afterMismatch(r)
	}
	exp := v.res.Verified + 1
	e := &r.Event
	if r.Unchained {
		return v.fail(exp, Inserted, r, "row seq %d (id %s) has no chain link: it was not appended through Lethe", r.Seq, e.ID)
	}
	if v.h.Sum(e) != r.Hash {
		return v.fail(exp, Changed, r, "row seq %d (id %s) no longer matches its hash: its content was edited", r.Seq, e.ID)
	}
	switch {
	case e.Pos == exp && e.Prev == v.head:
		return v.accept(r)
	case e.Pos == exp:
		return v.fail(exp, Changed, r, "event %d (seq %d) does not link to event %d: one of them was rewritten", exp, r.Seq, exp-1)
	case exp > 1 && e.Pos == exp-1 && e.Prev == v.lastPrev:
		// Two rows claim the same place: one was inserted (with a hash
		// computed for it, so only the duplicate place shows).
		v.res.Verified--
		return v.fail(exp-1, Inserted, r, "two events claim position %d: seq %d (id %s) and seq %d (id %s); one was inserted", exp-1, v.lastSeq, v.lastID, r.Seq, e.ID)
	case e.Pos < exp:
		return v.fail(exp, Inserted, r, "a second copy of event %d (seq %d) was inserted where event %d belongs", e.Pos, r.Seq, exp)
	}
	// Event exp is missing or elsewhere: looked up once the walk has
	// closed its rows (one connection cannot run two queries at once).
	v.ahead = &Row{Seq: r.Seq, Event: Event{Pos: e.Pos, ID: e.ID}}
	return false
}

// locate tells a missing event from one out of place.
func (v *verifier) locate() error {
	exp, r := v.res.Verified+1, v.ahead
	seq, found, err := v.src.LocateAudit(v.ctx, exp)
	if err != nil {
		return err
	}
	if found {
		v.fail(exp, Reordered, r, "event %d is out of place: it is at seq %d, and event %d (seq %d) stands where it belongs", exp, seq, r.Event.Pos, r.Seq)
	} else {
		v.fail(exp, Missing, r, "event %d is missing: event %d (seq %d) follows event %d", exp, r.Event.Pos, r.Seq, exp-1)
	}
	return nil
}

// accept counts r as verified and checks the checkpoints at its place.
func (v *verifier) accept(r *Row) bool {
	v.res.Verified = r.Event.Pos
	v.res.VerifiedAt, v.res.VerifiedHash = r.Event.At, r.Hash
	v.lastPrev, v.head, v.lastSeq, v.lastID = r.Event.Prev, r.Hash, r.Seq, r.Event.ID
	for ; v.nextCP < len(v.res.Checkpoints) && v.res.Checkpoints[v.nextCP].Pos <= r.Event.Pos; v.nextCP++ {
		cp := &v.res.Checkpoints[v.nextCP]
		if cp.Pos < r.Event.Pos {
			continue // a checkpoint at position 0 or below signs nothing
		}
		if !ValidSignature(&cp.Checkpoint, v.keys) {
			v.res.Verified = cp.Pos - 1
			return v.fail(cp.Pos, CheckpointSignature, r, "the checkpoint of event %d (key %s) is not signed by a trusted key", cp.Pos, cp.KeyID)
		}
		if cp.Hash != r.Hash {
			// Decided at the next row: the signed event may follow an
			// inserted one that took its place.
			v.mismatch = cp
			return true
		}
		cp.Valid = true
		v.res.Signed = cp.Pos
	}
	return true
}

// afterMismatch decides a checkpoint that does not match the event at its
// place, looking at the row after it: when that row is the signed event,
// the one before it was inserted; otherwise the chain up to the
// checkpoint was rewritten with recomputed hashes, somewhere after the
// last checkpoint that matched.
func (v *verifier) afterMismatch(r *Row) bool {
	cp := v.mismatch
	if r != nil && !r.Unchained && r.Hash == cp.Hash && r.Event.Pos == cp.Pos && v.h.Sum(&r.Event) == r.Hash {
		v.res.Verified = cp.Pos - 1
		return v.fail(cp.Pos, Inserted, r, "seq %d (id %s) was inserted before event %d (seq %d), which the checkpoint signs", v.lastSeq, v.lastID, cp.Pos, r.Seq)
	}
	v.res.Verified = v.res.Signed
	return v.fail(v.res.Signed+1, Changed, r, "events %d to %d were rewritten with recomputed hashes: the signed checkpoint of event %d holds another hash", v.res.Signed+1, cp.Pos, cp.Pos)
}

// end checks what the walk cannot: checkpoints past the last event.
func (v *verifier) end() {
	if v.mismatch != nil {
		v.afterMismatch(nil)
		return
	}
	if v.nextCP < len(v.res.Checkpoints) {
		cp := v.res.Checkpoints[len(v.res.Checkpoints)-1]
		if !ValidSignature(&cp.Checkpoint, v.keys) {
			v.fail(cp.Pos, CheckpointSignature, nil, "the checkpoint of event %d (key %s) is not signed by a trusted key", cp.Pos, cp.KeyID)
			return
		}
		exp := v.res.Verified + 1
		v.fail(exp, Missing, nil, "events %d to %d are missing: the log ends at event %d, a signed checkpoint covers event %d", exp, cp.Pos, v.res.Verified, cp.Pos)
	}
}
