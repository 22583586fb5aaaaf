package sdk

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// chunkSize is the most bytes of a document one stream message carries.
const chunkSize = 64 << 10

// grpcServer runs in the plugin process and adapts a Connector to the wire.
type grpcServer struct {
	pbv2.UnimplementedConnectorServer
	impl Connector
}

var _ pbv2.ConnectorServer = (*grpcServer)(nil)

// statusErr keeps a status the connector chose and turns anything else into
// INTERNAL, so a plain Go error never leaks as UNKNOWN.
func statusErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, ErrDocumentNotFound):
		return status.Error(codes.NotFound, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func (s *grpcServer) Describe(ctx context.Context, _ *pbv2.DescribeRequest) (*pbv2.DescribeResponse, error) {
	info, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.DescribeResponse{
		Name: info.Name, Version: info.Version, Categories: info.Categories, Capabilities: info.Capabilities,
	}, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *pbv2.ConfigureRequest) (*pbv2.ConfigureResponse, error) {
	settings := req.GetSettings()
	if settings == nil {
		settings = map[string]string{}
	}
	if err := s.impl.Configure(ctx, settings); err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.ConfigureResponse{}, nil
}

func (s *grpcServer) Export(ctx context.Context, req *pbv2.ExportRequest) (*pbv2.ExportResponse, error) {
	exports, err := s.impl.Export(ctx, subjectsFromPB(req.GetSubjects()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.ExportResponse{Exports: exportsToPB(exports)}, nil
}

func (s *grpcServer) Anonymise(ctx context.Context, req *pbv2.ActionRequest) (*pbv2.ActionResponse, error) {
	results, err := s.impl.Anonymise(ctx, actionsFromPB(req.GetActions()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.ActionResponse{Results: resultsToPB(results)}, nil
}

func (s *grpcServer) Delete(ctx context.Context, req *pbv2.ActionRequest) (*pbv2.ActionResponse, error) {
	results, err := s.impl.Delete(ctx, actionsFromPB(req.GetActions()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.ActionResponse{Results: resultsToPB(results)}, nil
}

func (s *grpcServer) AnonymiseFields(ctx context.Context, req *pbv2.FieldActionRequest) (*pbv2.ActionResponse, error) {
	fa, ok := s.impl.(FieldAnonymiser)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "connector does not anonymise single fields")
	}
	results, err := fa.AnonymiseFields(ctx, fieldActionsFromPB(req.GetActions()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.ActionResponse{Results: resultsToPB(results)}, nil
}

func (s *grpcServer) RecordVisits(ctx context.Context, req *pbv2.RecordVisitsRequest) (*pbv2.RecordVisitsResponse, error) {
	rec, ok := s.impl.(VisitRecorder)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "connector does not record visits")
	}
	if err := rec.RecordVisits(ctx, visitsFromPB(req.GetVisits())); err != nil {
		return nil, statusErr(err)
	}
	return &pbv2.RecordVisitsResponse{}, nil
}

// ReadDocument streams the document in chunks, so neither side ever holds
// a whole file in memory.
func (s *grpcServer) ReadDocument(req *pbv2.ReadDocumentRequest, stream pbv2.Connector_ReadDocumentServer) error {
	dr, ok := s.impl.(DocumentReader)
	if !ok {
		return status.Error(codes.Unimplemented, "connector holds no documents")
	}
	r, err := dr.ReadDocument(stream.Context(), req.GetCustomerId(), req.GetDocumentId())
	if err != nil {
		return statusErr(err)
	}
	defer r.Close()
	buf := make([]byte, chunkSize)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if serr := stream.Send(&pbv2.DocumentChunk{Data: buf[:n]}); serr != nil {
				return serr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return statusErr(err)
		}
	}
}

func (s *grpcServer) Health(ctx context.Context, _ *pbv2.HealthRequest) (*pbv2.HealthResponse, error) {
	if err := s.impl.Health(ctx); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &pbv2.HealthResponse{}, nil
}
