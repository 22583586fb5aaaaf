package store_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/auditchain"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAuditEvents is the log size of the goal: verify 1,000,000
// events in at most 10 s.
const benchAuditEvents = 1_000_000

// BenchmarkAuditVerify verifies a log of 1,000,000 events (chain and
// checkpoints, every 1,000 events) and, as its baseline in the same run,
// reads the same rows in the same order without checking anything: the
// ratio is what the hashing and checking add to reading the table.
//
//	go test -run '^$' -bench BenchmarkAuditVerify -benchtime 3x -timeout 30m ./store
func BenchmarkAuditVerify(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAuditVerify(b, storetest.MustOpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchAuditVerify(b, storetest.MustOpenPostgres(b)) })
}

func benchAuditVerify(b *testing.B, s *store.Store) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	s.SetAuditSigner(auditchain.NewSigner(key), 1000)
	start := time.Now()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 10_000
	for i := 0; i < benchAuditEvents; i += chunk {
		events := make([]retention.AuditEvent, 0, chunk)
		for j := i; j < i+chunk; j++ {
			events = append(events, retention.AuditEvent{ID: fmt.Sprintf("aud_%08d", j), At: at.Add(time.Duration(j) * time.Second), Actor: "scheduler",
				Action: retention.AuditCustomerErase, Subject: fmt.Sprintf("cus_%08d", j), Details: map[string]any{"run": "run_1", "categories": []string{"contact", "cdr"}}})
		}
		if err := s.Update(ctx, func(tx retention.Tx) error { return tx.AppendAudits(ctx, events) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: %d events written in %s", s.Dialect(), benchAuditEvents, time.Since(start).Round(time.Millisecond))
	pub := key.Public().(ed25519.PublicKey)
	var scan, verify, verifyCPU time.Duration
	for b.Loop() {
		t0 := time.Now()
		n := 0
		if err := s.AuditSource().WalkAudit(ctx, func(*auditchain.Row) bool { n++; return true }); err != nil || n != benchAuditEvents {
			b.Fatalf("scan: %d rows, %v", n, err)
		}
		t1, c1 := time.Now(), cpuTime()
		res, err := s.VerifyAudit(ctx, pub)
		verifyCPU += cpuTime() - c1
		if err != nil || !res.OK() || res.Verified != benchAuditEvents {
			b.Fatalf("verify: %v %v", res, err)
		}
		scan, verify = scan+t1.Sub(t0), verify+time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(verify.Seconds()/n, "s/verify-1M")
	b.ReportMetric(scan.Seconds()/n, "s/scan-1M")
	b.ReportMetric(verify.Seconds()/scan.Seconds(), "verify/scan")
	// CPU time of this process (user and system): on a machine shared
	// with other work the wall time is mostly waiting for a core.
	b.ReportMetric(verifyCPU.Seconds()/n, "cpu-s/verify-1M")
	b.ReportMetric(0, "ns/op")
}
