package connectors

import (
	"google.golang.org/grpc"

	"context"

	connectorpb "github.com/lethe-privacy/lethe/connectors/proto"
	"github.com/lethe-privacy/lethe/retention"
)

// Batch sizes per RPC. Callers may pass any number of subjects; the client
// splits them so no single message grows without bound. Exports are
// smaller because each subject may carry thousands of records.
const (
	exportBatch = 100
	actionBatch = 500
	visitBatch  = 1000
)

// grpcClient runs in Lethe and speaks to one plugin process. It returns raw
// gRPC errors; the Manager decides whether to relaunch and how to report.
type grpcClient struct {
	client connectorpb.ConnectorClient
}

var _ remote = (*grpcClient)(nil)

func (c *grpcClient) Configure(ctx context.Context, settings map[string]string) error {
	_, err := c.client.Configure(ctx, &connectorpb.ConfigureRequest{Settings: settings})
	return err
}

func (c *grpcClient) Describe(ctx context.Context) (retention.ConnectorInfo, error) {
	resp, err := c.client.Describe(ctx, &connectorpb.DescribeRequest{})
	if err != nil {
		return retention.ConnectorInfo{}, err
	}
	return retention.ConnectorInfo{
		Name:         resp.GetName(),
		Version:      resp.GetVersion(),
		Categories:   resp.GetCategories(),
		Capabilities: resp.GetCapabilities(),
	}, nil
}

func (c *grpcClient) Export(ctx context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error) {
	var out []retention.SubjectExport
	for start := 0; start < len(subjects); start += exportBatch {
		end := min(start+exportBatch, len(subjects))
		resp, err := c.client.Export(ctx, &connectorpb.ExportRequest{Subjects: subjectsToPB(subjects[start:end])})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExports() {
			out = append(out, exportFromPB(e))
		}
	}
	return out, nil
}

func (c *grpcClient) Anonymise(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	return c.act(ctx, actions, c.client.Anonymise)
}

func (c *grpcClient) Delete(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error) {
	return c.act(ctx, actions, c.client.Delete)
}

type actionRPC func(context.Context, *connectorpb.ActionRequest, ...grpc.CallOption) (*connectorpb.ActionResponse, error)

func (c *grpcClient) act(ctx context.Context, actions []retention.Action, rpc actionRPC) ([]retention.ActionResult, error) {
	out := make([]retention.ActionResult, 0, len(actions))
	for start := 0; start < len(actions); start += actionBatch {
		batch := actions[start:min(start+actionBatch, len(actions))]
		resp, err := rpc(ctx, &connectorpb.ActionRequest{Actions: actionsToPB(batch)})
		if err != nil {
			return nil, err
		}
		out = append(out, alignResults(batch, resp.GetResults())...)
	}
	return out, nil
}

// alignResults returns exactly one result per action, in the order of the
// actions, whatever the plugin sent: a missing result is a failure (the
// action will be retried with the same id), extra or duplicate results are
// dropped. The engine can then trust results[i] answers actions[i].
func alignResults(actions []retention.Action, got []*connectorpb.ActionResult) []retention.ActionResult {
	byID := make(map[string]retention.ActionResult, len(got))
	for _, r := range got {
		if _, dup := byID[r.GetActionId()]; !dup {
			byID[r.GetActionId()] = resultFromPB(r)
		}
	}
	out := make([]retention.ActionResult, len(actions))
	for i, a := range actions {
		r, ok := byID[a.ID]
		if !ok {
			r = retention.ActionResult{ActionID: a.ID, Outcome: retention.OutcomeFailed, Reason: "connector returned no result for this action"}
		}
		// The customer id is Lethe's, not the plugin's to change.
		r.CustomerID = a.Subject.CustomerID
		out[i] = r
	}
	return out
}

func (c *grpcClient) RecordVisits(ctx context.Context, visits []retention.VisitRecord) error {
	for start := 0; start < len(visits); start += visitBatch {
		end := min(start+visitBatch, len(visits))
		if _, err := c.client.RecordVisits(ctx, &connectorpb.RecordVisitsRequest{Visits: visitsToPB(visits[start:end])}); err != nil {
			return err
		}
	}
	return nil
}

func (c *grpcClient) Health(ctx context.Context) error {
	_, err := c.client.Health(ctx, &connectorpb.HealthRequest{})
	return err
}
