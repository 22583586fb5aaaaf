package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/store/storetest"
)

// replica is a `lethe serve` child process whose log is counted.
type replica struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	sweeps int
	log    bytes.Buffer
}

func startReplica(t *testing.T, dir, database string) *replica {
	t.Helper()
	r := &replica{}
	r.cmd = exec.Command(filepath.Join(binDir, "lethe"), "serve", "--data-dir", dir, "--database", database,
		"--listen", "127.0.0.1:0", "--sweep-schedule", "* * * * * *")
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			if strings.Contains(sc.Text(), "scheduled sweep finished") {
				r.sweeps++
			}
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() }) //nolint:errcheck
	return r
}

func (r *replica) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sweeps
}

// TestReplicasElectOneSweeper starts two replicas on one PostgreSQL
// database with a sweep every second: exactly one sweeps; when it is killed
// the other takes over.
func TestReplicasElectOneSweeper(t *testing.T) {
	database := storetest.PostgresDatabase(t)
	dir := t.TempDir()
	lethe(t, "migrate", "--data-dir", dir, "--database", database)
	a := startReplica(t, filepath.Join(dir, "a"), database)
	b := startReplica(t, filepath.Join(dir, "b"), database)
	waitFor(t, 20*time.Second, "a first sweep", func() bool { return a.count()+b.count() >= 3 })
	time.Sleep(2 * time.Second)
	leader, other := a, b
	if b.count() > a.count() {
		leader, other = b, a
	}
	if leader.count() < 3 || other.count() != 0 {
		t.Fatalf("both replicas swept: %d and %d sweeps\n%s", leader.count(), other.count(), other.log.String())
	}
	leader.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	leader.cmd.Wait()                          //nolint:errcheck
	waitFor(t, 30*time.Second, "the other replica to take over", func() bool { return other.count() >= 2 })
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
