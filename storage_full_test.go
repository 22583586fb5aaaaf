package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// smallFilesystem is a 24 MB tmpfs mounted for the test, where the
// machine allows it (root with CAP_SYS_ADMIN); "" where it does not.
func smallFilesystem(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=24m"); err != nil {
		t.Logf("no tmpfs (%v): SQLite's max_page_count stands for the full disk", err)
		return ""
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) }) //nolint:errcheck
	return dir
}

// fillDisk writes a ballast file until the file system is full; removing
// it frees the space again.
func fillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// postGQL posts a GraphQL request and returns the first error's code and
// message ("" when none).
func postGQL(t *testing.T, url, token, query string) (code, msg string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest("POST", url+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode >= 500 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if len(r.Errors) == 0 {
		return "", ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c, r.Errors[0].Message
}

func readyz(t *testing.T, url string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ Checks map[string]string }
	json.NewDecoder(resp.Body).Decode(&r) //nolint:errcheck
	return resp.StatusCode, r.Checks
}

// TestStorageFull: on a full disk (a small tmpfs filled up; where none can
// be mounted, SQLite's max_page_count reached) a write answers
// UNAVAILABLE, "storage is full", never INTERNAL; reads go on; /readyz
// says storage is full; once space is freed the same write succeeds and
// /readyz is ready again. A process started on the full disk names the
// full storage, not a migration lock.
func TestStorageFull(t *testing.T) {
	t.Parallel()
	fs := smallFilesystem(t)
	dir := fs
	if dir == "" {
		dir = t.TempDir()
	}
	app := openApp(t, dir, "", false)
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	token, _, err := app.Service.CreateToken(context.Background(), "full-disk", retention.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	var free func()
	if fs != "" {
		free = fillDisk(t, fs)
	} else {
		// One write connection: the pragma holds for every write.
		if _, err := app.Store.DB().Exec("PRAGMA max_page_count = 1"); err != nil { // clamps to the pages in use
			t.Fatal(err)
		}
		free = func() {
			if _, err := app.Store.DB().Exec("PRAGMA max_page_count = 1073741823"); err != nil {
				t.Fatal(err)
			}
		}
	}
	create := func(i int) (string, string) {
		return postGQL(t, srv.URL, token, fmt.Sprintf(`mutation { createCustomer(input: {firstName: "Full%d", lastName: "%s"}) { id } }`, i, strings.Repeat("x", 200)))
	}
	var code, msg string
	for i := 0; i < 20000 && code == ""; i++ {
		code, msg = create(i)
	}
	if code != "UNAVAILABLE" || !strings.HasPrefix(msg, "storage is full") {
		t.Fatalf("a write on a full disk: %s %q", code, msg)
	}
	if status, checks := readyz(t, srv.URL); status != 503 || !strings.HasPrefix(checks["storage"], "storage is full") {
		t.Fatalf("/readyz on a full disk: %d %v", status, checks)
	}
	if code, msg := postGQL(t, srv.URL, token, `{ customers(first: 1) { totalCount } }`); code != "" {
		t.Fatalf("a read on a full disk: %s %s", code, msg)
	}
	if fs != "" {
		t.Run("start-up names the full disk", func(t *testing.T) {
			start := time.Now()
			out, err := exec.Command(filepath.Join(binDir, "lethe"), "migrate", "--data-dir", dir).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "storage is full") || strings.Contains(string(out), "bun_migration_locks") {
				t.Fatalf("lethe migrate on a full disk: %v\n%s", err, out)
			}
			t.Logf("lethe migrate on a full disk failed after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
		})
	}

	free()
	if code, msg := create(-1); code != "" {
		t.Fatalf("a write once space was freed: %s %s", code, msg)
	}
	if status, checks := readyz(t, srv.URL); status != 200 || checks["storage"] != "ok" {
		t.Fatalf("/readyz once space was freed: %d %v", status, checks)
	}
}
