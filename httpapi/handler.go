package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/lethe-privacy/lethe/console"
	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/exportzip"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/retention"
)

// Options configures the HTTP API.
type Options struct {
	// Playground serves the GraphQL playground at / and allows
	// introspection; production deployments turn it off.
	Playground bool
	// Auth checks API tokens; default the resolver's Service.
	Auth Authenticator
	// Limits bound every request; zero values take the defaults.
	Limits Limits
	// Observer measures requests and operations (nil: not measured).
	Observer Observer
	// Metrics, when set, is served at /metrics (without a token: scrapers
	// rarely carry one, and no metric holds personal data or ids).
	Metrics http.Handler
	// Ready reports whether the database and the connectors can be
	// reached, for /readyz; nil means always ready.
	Ready func(ctx context.Context) map[string]error
	// CORSOrigins lists the origins ("https://console.example.com") of
	// browser apps served elsewhere that may call the API, over HTTP and
	// websocket; empty (the default) allows none but this server's own.
	CORSOrigins []string
	// PersistedQueries bounds how many automatic persisted queries are
	// remembered (least recently used go first; default 1000).
	PersistedQueries int
	// WebsocketInitTimeout is how long a websocket may wait before its
	// connection_init (default 10s); WebsocketPing how often the server
	// pings an idle one (default 15s).
	WebsocketInitTimeout, WebsocketPing time.Duration
	// WebsocketAuthCheck is how often an open websocket's token is read
	// again, so that a revoked token's idle connection is closed (default
	// retention.DefaultCacheTTL, 1s); every operation is checked anyway.
	WebsocketAuthCheck time.Duration
	// Documents streams connectors' documents into zip exports
	// (/export/{id}?format=zip); nil answers that format with 400.
	Documents exportzip.DocumentReader
	// Evidence builds evidence packs for /evidence (admins); nil answers
	// that route with 404.
	Evidence *evidence.Sources
}

// server holds what the routes need.
type server struct {
	opts    Options
	limits  Limits
	auth    Authenticator
	svc     *retention.Service
	log     *slog.Logger
	graphql http.Handler
}

// NewHandler serves GraphQL at /graphql (POST, GET, websocket), the
// console at /console/, the playground at /, customer exports at /export/{id}, /healthz, /readyz and
// /metrics. Every request gets a request id and an access log line;
// /graphql and /export need an API token.
func NewHandler(r *graph.Resolver, opts Options) http.Handler {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	s := &server{opts: opts, limits: opts.Limits.withDefaults(), auth: opts.Auth, svc: r.Service, log: r.Log}
	if s.auth == nil {
		s.auth = r.Service
	}
	s.graphql = s.newGraphQL(r)
	mux := http.NewServeMux()
	s.routes(mux)
	return observe(s.log, opts.Observer, cors(opts.CORSOrigins, mux))
}

// routes is the one place where the server's routes are registered.
func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("/graphql", limitRequest(s.limits, writeGraphQLError, requireToken(s.auth, writeGraphQLError, s.graphql)))
	mux.Handle("/export/{id}", limitRequest(s.limits, WriteError, requireToken(s.auth, WriteError, onlyGet(s.serveExport))))
	mux.Handle("/evidence", limitRequest(s.limits, WriteError, requireToken(s.auth, WriteError, onlyGet(s.serveEvidence))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`)) //nolint:errcheck
	})
	mux.HandleFunc("GET /readyz", readyz(s.opts.Ready, s.log))
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.opts.Metrics)
	}
	mux.Handle(console.Path, console.Handler())
	if s.opts.Playground {
		mux.Handle("GET /{$}", console.Playground())
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, string(retention.CodeNotFound), "no such route: the API is at /graphql")
	})
}

// newGraphQL is the GraphQL handler: transports, limits, persisted
// queries, input validation, error presentation.
func (s *server) newGraphQL(r *graph.Resolver) http.Handler {
	srv := handler.New(graph.NewSchema(r))
	// Not gqlgen's transport.Websocket (v0.17.98): it closes an init timeout, a bad message, a subscribe before the ack and a second init with 1002 (not 4408/4400/4401/4429), has no 4409 for a reused id, serves the legacy subprotocol, and can end a revoked token's socket only with 1000 (graphql-ws retries that at once).
	srv.AddTransport(graphqlWS{
		auth:        s.auth,
		origins:     s.opts.CORSOrigins,
		initTimeout: cmp.Or(s.opts.WebsocketInitTimeout, 10*time.Second),
		ping:        cmp.Or(s.opts.WebsocketPing, 15*time.Second),
		authCheck:   cmp.Or(s.opts.WebsocketAuthCheck, retention.DefaultCacheTTL),
		log:         s.log,
	})
	// Not gqlgen's transport.GET/POST (v0.17.98): they answer parse and validation errors 422 under application/json and with "data": null, refuse a wrong media type, method or Accept without a code, and store invalid UTF-8 as U+FFFD (TestStatusByMediaType, TestRefusalsHaveCodes, TestInvalidUnicodeRefused fail with them).
	srv.AddTransport(overHTTP{})
	validated := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(validated)
	// gqlgen's own bound (CVE-2023-49559); documentLimit refuses first,
	// with a code of its own, and bounds what the parser cannot count.
	srv.SetParserTokenLimit(s.limits.MaxTokens)
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](cmp.Or(s.opts.PersistedQueries, 1000))})
	srv.Use(documentLimit{limits: s.limits, validated: validated})
	if s.opts.Playground {
		srv.Use(extension.Introspection{})
	}
	srv.Use(&graph.InputValidation{})
	srv.Use(depthLimit{max: s.limits.MaxDepth})
	srv.Use(&complexityLimit{max: s.limits.MaxComplexity})
	srv.Use(operationMetrics{obs: s.opts.Observer})
	srv.AroundOperations(graph.WithLoaders(r.Service))
	srv.SetErrorPresenter(graph.PresentError(s.log))
	srv.SetRecoverFunc(graph.RecoverPanic(s.log))
	return srv
}

// onlyGet answers other methods 405 in the error shape of the routes that
// are not GraphQL.
func onlyGet(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use GET")
			return
		}
		next(w, r)
	}
}

// readyz answers 200 when every check passes, else 503, with each check's
// state; details of a failure go to the log, not to the unauthenticated
// caller.
func readyz(ready func(ctx context.Context) map[string]error, log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		checks := map[string]string{}
		status := http.StatusOK
		if ready != nil {
			ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
			defer cancel()
			for name, err := range ready(ctx) {
				if err != nil {
					checks[name] = "unavailable"
					if retention.ErrorCode(err) == retention.CodeUnavailable {
						checks[name] = retention.ErrorMessage(err) // "storage is full: …"
					}
					status = http.StatusServiceUnavailable
					log.WarnContext(req.Context(), "not ready", "check", name, "err", err)
				} else {
					checks[name] = "ok"
				}
			}
		}
		state := "ok"
		if status != http.StatusOK {
			state = "unavailable"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"status": state, "checks": checks}) //nolint:errcheck
	}
}

// serveExport answers the same document as exportCustomer, as a download.
func (s *server) serveExport(w http.ResponseWriter, req *http.Request) {
	// The same rule as exportCustomer's @hasRole.
	if err := graph.RequireRole(req.Context(), retention.RoleOperator); err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	id := req.PathValue("id")
	if err := retention.CheckArgument("id", id); err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	format := req.URL.Query().Get("format")
	if format != "" && format != "json" && (format != "zip" || s.opts.Documents == nil) {
		writeDomainError(w, WriteError, retention.Errorf(retention.CodeBadUserInput, "format %q is not offered: use json (the default) or zip", format), s.log, req)
		return
	}
	export, err := s.svc.ExportCustomer(req.Context(), id)
	if err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	if format == "zip" {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+exportzip.FileName(export)+`"`)
		w.Header().Set("Cache-Control", "no-store")
		err := exportzip.Write(req.Context(), w, export, s.opts.Documents)
		var notStarted *exportzip.NotStartedError
		if errors.As(err, &notStarted) {
			// Nothing written yet: a clear error instead of a broken download.
			w.Header().Del("Content-Disposition")
			writeDomainError(w, WriteError, notStarted.Err, s.log, req)
		} else if err != nil {
			// The archive is left without its directory, so it does not
			// open as if complete.
			s.log.ErrorContext(req.Context(), "zip export failed", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// The file name holds only [A-Za-z0-9_-] and ".json": safe to quote.
	w.Header().Set("Content-Disposition", `attachment; filename="`+export.FileName+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(export.Data) //nolint:errcheck
}
