package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/lethe-privacy/lethe/ledger"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
)

// appendThenFail appends to the real ledger, then fails: the record is on
// disk and the transaction that would have marked the customer erased
// rolls back, as when the process dies between the two.
type appendThenFail struct{ l *ledger.Ledger }

func (a appendThenFail) Append(ctx context.Context, recs []retention.LedgerRecord) (retention.LedgerPosition, error) {
	if _, err := a.l.Append(ctx, recs); err != nil {
		return retention.LedgerPosition{}, err
	}
	return retention.LedgerPosition{}, errors.New("the process died before its commit")
}

// TestLedgerRecordWithoutCommitIsFinished: the crash window of the ledger
// hook. The ledger holds the erasure, the database does not (position 0,
// customer alive, journal entry open with every delete confirmed). The
// start's catch-up finishes that same journal entry: the customer is
// erased, no connector action is sent twice, the journal holds one entry,
// and the database's position reaches the ledger's.
func TestLedgerRecordWithoutCommitIsFinished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, 10, "")
	l, err := ledger.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	page, err := w.svc.SearchCustomers(ctx, "", nil, nil)
	if err != nil || len(page.Customers) == 0 {
		t.Fatal(err)
	}
	failing := relinquish.NewEngine(w.store, w.manager, retention.WithLedger(appendThenFail{l}))
	var id string
	for _, c := range page.Customers {
		// The first customer a manual erasure may touch (no appointment
		// ahead, no hold): its erasure must fail at the commit.
		err := failing.EraseCustomer(ctx, c.ID, "test")
		if code := retention.ErrorCode(err); code == "FUTURE_APPOINTMENT" || code == "LEGAL_HOLD" {
			continue
		}
		if err == nil {
			t.Fatal("the erasure succeeded although its commit failed")
		}
		id = c.ID
		break
	}
	if id == "" {
		t.Fatal("no demo customer could be erased by hand")
	}
	if c, _ := w.store.Customer(ctx, id); c.ErasedAt != nil {
		t.Fatal("erased in the database although the commit failed")
	}
	db := w.store.DB()
	confirmed := queryStrings(t, db.DB, "SELECT id FROM journal_actions WHERE customer_id = ? AND status = 'confirmed'", id)
	if len(confirmed) != 3 {
		t.Fatalf("confirmed before the failed commit: %v", confirmed)
	}
	engine := relinquish.NewEngine(w.store, w.manager, retention.WithLedger(l))
	if err := catchUpLedger(ctx, w.store, l, engine, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := w.store.Customer(ctx, id); c.ErasedAt == nil {
		t.Fatal("the catch-up did not finish the erasure")
	}
	var entries, done int
	db.QueryRowContext(ctx, "SELECT count(*), sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END) FROM journal_entries WHERE customer_id = ?", id).Scan(&entries, &done) //nolint:errcheck
	if entries != 1 || done != 1 {
		t.Fatalf("journal: %d entries, %d done", entries, done)
	}
	for _, a := range confirmed {
		var attempts int
		if err := db.QueryRowContext(ctx, "SELECT attempts FROM journal_actions WHERE id = ?", a).Scan(&attempts); err != nil || attempts != 1 {
			t.Fatalf("action %s sent %d times (%v)", a, attempts, err)
		}
	}
	pos, _ := w.store.LedgerPosition(ctx)
	head, _ := l.Head()
	if pos != head || head.Seq != 1 {
		t.Fatalf("database position %+v, ledger head %+v", pos, head)
	}
}
