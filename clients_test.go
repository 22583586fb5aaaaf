package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestGraphQLClients runs the GraphQL ecosystem's own checks against a
// real `lethe serve`: the graphql-http server audit (every MUST and SHOULD
// of GraphQL over HTTP) and the graphql-ws client's handling of a refused
// and an accepted websocket (testdata/clients/check.mjs). The packages come
// from npm by the committed lockfile; .ci/run installs node and npm.
func TestGraphQLClients(t *testing.T) {
	t.Parallel()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		t.Skip("node and npm are not installed (.ci/run installs Debian's nodejs and npm): the graphql-http audit and graphql-ws checks did not run")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	if stale(filepath.Join(dir, "node_modules", ".package-lock.json"), filepath.Join(dir, "package-lock.json")) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	url, banner, stop := serveProcess(t, t.TempDir())
	defer stop()
	token := regexp.MustCompile(`Bearer (lethe_[A-Za-z0-9_-]+)`).FindStringSubmatch(banner)
	if token == nil {
		t.Fatalf("no token in the banner:\n%s", banner)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check.mjs", url, token[1])
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("node check.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the clients' checks failed: %v", err)
	}
}

// stale reports whether installed is missing or older than lock.
func stale(installed, lock string) bool {
	a, err := os.Stat(installed)
	if err != nil {
		return true
	}
	b, err := os.Stat(lock)
	return err != nil || a.ModTime().Before(b.ModTime())
}
