package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/ledger"
	"github.com/lethe-privacy/lethe/retention"
)

// TestResidueCycleSurvivesARestart: a restart in the middle of a residue
// audit's cycle goes on with the customers that cycle had not reached,
// instead of beginning again from the newest; erasures made meanwhile wait
// for the next cycle, and a finished cycle's next one begins at the head.
func TestResidueCycleSurvivesARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	erase := func(from, to int) {
		var recs []retention.LedgerRecord
		for i := from; i <= to; i++ {
			recs = append(recs, retention.LedgerRecord{CustomerID: fmt.Sprintf("c%d", i), At: time.Now(), Kind: retention.ActionErase, Run: "run_1", By: "rule"})
		}
		if _, err := l.Append(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(from, to int) []string {
		var out []string
		for i := to; i >= from; i-- {
			out = append(out, fmt.Sprintf("c%d", i))
		}
		return out
	}
	app := &App{Ledger: l, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	newAuditor := func() *residueAuditor {
		return &residueAuditor{app: app, every: time.Second, cycle: 3 * time.Second, path: filepath.Join(dir, residueCursorFile)}
	}
	erase(1, 10)

	ra := newAuditor()
	if !ra.startCycle(app.Log) || !slices.Equal(ra.queue, ids(1, 10)) {
		t.Fatalf("first cycle: %v", ra.queue)
	}
	// Four checked, then the process stops; three more are erased.
	ra.queue, ra.cursor.Done = ra.queue[4:], 4
	if err := ra.cursor.save(ra.path, false); err != nil {
		t.Fatal(err)
	}
	erase(11, 13)

	ra = newAuditor()
	if !ra.startCycle(app.Log) || !slices.Equal(ra.queue, ids(1, 6)) {
		t.Fatalf("after a restart the cycle should go on with c6…c1, got %v", ra.queue)
	}
	if err := ra.cursor.save(ra.path, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ra.path); !os.IsNotExist(err) {
		t.Fatalf("a finished cycle leaves its cursor: %v", err)
	}
	ra = newAuditor()
	if !ra.startCycle(app.Log) || !slices.Equal(ra.queue, ids(1, 13)) {
		t.Fatalf("the next cycle should begin at the head, got %v", ra.queue)
	}

	// A cursor that cannot be read starts a new cycle rather than none.
	if err := os.WriteFile(ra.path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	ra = newAuditor()
	if !ra.startCycle(app.Log) || len(ra.queue) != 13 {
		t.Fatalf("an unreadable cursor: %v", ra.queue)
	}
}
