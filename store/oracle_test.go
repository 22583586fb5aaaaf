package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/relinquish"
	"github.com/lethe-privacy/lethe/retention"
	"github.com/lethe-privacy/lethe/store"
	"github.com/lethe-privacy/lethe/store/storetest"
)

// This file checks Lethe's rules against an independent reading of
// DESIGN.md ("What the product does" and "What relinquishing does"),
// written here from the text alone: it calls no schedule code of the
// project (no retention.ComputeSchedule, AutomaticPolicy, AnonymiseRule,
// DataPolicy.Categories, Relinquished.Missing …). Random customers are made
// through the service on a real database, random policy changes in every
// direction are applied, and after each the stored deletion times, the dry
// run plans and what real sweeps relinquish must be what the oracle says.

const oracleDay = 24 * time.Hour

// The data categories, as DESIGN.md names them. Anonymising relinquishes
// names, phones and emails (contact), invoice PDFs (invoice) and the visits'
// custom fields ("anonymising drops their custom fields everywhere");
// removeCDRs relinquishes call records (cdr). visit_stats is not named by the
// data policy: the statistics database drops names and custom fields, which
// are the contact and custom_fields categories, and keeps the rest.
var (
	oracleAnonymiseCats = []string{"contact", "custom_fields", "invoice"}
	oracleCDRCats       = []string{"cdr"}
)

// oracleDefaults are the built-in policies' default days (the table).
var oracleDefaults = map[string]int{"default": 30, "visit_days": 30, "appointment_days": 90, "direct": 0}

type oStatus struct {
	status retention.Status
	at     time.Time
}

type oSpan struct {
	id    string // a visit's id
	start time.Time
	end   *time.Time // nil: an open visit
}

type oHold struct {
	id       string
	until    *time.Time
	released bool
}

// oCustomer is everything the oracle knows of a customer: what was done to
// it through the API, never what Lethe stored.
type oCustomer struct {
	id           string
	touched      time.Time // creation, or the imported lastInteractionAt
	statuses     []oStatus // as recorded, in the order recorded
	appointments []oSpan
	visits       []oSpan
	holds        []oHold
	policy       string // assigned; "" is the automatic choice
	relinquished map[string]bool
	erased       bool
}

// oracle holds the rules in force, as set through the API.
type oracle struct {
	policies map[string]int
	dp       retention.DataPolicy
}

// with is a copy of the settings with change applied (a preview's).
func (o oracle) with(change func(*oracle)) oracle {
	c := oracle{policies: map[string]int{}, dp: o.dp}
	for k, v := range o.policies {
		c.policies[k] = v
	}
	change(&c)
	return c
}

// history is the customer's status changes in time order.
func (c *oCustomer) history() []oStatus {
	h := append([]oStatus(nil), c.statuses...)
	sort.SliceStable(h, func(i, j int) bool { return h[i].at.Before(h[j].at) })
	return h
}

// statusAt is the status in force just before t (ACTIVE before any change).
func (c *oCustomer) statusBefore(t time.Time) retention.Status {
	s := retention.StatusActive
	for _, x := range c.history() {
		if x.at.Before(t) {
			s = x.status
		}
	}
	return s
}

// current is the status of the latest change in time, and since when the
// customer has been in it: the start of the last run of changes to that
// status (a change to the status it already had is no change).
func (c *oCustomer) current() (retention.Status, *time.Time) {
	h := c.history()
	if len(h) == 0 {
		return retention.StatusActive, nil
	}
	cur := h[len(h)-1].status
	since := h[len(h)-1].at
	for i := len(h) - 2; i >= 0 && h[i].status == cur; i-- {
		since = h[i].at
	}
	return cur, &since
}

// openVisit reports whether a visit is open: there is no erase time yet.
func (c *oCustomer) openVisit() bool {
	for _, v := range c.visits {
		if v.end == nil {
			return true
		}
	}
	return false
}

// latestEnd is the end of the customer's latest event, past or future:
// creation or import, each status change, each visit, each appointment.
func (c *oCustomer) latestEnd() time.Time {
	l := c.touched
	later := func(t time.Time) {
		if t.After(l) {
			l = t
		}
	}
	for _, s := range c.statuses {
		later(s.at)
	}
	for _, a := range c.appointments {
		later(*a.end)
	}
	for _, v := range c.visits {
		later(v.start)
		if v.end != nil {
			later(*v.end)
		}
	}
	return l
}

// lastInteraction is the latest event that has already happened at now: an
// appointment under way counts from its start, an open visit from its start.
func (c *oCustomer) lastInteraction(now time.Time) time.Time {
	l := c.touched
	later := func(t time.Time) {
		if !t.After(now) && t.After(l) {
			l = t
		}
	}
	for _, s := range c.statuses {
		later(s.at)
	}
	for _, a := range c.appointments {
		if a.end.After(now) {
			later(a.start)
		} else {
			later(*a.end)
		}
	}
	for _, v := range c.visits {
		if v.end != nil {
			later(*v.end)
		} else {
			later(v.start)
		}
	}
	return l
}

func (c *oCustomer) held(at time.Time) bool {
	for _, h := range c.holds {
		if !h.released && (h.until == nil || h.until.After(at)) {
			return true
		}
	}
	return false
}

// policyDays is the retention period governing the customer: its own
// policy, else by what it is linked to; linked to both visits and
// appointments, whichever expires later (same clock: the longer period).
func (o *oracle) policyDays(c *oCustomer) int {
	if c.policy != "" {
		return o.policies[c.policy]
	}
	v, a := len(c.visits) > 0, len(c.appointments) > 0
	switch {
	case v && a:
		return max(o.policies["visit_days"], o.policies["appointment_days"])
	case a:
		return o.policies["appointment_days"]
	case v:
		return o.policies["visit_days"]
	}
	return o.policies["default"]
}

// eraseAt: end of the latest event + the policy's days; none while a visit
// is open.
func (o *oracle) eraseAt(c *oCustomer) *time.Time {
	if c.erased || c.openVisit() {
		return nil
	}
	t := c.latestEnd().Add(time.Duration(o.policyDays(c)) * oracleDay)
	return &t
}

// missing is what the data policy relinquishes that the customer still
// holds.
func (o *oracle) missing(c *oCustomer) []string {
	if !o.dp.RelinquishDeletedData {
		return nil
	}
	var want []string
	if o.dp.AnonymiseCustomerData {
		want = append(want, oracleAnonymiseCats...)
	}
	if o.dp.RemoveCDRs {
		want = append(want, oracleCDRCats...)
	}
	var out []string
	for _, cat := range want {
		if !c.relinquished[cat] {
			out = append(out, cat)
		}
	}
	sort.Strings(out)
	return out
}

// anonymiseAt: data policy on, CANCELLED or DELETED, something left to
// relinquish: the status change + relinquishAfterDays, never before the end
// of the latest event (an open visit has no end yet).
func (o *oracle) anonymiseAt(c *oCustomer) *time.Time {
	status, since := c.current()
	if c.erased || since == nil || (status != retention.StatusCancelled && status != retention.StatusDeleted) ||
		len(o.missing(c)) == 0 || c.openVisit() {
		return nil
	}
	t := since.Add(time.Duration(o.dp.RelinquishAfterDays) * oracleDay)
	if end := c.latestEnd(); t.Before(end) {
		t = end
	}
	return &t
}

// deletionTime is what the API shows at now: the earlier of the two, none
// under an active hold.
func (o *oracle) deletionTime(c *oCustomer, now time.Time) *time.Time {
	if c.erased || c.held(now) {
		return nil
	}
	e, a := o.eraseAt(c), o.anonymiseAt(c)
	if a != nil && (e == nil || a.Before(*e)) {
		return a
	}
	return e
}

// due is what a sweep as of at does to the customer: "erase" (a due erase
// removes everything, so it wins), "anonymise", or "".
func (o *oracle) due(c *oCustomer, at time.Time) string {
	if c.erased || c.held(at) {
		return ""
	}
	if e := o.eraseAt(c); e != nil && !e.After(at) {
		return "erase"
	}
	if a := o.anonymiseAt(c); a != nil && !a.After(at) {
		return "anonymise"
	}
	return ""
}

// oracleWorld drives Lethe and the oracle with the same random operations.
type oracleWorld struct {
	t         *testing.T
	ctx       context.Context
	s         *store.Store
	svc       *retention.Service
	eng       *relinquish.Engine
	rng       *rand.Rand
	seed      uint64
	now       time.Time
	o         oracle
	customers []*oCustomer
	custom    []string
	log       []string
	// prefsChanged: a field may be HIDDEN, so new customers are created
	// without personal data (the schedule does not depend on it).
	prefsChanged bool
}

func (w *oracleWorld) fatalf(format string, args ...any) {
	w.t.Helper()
	tail := w.log[max(0, len(w.log)-8):]
	w.t.Fatalf("%s\nlast operations:\n  %s\nreproduce with LETHE_ORACLE_SEED=%d", fmt.Sprintf(format, args...),
		strings.Join(tail, "\n  "), w.seed)
}

func (w *oracleWorld) must(err error, what string) {
	w.t.Helper()
	if err != nil {
		w.fatalf("%s: %v", what, err)
	}
}

func (w *oracleWorld) note(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf("[%s] ", w.now.Format(time.RFC3339))+fmt.Sprintf(format, args...))
}

// past is a whole second up to days before now.
func (w *oracleWorld) past(days int) time.Time {
	return w.now.Add(-time.Duration(w.rng.Int64N(int64(days)*86400)+1) * time.Second)
}

func (w *oracleWorld) advance(d time.Duration) { w.now = w.now.Add(d.Truncate(time.Second)) }

// setStatus records a status change at a random past time, never "to" the
// status already in force at that time (that is no change).
func (w *oracleWorld) setStatus(c *oCustomer, recent bool) {
	at := w.past(1500)
	if recent {
		at = w.past(60)
	}
	// A change "to" the status the next change in time sets is allowed:
	// that next one is then no change, and the customer has been in the
	// status since this one (the oracle found Lethe counting from the later
	// one; fixed).
	before := c.statusBefore(at)
	var choices []retention.Status
	for _, s := range []retention.Status{retention.StatusActive, retention.StatusCancelled, retention.StatusDeleted} {
		if s != before {
			choices = append(choices, s)
		}
	}
	st := choices[w.rng.IntN(len(choices))]
	_, err := w.svc.SetCustomerStatus(w.ctx, c.id, st, &at)
	w.must(err, "setCustomerStatus")
	c.statuses = append(c.statuses, oStatus{st, at})
	w.note("status %s %s at %s", c.id, st, at.Format(time.RFC3339))
}

func (w *oracleWorld) book(c *oCustomer) {
	start := w.now.Add(time.Duration(w.rng.Int64N(1400*86400)-900*86400) * time.Second)
	end := start.Add(time.Duration(1800+w.rng.Int64N(3*86400)) * time.Second)
	_, err := w.svc.BookAppointment(w.ctx, c.id, start, end)
	w.must(err, "bookAppointment")
	c.appointments = append(c.appointments, oSpan{start: start, end: &end})
	w.note("appointment %s %s–%s", c.id, start.Format(time.RFC3339), end.Format(time.RFC3339))
}

func (w *oracleWorld) startVisit(c *oCustomer) {
	v, err := w.svc.StartVisit(w.ctx, retention.VisitInput{CustomerID: &c.id,
		CustomFields: []retention.CustomFieldValue{{Field: "custom1", Value: sp("note " + c.id)}}})
	w.must(err, "startVisit")
	c.visits = append(c.visits, oSpan{id: v.ID, start: w.now})
	w.note("visit start %s (%s)", c.id, v.ID)
}

func (w *oracleWorld) endVisit(c *oCustomer) {
	for i, v := range c.visits {
		if v.end == nil {
			_, err := w.svc.EndVisit(w.ctx, v.id)
			w.must(err, "endVisit")
			end := w.now
			c.visits[i].end = &end
			w.note("visit end %s", c.id)
			return
		}
	}
}

func (w *oracleWorld) hold(c *oCustomer) {
	var until *time.Time
	if w.rng.IntN(3) > 0 {
		u := w.now.Add(time.Duration(1+w.rng.Int64N(400*86400)) * time.Second)
		until = &u
	}
	h, err := w.svc.PlaceLegalHold(w.ctx, c.id, "litigation", until)
	w.must(err, "placeLegalHold")
	c.holds = append(c.holds, oHold{id: h.ID, until: until})
	w.note("hold %s until %v", c.id, until)
}

func (w *oracleWorld) release(c *oCustomer) {
	for i, h := range c.holds {
		if !h.released {
			_, err := w.svc.ReleaseLegalHold(w.ctx, h.id)
			w.must(err, "releaseLegalHold")
			c.holds[i].released = true
			w.note("release %s", c.id)
			return
		}
	}
}

func (w *oracleWorld) assign(c *oCustomer) {
	names := append([]string{"", "default", "visit_days", "appointment_days", "direct"}, w.custom...)
	w.assignPolicy(c, names[w.rng.IntN(len(names))])
}

func (w *oracleWorld) assignPolicy(c *oCustomer, p string) {
	_, err := w.svc.SetCustomerPolicy(w.ctx, c.id, p)
	w.must(err, "setCustomerPolicy")
	c.policy = p
	w.note("policy %s %q", c.id, p)
}

func (w *oracleWorld) createCustomer() {
	i := len(w.customers)
	in := retention.CustomerInput{}
	if !w.prefsChanged {
		in.PersonalData = retention.PersonalData{FirstName: sp("Orc"), LastName: sp(fmt.Sprintf("Le%04d", i)), Email: sp(fmt.Sprintf("orc%04d@oracle.test", i))}
	}
	touched := w.now
	if w.rng.IntN(10) < 7 {
		touched = w.past(1500)
		in.LastInteractionAt = &touched
	}
	got, err := w.svc.CreateCustomer(w.ctx, in)
	w.must(err, "createCustomer")
	c := &oCustomer{id: got.ID, touched: touched, relinquished: map[string]bool{}}
	w.customers = append(w.customers, c)
	w.note("create %s touched %s", c.id, touched.Format(time.RFC3339))
	for range w.rng.IntN(4) {
		w.setStatus(c, false)
	}
	for range w.rng.IntN(3) {
		w.book(c)
	}
	if w.rng.IntN(3) == 0 {
		w.startVisit(c)
		if w.rng.IntN(5) > 0 {
			w.advance(time.Duration(w.rng.IntN(3600)+60) * time.Second)
			w.endVisit(c)
		}
	}
	if w.rng.IntN(10) == 0 {
		w.hold(c)
	}
	if w.rng.IntN(5) == 0 {
		w.assign(c)
	}
}

// later is now or a random time up to 900 days ahead (dry runs may look
// into the future).
func (w *oracleWorld) later() time.Time {
	return w.now.Add(time.Duration(w.rng.Int64N(900*86400)) * time.Second)
}

// days is a random retention period: mostly short, sometimes long, both
// ends of the range included.
func (w *oracleWorld) days() int {
	switch w.rng.IntN(10) {
	case 0:
		return 0
	case 1:
		return 3650
	case 2, 3:
		return w.rng.IntN(3651)
	}
	return w.rng.IntN(400)
}

// change applies one random change of the rules, in any direction.
func (w *oracleWorld) change() {
	names := append([]string{"default", "visit_days", "appointment_days", "direct"}, w.custom...)
	switch w.rng.IntN(8) {
	case 0, 1:
		name, d := names[w.rng.IntN(len(names))], w.days()
		if w.rng.IntN(2) == 0 {
			proposed := w.o.with(func(o *oracle) { o.policies[name] = d })
			at := w.later()
			run, err := w.eng.PreviewPolicyUpdate(w.ctx, name, &d, nil, &at, "oracle")
			w.must(err, "retentionPolicyUpdatePreview")
			w.comparePlans(fmt.Sprintf("preview of %s=%d as of %s", name, d, at.Format(time.RFC3339)), w.planUnder(&proposed, at), w.lethePlan(run.ID))
		}
		_, err := w.svc.UpdatePolicy(w.ctx, name, &d, nil)
		w.must(err, "updatePolicy")
		w.o.policies[name] = d
		w.note("updatePolicy %s %d", name, d)
	case 2:
		name := names[w.rng.IntN(4)]
		_, err := w.svc.RevertPolicy(w.ctx, name)
		w.must(err, "revertPolicy")
		w.o.policies[name] = oracleDefaults[name]
		w.note("revertPolicy %s", name)
	case 3, 4, 5:
		dp := w.o.dp
		switch w.rng.IntN(5) {
		case 0:
			dp.RelinquishDeletedData = !dp.RelinquishDeletedData
		case 1:
			dp.AnonymiseCustomerData = !dp.AnonymiseCustomerData
		case 2:
			dp.RemoveCDRs = !dp.RemoveCDRs
		case 3:
			dp.RelinquishAfterDays = w.days()
		case 4:
			dp = retention.DataPolicy{RelinquishDeletedData: w.rng.IntN(4) > 0, RelinquishAfterDays: w.days(),
				AnonymiseCustomerData: w.rng.IntN(2) == 0, RemoveCDRs: w.rng.IntN(2) == 0}
		}
		if w.rng.IntN(2) == 0 {
			proposed := w.o.with(func(o *oracle) { o.dp = dp })
			at := w.later()
			run, err := w.eng.PreviewDataPolicy(w.ctx, dp, &at, "oracle")
			w.must(err, "dataPolicyPreview")
			w.comparePlans(fmt.Sprintf("preview of %+v as of %s", dp, at.Format(time.RFC3339)), w.planUnder(&proposed, at), w.lethePlan(run.ID))
		}
		_, err := w.svc.UpdateDataPolicy(w.ctx, dp)
		w.must(err, "updateDataPolicy")
		w.o.dp = dp
		w.note("updateDataPolicy %+v", dp)
	case 6:
		_, err := w.svc.UseDefaultDataPolicy(w.ctx)
		w.must(err, "useDefaultDataPolicy")
		w.o.dp = retention.DataPolicy{RelinquishDeletedData: false, RelinquishAfterDays: 90, AnonymiseCustomerData: true, RemoveCDRs: false}
		w.note("useDefaultDataPolicy")
	case 7:
		// Collection preferences purge values but are no rule of time:
		// no schedule may move.
		f := retention.AllFields[w.rng.IntN(len(retention.AllFields))]
		m := []retention.FieldMode{retention.ModeOptional, retention.ModeHidden}[w.rng.IntN(2)]
		_, err := w.svc.UpdateFieldPreferences(w.ctx, nil, map[retention.Field]retention.FieldMode{f: m}, true)
		w.must(err, "updateFieldPreferences")
		w.prefsChanged = true
		w.note("fieldPreferences %s %s", f, m)
	}
}

// event changes a few live customers' events, holds or policies.
func (w *oracleWorld) event() {
	for range 1 + w.rng.IntN(6) {
		c := w.customers[w.rng.IntN(len(w.customers))]
		if c.erased {
			continue
		}
		switch w.rng.IntN(6) {
		case 0:
			w.setStatus(c, w.rng.IntN(2) == 0)
		case 1:
			w.book(c)
		case 2:
			if c.openVisit() {
				w.endVisit(c)
			} else {
				w.startVisit(c)
			}
		case 3:
			if w.rng.IntN(2) == 0 {
				w.hold(c)
			} else {
				w.release(c)
			}
		case 4, 5:
			w.assign(c)
		}
	}
}

func fmtT(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// compareCustomers checks every customer as the API shows it at now.
func (w *oracleWorld) compareCustomers(when string) {
	w.t.Helper()
	for _, c := range w.customers {
		got, err := w.s.Customer(w.ctx, c.id)
		w.must(err, "customer")
		if (got.ErasedAt != nil) != c.erased {
			w.fatalf("%s: %s erased=%v, oracle %v", when, c.id, got.ErasedAt != nil, c.erased)
		}
		if c.erased {
			continue
		}
		status, since := c.current()
		if got.Status != status || fmtT(got.StatusChangedAt) != fmtT(since) {
			w.fatalf("%s: %s status %s since %s, oracle %s since %s (history %v)", when, c.id, got.Status, fmtT(got.StatusChangedAt),
				status, fmtT(since), c.history())
		}
		want := w.o.deletionTime(c, w.now)
		if have := w.svc.DeletionTime(got); fmtT(have) != fmtT(want) {
			w.fatalf("%s: %s deletionTime %s, oracle %s (erase %s, anonymise %s, policy days %d, dp %+v, relinquished %v, status %s since %s, reason %q)",
				when, c.id, fmtT(have), fmtT(want), fmtT(w.o.eraseAt(c)), fmtT(w.o.anonymiseAt(c)), w.o.policyDays(c), w.o.dp,
				got.Relinquished.Categories(), status, fmtT(since), w.reason(got))
		}
		// deletionReason names the rule that set the time, or what holds
		// it off.
		var rule string
		e, a := w.o.eraseAt(c), w.o.anonymiseAt(c)
		switch {
		case c.held(w.now):
			rule = "no deletion time: under a legal hold"
		case c.openVisit():
			rule = "no deletion time yet: a visit is open"
		case a != nil && a.Before(*e):
			rule = "data policy: anonymise"
		default:
			rule = "retention policy"
		}
		if r := w.reason(got); !strings.HasPrefix(r, rule) {
			w.fatalf("%s: %s deletionReason %q, oracle's rule %q", when, c.id, r, rule)
		}
		last, err := w.svc.LastInteraction(w.ctx, got)
		w.must(err, "lastInteraction")
		if want := c.lastInteraction(w.now); fmtT(last) != fmtT(&want) {
			w.fatalf("%s: %s lastInteractionAt %s, oracle %s", when, c.id, fmtT(last), fmtT(&want))
		}
		var cats []string
		for cat := range c.relinquished {
			cats = append(cats, cat)
		}
		sort.Strings(cats)
		if strings.Join(got.Relinquished.Categories(), ",") != strings.Join(cats, ",") {
			w.fatalf("%s: %s relinquished %v, oracle %v", when, c.id, got.Relinquished.Categories(), cats)
		}
		if (got.AnonymisedAt != nil) != c.relinquished["contact"] {
			w.fatalf("%s: %s anonymisedAt %s while contact relinquished is %v", when, c.id, fmtT(got.AnonymisedAt), c.relinquished["contact"])
		}
	}
}

func (w *oracleWorld) reason(c *retention.Customer) string {
	r, _ := w.svc.DeletionReason(w.ctx, c)
	return r
}

// plan is the oracle's plan of a sweep as of at: customer id → action.
func (w *oracleWorld) plan(at time.Time) map[string]string { return w.planUnder(&w.o, at) }

// planUnder is the plan under other settings (a preview's).
func (w *oracleWorld) planUnder(o *oracle, at time.Time) map[string]string {
	out := map[string]string{}
	for _, c := range w.customers {
		if k := o.due(c, at); k != "" {
			out[c.id] = k
		}
	}
	return out
}

func (w *oracleWorld) lethePlan(runID string) map[string]string {
	actions, err := w.planOf(runID)
	w.must(err, "runActions")
	out := map[string]string{}
	for _, a := range actions {
		if a.Connector == retention.CoreConnector {
			out[a.CustomerID] = a.Action
		}
	}
	return out
}

// planOf reads a run's whole plan through the engine, page by page: a
// stored dry run's, or a preview's (never stored; its pages are walked).
func (w *oracleWorld) planOf(runID string) ([]retention.PlannedAction, error) {
	var out []retention.PlannedAction
	var after *string
	for n := relinquish.MaxRunActions; ; {
		p, err := w.eng.RunActionsPage(w.ctx, runID, &n, after)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasNextPage {
			return out, nil
		}
		after = &p.Items[len(p.Items)-1].Cursor
	}
}

func (w *oracleWorld) comparePlans(when string, want, got map[string]string) {
	w.t.Helper()
	var diffs []string
	for id, k := range want {
		if got[id] != k {
			diffs = append(diffs, fmt.Sprintf("%s: Lethe %q, oracle %q", id, got[id], k))
		}
	}
	for id, k := range got {
		if _, ok := want[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: Lethe %q, oracle nothing", id, k))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		w.fatalf("%s: plans differ for %d customers: %s", when, len(diffs), strings.Join(diffs[:min(len(diffs), 5)], "; "))
	}
}

// dryRun compares a dry run as of at with the oracle's plan.
func (w *oracleWorld) dryRun(at time.Time) {
	w.t.Helper()
	run, err := w.eng.Run(w.ctx, retention.RunOptions{DryRun: true, AsOf: &at, Trigger: "oracle"})
	w.must(err, "dry run")
	want := w.plan(at)
	w.comparePlans("dry run as of "+at.Format(time.RFC3339), want, w.lethePlan(run.ID))
	if run.CustomersPlanned != len(want) {
		w.fatalf("dry run as of %s planned %d customers, oracle %d", at.Format(time.RFC3339), run.CustomersPlanned, len(want))
	}
}

// sweep runs a real sweep at now and applies what the oracle says it does.
func (w *oracleWorld) sweep() (erased, anonymised int) {
	w.t.Helper()
	want := w.plan(w.now)
	run, err := w.eng.Run(w.ctx, retention.RunOptions{Trigger: "oracle"})
	w.must(err, "sweep")
	if run.Status != retention.RunSucceeded || run.CustomersFailed != 0 || run.CustomersSkipped != 0 || run.CustomersDone != len(want) {
		w.fatalf("sweep: %+v, oracle plans %d customers", run, len(want))
	}
	// A real run's plan is its journal (without connectors there are no
	// connector actions to list).
	var rows []struct {
		CustomerID string `bun:"customer_id"`
		Kind       string `bun:"kind"`
	}
	w.must(w.s.DB().NewRaw("SELECT customer_id, kind FROM journal_entries WHERE run_id = ?", run.ID).Scan(w.ctx, &rows), "journal")
	got := map[string]string{}
	for _, r := range rows {
		got[r.CustomerID] = r.Kind
	}
	w.comparePlans("sweep", want, got)
	for _, c := range w.customers {
		switch want[c.id] {
		case "erase":
			c.erased = true
			erased++
		case "anonymise":
			for _, cat := range w.o.missing(c) {
				c.relinquished[cat] = true
			}
			anonymised++
		}
	}
	w.note("sweep: %d erased, %d anonymised", erased, anonymised)
	return erased, anonymised
}

func oracleSeed(t *testing.T) uint64 {
	if v := os.Getenv("LETHE_ORACLE_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LETHE_ORACLE_SEED=%q: %v", v, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestRulesAgreeWithOracle: random customers (status changes imported out
// of time order, past and future appointments, open and ended visits,
// holds, assigned policies) under random sequences of policy changes in
// every direction (retention days up and down, built-in and custom,
// reverts, data-policy bits on and off, relinquishAfterDays up and down,
// collection preferences), with real sweeps at an advancing clock: after
// every change Lethe's deletion times and reasons, last interactions,
// statuses, dry-run plans (now and ahead), the previews of policy and data
// policy changes, and what its sweeps relinquished (per category) equal the
// oracle's. Seeded; LETHE_ORACLE_SEED reproduces a failure.
func TestRulesAgreeWithOracle(t *testing.T) {
	t.Parallel()
	seed := oracleSeed(t)
	t.Logf("seed %d (LETHE_ORACLE_SEED=%d reproduces this run)", seed, seed)
	customers, steps := 300, 50
	if testing.Short() || raceEnabled {
		customers, steps = 100, 30
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := &oracleWorld{t: t, ctx: context.Background(), s: s, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
			now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), o: oracle{policies: map[string]int{}}}
		clock := func() time.Time { return w.now }
		w.svc = retention.NewService(s, retention.WithClock(clock))
		w.eng = relinquish.NewEngine(s, nil, retention.WithClock(clock))
		for name, d := range oracleDefaults {
			w.o.policies[name] = d
		}
		w.o.dp = retention.DataPolicy{RelinquishAfterDays: 90, AnonymiseCustomerData: true}
		for _, name := range []string{"keep_short", "keep_long"} {
			d := w.days()
			_, err := w.svc.CreatePolicy(w.ctx, name, d, "oracle")
			w.must(err, "createPolicy")
			w.o.policies[name] = d
			w.custom = append(w.custom, name)
		}
		w.o.dp = retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: w.days(), AnonymiseCustomerData: w.rng.IntN(2) == 0, RemoveCDRs: w.rng.IntN(2) == 0}
		_, err := w.svc.UpdateDataPolicy(w.ctx, w.o.dp)
		w.must(err, "updateDataPolicy")
		for range customers {
			w.advance(time.Duration(w.rng.IntN(3*3600)) * time.Second)
			w.createCustomer()
		}
		w.compareCustomers("after creation")
		var erased, anonymised int
		for step := range steps {
			w.change()
			if w.rng.IntN(2) == 0 {
				w.event()
			}
			// New customers keep the population alive while sweeps erase.
			for range w.rng.IntN(customers / 25) {
				w.createCustomer()
			}
			if w.rng.IntN(2) == 0 {
				w.advance(time.Duration(w.rng.Int64N(45*86400)) * time.Second)
			}
			when := fmt.Sprintf("step %d", step)
			w.compareCustomers(when)
			w.dryRun(w.now)
			w.dryRun(w.later())
			if w.rng.IntN(2) == 0 {
				e, a := w.sweep()
				erased, anonymised = erased+e, anonymised+a
				w.compareCustomers(when + " after the sweep")
			}
		}
		// Last, one customer due for each rule, whatever the random run
		// left: both kinds of sweep result are compared in every run.
		long := 3650
		_, err = w.svc.UpdatePolicy(w.ctx, "keep_long", &long, nil)
		w.must(err, "updatePolicy")
		w.o.policies["keep_long"] = long
		w.o.dp = retention.DataPolicy{RelinquishDeletedData: true, RelinquishAfterDays: 0, AnonymiseCustomerData: true, RemoveCDRs: true}
		_, err = w.svc.UpdateDataPolicy(w.ctx, w.o.dp)
		w.must(err, "updateDataPolicy")
		for _, policy := range []string{"keep_long", "direct"} {
			touched := w.now.Add(-400 * oracleDay)
			got, err := w.svc.CreateCustomer(w.ctx, retention.CustomerInput{LastInteractionAt: &touched})
			w.must(err, "createCustomer")
			c := &oCustomer{id: got.ID, touched: touched, relinquished: map[string]bool{}}
			w.customers = append(w.customers, c)
			w.assignPolicy(c, policy)
			if policy == "keep_long" {
				at := w.now.Add(-100 * oracleDay)
				_, err := w.svc.SetCustomerStatus(w.ctx, c.id, retention.StatusCancelled, &at)
				w.must(err, "setCustomerStatus")
				c.statuses = append(c.statuses, oStatus{retention.StatusCancelled, at})
			}
		}
		w.compareCustomers("last")
		w.dryRun(w.now)
		e, a := w.sweep()
		erased, anonymised = erased+e, anonymised+a
		w.compareCustomers("last, after the sweep")
		if erased == 0 || anonymised == 0 {
			t.Fatalf("sweeps erased %d and anonymised %d customers: the random run exercised too little (seed %d)", erased, anonymised, seed)
		}
		t.Logf("%d customers, %d steps: %d erased, %d anonymised by sweeps", len(w.customers), steps, erased, anonymised)
	})
}
