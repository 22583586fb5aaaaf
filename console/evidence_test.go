package console_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestEvidencePackOffline downloads the evidence pack of a period in which
// an administrator changed a policy, exported, held, released and erased
// customers and ran a sweep; checks every file against the manifest's
// SHA-256; opens report.html from disk in chromium with the network
// unreachable; checks that every section is there, that its figures equal
// what the API answers for the same period, and that neither the report
// nor the CSVs hold any demo customer's name, email or phone number.
func TestEvidencePackOffline(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 60)
	people := demoPeople(t, srv)
	from := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	ahead, none := srv.customers(t)
	name := fmt.Sprint(ahead["firstName"], " ", ahead["lastName"])
	srv.gql(t, "admin", `mutation { updateRetentionPolicy(input: {name: "visit_days", retentionDays: 45}) { name } }`, nil)
	srv.gql(t, "operator", `mutation($id: ID!) { exportCustomer(id: $id) { fileName } }`, map[string]any{"id": none["id"]})
	hold := srv.gql(t, "operator", `mutation($id: ID!, $r: String!) { placeLegalHold(customerId: $id, reason: $r) { id } }`,
		map[string]any{"id": ahead["id"], "r": "court order naming " + name})
	srv.gql(t, "operator", `mutation($id: ID!) { releaseLegalHold(id: $id) }`, map[string]any{"id": hold["placeLegalHold"].(map[string]any)["id"]})
	srv.gql(t, "operator", `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": none["id"]})
	run := srv.gql(t, "admin", `mutation { runRetention(dryRun: false) { id } }`, nil)["runRetention"].(map[string]any)["id"]
	waitRun(t, srv, run)
	to := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	want := apiFigures(t, srv, from, to)

	dir := downloadPack(t, srv, from, to)
	tb := newTab(t, srv, 1280, 900)
	tb.do(chromedp.Navigate("file://" + filepath.Join(dir, "report.html")))
	for _, id := range []string{"retention-policies", "data-policy", "sweeps", "manual-erasures", "legal-holds", "connectors", "audit-chain", "retention-table", "files"} {
		if !eval[bool](tb, fmt.Sprintf(`!!document.querySelector('section#%s h2')`, id)) {
			t.Errorf("section %s missing", id)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('svg.chart').length + document.querySelectorAll('section#manual-erasures svg').length`); n < 2 {
		t.Errorf("%d inline SVG charts", n)
	}
	got := eval[map[string]string](tb, `Object.fromEntries([...document.querySelectorAll('[data-figure]')].map(e => [e.dataset.figure, e.textContent.trim()]))`)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("figure %s: report %q, API %q", k, got[k], v)
		}
	}
	if want["sweeps"] == "0" || want["manual-erasures"] != "1" || want["exports"] != "1" || want["holds-placed"] != "1" || want["policy-changes"] != "1" {
		t.Errorf("the period's actions did not all show: %v", want)
	}
	if rows := eval[int](tb, `document.querySelectorAll('section#retention-table tbody tr').length`); rows < 5 {
		t.Errorf("retention table has %d rows", rows)
	}
	// The scan finds each value when it is there.
	for _, p := range people {
		if len(peopleIn("x "+p+" y", []string{p})) != 1 {
			t.Fatalf("the scan misses %q", p)
		}
	}
	text := eval[string](tb, `document.documentElement.outerHTML + '\n' + document.body.innerText`)
	scanForPeople(t, "report.html (as rendered)", text, people)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		scanForPeople(t, e.Name(), string(b), people)
	}
	if strings.Contains(text, "court order") {
		t.Error("the hold's reason (free text) is in the report")
	}
	consoleAuditScreen(t, srv)
}

// consoleAuditScreen: the console's audit screen shows sentences, filters
// by part of a subject and by date, saves the filtered events as CSV and
// the period's evidence pack as a zip.
func consoleAuditScreen(t *testing.T, srv *server) {
	tb := newTab(t, srv, 1280, 900)
	tb.signIn("admin")
	dl := tb.downloads()
	tb.open("/console/#/audit")
	tb.waitFor("the audit log", `document.querySelector('tbody tr') !== null`)
	tb.setInput(`input[name=text]`, "VISIT_D")
	tb.waitFor("events of visit_days only", `document.querySelectorAll('tbody tr').length === 1 && document.querySelector('tbody tr').textContent.includes('visit_days: 30 → 45 days, by console-admin')`)
	today := time.Now().UTC().Format("2006-01-02")
	tb.setInput(`input[name=from]`, today)
	tb.setInput(`input[name=to]`, today)
	tb.waitFor("today's visit_days event", `document.querySelectorAll('tbody tr').length === 1`)
	tb.click("button", "Download CSV")
	_, raw := waitFile(t, dl, regexp.MustCompile(`^audit-log\.csv$`))
	if lines := strings.Split(strings.TrimSpace(string(raw)), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "visit_days: 30 → 45 days, by console-admin") {
		t.Errorf("the CSV holds the filtered events: %s", raw)
	}
	tb.click("button", "Evidence pack")
	name, zipped := waitFile(t, dl, regexp.MustCompile(`^evidence_\d{8}_\d{8}\.zip$`))
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil || len(zr.File) < 10 || zr.File[0].Name != "report.html" {
		t.Fatalf("%s is not the pack: %v", name, err)
	}
	tb.waitText(`[data-testid=audit-status]`, "Saved "+name)
}

// demoPeople lists every demo customer's names, email and phone number,
// read through the API before anything is erased.
func demoPeople(t *testing.T, srv *server) []string {
	t.Helper()
	var out []string
	after := any(nil)
	for {
		d := srv.gql(t, "admin", `query($after: String) { customers(first: 100, after: $after) { pageInfo { endCursor hasNextPage }
			edges { node { firstName lastName email phone } } } }`, map[string]any{"after": after})
		c := d["customers"].(map[string]any)
		for _, e := range c["edges"].([]any) {
			for _, v := range e.(map[string]any)["node"].(map[string]any) {
				if s, ok := v.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		}
		if c["pageInfo"].(map[string]any)["hasNextPage"] != true {
			break
		}
		after = c["pageInfo"].(map[string]any)["endCursor"]
	}
	if len(out) < 100 {
		t.Fatalf("only %d demo values found", len(out))
	}
	return out
}

var nonDigits = regexp.MustCompile(`\D`)

// scanForPeople fails for any name (as a whole word), email or phone
// number (as written, or its digits) found in text.
func scanForPeople(t *testing.T, where, text string, people []string) {
	t.Helper()
	for _, found := range peopleIn(text, people) {
		t.Errorf("%s holds %s", where, found)
	}
}

func peopleIn(text string, people []string) []string {
	var found []string
	digits := nonDigits.ReplaceAllString(text, " ")
	lower := strings.ToLower(text)
	for _, p := range people {
		switch {
		case strings.Contains(p, "@"):
			if strings.Contains(lower, strings.ToLower(p)) {
				found = append(found, "the email "+p)
			}
		case strings.ContainsAny(p, "0123456789"):
			if d := nonDigits.ReplaceAllString(p, ""); strings.Contains(text, p) || (len(d) >= 7 && strings.Contains(digits, d)) {
				found = append(found, "the phone number "+p)
			}
		default:
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(p) + `\b`).MatchString(text) {
				found = append(found, "the name "+p)
			}
		}
	}
	return found
}

func waitRun(t *testing.T, srv *server, id any) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		r := srv.gql(t, "viewer", `query($id: ID!) { retentionRun(id: $id) { status } }`, map[string]any{"id": id})["retentionRun"].(map[string]any)
		if r["status"] == "SUCCEEDED" || r["status"] == "FAILED" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the sweep did not finish")
}

// apiFigures are the report's figures as the API answers them.
func apiFigures(t *testing.T, srv *server, from, to time.Time) map[string]string {
	t.Helper()
	vars := map[string]any{"f": from.Format(time.RFC3339), "t": to.Format(time.RFC3339)}
	d := srv.gql(t, "admin", `query($f: Time, $t: Time) {
		erase: auditLog(first: 100, action: "customer.erase", from: $f, to: $t) { details }
		exports: auditLog(first: 100, action: "customer.export", from: $f, to: $t) { id }
		placed: auditLog(first: 100, action: "legalHold.place", from: $f, to: $t) { id }
		released: auditLog(first: 100, action: "legalHold.release", from: $f, to: $t) { id }
		policy: auditLog(first: 100, action: "policy.update", from: $f, to: $t) { id }
		runs: retentionRuns(first: 100) { dryRun startedAt customersDone customersFailed trigger }
		auditVerification { verifiedUpTo signedUpTo } }`, vars)
	manual := 0
	for _, e := range d["erase"].([]any) {
		var det map[string]any
		json.Unmarshal([]byte(fmt.Sprint(e.(map[string]any)["details"])), &det) //nolint:errcheck
		if m, ok := e.(map[string]any)["details"].(map[string]any); ok {
			det = m
		}
		if det["trigger"] == "manual" {
			manual++
		}
	}
	sweeps, done, failed := 0, 0, 0
	for _, r := range d["runs"].([]any) {
		run := r.(map[string]any)
		at, _ := time.Parse(time.RFC3339, run["startedAt"].(string))
		if run["dryRun"] == true || at.Before(from) || !at.Before(to) {
			continue
		}
		sweeps++
		done += int(run["customersDone"].(float64))
		failed += int(run["customersFailed"].(float64))
	}
	v := d["auditVerification"].(map[string]any)
	return map[string]string{"sweeps": fmt.Sprint(sweeps), "customers-relinquished": fmt.Sprint(done), "customers-failed": fmt.Sprint(failed),
		"manual-erasures": fmt.Sprint(manual), "exports": fmt.Sprint(len(d["exports"].([]any))), "holds-placed": fmt.Sprint(len(d["placed"].([]any))),
		"holds-released": fmt.Sprint(len(d["released"].([]any))), "policy-changes": fmt.Sprint(len(d["policy"].([]any))),
		"chain-verified": fmt.Sprint(v["verifiedUpTo"]), "chain-signed": fmt.Sprint(v["signedUpTo"])}
}

// downloadPack gets /evidence as the admin, checks the manifest's SHA-256
// of every file and unpacks the zip into a directory.
func downloadPack(t *testing.T, srv *server, from, to time.Time) string {
	t.Helper()
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/evidence?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens["operator"])
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("an operator gets the pack: %v %v", res.StatusCode, err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Tokens["admin"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("GET /evidence: %d %s", res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.Name)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var m struct {
		Files []struct{ Name, SHA256 string }
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || len(m.Files) != len(files)-1 {
		t.Fatalf("manifest: %v %d files, %d in the zip", err, len(m.Files), len(files))
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: SHA-256 differs from the manifest", f.Name)
		}
	}
	html := string(files["report.html"])
	if regexp.MustCompile(`(?i)<script|<link|\bsrc=|url\(|@import`).MatchString(html) {
		t.Error("report.html loads something: it must be self-contained")
	}
	return dir
}
