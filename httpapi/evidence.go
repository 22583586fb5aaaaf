package httpapi

import (
	"bytes"
	"net/http"
	"time"

	"github.com/lethe-privacy/lethe/evidence"
	"github.com/lethe-privacy/lethe/graph"
	"github.com/lethe-privacy/lethe/retention"
)

// serveEvidence answers GET /evidence?from=…&to=… (RFC 3339, to
// excluded) with the evidence pack of that period as a zip; administrators
// only, like the audit log it is made from.
func (s *server) serveEvidence(w http.ResponseWriter, req *http.Request) {
	if err := graph.RequireRole(req.Context(), retention.RoleAdmin); err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	if s.opts.Evidence == nil {
		WriteError(w, http.StatusNotFound, string(retention.CodeNotFound), "evidence packs are not offered by this server")
		return
	}
	var bounds [2]time.Time
	for i, name := range []string{"from", "to"} {
		t, err := time.Parse(time.RFC3339, req.URL.Query().Get(name))
		if err != nil {
			writeDomainError(w, WriteError, retention.FieldErrorf(name, "%s must be an RFC 3339 time such as 2026-01-01T00:00:00Z", name), s.log, req)
			return
		}
		bounds[i] = t
	}
	pack, err := evidence.Build(req.Context(), *s.opts.Evidence, bounds[0], bounds[1])
	if err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	// Built in memory first: an error then is a clear answer, never a
	// truncated download.
	var b bytes.Buffer
	if err := pack.WriteZip(&b); err != nil {
		writeDomainError(w, WriteError, err, s.log, req)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+pack.FileName()+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes()) //nolint:errcheck
}
