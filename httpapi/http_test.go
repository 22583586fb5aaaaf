package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/retention"
)

// TestStatusByMediaType: GraphQL-over-HTTP's status codes. Under
// application/json (Apollo Client 3's Accept) a request that fails before
// it runs is still 200, so the client sees the code; under
// application/graphql-response+json it is 400 and carries no "data".
func TestStatusByMediaType(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	auth := "Bearer " + ts.admin
	cases := []struct {
		name, body, code string
	}{
		{"parse failure", jsonBody(map[string]any{"query": "{ dataPolicy { "}), "GRAPHQL_PARSE_FAILED"},
		{"validation failure", jsonBody(map[string]any{"query": "{ passwords }"}), "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion failure", jsonBody(map[string]any{"query": "query($n: Int) { auditLog(first: $n) { id } }", "variables": map[string]any{"n": "ten"}}), "GRAPHQL_VALIDATION_FAILED"},
		{"enum variable of the wrong case", jsonBody(map[string]any{"query": "mutation($s: CustomerStatus!) { setCustomerStatus(id: \"cus_x\", status: $s) { id } }", "variables": map[string]any{"s": "cancelled"}}), "BAD_USER_INPUT"},
		{"depth limit", jsonBody(map[string]any{"query": "{ customers { edges { node { " + strings.Repeat("appointments { customer { ", 8) + "id" + strings.Repeat(" } }", 8) + " } } } }"}), "DEPTH_LIMIT_EXCEEDED"},
	}
	for _, c := range cases {
		for _, accept := range []string{"application/json", "", "*/*", "application/graphql-response+json", "application/graphql-response+json, application/json;q=0.9"} {
			r := send(t, "POST", ts.url+"/graphql", c.body, "Content-Type", "application/json", "Accept", accept, "Authorization", auth)
			wantStatus, wantType := 200, "application/json"
			if strings.HasPrefix(accept, "application/graphql-response+json") {
				wantStatus, wantType = 400, "application/graphql-response+json"
			}
			if r.status != wantStatus || r.code() != c.code {
				t.Errorf("%s, Accept %q: %d %s, want %d %s (%s)", c.name, accept, r.status, r.code(), wantStatus, c.code, r.raw)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) || !strings.Contains(ct, "utf-8") {
				t.Errorf("%s, Accept %q: Content-Type %q", c.name, accept, ct)
			}
			if _, ok := r.body["data"]; ok {
				t.Errorf("%s, Accept %q: a request that never ran has a data entry: %s", c.name, accept, r.raw)
			}
		}
	}
	// A resolver's error is an execution error: 200 with data in both.
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		r := send(t, "POST", ts.url+"/graphql", jsonBody(map[string]any{"query": `{ customer(id: "cus_missing") { id } }`}),
			"Content-Type", "application/json", "Accept", accept, "Authorization", auth)
		if _, ok := r.body["data"]; r.status != 200 || !ok {
			t.Errorf("execution error under %s: %d %s", accept, r.status, r.raw)
		}
	}
}

// TestRefusalsHaveCodes: every request the transport refuses says why,
// with a status and a code, and changes nothing.
func TestRefusalsHaveCodes(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	auth := "Bearer " + ts.admin
	create := `mutation { createCustomer(input: {firstName: "Get"}) { id } }`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
	}{
		{"text/plain body", "POST", "/graphql", jsonBody(map[string]any{"query": "{ dataPolicy { usesDefault } }"}), []string{"Content-Type", "text/plain"}, 415, httpapi.CodeUnsupportedMediaType},
		{"no content type", "POST", "/graphql", jsonBody(map[string]any{"query": "{ dataPolicy { usesDefault } }"}), nil, 415, httpapi.CodeUnsupportedMediaType},
		{"latin-1 body", "POST", "/graphql", jsonBody(map[string]any{"query": "{ dataPolicy { usesDefault } }"}), []string{"Content-Type", "application/json; charset=iso-8859-1"}, 415, httpapi.CodeUnsupportedMediaType},
		{"mutation over GET", "GET", "/graphql?query=" + url.QueryEscape(create), "", nil, 405, httpapi.CodeMethodNotAllowed},
		{"PUT", "PUT", "/graphql", jsonBody(map[string]any{"query": create}), []string{"Content-Type", "application/json"}, 405, httpapi.CodeMethodNotAllowed},
		{"Accept nothing served", "POST", "/graphql", jsonBody(map[string]any{"query": "{ dataPolicy { usesDefault } }"}), []string{"Content-Type", "application/json", "Accept", "text/html"}, 406, httpapi.CodeNotAcceptable},
		{"query an object", "POST", "/graphql", `{"query": {"a": 1}}`, []string{"Content-Type", "application/json"}, 400, "BAD_USER_INPUT"},
		{"no query", "POST", "/graphql", `{"variables": {}}`, []string{"Content-Type", "application/json"}, 400, "BAD_USER_INPUT"},
		{"variables a string", "POST", "/graphql", `{"query": "{ dataPolicy { usesDefault } }", "variables": "x"}`, []string{"Content-Type", "application/json"}, 400, "BAD_USER_INPUT"},
		{"two JSON values", "POST", "/graphql", `{"query": "{ dataPolicy { usesDefault } }"} {}`, []string{"Content-Type", "application/json"}, 400, "BAD_USER_INPUT"},
		{"subscription over POST", "POST", "/graphql", jsonBody(map[string]any{"query": `subscription { retentionRunProgress(id: "run_x") { status } }`}), []string{"Content-Type", "application/json"}, 400, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		r := send(t, c.method, ts.url+c.path, c.body, append(c.headers, "Authorization", auth)...)
		if r.status != c.status || r.code() != c.code || r.message() == "" {
			t.Errorf("%s: %d %q, want %d %s: %s", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
	if got := send(t, "GET", ts.url+"/graphql?query="+url.QueryEscape(create), "", "Authorization", auth).header.Get("Allow"); got != "POST" {
		t.Errorf("mutation over GET: Allow %q", got)
	}
	found, err := ts.svc.SearchCustomers(adminCtx(), "Get", nil, nil)
	if err != nil || found.TotalCount != 0 {
		t.Fatalf("a refused request created a customer: %+v %v", found, err)
	}
	// A query over GET runs.
	r := send(t, "GET", ts.url+"/graphql?query="+url.QueryEscape("{ dataPolicy { usesDefault } }"), "", "Authorization", auth)
	if r.status != 200 || r.code() != "" {
		t.Fatalf("query over GET: %d %s", r.status, r.raw)
	}
}

func adminCtx() context.Context {
	return retention.WithActor(context.Background(), retention.Actor{Name: "test", Role: retention.RoleAdmin})
}

// TestOneErrorShapeOutsideGraphQL: /export and unknown routes refuse in one
// shape, {"error":{"code","message"}}, with GraphQL's codes, whatever the
// cause: token, role, input, missing customer, method.
func TestOneErrorShapeOutsideGraphQL(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	cases := []struct {
		name, method, path, auth string
		status                   int
		code                     string
	}{
		{"no token", "GET", "/export/cus_x", "", 401, "UNAUTHENTICATED"},
		{"bad token", "GET", "/export/cus_x", "Bearer lethe_nope", 401, "UNAUTHENTICATED"},
		{"viewer", "GET", "/export/cus_x", "Bearer " + ts.viewer, 403, "FORBIDDEN"},
		{"NUL in the id", "GET", "/export/cus%00x", "Bearer " + ts.admin, 400, "BAD_USER_INPUT"},
		{"unknown customer", "GET", "/export/cus_nobody", "Bearer " + ts.admin, 404, "NOT_FOUND"},
		{"POST", "POST", "/export/cus_x", "Bearer " + ts.admin, 405, httpapi.CodeMethodNotAllowed},
		{"unknown route", "GET", "/nothing/here", "", 404, "NOT_FOUND"},
	}
	for _, c := range cases {
		var hdr []string
		if c.auth != "" {
			hdr = []string{"Authorization", c.auth}
		}
		r := send(t, c.method, ts.url+c.path, "", hdr...)
		e, _ := r.body["error"].(map[string]any)
		if r.status != c.status || e == nil || e["code"] != c.code || e["message"] == "" || len(r.body) != 1 {
			t.Errorf("%s: %d %s, want %d {error: {code: %s, message}}", c.name, r.status, r.raw, c.status, c.code)
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", c.name, r.header.Get("Content-Type"))
		}
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestPersistedQueries: Apollo's persisted-query link sends the hash
// alone, expects PersistedQueryNotFound (message and code) to send the
// query with its hash once, and the hash alone works from then on, over
// POST and GET. The cache is bounded: the least recently used go.
func TestPersistedQueries(t *testing.T) {
	ts := mustServe(t, httpapi.Options{PersistedQueries: 2})
	auth := "Bearer " + ts.viewer
	post := func(body map[string]any) reply {
		return send(t, "POST", ts.url+"/graphql", jsonBody(body), "Content-Type", "application/json", "Authorization", auth)
	}
	ext := func(q string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(q)}}
	}
	q1 := "{ dataPolicy { usesDefault } }"
	r := post(map[string]any{"extensions": ext(q1)})
	if r.status != 200 || r.message() != "PersistedQueryNotFound" || r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %d %s", r.status, r.raw)
	}
	if r := post(map[string]any{"query": q1, "extensions": ext(q1)}); r.status != 200 || r.code() != "" {
		t.Fatalf("query with its hash: %d %s", r.status, r.raw)
	}
	if r := post(map[string]any{"extensions": ext(q1)}); r.status != 200 || r.code() != "" || r.body["data"] == nil {
		t.Fatalf("known hash: %d %s", r.status, r.raw)
	}
	get := send(t, "GET", ts.url+"/graphql?extensions="+url.QueryEscape(jsonBody(ext(q1))), "", "Authorization", auth)
	if get.status != 200 || get.code() != "" || get.body["data"] == nil {
		t.Fatalf("known hash over GET: %d %s", get.status, get.raw)
	}
	if r := post(map[string]any{"query": "{ connectors { name } }", "extensions": ext(q1)}); r.code() == "" {
		t.Fatalf("a hash that is not the query's was accepted: %s", r.raw)
	}
	// Two more queries push the first out of a cache of two.
	for _, q := range []string{"{ retentionPolicies { name } }", "{ fieldPreferences { collectionEnabled } }"} {
		if r := post(map[string]any{"query": q, "extensions": ext(q)}); r.code() != "" {
			t.Fatalf("%s: %s", q, r.raw)
		}
	}
	if r := post(map[string]any{"extensions": ext(q1)}); r.message() != "PersistedQueryNotFound" {
		t.Fatalf("the cache kept more than its bound: %s", r.raw)
	}
}

// TestCostInExtensions: an operation over the complexity limit says its
// cost and the limit in extensions; a successful one reports its cost when
// asked with the request extension {"cost": true}, and only then.
func TestCostInExtensions(t *testing.T) {
	ts := mustServe(t, httpapi.Options{Limits: httpapi.Limits{MaxComplexity: 50}})
	auth := "Bearer " + ts.admin
	post := func(body map[string]any) reply {
		return send(t, "POST", ts.url+"/graphql", jsonBody(body), "Content-Type", "application/json", "Authorization", auth)
	}
	r := post(map[string]any{"query": "{ customers(first: 100) { totalCount edges { node { id firstName lastName } } } }"})
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("over the limit: %s", r.raw)
	}
	ext := errs[0].(map[string]any)["extensions"].(map[string]any)
	if ext["code"] != "COMPLEXITY_LIMIT_EXCEEDED" || ext["limit"] != float64(50) || ext["cost"].(float64) <= 50 {
		t.Fatalf("extensions %v", ext)
	}
	r = post(map[string]any{"query": "{ dataPolicy { usesDefault relinquishAfterDays } }", "extensions": map[string]any{"cost": true}})
	cost, _ := r.body["extensions"].(map[string]any)["cost"].(map[string]any)
	if cost["complexity"] != float64(3) || cost["limit"] != float64(50) {
		t.Fatalf("cost asked for: %s", r.raw)
	}
	if r := post(map[string]any{"query": "{ dataPolicy { usesDefault } }"}); r.body["extensions"] != nil {
		t.Fatalf("cost not asked for: %s", r.raw)
	}
}

// TestCORS: off by default; with an allow-list, preflights from a listed
// origin are answered without a token and responses name the origin; any
// other origin gets no CORS headers, so browsers refuse it.
func TestCORS(t *testing.T) {
	off := mustServe(t, httpapi.Options{})
	r := send(t, "OPTIONS", off.url+"/graphql", "", "Origin", "https://console.example.com", "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS without an allow-list: %v", r.header)
	}
	ts := mustServe(t, httpapi.Options{CORSOrigins: []string{"https://console.example.com"}})
	r = send(t, "OPTIONS", ts.url+"/graphql", "", "Origin", "https://console.example.com", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization, content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://console.example.com" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = send(t, "POST", ts.url+"/graphql", jsonBody(map[string]any{"query": "{ dataPolicy { usesDefault } }"}),
		"Origin", "https://console.example.com", "Content-Type", "application/json", "Authorization", "Bearer "+ts.viewer)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://console.example.com" || !strings.Contains(r.header.Get("Vary"), "Origin") {
		t.Fatalf("request: %d %v", r.status, r.header)
	}
	r = send(t, "OPTIONS", ts.url+"/graphql", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin: %v", r.header)
	}
}
