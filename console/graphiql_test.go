package console_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestConsolePlaygroundGraphiQL: the playground is GraphiQL, served from Lethe's
// embedded files under the console's Content-Security-Policy (no
// violation is reported), with the session's token: it completes a field
// from the schema, its docs explorer shows the schema's types, it runs a
// query with variables as the token's role, and keeps it in its history.
func TestConsolePlaygroundGraphiQL(t *testing.T) {
	needBrowser(t)
	srv := startServer(t, 20)
	tb := newTab(t, srv, 1280, 900)
	tb.timeZone("Asia/Tokyo")
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	tb.signIn("operator")
	tb.open("/")
	// WaitVisible outlasts the navigation (an evaluation may meet the sign-in
	// page's context as it goes).
	tb.do(chromedp.WaitVisible(chromedp.CSS(`.graphiql-container .graphiql-query-editor .CodeMirror`)))
	if v := eval[string](tb, `document.querySelector('#pg-token').value`); v != srv.Tokens["operator"] {
		t.Fatal("the playground does not hold the session's token")
	}
	editor := `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror`

	t.Run("autocompletion from the schema", func(t *testing.T) {
		tb := tb.with(t)
		eval[bool](tb, editor+`.setValue('{ retentionPol') || `+editor+`.setCursor({line: 0, ch: 14}) || `+editor+`.focus() || true`)
		tb.do(chromedp.KeyEvent("i"))
		tb.waitText(".CodeMirror-hints", "retentionPolicies")
	})

	t.Run("the docs explorer", func(t *testing.T) {
		tb := tb.with(t)
		tb.do(chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)))
		tb.waitText(".graphiql-doc-explorer", "Query")
		tb.click(".graphiql-doc-explorer a", "Query")
		tb.waitText(".graphiql-doc-explorer", "retentionForecast")
	})

	t.Run("a query with variables runs with the token", func(t *testing.T) {
		tb := tb.with(t)
		graphiqlQuery(tb, "query One($name: ID!) { retentionPolicy(name: $name) { name retentionDays } session { role } }", `{"name": "visit_days"}`)
		tb.do(chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
		tb.waitText(".graphiql-response", `"retentionDays": 30`)
		if out := eval[string](tb, `document.querySelector('.graphiql-response').textContent`); !strings.Contains(out, `"OPERATOR"`) {
			t.Fatalf("the query did not run as the session's operator: %s", out)
		}
		tb.screenshot("playground")
		tb.do(chromedp.Click(chromedp.CSS(`button[aria-label="Show History"]`)))
		tb.waitText(".graphiql-history", "One")
	})

	t.Run("a subscription streams over the websocket", func(t *testing.T) {
		tb := tb.with(t)
		run := srv.gql(t, "operator", `mutation { runRetention(dryRun: true) { id } }`, nil)["runRetention"].(map[string]any)["id"].(string)
		graphiqlQuery(tb, "subscription Progress($id: ID!) { retentionRunProgress(id: $id) { id status } }", fmt.Sprintf(`{"id": %q}`, run))
		tb.do(chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
		tb.waitText(".graphiql-response", `"SUCCEEDED"`)
		if out := eval[string](tb, `document.querySelector('.graphiql-response').textContent`); !strings.Contains(out, run) {
			t.Fatalf("the subscription answered another run: %s", out)
		}
	})

	if csp := eval[[]string](tb, `window.__csp`); len(csp) > 0 {
		t.Fatalf("the playground broke its Content-Security-Policy: %v", csp)
	}
}

// graphiqlQuery puts a query and its variables into GraphiQL's editors and
// waits until GraphiQL's own state (kept in the tab's storage) holds them:
// a Run before that would run what the editors held before.
func graphiqlQuery(tb *tab, query, variables string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(%q) || true`, query))
	eval[bool](tb, fmt.Sprintf(`document.querySelector('.graphiql-editor-tool .CodeMirror').CodeMirror.setValue(%q) || true`, variables))
	q, _ := json.Marshal(query)
	v, _ := json.Marshal(variables)
	tb.waitFor("GraphiQL took the query", fmt.Sprintf(`(() => { const s = JSON.parse(sessionStorage.getItem('graphiql:tabState') || '{"tabs": []}'); const t = s.tabs[s.activeTabIndex] || {}; return t.query === %s && (t.variables || '') === %s })()`, q, v))
}
