package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

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
}

// NewHTTPHandler serves GraphQL at /graphql (POST, GET, websocket), the
// playground at /, customer exports at /export/{id}, /healthz, /readyz and
// /metrics. Every request gets a request id and an access log line;
// /graphql and /export need an API token.
func NewHTTPHandler(r *Resolver, opts Options) http.Handler {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	auth := opts.Auth
	if auth == nil {
		auth = r.Service
	}
	limits := opts.Limits.withDefaults()
	srv := handler.New(NewSchema(r))
	srv.AddTransport(transport.Websocket{
		// The default implementation refuses cross-origin browser
		// connections; the playground is served from this host.
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc:              wsInit(auth),
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Playground {
		srv.Use(extension.Introspection{})
	}
	srv.Use(depthLimit{max: limits.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(limits.MaxComplexity))
	srv.Use(operationMetrics{obs: opts.Observer})
	srv.AroundOperations(withLoaders(r.Service))
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))

	mux := http.NewServeMux()
	mux.Handle("/graphql", limitRequest(limits, requireToken(auth, srv)))
	mux.Handle("GET /export/{id}", limitRequest(limits, requireToken(auth, http.HandlerFunc(r.serveExport))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`)) //nolint:errcheck
	})
	mux.HandleFunc("GET /readyz", readyz(opts.Ready, r.Log))
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	if opts.Playground {
		mux.Handle("GET /{$}", playground.Handler("Lethe", "/graphql"))
	}
	return observe(r.Log, opts.Observer, mux)
}

// NewSchema is the executable schema with its directives (@hasRole) and
// complexity weights: what the HTTP handler serves, and what tests walk.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{
		Resolvers:  r,
		Directives: DirectiveRoot{HasRole: hasRole},
		Complexity: complexity(),
	})
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
func (r *Resolver) serveExport(w http.ResponseWriter, req *http.Request) {
	// The same rule as exportCustomer's @hasRole.
	if err := RequireRole(req.Context(), retention.RoleOperator); err != nil {
		writeAuthError(w, err)
		return
	}
	export, err := r.Service.ExportCustomer(req.Context(), req.PathValue("id"))
	if err != nil {
		code := retention.ErrorCode(err)
		status := map[retention.Code]int{
			retention.CodeNotFound: http.StatusNotFound, retention.CodeBadUserInput: http.StatusBadRequest,
			retention.CodeConnectorUnavailable: http.StatusServiceUnavailable,
			retention.CodeUnauthenticated:      http.StatusUnauthorized, retention.CodeForbidden: http.StatusForbidden,
		}[code]
		msg := retention.ErrorMessage(err)
		if status == 0 {
			status = http.StatusInternalServerError
			r.Log.ErrorContext(req.Context(), "export failed", "err", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": string(code), "message": msg}}) //nolint:errcheck
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// The file name holds only [A-Za-z0-9_-] and ".json": safe to quote.
	w.Header().Set("Content-Disposition", `attachment; filename="`+export.FileName+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(export.Data) //nolint:errcheck
}
