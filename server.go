// Command lethe keeps personal data only as long as a policy allows,
// everywhere it lives.
//
//	lethe serve | sweep | migrate | demo | token | backup | restore | version
package main

//go:generate go run github.com/99designs/gqlgen generate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/lethe-privacy/lethe/httpapi"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // the flags were printed: asking for them is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lethe:", err)
		os.Exit(1)
	}
}

const usage = `usage: lethe <command> [flags]

commands:
  serve    serve the GraphQL API (runs pending migrations first)
  migrate  apply pending database migrations
  sweep    run one retention sweep now [--dry-run] [--as-of T]
  demo     write deterministic demo data into a data directory
  token    create, list and revoke API tokens
  audit    verify the audit log's hash chain, print its public key, sign a checkpoint
  evidence write the evidence pack of a period --from … --to … --out pack.zip
  backup   copy the SQLite database while serving [--out FILE]
  restore  put a backup back, lethe stopped: restore [flags] FILE
  connectors checksum [PATH…]  print the connectors: block with every plugin's sha256
  version  print the version

Run 'lethe <command> -h' for the flags of a command.`

// commands maps each command to its function, each in a file of its own
// (serve.go, sweep.go, …): a new command is a new file and one line here.
var commands = map[string]func(ctx context.Context, args []string) error{
	"serve":    serve,
	"migrate":  migrateCmd,
	"demo":     demoCmd,
	"sweep":    sweepCmd,
	"token":    func(ctx context.Context, args []string) error { return tokenCmd(ctx, args, os.Stdout) },
	"audit":    func(ctx context.Context, args []string) error { return auditCmd(ctx, args, os.Stdout) },
	"evidence": evidenceCmd,
	"backup":   backupCmd,
	"restore":  restoreCmd,
	"connectors": func(ctx context.Context, args []string) error {
		return connectorsCmd(ctx, args, os.Stdout)
	},
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd, ok := commands[args[0]]; ok {
		return cmd(ctx, args[1:])
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Println("lethe", version)
		return nil
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// A server's heap is a few megabytes that live and, under load, hundreds
// of kilobytes per request that die with it: with Go's default (collect
// when the heap has doubled) the collector ran several times a second
// under a search load, its marking about 5% of the server's CPU besides
// what it costs the requests it interrupts. Collecting when the heap has
// grown fivefold does so a fifth as often; the soft limit bounds what
// that costs in memory once the live heap is large (a long sweep): above
// it, the collector runs as often as it needs to. GOGC or GOMEMLIMIT in
// the environment override both.
const (
	serveGCPercent = 400
	serveHeapLimit = 1 << 30
)

func tuneServeGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(serveGCPercent)
	debug.SetMemoryLimit(serveHeapLimit)
}

// newLogger logs JSON unless stderr is a terminal; every record made with
// a request's context carries its request id.
func newLogger() *slog.Logger {
	var h slog.Handler
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		h = slog.NewTextHandler(os.Stderr, nil)
	} else {
		h = slog.NewJSONHandler(os.Stderr, nil)
	}
	return slog.New(httpapi.LogHandler(h))
}
