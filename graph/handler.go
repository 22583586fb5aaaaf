package graph

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

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
}

// NewHTTPHandler serves GraphQL at /graphql (POST, GET, websocket), the
// playground at /, customer exports at /export/{id} and /healthz.
func NewHTTPHandler(r *Resolver, opts Options) http.Handler {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.Websocket{
		// The default implementation refuses cross-origin browser
		// connections; the playground is served from this host.
		KeepAlivePingInterval: 10 * time.Second,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Playground {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))

	mux := http.NewServeMux()
	mux.Handle("/graphql", srv)
	mux.HandleFunc("GET /export/{id}", r.serveExport)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`)) //nolint:errcheck
	})
	if opts.Playground {
		mux.Handle("GET /{$}", playground.Handler("Lethe", "/graphql"))
	}
	return mux
}

// serveExport answers the same document as exportCustomer, as a download.
func (r *Resolver) serveExport(w http.ResponseWriter, req *http.Request) {
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
