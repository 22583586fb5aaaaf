package connectors

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	connectorpb "github.com/lethe-privacy/lethe/connectors/proto"
)

// grpcServer runs in the plugin process and adapts a Backend to the wire.
type grpcServer struct {
	connectorpb.UnimplementedConnectorServer
	impl Backend
}

var _ connectorpb.ConnectorServer = (*grpcServer)(nil)

// statusErr keeps a status the backend chose and turns anything else into
// INTERNAL, so a plain Go error never leaks as UNKNOWN.
func statusErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func (s *grpcServer) Describe(ctx context.Context, _ *connectorpb.DescribeRequest) (*connectorpb.DescribeResponse, error) {
	info, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.DescribeResponse{
		Name: info.Name, Version: info.Version, Categories: info.Categories, Capabilities: info.Capabilities,
	}, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *connectorpb.ConfigureRequest) (*connectorpb.ConfigureResponse, error) {
	settings := req.GetSettings()
	if settings == nil {
		settings = map[string]string{}
	}
	if err := s.impl.Configure(ctx, settings); err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.ConfigureResponse{}, nil
}

func (s *grpcServer) Export(ctx context.Context, req *connectorpb.ExportRequest) (*connectorpb.ExportResponse, error) {
	exports, err := s.impl.Export(ctx, subjectsFromPB(req.GetSubjects()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.ExportResponse{Exports: exportsToPB(exports)}, nil
}

func (s *grpcServer) Anonymise(ctx context.Context, req *connectorpb.ActionRequest) (*connectorpb.ActionResponse, error) {
	results, err := s.impl.Anonymise(ctx, actionsFromPB(req.GetActions()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.ActionResponse{Results: resultsToPB(results)}, nil
}

func (s *grpcServer) Delete(ctx context.Context, req *connectorpb.ActionRequest) (*connectorpb.ActionResponse, error) {
	results, err := s.impl.Delete(ctx, actionsFromPB(req.GetActions()))
	if err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.ActionResponse{Results: resultsToPB(results)}, nil
}

func (s *grpcServer) RecordVisits(ctx context.Context, req *connectorpb.RecordVisitsRequest) (*connectorpb.RecordVisitsResponse, error) {
	rec, ok := s.impl.(VisitRecorder)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "connector does not record visits")
	}
	if err := rec.RecordVisits(ctx, visitsFromPB(req.GetVisits())); err != nil {
		return nil, statusErr(err)
	}
	return &connectorpb.RecordVisitsResponse{}, nil
}

func (s *grpcServer) Health(ctx context.Context, _ *connectorpb.HealthRequest) (*connectorpb.HealthResponse, error) {
	if err := s.impl.Health(ctx); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &connectorpb.HealthResponse{}, nil
}
