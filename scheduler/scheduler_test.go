package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/scheduler"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestScheduledSweeps runs the jobs every second on SQLite (where the one
// process is the leader): sweeps happen, and the visit left open too long is
// ended with its walk-in data erased.
func TestScheduledSweeps(t *testing.T) {
	s := storetest.MustOpenSQLite(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	past := time.Now().Add(-48 * time.Hour)
	svc := retention.NewService(s, retention.WithClock(func() time.Time { return past }))
	first := "Walk"
	v, err := svc.StartVisit(ctx, retention.VisitInput{Visitor: &retention.PersonalData{FirstName: &first}})
	if err != nil {
		t.Fatal(err)
	}
	svc = retention.NewService(s)
	engine := relinquish.NewEngine(s, nil, retention.WithLogger(log))
	sched, err := scheduler.Start(scheduler.Config{SweepSchedule: "* * * * * *", VisitCleanupSchedule: "* * * * * *", VisitMaxOpen: time.Hour},
		engine, svc, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		runs, err := s.Runs(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		ended, _ := s.Visit(ctx, v.ID)
		if len(runs) >= 2 && ended.EndedAt != nil {
			for _, r := range runs {
				if r.Trigger != "scheduler" || (r.Status != retention.RunSucceeded && r.Status != retention.RunRunning) {
					t.Fatalf("run %+v", r)
				}
			}
			if ended.Visitor != nil {
				t.Fatalf("walk-in data kept on the visit ended by the clean-up: %+v", ended.Visitor)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: %d runs, visit ended %v", len(runs), ended.EndedAt)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := sched.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := scheduler.Start(scheduler.Config{SweepSchedule: "not a cron"}, engine, svc, nil, log); err == nil {
		t.Fatal("a bad schedule was accepted")
	}
}
