// Command v1connector is a connector as the first SDK built them: it speaks
// only protocol 1 (no field-level anonymise, no documents). It exists so
// tests can prove a v1 plugin binary keeps working under a v2 host. It
// holds one record per customer id listed in the "customers" setting
// (comma-separated), in memory.
package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pbv1 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v1"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		// The first SDK's handshake: protocol 1 only.
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "LETHE_CONNECTOR_PLUGIN",
			MagicCookieValue: "8c1f0b7e-relinquish-3f4a9d21",
		},
		VersionedPlugins: map[int]plugin.PluginSet{1: {"connector": &v1Plugin{}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}

type v1Plugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (p *v1Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pbv1.RegisterConnectorServer(s, &server{held: map[string]bool{}})
	return nil
}

func (p *v1Plugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil // plugin side only
}

type server struct {
	pbv1.UnimplementedConnectorServer
	mu   sync.Mutex
	held map[string]bool
}

func (s *server) Describe(context.Context, *pbv1.DescribeRequest) (*pbv1.DescribeResponse, error) {
	return &pbv1.DescribeResponse{Name: "v1connector", Version: "1.0.0-v1", Categories: []string{"contact"},
		Capabilities: []string{"export", "anonymise", "delete"}}, nil
}

func (s *server) Configure(_ context.Context, req *pbv1.ConfigureRequest) (*pbv1.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range strings.Split(req.GetSettings()["customers"], ",") {
		if id != "" {
			s.held[id] = true
		}
	}
	return &pbv1.ConfigureResponse{}, nil
}

func (s *server) Export(_ context.Context, req *pbv1.ExportRequest) (*pbv1.ExportResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pbv1.SubjectExport
	for _, sub := range req.GetSubjects() {
		if s.held[sub.GetCustomerId()] {
			data, _ := json.Marshal(map[string]string{"record": "held since v1"})
			out = append(out, &pbv1.SubjectExport{CustomerId: sub.GetCustomerId(), DataJson: data})
		}
	}
	return &pbv1.ExportResponse{Exports: out}, nil
}

func (s *server) act(req *pbv1.ActionRequest, done pbv1.Outcome) *pbv1.ActionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pbv1.ActionResult
	for _, a := range req.GetActions() {
		id := a.GetSubject().GetCustomerId()
		r := &pbv1.ActionResult{ActionId: a.GetId(), CustomerId: id, Outcome: pbv1.Outcome_OUTCOME_NOT_FOUND}
		if s.held[id] {
			delete(s.held, id)
			r.Outcome, r.Records = done, 1
		}
		out = append(out, r)
	}
	return &pbv1.ActionResponse{Results: out}
}

func (s *server) Anonymise(_ context.Context, req *pbv1.ActionRequest) (*pbv1.ActionResponse, error) {
	return s.act(req, pbv1.Outcome_OUTCOME_ANONYMISED), nil
}

func (s *server) Delete(_ context.Context, req *pbv1.ActionRequest) (*pbv1.ActionResponse, error) {
	return s.act(req, pbv1.Outcome_OUTCOME_DELETED), nil
}

func (s *server) Health(context.Context, *pbv1.HealthRequest) (*pbv1.HealthResponse, error) {
	return &pbv1.HealthResponse{}, nil
}
