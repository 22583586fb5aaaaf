package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
)

// checkErasable refuses to erase a customer that must be kept.
func CheckErasable(c *Customer, appointments []Appointment, now time.Time) error {
	if c.Held(now) {
		return Errorf(CodeLegalHold, "customer %s is under a legal hold: nothing of theirs can be erased until it is released", c.ID)
	}
	for _, a := range appointments {
		if a.EndsAt.After(now) {
			return Errorf(CodeFutureAppointment, "customer %s has an appointment ahead (%s): set the retention policy %q to erase them when it has passed",
				c.ID, FormatTime(a.StartsAt), PolicyDirect)
		}
	}
	return nil
}

// DeleteCustomer erases a customer now, through the engine's journal (see
// Engine.EraseCustomer): every connector deletes its data and is checked for
// residue, then Lethe keeps only a tombstone. Repeating it after a partial
// failure, or after success, is safe. Errors: NOT_FOUND, FUTURE_APPOINTMENT,
// LEGAL_HOLD, CONFLICT, CONNECTOR_UNAVAILABLE (nothing erased in Lethe then;
// the journal entry stays open and the next sweep finishes it).
func (s *Service) DeleteCustomer(ctx context.Context, id string) (string, error) {
	engine, err := s.relinquisher()
	if err != nil {
		return "", err
	}
	if err := engine.EraseCustomer(ctx, id, actorName(ctx)); err != nil {
		return "", err
	}
	return id, nil
}

// Erase turns c into a tombstone: only the id, the time and the record of
// the categories relinquished remain.
func Erase(c *Customer, at time.Time, categories []string) {
	c.PersonalData = PersonalData{}
	c.ErasedAt = &at
	c.Relinquished = c.Relinquished.With(categories, at)
	c.HeldUntil = nil
}

// Relinquish records that categories of c were relinquished at at; when
// contact data is among them, c's names, phones and emails go and
// AnonymisedAt is set. The rest stays until the customer is erased.
func Relinquish(c *Customer, at time.Time, categories []string) {
	c.Relinquished = c.Relinquished.With(categories, at)
	if AnonymisesContact(categories) {
		c.PersonalData = PersonalData{}
		if c.AnonymisedAt == nil {
			c.AnonymisedAt = &at
		}
	}
}

// Export is everything held on one customer, as one JSON document, and the
// documents (files) connectors hold beside it, which the JSON lists and a
// zip export carries.
type Export struct {
	CustomerID string
	FileName   string
	Data       json.RawMessage
	Documents  []ExportedDocument
}

// ExportedDocument is a document a connector declared in an export.
type ExportedDocument struct {
	Connector string `json:"connector"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	// Path is where a zip export stores it: documents/<connector>/<name>.
	Path string `json:"path"`
}

// ExportCustomer gathers what Lethe and every connector hold on a customer.
// It is complete or it fails. Errors: NOT_FOUND, CONNECTOR_UNAVAILABLE
// naming the connector.
func (s *Service) ExportCustomer(ctx context.Context, id string) (Export, error) {
	c, err := s.liveCustomer(ctx, s.store, id)
	if err != nil {
		return Export{}, err
	}
	doc, err := s.exportDocument(ctx, c)
	if err != nil {
		return Export{}, err
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return Export{}, err
	}
	// Reading everything held on a person is recorded like a change; an
	// export that cannot be recorded is not given.
	err = s.store.Update(ctx, func(tx Tx) error {
		return s.audit(ctx, tx, AuditCustomerExport, c.ID, map[string]any{"connectors": len(doc.Connectors)})
	})
	if err != nil {
		return Export{}, err
	}
	return Export{CustomerID: c.ID, FileName: ExportFileName(c), Data: data, Documents: doc.Documents}, nil
}

type exportDoc struct {
	ExportedAt   time.Time           `json:"exportedAt"`
	Customer     exportCustomer      `json:"customer"`
	Appointments []exportAppointment `json:"appointments"`
	Visits       []exportVisit       `json:"visits"`
	LegalHolds   []exportHold        `json:"legalHolds"`
	// AuditLog is what was done to the customer, and by whom, newest
	// first: the newest maxExportAudit events, so that an export stays
	// the same size however often the customer is exported (each export
	// is itself an event). AuditLogComplete is false when older events
	// exist; AuditLogMore says where to read them.
	AuditLog         []exportAudit              `json:"auditLog"`
	AuditLogComplete bool                       `json:"auditLogComplete"`
	AuditLogMore     string                     `json:"auditLogMore,omitempty"`
	Connectors       map[string]json.RawMessage `json:"connectors"`
	// Documents lists the files connectors hold (invoice PDFs); the zip
	// export carries them at their Path.
	Documents []ExportedDocument `json:"documents,omitempty"`
}

type exportAudit struct {
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Details map[string]any `json:"details,omitempty"`
}

// maxExportAudit bounds the audit lines of one export.
const maxExportAudit = 50

type exportCustomer struct {
	ID                string     `json:"id"`
	FirstName         *string    `json:"firstName"`
	LastName          *string    `json:"lastName"`
	Email             *string    `json:"email"`
	Phone             *string    `json:"phone"`
	Status            Status     `json:"status"`
	StatusChangedAt   *time.Time `json:"statusChangedAt"`
	CreatedAt         time.Time  `json:"createdAt"`
	LastInteractionAt *time.Time `json:"lastInteractionAt"`
	RetentionPolicy   string     `json:"retentionPolicy"`
	DeletionTime      *time.Time `json:"deletionTime"`
	DeletionReason    string     `json:"deletionReason"`
	AnonymisedAt      *time.Time `json:"anonymisedAt"`
}

type exportAppointment struct {
	ID       string    `json:"id"`
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
}

type exportVisit struct {
	ID           string            `json:"id"`
	StartedAt    time.Time         `json:"startedAt"`
	EndedAt      *time.Time        `json:"endedAt"`
	CustomFields map[string]string `json:"customFields"`
}

type exportHold struct {
	ID         string     `json:"id"`
	Reason     string     `json:"reason"`
	PlacedAt   time.Time  `json:"placedAt"`
	Until      *time.Time `json:"until"`
	ReleasedAt *time.Time `json:"releasedAt"`
}

// exportDocument holds everything held on c, not only what the collection
// preferences display: a subject access request covers all of it.
func (s *Service) exportDocument(ctx context.Context, c *Customer) (exportDoc, error) {
	policy, err := s.EffectivePolicy(ctx, c)
	if err != nil {
		return exportDoc{}, err
	}
	reason, err := s.DeletionReason(ctx, c)
	if err != nil {
		return exportDoc{}, err
	}
	last, err := s.LastInteraction(ctx, c)
	if err != nil {
		return exportDoc{}, err
	}
	// A HIDDEN field's value is never shown, not even one a legal hold kept
	// from the purge.
	prefs, err := s.store.FieldPreferences(ctx)
	if err != nil {
		return exportDoc{}, err
	}
	shown := PersonalData{}
	for _, f := range AllFields {
		if prefs.Mode(f) != ModeHidden {
			shown.Set(f, c.Get(f))
		}
	}
	doc := exportDoc{
		ExportedAt: s.Now(),
		Customer: exportCustomer{ID: c.ID, FirstName: shown.FirstName, LastName: shown.LastName, Email: shown.Email, Phone: shown.Phone,
			Status: c.Status, StatusChangedAt: c.StatusChangedAt, CreatedAt: c.CreatedAt, LastInteractionAt: last,
			RetentionPolicy: policy.Name, DeletionTime: s.DeletionTime(c), DeletionReason: reason, AnonymisedAt: c.AnonymisedAt},
		Appointments: []exportAppointment{}, Visits: []exportVisit{}, LegalHolds: []exportHold{}, AuditLog: []exportAudit{},
		Connectors: map[string]json.RawMessage{},
	}
	if err := s.exportHistory(ctx, c, &doc); err != nil {
		return exportDoc{}, err
	}
	if err := s.exportEvents(ctx, c, &doc); err != nil {
		return exportDoc{}, err
	}
	if err := s.exportConnectors(ctx, c, &doc); err != nil {
		return exportDoc{}, err
	}
	return doc, nil
}

// exportHistory adds the newest maxExportAudit audit events on c, and
// where to read the older ones.
func (s *Service) exportHistory(ctx context.Context, c *Customer, doc *exportDoc) error {
	events, err := s.store.AuditLog(ctx, AuditQuery{Subject: c.ID, First: maxExportAudit + 1})
	if err != nil {
		return err
	}
	doc.AuditLogComplete = len(events) <= maxExportAudit
	if !doc.AuditLogComplete {
		events = events[:maxExportAudit]
		doc.AuditLogMore = fmt.Sprintf("older events: the audit log (auditLog(subject: %q, after: %q), admin)", c.ID, events[maxExportAudit-1].ID)
	}
	for _, e := range events {
		doc.AuditLog = append(doc.AuditLog, exportAudit{e.At, e.Actor, e.Action, e.Details})
	}
	return nil
}

// exportEvents adds c's appointments, visits (with their custom fields)
// and legal holds.
func (s *Service) exportEvents(ctx context.Context, c *Customer, doc *exportDoc) error {
	ids := []string{c.ID}
	appts, err := s.store.Appointments(ctx, ids)
	if err != nil {
		return err
	}
	for _, a := range appts[c.ID] {
		doc.Appointments = append(doc.Appointments, exportAppointment{a.ID, a.StartsAt, a.EndsAt})
	}
	visits, err := s.store.Visits(ctx, ids)
	if err != nil {
		return err
	}
	for _, v := range visits[c.ID] {
		fields := map[string]string{}
		for _, f := range v.CustomFields {
			if f.Value != nil {
				fields[f.Field] = *f.Value
			}
		}
		doc.Visits = append(doc.Visits, exportVisit{v.ID, v.StartedAt, v.EndedAt, fields})
	}
	holds, err := s.store.LegalHolds(ctx, ids)
	if err != nil {
		return err
	}
	for _, h := range holds[c.ID] {
		doc.LegalHolds = append(doc.LegalHolds, exportHold{h.ID, h.Reason, h.PlacedAt, h.Until, h.ReleasedAt})
	}
	return nil
}

// exportConnectors adds what every connector holds on c, and the documents
// they declare. Complete or an error: no partial export is given.
func (s *Service) exportConnectors(ctx context.Context, c *Customer, doc *exportDoc) error {
	if s.connectors == nil {
		return nil
	}
	subject := c.Subject()
	paths := map[string]bool{}
	for _, st := range s.connectors.Connectors(ctx) {
		conn, err := s.connectors.Connector(ctx, st.Info.Name)
		if err != nil {
			return err
		}
		out, err := conn.Export(ctx, []Subject{subject})
		if err != nil {
			return Errorf(CodeConnectorUnavailable, "connector %s did not answer the export: %s; no partial export is given", st.Info.Name, ErrorMessage(err))
		}
		data := json.RawMessage("null")
		for _, e := range out {
			if e.CustomerID != c.ID {
				continue
			}
			if len(e.Data) > 0 {
				data = e.Data
			}
			for _, d := range e.Documents {
				doc.Documents = append(doc.Documents, ExportedDocument{Connector: st.Info.Name, ID: d.ID, Name: d.Name,
					MediaType: d.MediaType, Size: d.Size, SHA256: d.SHA256, Path: uniquePath(paths, documentPath(st.Info.Name, d.Name))})
			}
		}
		doc.Connectors[st.Info.Name] = data
	}
	return nil
}

// documentPath is a document's place in a zip export. Connector names and
// document names are reduced to safe characters, so no entry can climb out
// of its directory.
func documentPath(connector, name string) string {
	dir := safeFileChars(connector)
	if dir == "" {
		dir = "connector"
	}
	return "documents/" + dir + "/" + safeDocName(name)
}

// uniquePath returns p, or p with "-2", "-3"… before its extension when a
// document already took it, and records it as taken.
func uniquePath(taken map[string]bool, p string) string {
	out := p
	ext := path.Ext(p)
	for n := 2; taken[out]; n++ {
		out = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(p, ext), n, ext)
	}
	taken[out] = true
	return out
}

// safeDocName keeps letters, digits, '-', '_' and '.', and never starts with
// a dot.
func safeDocName(name string) string {
	out := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name), ".")
	if out == "" {
		return "document"
	}
	return out
}

// ExportFileName is `<firstname>_<lastname>.json` in safe characters, or
// the customer id when the names are gone.
func ExportFileName(c *Customer) string {
	var parts []string
	for _, p := range []*string{c.FirstName, c.LastName} {
		if p == nil {
			continue
		}
		if s := safeFileChars(*p); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		// Ids are Lethe's own ([a-z0-9_-]); filtering keeps that true of any.
		return strings.Map(func(r rune) rune {
			if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, c.ID) + ".json"
	}
	return strings.Join(parts, "_") + ".json"
}

func safeFileChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '_':
			b.WriteRune('-')
		default:
			if a, ok := asciiFold[r]; ok {
				b.WriteString(a)
			}
		}
		if b.Len() >= 64 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// asciiFold spells common accented letters in ASCII so that "Zoë" keeps
// its name in the file name.
var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ä': "ae", 'ã': "a", 'å': "a", 'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'ö': "oe", 'õ': "o", 'ø': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "ue", 'ý': "y", 'ß': "ss", 'À': "A", 'Á': "A", 'Â': "A", 'Ä': "Ae", 'Å': "A",
	'Ç': "C", 'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Í': "I", 'Î': "I", 'Ñ': "N", 'Ó': "O", 'Ô': "O", 'Ö': "Oe",
	'Ø': "O", 'Ú': "U", 'Ü': "Ue", 'ł': "l", 'Ł': "L", 'š': "s", 'Š': "S", 'ž': "z", 'Ž': "Z", 'č': "c", 'Č': "C",
}
