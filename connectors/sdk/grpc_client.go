package sdk

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// Batch sizes per RPC. Callers may pass any number of subjects; the client
// splits them so no single message grows without bound. Exports are
// smaller because each subject may carry thousands of records.
const (
	exportBatch = 100
	actionBatch = 500
	visitBatch  = 1000
)

// grpcClient runs in the host and speaks protocol 2 to one plugin process.
// It returns raw gRPC errors; the host decides whether to relaunch and how
// to report.
type grpcClient struct {
	client pbv2.ConnectorClient
}

var _ Client = (*grpcClient)(nil)

func (c *grpcClient) Protocol() int { return 2 }

func (c *grpcClient) Configure(ctx context.Context, settings map[string]string) error {
	_, err := c.client.Configure(ctx, &pbv2.ConfigureRequest{Settings: settings})
	return err
}

func (c *grpcClient) Describe(ctx context.Context) (Info, error) {
	return infoFrom(c.client.Describe(ctx, &pbv2.DescribeRequest{}))
}

func (c *grpcClient) Export(ctx context.Context, subjects []Subject) ([]SubjectExport, error) {
	return inBatches(subjects, exportBatch, func(batch []Subject) ([]SubjectExport, error) {
		resp, err := c.client.Export(ctx, &pbv2.ExportRequest{Subjects: subjectsToPB(batch)})
		return mapped(resp.GetExports(), exportFromPB), err
	})
}

func (c *grpcClient) Anonymise(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Anonymise)
}

func (c *grpcClient) Delete(ctx context.Context, actions []Action) ([]ActionResult, error) {
	return c.act(ctx, actions, c.client.Delete)
}

type actionRPC func(context.Context, *pbv2.ActionRequest, ...grpc.CallOption) (*pbv2.ActionResponse, error)

func (c *grpcClient) act(ctx context.Context, actions []Action, rpc actionRPC) ([]ActionResult, error) {
	return inBatches(actions, actionBatch, func(batch []Action) ([]ActionResult, error) {
		resp, err := rpc(ctx, &pbv2.ActionRequest{Actions: actionsToPB(batch)})
		if err != nil {
			return nil, err
		}
		return alignResults(actionKeys(batch), resultsFromPB(resp.GetResults()))
	})
}

func (c *grpcClient) AnonymiseFields(ctx context.Context, actions []FieldAction) ([]ActionResult, error) {
	return inBatches(actions, actionBatch, func(batch []FieldAction) ([]ActionResult, error) {
		resp, err := c.client.AnonymiseFields(ctx, &pbv2.FieldActionRequest{Actions: fieldActionsToPB(batch)})
		if err != nil {
			return nil, err
		}
		return alignResults(fieldActionKeys(batch), resultsFromPB(resp.GetResults()))
	})
}

func (c *grpcClient) RecordVisits(ctx context.Context, visits []VisitRecord) error {
	_, err := inBatches(visits, visitBatch, func(batch []VisitRecord) ([]struct{}, error) {
		_, err := c.client.RecordVisits(ctx, &pbv2.RecordVisitsRequest{Visits: visitsToPB(batch)})
		return nil, err
	})
	return err
}

// ReadDocument opens the document's stream. The first chunk is awaited
// here, so an unknown document is an error of this call (wrapping
// ErrDocumentNotFound), not of the first Read.
func (c *grpcClient) ReadDocument(ctx context.Context, customerID, documentID string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.client.ReadDocument(ctx, &pbv2.ReadDocumentRequest{CustomerId: customerID, DocumentId: documentID})
	if err != nil {
		cancel()
		return nil, err
	}
	r := &chunkReader{stream: stream, cancel: cancel}
	first, err := stream.Recv()
	switch {
	case err == io.EOF:
		r.eof = true
	case status.Code(err) == codes.NotFound:
		cancel()
		return nil, errors.Join(ErrDocumentNotFound, err)
	case err != nil:
		cancel()
		return nil, err
	default:
		r.buf = first.GetData()
	}
	return r, nil
}

// chunkReader reads a document stream one chunk at a time.
type chunkReader struct {
	stream pbv2.Connector_ReadDocumentClient
	cancel context.CancelFunc
	buf    []byte
	eof    bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		chunk, err := r.stream.Recv()
		if err == io.EOF {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, err
		}
		r.buf = chunk.GetData()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close ends the stream; the plugin stops sending.
func (r *chunkReader) Close() error {
	r.cancel()
	return nil
}

func (c *grpcClient) Health(ctx context.Context) error {
	_, err := c.client.Health(ctx, &pbv2.HealthRequest{})
	return err
}
