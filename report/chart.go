package report

import (
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/projection"
)

// Chart is a picture of a report's data: lines or bars, over categories or
// over time.
type Chart struct {
	Title string
	// Bars draws a bar per label and series; otherwise a line per series.
	Bars bool
	// Time says that Labels are instants (RFC 3339), of which the axis
	// names only the first, middle and last.
	Time   bool
	Labels []string
	Series []Series
}

// Series is one named row of values, one per label.
type Series struct {
	Name   string
	Values []int
}

// points is how many instants a chart over time samples.
const points = 24

// timeAxis returns the instants a chart over [from, to] samples.
func timeAxis(from, to time.Time) []time.Time {
	if !from.Before(to) {
		return []time.Time{to}
	}
	step := to.Sub(from) / (points - 1)
	out := make([]time.Time, points)
	for i := range out {
		out[i] = from.Add(time.Duration(i) * step)
	}
	out[points-1] = to
	return out
}

func labels(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = stamp(t)
	}
	return out
}

// span returns the range a chart over time covers: the query's range where
// it has one, else the instants given, ending at the moment asked.
func (b *builder) span(ts []time.Time) (time.Time, time.Time) {
	from, to := ts[0], ts[0]
	for _, t := range ts {
		from, to = minTime(from, t), maxTime(to, t)
	}
	if !b.q.As.Of.IsZero() {
		to = b.q.As.Of
	}
	if !b.q.Since.IsZero() {
		from = b.q.Since
	}
	if !b.q.Until.IsZero() {
		to = b.q.Until
	}
	return from, to
}

// assignmentsOverTime counts, at instants across the range, the
// assignments that had been created and not ended, and those that had
// ended (state expired).
func (b *builder) assignmentsOverTime(all []entitlement.Assignment) Chart {
	var ts []time.Time
	for _, a := range all {
		ts = append(ts, a.CreatedDateTime)
		if e := ended(&a); e != nil {
			ts = append(ts, *e)
		}
	}
	c := Chart{Title: "Assignments by state over time", Time: true}
	if len(ts) == 0 {
		return c
	}
	axis := timeAxis(b.span(ts))
	active, expired := make([]int, len(axis)), make([]int, len(axis))
	for _, a := range all {
		e := ended(&a)
		for i, t := range axis {
			switch {
			case e != nil && !e.After(t):
				expired[i]++
			case !a.CreatedDateTime.After(t):
				active[i]++
			}
		}
	}
	c.Labels = labels(axis)
	c.Series = []Series{{"not ended (delivering, delivered, failed)", active}, {"expired", expired}}
	return c
}

// requestsByOutcome charts requests by state.
func requestsByOutcome(outcomes map[string]int) Chart {
	c := Chart{Title: "Requests by outcome", Bars: true}
	s := Series{Name: "requests"}
	for _, state := range slices.Sorted(maps.Keys(outcomes)) {
		c.Labels = append(c.Labels, state)
		s.Values = append(s.Values, outcomes[state])
	}
	if len(c.Labels) > 0 {
		c.Series = []Series{s}
	}
	return c
}

// grantsOverTime counts resource role grants and revocations in each
// interval across the range.
func grantsOverTime(entries []projection.AuditEntry) Chart {
	c := Chart{Title: "Resource role grants and revocations over time", Bars: true, Time: true}
	var ts []time.Time
	for _, e := range entries {
		if e.EventType == entitlement.EventResourceAssignmentFulfilled || e.EventType == entitlement.EventResourceAssignmentRemoved {
			ts = append(ts, e.ActivityDateTime)
		}
	}
	if len(ts) == 0 {
		return c
	}
	from, to := ts[0], ts[0]
	for _, t := range ts {
		from, to = minTime(from, t), maxTime(to, t)
	}
	axis := timeAxis(from, to)
	grants, revocations := make([]int, len(axis)), make([]int, len(axis))
	for _, e := range entries {
		i, ok := slices.BinarySearchFunc(axis, e.ActivityDateTime, func(a, t time.Time) int { return a.Compare(t) })
		if !ok && i == len(axis) {
			continue
		}
		switch e.EventType {
		case entitlement.EventResourceAssignmentFulfilled:
			grants[i]++
		case entitlement.EventResourceAssignmentRemoved:
			revocations[i]++
		}
	}
	c.Labels = labels(axis)
	c.Series = []Series{{"granted", grants}, {"revoked", revocations}}
	return c
}

// colors are the series' colours, distinguishable in print too (each line
// also has its own dash pattern).
var colors = []string{"#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad"}
var dashes = []string{"", "6 3", "2 3", "8 3 2 3"}

// svg draws the chart as inline SVG.
func (c Chart) svg() template.HTML {
	const w, h, left, right, top, bottom = 720, 260, 48, 16, 16, 56
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, template.HTMLEscapeString(c.Title))
	if len(c.Series) == 0 {
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle" class="muted">nothing to chart</text></svg>`, w/2, h/2)
		return template.HTML(sb.String())
	}
	peak := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			peak = max(peak, v)
		}
	}
	step := niceCeil((peak + 3) / 4)
	peak = 4 * step
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	y := func(v int) float64 { return float64(top) + ph - ph*float64(v)/float64(peak) }
	for i := 0; i <= 4; i++ {
		v := step * i
		fmt.Fprintf(&sb, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/><text x="%d" y="%.1f" text-anchor="end" class="tick">%d</text>`,
			left, w-right, y(v), y(v), left-6, y(v)+4, v)
	}
	n := len(c.Labels)
	var x func(i int) float64 // the centre of label i
	if c.Bars {
		slot := pw / float64(n)
		bw := slot * 0.7 / float64(len(c.Series))
		x = func(i int) float64 { return float64(left) + slot*(float64(i)+0.5) }
		for si, s := range c.Series {
			for i, v := range s.Values {
				bx := x(i) - slot*0.35 + bw*float64(si)
				fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %d</title></rect>`,
					bx, y(v), bw, float64(top)+ph-y(v), colors[si%len(colors)], template.HTMLEscapeString(c.Labels[i]),
					template.HTMLEscapeString(s.Name), v)
				if !c.Time {
					fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" text-anchor="middle" class="tick">%d</text>`, bx+bw/2, y(v)-4, v)
				}
			}
		}
	} else {
		x = func(i int) float64 {
			if n == 1 {
				return float64(left) + pw/2
			}
			return float64(left) + pw*float64(i)/float64(n-1)
		}
		for si, s := range c.Series {
			var pts []string
			for i, v := range s.Values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
			fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>`,
				colors[si%len(colors)], dashes[si%len(dashes)], strings.Join(pts, " "))
		}
	}
	ticks := make([]int, n)
	for i := range ticks {
		ticks[i] = i
	}
	if c.Time && n > 3 {
		ticks = []int{0, n / 2, n - 1}
	}
	for _, i := range ticks {
		anchor, label := "middle", c.Labels[i]
		if c.Time {
			label = shortDate(label)
			if i == 0 {
				anchor = "start"
			} else if i == n-1 {
				anchor = "end"
			}
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="%s" class="tick">%s</text>`, x(i), h-bottom+16, anchor, template.HTMLEscapeString(label))
	}
	if len(c.Series) > 1 {
		lx := left
		for si, s := range c.Series {
			width, dash := 2, dashes[si%len(dashes)]
			if c.Bars {
				width, dash = 8, ""
			}
			fmt.Fprintf(&sb, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="%d" stroke-dasharray="%s"/><text x="%d" y="%d" class="legend">%s</text>`,
				lx, lx+24, h-14, h-14, colors[si%len(colors)], width, dash, lx+30, h-10, template.HTMLEscapeString(s.Name))
			lx += 40 + 7*len(s.Name)
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// shortDate shortens an RFC 3339 label to its date and minute.
func shortDate(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02 15:04")
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1),
// so that the axis reads in round numbers.
func niceCeil(v int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
