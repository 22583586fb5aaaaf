package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/lethe-privacy/lethe/retention"
)

type runRow struct {
	bun.BaseModel `bun:"table:retention_runs"`

	ID               string  `bun:"id,pk"`
	DryRun           bool    `bun:"dry_run"`
	Status           string  `bun:"status"`
	TriggerName      string  `bun:"trigger_name"`
	Actor            string  `bun:"actor"`
	AsOf             int64   `bun:"as_of"`
	StartedAt        int64   `bun:"started_at"`
	FinishedAt       *int64  `bun:"finished_at"`
	HeartbeatAt      int64   `bun:"heartbeat_at"`
	CustomersPlanned int     `bun:"customers_planned"`
	CustomersDone    int     `bun:"customers_done"`
	CustomersFailed  int     `bun:"customers_failed"`
	CustomersSkipped int     `bun:"customers_skipped"`
	ActionsPlanned   int     `bun:"actions_planned"`
	ThrottledSeconds float64 `bun:"throttled_seconds"`
	Error            *string `bun:"error"`
}

func runFromDomain(r retention.Run) *runRow {
	return &runRow{ID: r.ID, DryRun: r.DryRun, Status: string(r.Status), TriggerName: r.Trigger, Actor: r.Actor,
		AsOf: toMicros(r.AsOf), StartedAt: toMicros(r.StartedAt), FinishedAt: toMicrosPtr(r.FinishedAt),
		HeartbeatAt: toMicros(r.HeartbeatAt), CustomersPlanned: r.CustomersPlanned, CustomersDone: r.CustomersDone,
		CustomersFailed: r.CustomersFailed, CustomersSkipped: r.CustomersSkipped, ActionsPlanned: r.ActionsPlanned,
		ThrottledSeconds: r.ThrottledSeconds, Error: strPtr(r.Error)}
}

func (r *runRow) domain() retention.Run {
	return retention.Run{ID: r.ID, DryRun: r.DryRun, Status: retention.RunStatus(r.Status), Trigger: r.TriggerName, Actor: r.Actor,
		AsOf: fromMicros(r.AsOf), StartedAt: fromMicros(r.StartedAt), FinishedAt: fromMicrosPtr(r.FinishedAt),
		HeartbeatAt: fromMicros(r.HeartbeatAt), CustomersPlanned: r.CustomersPlanned, CustomersDone: r.CustomersDone,
		CustomersFailed: r.CustomersFailed, CustomersSkipped: r.CustomersSkipped, ActionsPlanned: r.ActionsPlanned,
		ThrottledSeconds: r.ThrottledSeconds, Error: strVal(r.Error)}
}

type entryRow struct {
	bun.BaseModel `bun:"table:journal_entries"`

	ID            string  `bun:"id,pk"`
	RunID         string  `bun:"run_id"`
	CustomerID    string  `bun:"customer_id"`
	Kind          string  `bun:"kind"`
	Categories    string  `bun:"categories"`
	RequestedBy   *string `bun:"requested_by"`
	PolicyName    string  `bun:"policy_name"`
	PolicyVersion int     `bun:"policy_version"`
	Rule          string  `bun:"rule"`
	DueAt         int64   `bun:"due_at"`
	PlannedAt     int64   `bun:"planned_at"`
	Status        string  `bun:"status"`
	Attempts      int     `bun:"attempts"`
	NextAttemptAt int64   `bun:"next_attempt_at"`
	LastError     *string `bun:"last_error"`
	ClosedAt      *int64  `bun:"closed_at"`
	// Subject is the JSON of retention.JournalEntry.Subject, NULL when
	// there is none (always once the entry closed).
	Subject *string `bun:"subject"`
}

// subjectJSON is how an entry's recorded identifiers are stored.
type subjectJSON struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

func encodeSubject(s *retention.Subject) *string {
	if s == nil {
		return nil
	}
	b, _ := json.Marshal(subjectJSON{FirstName: s.FirstName, LastName: s.LastName, Email: s.Email, Phone: s.Phone})
	out := string(b)
	return &out
}

func decodeSubject(customerID string, raw *string) (*retention.Subject, error) {
	if raw == nil {
		return nil, nil
	}
	var j subjectJSON
	if err := json.Unmarshal([]byte(*raw), &j); err != nil {
		return nil, err
	}
	return &retention.Subject{CustomerID: customerID, FirstName: j.FirstName, LastName: j.LastName, Email: j.Email, Phone: j.Phone}, nil
}

func entryFromDomain(e retention.JournalEntry) *entryRow {
	cats := []byte("[]")
	if len(e.Categories) > 0 {
		cats, _ = json.Marshal(e.Categories)
	}
	return &entryRow{ID: e.ID, RunID: e.RunID, CustomerID: e.CustomerID, Kind: string(e.Kind), Categories: string(cats), RequestedBy: strPtr(e.RequestedBy), PolicyName: e.PolicyName,
		PolicyVersion: e.PolicyVersion, Rule: e.Rule, DueAt: toMicros(e.DueAt), PlannedAt: toMicros(e.PlannedAt),
		Status: string(e.Status), Attempts: e.Attempts, NextAttemptAt: toMicros(e.NextAttemptAt), LastError: strPtr(e.LastError),
		ClosedAt: toMicrosPtr(e.ClosedAt), Subject: encodeSubject(e.Subject)}
}

// domain is the entry, or an error when its categories or subject cannot
// be read: an entry with no categories means "every category", so a failed
// read must never pass for one.
func (r *entryRow) domain() (retention.JournalEntry, error) {
	var cats []string
	if err := json.Unmarshal([]byte(r.Categories), &cats); err != nil {
		return retention.JournalEntry{}, decodeError("journal entry", r.ID, "categories", err)
	}
	subject, err := decodeSubject(r.CustomerID, r.Subject)
	if err != nil {
		return retention.JournalEntry{}, decodeError("journal entry", r.ID, "subject", err)
	}
	return retention.JournalEntry{Categories: cats, RequestedBy: strVal(r.RequestedBy), ID: r.ID, RunID: r.RunID, CustomerID: r.CustomerID, Kind: retention.ActionKind(r.Kind),
		PolicyName: r.PolicyName, PolicyVersion: r.PolicyVersion, Rule: r.Rule, DueAt: fromMicros(r.DueAt),
		PlannedAt: fromMicros(r.PlannedAt), Status: retention.EntryStatus(r.Status), Attempts: r.Attempts,
		NextAttemptAt: fromMicros(r.NextAttemptAt), LastError: strVal(r.LastError), ClosedAt: fromMicrosPtr(r.ClosedAt),
		Subject: subject}, nil
}

type actionRow struct {
	bun.BaseModel `bun:"table:journal_actions"`

	ID         string  `bun:"id,pk"`
	EntryID    string  `bun:"entry_id"`
	RunID      string  `bun:"run_id"`
	CustomerID string  `bun:"customer_id"`
	Connector  string  `bun:"connector"`
	Operation  string  `bun:"operation"`
	Categories string  `bun:"categories"`
	Status     string  `bun:"status"`
	Outcome    *string `bun:"outcome"`
	Records    int     `bun:"records"`
	Reason     *string `bun:"reason"`
	Attempts   int     `bun:"attempts"`
	UpdatedAt  int64   `bun:"updated_at"`
}

func actionFromDomain(a retention.JournalAction, now int64) *actionRow {
	cats, _ := json.Marshal(a.Categories)
	if a.Categories == nil {
		cats = []byte("[]")
	}
	return &actionRow{ID: a.ID, EntryID: a.EntryID, RunID: a.RunID, CustomerID: a.CustomerID, Connector: a.Connector,
		Operation: a.Operation, Categories: string(cats), Status: string(a.Status), Outcome: strPtr(string(a.Outcome)),
		Records: a.Records, Reason: strPtr(a.Reason), Attempts: a.Attempts, UpdatedAt: now}
}

func (r *actionRow) domain() (retention.JournalAction, error) {
	a := retention.JournalAction{ID: r.ID, EntryID: r.EntryID, RunID: r.RunID, CustomerID: r.CustomerID, Connector: r.Connector,
		Operation: r.Operation, Status: retention.ActionStatus(r.Status), Outcome: retention.Outcome(strVal(r.Outcome)),
		Records: r.Records, Reason: strVal(r.Reason), Attempts: r.Attempts}
	if err := json.Unmarshal([]byte(r.Categories), &a.Categories); err != nil {
		return retention.JournalAction{}, decodeError("journal action", r.ID, "categories", err)
	}
	return a, nil
}

type planRow struct {
	bun.BaseModel `bun:"table:run_plans"`

	RunID      string `bun:"run_id,pk"`
	Seq        int    `bun:"seq,pk"`
	CustomerID string `bun:"customer_id"`
	Connector  string `bun:"connector"`
	Action     string `bun:"action"`
}

type leaseRow struct {
	bun.BaseModel `bun:"table:sweep_lease"`

	Name      string `bun:"name,pk"`
	Holder    string `bun:"holder"`
	ExpiresAt int64  `bun:"expires_at"`
	Epoch     int64  `bun:"epoch"`
}

func (q *queries) scanEntries(ctx context.Context, sel *bun.SelectQuery, afterID string, limit int) ([]retention.JournalEntry, error) {
	if afterID != "" {
		sel = sel.Where("id > ?", afterID)
	}
	var rows []entryRow
	if err := sel.Model(&rows).OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, internal("journal entries", err)
	}
	out, err := domains(rows, (*entryRow).domain)
	return out, internal("journal entries", err)
}

func (q *queries) RetryableEntries(ctx context.Context, asOf time.Time, afterID string, limit int) ([]retention.JournalEntry, error) {
	sel := q.idb.NewSelect().Model((*entryRow)(nil)).Where("status = ? AND next_attempt_at <= ?", retention.EntryOpen, toMicros(asOf))
	return q.scanEntries(ctx, sel, afterID, limit)
}

func (q *queries) RunEntries(ctx context.Context, runID string, asOf time.Time, afterID string, limit int) ([]retention.JournalEntry, error) {
	sel := q.idb.NewSelect().Model((*entryRow)(nil)).
		Where("run_id = ? AND status = ? AND next_attempt_at <= ?", runID, retention.EntryOpen, toMicros(asOf))
	return q.scanEntries(ctx, sel, afterID, limit)
}

func (q *queries) EntryActions(ctx context.Context, entryIDs []string) (map[string][]retention.JournalAction, error) {
	return groupedBy(ctx, q, "journal actions", "entry_id", "entry_id, id", entryIDs,
		func(r *actionRow) string { return r.EntryID }, (*actionRow).domain)
}

func (q *queries) Run(ctx context.Context, id string) (*retention.Run, error) {
	var row runRow
	err := q.idb.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, retention.Errorf(retention.CodeNotFound, "no retention run with id %q", id)
	}
	if err != nil {
		return nil, internal("run", err)
	}
	r := row.domain()
	return &r, nil
}

func (q *queries) Runs(ctx context.Context, first int) ([]retention.Run, error) {
	return q.RunsAfter(ctx, "", first, true)
}

// RunsAfter pages through runs newest first; after is the id of the last
// run of the previous page (keyset: a run started since moves nothing);
// withPreviews false leaves out the runs previews recorded.
func (q *queries) RunsAfter(ctx context.Context, after string, first int, withPreviews bool) ([]retention.Run, error) {
	sel := q.idb.NewSelect().Model((*runRow)(nil))
	if !withPreviews {
		sel = sel.Where("trigger_name <> ?", "preview")
	}
	if after != "" {
		var last runRow
		err := q.idb.NewSelect().Model(&last).Column("id", "started_at").Where("id = ?", after).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, retention.FieldErrorf("after", "no retention run with id %q: pass the endCursor of the previous page", truncateID(after))
		}
		if err != nil {
			return nil, internal("runs cursor", err)
		}
		sel = sel.Where("started_at < ? OR (started_at = ? AND id < ?)", last.StartedAt, last.StartedAt, last.ID)
	}
	var rows []runRow
	if err := sel.Model(&rows).OrderExpr("started_at DESC, id DESC").Limit(int64(first)).Scan(ctx); err != nil {
		return nil, internal("runs", err)
	}
	out := make([]retention.Run, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (q *queries) RunActions(ctx context.Context, runID string, first int) ([]retention.PlannedAction, error) {
	return q.RunActionsAfter(ctx, runID, "", first)
}

// RunActionsAfter pages through a run's plan (dry runs: by seq) or journal
// actions (real runs: by id); each action carries its cursor, "p" or "a"
// and the key, so that a page continues in the source it came from.
func (q *queries) RunActionsAfter(ctx context.Context, runID, after string, first int) ([]retention.PlannedAction, error) {
	out := []retention.PlannedAction{}
	kind, key, _ := strings.Cut(after, ":")
	if after != "" && kind != "p" && kind != "a" {
		return nil, retention.FieldErrorf("after", "%q is not a cursor of this list: pass the endCursor of the previous page", truncateID(after))
	}
	if kind != "a" {
		sel := q.idb.NewSelect().Model((*planRow)(nil)).Where("run_id = ?", runID)
		if kind == "p" {
			seq, err := strconv.Atoi(key)
			if err != nil {
				return nil, retention.FieldErrorf("after", "%q is not a cursor of this list: pass the endCursor of the previous page", truncateID(after))
			}
			sel = sel.Where("seq > ?", seq)
		}
		var plan []planRow
		if err := sel.Model(&plan).OrderExpr("seq").Limit(int64(first)).Scan(ctx); err != nil {
			return nil, internal("run plan", err)
		}
		for _, p := range plan {
			out = append(out, retention.PlannedAction{CustomerID: p.CustomerID, Connector: p.Connector, Action: p.Action, Cursor: "p:" + strconv.Itoa(p.Seq)})
		}
		if len(out) > 0 || kind == "p" {
			return out, nil
		}
	}
	sel := q.idb.NewSelect().Model((*actionRow)(nil)).Where("run_id = ?", runID)
	if kind == "a" {
		sel = sel.Where("id > ?", key)
	}
	var rows []actionRow
	if err := sel.Model(&rows).OrderExpr("id").Limit(int64(first)).Scan(ctx); err != nil {
		return nil, internal("run actions", err)
	}
	for i := range rows {
		a, err := rows[i].domain()
		if err != nil {
			return nil, internal("run actions", err)
		}
		out = append(out, retention.PlannedAction{CustomerID: a.CustomerID, Connector: a.Connector,
			Action: retention.DescribeOperation(a.Operation, a.Categories), Outcome: a.Outcome, Records: a.Records, Cursor: "a:" + rows[i].ID})
	}
	return out, nil
}

func (q *queries) RunActionsNotFound(ctx context.Context, runID string) (int, error) {
	n, err := q.idb.NewSelect().Model((*actionRow)(nil)).Where("run_id = ? AND outcome = ?", runID, retention.OutcomeNotFound).Count(ctx)
	return int(n), internal("run actions not found", err)
}

func (q *queries) RunFailures(ctx context.Context, runID string, first int) ([]retention.RunFailure, error) {
	return q.RunFailuresAfter(ctx, runID, "", first)
}

// RunFailuresAfter pages through a run's failed actions by id; after is
// the id (the cursor) of the last failure of the previous page.
func (q *queries) RunFailuresAfter(ctx context.Context, runID, after string, first int) ([]retention.RunFailure, error) {
	var rows []struct {
		ID         string  `bun:"id"`
		CustomerID string  `bun:"customer_id"`
		Connector  string  `bun:"connector"`
		Reason     *string `bun:"reason"`
		Attempts   int     `bun:"attempts"`
		Status     string  `bun:"status"`
	}
	sel := q.idb.NewSelect().TableExpr("journal_actions AS a").
		ColumnExpr("a.id, a.customer_id, a.connector, a.reason, a.attempts, e.status").
		Join("JOIN journal_entries AS e ON e.id = a.entry_id").
		Where("a.run_id = ? AND a.status = ?", runID, retention.ActionFailed)
	if after != "" {
		sel = sel.Where("a.id > ?", after)
	}
	err := sel.OrderExpr("a.id").Limit(int64(first)).Scan(ctx, &rows)
	if err != nil {
		return nil, internal("run failures", err)
	}
	out := make([]retention.RunFailure, len(rows))
	for i, r := range rows {
		out[i] = retention.RunFailure{CustomerID: r.CustomerID, Connector: r.Connector, Error: strVal(r.Reason), Attempts: r.Attempts,
			GaveUp: r.Status == string(retention.EntryFailed), Cursor: r.ID}
	}
	return out, nil
}

func (q *queries) OpenVisitsStartedBefore(ctx context.Context, t time.Time, limit int) ([]retention.Visit, error) {
	var rows []visitRow
	err := q.idb.NewSelect().Model(&rows).Where("ended_at IS NULL AND started_at < ?", toMicros(t)).
		OrderExpr("started_at, id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, internal("open visits", err)
	}
	out, err := domains(rows, (*visitRow).domain)
	return out, internal("open visits", err)
}

func (q *queries) InsertRun(ctx context.Context, r retention.Run) error {
	_, err := q.idb.NewInsert().Model(runFromDomain(r)).Exec(ctx)
	return internal("insert run", err)
}

func (q *queries) SaveRun(ctx context.Context, r retention.Run) error {
	_, err := q.idb.NewUpdate().Model(runFromDomain(r)).ExcludeColumn("id").WherePK().Exec(ctx)
	return internal("save run", err)
}

func (q *queries) AdoptOpenEntries(ctx context.Context, runID string, asOf time.Time) (int, int, error) {
	res, err := q.idb.NewUpdate().Model((*entryRow)(nil)).Set("run_id = ?", runID).
		Where("status = ? AND next_attempt_at <= ? AND run_id <> ?", retention.EntryOpen, toMicros(asOf), runID).Exec(ctx)
	if err != nil {
		return 0, 0, internal("adopt entries", err)
	}
	entries, _ := res.RowsAffected()
	if entries == 0 {
		return 0, 0, nil
	}
	res, err = q.idb.NewUpdate().Model((*actionRow)(nil)).Set("run_id = ?", runID).
		Where("run_id <> ? AND entry_id IN (SELECT id FROM journal_entries WHERE run_id = ? AND status = ?)", runID, runID, retention.EntryOpen).Exec(ctx)
	if err != nil {
		return 0, 0, internal("adopt actions", err)
	}
	actions, _ := res.RowsAffected()
	return int(entries), int(actions), nil
}

func (q *queries) InterruptStaleRuns(ctx context.Context, reason string) error {
	now := toMicros(time.Now())
	_, err := q.idb.NewUpdate().Model((*runRow)(nil)).
		Set("status = ?", retention.RunFailed).Set("finished_at = ?", now).Set("error = ?", reason).
		Where("status IN (?, ?)", retention.RunRunning, retention.RunPlanned).Exec(ctx)
	return internal("interrupt stale runs", err)
}

// entryColumns and actionColumns are the journal's columns in the order
// entryValues and actionValues give them.
const (
	entryColumns = "id, run_id, customer_id, kind, categories, requested_by, policy_name, policy_version, rule, " +
		"due_at, planned_at, status, attempts, next_attempt_at, last_error, closed_at, subject"
	actionColumns = "id, entry_id, run_id, customer_id, connector, operation, categories, status, outcome, records, " +
		"reason, attempts, updated_at"
	entryColumnCount  = 17
	actionColumnCount = 13
)

func entryValues(args []any, e retention.JournalEntry) []any {
	r := entryFromDomain(e)
	return append(args, r.ID, r.RunID, r.CustomerID, r.Kind, r.Categories, nullable(e.RequestedBy), r.PolicyName, r.PolicyVersion,
		r.Rule, r.DueAt, r.PlannedAt, r.Status, r.Attempts, r.NextAttemptAt, nullable(e.LastError), nullablePtr(r.ClosedAt),
		nullablePtr(r.Subject))
}

func actionValues(args []any, a retention.JournalAction, now int64) []any {
	r := actionFromDomain(a, now)
	return append(args, r.ID, r.EntryID, r.RunID, r.CustomerID, r.Connector, r.Operation, r.Categories, r.Status,
		nullable(string(a.Outcome)), r.Records, nullable(a.Reason), r.Attempts, r.UpdatedAt)
}

// nullablePtr is *p, or NULL.
func nullablePtr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// InsertEntries journals planned entries and their actions: multi-row
// INSERTs with bound values (bound.go), a sweep writes thousands a batch.
func (q *queries) InsertEntries(ctx context.Context, entries []retention.JournalEntry, actions []retention.JournalAction) error {
	now := toMicros(time.Now())
	args := make([]any, 0, len(entries)*entryColumnCount)
	for _, e := range entries {
		args = entryValues(args, e)
	}
	err := q.execRows(ctx, func(n int) string {
		return "INSERT INTO journal_entries (" + entryColumns + ") VALUES " + valuesList(n, entryColumnCount)
	}, entryColumnCount, args)
	if err != nil {
		return internal("insert entries", err)
	}
	args = make([]any, 0, len(actions)*actionColumnCount)
	for _, a := range actions {
		args = actionValues(args, a, now)
	}
	err = q.execRows(ctx, func(n int) string {
		return "INSERT INTO journal_actions (" + actionColumns + ") VALUES " + valuesList(n, actionColumnCount)
	}, actionColumnCount, args)
	return internal("insert actions", err)
}

func (q *queries) SaveEntry(ctx context.Context, e retention.JournalEntry) error {
	_, err := q.idb.NewUpdate().Model(entryFromDomain(e)).ExcludeColumn("id").WherePK().Exec(ctx)
	return internal("save entry", err)
}

func (q *queries) InsertPlan(ctx context.Context, runID string, firstSeq int, plan []retention.PlannedAction) error {
	const batch = 500
	for i := 0; i < len(plan); i += batch {
		rows := make([]*planRow, 0, batch)
		for j, p := range plan[i:min(i+batch, len(plan))] {
			rows = append(rows, &planRow{RunID: runID, Seq: firstSeq + i + j, CustomerID: p.CustomerID, Connector: p.Connector, Action: p.Action})
		}
		if _, err := q.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return internal("insert plan", err)
		}
	}
	return nil
}

const sweepLeaseName = "sweep"

func (q *queries) SweepLeaseHolder(ctx context.Context) (string, time.Time, error) {
	var row leaseRow
	err := q.idb.NewSelect().Model(&row).Where("name = ?", sweepLeaseName).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, internal("sweep lease", err)
	}
	return row.Holder, fromMicros(row.ExpiresAt), nil
}

func (q *queries) HoldsSweepLease(ctx context.Context, l retention.Lease, until time.Time) (bool, error) {
	n, err := q.idb.NewSelect().Model((*leaseRow)(nil)).
		Where("name = ? AND holder = ? AND epoch = ? AND expires_at > ?", sweepLeaseName, l.Holder, l.Epoch, toMicros(until)).Count(ctx)
	if err != nil {
		return false, internal("sweep lease", err)
	}
	return n == 1, nil
}

func (q *queries) AcquireSweepLease(ctx context.Context, holder string, now, until time.Time, takeOver string) (retention.Lease, bool, error) {
	return acquireLease(ctx, q.idb, sweepLeaseName, holder, now, until, takeOver)
}

func (q *queries) RenewSweepLease(ctx context.Context, l retention.Lease, until time.Time) error {
	// An UPDATE, not a read: the lease row stays locked until this
	// transaction commits, so no other process can take the lease between
	// this check and the changes made after it in the same transaction.
	renewed, err := renewLease(ctx, q.idb, sweepLeaseName, l, until)
	if err == nil && !renewed {
		err = retention.ErrLeaseLost
	}
	return err
}

func (q *queries) ReleaseSweepLease(ctx context.Context, l retention.Lease) error {
	return releaseLease(ctx, q.idb, sweepLeaseName, l)
}

func (q *queries) CustomersWithOpenEntries(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(ids); start += bulkRows {
		chunk := ids[start:min(start+bulkRows, len(ids))]
		var found []string
		err := q.idb.NewSelect().Model((*entryRow)(nil)).Column("customer_id").
			Where("status = ? AND customer_id IN (?)", retention.EntryOpen, bun.In(chunk)).
			Scan(ctx, &found)
		if err != nil {
			return nil, internal("open entries", err)
		}
		for _, id := range found {
			out[id] = true
		}
	}
	return out, nil
}

func (q *queries) OpenEntryOf(ctx context.Context, customerID string) (*retention.JournalEntry, error) {
	var rows []entryRow
	err := q.idb.NewSelect().Model(&rows).Where("customer_id = ? AND status = ?", customerID, retention.EntryOpen).Limit(1).Scan(ctx)
	if err != nil {
		return nil, internal("open entry", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	e, err := rows[0].domain()
	if err != nil {
		return nil, internal("open entry", err)
	}
	return &e, nil
}

func (q *queries) AdoptEntry(ctx context.Context, entryID, runID string, at time.Time) error {
	_, err := q.idb.NewUpdate().Model((*entryRow)(nil)).Set("run_id = ?, next_attempt_at = ?", runID, toMicros(at)).
		Where("id = ? AND status = ?", entryID, retention.EntryOpen).Exec(ctx)
	if err != nil {
		return internal("adopt entry", err)
	}
	_, err = q.idb.NewUpdate().Model((*actionRow)(nil)).Set("run_id = ?", runID).Where("entry_id = ?", entryID).Exec(ctx)
	return internal("adopt entry actions", err)
}

func (q *queries) DoneEntriesOf(ctx context.Context, customerID string) ([]retention.JournalEntry, error) {
	var rows []entryRow
	err := q.idb.NewSelect().Model(&rows).Where("customer_id = ? AND status = ?", customerID, retention.EntryDone).
		OrderExpr("closed_at, id").Limit(retention.MaxPageSize).Scan(ctx)
	if err != nil {
		return nil, internal("done entries", err)
	}
	out, err := domains(rows, (*entryRow).domain)
	return out, internal("done entries", err)
}
