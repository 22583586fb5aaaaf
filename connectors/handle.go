package connectors

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

func (h *handle) do(ctx context.Context, call func(remote) error) error {
	for attempt := 0; ; attempt++ {
		client, rpc, err := h.m.current(ctx)
		if err != nil {
			return err
		}
		err = call(rpc)
		if err == nil {
			return nil
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

func (h *handle) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	var info retention.ConnectorInfo
	err := h.do(ctx, func(r remote) (err error) {
		info, err = r.Describe(ctx)
		return err
	})
	info.Name = h.m.name
	return info, err
}

func (h *handle) Export(ctx context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error) {
	var out []retention.SubjectExport
	err := h.do(ctx, func(r remote) (err error) {
		out, err = r.Export(ctx, subjects)
		return err
	})
	return out, err
}

func (h *handle) Anonymise(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	var out []retention.ActionResult
	err := h.do(ctx, func(r remote) (err error) {
		out, err = r.Anonymise(ctx, actions)
		return err
	})
	return out, err
}

func (h *handle) Delete(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	var out []retention.ActionResult
	err := h.do(ctx, func(r remote) (err error) {
		out, err = r.Delete(ctx, actions)
		return err
	})
	return out, err
}

func (h *handle) RecordVisits(ctx context.Context, visits []retention.VisitRecord) error {
	return h.do(ctx, func(r remote) error { return r.RecordVisits(ctx, visits) })
}

func (h *handle) Health(ctx context.Context) error {
	return h.do(ctx, func(r remote) error { return r.Health(ctx) })
}
