package evidence

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/lethe-privacy/lethe/retention"
)

// WriteAuditCSV writes events as CSV: at (RFC 3339 UTC), actor, action,
// subject, sentence, details (JSON). The audit log holds no personal data,
// so neither does the file.
func WriteAuditCSV(w io.Writer, events []retention.AuditEvent) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"at", "actor", "action", "subject", "sentence", "details"}); err != nil {
		return err
	}
	for _, e := range events {
		details := ""
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return err
			}
			details = string(b)
		}
		if err := cw.Write([]string{e.At.UTC().Format(time.RFC3339), csvSafe(e.Actor), e.Action, csvSafe(e.Subject), csvSafe(e.Sentence()), details}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a token
// name is chosen by whoever creates the token).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
