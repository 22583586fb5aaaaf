package sdk

import (
	"os"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs impl as a Lethe connector plugin and returns when Lethe ends
// the plugin. Call it from main and do nothing after it. Run by hand, the
// binary explains that it is a plugin and exits; run as `<plugin> seed`, a
// connector that implements Seeder fills its store with demo data (see
// Seeder).
func Serve(impl Connector) {
	if len(os.Args) == 2 && os.Args[1] == SeedCommand {
		os.Exit(seedMain(impl, os.Stdin, os.Stderr))
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: serverPluginSets(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))...)
		},
		Logger: pluginLogger,
	})
}
