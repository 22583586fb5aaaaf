package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

// groupStore opens a real SQLite store with a scratch table.
func groupStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.db.ExecContext(context.Background(), "CREATE TABLE group_test (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return s
}

func insertKey(ctx context.Context, tx retention.Tx, k string) error {
	_, err := tx.(*queries).idb.ExecContext(ctx, "INSERT INTO group_test (k) VALUES (?)", k)
	return err
}

// txOf identifies the database transaction a write runs in.
func txOf(tx retention.Tx) *sql.Tx { return tx.(*queries).idb.(bun.Tx).Tx }

func keys(t *testing.T, s *Store) map[string]int {
	t.Helper()
	rows, err := s.reads.QueryContext(context.Background(), "SELECT k FROM group_test")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k]++
	}
	return out
}

// queued waits until n write transactions wait in the queue.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.writes.mu.Lock()
		got := len(s.writes.queue) + len(s.writes.background)
		s.writes.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", got, n)
		}
	}
}

// leaderBusy waits until a leader runs a write and none is queued.
func leaderBusy(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.writes.mu.Lock()
		busy := s.writes.leading && len(s.writes.queue)+len(s.writes.background) == 0
		s.writes.mu.Unlock()
		if busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no write began")
		}
	}
}

// TestGroupCommit: write transactions queued behind a running one commit
// together, in one transaction; each that fails (an error, a panic) is
// rolled back alone and its caller gets its own outcome; a caller that
// gives up while queued runs nothing.
func TestGroupCommit(t *testing.T) {
	s := groupStore(t)
	s.writes.budget = time.Minute // the race detector slows each write down
	ctx := context.Background()
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Update(ctx, func(tx retention.Tx) error {
			<-release // the others queue meanwhile
			return insertKey(ctx, tx, "first")
		}); err != nil {
			t.Error(err)
		}
	})
	leaderBusy(t, s)

	const n = 12
	var mu sync.Mutex
	txs := map[*sql.Tx]int{}
	errs := make([]error, n)
	panics := make([]any, n)
	cancelled, cancel := context.WithCancel(ctx)
	ranCancelled := false
	gaveUp := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			defer func() {
				panics[i] = recover()
				if i == n-1 {
					close(gaveUp)
				}
			}()
			wctx := ctx
			if i == n-1 {
				wctx = cancelled
			}
			errs[i] = s.Update(wctx, func(tx retention.Tx) error {
				if i == n-1 {
					ranCancelled = true
				}
				mu.Lock()
				txs[txOf(tx)]++
				mu.Unlock()
				if err := insertKey(ctx, tx, fmt.Sprint("k", i)); err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					return retention.Errorf(retention.CodeBadUserInput, "no %d", i)
				case 2:
					if i == 2 {
						panic("boom")
					}
				case 3:
					// A statement that fails inside the transaction.
					return insertKey(ctx, tx, "first")
				}
				return nil
			})
		})
		queued(t, s, i+1)
	}
	cancel()
	<-gaveUp // the cancelled caller leaves the queue before any runs
	close(release)
	wg.Wait()

	if ranCancelled || !errors.Is(errs[n-1], context.Canceled) {
		t.Fatalf("cancelled while queued: ran %v, %v", ranCancelled, errs[n-1])
	}
	got := keys(t, s)
	for i := range n - 1 {
		k := fmt.Sprint("k", i)
		switch {
		case i == 2:
			if panics[i] != "boom" || got[k] != 0 {
				t.Errorf("write %d panicked: the caller got %v, rows %d", i, panics[i], got[k])
			}
		case i%4 == 1:
			if retention.ErrorCode(errs[i]) != retention.CodeBadUserInput || got[k] != 0 {
				t.Errorf("write %d failed: %v, rows %d", i, errs[i], got[k])
			}
		case i%4 == 3:
			if errs[i] == nil || got[k] != 0 {
				t.Errorf("write %d failed on a statement: %v, rows %d", i, errs[i], got[k])
			}
		default:
			if errs[i] != nil || panics[i] != nil || got[k] != 1 {
				t.Errorf("write %d: %v %v, rows %d", i, errs[i], panics[i], got[k])
			}
		}
	}
	if got["first"] != 1 {
		t.Errorf("first write: %d rows", got["first"])
	}
	// The first runs alone or with a few; the queued ones share a commit.
	most := 0
	for _, c := range txs {
		most = max(most, c)
	}
	if most < n-2 {
		t.Errorf("queued writes ran in %d transactions (largest %d of %d): not grouped", len(txs), most, n-1)
	}
}

// TestGroupCommitBroken: a write that ends the shared transaction (here by
// rolling it back itself) fails alone; the others of its group, already
// run, are run again on their own and committed once.
func TestGroupCommitBroken(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Update(ctx, func(tx retention.Tx) error { <-release; return insertKey(ctx, tx, "first") }); err != nil {
			t.Error(err)
		}
	})
	leaderBusy(t, s)
	const n = 6
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx retention.Tx) error {
				if err := insertKey(ctx, tx, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i == 3 {
					if _, err := tx.(*queries).idb.ExecContext(ctx, "ROLLBACK"); err != nil {
						return err
					}
					return errors.New("gave up")
				}
				return nil
			})
		})
		queued(t, s, i+1)
	}
	close(release)
	wg.Wait()
	got := keys(t, s)
	for i := range n {
		k := fmt.Sprint("k", i)
		if i == 3 {
			if errs[i] == nil || got[k] != 0 {
				t.Errorf("the breaking write: %v, rows %d", errs[i], got[k])
			}
			continue
		}
		if errs[i] != nil || got[k] != 1 {
			t.Errorf("write %d: %v, rows %d (want exactly 1)", i, errs[i], got[k])
		}
	}
}
