package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/lethe-privacy/lethe/retention"
)

// errorWriter answers a refusal: /graphql in GraphQL's shape, every other
// route in the one shape of WriteError. Both carry the same codes.
type errorWriter func(w http.ResponseWriter, status int, code, msg string)

// WriteError is the one error shape of every route that is not GraphQL
// (/export, unknown routes):
//
//	{"error": {"code": "NOT_FOUND", "message": "no customer cus_…"}}
//
// The codes are those of GraphQL's extensions.code.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client went away
		"error": map[string]string{"code": code, "message": msg},
	})
}

// writeGraphQLError answers a request to /graphql refused before GraphQL
// saw it, as GraphQL answers: {"errors":[{"message":…,"extensions":{"code":…}}]}
// (no "data": nothing ran).
func writeGraphQLError(w http.ResponseWriter, status int, code, msg string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client went away
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// statusOf is the HTTP status of a domain error code.
var statusOf = map[retention.Code]int{
	retention.CodeBadUserInput:         http.StatusBadRequest,
	retention.CodeNotFound:             http.StatusNotFound,
	retention.CodeFutureAppointment:    http.StatusConflict,
	retention.CodeLegalHold:            http.StatusConflict,
	retention.CodeConflict:             http.StatusConflict,
	retention.CodeUnauthenticated:      http.StatusUnauthorized,
	retention.CodeForbidden:            http.StatusForbidden,
	retention.CodeConnectorUnavailable: http.StatusServiceUnavailable,
	retention.CodeUnavailable:          http.StatusServiceUnavailable,
}

// writeDomainError answers a use case's error with its code; anything
// that is not a domain error is logged and answered INTERNAL without
// detail.
func writeDomainError(w http.ResponseWriter, write errorWriter, err error, log *slog.Logger, r *http.Request) {
	code := retention.ErrorCode(err)
	status, ok := statusOf[code]
	msg := retention.ErrorMessage(err)
	if !ok {
		status, code, msg = http.StatusInternalServerError, retention.CodeInternal, "internal error; the server log has the details"
		log.ErrorContext(r.Context(), "request failed", "route", route(r), "err", err)
	}
	if code == retention.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lethe"`)
	}
	write(w, status, string(code), msg)
}
