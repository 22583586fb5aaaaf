package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/internal/testbin"
)

// The browser tests drive a real `lethe serve` (built from this module, with
// the built-in connector plugins and demo data) from Debian's chromium.

var (
	binDir   string
	chromium string
)

func TestMain(m *testing.M) {
	chromium = findChromium()
	code := func() int {
		if chromium == "" {
			return m.Run() // the browser tests say they skip; nothing to build
		}
		dir, cleanup, err := testbin.Dir("..")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		binDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

// findChromium is LETHE_TEST_CHROMIUM, or the first browser on PATH.
func findChromium() string {
	if p := os.Getenv("LETHE_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needBrowser skips (or, in CI, fails) a test when no browser is installed.
func needBrowser(t *testing.T) {
	t.Helper()
	if chromium != "" {
		return
	}
	msg := "chromium not found: the console's browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it) or LETHE_TEST_CHROMIUM=/path/to/chrome"
	if os.Getenv("LETHE_TEST_REQUIRE_BROWSER") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// server is a running `lethe serve` with demo data and one token per role.
type server struct {
	URL    string
	Dir    string
	Tokens map[string]string
}

func lethe(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "lethe"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lethe %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

var consoleURL = regexp.MustCompile(`Admin console: (http://127\.0\.0\.1:\d+)/console/`)

func startServer(t *testing.T, customers int) *server {
	t.Helper()
	dir := t.TempDir()
	lethe(t, "demo", "--data-dir", dir, "--customers", fmt.Sprint(customers), "--seed", "11")
	s := &server{Dir: dir, Tokens: map[string]string{}}
	for _, role := range []string{"viewer", "operator", "admin"} {
		s.Tokens[role] = strings.TrimSpace(lethe(t, "token", "create", "--name", "console-"+role, "--role", role, "--data-dir", dir))
	}
	// No scheduled sweep: the demo's due customers wait for "Run now".
	cmd := exec.Command(filepath.Join(binDir, "lethe"), "serve", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--sweep=false", "--playground=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logBuf bytes.Buffer
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			logBuf.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := consoleURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		if t.Failed() {
			mu.Lock()
			t.Logf("lethe serve log:\n%s", logBuf.String())
			mu.Unlock()
		}
	})
	select {
	case s.URL = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("lethe serve did not print the console URL within a minute")
	}
	return s
}

// gql runs a GraphQL operation with the role's token and fails the test on
// any error.
func (s *server) gql(t *testing.T, role, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Tokens[role])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s: %s", query, raw)
	}
	return out.Data
}

// customerWithFutureAppointment and customerWithoutAppointmentAhead find
// demo customers to act on, with names the console can be searched for.
func (s *server) customers(t *testing.T) (ahead, none map[string]any) {
	t.Helper()
	now := time.Now()
	after := any(nil)
	for page := 0; page < 20 && (ahead == nil || none == nil); page++ {
		d := s.gql(t, "admin", `query Page($after: String) { customers(first: 100, after: $after) { pageInfo { endCursor hasNextPage }
			edges { node { id firstName lastName status legalHolds { active } appointments { startsAt } } } } }`, map[string]any{"after": after})
		c := d["customers"].(map[string]any)
		for _, e := range c["edges"].([]any) {
			n := e.(map[string]any)["node"].(map[string]any)
			first, _ := n["firstName"].(string)
			last, _ := n["lastName"].(string)
			if first == "" || last == "" || len(n["legalHolds"].([]any)) > 0 {
				continue
			}
			future := false
			for _, a := range n["appointments"].([]any) {
				at, _ := time.Parse(time.RFC3339, a.(map[string]any)["startsAt"].(string))
				if at.After(now) {
					future = true
				}
			}
			if future && ahead == nil {
				ahead = n
			} else if !future && len(n["appointments"].([]any)) == 0 && none == nil {
				none = n
			}
		}
		info := c["pageInfo"].(map[string]any)
		if info["hasNextPage"] != true {
			break
		}
		after = info["endCursor"]
	}
	if ahead == nil || none == nil {
		t.Fatalf("the demo data has no customer with a future appointment (%v) or none without (%v)", ahead, none)
	}
	return ahead, none
}
