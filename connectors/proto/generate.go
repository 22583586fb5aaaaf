// Package connectorpb holds the generated gRPC code of the connector
// protocol. Regenerate with `go generate ./connectors/proto` (needs protoc,
// protoc-gen-go and protoc-gen-go-grpc on PATH; versions in PROTOCOL.md).
package connectorpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative connector.proto
