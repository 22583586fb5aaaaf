package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lethe-privacy/lethe/retention"
)

// Codes of the API edge, in extensions.code, beside retention's codes.
const (
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's own
	CodeBodyTooLarge    = "REQUEST_TOO_LARGE"
	// Bounds of a document, checked before validation (httpapi.Limits).
	CodeTokenLimit    = "TOKEN_LIMIT_EXCEEDED"
	CodeFieldLimit    = "FIELD_LIMIT_EXCEEDED"
	CodeAliasLimit    = "ALIAS_LIMIT_EXCEEDED"
	CodeFragmentLimit = "FRAGMENT_LIMIT_EXCEEDED"
	CodeTimeout       = "TIMEOUT"
	// CodeIntrospectionDisabled answers __schema and __type when the
	// playground (and with it introspection) is off.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

// PresentError gives every error an extensions.code. Domain errors keep
// their message; anything else is logged and answered as INTERNAL without
// detail, so that no SQL or stack reaches a client.
func PresentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var domain *retention.Error
		if errors.As(err, &domain) {
			gqlErr.Message = domain.Message
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			gqlErr.Extensions["code"] = string(domain.Code)
			if domain.Field != "" {
				gqlErr.Extensions["field"] = domain.Field
			}
			for k, v := range domain.Details {
				if k != "code" && k != "field" {
					gqlErr.Extensions[k] = v
				}
			}
			return gqlErr
		}
		if _, ok := gqlErr.Extensions["code"]; ok {
			return gqlErr // parse, validation and limit errors of gqlgen keep their code
		}
		if gqlErr.Message == "introspection disabled" {
			gqlErr.Message = "introspection is turned off on this server (serve --playground=false)"
			gqlErr.Extensions = map[string]any{"code": CodeIntrospectionDisabled}
			return gqlErr
		}
		if errors.Is(err, context.DeadlineExceeded) {
			gqlErr.Message = "the request took too long and was stopped; ask for less at once"
			gqlErr.Extensions = map[string]any{"code": CodeTimeout}
			return gqlErr
		}
		if strings.HasPrefix(gqlErr.Message, "json request body could not be decoded") {
			// gqlgen repeats the whole body after "body:"; the client has it.
			msg, _, _ := strings.Cut(gqlErr.Message, " body:")
			gqlErr.Message = msg + `; send {"query": "...", "variables": {...}} as JSON`
			gqlErr.Extensions = map[string]any{"code": string(retention.CodeBadUserInput)}
			return gqlErr
		}
		var inner *gqlerror.Error
		if errors.As(err, &inner) && inner.Err == nil && inner.Message != "" {
			// gqlgen's own input errors (unknown enum value, wrong type):
			// the client's fault, with a message written for it.
			gqlErr.Extensions = map[string]any{"code": string(retention.CodeBadUserInput)}
			return gqlErr
		}
		log.ErrorContext(ctx, "request failed", "path", gqlErr.Path.String(), "err", err)
		gqlErr.Message = "internal error; the server log has the details"
		gqlErr.Extensions = map[string]any{"code": string(retention.CodeInternal)}
		return gqlErr
	}
}

// RecoverPanic turns a panic into an INTERNAL error: a panic is a bug, and
// it is logged as one, but one bad request must not take the server down.
func RecoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p))
		return &retention.Error{Code: retention.CodeInternal, Message: "internal error; the server log has the details"}
	}
}
