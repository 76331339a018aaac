package report

import (
	"bufio"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// WriteCSV writes the report's table as CSV (RFC 4180): a header row of
// column names, then one row per line of the report.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	if err := cw.WriteAll(r.Rows); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

// document is the JSON form of a report: what it is about, the moment it
// answers about, the checkpoint it was read at, and the Graph-shaped
// objects under "value" as Graph's collections hold them.
type document struct {
	Report            Kind       `json:"report"`
	Title             string     `json:"title"`
	Subject           string     `json:"subject,omitempty"`
	AsOf              *time.Time `json:"asOf,omitempty"`
	AsKnownAt         uint64     `json:"asKnownAt,omitempty"`
	Since             *time.Time `json:"since,omitempty"`
	Until             *time.Time `json:"until,omitempty"`
	GeneratedDateTime *time.Time `json:"generatedDateTime,omitempty"`
	Checkpoint        checkpoint `json:"checkpoint"`
	Value             []any      `json:"value"`
}

type checkpoint struct {
	Position uint64 `json:"position"`
	Hash     string `json:"hash"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// WriteJSON writes the report as one JSON document whose "value" holds the
// report's objects with Microsoft Graph's property names and enum values.
func (r *Report) WriteJSON(w io.Writer) error {
	d := document{Report: r.Kind, Title: r.Title, Subject: r.Subject, AsOf: timePtr(r.Query.As.Of),
		AsKnownAt: uint64(r.Query.As.KnownAt), Since: timePtr(r.Query.Since), Until: timePtr(r.Query.Until),
		GeneratedDateTime: timePtr(r.Query.GeneratedAt),
		Checkpoint:        checkpoint{uint64(r.Checkpoint.Position), r.Checkpoint.Hash.String()}, Value: nonNil(r.Value)}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return bw.Flush()
}

//go:embed report.html.tmpl
var htmlText string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"stamp":     stamp,
	"cellClass": cellClass,
}).Parse(htmlText))

// WriteHTML writes the report as one self-contained HTML file: styles
// inline, charts as inline SVG, no scripts and nothing fetched, laid out
// for the screen and for print.
func (r *Report) WriteHTML(w io.Writer) error {
	type chart struct {
		Title string
		SVG   template.HTML
	}
	var charts []chart
	for _, c := range r.Charts {
		charts = append(charts, chart{c.Title, c.svg()})
	}
	bw := bufio.NewWriter(w)
	err := htmlTemplate.Execute(bw, struct {
		*Report
		Charts []chart
		Hash   string
	}{r, charts, r.Checkpoint.Hash.String()})
	if err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return bw.Flush()
}

// cellClass styles a table cell by what it holds: an instant is not broken
// across lines, an id is set small.
func cellClass(s string) string {
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return "t"
	}
	if len(s) == 36 && strings.Count(s, "-") == 4 || len(s) == 26 && strings.ToUpper(s) == s && !strings.ContainsAny(s, " -") {
		return "id" // a UUID or a ULID
	}
	return ""
}
