package sdk

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// The host side: what Lethe (and sdktest) use to launch a connector binary
// and call it. Connector authors need none of this.

// Client is a launched connector as the host sees it: every call of the
// contract, whatever protocol version the plugin speaks. A call the
// plugin's version or capabilities lack fails with gRPC status
// UNIMPLEMENTED.
type Client interface {
	Connector
	FieldAnonymiser
	DocumentReader
	VisitRecorder
	// Protocol is the protocol version negotiated with the plugin.
	Protocol() int
}

// ClientConfig returns the go-plugin configuration that launches the
// connector binary run by cmd and negotiates the highest protocol version
// both sides speak. The caller adds what is its own policy: SecureConfig
// (the binary's checksum), Logger and StartTimeout.
func ClientConfig(cmd *exec.Cmd) *plugin.ClientConfig {
	return &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: hostPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes))},
	}
}

// Dispense starts (if need be) the plugin process of c, completes the
// handshake and returns the connector it serves.
func Dispense(c *plugin.Client) (Client, error) {
	rpc, err := c.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense: %w", err)
	}
	cl, ok := raw.(Client)
	if !ok {
		return nil, fmt.Errorf("dispense: unexpected %T", raw)
	}
	return cl, nil
}

var errV1NotServed = errors.New("this SDK serves connector protocol 2 only")
