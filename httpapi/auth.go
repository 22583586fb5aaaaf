package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"

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

// isWebsocket reports a websocket upgrade: browsers cannot set headers on
// those, so the token travels in the connection's init payload instead.
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// requireToken authenticates every request but websocket upgrades (checked
// by wsInit) and CORS preflights (which carry no credentials and do
// nothing); a request without a valid token gets 401 and a GraphQL-shaped
// UNAUTHENTICATED error, and never reaches a resolver.
func requireToken(auth Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		actor, err := authenticate(r.Context(), auth, r.Header.Get("Authorization"))
		if err != nil {
			writeAuthError(w, err)
			return
		}
		setActorLabel(r.Context(), actor.Name)
		next.ServeHTTP(w, r.WithContext(retention.WithActor(r.Context(), actor)))
	})
}

// writeAuthError answers like GraphQL does, so clients handle it in one
// place: {"errors":[{"message":…,"extensions":{"code":…}}],"data":null}.
func writeAuthError(w http.ResponseWriter, err error) {
	code := retention.ErrorCode(err)
	status := http.StatusUnauthorized
	switch code {
	case retention.CodeUnauthenticated:
		w.Header().Set("WWW-Authenticate", `Bearer realm="lethe"`)
	case retention.CodeForbidden:
		status = http.StatusForbidden
	default:
		// The token store failed: not the client's fault.
		status, code = http.StatusServiceUnavailable, retention.CodeInternal
	}
	msg := retention.ErrorMessage(err)
	if code == retention.CodeInternal {
		msg = "could not check the API token now; try again"
	}
	writeGraphQLError(w, status, string(code), msg)
}

func writeGraphQLError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client went away
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
		"data":   nil,
	})
}

// wsInit authenticates a websocket connection by the Authorization key of
// its connection_init payload (graphql-ws and subscriptions-transport-ws
// both send one); the connection is refused without a valid token.
func wsInit(auth Authenticator) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		header := payload.Authorization()
		if header == "" {
			// Some clients send the header name in lower case.
			if v, ok := payload["authorization"].(string); ok {
				header = v
			}
		}
		actor, err := authenticate(ctx, auth, header)
		if err != nil {
			if retention.ErrorCode(err) == retention.CodeUnauthenticated {
				return ctx, nil, errors.New("UNAUTHENTICATED: " + retention.ErrorMessage(err))
			}
			return ctx, nil, errors.New("INTERNAL: could not check the API token now")
		}
		setActorLabel(ctx, actor.Name)
		return retention.WithActor(ctx, actor), nil, nil
	}
}
