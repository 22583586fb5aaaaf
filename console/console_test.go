package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/console"
)

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// TestSecurityHeaders: every console and playground answer forbids inline
// script and style, other origins and framing, and sends no referrer.
func TestSecurityHeaders(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(console.Path, console.Handler())
	mux.Handle("GET /{$}", console.Playground())
	for _, path := range []string{"/console/", "/console/js/app.js", "/console/app.css", "/", "/console/missing.js"} {
		rec := serve(mux, http.MethodGet, path)
		csp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP allows inline code or another origin: %q", path, csp)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, rec.Header())
		}
	}
	if rec := serve(mux, http.MethodGet, "/console/missing.js"); rec.Code != http.StatusNotFound {
		t.Errorf("a missing file: %d", rec.Code)
	}
	if rec := serve(mux, http.MethodGet, "/console/js/"); rec.Code != http.StatusNotFound {
		t.Errorf("a directory listing: %d", rec.Code)
	}
	if rec := serve(mux, http.MethodPost, "/console/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to the console: %d", rec.Code)
	}
}

// TestNoInlineCodeOrOutsideOrigin reads the pages as served: every script
// and style is a file of the console, and nothing names another origin.
func TestNoInlineCodeOrOutsideOrigin(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(console.Path, console.Handler())
	mux.Handle("GET /{$}", console.Playground())
	for _, path := range []string{"/console/", "/"} {
		body, _ := io.ReadAll(serve(mux, http.MethodGet, path).Body)
		page := string(body)
		if !strings.Contains(page, `<script type="module" src=`) {
			t.Errorf("%s has no module script", path)
		}
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "http://", "https://", "//cdn"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
}
