package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// tab is one browser tab with the test's helpers; with(t) gives a subtest
// its own copy, so that a failure stops that subtest.
type tab struct {
	t   *testing.T
	ctx context.Context
	srv *server
}

func newTab(t *testing.T, srv *server, width, height int) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.WindowSize(width, height),
		// Nothing but loopback resolves: a request elsewhere fails (and the
		// offline test also records it).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("lang", "en-GB"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	tb := &tab{t: t, ctx: ctx, srv: srv}
	tb.do(chromedp.EmulateViewport(int64(width), int64(height)))
	return tb
}

func (tb *tab) with(t *testing.T) *tab { c := *tb; c.t = t; return &c }

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v\npage text:\n%s", err, tb.pageText())
	}
}

func (tb *tab) pageText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return s
}

// eval runs JavaScript and decodes its result.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (tb *tab) waitFor(what, js string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		tb.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, tb.pageText())
	}
}

// waitText waits until the element matching css contains text.
func (tb *tab) waitText(css, text string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf("%q in %s", text, css), fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))`, css, text))
}

// click clicks, with the mouse, the first element matching css whose text
// contains text.
func (tb *tab) click(css, text string) {
	tb.t.Helper()
	tb.waitText(css, text)
	id := fmt.Sprintf("t%d", time.Now().UnixNano())
	eval[bool](tb, fmt.Sprintf(`(() => { const e = [...document.querySelectorAll(%q)].find(e => e.textContent.includes(%q)); e.setAttribute('data-t', %q); return true })()`, css, text, id))
	tb.do(chromedp.Click(chromedp.CSS(`[data-t="`+id+`"]`), chromedp.NodeVisible))
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.srv.URL + path))
}

func (tb *tab) signIn(role string) {
	tb.t.Helper()
	tb.open("/console/")
	tb.do(chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), tb.srv.Tokens[role]),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	tb.waitFor("the console after sign-in", fmt.Sprintf(`document.querySelector('[data-role="%s"]') !== null`, strings.ToUpper(role)))
}

// screenshot saves a PNG into LETHE_SCREENSHOTS, when set (the README's
// pictures: LETHE_SCREENSHOTS=docs/screenshots from the repository root).
func (tb *tab) screenshot(name string) { tb.capture(name, chromedp.FullScreenshot(100)) }

// screenshotViewport saves what a phone's screen shows, not the whole page.
func (tb *tab) screenshotViewport(name string) { tb.capture(name, chromedp.CaptureScreenshot()) }

func (tb *tab) capture(name string, shot chromedp.Action[[]byte]) {
	tb.t.Helper()
	dir := os.Getenv("LETHE_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	tb.do(chromedp.Sleep(300 * time.Millisecond)) // let the last paint settle
	png, err := chromedp.Run(tb.ctx, shot)
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// TestConsoleAdmin walks the screens as an administrator: sign in, search a
// customer, open it, change its policy, try to delete one with a future
// appointment, export one, preview and save a policy edit, change the data
// policy through its confirmation, and run a sweep to its end.
func TestConsoleAdmin(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 300)
	ahead, none := srv.customers(t)
	tb := newTab(t, srv, 1280, 900)
	tb.signIn("admin")
	tb.waitText("h1", "Retention policies")
	tb.waitText("tr[data-policy=visit_days]", "visit_days")
	tb.screenshot("policies")

	t.Run("policy edit previews the year", func(t *testing.T) {
		tb := tb.with(t)
		tb.click(`tr[data-policy=default] button`, "Edit")
		tb.do(chromedp.WaitVisible(chromedp.CSS(`input[name=retentionDays]`)))
		tb.do(chromedp.SetValue(chromedp.CSS(`input[name=retentionDays]`), ""), chromedp.SendKeys(chromedp.CSS(`input[name=retentionDays]`), "4000"))
		tb.waitText(".field-error", "3650")
		tb.do(chromedp.SetValue(chromedp.CSS(`input[name=retentionDays]`), ""), chromedp.SendKeys(chromedp.CSS(`input[name=retentionDays]`), "3"))
		tb.waitText(`[data-testid=preview-count]`, "This would relinquish")
		tb.waitFor("the preview's forecast chart", `document.querySelector('[data-testid=policy-preview] svg.chart rect') !== null`)
		tb.screenshot("policy-preview")
		tb.click("button", "Cancel")
		d := srv.gql(t, "admin", `{ retentionPolicy(name: "default") { retentionDays } }`, nil)
		if d["retentionPolicy"].(map[string]any)["retentionDays"] != float64(30) {
			t.Fatalf("a preview changed the policy: %v", d)
		}
	})

	t.Run("search, open, change policy", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers")
		last := none["lastName"].(string)
		tb.do(chromedp.WaitVisible(chromedp.CSS(`input[name=search]`)), chromedp.SendKeys(chromedp.CSS(`input[name=search]`), last))
		tb.waitText(`[data-testid=results] a`, none["firstName"].(string))
		tb.screenshot("customers")
		tb.click(`[data-testid=results] a`, none["firstName"].(string)+" "+last)
		tb.waitText("h1", last)
		tb.do(chromedp.SetValue(chromedp.CSS(`select[name=policy]`), "appointment_days"))
		tb.click("button", "Set policy")
		tb.waitText(`[data-testid=policy]`, "appointment_days")
		tb.screenshot("customer")
		d := srv.gql(t, "admin", `query($id: ID!) { customer(id: $id) { retentionPolicy { name } retentionPolicyAssigned } }`, map[string]any{"id": none["id"]})
		if c := d["customer"].(map[string]any); c["retentionPolicy"].(map[string]any)["name"] != "appointment_days" || c["retentionPolicyAssigned"] != true {
			t.Fatalf("policy not saved: %v", c)
		}
	})

	t.Run("export downloads firstname_lastname.json", func(t *testing.T) {
		tb := tb.with(t)
		dl := t.TempDir()
		if _, err := chromedp.CallBrowser(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
			t.Fatal(err)
		}
		tb.click("button", "Export")
		want := filepath.Join(dl, none["firstName"].(string)+"_"+none["lastName"].(string)+".json")
		var raw []byte
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(want); err == nil && json.Valid(b) {
				raw = b
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if raw == nil {
			entries, _ := os.ReadDir(dl)
			t.Fatalf("no %s downloaded; the download directory holds %v", filepath.Base(want), entries)
		}
		if !strings.Contains(string(raw), none["id"].(string)) || !strings.Contains(string(raw), none["lastName"].(string)) {
			t.Fatalf("the export does not hold the customer:\n%.500s", raw)
		}
		for _, connector := range []string{"cdrstore", "invoicestore", "statdb"} {
			if !strings.Contains(string(raw), connector) {
				t.Errorf("the export has nothing from %s", connector)
			}
		}
	})

	t.Run("delete with a future appointment is explained", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/customers/" + url.PathEscape(ahead["id"].(string)))
		tb.waitText("h1", ahead["lastName"].(string))
		tb.click("button", "Delete")
		tb.click("dialog[open] button", "Delete everywhere")
		tb.waitText(`[data-testid=future-appointment]`, "cannot be deleted yet")
		tb.screenshot("customer-future-appointment")
		tb.click(`[data-testid=future-appointment] button`, "Set Direct instead")
		tb.waitText(`[data-testid=policy]`, "direct")
		d := srv.gql(t, "admin", `query($id: ID!) { customer(id: $id) { id retentionPolicy { name } } }`, map[string]any{"id": ahead["id"]})
		if c, _ := d["customer"].(map[string]any); c == nil || c["retentionPolicy"].(map[string]any)["name"] != "direct" {
			t.Fatalf("after the refusal the customer should exist with policy direct: %v", d)
		}
	})

	t.Run("data policy through its confirmation", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/data-policy")
		tb.waitText("h1", "Data policy")
		before := srv.gql(t, "admin", `{ dataPolicy { relinquishDeletedData } }`, nil)
		if before["dataPolicy"].(map[string]any)["relinquishDeletedData"] == true {
			t.Fatalf("the demo starts with relinquishing on; this test turns it on")
		}
		tb.do(chromedp.Click(chromedp.CSS(`input[name=relinquishDeletedData]`)))
		tb.waitFor("the configuration revealed", `!document.querySelector('fieldset.config').hidden`)
		tb.do(chromedp.SetValue(chromedp.CSS(`input[name=relinquishAfterDays]`), ""), chromedp.SendKeys(chromedp.CSS(`input[name=relinquishAfterDays]`), "30"))
		tb.do(chromedp.Click(chromedp.CSS(`input[name=removeCDRs]`)))
		tb.waitText(`[data-testid=preview-count]`, "Saving this would relinquish")
		tb.waitText(".banner-danger", "DANGER")
		tb.screenshot("data-policy")
		tb.click("button", "Save")
		tb.waitText(`dialog[open] [data-testid=confirm-count]`, "The next sweep will relinquish")
		tb.screenshot("data-policy-confirm")
		tb.click("dialog[open] button", "Save data policy")
		tb.waitText(".banner-success", "The data policy is saved")
		d := srv.gql(t, "admin", `{ dataPolicy { relinquishDeletedData relinquishAfterDays removeCDRs anonymiseCustomerData } }`, nil)
		dp := d["dataPolicy"].(map[string]any)
		if dp["relinquishDeletedData"] != true || dp["relinquishAfterDays"] != float64(30) || dp["removeCDRs"] != true || dp["anonymiseCustomerData"] != true {
			t.Fatalf("data policy not saved as confirmed: %v", dp)
		}
	})

	t.Run("run now reaches the end", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/forecast")
		tb.waitFor("the forecast chart", `document.querySelector('svg.chart rect') !== null`)
		tb.screenshot("forecast")
		tb.open("/console/#/runs")
		tb.waitText("h1", "Runs")
		// A dry run a year ahead plans more than one now, and erases nothing.
		tb.do(chromedp.SetValue(chromedp.CSS(`input[name=asOf]`), time.Now().AddDate(1, 0, 0).Format("2006-01-02")))
		tb.click("button", "Dry run")
		tb.waitText(`[data-testid=dry-run-count]`, "customers")
		dry := srv.gql(t, "admin", `{ retentionRuns(first: 1) { dryRun customersPlanned asOf } }`, nil)["retentionRuns"].([]any)[0].(map[string]any)
		if dry["dryRun"] != true || !strings.Contains(eval[string](tb, `document.querySelector('[data-testid=dry-run-count]').textContent`), fmt.Sprint(dry["customersPlanned"])) {
			t.Fatalf("the dry run shown is not the one recorded: %v", dry)
		}
		tb.click("button", "Run now")
		tb.click("dialog[open] button", "Run now")
		tb.waitText(`[data-testid=run-status]`, "SUCCEEDED")
		if future := int(dry["customersPlanned"].(float64)); future == 0 {
			t.Fatal("a dry run a year ahead planned nothing")
		}
		text := eval[string](tb, `document.querySelector('[data-testid=progress-text]').textContent`)
		d := srv.gql(t, "admin", `{ retentionRuns(first: 1) { dryRun status customersPlanned customersDone } }`, nil)
		run := d["retentionRuns"].([]any)[0].(map[string]any)
		planned := int(run["customersPlanned"].(float64))
		if run["dryRun"] != false || run["status"] != "SUCCEEDED" || planned == 0 {
			t.Fatalf("the sweep: %v", run)
		}
		if want := fmt.Sprintf("%d of %d done", planned, planned); !strings.Contains(strings.ReplaceAll(text, ",", ""), want) {
			t.Fatalf("progress shows %q, want %q", text, want)
		}
		if v := eval[bool](tb, `(() => { const p = document.querySelector('progress'); return p.value === p.max })()`); !v {
			t.Fatal("the progress bar did not reach its end")
		}
		tb.screenshot("runs")
	})

	t.Run("other screens", func(t *testing.T) {
		tb := tb.with(t)
		tb.open("/console/#/connectors")
		tb.waitText("table", "statdb")
		if n := eval[int](tb, `document.querySelectorAll('.health-ok').length`); n != 3 {
			t.Fatalf("%d healthy connectors shown, want 3", n)
		}
		tb.screenshot("connectors")
		tb.open("/console/#/settings")
		tb.waitText("h2", "Custom-field storage")
		tb.screenshot("settings")
		// Hiding a field asks first, and says that stored values go.
		tb.do(chromedp.Click(chromedp.CSS(`label[for=pref-PHONE-HIDDEN]`)))
		tb.click("button", "Confirm")
		tb.waitText(`dialog[open] [data-testid=purge-count]`, "purged")
		tb.click("dialog[open] button", "Confirm")
		tb.waitText(".banner-success", "Collection preferences saved")
		tb.do(chromedp.SetValue(chromedp.CSS(`select[name=custom3]`), "no"))
		tb.click("button", "Save custom fields")
		tb.waitText(".banner-success", "Custom fields saved")
		d := srv.gql(t, "admin", `{ fieldPreferences { fields { field mode } } customFieldStorage { field storeInStatDatabase } }`, nil)
		for _, f := range d["fieldPreferences"].(map[string]any)["fields"].([]any) {
			if f := f.(map[string]any); f["field"] == "PHONE" && f["mode"] != "HIDDEN" {
				t.Fatalf("phone not hidden after Confirm: %v", f)
			}
		}
		for _, f := range d["customFieldStorage"].([]any) {
			if f := f.(map[string]any); f["field"] == "custom3" && f["storeInStatDatabase"] != false {
				t.Fatalf("custom3 still stored: %v", f)
			}
		}
		tb.open("/console/#/audit")
		// Newest first: the phone values hidden above were purged at the
		// connectors, one audited event per customer.
		tb.waitText("table", "customer.purgeFields")
		tb.do(chromedp.SetValue(chromedp.CSS(`select[name=action]`), "dataPolicy.update"))
		eval[bool](tb, `document.querySelector('select[name=action]').dispatchEvent(new Event('change')) || true`)
		tb.waitFor("the audit log filtered on the server", `document.querySelectorAll('tbody tr').length === 1 && document.querySelector('tbody tr').textContent.includes('dataPolicy.update')`)
		tb.screenshot("audit")
	})

	t.Run("sign out forgets the token", func(t *testing.T) {
		tb := tb.with(t)
		tb.click("button", "Sign out")
		tb.waitText("h1", "Sign in")
		if v := eval[string](tb, `sessionStorage.getItem('lethe.token') || ''`); v != "" {
			t.Fatal("the token is still in sessionStorage after sign-out")
		}
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		if strings.Contains(loc, "lethe_") {
			t.Fatalf("the token is in the URL: %s", loc)
		}
	})
}

// TestConsoleViewer signs in with a viewer token: read-only screens, no
// customer data, no edit controls.
func TestConsoleViewer(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 50)
	tb := newTab(t, srv, 1280, 900)
	tb.signIn("viewer")
	tb.waitText("tr[data-policy=default]", "default")
	nav := eval[string](tb, `document.querySelector('nav').textContent`)
	if strings.Contains(nav, "Handle customers") || strings.Contains(nav, "Audit log") {
		t.Fatalf("a viewer sees screens of higher roles: %s", nav)
	}
	if n := eval[int](tb, `document.querySelectorAll('tr[data-policy] button').length`); n != 0 {
		t.Fatalf("a viewer sees %d policy edit buttons", n)
	}
	tb.waitText(".banner-info", "only an administrator can change them")
	tb.open("/console/#/data-policy")
	tb.waitText("h1", "Data policy")
	tb.waitFor("disabled data policy controls", `[...document.querySelectorAll('form input')].every(i => i.disabled) && ![...document.querySelectorAll('button')].some(b => /Save|Use default/.test(b.textContent))`)
	tb.open("/console/#/settings")
	tb.waitText("h2", "Custom-field storage")
	tb.waitFor("settings without Confirm", `[...document.querySelectorAll('form input, form select')].every(i => i.disabled) && ![...document.querySelectorAll('button')].some(b => /Confirm|Save/.test(b.textContent))`)
	tb.open("/console/#/runs")
	tb.waitText("h1", "Runs")
	tb.waitFor("runs without Run now or Dry run", `![...document.querySelectorAll('button')].some(b => /Run now|Dry run/.test(b.textContent))`)
	tb.screenshot("viewer-runs")
	// A customer page typed by hand leads back to a screen the role has.
	tb.open("/console/#/customers/cus_x")
	tb.waitText("h1", "Retention policies")
}

// TestConsoleOffline blocks every request that does not go to Lethe's
// loopback address and fails when the console or the playground asks for
// one; it also reports the page weight and load time on loopback.
func TestConsoleOffline(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 50)
	tb := newTab(t, srv, 1280, 900)
	own, _ := url.Parse(srv.URL)

	var mu sync.Mutex
	var outside []string
	requests := 0
	bytesIn := 0.0
	if err := chromedp.Listen(tb.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests++
			if u, err := url.Parse(ev.Request.URL); err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != own.Host) {
				outside = append(outside, ev.Request.URL)
			}
		case *network.EventWebSocketCreated:
			if u, err := url.Parse(ev.URL); err != nil || u.Host != own.Host {
				outside = append(outside, ev.URL)
			}
		case *network.EventLoadingFinished:
			bytesIn += ev.EncodedDataLength
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tb.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// Every request is paused here: loopback to Lethe goes on, anything else
	// fails as blocked (and is recorded above).
	paused := chromedp.Events(tb.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			u, _ := url.Parse(ev.Request.URL)
			if u != nil && u.Host == own.Host {
				chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}) //nolint:errcheck
			} else {
				chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient}) //nolint:errcheck
			}
		}
	}()
	if _, err := chromedp.Call(tb.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(tb.ctx)
	var msgs []string
	var msgMu sync.Mutex
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			msgMu.Lock()
			msgs = append(msgs, m.Text)
			msgMu.Unlock()
		}
	}()

	// The first load, measured: the sign-in page and everything it loads.
	start := time.Now()
	tb.open("/console/")
	tb.do(chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)))
	loadMS := eval[float64](tb, `(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime })()`)
	firstPaint := time.Since(start)
	mu.Lock()
	signInBytes := bytesIn
	mu.Unlock()

	tb.signIn("admin")
	for _, screen := range []string{"policies", "data-policy", "customers", "forecast", "runs", "settings", "connectors", "audit"} {
		tb.open("/console/#/" + screen)
		tb.waitFor(screen, `document.querySelector('main h1') !== null && document.querySelector('.loading') === null`)
	}
	// The run's live progress uses the websocket.
	tb.open("/console/#/runs")
	tb.click("button", "Run now")
	tb.click("dialog[open] button", "Run now")
	tb.waitText(`[data-testid=run-status]`, "SUCCEEDED")
	mu.Lock()
	consoleBytes := bytesIn
	mu.Unlock()

	// The playground: its page, script and style, and a query it runs.
	tb.open("/")
	tb.do(chromedp.WaitVisible(chromedp.CSS(`.graphiql-container .graphiql-query-editor .CodeMirror`)))
	graphiqlQuery(tb, "query Policies { retentionPolicies { name } }", "")
	tb.do(chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
	tb.waitText(".graphiql-response", `"visit_days"`)
	// Its fonts and icons are Lethe's files too.
	tb.waitFor("GraphiQL's fonts", `document.fonts.status === 'loaded'`)

	mu.Lock()
	defer mu.Unlock()
	if len(outside) > 0 {
		t.Fatalf("the console or playground asked for something outside Lethe: %v", outside)
	}
	if requests < 10 {
		t.Fatalf("only %d requests seen: the recorder does not work", requests)
	}
	msgMu.Lock()
	for _, m := range msgs {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
			t.Errorf("the page breaks its own Content-Security-Policy: %s", m)
		}
	}
	msgMu.Unlock()
	t.Logf("%d requests, none outside %s", requests, own.Host)
	t.Logf("sign-in page: %.1f KB transferred, load event after %.0f ms (token field visible after %v)", signInBytes/1024, loadMS, firstPaint.Round(time.Millisecond))
	t.Logf("every console screen, a sweep and its progress: %.1f KB transferred", consoleBytes/1024)
}

// TestConsoleNarrow renders the screens at a phone's 390 px: nothing wider
// than the screen, the menu behind a button.
func TestConsoleNarrow(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 50)
	tb := newTab(t, srv, 390, 844)
	tb.signIn("admin")
	for _, screen := range []string{"policies", "data-policy", "customers", "forecast", "runs", "settings", "connectors", "audit"} {
		tb.open("/console/#/" + screen)
		tb.waitFor(screen, `document.querySelector('main h1') !== null && document.querySelector('.loading') === null`)
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide at 390 px", screen, w)
		}
		if screen == "customers" {
			tb.screenshotViewport("narrow-customers")
		}
	}
	if visible := eval[bool](tb, `getComputedStyle(document.querySelector('nav')).display !== 'none'`); visible {
		t.Fatal("the menu is open on a narrow screen before the Menu button is pressed")
	}
	tb.click("button", "Menu")
	tb.waitFor("the menu", `getComputedStyle(document.querySelector('nav')).display !== 'none'`)
	tb.screenshotViewport("narrow-menu")
}
