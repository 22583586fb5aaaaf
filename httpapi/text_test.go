package httpapi_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/httpapi"
)

// TestInvalidUnicodeRefused: a body that is not valid UTF-8, or escapes a
// lone UTF-16 surrogate, is refused with BAD_USER_INPUT and stores
// nothing (Go's decoder would store U+FFFD instead); surrogate pairs and
// an escaped backslash before "u" are text like any other.
func TestInvalidUnicodeRefused(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	create := `{"query": "mutation($n: String) { createCustomer(input: {firstName: $n}) { firstName } }", "variables": {"n": "NAME"}}`
	body := func(name string) string { return strings.Replace(create, "NAME", name, 1) }
	refused := []struct{ name, body string }{
		{"invalid UTF-8 in a variable", body("Ann\xff")},
		{"a truncated UTF-8 sequence", body("Ann\xe2\x82")},
		{"invalid UTF-8 in the query", strings.Replace(create, "createCustomer", "createCustomer\xc0", 1)},
		{"a lone high surrogate", body(`Ann\ud800`)},
		{"a lone low surrogate", body(`\uDC00Ann`)},
		{"a high surrogate before a letter", body(`\ud800x`)},
		{"two high surrogates", body(`\ud800\ud800`)},
		{"a surrogate at the end of the string", body(`Ann\udbff`)},
	}
	for _, c := range refused {
		r := send(t, "POST", ts.url+"/graphql", c.body, "Content-Type", "application/json", "Authorization", "Bearer "+ts.admin)
		if r.status != 400 || r.code() != "BAD_USER_INPUT" || r.message() == "" {
			t.Errorf("%s: %d %s %s", c.name, r.status, r.code(), r.raw)
		}
	}
	found, err := ts.svc.SearchCustomers(adminCtx(), "Ann", nil, nil)
	if err != nil || found.TotalCount != 0 {
		t.Fatalf("a refused body stored a customer: %+v %v", found, err)
	}
	accepted := []struct{ name, body, want string }{
		{"a surrogate pair", body(`Ann\ud83d\ude00`), "Ann😀"},
		{"an escaped backslash before u", body(`Ann\\ud800`), `Ann\ud800`},
		{"UTF-8 as it is", body("Anné"), "Anné"},
	}
	for _, c := range accepted {
		r := send(t, "POST", ts.url+"/graphql", c.body, "Content-Type", "application/json", "Authorization", "Bearer "+ts.admin)
		got, _ := r.body["data"].(map[string]any)["createCustomer"].(map[string]any)["firstName"].(string)
		if r.status != 200 || r.code() != "" || got != c.want {
			t.Errorf("%s: %d %s, firstName %q, want %q: %s", c.name, r.status, r.code(), got, c.want, r.raw)
		}
	}
	// Over GET, the parameters are checked as they were decoded.
	r := send(t, "GET", ts.url+"/graphql?query=%7B+__typename+%7D&variables=%7B%22n%22%3A%22%FF%22%7D", "", "Authorization", "Bearer "+ts.viewer)
	if r.status != 400 || r.code() != "BAD_USER_INPUT" {
		t.Errorf("GET with invalid UTF-8: %d %s", r.status, r.raw)
	}

	t.Run("websocket", func(t *testing.T) {
		c, _, err := dialWS(t, ts.url, []string{"graphql-transport-ws"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(ts.admin)
		c.send(`{"type": "subscribe", "id": "1", "payload": ` + body(`Ws\ud800`) + `}`)
		m, code := c.next()
		errs, _ := m["payload"].([]any)
		if code != 0 || m["type"] != "error" || len(errs) == 0 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "BAD_USER_INPUT" {
			t.Fatalf("lone surrogate over the websocket: %v %d", m, code)
		}
		if found, _ := ts.svc.SearchCustomers(adminCtx(), "Ws", nil, nil); found.TotalCount != 0 {
			t.Fatalf("stored: %+v", found)
		}
	})
}
