//go:build unix

package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/httpapi"
	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// unbounded are limits high enough to be none: the server as it was
// before the document limits, the baseline of the benchmarks.
var unbounded = httpapi.Limits{MaxTokens: 1 << 30, MaxFields: 1 << 30, MaxAliases: 1 << 30, MaxFragmentSpreads: 1 << 30}

func benchHandler(b *testing.B, limits httpapi.Limits) (http.Handler, string) {
	s := storetest.MustOpenSQLite(b)
	svc := retention.NewService(s)
	h := httpapi.NewHandler(&graph.Resolver{Service: svc, Engine: relinquish.NewEngine(s, nil), Log: quiet}, httpapi.Options{Limits: limits})
	return h, mustToken(b, svc, "bench-viewer", retention.RoleViewer)
}

func serveQuery(h http.Handler, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkDocumentBombs: the CPU a bomb costs, with the default limits
// and, for documents small enough to finish, without any (the server
// before the limits); cpu-ms/op is this process's CPU time per request.
//
//	go test -run XXX -bench DocumentBombs -benchtime 3x ./httpapi
func BenchmarkDocumentBombs(b *testing.B) {
	scaled := []struct{ name, query string }{
		{"5,000 __typename", "{ " + strings.Repeat("__typename ", 5000) + "}"},
		{"2,000 session { name }", "{ " + strings.Repeat("session { name } ", 2000) + "}"},
		{"14 levels of doubled spreads", doubledFragments(14)},
	}
	for _, limits := range []struct {
		name   string
		limits httpapi.Limits
	}{{"unbounded", unbounded}, {"bounded", httpapi.Limits{}}} {
		h, token := benchHandler(b, limits.limits)
		for _, q := range scaled {
			b.Run(limits.name+"/"+q.name, func(b *testing.B) { benchQuery(b, h, token, q.query) })
		}
		if limits.name == "bounded" {
			for _, q := range bombs {
				b.Run("bounded/"+q.name, func(b *testing.B) { benchQuery(b, h, token, q.query) })
			}
		}
	}
}

func benchQuery(b *testing.B, h http.Handler, token, query string) {
	body := jsonBody(map[string]any{"query": query})
	before := cpuTime(b)
	for b.Loop() {
		if rec := serveQuery(h, token, body); rec.Code != 200 {
			b.Fatalf("%d %.200s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkProbeUnderBombs: the latency of a small query while four
// clients send the 1 MB bombs without pause, against the same query on an
// idle server in the same run (p99-ms of each; the bound is 50 ms
// under bombs).
//
//	go test -run XXX -bench ProbeUnderBombs -benchtime 2000x ./httpapi
func BenchmarkProbeUnderBombs(b *testing.B) {
	h, token := benchHandler(b, httpapi.Limits{})
	probe := jsonBody(map[string]any{"query": "{ session { name role } }"})
	for _, attackers := range []int{0, 4} {
		b.Run(map[int]string{0: "idle", 4: "four bombers"}[attackers], func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i := range attackers {
				body := jsonBody(map[string]any{"query": bombs[i%3].query})
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
							serveQuery(h, token, body)
						}
					}
				})
			}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if rec := serveQuery(h, token, probe); rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				took = append(took, time.Since(start))
			}
			close(stop)
			wg.Wait()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
