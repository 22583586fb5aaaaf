package evidence

import (
	"bytes"
	_ "embed"
	"html/template"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

var report = template.Must(template.New("report").Funcs(template.FuncMap{
	"ts":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"tsp":    func(t *time.Time) string { return timeOrDash(t) },
	"micros": func(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05 UTC") },
	"join":   strings.Join,
	"onoff":  onOff,
}).Parse(reportTemplate))

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// figures are the report's headline numbers; each is also marked in the
// HTML (data-figure) so that a reader or a test finds it.
type figures struct {
	Sweeps, CustomersDone, CustomersFailed, ResidueChecks, ResidueFailed int
	HoldsPlaced, HoldsReleased                                           int
}

func (p *Pack) figures() figures {
	var f figures
	for _, s := range p.Sweeps {
		if s.DryRun {
			continue
		}
		f.Sweeps++
		f.CustomersDone += s.Done
		f.CustomersFailed += s.Failed
		f.ResidueChecks += s.ResidueChecks
		f.ResidueFailed += s.ResidueFailed
	}
	for _, h := range p.Holds {
		if h.Action == "legalHold.place" {
			f.HoldsPlaced++
		} else {
			f.HoldsReleased++
		}
	}
	return f
}

// renderHTML renders report.html; files are the CSVs, listed with their
// SHA-256 at the end of the report.
func (p *Pack) renderHTML(files []file) ([]byte, error) {
	type listed struct{ Name, SHA256 string }
	var list []listed
	for _, f := range files {
		list = append(list, listed{f.name, digest(f.data)})
	}
	var b bytes.Buffer
	err := report.Execute(&b, map[string]any{
		"P": p, "F": p.figures(), "Files": list,
		"SweepChart": p.sweepChart(), "ActivityChart": p.activityChart(),
	})
	return b.Bytes(), err
}
