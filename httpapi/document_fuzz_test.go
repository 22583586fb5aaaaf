//go:build unix

package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,30}$`)

// costlyDocument builds one of the shapes that cost validation the most:
// a field repeated n times, n aliases, n × a field with a selection,
// fragments spread fan times at each of depth levels, selections nested
// depth deep, n spreads of one fragment. The field is name when it is a
// GraphQL name, else __typename.
func costlyDocument(shape uint8, n uint32, depth, fan uint8, name string) string {
	if !graphqlName.MatchString(name) {
		name = "__typename"
	}
	n %= 120_000 // a 1 MB body holds about this many short fields
	var b strings.Builder
	switch shape % 6 {
	case 0:
		b.WriteString("{ " + strings.Repeat(name+" ", int(n)) + "}")
	case 1:
		b.WriteString(aliases(int(n), name))
	case 2:
		b.WriteString("{ " + strings.Repeat("session { "+name+" } ", int(n)) + "}")
	case 3:
		spread := func(i int) string { return strings.Repeat(fmt.Sprintf("...F%d ", i), int(fan%8)+1) }
		b.WriteString("query { " + spread(1) + "}\n")
		for i := 1; i <= int(depth); i++ {
			fmt.Fprintf(&b, "fragment F%d on Query { %s}\n", i, spread(i+1))
		}
		fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", int(depth)+1, name)
	case 4:
		b.WriteString("{ " + strings.Repeat("session { ", int(depth)) + name + strings.Repeat(" }", int(depth)) + " }")
	case 5:
		b.WriteString("{ " + strings.Repeat("...F ", int(n)) + "} fragment F on Query { " + name + " }")
	}
	return b.String()
}

// FuzzGraphQLDocumentCost sends documents of repeated fields, aliases and
// nested spreads through the real handler with a viewer token: none may
// cost more than a second of CPU (this process's: the server runs in it),
// none may fail with a 5xx or INTERNAL.
func FuzzGraphQLDocumentCost(f *testing.F) {
	s := storetest.MustOpenSQLite(f)
	svc := retention.NewService(s)
	h := httpapi.NewHandler(&graph.Resolver{Service: svc, Engine: relinquish.NewEngine(s, nil), Log: quiet}, httpapi.Options{})
	token := mustToken(f, svc, "fuzz-viewer", retention.RoleViewer)
	f.Add(uint8(0), uint32(95_000), uint8(0), uint8(0), "__typename")
	f.Add(uint8(0), uint32(999), uint8(0), uint8(0), "__typename")
	f.Add(uint8(1), uint32(100), uint8(0), uint8(0), "session")
	f.Add(uint8(2), uint32(60_000), uint8(0), uint8(0), "name")
	f.Add(uint8(2), uint32(300), uint8(0), uint8(0), "name")
	f.Add(uint8(3), uint32(0), uint8(30), uint8(1), "__typename")
	f.Add(uint8(3), uint32(0), uint8(9), uint8(1), "__typename")
	f.Add(uint8(3), uint32(0), uint8(200), uint8(7), "__typename")
	f.Add(uint8(4), uint32(0), uint8(250), uint8(0), "name")
	f.Add(uint8(5), uint32(199), uint8(0), uint8(0), "__typename")
	f.Fuzz(func(t *testing.T, shape uint8, n uint32, depth, fan uint8, name string) {
		body := jsonBody(map[string]any{"query": costlyDocument(shape, n, depth, fan, name)})
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		before := cpuTime(t)
		h.ServeHTTP(rec, req)
		if used := cpuTime(t) - before; used > time.Second {
			t.Fatalf("shape %d n %d depth %d fan %d: %v of CPU (%d bytes): %.200s", shape%6, n, depth, fan, used, len(body), rec.Body)
		}
		if rec.Code >= 500 || strings.Contains(rec.Body.String(), `"INTERNAL"`) {
			t.Fatalf("shape %d n %d depth %d: %d %.300s", shape%6, n, depth, rec.Code, rec.Body)
		}
	})
}
