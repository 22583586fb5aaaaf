package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pbv1 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v1"
	pbv2 "github.com/lethe-privacy/lethe/connectors/sdk/internal/pb/v2"
)

// Protocol versions. A plugin built with this SDK serves ProtocolVersion;
// a host built with it also speaks every older version down to
// MinProtocolVersion, so plugins built against an older SDK keep working.
// go-plugin picks the highest version both sides offer.
const (
	ProtocolVersion    = 2
	MinProtocolVersion = 1
)

// pluginName is the name the connector is dispensed under in a plugin set.
const pluginName = "connector"

// handshake is shared by Lethe and every connector. The magic cookie is not
// a security measure: it only stops a user from running a plugin binary by
// hand and wondering why it prints a cryptic line and waits.
// ProtocolVersion here is only the fallback for a peer that does not
// negotiate; VersionedPlugins decide.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  MinProtocolVersion,
	MagicCookieKey:   "LETHE_CONNECTOR_PLUGIN",
	MagicCookieValue: "8c1f0b7e-relinquish-3f4a9d21",
}

// maxMessageBytes raises gRPC's 4 MiB default: an export of a batch of
// customers with thousands of records each easily exceeds it.
const maxMessageBytes = 256 << 20

// grpcPluginV2 is the go-plugin glue for protocol 2: impl is set in the
// plugin process, nil on the host.
type grpcPluginV2 struct {
	plugin.NetRPCUnsupportedPlugin
	impl Connector
}

func (p *grpcPluginV2) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pbv2.RegisterConnectorServer(s, &grpcServer{impl: p.impl})
	return nil
}

func (p *grpcPluginV2) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{client: pbv2.NewConnectorClient(c)}, nil
}

// grpcPluginV1 is the host side of protocol 1, for plugins built with the
// first SDK. This SDK no longer serves it.
type grpcPluginV1 struct {
	plugin.NetRPCUnsupportedPlugin
}

func (p *grpcPluginV1) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errV1NotServed
}

func (p *grpcPluginV1) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClientV1{client: pbv1.NewConnectorClient(c)}, nil
}

func serverPluginSets(impl Connector) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		2: {pluginName: &grpcPluginV2{impl: impl}},
	}
}

func hostPluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginName: &grpcPluginV1{}},
		2: {pluginName: &grpcPluginV2{}},
	}
}
