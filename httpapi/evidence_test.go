package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// TestEvidenceRoute: GET /evidence gives an administrator the pack of the
// period as a zip; other roles are refused, and a bad period is a clear
// BAD_USER_INPUT naming the parameter.
func TestEvidenceRoute(t *testing.T) {
	s := storetest.MustOpenSQLite(t)
	svc := retention.NewService(s)
	srv := httptest.NewServer(httpapi.NewHandler(&graph.Resolver{Service: svc, Log: quiet},
		httpapi.Options{Evidence: &evidence.Sources{Service: svc, Engine: relinquish.NewEngine(s, nil), Chain: s}}))
	t.Cleanup(srv.Close)
	admin, operator := mustToken(t, svc, "admin", retention.RoleAdmin), mustToken(t, svc, "ops", retention.RoleOperator)
	get := func(token, query string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/evidence?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, body := get(admin, "from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != `attachment; filename="evidence_20260101_20270101.zip"` {
		t.Fatalf("admin: %d %s %s", res.StatusCode, res.Header, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil || zr.File[0].Name != "report.html" || zr.File[len(zr.File)-1].Name != "manifest.json" {
		t.Fatalf("zip: %v", err)
	}
	if res, _ := get(operator, "from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator: %d", res.StatusCode)
	}
	for query, field := range map[string]string{"from=yesterday&to=2027-01-01T00:00:00Z": "from", "from=2026-01-01T00:00:00Z": "to",
		"from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z": "to"} {
		res, body := get(admin, query)
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(body, &e) //nolint:errcheck
		if res.StatusCode != http.StatusBadRequest || e.Error.Code != "BAD_USER_INPUT" || !strings.Contains(e.Error.Message, field) {
			t.Errorf("%s: %d %s", query, res.StatusCode, body)
		}
	}
}
