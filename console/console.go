// Package console serves Lethe's admin console and GraphQL playground: static
// files embedded into the binary, so that nothing is fetched from the
// internet at run time. Both are plain frontends of /graphql: no endpoint
// of their own. The console has no build step (ES modules and CSS as
// written); the playground is GraphiQL, bundled from npm into
// static/graphiql by `make graphiql` and committed.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Path is where the console is mounted.
const Path = "/console/"

// securityHeaders allow only this origin's own files: no inline script or
// style, no outside origin, no framing. connect-src 'self' covers the
// websocket of subscriptions in current browsers.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
	"X-Content-Type-Options": "nosniff",
	"Cache-Control":          "no-cache",
}

func static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Handler serves the console under Path, with its security headers.
func Handler() http.Handler {
	fileServer := http.StripPrefix(Path, http.FileServerFS(static()))
	return withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Directory listings show nothing useful; the console is one page.
		if strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		fileServer.ServeHTTP(w, r)
	}))
}

// Playground serves the GraphQL playground page (mount it at /); its script
// and style come from the console's files.
func Playground() http.Handler {
	return withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static(), "playground.html")
	}))
}

func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		next.ServeHTTP(w, r)
	})
}
