package evidence

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// csvFiles are the report's data as CSV, one file a section, in the order
// the manifest lists them.
func (p *Pack) csvFiles() ([]file, error) {
	tables := []struct {
		name string
		head []string
		rows [][]string
	}{
		{"policies.csv", []string{"policy", "days_at_start", "days_at_end", "built_in", "description_at_end"}, p.policyRows()},
		{"policy_changes.csv", changeHead, changeRows(p.PolicyChanges)},
		{"data_policy.csv", []string{"setting", "at_start", "at_end"}, p.dataPolicyRows()},
		{"data_policy_changes.csv", changeHead, changeRows(p.DataPolicyChanges)},
		{"sweeps.csv", []string{"run", "trigger", "actor", "dry_run", "status", "started_at", "finished_at", "customers_planned", "customers_done",
			"customers_failed", "customers_skipped", "connector_actions", "connector_failures", "residue_checks", "residue_failed"}, p.sweepRows()},
		{"manual_erasures.csv", changeHead, changeRows(p.ManualErasures)},
		{"exports.csv", changeHead, changeRows(p.Exports)},
		{"legal_holds.csv", changeHead, changeRows(p.Holds)},
		{"connectors.csv", []string{"connector", "version", "categories", "capabilities", "healthy_at_generation", "actions_in_period",
			"failed_in_period", "residue_checks_in_period"}, p.connectorRows()},
		{"audit_chain.csv", []string{"checkpoint_event", "signed_at", "key_id", "event_hash", "valid"}, p.checkpointRows()},
		{"retention_table.csv", []string{"category", "held_by", "erasure", "earlier_for_cancelled_or_deleted"}, p.retentionRows()},
	}
	out := make([]file, 0, len(tables))
	for _, t := range tables {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(t.head) //nolint:errcheck // a bytes.Buffer does not fail; Flush reports the rest
		for _, r := range t.rows {
			for i := range r {
				r[i] = csvSafe(r[i])
			}
			w.Write(r) //nolint:errcheck
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		out = append(out, file{name: t.name, data: b.Bytes()})
	}
	return out, nil
}

var changeHead = []string{"at", "actor", "action", "subject", "sentence"}

func changeRows(cs []Change) [][]string {
	out := make([][]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, []string{ts(c.At), c.Actor, c.Action, c.Subject, c.Sentence})
	}
	return out
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (p *Pack) policyRows() [][]string {
	start := map[string]PolicyRow{}
	for _, r := range p.PoliciesAtStart {
		start[r.Name] = r
	}
	var out [][]string
	for _, r := range p.PoliciesAtEnd {
		before := "(created in the period)"
		if s, ok := start[r.Name]; ok {
			before = strconv.Itoa(s.Days)
		}
		out = append(out, []string{r.Name, before, strconv.Itoa(r.Days), strconv.FormatBool(r.BuiltIn), r.Description})
	}
	return out
}

func (p *Pack) dataPolicyRows() [][]string {
	a, b := p.DataPolicyAtStart, p.DataPolicyAtEnd
	return [][]string{
		{"relinquishDeletedData", onOff(a.RelinquishDeletedData), onOff(b.RelinquishDeletedData)},
		{"relinquishAfterDays", strconv.Itoa(a.RelinquishAfterDays), strconv.Itoa(b.RelinquishAfterDays)},
		{"anonymiseCustomerData", onOff(a.AnonymiseCustomerData), onOff(b.AnonymiseCustomerData)},
		{"removeCDRs", onOff(a.RemoveCDRs), onOff(b.RemoveCDRs)},
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (p *Pack) sweepRows() [][]string {
	var out [][]string
	for _, s := range p.Sweeps {
		fin := ""
		if s.FinishedAt != nil {
			fin = ts(*s.FinishedAt)
		}
		out = append(out, []string{s.ID, s.Trigger, s.Actor, strconv.FormatBool(s.DryRun), s.Status, ts(s.StartedAt), fin, strconv.Itoa(s.Planned),
			strconv.Itoa(s.Done), strconv.Itoa(s.Failed), strconv.Itoa(s.Skipped), strconv.Itoa(s.Actions), strconv.Itoa(s.ConnectorFailures),
			strconv.Itoa(s.ResidueChecks), strconv.Itoa(s.ResidueFailed)})
	}
	return out
}

func (p *Pack) connectorRows() [][]string {
	var out [][]string
	for _, c := range p.Connectors {
		out = append(out, []string{c.Name, c.Version, strings.Join(c.Categories, " "), strings.Join(c.Capabilities, " "), strconv.FormatBool(c.HealthyNow),
			strconv.Itoa(c.Actions), strconv.Itoa(c.Failed), strconv.Itoa(c.ResidueChecked)})
	}
	return out
}

func (p *Pack) checkpointRows() [][]string {
	var out [][]string
	if p.Chain == nil {
		return out
	}
	for _, c := range p.Chain.Checkpoints {
		out = append(out, []string{strconv.FormatInt(c.Pos, 10), ts(time.UnixMicro(c.At)), c.KeyID, c.Hash.Hex(), strconv.FormatBool(c.Valid)})
	}
	return out
}

func (p *Pack) retentionRows() [][]string {
	var out [][]string
	for _, r := range p.RetentionTable {
		out = append(out, []string{r.Category, strings.Join(r.HeldBy, " "), r.Erasure, r.Earlier})
	}
	return out
}
