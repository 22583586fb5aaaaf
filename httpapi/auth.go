package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/lethe-privacy/lethe/retention"
)

// Authenticator turns a presented API token into an actor
// (retention.Service does, against the stored hashes).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (retention.Actor, error)
}

// bearer extracts the token of an Authorization header value.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate resolves the Authorization header value into an actor.
func authenticate(ctx context.Context, auth Authenticator, header string) (retention.Actor, error) {
	if header == "" {
		return retention.Actor{}, retention.Errorf(retention.CodeUnauthenticated, "no API token: send the header Authorization: Bearer <token> (lethe token create)")
	}
	token, ok := bearer(header)
	if !ok {
		return retention.Actor{}, retention.Errorf(retention.CodeUnauthenticated, "the Authorization header must be: Bearer <token>")
	}
	return auth.Authenticate(ctx, token)
}

// currentAuthenticator reads a token's current state, uncached
// (retention.Service does): what a long-lived connection checks each of
// its operations against.
type currentAuthenticator interface {
	AuthenticateNow(ctx context.Context, token string) (retention.Actor, error)
}

type authFunc func(ctx context.Context, token string) (retention.Actor, error)

func (f authFunc) Authenticate(ctx context.Context, token string) (retention.Actor, error) {
	return f(ctx, token)
}

// authenticateNow is authenticate against the token's current state when
// the Authenticator can read it, else as authenticate.
func authenticateNow(ctx context.Context, auth Authenticator, header string) (retention.Actor, error) {
	if now, ok := auth.(currentAuthenticator); ok {
		return authenticate(ctx, authFunc(now.AuthenticateNow), header)
	}
	return authenticate(ctx, auth, header)
}

// isWebsocket reports a websocket upgrade: browsers cannot set headers on
// those, so the token travels in the connection's init payload instead.
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// requireToken authenticates every request but websocket upgrades
// (authenticated by their connection_init) and CORS preflights (which
// carry no credentials and do nothing); a request without a valid token
// gets 401 and UNAUTHENTICATED in the route's error shape, and never
// reaches a resolver.
func requireToken(auth Authenticator, write errorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		actor, err := authenticate(r.Context(), auth, r.Header.Get("Authorization"))
		if err != nil {
			writeAuthError(w, write, err)
			return
		}
		setActorLabel(r.Context(), actor.Name)
		next.ServeHTTP(w, r.WithContext(retention.WithActor(r.Context(), actor)))
	})
}

// writeAuthError answers a refused token: 401 UNAUTHENTICATED, or 503
// INTERNAL when the token store failed (not the client's fault).
func writeAuthError(w http.ResponseWriter, write errorWriter, err error) {
	code := retention.ErrorCode(err)
	status := http.StatusUnauthorized
	msg := retention.ErrorMessage(err)
	switch code {
	case retention.CodeUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="lethe"`)
	case retention.CodeForbidden:
		status = http.StatusForbidden
	default:
		status, code, msg = http.StatusServiceUnavailable, retention.CodeInternal, "could not check the API token now; try again"
	}
	write(w, status, string(code), msg)
}
