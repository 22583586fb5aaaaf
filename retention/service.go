package retention

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Service is Lethe's use cases. Every method validates its input first and
// writes nothing when it returns an error.
type Service struct {
	store      Store
	connectors ConnectorRegistry
	now        Clock
	log        *slog.Logger
	metrics    Metrics
	// ledger, when set, records every erase and anonymise (WithLedger).
	ledger ErasureLedger
	// batchSize, when set, is the customers per connector call of the
	// engines the service starts itself (HIDDEN purges, manual erasures).
	batchSize int
	// sweepMaxRate caps a sweep's customers per second (WithSweepMaxRate).
	sweepMaxRate int
	// leaseTTL, when set, is the sweep lease term of those engines: a
	// replica frozen during a manual erasure is fenced out after the same
	// term as one frozen during a sweep.
	leaseTTL time.Duration
	// engine carries out the runs the service starts itself
	// (SetRelinquisher).
	engine Relinquisher
	// tokens caches live API tokens, prefs the collection preferences,
	// for a short time (see DefaultCacheTTL).
	tokens *shortCache[TokenHash, APIToken]
	prefs  *shortCache[struct{}, FieldPreferences]
	rules  *shortCache[struct{}, readRules]
}

// readRules are the policies and the data policy as readers see them.
type readRules struct {
	policies   []Policy
	dataPolicy DataPolicy
}

// Option configures a Service.
type Option func(*Service)

// WithClock substitutes the clock (tests).
func WithClock(c Clock) Option { return func(s *Service) { s.now = c } }

// WithCacheTTL sets how long API tokens and the collection preferences
// read from the database are trusted without reading them again: the
// bound within which a change made by another process applies here (0
// reads them every time).
func WithCacheTTL(d time.Duration) Option {
	return func(s *Service) {
		s.tokens = newShortCache[TokenHash, APIToken](d)
		s.prefs = newShortCache[struct{}, FieldPreferences](d)
		s.rules = newShortCache[struct{}, readRules](d)
	}
}

// WithConnectors sets the connectors that hold customer data outside Lethe.
func WithConnectors(r ConnectorRegistry) Option { return func(s *Service) { s.connectors = r } }

// WithBatchSize sets the customers per connector call of every engine
// built from these options, including the runs the service starts itself
// (HIDDEN purges, manual erasures), so that one setting bounds them all.
func WithBatchSize(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.batchSize = n
		}
	}
}

// WithSweepMaxRate caps how many customers per second a sweep plans and
// dispatches (0: no cap): an operator's bound on how hard a backlog sweep
// may press on the database and the connectors. The time a run waits for it
// is its ThrottledSeconds.
func WithSweepMaxRate(perSecond int) Option {
	return func(s *Service) {
		if perSecond > 0 {
			s.sweepMaxRate = perSecond
		}
	}
}

// WithLeaseTTL sets the sweep lease term of every engine built from these
// options, including the runs the service starts itself.
func WithLeaseTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.leaseTTL = d
		}
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the use cases over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, log: slog.Default(), metrics: NopMetrics{}}
	WithCacheTTL(DefaultCacheTTL)(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now is the service's current time, in UTC.
// It is truncated to microseconds, the precision both databases keep, so
// that what a use case returns equals what a later read returns.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Store returns the store (for the engine and tools built on the service).
func (s *Service) Store() Store { return s.store }

func NewID(prefix string) string {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return prefix + id.String()
}

// Policies lists every policy, built-in first.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	ps, err := s.store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	return NewPolicySet(ps).Sorted(), nil
}

// ReadRules returns every policy and the data policy, for showing each
// customer's policy and deletion reason, from the short cache (see
// DefaultCacheTTL): a change made through this Service applies to the next
// read, one made elsewhere within the TTL. Deletion times and erasures
// never use it: they are computed from the rules read in their own
// transaction. What it returns is shared: read it only.
func (s *Service) ReadRules(ctx context.Context) ([]Policy, DataPolicy, error) {
	r, gen, ok := s.rules.get(struct{}{})
	if ok {
		return r.policies, r.dataPolicy, nil
	}
	ps, err := s.store.Policies(ctx)
	if err != nil {
		return nil, DataPolicy{}, err
	}
	dp, err := s.store.DataPolicy(ctx)
	if err != nil {
		return nil, DataPolicy{}, err
	}
	s.rules.put(struct{}{}, readRules{policies: ps, dataPolicy: dp}, gen)
	return ps, dp, nil
}

// Policy returns one policy; NOT_FOUND for an unknown name.
func (s *Service) Policy(ctx context.Context, name string) (Policy, error) {
	return s.store.Policy(ctx, name)
}

// CreatePolicy adds a custom policy. Errors: BAD_USER_INPUT.
func (s *Service) CreatePolicy(ctx context.Context, name string, days int, description string) (Policy, error) {
	if err := ValidatePolicyName(name); err != nil {
		return Policy{}, err
	}
	if err := ValidateRetentionDays("retentionDays", days); err != nil {
		return Policy{}, err
	}
	if err := ValidateDescription(description); err != nil {
		return Policy{}, err
	}
	p := Policy{Name: name, Description: description, RetentionDays: days, DefaultDays: days, Version: 1}
	defer s.rules.change()()
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertPolicy(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPolicyCreate, name, map[string]any{"retentionDays": days, "description": description})
	})
	return p, err
}

// UpdatePolicy changes a policy's days and/or description; the new days apply
// retrospectively to every customer it governs. Errors: BAD_USER_INPUT,
// NOT_FOUND.
func (s *Service) UpdatePolicy(ctx context.Context, name string, days *int, description *string) (Policy, error) {
	if days != nil {
		if err := ValidateRetentionDays("retentionDays", *days); err != nil {
			return Policy{}, err
		}
	}
	if description != nil {
		if err := ValidateDescription(*description); err != nil {
			return Policy{}, err
		}
	}
	return s.changePolicy(ctx, name, AuditPolicyUpdate, func(p *Policy) {
		if days != nil {
			p.RetentionDays = *days
		}
		if description != nil {
			p.Description = *description
		}
	})
}

// DeletePolicy removes a custom policy that no customer is assigned.
// Errors: NOT_FOUND; BAD_USER_INPUT for a built-in policy; POLICY_IN_USE
// (Details: customers) while customers are assigned it.
func (s *Service) DeletePolicy(ctx context.Context, name string) (Policy, error) {
	var out Policy
	defer s.rules.change()()
	err := s.store.Update(ctx, func(tx Tx) error {
		if err := tx.LockPolicy(ctx, name, true); err != nil {
			return err
		}
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return err
		}
		if p.BuiltIn {
			return FieldErrorf("name", "%s is a built-in policy: it can be reverted to its default days, never deleted", name)
		}
		n, err := tx.PolicyCustomers(ctx, name)
		if err != nil {
			return err
		}
		if n > 0 {
			e := Errorf(CodePolicyInUse, "%d customer%s assigned %s: assign them another policy first", n, map[bool]string{true: " is", false: "s are"}[n == 1], name)
			e.Details = map[string]any{"customers": n}
			return e
		}
		if err := tx.DeletePolicy(ctx, name); err != nil {
			return err
		}
		out = p
		return s.audit(ctx, tx, AuditPolicyDelete, name, map[string]any{"retentionDays": p.RetentionDays, "description": p.Description})
	})
	return out, err
}

// RevertPolicy restores a policy's default days. Errors: NOT_FOUND.
func (s *Service) RevertPolicy(ctx context.Context, name string) (Policy, error) {
	return s.changePolicy(ctx, name, AuditPolicyRevert, func(p *Policy) { p.RetentionDays = p.DefaultDays })
}

func (s *Service) changePolicy(ctx context.Context, name, action string, change func(*Policy)) (Policy, error) {
	var out Policy
	defer s.rules.change()()
	err := s.store.Update(ctx, func(tx Tx) error {
		p, err := tx.Policy(ctx, name)
		if err != nil {
			return err
		}
		before := p
		change(&p)
		details := map[string]any{}
		if p.RetentionDays != before.RetentionDays {
			details["retentionDays"] = oldNew(before.RetentionDays, p.RetentionDays)
		}
		if p.Description != before.Description {
			details["description"] = oldNew(before.Description, p.Description)
		}
		out = p
		if p != before {
			p.Version++
			out = p
			details["version"] = p.Version
			if err := savePolicy(ctx, tx, p); err != nil {
				return err
			}
		}
		// A change that changed nothing is recorded too: someone asked.
		return s.audit(ctx, tx, action, name, details)
	})
	if err != nil {
		return Policy{}, err
	}
	return out, nil
}

// oldNew is how the audit log records a changed setting.
func oldNew(old, new any) map[string]any { return map[string]any{"old": old, "new": new} }

func dataPolicyDetails(dp DataPolicy) map[string]any {
	return map[string]any{"relinquishDeletedData": dp.RelinquishDeletedData, "relinquishAfterDays": dp.RelinquishAfterDays,
		"anonymiseCustomerData": dp.AnonymiseCustomerData, "removeCDRs": dp.RemoveCDRs}
}

// DataPolicy returns the data policy for cancelled and deleted customers.
func (s *Service) DataPolicy(ctx context.Context) (DataPolicy, error) {
	return s.store.DataPolicy(ctx)
}

// UpdateDataPolicy saves the data policy; it applies retrospectively.
// Errors: BAD_USER_INPUT.
func (s *Service) UpdateDataPolicy(ctx context.Context, dp DataPolicy) (DataPolicy, error) {
	return s.saveDataPolicy(ctx, dp, false)
}

// UseDefaultDataPolicy resets the data policy to DefaultDataPolicy.
func (s *Service) UseDefaultDataPolicy(ctx context.Context) (DataPolicy, error) {
	return s.saveDataPolicy(ctx, DefaultDataPolicy(), true)
}

func (s *Service) saveDataPolicy(ctx context.Context, dp DataPolicy, useDefault bool) (DataPolicy, error) {
	if err := dp.Validate(); err != nil {
		return DataPolicy{}, err
	}
	defer s.rules.change()()
	err := s.store.Update(ctx, func(tx Tx) error {
		old, err := tx.DataPolicy(ctx)
		if err != nil {
			return err
		}
		if err := saveDataPolicy(ctx, tx, dp); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditDataPolicyUpdate, "dataPolicy",
			map[string]any{"old": dataPolicyDetails(old), "new": dataPolicyDetails(dp), "useDefault": useDefault})
	})
	if err != nil {
		return DataPolicy{}, err
	}
	return dp, nil
}

// FieldPreferences returns the collection preferences.
func (s *Service) FieldPreferences(ctx context.Context) (FieldPreferences, error) {
	return s.store.FieldPreferences(ctx)
}

// readPreferences returns the collection preferences for masking what a
// reader sees, from the short cache (see DefaultCacheTTL). Writes check
// their input against the preferences read in their own transaction, and
// an export reads them afresh. What it returns is shared: read it only.
func (s *Service) readPreferences(ctx context.Context) (FieldPreferences, error) {
	p, gen, ok := s.prefs.get(struct{}{})
	if ok {
		return p, nil
	}
	p, err := s.store.FieldPreferences(ctx)
	if err != nil {
		return FieldPreferences{}, err
	}
	s.prefs.put(struct{}{}, p, gen)
	return p, nil
}

// UpdateFieldPreferences changes collection on/off and/or field modes; they
// apply at once to every write and read. A field made HIDDEN purges the
// values stored for it, in Lethe in this transaction and in connectors
// holding contact data through the journal (a run starts at once; a crash
// leaves the entries to the next sweep): refused with CONFIRMATION_REQUIRED
// and the counts unless confirm. Errors: BAD_USER_INPUT,
// CONFIRMATION_REQUIRED.
func (s *Service) UpdateFieldPreferences(ctx context.Context, enabled *bool, modes map[Field]FieldMode, confirm bool) (FieldPreferences, error) {
	if err := validateModes(modes); err != nil {
		return FieldPreferences{}, err
	}
	hidden := hiddenFields(modes)
	var out FieldPreferences
	planned, purgeRun := 0, ""
	// Readers here see the new preferences from the commit on; other
	// replicas within DefaultCacheTTL.
	endChange := s.prefs.change()
	defer endChange()
	err := s.store.UpdateRules(ctx, func(tx Tx) error {
		planned = 0 // a retried transaction starts over
		p, err := tx.FieldPreferences(ctx)
		if err != nil {
			return err
		}
		details := map[string]any{}
		if len(hidden) > 0 {
			counts, err := tx.CountStoredValues(ctx, hidden, s.Now())
			if err != nil {
				return err
			}
			pc := purgeCounts(modes, counts)
			total := 0
			for _, c := range pc {
				total += c.Values
			}
			if total > 0 && !confirm {
				return confirmationRequired(pc)
			}
			if total > 0 {
				purged := map[string]any{}
				for _, c := range pc {
					purged[string(c.Field)] = c.Values
				}
				details["purgedValues"] = purged
			}
		}
		if enabled != nil {
			if p.CollectionEnabled != *enabled {
				details["collectionEnabled"] = oldNew(p.CollectionEnabled, *enabled)
			}
			p.CollectionEnabled = *enabled
		}
		for f, m := range modes {
			if old := p.Modes[f]; old != m {
				details[string(f)] = oldNew(string(old), string(m))
			}
			p.Modes[f] = m
		}
		out = p
		if err := tx.SaveFieldPreferences(ctx, p); err != nil {
			return err
		}
		if len(hidden) > 0 {
			now := s.Now()
			run := Run{ID: NewID("run_"), Status: RunSucceeded, Trigger: "purge", Actor: actorName(ctx), AsOf: now, StartedAt: now,
				FinishedAt: &now, HeartbeatAt: now}
			entries, _, err := s.purge(ctx, tx, hidden, run)
			if err != nil {
				return err
			}
			if entries > 0 {
				planned, purgeRun = entries, run.ID
				details["purgeRun"] = run.ID
			}
		}
		return s.audit(ctx, tx, AuditFieldPreferencesUpdate, "fieldPreferences", details)
	})
	if err == nil && planned > 0 {
		s.executePurge(context.WithoutCancel(ctx), purgeRun)
	}
	return out, err
}

// CustomFieldStorage returns, per custom field, whether it is stored in the
// statistics database.
func (s *Service) CustomFieldStorage(ctx context.Context) (CustomFieldStorage, error) {
	return s.store.CustomFieldStorage(ctx)
}

// UpdateCustomFieldStorage changes storage settings; visits already started
// keep the settings they started with. Errors: BAD_USER_INPUT.
func (s *Service) UpdateCustomFieldStorage(ctx context.Context, changes map[string]bool) (CustomFieldStorage, error) {
	for f := range changes {
		if err := ValidateCustomField("input.field", f); err != nil {
			return nil, err
		}
	}
	var out CustomFieldStorage
	err := s.store.UpdateRules(ctx, func(tx Tx) error {
		st, err := tx.CustomFieldStorage(ctx)
		if err != nil {
			return err
		}
		details := map[string]any{}
		for f, on := range changes {
			if st[f] != on {
				details[f] = oldNew(st[f], on)
			}
			st[f] = on
		}
		out = st
		if err := tx.SaveCustomFieldStorage(ctx, st); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditCustomFieldStorageUpdate, "customFieldStorage", details)
	})
	return out, err
}

// MaxCustomFieldLabel bounds a custom field's label, in characters.
const MaxCustomFieldLabel = 40

// CustomFieldLabels returns the labels administrators gave custom fields
// (custom1 "Notes"); a field without one is absent.
func (s *Service) CustomFieldLabels(ctx context.Context) (map[string]string, error) {
	return s.store.CustomFieldLabels(ctx)
}

// UpdateCustomFieldLabels names custom fields; an empty label removes the
// field's. Labels are not personal data: they name a field for people.
// Errors: BAD_USER_INPUT.
func (s *Service) UpdateCustomFieldLabels(ctx context.Context, changes map[string]string) (map[string]string, error) {
	for f, l := range changes {
		if err := ValidateCustomField("input.field", f); err != nil {
			return nil, err
		}
		if err := validateText("input.label", l); err != nil {
			return nil, err
		}
		if n := len([]rune(strings.TrimSpace(l))); n > MaxCustomFieldLabel {
			return nil, FieldErrorf("input.label", "a label has at most %d characters, got %d", MaxCustomFieldLabel, n)
		}
	}
	var out map[string]string
	err := s.store.Update(ctx, func(tx Tx) error {
		labels, err := tx.CustomFieldLabels(ctx)
		if err != nil {
			return err
		}
		details := map[string]any{}
		for f, l := range changes {
			l = strings.TrimSpace(l)
			if labels[f] != l {
				details[f+" label"] = oldNew(labels[f], l)
			}
			if l == "" {
				delete(labels, f)
			} else {
				labels[f] = l
			}
		}
		out = labels
		if err := tx.SaveCustomFieldLabels(ctx, labels); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditCustomFieldStorageUpdate, "customFieldStorage", details)
	})
	return out, err
}

// savePolicy stores a changed policy: one row, whatever the number of
// customers it governs (their deletion times are derived at read time).
func savePolicy(ctx context.Context, tx Tx, p Policy) error {
	return tx.SavePolicy(ctx, p)
}

// saveDataPolicy stores the data policy: one row.
func saveDataPolicy(ctx context.Context, tx Tx, dp DataPolicy) error {
	return tx.SaveDataPolicy(ctx, dp)
}
