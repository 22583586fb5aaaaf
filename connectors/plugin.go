package connectors

import "log/slog"

// orDiscard is used where a nil *slog.Logger was passed.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
