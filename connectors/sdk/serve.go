package sdk

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs impl as a Lethe connector plugin and returns when Lethe ends
// the plugin. Call it from main and do nothing after it. Run by hand, the
// binary explains that it is a plugin and exits.
func Serve(impl Connector) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: serverPluginSets(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))...)
		},
		Logger: pluginLogger,
	})
}
