package sdk

import (
	"log/slog"
	"os"

	"github.com/hashicorp/go-hclog"
)

// Lethe reads a plugin's stderr line by line and understands hclog's JSON
// shape ({"@level":..., "@message":..., fields...}); lines in that shape
// arrive in Lethe's log with their level and fields. Stdout is off limits.

var pluginLogger = hclog.New(&hclog.LoggerOptions{
	Level:      hclog.Debug,
	Output:     os.Stderr,
	JSONFormat: true,
})

var logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{
	Level: slog.LevelDebug,
	ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			// Lethe stamps lines itself; hclog's timestamp format is
			// stricter than slog's, so leaving it out avoids a mismatch.
			return slog.Attr{}
		case slog.LevelKey:
			return slog.String("@level", hclogLevel(a.Value.Any().(slog.Level)))
		case slog.MessageKey:
			return slog.String("@message", a.Value.String())
		}
		return a
	},
}))

func hclogLevel(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}

// Logger returns the logger a connector should use: it writes to stderr in
// the form Lethe forwards into its own log. Never log personal data.
func Logger() *slog.Logger { return logger }
