package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Observer receives request and operation measurements (metrics.Metrics
// implements it). Labels are fixed route names and operation names, never
// ids, variables or query text.
type Observer interface {
	ObserveHTTP(route string, status int, took time.Duration)
	ObserveOperation(kind, name string, ok bool, took time.Duration)
}

// requestInfo travels in a request's context: the request id for every
// log line, and what the access log reports when the request ends.
type requestInfo struct {
	id string

	mu        sync.Mutex
	actor     string
	operation string
	opKind    string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// RequestID returns the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

func setActorLabel(ctx context.Context, name string) {
	if ri := infoFrom(ctx); ri != nil {
		ri.mu.Lock()
		ri.actor = name
		ri.mu.Unlock()
	}
}

// goodRequestID accepts a caller's X-Request-Id only when it is plain and
// short, so that nothing a client sends lands unchecked in the logs.
var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// route names a request for logs and metrics by its route, never its path:
// /export/{id} would put customer ids in metric labels.
func route(r *http.Request) string {
	switch p := r.URL.Path; {
	case p == "/graphql":
		return "/graphql"
	case len(p) > len("/export/") && p[:len("/export/")] == "/export/":
		return "/export"
	case p == "/healthz", p == "/readyz", p == "/metrics", p == "/":
		return p
	}
	return "other"
}

// observe gives every request an id (the caller's X-Request-Id when it is
// plain, else a new one), echoes it, and logs and measures the request
// when it ends: method, route, status, duration, actor (the token name)
// and the GraphQL operation. Never the query, variables or body.
func observe(log *slog.Logger, obs Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !goodRequestID.MatchString(id) {
			id = newRequestID()
		}
		ri := &requestInfo{id: id}
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
		took := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		rt := route(r)
		if obs != nil {
			obs.ObserveHTTP(rt, status, took)
		}
		ri.mu.Lock()
		attrs := []any{"method", r.Method, "route", rt, "status", status, "duration_ms", took.Milliseconds(), "request_id", id}
		if ri.actor != "" {
			attrs = append(attrs, "actor", ri.actor)
		}
		if ri.opKind != "" {
			attrs = append(attrs, "operation_type", ri.opKind, "operation", ri.operation)
		}
		ri.mu.Unlock()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if rt == "/healthz" || rt == "/readyz" || rt == "/metrics" {
			level = slog.LevelDebug // probes and scrapes would drown the log
		}
		// The request's own context is done; the record needs none of it.
		log.Log(context.Background(), level, "request", attrs...)
	})
}

// statusWriter remembers the status code. It keeps http.Hijacker (for
// websockets) and exposes the wrapped writer for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	w.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operationMetrics names the GraphQL operation of a request for the access
// log and measures it: count and latency by type, name and outcome.
type operationMetrics struct{ obs Observer }

var (
	_ graphql.HandlerExtension     = operationMetrics{}
	_ graphql.OperationInterceptor = operationMetrics{}
	_ graphql.ResponseInterceptor  = operationMetrics{}
)

func (operationMetrics) ExtensionName() string                   { return "OperationMetrics" }
func (operationMetrics) Validate(graphql.ExecutableSchema) error { return nil }

// opName is the operation's name: the one asked for, or the name of the
// document's only operation.
func opName(rc *graphql.OperationContext) string {
	if rc.OperationName == "" && rc.Operation != nil {
		return rc.Operation.Name
	}
	return rc.OperationName
}

func opKind(rc *graphql.OperationContext) string {
	if rc.Operation == nil {
		return "unknown"
	}
	return string(rc.Operation.Operation)
}

func (m operationMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	rc := graphql.GetOperationContext(ctx)
	if ri := infoFrom(ctx); ri != nil {
		ri.mu.Lock()
		ri.opKind, ri.operation = opKind(rc), opName(rc)
		ri.mu.Unlock()
	}
	if m.obs != nil && rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		// A subscription lives as long as its client: count its start.
		m.obs.ObserveOperation(opKind(rc), opName(rc), true, 0)
	}
	return next(ctx)
}

func (m operationMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if m.obs == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	rc := graphql.GetOperationContext(ctx)
	if rc.Operation == nil || rc.Operation.Operation == ast.Subscription {
		return resp
	}
	ok := resp != nil && len(resp.Errors) == 0
	m.obs.ObserveOperation(opKind(rc), opName(rc), ok, time.Since(rc.Stats.OperationStart))
	return resp
}

// LogHandler adds the request id of a record's context to every record, so
// that the service's and resolvers' log lines can be tied to a request.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
