package connectors

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

func unavailable(name, why string) *retention.Error {
	return retention.Errorf(retention.CodeConnectorUnavailable, "connector %q unavailable: %s", name, why)
}

// grpcMessage is the plugin's own error message, for Lethe's log.
func grpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Code().String() + ": " + s.Message()
	}
	return err.Error()
}

// clientError turns a failed call into the CONNECTOR_UNAVAILABLE error the
// API shows. The plugin's message stays in the log: it may hold SQL or
// paths, which DESIGN.md keeps away from clients.
func clientError(name string, err error) error {
	var re *retention.Error
	if errors.As(err, &re) || errors.Is(err, sdk.ErrDocumentNotFound) {
		return err
	}
	var broke *sdk.ContractError
	if errors.As(err, &broke) {
		return brokeContract(name, broke.Problem)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return unavailable(name, "call cancelled or timed out")
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return unavailable(name, "plugin process not reachable")
	case codes.DeadlineExceeded, codes.Canceled:
		return unavailable(name, "call cancelled or timed out")
	case codes.Unimplemented:
		return unavailable(name, "the connector does not support this call")
	case codes.InvalidArgument:
		return unavailable(name, "the connector rejected the request (details in Lethe's log)")
	default:
		return unavailable(name, "the connector failed (details in Lethe's log)")
	}
}
