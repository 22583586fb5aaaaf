// Package pb holds the generated gRPC code of each connector protocol
// version (v1, v2). Regenerate with `go generate ./internal/pb` in the SDK
// module (needs protoc, protoc-gen-go and protoc-gen-go-grpc on PATH;
// versions in connectors/PROTOCOL.md).
package pb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative v1/connector.proto v2/connector.proto
