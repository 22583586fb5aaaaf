package sdk

import (
	"context"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pbv1 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v1"
)

// grpcClientV1 speaks protocol 1 to a plugin built with the first SDK. The
// calls protocol 1 has map one to one; exports carry no documents, and the
// calls it lacks (AnonymiseFields, ReadDocument) answer UNIMPLEMENTED, which
// the host reports instead of skipping anything.
type grpcClientV1 struct {
	client pbv1.ConnectorClient
}

var _ Client = (*grpcClientV1)(nil)

func (c *grpcClientV1) Protocol() int { return 1 }

func (c *grpcClientV1) Configure(ctx context.Context, settings map[string]string) error {
	_, err := c.client.Configure(ctx, &pbv1.ConfigureRequest{Settings: settings})
	return err
}

func (c *grpcClientV1) Describe(ctx context.Context) (Info, error) {
	resp, err := c.client.Describe(ctx, &pbv1.DescribeRequest{})
	if err != nil {
		return Info{}, err
	}
	return Info{Name: resp.GetName(), Version: resp.GetVersion(), Categories: resp.GetCategories(), Capabilities: resp.GetCapabilities()}, nil
}

func (c *grpcClientV1) Export(ctx context.Context, subjects []Subject) ([]SubjectExport, error) {
	var out []SubjectExport
	for start := 0; start < len(subjects); start += exportBatch {
		end := min(start+exportBatch, len(subjects))
		resp, err := c.client.Export(ctx, &pbv1.ExportRequest{Subjects: subjectsToV1(subjects[start:end])})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExports() {
			out = append(out, SubjectExport{CustomerID: e.GetCustomerId(), Data: e.GetDataJson()})
		}
	}
	return out, nil
}

func (c *grpcClientV1) Anonymise(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Anonymise)
}

func (c *grpcClientV1) Delete(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Delete)
}

type actionRPCV1 func(context.Context, *pbv1.ActionRequest, ...grpc.CallOption) (*pbv1.ActionResponse, error)

func (c *grpcClientV1) act(ctx context.Context, actions []Action, rpc actionRPCV1) ([]ActionResult, error) {
	out := make([]ActionResult, 0, len(actions))
	for start := 0; start < len(actions); start += actionBatch {
		batch := actions[start:min(start+actionBatch, len(actions))]
		pb := make([]*pbv1.Action, len(batch))
		for i, a := range batch {
			pb[i] = &pbv1.Action{Id: a.ID, Subject: subjectToV1(a.Subject), Categories: a.Categories}
		}
		resp, err := rpc(ctx, &pbv1.ActionRequest{Actions: pb})
		if err != nil {
			return nil, err
		}
		got := make([]ActionResult, len(resp.GetResults()))
		for i, r := range resp.GetResults() {
			got[i] = result(r.GetActionId(), r.GetCustomerId(), outcomeFromNumber(int32(r.GetOutcome())), r.GetReason(), r.GetRecords())
		}
		results, err := alignResults(actionKeys(batch), got)
		if err != nil {
			return nil, err
		}
		out = append(out, results...)
	}
	return out, nil
}

func (c *grpcClientV1) AnonymiseFields(context.Context, []FieldAction) ([]ActionResult, error) {
	return nil, status.Error(codes.Unimplemented, "connector speaks protocol 1, which has no field-level anonymise")
}

func (c *grpcClientV1) ReadDocument(context.Context, string, string) (io.ReadCloser, error) {
	return nil, status.Error(codes.Unimplemented, "connector speaks protocol 1, which has no documents")
}

func (c *grpcClientV1) RecordVisits(ctx context.Context, visits []VisitRecord) error {
	for start := 0; start < len(visits); start += visitBatch {
		batch := visits[start:min(start+visitBatch, len(visits))]
		pb := make([]*pbv1.Visit, len(batch))
		for i, v := range batch {
			w := visitToPB(v)
			pb[i] = &pbv1.Visit{VisitId: w.VisitId, CustomerId: w.CustomerId, Branch: w.Branch, Service: w.Service,
				StartedAt: w.StartedAt, EndedAt: w.EndedAt, CustomFields: w.CustomFields}
		}
		if _, err := c.client.RecordVisits(ctx, &pbv1.RecordVisitsRequest{Visits: pb}); err != nil {
			return err
		}
	}
	return nil
}

func (c *grpcClientV1) Health(ctx context.Context) error {
	_, err := c.client.Health(ctx, &pbv1.HealthRequest{})
	return err
}

func subjectToV1(s Subject) *pbv1.Subject {
	return &pbv1.Subject{CustomerId: s.CustomerID, FirstName: s.FirstName, LastName: s.LastName,
		Email: s.Email, Phone: s.Phone}
}

func subjectsToV1(ss []Subject) []*pbv1.Subject {
	out := make([]*pbv1.Subject, len(ss))
	for i, s := range ss {
		out[i] = subjectToV1(s)
	}
	return out
}
