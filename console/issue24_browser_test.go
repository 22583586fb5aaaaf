package console_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// timeZone makes the tab's browser live in zone (its Date and Intl).
func (tb *tab) timeZone(zone string) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
		tb.t.Fatalf("time zone %s: %v", zone, err)
	}
}

// setInput replaces an input's value as typing would, so that its input
// and change listeners run.
func (tb *tab) setInput(css, value string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS(css)), chromedp.SetValue(chromedp.CSS(css), value))
	eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, css))
}

// downloads lets the tab download into a new directory and returns it.
func (tb *tab) downloads() string {
	tb.t.Helper()
	dir := tb.t.TempDir()
	if _, err := chromedp.CallBrowser(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		tb.t.Fatal(err)
	}
	return dir
}

// waitFile waits for a complete file whose name matches re in dir.
func waitFile(t *testing.T, dir string, re *regexp.Regexp) (string, []byte) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if re.MatchString(e.Name()) {
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) > 0 {
					return e.Name(), b
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("no file matching %s downloaded; the directory holds %v", re, entries)
	return "", nil
}

var rfc3339InText = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)

// TestConsoleTimeZones runs the time-sensitive screens with the browser in
// UTC, Tokyo and New York: a date typed into a date input means that day in
// the browser's zone (bug 2), the zone is shown, and no raw UTC timestamp
// is printed ("Why", refusals).
func TestConsoleTimeZones(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 60)
	ahead, _ := srv.customers(t)
	for _, zone := range []string{"UTC", "Asia/Tokyo", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			tb := newTab(t, srv, 1280, 900)
			tb.timeZone(zone)
			tb.signIn("admin")
			tb.waitText(`[data-testid=time-zone]`, "Times in "+zone)

			tb.open("/console/#/runs")
			tb.setInput(`input[name=asOf]`, "2027-01-01")
			tb.click("button", "Dry run")
			tb.waitText(`[data-testid=dry-run-count]`, "customers")
			tb.waitText(`[data-testid=plan-as-of]`, "2027")
			if txt := eval[string](tb, `document.querySelector('[data-testid=plan-as-of]').textContent`); !endOfDay(txt, "Jan", "1") {
				t.Fatalf("the plan reads %q, want the end of 1 Jan 2027 in the browser's zone", txt)
			}
			runs := srv.gql(t, "admin", `{ retentionRuns(first: 1) { id startedAt asOf dryRun } }`, nil)["retentionRuns"].([]any)
			run := runs[0].(map[string]any)
			asOf, _ := time.Parse(time.RFC3339, run["asOf"].(string))
			if want := time.Date(2027, 1, 1, 23, 59, 59, 0, loc); !asOf.Equal(want) {
				t.Fatalf("as of 1 Jan 2027 in %s planned as of %s, want %s", zone, asOf.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339))
			}
			runTimesInZone(t, tb, run, loc)

			id := ahead["id"].(string)
			tb.open("/console/#/customers/" + id)
			tb.waitText("h1", ahead["lastName"].(string))
			if txt := eval[string](tb, `document.querySelector('main').innerText`); rfc3339InText.MatchString(txt) {
				t.Fatalf("the customer page prints a raw timestamp: %q", rfc3339InText.FindString(txt))
			}
			reason := "audit " + zone
			tb.setInput(`input[name=reason]`, reason)
			tb.setInput(`input[name=until]`, "2027-12-31")
			tb.click("button", "Place hold")
			tb.waitText(`[data-testid=status] .banner-success`, "legal hold is placed")
			tb.waitText("table", reason)
			row := eval[string](tb, fmt.Sprintf(`[...document.querySelectorAll('table tr')].map(r => r.innerText).find(r => r.includes(%q)) || ''`, reason))
			if !endOfDay(row, "Dec", "31") {
				t.Fatalf("the hold reads %q, want it to end at the end of 31 Dec 2027 in the browser's zone", row)
			}
			until := holdUntil(t, srv, id, reason)
			if want := time.Date(2027, 12, 31, 23, 59, 59, 0, loc); !until.Equal(want) {
				t.Fatalf("a hold until 31 Dec 2027 in %s ends %s, want %s", zone, until.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339))
			}
			// A refusal with a time in it is shown in the browser's zone.
			tb.click("button", "Delete")
			tb.click("dialog[open] button", "Delete everywhere")
			tb.waitText(`[data-testid=status] .banner-error`, "legal hold")
			if txt := eval[string](tb, `document.querySelector('main').innerText`); rfc3339InText.MatchString(txt) {
				t.Fatalf("the page prints a raw timestamp: %q", rfc3339InText.FindString(txt))
			}
			tb.screenshot("customer-hold-" + strings.ReplaceAll(strings.ToLower(zone), "/", "-"))
			// Releasing asks first.
			tb.click(`table button`, "Release")
			tb.waitText("dialog[open]", reason)
			tb.click("dialog[open] button", "Release hold")
			tb.waitText(`[data-testid=status] .banner-success`, "released")
			if active := holdActive(t, srv, id, reason); active {
				t.Fatal("the hold is still active after Release")
			}
			auditTimesInZone(t, tb, srv, id, loc)
		})
	}
}

// shownAt reports whether text shows at to the minute in loc, in en-GB or
// en-US form ("7 Dec 2026, 18:05" or "Dec 7, 2026, 06:05 PM").
func shownAt(text string, at time.Time, loc *time.Location) bool {
	l := at.In(loc)
	re := regexp.MustCompile(fmt.Sprintf(`(%d %s %d|%s %d, %d), (%s|0?%s[\s\x{202f}\x{a0}]%s)`,
		l.Day(), l.Format("Jan"), l.Year(), l.Format("Jan"), l.Day(), l.Year(), l.Format("15:04"), l.Format("3:04"), l.Format("PM")))
	return re.MatchString(text)
}

// runTimesInZone checks that the runs history and the run's page show the
// dry run's start and "as of" in the browser's zone.
func runTimesInZone(t *testing.T, tb *tab, run map[string]any, loc *time.Location) {
	t.Helper()
	started, _ := time.Parse(time.RFC3339, run["startedAt"].(string))
	row := fmt.Sprintf(`tr[data-run=%q]`, run["id"])
	tb.waitFor("the dry run in the history", fmt.Sprintf(`document.querySelector(%q) !== null`, row))
	text := eval[string](tb, fmt.Sprintf(`document.querySelector(%q).innerText`, row))
	if !shownAt(text, started, loc) || !endOfDay(text, "Jan", "1") {
		t.Fatalf("the history row reads %q, want its start %s and as of the end of 1 Jan 2027 in %s", text, started.In(loc).Format(time.RFC3339), loc)
	}
	tb.open("/console/#/runs/" + run["id"].(string))
	tb.waitText("main", "Customers")
	text = eval[string](tb, `document.querySelector('main').innerText`)
	if !shownAt(text, started, loc) || rfc3339InText.MatchString(text) {
		t.Fatalf("the run's page reads %q, want its start %s in %s and no raw timestamp", text, started.In(loc).Format(time.RFC3339), loc)
	}
}

// auditTimesInZone checks that the audit log shows the hold's placement at
// its time in the browser's zone.
func auditTimesInZone(t *testing.T, tb *tab, srv *server, id string, loc *time.Location) {
	t.Helper()
	var at time.Time
	for _, e := range srv.gql(t, "admin", `{ auditLog(first: 100) { at action subject } }`, nil)["auditLog"].([]any) {
		if e := e.(map[string]any); e["action"] == "legalHold.place" && e["subject"] == id {
			at, _ = time.Parse(time.RFC3339, e["at"].(string))
			break // newest first
		}
	}
	if at.IsZero() {
		t.Fatal("the hold's placement is not in the audit log")
	}
	tb.open("/console/#/audit")
	tb.waitText("table", "legalHold.place")
	text := eval[string](tb, fmt.Sprintf(`[...document.querySelectorAll('tbody tr')].map(r => r.innerText).find(r => r.includes('legalHold.place') && r.includes(%q)) || ''`, id))
	if !shownAt(text, at, loc) {
		t.Fatalf("the audit log reads %q, want the placement at %s in %s", text, at.In(loc).Format(time.RFC3339), loc)
	}
}

// endOfDay reports whether text shows the last minute of month day, 2027,
// in en-GB or en-US form ("1 Jan 2027, 23:59" or "Jan 1, 2027, 11:59 PM").
func endOfDay(text, month, day string) bool {
	re := regexp.MustCompile(`(` + day + ` ` + month + ` 2027|` + month + ` ` + day + `, 2027), (23:59|11:59[\s\x{202f}\x{a0}]PM)`)
	return re.MatchString(text)
}

func holdOf(t *testing.T, srv *server, id, reason string) map[string]any {
	t.Helper()
	d := srv.gql(t, "admin", `query($id: ID!) { customer(id: $id) { legalHolds { reason until active } } }`, map[string]any{"id": id})
	for _, lh := range d["customer"].(map[string]any)["legalHolds"].([]any) {
		if lh := lh.(map[string]any); lh["reason"] == reason {
			return lh
		}
	}
	t.Fatalf("no hold %q on %s: %v", reason, id, d)
	return nil
}

func holdUntil(t *testing.T, srv *server, id, reason string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, holdOf(t, srv, id, reason)["until"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func holdActive(t *testing.T, srv *server, id, reason string) bool {
	t.Helper()
	return holdOf(t, srv, id, reason)["active"] == true
}

// TestConsoleBugs reproduces each listed console bug as an administrator
// meets it; every subtest failed before its fix.
func TestConsoleBugs(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 300)
	ahead, none := srv.customers(t)

	t.Run("5 a wrong token at sign-in is answered, the field kept", func(t *testing.T) {
		tb := newTab(t, srv, 1280, 900)
		tb.open("/console/")
		tb.do(chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)), chromedp.SendKeys(chromedp.CSS(`input[name=token]`), "lethe_not_a_token"))
		tb.do(chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		tb.waitText(".field-error", "not valid or has been revoked")
		if v := eval[string](tb, `document.querySelector('input[name=token]').value`); v != "lethe_not_a_token" {
			t.Fatalf("the token field holds %q after a wrong token, want what was typed", v)
		}
		if txt := tb.pageText(); strings.Contains(txt, "session has ended") {
			t.Fatalf("a first sign-in says the session ended:\n%s", txt)
		}
	})

	tb := newTab(t, srv, 1280, 900)
	// Not UTC: the flows hold in other zones too (TestConsoleTimeZones runs the
	// date-sensitive ones in all three).
	tb.timeZone("Asia/Tokyo")
	tb.signIn("admin")

	t.Run("7 Back from a customer returns to the same page", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers")
		tb.waitText(`[data-testid=page]`, "Page 1 of")
		tb.click("button", "Next →")
		tb.waitText(`[data-testid=page]`, "Page 2 of")
		first := eval[string](tb, `document.querySelector('[data-testid=results] tbody a').textContent`)
		tb.click(`[data-testid=results] tbody a`, first)
		tb.waitText("h1", first)
		tb.do(chromedp.NavigateBack())
		tb.waitText(`[data-testid=page]`, "Page 2 of")
		tb.waitText(`[data-testid=results] tbody a`, first)
	})

	t.Run("6 a later error replaces an earlier success, said once", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers/" + none["id"].(string))
		tb.waitText("h1", none["lastName"].(string))
		tb.setInput(`input[name=reason]`, "litigation 2026-17")
		tb.click("button", "Place hold")
		tb.waitText(`[data-testid=status] .banner-success`, "legal hold is placed")
		tb.click("button", "Delete")
		tb.click("dialog[open] button", "Delete everywhere")
		tb.waitText(`.banner-error`, "legal hold")
		if n := eval[int](tb, `document.querySelectorAll('main .banner-success').length`); n != 0 {
			t.Fatalf("%d green banners still shown above the refusal", n)
		}
		txt := eval[string](tb, `document.querySelector('[data-testid=status]').innerText`)
		if strings.Count(strings.ToLower(txt), "legal hold") != 1 {
			t.Fatalf("the refusal repeats itself: %q", txt)
		}
	})

	t.Run("1 and 3 hiding a field shows the purge count; cancel resets", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/settings")
		tb.waitText("h2", "Collection preferences")
		tb.click("button", "Confirm")
		tb.waitText(`[data-testid=prefs-status]`, "Nothing has changed.")
		tb.do(chromedp.Click(chromedp.CSS(`label[for=pref-EMAIL-HIDDEN]`)))
		tb.waitFor("the stale banner gone", `document.querySelector('[data-testid=prefs-status]').textContent === ''`)
		tb.click("button", "Confirm")
		tb.waitText(`dialog[open] [data-testid=purge-count]`, "will be purged")
		want := purgeCount(t, srv, "EMAIL")
		if want == 0 {
			t.Fatal("the demo has no stored email to purge")
		}
		got := eval[string](tb, `document.querySelector('dialog[open] [data-testid=purge-count]').textContent`)
		if !strings.Contains(strings.ReplaceAll(got, ",", ""), fmt.Sprintf("%d stored value", want)) {
			t.Fatalf("the dialog says %q; the API counts %d", got, want)
		}
		tb.screenshot("settings-purge-count")
		tb.click("dialog[open] button", "Cancel")
		tb.waitText(`[data-testid=prefs-status]`, "nothing was saved")
		if v := eval[bool](tb, `document.querySelector('#pref-EMAIL-OPTIONAL').checked`); !v {
			t.Fatal("after Cancel the radio still shows the unsaved choice")
		}
		d := srv.gql(t, "admin", `{ fieldPreferences { fields { field mode } } }`, nil)
		for _, f := range d["fieldPreferences"].(map[string]any)["fields"].([]any) {
			if f := f.(map[string]any); f["field"] == "EMAIL" && f["mode"] != "OPTIONAL" {
				t.Fatalf("Cancel saved something: %v", f)
			}
		}
	})

	t.Run("4 Load more is hidden when nothing more matches", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/audit")
		tb.waitFor("the audit log", `document.querySelector('tbody tr') !== null`)
		tb.setInput(`input[name=subject]`, "no-such-subject")
		tb.waitText("main", "No event matches")
		if visible := eval[bool](tb, `[...document.querySelectorAll('button')].some(b => b.textContent.includes('Load more') && b.offsetParent !== null)`); visible {
			t.Fatal(`"Load more" is visible under "No event matches"`)
		}
	})

	t.Run("8 run progress counts against a total that does not grow", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/runs")
		tb.waitText("h1", "Runs")
		eval[bool](tb, `(() => { window.__totals = []; new MutationObserver(() => { const e = document.querySelector('[data-testid=progress-text]');
			const m = e && /of ([\d,]+) done/.exec(e.textContent); if (m) window.__totals.push(Number(m[1].replace(/,/g, ''))); })
			.observe(document.body, { subtree: true, childList: true, characterData: true }); return true })()`)
		tb.click("button", "Run now")
		tb.waitText(`dialog[open] [data-testid=run-now-count]`, "due now")
		announced := eval[string](tb, `document.querySelector('dialog[open] [data-testid=run-now-count]').textContent`)
		tb.click("dialog[open] button", "Run now")
		tb.waitText(`[data-testid=run-status]`, "SUCCEEDED")
		run := srv.gql(t, "admin", `{ retentionRuns(first: 1) { customersPlanned dryRun } }`, nil)["retentionRuns"].([]any)[0].(map[string]any)
		planned := int(run["customersPlanned"].(float64))
		if planned == 0 || run["dryRun"] != false {
			t.Fatalf("the sweep planned nothing: %v", run)
		}
		if !strings.Contains(strings.ReplaceAll(announced, ",", ""), strconv.Itoa(planned)+" customers are due") {
			t.Errorf("Run now announced %q; the run planned %d", announced, planned)
		}
		totals := eval[[]int](tb, `window.__totals`)
		if len(totals) == 0 {
			t.Fatal("no progress was shown")
		}
		for _, n := range totals {
			if n != planned {
				t.Fatalf("progress totals %v: want %d throughout, not a total that grows", totals, planned)
			}
		}
	})

	t.Run("9 history: no previews, purges say what they did, paging", func(t *testing.T) {
		tb := tb.with(t)
		// A policy preview, and a purge (making phone hidden), as an
		// administrator would have done them.
		tb.open("/console/#/policies")
		tb.click(`tr[data-policy=default] button`, "Edit")
		tb.setInput(`input[name=retentionDays]`, "5")
		tb.waitText(`[data-testid=preview-count]`, "This would relinquish")
		tb.click("button", "Cancel")
		tb.open("/console/#/settings")
		tb.do(chromedp.Click(chromedp.CSS(`label[for=pref-PHONE-HIDDEN]`)))
		tb.click("button", "Confirm")
		tb.waitText(`dialog[open] [data-testid=purge-count]`, "purged")
		tb.click("dialog[open] button", "Confirm")
		tb.waitText(".banner-success", "Collection preferences saved")
		for i := 0; i < 21; i++ {
			srv.gql(t, "operator", `mutation { runRetention(dryRun: true) { id } }`, nil)
		}
		tb.open("/console/#/runs")
		tb.waitFor("20 runs", `document.querySelectorAll('tr[data-run]').length === 20`)
		if n := eval[int](tb, `document.querySelectorAll('tr[data-trigger=preview]').length`); n != 0 {
			t.Fatalf("%d previews listed as runs", n)
		}
		tb.click("button", "Older runs")
		tb.waitFor("older runs", `document.querySelectorAll('tr[data-run]').length > 20`)
		tb.waitFor("the purge row", `document.querySelector('tr[data-trigger=purge]') !== null`)
		// Planned and Done of each purge row: a purge that planned customers
		// never reads "done 0".
		for _, row := range eval[[][]string](tb, `[...document.querySelectorAll('tr[data-trigger=purge]')].map(r => [r.querySelector('[data-col=planned]').innerText, r.querySelector('[data-col=done]').innerText])`) {
			if row[0] != "0" && row[1] == "0" {
				t.Errorf("a purge row reads planned %s, done %s", row[0], row[1])
			}
		}
		if n := eval[int](tb, `document.querySelectorAll('tr[data-trigger=preview]').length`); n != 0 {
			t.Fatalf("%d previews listed as runs", n)
		}
		tb.screenshot("runs-history")
		// The drill-down: a run's page with its actions linked to customers.
		tb.click(`tr[data-trigger=api] a`, "Details")
		tb.waitText(`[data-testid=run-facts]`, "As of")
	})
	_ = ahead
}

// purgeCount asks the API how many stored values making field hidden purges.
func purgeCount(t *testing.T, srv *server, field string) int {
	t.Helper()
	fields := []map[string]any{}
	for _, f := range []string{"FIRST_NAME", "LAST_NAME", "EMAIL", "PHONE"} {
		mode := "OPTIONAL"
		if f == field {
			mode = "HIDDEN"
		}
		fields = append(fields, map[string]any{"field": f, "mode": mode})
	}
	d := srv.gql(t, "admin", `query($f: [FieldPreferenceInput!]!) { fieldPreferencesPreview(fields: $f) { field storedValues } }`, map[string]any{"f": fields})
	for _, c := range d["fieldPreferencesPreview"].([]any) {
		if c := c.(map[string]any); c["field"] == field {
			return int(c["storedValues"].(float64))
		}
	}
	return 0
}

// TestConsoleOperator is an operator's session: it starts on Customers, a
// deep link to an administrator's screen says why it is refused, a
// customer's details are corrected through Edit, and the zip export
// downloads the documents a subject-access request needs.
func TestConsoleOperator(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 60)
	_, none := srv.customers(t)
	tb := newTab(t, srv, 1280, 900)
	// Not UTC: the flows hold in other zones too (TestConsoleTimeZones runs the
	// date-sensitive ones in all three).
	tb.timeZone("America/New_York")
	tb.signIn("operator")
	tb.waitText("h1", "Handle customers")

	t.Run("a forbidden deep link says why", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/audit")
		tb.waitText(`[data-testid=forbidden]`, "Audit log needs the admin role")
		tb.waitText("h1", "Handle customers")
	})

	t.Run("filters: overdue, status, under hold", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers?q=")
		tb.waitText(`[data-testid=total]`, "customer")
		want := int(srv.gql(t, "operator", `{ customers(overdue: true) { totalCount } }`, nil)["customers"].(map[string]any)["totalCount"].(float64))
		if want == 0 {
			t.Fatal("the demo has no overdue customer")
		}
		tb.do(chromedp.Click(chromedp.CSS(`#f-overdue`)))
		tb.waitText(`[data-testid=total]`, fmt.Sprintf("%d customer", want))
		if rows, marked := eval[int](tb, `document.querySelectorAll('tr[data-customer]').length`), eval[int](tb, `document.querySelectorAll('tr[data-customer] [data-testid=overdue]').length`); rows == 0 || rows != marked {
			t.Fatalf("%d rows under Overdue, %d marked overdue", rows, marked)
		}
		if loc := eval[string](tb, `location.hash`); !strings.Contains(loc, "overdue=1") {
			t.Fatalf("the filter is not in the address: %s", loc)
		}
		tb.screenshot("customers-overdue")
		tb.do(chromedp.Click(chromedp.CSS(`#f-overdue`)))
		tb.setInput(`select[name=status]`, "CANCELLED")
		tb.waitFor("cancelled customers only", `document.querySelectorAll('tr[data-customer]').length > 0 && [...document.querySelectorAll('tr[data-customer] .status')].every(s => s.textContent === 'cancelled')`)
		tb.setInput(`select[name=status]`, "")
		tb.do(chromedp.Click(chromedp.CSS(`#f-held`)))
		held := int(srv.gql(t, "operator", `{ customers(underHold: true) { totalCount } }`, nil)["customers"].(map[string]any)["totalCount"].(float64))
		tb.waitText(`[data-testid=total]`, fmt.Sprintf("%d customer", held))
		tb.do(chromedp.Click(chromedp.CSS(`#f-held`)))
	})

	t.Run("sorting by a column, kept in the address and by Back", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers?q=")
		tb.waitText(`[data-testid=total]`, "customer")
		rowIDs := `[...document.querySelectorAll('tr[data-customer]')].map(r => r.dataset.customer).join(',')`
		apiIDs := func(field, dir, after string) (string, string) {
			vars := map[string]any{"o": map[string]any{"field": field, "direction": dir}}
			if after != "" {
				vars["after"] = after
			}
			c := srv.gql(t, "operator", `query($o: CustomerOrder, $after: String) { customers(first: 20, orderBy: $o, after: $after) { edges { node { id } } pageInfo { endCursor } } }`, vars)["customers"].(map[string]any)
			var ids []string
			for _, e := range c["edges"].([]any) {
				ids = append(ids, e.(map[string]any)["node"].(map[string]any)["id"].(string))
			}
			return strings.Join(ids, ","), c["pageInfo"].(map[string]any)["endCursor"].(string)
		}
		sortedBy := func(column, dir string) {
			t.Helper()
			tb.waitFor(column+" "+dir, fmt.Sprintf(`(() => { const th = [...document.querySelectorAll('thead th')].find(th => th.textContent.startsWith(%q)); return th && th.getAttribute('aria-sort') === %q && document.querySelectorAll('thead th[aria-sort]').length === 1 })()`, column, dir))
		}
		tb.click("thead th button", "Deletion time")
		sortedBy("Deletion time", "ascending")
		want, _ := apiIDs("DELETION_TIME", "ASC", "")
		tb.waitFor("the first page by deletion time", rowIDs+` === `+strconv.Quote(want))
		tb.click("thead th button", "Deletion time")
		sortedBy("Deletion time", "descending")
		want, cursor := apiIDs("DELETION_TIME", "DESC", "")
		tb.waitFor("the first page by deletion time, latest first", rowIDs+` === `+strconv.Quote(want))
		if loc := eval[string](tb, `location.hash`); !strings.Contains(loc, "sort=deletion") || !strings.Contains(loc, "dir=desc") {
			t.Fatalf("the order is not in the address: %s", loc)
		}
		tb.click("nav.pager button", "Next")
		want2, _ := apiIDs("DELETION_TIME", "DESC", cursor)
		tb.waitFor("the second page by deletion time, latest first", rowIDs+` === `+strconv.Quote(want2))
		tb.screenshot("customers-sorted")
		tb.do(chromedp.Click(chromedp.CSS(`tr[data-customer] a`)))
		tb.waitText("a.back", "All customers")
		tb.do(chromedp.NavigateBack())
		sortedBy("Deletion time", "descending")
		tb.waitFor("Back returns to the same sorted page", rowIDs+` === `+strconv.Quote(want2))
		if loc := eval[string](tb, `location.hash`); !strings.Contains(loc, "page=2") || !strings.Contains(loc, "sort=deletion") {
			t.Fatalf("after Back the address is %s", loc)
		}
		tb.click("thead th button", "Name")
		sortedBy("Name", "ascending")
		want, _ = apiIDs("NAME", "ASC", "")
		tb.waitFor("the first page by name", rowIDs+` === `+strconv.Quote(want))
		tb.click("thead th button", "Last interaction")
		sortedBy("Last interaction", "ascending")
		want, _ = apiIDs("LAST_INTERACTION", "ASC", "")
		tb.waitFor("the first page by last interaction", rowIDs+` === `+strconv.Quote(want))
		if v := eval[string](tb, `document.querySelector('select[name=sort]').value`); v != "last" {
			t.Fatalf("the Sort by list reads %q after the header sorted by last interaction", v)
		}
		// The Sort by list (a phone hides the table's headers) sorts too.
		tb.setInput(`select[name=sort]`, "name:desc")
		sortedBy("Name", "descending")
		want, _ = apiIDs("NAME", "DESC", "")
		tb.waitFor("the first page by name, Z to A", rowIDs+` === `+strconv.Quote(want))
		tb.open("/console/#/customers?q=")
		tb.waitText(`[data-testid=total]`, "customer")
	})

	t.Run("edit corrects the customer", func(t *testing.T) {
		tb := tb.with(t)
		id := none["id"].(string)
		tb.open("/console/#/customers/" + id)
		tb.waitText("h1", none["lastName"].(string))
		tb.click("summary", "Edit details")
		tb.setInput(`[data-testid=edit-form] input[name=lastName]`, "Smith-Jones")
		tb.setInput(`[data-testid=edit-form] input[name=phone]`, "not a phone")
		tb.click("button", "Save changes")
		tb.waitText(`[data-testid=edit-form] .field-error`, "phone")
		tb.setInput(`[data-testid=edit-form] input[name=phone]`, "+44 7700 900461")
		tb.click("button", "Save changes")
		tb.waitText(`[data-testid=status] .banner-success`, "Saved")
		tb.waitText(`[data-testid=fact-lastName]`, "Smith-Jones")
		tb.screenshot("customer-edit")
		d := srv.gql(t, "admin", `query($id: ID!) { customer(id: $id) { firstName lastName phone deletionReason } }`, map[string]any{"id": id})
		c := d["customer"].(map[string]any)
		if c["lastName"] != "Smith-Jones" || c["phone"] != "+44 7700 900461" || c["firstName"] != none["firstName"] {
			t.Fatalf("after Edit: %v", c)
		}
		if !strings.Contains(c["deletionReason"].(string), "edit") {
			t.Fatalf("the edit did not move the erase clock: %v", c["deletionReason"])
		}
		// Search follows the correction.
		tb.open("/console/#/customers?q=jones")
		tb.waitText(`[data-testid=results] a`, "Smith-Jones")
	})

	t.Run("zip export downloads valid PDFs", func(t *testing.T) {
		tb := tb.with(t)
		id := customerWithDocuments(t, srv)
		dir := tb.downloads()
		tb.open("/console/#/customers/" + id)
		tb.waitText("h1", "")
		tb.click("button", "Export zip")
		tb.waitText(`[data-testid=status] .banner-success`, ".zip")
		name, raw := waitFile(t, dir, regexp.MustCompile(`^[A-Za-z0-9-]+_[A-Za-z0-9-]+\.zip$`))
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatalf("%s does not open: %v", name, err)
		}
		pdfs := 0
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".pdf") {
				continue
			}
			pdfs++
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, err = b.ReadFrom(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			qpdfCheck(t, f.Name, b.Bytes())
		}
		if pdfs == 0 {
			t.Fatalf("%s holds no PDF: %d files", name, len(zr.File))
		}
	})
}

// qpdfCheck runs qpdf --check on a PDF (CI installs qpdf; here it is
// required, like the browser, when LETHE_TEST_REQUIRE_BROWSER is set).
func qpdfCheck(t *testing.T, name string, pdf []byte) {
	t.Helper()
	qpdf, err := exec.LookPath("qpdf")
	if err != nil {
		if os.Getenv("LETHE_TEST_REQUIRE_BROWSER") != "" {
			t.Fatal("qpdf not found: apt-get install qpdf (.ci/run installs it)")
		}
		t.Logf("qpdf not found: %s checked only for its header", name)
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("%s is not a PDF", name)
		}
		return
	}
	file := filepath.Join(t.TempDir(), filepath.Base(name))
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qpdf, "--check", file).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check %s: %v\n%s", name, err, out)
	}
}

// customerWithDocuments finds a demo customer whose export lists documents.
func customerWithDocuments(t *testing.T, srv *server) string {
	t.Helper()
	d := srv.gql(t, "admin", `{ customers(first: 60) { edges { node { id } } } }`, nil)
	for _, e := range d["customers"].(map[string]any)["edges"].([]any) {
		id := e.(map[string]any)["node"].(map[string]any)["id"].(string)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/export/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+srv.Tokens["admin"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Documents []any }
		err = json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if err == nil && len(doc.Documents) > 0 {
			return id
		}
	}
	t.Fatal("no demo customer has a document")
	return ""
}

// TestConsolePolicies creates a policy, saves a change that relinquishes
// people only after typing the policy's name, and reverts it; the Playground
// link opens the playground with the session's token.
func TestConsolePolicies(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 60)
	tb := newTab(t, srv, 1280, 900)
	// Not UTC: the flows hold in other zones too (TestConsoleTimeZones runs the
	// date-sensitive ones in all three).
	tb.timeZone("America/New_York")
	tb.signIn("admin")

	t.Run("create", func(t *testing.T) {
		tb := tb.with(t)
		tb.click("button", "New policy")
		tb.setInput(`input[name=name]`, "tax_records")
		tb.setInput(`input[name=retentionDays]`, "3650")
		tb.click("button", "Create")
		tb.waitText(`tr[data-policy=tax_records]`, "3,650")
	})

	t.Run("a save that relinquishes people asks for the name", func(t *testing.T) {
		tb := tb.with(t)
		tb.click(`tr[data-policy=default] button`, "Edit")
		tb.setInput(`input[name=retentionDays]`, "1")
		tb.waitText(`[data-testid=preview-count]`, "This would relinquish")
		// Enter in the days field submits: it must ask, not save.
		tb.do(chromedp.SendKeys(chromedp.CSS(`input[name=retentionDays]`), "\r"))
		tb.waitText(`dialog[open] [data-testid=policy-confirm-count]`, "due now")
		if !eval[bool](tb, `document.querySelector('dialog[open] button[data-confirm]').disabled`) {
			t.Fatal("Save policy is enabled before the name is typed")
		}
		tb.screenshot("policy-confirm")
		tb.setInput(`dialog[open] input[name=confirmName]`, "defaul")
		if !eval[bool](tb, `document.querySelector('dialog[open] button[data-confirm]').disabled`) {
			t.Fatal("Save policy is enabled with the wrong name")
		}
		tb.setInput(`dialog[open] input[name=confirmName]`, "default")
		tb.click("dialog[open] button", "Save policy")
		tb.waitText(".banner-success", "Saved default")
		if d := srv.gql(t, "admin", `{ retentionPolicy(name: "default") { retentionDays } }`, nil); d["retentionPolicy"].(map[string]any)["retentionDays"] != float64(1) {
			t.Fatalf("not saved: %v", d)
		}
	})

	t.Run("revert", func(t *testing.T) {
		tb := tb.with(t)
		tb.click(`tr[data-policy=default] button`, "Edit")
		tb.click("button", "Revert to 30 days")
		tb.click("dialog[open] button", "Revert")
		tb.waitText(".banner-success", "back to 30 days")
		if d := srv.gql(t, "admin", `{ retentionPolicy(name: "default") { retentionDays } }`, nil); d["retentionPolicy"].(map[string]any)["retentionDays"] != float64(30) {
			t.Fatalf("not reverted: %v", d)
		}
	})

	t.Run("delete a custom policy no customer uses", func(t *testing.T) {
		tb := tb.with(t)
		_, none := srv.customers(t)
		id := none["id"].(string)
		srv.gql(t, "admin", `mutation($id: ID!) { setCustomerRetentionPolicy(id: $id, policy: "tax_records") { id } }`, map[string]any{"id": id})
		tb.open("/console/#/policies")
		tb.click(`tr[data-policy=tax_records] button`, "Delete")
		tb.click("dialog[open] button", "Cancel")
		tb.waitText(`.editor .banner-info`, "Not deleted")
		tb.click(`tr[data-policy=tax_records] button`, "Delete")
		tb.click("dialog[open] button", "Delete policy")
		// In use: refused, saying how many customers and what to do.
		tb.waitText(`.editor .banner-error`, "1 customer is assigned tax_records")
		if n := eval[int](tb, `document.querySelectorAll('tr[data-policy=tax_records]').length`); n != 1 {
			t.Fatal("a policy in use left the table")
		}
		if n := eval[int](tb, `document.querySelectorAll('tr[data-policy=default] button.btn-danger').length`); n != 0 {
			t.Fatal("a built-in policy offers Delete")
		}
		srv.gql(t, "admin", `mutation($id: ID!) { clearCustomerRetentionPolicy(id: $id) { id } }`, map[string]any{"id": id})
		tb.click(`tr[data-policy=tax_records] button`, "Delete")
		tb.waitText(`dialog[open]`, "no customer is assigned")
		tb.screenshot("policy-delete")
		tb.click("dialog[open] button", "Delete policy")
		tb.waitText(`.editor .banner-success`, "Deleted tax_records")
		tb.waitFor("the row gone", `document.querySelectorAll('tr[data-policy=tax_records]').length === 0`)
		if d := srv.gql(t, "admin", `{ retentionPolicy(name: "tax_records") { name } }`, nil); d["retentionPolicy"] != nil {
			t.Fatalf("not deleted: %v", d)
		}
	})

	t.Run("custom-field labels show on the customer page", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/settings")
		tb.setInput(`input[name=label-custom1]`, "Notes")
		tb.click("button", "Save custom fields")
		tb.waitText(".banner-success", "Custom fields saved")
		d := srv.gql(t, "admin", `{ customFieldStorage { field label } }`, nil)
		if l := d["customFieldStorage"].([]any)[0].(map[string]any); l["field"] != "custom1" || l["label"] != "Notes" {
			t.Fatalf("custom1's label after Save: %v", l)
		}
		tb.waitFor("the label kept in the form", `document.querySelector('input[name=label-custom1]').value === 'Notes'`)
		tb.screenshot("settings-labels")
		_, none := srv.customers(t)
		id := none["id"].(string)
		srv.gql(t, "admin", `mutation($id: ID!) { startVisit(customerId: $id, customFields: [{field: "custom1", value: "prefers mornings"}, {field: "custom2", value: "4242"}]) { id } }`, map[string]any{"id": id})
		tb.open("/console/#/customers/" + id)
		tb.waitText(`[data-field=custom1]`, "Notes: prefers mornings")
		tb.waitText(`[data-field=custom2]`, "custom2: 4242")
	})

	t.Run("a data policy that is on but does nothing is refused", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/data-policy")
		tb.waitText("h1", "Data policy")
		tb.do(chromedp.Click(chromedp.CSS(`input[name=relinquishDeletedData]`)))
		tb.waitFor("the configuration revealed", `!document.querySelector('fieldset.config').hidden`)
		tb.do(chromedp.Click(chromedp.CSS(`input[name=anonymiseCustomerData]`)))
		tb.waitText(`[data-testid=nothing-to-do]`, "would do nothing")
		if !eval[bool](tb, `[...document.querySelectorAll('button')].find(b => b.textContent === 'Save').disabled`) {
			t.Fatal("Save is enabled for a data policy that relinquishes nothing")
		}
		tb.do(chromedp.Click(chromedp.CSS(`input[name=removeCDRs]`)))
		tb.waitFor("the note gone", `document.querySelector('[data-testid=nothing-to-do]').textContent === ''`)
	})

	t.Run("the playground link carries the token", func(t *testing.T) {
		tb := tb.with(t)
		opened := chromedp.WaitNewTarget(tb.ctx, func(info *target.Info) bool { return info.Type == "page" })
		tb.click("a", "Playground")
		var id target.ID
		select {
		case id = <-opened:
		case <-time.After(30 * time.Second):
			t.Fatal("the Playground link opened no tab")
		}
		ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(id))
		defer cancel()
		pg := &tab{t: t, ctx: ctx, srv: srv}
		pg.waitFor("the playground's token field", `document.querySelector('#pg-token') !== null && document.querySelector('#pg-token').value !== ''`)
		if v := eval[string](pg, `document.querySelector('#pg-token').value`); v != srv.Tokens["admin"] {
			t.Fatal("the playground tab does not hold the session's token")
		}
	})
}
