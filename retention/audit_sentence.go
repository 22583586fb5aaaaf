package retention

import (
	"fmt"
	"sort"
	"strings"
)

// auditHeads starts the sentence of each action; %s is the subject.
var auditHeads = map[string]string{
	AuditPolicyCreate:             "policy %s created",
	AuditPolicyUpdate:             "%s",
	AuditPolicyRevert:             "%s reverted to its default",
	AuditPolicyDelete:             "policy %s deleted",
	AuditDataPolicyUpdate:         "data policy",
	AuditFieldPreferencesUpdate:   "field preferences",
	AuditCustomFieldStorageUpdate: "custom field storage",
	AuditCustomerCreate:           "customer %s created",
	AuditCustomerStatus:           "customer %s status",
	AuditCustomerPolicy:           "customer %s policy",
	AuditCustomerExport:           "customer %s exported",
	AuditCustomerErase:            "customer %s erased",
	AuditCustomerAnonymise:        "customer %s anonymised",
	AuditCustomerPurge:            "hidden fields of customer %s purged",
	AuditRunStart:                 "sweep %s started",
	AuditAppointmentBook:          "appointment booked for %s",
	AuditVisitStart:               "visit started for %s",
	AuditVisitEnd:                 "visit ended for %s",
	AuditLegalHoldPlace:           "legal hold placed on customer %s",
	AuditLegalHoldRelease:         "legal hold released on customer %s",
	AuditTokenCreate:              "token %s created",
	AuditTokenRevoke:              "token %s revoked",
	"visit.customFields.purge":    "custom fields of ended visits purged",
}

// settingActions change a setting: their sentence reads "what: old → new".
var settingActions = map[string]bool{AuditPolicyUpdate: true, AuditPolicyRevert: true, AuditDataPolicyUpdate: true,
	AuditFieldPreferencesUpdate: true, AuditCustomFieldStorageUpdate: true, AuditCustomerStatus: true, AuditCustomerPolicy: true}

// Sentence renders the event for people: what happened to what, the old
// and new value of each setting that changed, and who did it, e.g.
// "visit_days: 30 → 60 days, by alice". It uses only the event's fields,
// which hold no personal data.
func (e AuditEvent) Sentence() string {
	head, ok := auditHeads[e.Action]
	if !ok {
		head = e.Action + " on %s"
	}
	subject := e.Subject
	if subject == "" {
		subject = "—"
	}
	if strings.Contains(head, "%s") {
		head = fmt.Sprintf(head, subject)
	}
	parts := auditChanges(e.Action, e.Details)
	parts = append(parts, auditNotes(e.Action, e.Details)...)
	var b strings.Builder
	b.WriteString(head)
	if len(parts) > 0 {
		sep := ", "
		if settingActions[e.Action] {
			sep = ": "
		}
		b.WriteString(sep + strings.Join(parts, ", "))
	} else if e.Action == AuditPolicyUpdate {
		b.WriteString(": unchanged")
	}
	return b.String() + ", by " + e.Actor
}

// auditChanges lists the details that hold an old and a new value, as
// "name: old → new" (the policy's days as "30 → 60 days").
func auditChanges(action string, details map[string]any) []string {
	var out []string
	if _, ok := details["old"]; ok {
		// The whole setting is the detail (the data policy).
		details = map[string]any{"": map[string]any{"old": details["old"], "new": details["new"]}}
	}
	for _, k := range sortedKeys(details) {
		on, ok := details[k].(map[string]any)
		if !ok || len(on) != 2 {
			continue
		}
		old, hasOld := on["old"]
		new, hasNew := on["new"]
		if !hasOld || !hasNew {
			continue
		}
		oldMap, okOld := old.(map[string]any)
		newMap, okNew := new.(map[string]any)
		if okOld && okNew {
			// A whole setting (the data policy): only what changed.
			for _, f := range sortedKeys(newMap) {
				if auditValue(oldMap[f]) != auditValue(newMap[f]) {
					out = append(out, f+" "+auditValue(oldMap[f])+" → "+auditValue(newMap[f]))
				}
			}
			continue
		}
		switch {
		case k == "retentionDays" && (action == AuditPolicyUpdate || action == AuditPolicyRevert):
			out = append(out, auditValue(old)+" → "+auditValue(new)+" days")
		case k == "status" || k == "policy":
			out = append(out, auditValue(old)+" → "+auditValue(new))
		default:
			out = append(out, k+" "+auditValue(old)+" → "+auditValue(new))
		}
	}
	return out
}

// auditNotes adds the plain details that say something to a reader.
func auditNotes(action string, d map[string]any) []string {
	var out []string
	add := func(format string, key string) {
		if v, ok := d[key]; ok && v != nil {
			out = append(out, fmt.Sprintf(format, auditValue(v)))
		}
	}
	switch action {
	case AuditPolicyCreate:
		add("%s days", "retentionDays")
	case AuditRunStart:
		if d["dryRun"] == true {
			out = append(out, "dry run")
		}
		add("from %s", "trigger")
		add("as of %s", "asOf")
	case AuditCustomerErase, AuditCustomerAnonymise, AuditCustomerPurge:
		if d["trigger"] == "manual" {
			out = append(out, "by hand")
		}
		add("rule %s", "rule")
		if c, ok := d["connectors"].([]any); ok {
			out = append(out, fmt.Sprintf("%d connector actions", len(c)))
		}
		add("run %s", "run")
	case AuditCustomerExport:
		add("%s connectors", "connectors")
	case AuditLegalHoldPlace:
		add("until %s", "until")
		add("hold %s", "holdId")
	case AuditLegalHoldRelease:
		add("hold %s", "holdId")
	case AuditTokenCreate:
		add("role %s", "role")
	case AuditFieldPreferencesUpdate:
		add("%s values purged", "purgedValues")
	case "visit.customFields.purge":
		add("%s visits", "visits")
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// auditValue prints a detail value: booleans as on and off, nothing as
// "none".
func auditValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case bool:
		if x {
			return "on"
		}
		return "off"
	case string:
		if x == "" {
			return `""`
		}
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}
