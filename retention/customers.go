package retention

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"
	"time"
)

// MaxPageSize caps `first` on every list.
const MaxPageSize = 100

// DefaultPageSize is used when `first` is not given.
const DefaultPageSize = 20

// earliestTime bounds imported times: nothing Lethe keeps predates it.
var earliestTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// latestTime bounds future times (appointments, holds).
var LatestTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Service) checkPast(field string, t time.Time) error {
	if t.Before(earliestTime) {
		return FieldErrorf(field, "%s %s is before 1900", field, FormatTime(t))
	}
	if t.After(s.Now()) {
		return FieldErrorf(field, "%s %s lies in the future; only past times are allowed here", field, FormatTime(t))
	}
	return nil
}

func CheckRange(field string, t time.Time) error {
	if t.Before(earliestTime) || !t.Before(LatestTime) {
		return FieldErrorf(field, "%s %s is out of range (1900-2199)", field, FormatTime(t))
	}
	return nil
}

// CustomerInput is a new customer.
type CustomerInput struct {
	PersonalData
	// LastInteractionAt imports an existing customer's last interaction;
	// default now, never in the future.
	LastInteractionAt *time.Time
}

// CreateCustomer adds a customer, honouring the collection preferences.
// Errors: BAD_USER_INPUT naming the field.
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	data, err := NormalizePersonalData("", in.PersonalData)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	touched, kind := now, EventCreated
	if in.LastInteractionAt != nil {
		if err := s.checkPast("lastInteractionAt", *in.LastInteractionAt); err != nil {
			return nil, err
		}
		touched, kind = in.LastInteractionAt.UTC(), EventImported
	}
	c := &Customer{ID: NewID("cus_"), PersonalData: data, Status: StatusActive, CreatedAt: now, TouchedAt: touched}
	c.Timeline.Observe(kind, touched)
	err = s.store.Update(ctx, func(tx Tx) error {
		prefs, err := tx.FieldPreferences(ctx)
		if err != nil {
			return err
		}
		if err := prefs.CheckCustomerInput(data); err != nil {
			return err
		}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		// The names of the fields given, never their values.
		given := []string{}
		for _, f := range AllFields {
			if data.Get(f) != nil {
				given = append(given, f.InputName())
			}
		}
		return s.audit(ctx, tx, AuditCustomerCreate, c.ID, map[string]any{"fields": given, "imported": in.LastInteractionAt != nil})
	})
	if err != nil {
		return nil, err
	}
	return s.masked(ctx, c)
}

// masked applies the collection preferences to what a reader sees.
func (s *Service) masked(ctx context.Context, c *Customer) (*Customer, error) {
	prefs, err := s.readPreferences(ctx)
	if err != nil {
		return nil, err
	}
	out := *c
	out.PersonalData = prefs.Mask(c.PersonalData)
	return &out, nil
}

// Customer returns a customer as readers see it (fields not collected read
// as null). Errors: NOT_FOUND, also for erased customers.
func (s *Service) Customer(ctx context.Context, id string) (*Customer, error) {
	c, err := s.liveCustomer(ctx, s.store, id)
	if err != nil {
		return nil, err
	}
	return s.masked(ctx, c)
}

func (s *Service) liveCustomer(ctx context.Context, r Reader, id string) (*Customer, error) {
	if len(id) > 200 {
		return nil, Errorf(CodeNotFound, "no customer with id %q", Truncate(id, 40))
	}
	c, err := r.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.ErasedAt != nil {
		return nil, Errorf(CodeNotFound, "customer %s was erased at %s", id, FormatTime(*c.ErasedAt))
	}
	return c, nil
}

// CustomerSearchPage is one page of a customer search.
type CustomerSearchPage struct {
	Customers   []*Customer
	Cursors     []string
	HasNextPage bool
	// TotalCount is exact up to MaxSearchCount, then capped (TotalCapped).
	TotalCount  int
	TotalCapped bool
}

const cursorPrefix = "customer:"

// EncodeCursor makes an opaque cursor from a customer id.
func EncodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id))
}

func decodeCursor(cursor string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) || len(raw) == len(cursorPrefix) || len(raw) > 200 {
		return "", FieldErrorf("after", "cursor %q is not valid: pass an endCursor or edge cursor from a previous page", Truncate(cursor, 40))
	}
	return strings.TrimPrefix(string(raw), cursorPrefix), nil
}

// SearchCustomers finds customers by name, email or phone prefix, with the
// total count. Errors: as Search.
func (s *Service) SearchCustomers(ctx context.Context, search string, first *int, after *string) (CustomerSearchPage, error) {
	return s.Search(ctx, search, first, after, true)
}

// Search finds customers by name, email or phone prefix; count asks for the
// (bounded) total count. Errors: BAD_USER_INPUT for first outside 0-100, a
// bad cursor, a search over 1 KB.
func (s *Service) Search(ctx context.Context, search string, first *int, after *string, count bool) (CustomerSearchPage, error) {
	return s.SearchFiltered(ctx, search, CustomerFilter{}, first, after, count)
}

// SearchFiltered is Search keeping only the customers filter accepts (its
// Now is set here). Errors: as Search, and BAD_USER_INPUT for an unknown
// status.
func (s *Service) SearchFiltered(ctx context.Context, search string, filter CustomerFilter, first *int, after *string, count bool) (CustomerSearchPage, error) {
	return s.SearchSorted(ctx, search, filter, CustomerOrder{}, first, after, count)
}

// SearchSorted is SearchFiltered in order (a cursor carries its order's
// value). Errors: as SearchFiltered, and BAD_USER_INPUT for a cursor of
// another order.
func (s *Service) SearchSorted(ctx context.Context, search string, filter CustomerFilter, order CustomerOrder, first *int, after *string, count bool) (CustomerSearchPage, error) {
	if !order.Valid() {
		return CustomerSearchPage{}, FieldErrorf("orderBy", "unknown order %q", Truncate(string(order.Key), 40))
	}
	if filter.Status != "" && !filter.Status.Valid() {
		return CustomerSearchPage{}, FieldErrorf("status", "unknown status %q", Truncate(string(filter.Status), 40))
	}
	filter.Now = s.Now()
	q := SearchQuery{Text: strings.TrimSpace(search), First: DefaultPageSize, Count: count, Filter: filter, Order: order}
	if filter.Overdue || order.Key == SortByDeletionTime {
		policies, err := s.store.Policies(ctx)
		if err != nil {
			return CustomerSearchPage{}, err
		}
		dp, err := s.store.DataPolicy(ctx)
		if err != nil {
			return CustomerSearchPage{}, err
		}
		cut := CutoffsAt(NewPolicySet(policies), dp, filter.Now)
		q.Rules = &cut
		if filter.Overdue {
			q.Filter.Due = &cut
		}
	}
	if err := validateText("search", search); err != nil {
		return CustomerSearchPage{}, err
	}
	if first != nil {
		if *first < 0 || *first > MaxPageSize {
			return CustomerSearchPage{}, FieldErrorf("first", "first must be between 0 and %d, got %d", MaxPageSize, *first)
		}
		q.First = *first
	}
	if after != nil {
		id, v, err := decodeSortCursor(order, *after)
		if err != nil {
			return CustomerSearchPage{}, err
		}
		q.After, q.AfterValue = id, v
	}
	prefs, err := s.readPreferences(ctx)
	if err != nil {
		return CustomerSearchPage{}, err
	}
	for _, f := range AllFields {
		if prefs.Visible(f) {
			q.Fields = append(q.Fields, f)
		}
	}
	page, err := s.store.SearchCustomers(ctx, q)
	if err != nil {
		return CustomerSearchPage{}, err
	}
	out := CustomerSearchPage{HasNextPage: page.HasNextPage, TotalCount: page.TotalCount, TotalCapped: page.TotalCapped}
	for i, c := range page.Customers {
		m := *c
		m.PersonalData = prefs.Mask(c.PersonalData)
		out.Customers = append(out.Customers, &m)
		var v SortValue
		if i < len(page.Values) {
			v = page.Values[i]
		}
		out.Cursors = append(out.Cursors, EncodeSortCursor(order, c.ID, v))
	}
	return out, nil
}

// updateCustomer loads a live customer in a write transaction, applies
// change, recomputes its schedule, saves it and records action in the audit
// log with the details change returns.
func (s *Service) updateCustomer(ctx context.Context, id, action string, change func(tx Tx, c *Customer) (map[string]any, error)) (*Customer, error) {
	var out *Customer
	err := s.store.Update(ctx, func(tx Tx) error {
		c, err := s.liveCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		details, err := change(tx, c)
		if err != nil {
			return err
		}
		out = c
		if err := tx.SaveCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, action, c.ID, details)
	})
	if err != nil {
		return nil, err
	}
	return s.masked(ctx, out)
}

// SetCustomerStatus records a status change, now or at a past time (imports).
// Setting the status a customer already has changes nothing; a change dated
// before the latest is history only (the latest in time is current), and
// statusChangedAt is when the customer entered its current status, in time
// order of the whole history.
// Errors: BAD_USER_INPUT, NOT_FOUND.
func (s *Service) SetCustomerStatus(ctx context.Context, id string, status Status, at *time.Time) (*Customer, error) {
	if !status.Valid() {
		return nil, FieldErrorf("status", "unknown status %q", status)
	}
	when := s.Now()
	if at != nil {
		if err := s.checkPast("at", *at); err != nil {
			return nil, err
		}
		when = at.UTC()
	}
	return s.updateCustomer(ctx, id, AuditCustomerStatus, func(tx Tx, c *Customer) (map[string]any, error) {
		details := map[string]any{"status": oldNew(string(c.Status), string(status))}
		history, err := statusHistory(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		// The current status is that of the latest change in time.
		current := len(history) == 0 || !when.Before(history[len(history)-1].At)
		if current && c.Status == status {
			return details, nil // no change
		}
		details["at"] = FormatTime(when)
		details["current"] = current
		// An older change imported after a later one joins the history
		// (this audit event) and the clock, but does not become current;
		// it may move when the current status began: a customer CANCELLED
		// at T1 whose import says CANCELLED at T0 < T1, with no other
		// status between, has been CANCELLED since T0.
		history = append(history, statusChange{status, when})
		sort.SliceStable(history, func(i, j int) bool { return history[i].At.Before(history[j].At) })
		cur, since, _ := currentStatus(history)
		if !current {
			details["status"] = oldNew(string(c.Status), string(c.Status))
			details["imported"] = string(status)
			if c.StatusChangedAt != nil && !since.Equal(*c.StatusChangedAt) {
				details["statusSince"] = oldNew(FormatTime(*c.StatusChangedAt), FormatTime(since))
			}
		}
		c.Status, c.StatusChangedAt = cur, &since
		c.Timeline.Observe(EventStatusChange, when)
		return details, nil
	})
}

// SetCustomerPolicy assigns a policy to a customer ("" returns it to the
// automatic choice). Not an event: no clock changes.
// Errors: BAD_USER_INPUT (unknown policy), NOT_FOUND.
func (s *Service) SetCustomerPolicy(ctx context.Context, id, policy string) (*Customer, error) {
	return s.updateCustomer(ctx, id, AuditCustomerPolicy, func(tx Tx, c *Customer) (map[string]any, error) {
		if policy != "" {
			// Held until commit: a deletion of the policy waits for this
			// assignment and then sees it (DeletePolicy).
			if err := tx.LockPolicy(ctx, policy, false); err != nil {
				return nil, err
			}
			if _, err := tx.Policy(ctx, policy); err != nil {
				if ErrorCode(err) == CodeNotFound {
					return nil, FieldErrorf("policy", "unknown retention policy %q", Truncate(policy, 70))
				}
				return nil, err
			}
		}
		// "" is the automatic choice.
		details := map[string]any{"policy": oldNew(c.PolicyName, policy)}
		c.PolicyName = policy
		return details, nil
	})
}

// LastInteraction is the latest event of c that has already happened.
func (s *Service) LastInteraction(ctx context.Context, c *Customer) (*time.Time, error) {
	return s.LastInteractionOf(c, func() (CustomerEvents, error) {
		appts, err := s.store.Appointments(ctx, []string{c.ID})
		if err != nil {
			return CustomerEvents{}, err
		}
		visits, err := s.store.Visits(ctx, []string{c.ID})
		if err != nil {
			return CustomerEvents{}, err
		}
		changes, err := s.StatusChangeTimes(ctx, []string{c.ID})
		if err != nil {
			return CustomerEvents{}, err
		}
		return CustomerEvents{appts[c.ID], visits[c.ID], changes[c.ID]}, nil
	})
}

// CustomerEvents is what LastInteractionOf may need to read about a
// customer besides the customer itself.
type CustomerEvents struct {
	Appointments []Appointment
	Visits       []Visit
	// StatusChanges is when each status change recorded in the audit log
	// happened (StatusChangeTimes).
	StatusChanges []time.Time
}

// LastInteractionOf is LastInteraction with the customer's events read by
// events, which is called only when they are needed (the customer's clock
// lies in the future), so that a caller showing many customers can read
// them for all at once.
func (s *Service) LastInteractionOf(c *Customer, events func() (CustomerEvents, error)) (*time.Time, error) {
	now := s.Now()
	if c.ErasedAt != nil {
		return nil, nil
	}
	if !c.Timeline.LatestEnd.After(now) {
		t := c.Timeline.LatestEnd
		return &t, nil
	}
	// The clock lies in the future (an appointment ahead, an open visit):
	// find the latest event that has happened.
	latest := c.TouchedAt
	consider := func(t time.Time) {
		if !t.After(now) && t.After(latest) {
			latest = t
		}
	}
	ev, err := events()
	if err != nil {
		return nil, err
	}
	// Every status change, not only when the current status began (an
	// imported change may have moved that earlier than the latest one).
	if c.StatusChangedAt != nil {
		consider(*c.StatusChangedAt)
	}
	for _, at := range ev.StatusChanges {
		consider(at)
	}
	for _, a := range ev.Appointments {
		if a.EndsAt.After(now) {
			consider(a.StartsAt)
		} else {
			consider(a.EndsAt)
		}
	}
	for _, v := range ev.Visits {
		if v.EndedAt != nil {
			consider(*v.EndedAt)
		} else {
			consider(v.StartedAt)
		}
	}
	return &latest, nil
}

// DeletionTime is when Lethe will next act on c: nil under a legal hold.
// It is derived from c's anchors and the rules in force (ReadRules: a
// change made through this Service applies at once, one made by another
// replica within DefaultCacheTTL); nothing stores it.
func (s *Service) DeletionTime(c *Customer) *time.Time {
	if c.Held(s.Now()) {
		return nil
	}
	policies, dp, err := s.ReadRules(context.Background())
	if err != nil {
		s.log.Error("deletion time: rules unreadable", "customer", c.ID, "err", err)
		return nil
	}
	return ComputeSchedule(c, NewPolicySet(policies), dp).DeletionTime
}

// DeletionReason explains c's deletion time.
func (s *Service) DeletionReason(ctx context.Context, c *Customer) (string, error) {
	policies, err := s.store.Policies(ctx)
	if err != nil {
		return "", err
	}
	dp, err := s.store.DataPolicy(ctx)
	if err != nil {
		return "", err
	}
	return DeletionReason(c, NewPolicySet(policies), dp, s.Now()), nil
}

// EffectivePolicy is the policy governing c.
func (s *Service) EffectivePolicy(ctx context.Context, c *Customer) (Policy, error) {
	policies, err := s.store.Policies(ctx)
	if err != nil {
		return Policy{}, err
	}
	return EffectivePolicy(c, NewPolicySet(policies)), nil
}
