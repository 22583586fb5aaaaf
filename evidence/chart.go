package evidence

import (
	"fmt"
	"html/template"
	"strings"
)

// bar is one group of a bar chart: its label and one value a series.
type bar struct {
	Label  string
	Values []int
}

// series names and colours the values of every bar.
type series struct {
	Name, Colour string
}

// barChart draws stacked bars as inline SVG (no script, no external file:
// it shows offline and prints). Labels are ids and dates, never personal
// data, and are escaped.
func barChart(title string, ss []series, bars []bar) template.HTML {
	const w, h, left, bottom, top = 720, 220, 48, 40, 24
	if len(bars) == 0 {
		return template.HTML(`<p class="empty">Nothing to chart in the period.</p>`)
	}
	maxV := 1
	for _, b := range bars {
		sum := 0
		for _, v := range b.Values {
			sum += v
		}
		maxV = max(maxV, sum)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" class="chart">`, w, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`, left, h-bottom, w, h-bottom)
	fmt.Fprintf(&sb, `<text x="4" y="%d" font-size="11">%d</text><text x="4" y="%d" font-size="11">0</text>`, top+4, maxV, h-bottom)
	slot := float64(w-left) / float64(len(bars))
	bw := max(slot*0.7, 1)
	for i, b := range bars {
		x := float64(left) + float64(i)*slot + (slot-bw)/2
		y := float64(h - bottom)
		for j, v := range b.Values {
			bh := float64(v) / float64(maxV) * float64(h-bottom-top)
			y -= bh
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s %d</title></rect>`,
				x, y, bw, bh, ss[j].Colour, template.HTMLEscapeString(b.Label), template.HTMLEscapeString(ss[j].Name), v)
		}
		if len(bars) <= 31 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="9" text-anchor="middle">%s</text>`, x+bw/2, h-bottom+14, template.HTMLEscapeString(b.Label))
		}
	}
	for j, s := range ss {
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			left+j*160, h-12, s.Colour, left+j*160+14, h-3, template.HTMLEscapeString(s.Name))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // built above from escaped text and numbers
}

// sweepChart: customers done and failed, per sweep of the period.
func (p *Pack) sweepChart() template.HTML {
	var bars []bar
	for _, s := range p.Sweeps {
		if s.DryRun {
			continue
		}
		bars = append(bars, bar{Label: s.StartedAt.Format("01-02 15:04"), Values: []int{s.Done, s.Failed}})
	}
	return barChart("Customers relinquished per sweep", []series{{"relinquished", "#2b6cb0"}, {"failed", "#c53030"}}, bars)
}

// activityChart: manual erasures, exports and legal hold events per day.
func (p *Pack) activityChart() template.HTML {
	days := map[string][]int{}
	var order []string
	count := func(cs []Change, i int) {
		for _, c := range cs {
			d := c.At.Format("2006-01-02")
			if days[d] == nil {
				days[d] = make([]int, 3)
				order = append(order, d)
			}
			days[d][i]++
		}
	}
	count(p.ManualErasures, 0)
	count(p.Exports, 1)
	count(p.Holds, 2)
	sortStrings(order)
	bars := make([]bar, 0, len(order))
	for _, d := range order {
		bars = append(bars, bar{Label: d[5:], Values: days[d]})
	}
	return barChart("Manual erasures, exports and legal hold events per day",
		[]series{{"manual erasures", "#c05621"}, {"exports", "#2f855a"}, {"legal holds", "#6b46c1"}}, bars)
}
