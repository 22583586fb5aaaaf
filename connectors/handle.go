package connectors

import (
	"context"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lethe-privacy/lethe/connectors/sdk"
	"github.com/lethe-privacy/lethe/retention"
)

// handle is the retention.Connector the Manager hands out. Each call goes to
// whichever process serves the connector now; when that process turns out
// to have died during the call, the handle relaunches it and repeats the
// call once. Repeating is safe because every connector call is idempotent:
// exports read, actions carry stable ids, visits carry stable visit ids.
type handle struct {
	m *managed
}

var _ retention.Connector = (*handle)(nil)

func (h *handle) do(ctx context.Context, call func(context.Context, sdk.Client) error) error {
	return h.call(ctx, h.m.callTimeout, call)
}

// call runs one call on the current process within timeout (0: none, for
// a document stream, which outlives the call that opens it and is bounded
// by its request). A process that does not answer in time is killed and
// relaunched: a frozen or stuck plugin must not hold a sweep, its lease or
// a request, and the call's caller retries as it does for any failure (a
// sweep per its backoff, with the same action ids).
func (h *handle) call(ctx context.Context, timeout time.Duration, call func(context.Context, sdk.Client) error) error {
	for attempt := 0; ; attempt++ {
		client, rpc, release, err := h.m.acquire(ctx)
		if err != nil {
			return err
		}
		callCtx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			callCtx, cancel = context.WithTimeout(ctx, timeout)
		}
		err = call(callCtx, rpc)
		release()
		timedOut := err != nil && ctx.Err() == nil && callCtx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		if timedOut {
			h.m.abandon(client, timeout)
			return retention.Errorf(retention.CodeConnectorUnavailable,
				"connector %q did not answer within %s (its call_timeout); its plugin process was killed and is relaunched", h.m.name, timeout)
		}
		// Only a broken transport can mean a dead process; any other status
		// is the plugin's own answer and is returned at once.
		if attempt == 0 && ctx.Err() == nil && status.Code(err) == codes.Unavailable && waitExited(client) {
			h.m.logger.Warn("connector process died during a call; retrying on a new process", "connector", h.m.name)
			continue
		}
		h.m.logger.Warn("connector call failed", "connector", h.m.name, "error", grpcMessage(err))
		return clientError(h.m.name, err)
	}
}

// refused logs an answer that broke the contract, when err says so.
func (h *handle) refused(err error) error {
	if err != nil {
		h.m.logger.Error("connector answer refused", "connector", h.m.name, "error", retention.ErrorMessage(err))
	}
	return err
}

func (h *handle) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	var info sdk.Info
	err := h.do(ctx, func(ctx context.Context, r sdk.Client) (err error) {
		info, err = r.Describe(ctx)
		return err
	})
	out := infoFromSDK(info)
	out.Name = h.m.name
	return out, err
}

func (h *handle) Export(ctx context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error) {
	var out []sdk.SubjectExport
	err := h.do(ctx, func(ctx context.Context, r sdk.Client) (err error) {
		out, err = r.Export(ctx, subjectsToSDK(subjects))
		return err
	})
	if err == nil {
		err = h.refused(checkExports(h.m.name, subjects, out))
	}
	if err != nil {
		return nil, err
	}
	return exportsFromSDK(out), nil
}

func (h *handle) Anonymise(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	var out []sdk.ActionResult
	err := h.do(ctx, func(ctx context.Context, r sdk.Client) (err error) {
		out, err = r.Anonymise(ctx, actionsToSDK(actions))
		return err
	})
	return resultsFromSDK(out), err
}

func (h *handle) Delete(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	var out []sdk.ActionResult
	err := h.do(ctx, func(ctx context.Context, r sdk.Client) (err error) {
		out, err = r.Delete(ctx, actionsToSDK(actions))
		return err
	})
	return resultsFromSDK(out), err
}

// AnonymiseFields answers CONNECTOR_UNAVAILABLE for a plugin that cannot
// (protocol 1, or no anonymise_fields capability): the caller must not
// count the fields as purged.
func (h *handle) AnonymiseFields(ctx context.Context, actions []retention.FieldAction) ([]retention.ActionResult, error) {
	var out []sdk.ActionResult
	err := h.do(ctx, func(ctx context.Context, r sdk.Client) (err error) {
		out, err = r.AnonymiseFields(ctx, fieldActionsToSDK(actions))
		return err
	})
	return resultsFromSDK(out), err
}

// ReadDocument opens a document the connector declared in an export of
// customerID. The caller closes it. A broken stream is not retried: the
// bytes already read cannot be taken back.
func (h *handle) ReadDocument(ctx context.Context, customerID, documentID string) (io.ReadCloser, error) {
	var out io.ReadCloser
	err := h.call(ctx, 0, func(ctx context.Context, r sdk.Client) (err error) {
		out, err = r.ReadDocument(ctx, customerID, documentID)
		if err == nil {
			// The stream is read after the call returns: a reload waits
			// for its Close before ending the process.
			out = heldStream{ReadCloser: out, release: h.m.hold(r)}
		}
		return err
	})
	return out, err
}

func (h *handle) RecordVisits(ctx context.Context, visits []retention.VisitRecord) error {
	return h.do(ctx, func(ctx context.Context, r sdk.Client) error { return r.RecordVisits(ctx, visitsToSDK(visits)) })
}

func (h *handle) Health(ctx context.Context) error {
	return h.do(ctx, func(ctx context.Context, r sdk.Client) error { return r.Health(ctx) })
}
