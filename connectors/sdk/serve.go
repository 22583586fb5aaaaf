package sdk

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs impl as a Lethe connector plugin and returns when Lethe ends
// the plugin. Call it from main and do nothing after it. Run by hand, the
// binary explains that it is a plugin and exits; run as `<plugin> seed`, a
// connector that implements Seeder fills its store with demo data (see
// Seeder); run as `<plugin> --version`, it prints its name and version
// (from Describe, called before any Configure) and exits, so an operator
// can tell which build a checksum belongs to.
func Serve(impl Connector) {
	if len(os.Args) == 2 && os.Args[1] == SeedCommand {
		os.Exit(seedMain(impl, os.Stdin, os.Stderr))
	}
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version" || os.Args[1] == "version") {
		os.Exit(versionMain(impl, os.Stdout, os.Stderr))
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

// versionMain prints "<name> <version>" as Describe says them.
func versionMain(impl Connector, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := impl.Describe(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "describe:", err)
		return 1
	}
	fmt.Fprintln(stdout, info.Name, info.Version)
	return 0
}
