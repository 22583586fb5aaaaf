package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTokenCommands: create prints a token once, list never shows it,
// revoke refuses it from then on; the database holds no secret.
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := lethe(t, "token", "create", "--data-dir", dir, "--name", "ops-console", "--role", "operator")
	token := regexp.MustCompile(`lethe_[A-Za-z0-9_-]{43}`).FindString(out)
	if token == "" {
		t.Fatalf("no token printed: %s", out)
	}
	list := lethe(t, "token", "list", "--data-dir", dir)
	if !strings.Contains(list, "ops-console") || !strings.Contains(list, "operator") || strings.Contains(list, token) {
		t.Fatalf("list: %s", list)
	}
	db, err := os.ReadFile(filepath.Join(dir, "lethe.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, "lethe.db-wal"))
	if strings.Contains(string(db)+string(wal), token) {
		t.Fatal("the database holds the token in the clear")
	}
	for _, bad := range [][]string{
		{"token", "create", "--data-dir", dir, "--name", "ops-console", "--role", "admin"}, // name taken
		{"token", "create", "--data-dir", dir, "--name", "x", "--role", "root"},
		{"token", "revoke", "--data-dir", dir, "--name", "nobody"},
		{"token", "rotate", "--data-dir", dir},
	} {
		if out, err := exec.Command(filepath.Join(binDir, "lethe"), bad...).CombinedOutput(); err == nil {
			t.Errorf("lethe %v succeeded: %s", bad, out)
		}
	}
	if out := lethe(t, "token", "revoke", "--data-dir", dir, "--name", "ops-console"); !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %s", out)
	}
	if list := lethe(t, "token", "list", "--data-dir", dir); !regexp.MustCompile(`ops-console\s+operator\s+\S+\s+-\s+20\d\d-`).MatchString(list) {
		t.Fatalf("list after revoke: %s", list)
	}
}

// serveProcess starts `lethe serve` on a free loopback port as `make run`
// does and returns its base URL, the banner it printed, and a stop func.
func serveProcess(t *testing.T, dir string) (string, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "lethe"), "serve", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--playground=true", "--dev-admin-token", "--sweep=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt) //nolint:errcheck
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck // stopped
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cancel()
			<-done
		}
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			stop()
		}
		cancel()
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var banner strings.Builder
	deadline := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited:\n%s", banner.String())
			}
			banner.WriteString(line + "\n")
			if strings.Contains(line, "With curl:") {
				go func() { // keep the pipe drained
					for range lines {
					}
				}()
				url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(banner.String())
				return url, banner.String(), stop
			}
		case <-deadline:
			t.Fatalf("no banner after 60s:\n%s", banner.String())
		}
	}
}

// TestDevAdminToken: `make run`'s serve prints a working admin token with
// the playground URL and how to set the header; the token is kept with
// mode 0600 and reused on the next start.
func TestDevAdminToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url, banner, stop := serveProcess(t, dir)
	file := filepath.Join(dir, "dev-admin.token")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode())
	}
	for _, want := range []string{url + "/console/", url + "/", "Admin token:       " + token, "development only"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	call := func(method, path, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	q := `{"query": "{ auditLog(first: 1) { actor action } connectors { name healthy } }"}`
	if status, body := call("POST", "/graphql", token, q); status != 200 || !strings.Contains(body, `"action":"token.create"`) {
		t.Fatalf("as the dev admin: %d %s", status, body)
	}
	if status, body := call("POST", "/graphql", "", q); status != 401 || !strings.Contains(body, "UNAUTHENTICATED") {
		t.Fatalf("without a token: %d %s", status, body)
	}
	if status, body := call("GET", "/readyz", "", ""); status != 200 || !strings.Contains(body, `"database":"ok"`) || !strings.Contains(body, `"connector:cdrstore":"ok"`) {
		t.Fatalf("readyz: %d %s", status, body)
	}
	if status, body := call("GET", "/metrics", "", ""); status != 200 || !strings.Contains(body, "lethe_http_requests_total") || !strings.Contains(body, "lethe_connector_plugin_up") {
		t.Fatalf("metrics: %d %.300s", status, body)
	}
	if status, _ := call("GET", "/", "", ""); status != 200 {
		t.Fatalf("playground: %d", status)
	}

	// The next start reuses the token in the file.
	stop()
	_, again, _ := serveProcess(t, dir)
	if b2, _ := os.ReadFile(file); string(b2) != string(b) || !strings.Contains(again, token) {
		t.Fatalf("the token changed between starts:\n%s", again)
	}
}
