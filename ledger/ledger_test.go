package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/ledger"
	"github.com/lethe-privacy/lethe/retention"
)

func records(n int, prefix string) []retention.LedgerRecord {
	out := make([]retention.LedgerRecord, n)
	for i := range out {
		out[i] = retention.LedgerRecord{CustomerID: fmt.Sprintf("%s%03d", prefix, i), At: time.Date(2026, 12, 7, 10, 0, i, 0, time.UTC),
			Kind: retention.ActionErase, Categories: []string{"contact", "cdr"}, Run: "run_1", By: "rule"}
	}
	return out
}

func mustOpen(t *testing.T, dir string) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestLedgerAppendsAndReopens: positions count records, a reopened ledger
// has the same head, and Since returns exactly the later records.
func TestLedgerAppendsAndReopens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	p1, err := l.Append(ctx, records(3, "a"))
	if err != nil || p1.Seq != 3 || len(p1.Hash) != 64 {
		t.Fatalf("first append: %+v %v", p1, err)
	}
	p2, err := l.Append(ctx, records(2, "b"))
	if err != nil || p2.Seq != 5 || p2.Hash == p1.Hash {
		t.Fatalf("second append: %+v %v", p2, err)
	}
	l.Close()
	l2 := mustOpen(t, dir)
	head, err := l2.Head()
	if err != nil || head != p2 {
		t.Fatalf("reopened head %+v, want %+v (%v)", head, p2, err)
	}
	later, err := l2.Since(3)
	if err != nil || len(later) != 2 || later[0].Customer != "b000" || later[1].Seq != 5 {
		t.Fatalf("since 3: %+v %v", later, err)
	}
	rec, ok, err := l2.At(3)
	if err != nil || !ok || rec.Hash != p1.Hash {
		t.Fatalf("at 3: %+v %v %v", rec, ok, err)
	}
}

// TestLedgerSharedByProcesses: two handles on one directory (as two
// replicas on shared storage) append in turn and keep one chain.
func TestLedgerSharedByProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := mustOpen(t, dir), mustOpen(t, dir)
	var wg sync.WaitGroup
	for i, l := range []*ledger.Ledger{a, b, a, b} {
		wg.Go(func() {
			if _, err := l.Append(ctx, records(10, fmt.Sprintf("p%d-", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c := mustOpen(t, dir)
	head, err := c.Head()
	if err != nil || head.Seq != 40 {
		t.Fatalf("head after 4 concurrent appends of 10: %+v %v", head, err)
	}
}

// TestLedgerTornAppendDropped: a last line cut short by a crash is
// dropped at open; the chain goes on from the line before it.
func TestLedgerTornAppendDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	p, _ := l.Append(ctx, records(2, "a"))
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, ledger.FileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":3,"at":"2026-`) //nolint:errcheck
	f.Close()
	l2 := mustOpen(t, dir)
	head, err := l2.Head()
	if err != nil || head != p {
		t.Fatalf("head after a torn append %+v, want %+v (%v)", head, p, err)
	}
	if p3, err := l2.Append(ctx, records(1, "c")); err != nil || p3.Seq != 3 {
		t.Fatalf("append after torn: %+v %v", p3, err)
	}
}

// TestLedgerTamperingNamesTheLine: editing, deleting or reordering a line
// makes Open fail with a ChainError naming that line.
func TestLedgerTamperingNamesTheLine(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(lines []string) []string
		line   int64
		reason string
	}{
		{"edit", func(ls []string) []string {
			ls[3] = strings.Replace(ls[3], `"a003"`, `"a099"`, 1)
			return ls
		}, 4, "edited"},
		{"delete", func(ls []string) []string { return append(ls[:2], ls[3:]...) }, 3, "deleted"},
		{"reorder", func(ls []string) []string {
			ls[1], ls[2] = ls[2], ls[1]
			return ls
		}, 2, "moved"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := mustOpen(t, dir)
			if _, err := l.Append(context.Background(), records(6, "a")); err != nil {
				t.Fatal(err)
			}
			l.Close()
			path := filepath.Join(dir, ledger.FileName)
			b, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			os.WriteFile(path, []byte(strings.Join(tc.tamper(lines), "\n")+"\n"), 0o600) //nolint:errcheck
			_, err := ledger.Open(dir)
			var ce *ledger.ChainError
			if !errors.As(err, &ce) || ce.Line != tc.line || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("open after %s: %v (want line %d)", tc.name, err, tc.line)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d", tc.line)) {
				t.Fatalf("the error does not name the line: %v", err)
			}
		})
	}
}

// TestLedgerLastNewlineMissingKept: a whole last record without its
// newline is kept (and the newline restored), not dropped as torn.
func TestLedgerLastNewlineMissingKept(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	p, _ := l.Append(context.Background(), records(3, "a"))
	l.Close()
	path := filepath.Join(dir, ledger.FileName)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-1], 0o600) //nolint:errcheck
	head, err := mustOpen(t, dir).Head()
	if err != nil || head != p {
		t.Fatalf("head %+v, want %+v (%v)", head, p, err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Fatal("the newline was not restored")
	}
}

// BenchmarkAppendBatch is one sweep batch's append (500 records, the
// default batch size): encoding, hashing, one write and one fsync.
//
//	go test -run '^$' -bench BenchmarkAppendBatch ./ledger
func BenchmarkAppendBatch(b *testing.B) {
	l, err := ledger.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	recs := records(500, "cus_01a25193-613c-70b9-b23f-")
	for b.Loop() {
		if _, err := l.Append(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/500, "µs/record")
}
