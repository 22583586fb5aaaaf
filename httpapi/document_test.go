//go:build unix

package httpapi_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/httpapi"
)

// cpuTime is the CPU time this process has used, user and system: what a
// request costs the server, unlike wall-clock time, which a loaded machine
// stretches.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// doubledFragments is a small document whose fragments, spread twice at
// each of levels, stand for 2^levels fields.
func doubledFragments(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", levels)
	return b.String()
}

// aliases is a document of n aliased copies of field.
func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d:%s ", i, field)
	}
	b.WriteString("}")
	return b.String()
}

// bombs are the documents that held the server for minutes before the
// document limits: each about 1 MB or a small document standing for a huge
// one. Nesting deeper than 1000 is gqlparser's own bound, a parse error.
var bombs = []struct {
	name, query, code string
}{
	{"95,000 __typename (1 MB)", "{ " + strings.Repeat("__typename ", 95_000) + "}", "TOKEN_LIMIT_EXCEEDED"},
	{"60,000 session { name } (1 MB)", "{ " + strings.Repeat("session { name } ", 60_000) + "}", "TOKEN_LIMIT_EXCEEDED"},
	{"30 levels of doubled fragment spreads (1.2 KB)", doubledFragments(30), "FIELD_LIMIT_EXCEEDED"},
	{"1,500 __typename (under the token limit)", "{ " + strings.Repeat("__typename ", 1500) + "}", "FIELD_LIMIT_EXCEEDED"},
	{"1 MB of aliases", aliases(55_000, "__typename"), "TOKEN_LIMIT_EXCEEDED"},
	{"300 aliased dataPolicyPreview", aliases(300, "dataPolicyPreview(input: {relinquishDeletedData: true}) { customersPlanned }"), "ALIAS_LIMIT_EXCEEDED"},
	{"1 MB of nested lists in an argument", `{ customer(id: ` + strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000) + `) { id } }`, "GRAPHQL_PARSE_FAILED"}, // gqlparser's nesting bound, 1000
	{"1 MB of nested selections", "{ " + strings.Repeat("session{", 80_000) + strings.Repeat("}", 80_000) + "}", "GRAPHQL_PARSE_FAILED"},
	{"1 MB of comment lines", strings.Repeat("#\n", 300_000) + "{ __typename }", "TOKEN_LIMIT_EXCEEDED"},
	{"250 spreads of a small fragment", "{ " + strings.Repeat("...F ", 250) + "} fragment F on Query { __typename }", "FRAGMENT_LIMIT_EXCEEDED"},
	{"1 MB of directives", "{ __typename " + strings.Repeat("@skip(if: false) ", 60_000) + "}", "TOKEN_LIMIT_EXCEEDED"},
}

// TestDocumentBombsRefused: each document that held the server for
// minutes is refused with its limit's code and the limit in extensions,
// through the real handler with a viewer token, for well under a second
// of the server's CPU (measured as this process's CPU time: the server
// runs in it).
func TestDocumentBombsRefused(t *testing.T) {
	ts := mustServe(t, httpapi.Options{})
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			body := jsonBody(map[string]any{"query": b.query})
			before := cpuTime(t)
			r := send(t, "POST", ts.url+"/graphql", body, "Content-Type", "application/json", "Authorization", "Bearer "+ts.viewer)
			used := cpuTime(t) - before
			if r.status != 200 || r.code() != b.code || r.message() == "" {
				t.Fatalf("%d %s, want %s: %.300s", r.status, r.code(), b.code, r.raw)
			}
			ext := r.body["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)
			if _, ok := ext["limit"].(float64); !ok && b.code != "GRAPHQL_PARSE_FAILED" {
				t.Errorf("no limit in extensions: %s", r.raw)
			}
			if _, ok := r.body["data"]; ok {
				t.Errorf("a refused document has data: %.300s", r.raw)
			}
			// The bound, with a margin of hundreds: before the limits
			// each of these took from 17 s to over 10 minutes of CPU.
			if used > time.Second {
				t.Errorf("refusing it took %v of CPU", used)
			}
		})
	}
}

// TestDocumentsWithinLimitsRun: what clients send still runs, its cost
// unchanged: introspection (the playground's and GraphiQL's shape), a
// 1 MB string and a 1 MB comment (one token each), fragments used a few
// times, a handful of aliases.
func TestDocumentsWithinLimitsRun(t *testing.T) {
	ts := mustServe(t, httpapi.Options{Playground: true})
	typeRef := "kind name" + strings.Repeat(" ofType { kind name", 7) + strings.Repeat(" }", 7)
	introspection := `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
		types { ...FullType } directives { name description locations args { ...InputValue } } } }
		fragment FullType on __Type { kind name description
		  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
		  inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
		  possibleTypes { ...TypeRef } }
		fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
		fragment TypeRef on __Type { ` + typeRef + ` }`
	cases := []struct {
		name, query, wantCode string
	}{
		{"GraphiQL's introspection", introspection, ""},
		{"a 1 MB string", `{ __type(name: "` + strings.Repeat("a", 1_000_000) + `") { name } }`, ""},
		{"a 1 MB comment", "# " + strings.Repeat("x", 1_000_000) + "\n{ __typename }", ""},
		{"1,000 fields", "{ " + strings.Repeat("__typename ", 1000) + "}", ""},
		{"100 aliases", aliases(100, "__typename"), ""},
		{"fragments spread a few times", "{ session { ...S } a: session { ...S } } fragment S on Session { name role }", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, "POST", ts.url+"/graphql", jsonBody(map[string]any{"query": c.query}), "Content-Type", "application/json", "Authorization", "Bearer "+ts.viewer)
			if r.status != 200 || r.code() != c.wantCode {
				t.Fatalf("%d %q, want %q: %.300s", r.status, r.code(), c.wantCode, r.raw)
			}
			if c.wantCode == "" && r.body["data"] == nil {
				t.Fatalf("no data: %.300s", r.raw)
			}
		})
	}
	// The complexity of a valid document is what it was: one per field,
	// duplicates merged.
	r := send(t, "POST", ts.url+"/graphql", jsonBody(map[string]any{"query": "{ session { name role } }", "extensions": map[string]any{"cost": true}}),
		"Content-Type", "application/json", "Authorization", "Bearer "+ts.viewer)
	cost, _ := r.body["extensions"].(map[string]any)["cost"].(map[string]any)
	if cost["complexity"] != float64(3) {
		t.Fatalf("complexity of { session { name role } }: %v (%s)", cost["complexity"], r.raw)
	}
}

// TestDocumentLimitsAreConfigurable: the bounds are Options, not constants.
func TestDocumentLimitsAreConfigurable(t *testing.T) {
	ts := mustServe(t, httpapi.Options{Limits: httpapi.Limits{MaxTokens: 50, MaxFields: 5, MaxAliases: 1, MaxFragmentSpreads: 2}})
	cases := []struct{ query, code string }{
		{"{ " + strings.Repeat("__typename ", 60) + "}", "TOKEN_LIMIT_EXCEEDED"},
		{"{ " + strings.Repeat("__typename ", 6) + "}", "FIELD_LIMIT_EXCEEDED"},
		{"{ a: __typename b: __typename }", "ALIAS_LIMIT_EXCEEDED"},
		{"{ ...F ...F ...F } fragment F on Query { __typename }", "FRAGMENT_LIMIT_EXCEEDED"},
		{"{ a: __typename ...F ...F } fragment F on Query { __typename }", ""},
	}
	for _, c := range cases {
		r := send(t, "POST", ts.url+"/graphql", jsonBody(map[string]any{"query": c.query}), "Content-Type", "application/json", "Authorization", "Bearer "+ts.viewer)
		if r.code() != c.code {
			t.Errorf("%s: %q, want %q: %.300s", c.query, r.code(), c.code, r.raw)
		}
	}
}
