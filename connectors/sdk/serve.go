package sdk

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/lethe-privacy/lethe/connectors"
)

// The sdk's Connector and the host's Backend must stay the same interface:
// these guards fail the build when one changes without the other.
var (
	_ connectors.Backend       = Connector(nil)
	_ Connector                = connectors.Backend(nil)
	_ connectors.VisitRecorder = VisitRecorder(nil)
)

// Serve runs impl as a Lethe connector plugin and returns when Lethe ends
// the plugin. Call it from main and do nothing after it. Run by hand, the
// binary explains that it is a plugin and exits.
func Serve(impl Connector) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  connectors.Handshake,
		VersionedPlugins: connectors.PluginSets(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, connectors.ServeOptions()...)...)
		},
		Logger: pluginLogger,
	})
}
