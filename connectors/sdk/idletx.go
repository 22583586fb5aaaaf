package sdk

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SettingIdleTxTimeout is the setting in which Lethe passes every plugin the
// longest a database session may stay idle inside a transaction (a Go
// duration, e.g. "15s"): half of Lethe's lease term. A plugin frozen with
// its host (a paused VM) while a transaction is open would otherwise keep
// that transaction's locks, and stall every other replica's sweep, until it
// resumes. Lethe bounds its own sessions the same way.
const SettingIdleTxTimeout = "idle_tx_timeout"

// DefaultIdleTxTimeout applies when the setting is absent (a host older
// than the setting): half of Lethe's default lease term of 30 s.
const DefaultIdleTxTimeout = 15 * time.Second

// IdleTxTimeout reads SettingIdleTxTimeout from a plugin's settings.
func IdleTxTimeout(settings map[string]string) time.Duration {
	if d, err := time.ParseDuration(settings[SettingIdleTxTimeout]); err == nil && d > 0 {
		return d
	}
	return DefaultIdleTxTimeout
}

// BoundIdleTransactions returns a PostgreSQL connection string (a URL or
// key=value pairs, as pgx and libpq take them) that makes the server end a
// session idle inside a transaction for longer than IdleTxTimeout(settings):
// open the plugin's database with it. An empty dsn stays empty; a dsn that
// already sets idle_in_transaction_session_timeout is kept as it is.
func BoundIdleTransactions(dsn string, settings map[string]string) string {
	const param = "idle_in_transaction_session_timeout"
	if dsn == "" || strings.Contains(dsn, param) {
		return dsn
	}
	ms := strconv.FormatInt(IdleTxTimeout(settings).Milliseconds(), 10)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		q.Set(param, ms)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + param + "=" + ms
}
