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
	return infoFrom(c.client.Describe(ctx, &pbv1.DescribeRequest{}))
}

func (c *grpcClientV1) Export(ctx context.Context, subjects []Subject) ([]SubjectExport, error) {
	return inBatches(subjects, exportBatch, func(batch []Subject) ([]SubjectExport, error) {
		resp, err := c.client.Export(ctx, &pbv1.ExportRequest{Subjects: mapped(batch, subjectToV1)})
		return mapped(resp.GetExports(), func(e *pbv1.SubjectExport) SubjectExport {
			return SubjectExport{CustomerID: e.GetCustomerId(), Data: e.GetDataJson()}
		}), err
	})
}

func (c *grpcClientV1) Anonymise(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Anonymise)
}

func (c *grpcClientV1) Delete(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Delete)
}

type actionRPCV1 func(context.Context, *pbv1.ActionRequest, ...grpc.CallOption) (*pbv1.ActionResponse, error)

func (c *grpcClientV1) act(ctx context.Context, actions []Action, rpc actionRPCV1) ([]ActionResult, error) {
	return inBatches(actions, actionBatch, func(batch []Action) ([]ActionResult, error) {
		resp, err := rpc(ctx, &pbv1.ActionRequest{Actions: mapped(batch, func(a Action) *pbv1.Action {
			return &pbv1.Action{Id: a.ID, Subject: subjectToV1(a.Subject), Categories: a.Categories}
		})})
		if err != nil {
			return nil, err
		}
		return alignResults(actionKeys(batch), mapped(resp.GetResults(), func(r *pbv1.ActionResult) ActionResult {
			return result(r.GetActionId(), r.GetCustomerId(), outcomeFromNumber(int32(r.GetOutcome())), r.GetReason(), r.GetRecords())
		}))
	})
}

func (c *grpcClientV1) AnonymiseFields(context.Context, []FieldAction) ([]ActionResult, error) {
	return nil, status.Error(codes.Unimplemented, "connector speaks protocol 1, which has no field-level anonymise")
}

func (c *grpcClientV1) ReadDocument(context.Context, string, string) (io.ReadCloser, error) {
	return nil, status.Error(codes.Unimplemented, "connector speaks protocol 1, which has no documents")
}

func (c *grpcClientV1) RecordVisits(ctx context.Context, visits []VisitRecord) error {
	_, err := inBatches(visits, visitBatch, func(batch []VisitRecord) ([]struct{}, error) {
		_, err := c.client.RecordVisits(ctx, &pbv1.RecordVisitsRequest{Visits: mapped(batch, func(v VisitRecord) *pbv1.Visit {
			w := visitToPB(v)
			return &pbv1.Visit{VisitId: w.VisitId, CustomerId: w.CustomerId, Branch: w.Branch, Service: w.Service,
				StartedAt: w.StartedAt, EndedAt: w.EndedAt, CustomFields: w.CustomFields}
		})})
		return nil, err
	})
	return err
}

func (c *grpcClientV1) Health(ctx context.Context) error {
	_, err := c.client.Health(ctx, &pbv1.HealthRequest{})
	return err
}

func subjectToV1(s Subject) *pbv1.Subject {
	return &pbv1.Subject{CustomerId: s.CustomerID, FirstName: s.FirstName, LastName: s.LastName,
		Email: s.Email, Phone: s.Phone}
}
