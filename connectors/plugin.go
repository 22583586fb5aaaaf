package connectors

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	connectorpb "github.com/lethe-privacy/lethe/connectors/proto"
	"github.com/lethe-privacy/lethe/retention"
)

// ProtocolVersion is the connector protocol version this build speaks. Bump
// it (and keep serving the old one in VersionedPlugins) when connector.proto
// changes incompatibly, so old plugins keep working with a new Lethe.
const ProtocolVersion = 1

// PluginName is the name the connector is dispensed under in a plugin set.
const PluginName = "connector"

// Handshake is shared by Lethe and every connector. The magic cookie is not
// a security measure: it only stops a user from running a plugin binary by
// hand and wondering why it prints a cryptic line and waits.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "LETHE_CONNECTOR_PLUGIN",
	MagicCookieValue: "8c1f0b7e-relinquish-3f4a9d21",
}

// maxMessageBytes raises gRPC's 4 MiB default: an export of a batch of
// customers with thousands of records each easily exceeds it.
const maxMessageBytes = 256 << 20

// Backend is what a connector implements on the plugin side: the
// retention.Connector calls minus RecordVisits (optional, see
// VisitRecorder) plus Configure. connectors/sdk.Connector is this same
// interface, re-exported for integrators.
type Backend interface {
	// Configure is called once per process before any other call but
	// Health; settings always hold "data_dir".
	Configure(ctx context.Context, settings map[string]string) error
	Describe(ctx context.Context) (retention.ConnectorInfo, error)
	Export(ctx context.Context, subjects []retention.Subject) ([]retention.SubjectExport, error)
	Anonymise(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error)
	Delete(ctx context.Context, actions []retention.Action) ([]retention.ActionResult, error)
	Health(ctx context.Context) error
}

// VisitRecorder is implemented by backends that declare the record_visits
// capability.
type VisitRecorder interface {
	RecordVisits(ctx context.Context, visits []retention.VisitRecord) error
}

// remote is the host's view of a launched plugin: everything a Backend does
// plus RecordVisits, which the client always offers (the plugin answers
// UNIMPLEMENTED when it has no such capability).
type remote interface {
	Backend
	VisitRecorder
}

// ConnectorPlugin is the go-plugin glue for both sides: Impl is set in the
// plugin process (sdk.Serve), nil in Lethe.
type ConnectorPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Backend
}

var _ plugin.GRPCPlugin = (*ConnectorPlugin)(nil)

// GRPCServer registers the connector service in the plugin process.
func (p *ConnectorPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	connectorpb.RegisterConnectorServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient builds Lethe's client over the connection go-plugin dialled.
func (p *ConnectorPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{client: connectorpb.NewConnectorClient(c)}, nil
}

// PluginSets is the versioned plugin set both sides negotiate over: the
// host offers every version it speaks, the plugin picks the highest common.
func PluginSets(impl Backend) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &ConnectorPlugin{Impl: impl}},
	}
}

// ServeOptions are the gRPC server options a plugin needs to accept large
// batches; exposed so sdk.Serve and tests agree.
func ServeOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
	}
}

// discardLogger is used where a nil *slog.Logger was passed.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
