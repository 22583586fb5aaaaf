package retention

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients. The values are the GraphQL
// `extensions.code` strings of DESIGN.md, so the API layer maps them 1:1.
type Code string

const (
	CodeBadUserInput         Code = "BAD_USER_INPUT"
	CodeNotFound             Code = "NOT_FOUND"
	CodeFutureAppointment    Code = "FUTURE_APPOINTMENT"
	CodeUnauthenticated      Code = "UNAUTHENTICATED"
	CodeForbidden            Code = "FORBIDDEN"
	CodeConnectorUnavailable Code = "CONNECTOR_UNAVAILABLE"
	CodeLegalHold            Code = "LEGAL_HOLD"
	CodeConflict             Code = "CONFLICT"
	// CodeConfirmationRequired: the change would irreversibly purge stored
	// values; Details says how many, and repeating it with confirm does it.
	CodeConfirmationRequired Code = "CONFIRMATION_REQUIRED"
	// CodePolicyInUse: a custom policy customers are assigned cannot be
	// deleted; Details says how many customers.
	CodePolicyInUse Code = "POLICY_IN_USE"
	CodeInternal    Code = "INTERNAL"
	// CodeUnavailable: Lethe cannot do it now for a cause outside the
	// request (its storage is full); nothing was changed, and the same
	// request succeeds once the cause is fixed.
	CodeUnavailable Code = "UNAVAILABLE"
)

// Error is a failure a person can act on: Message is safe to show to a client
// (no SQL, no stack), Field names the offending input when there is one.
type Error struct {
	Code    Code
	Message string
	Field   string
	// Details are extra facts for clients (GraphQL extensions), never
	// personal data.
	Details map[string]any
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds a BAD_USER_INPUT error that names the input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, INTERNAL for anything that is not an
// *Error: unknown failures are never shown in detail.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
