package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// cors lets browser apps of the listed origins call the API: the origin
// is echoed in Access-Control-Allow-Origin (never "*": requests carry a
// token), and preflights are answered here, before authentication, since
// browsers send them without credentials. Without origins it adds nothing
// and a browser on another origin is refused, as before. Websockets check
// the same list when they upgrade (see graphqlWS).
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !allowedOrigin(origins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Content-Disposition")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedOrigin compares origins as browsers send them: scheme, host and
// port, case-insensitively, without a trailing slash.
func allowedOrigin(origins []string, origin string) bool {
	origin = strings.ToLower(strings.TrimSuffix(origin, "/"))
	return slices.ContainsFunc(origins, func(o string) bool {
		return strings.ToLower(strings.TrimSuffix(o, "/")) == origin
	})
}
