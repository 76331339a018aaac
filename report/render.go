package report

import (
	"bufio"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
)

// WriteCSV writes the report's table as CSV (RFC 4180, with CRLF line
// ends, also for a line break inside a cell, where encoding/csv drops a
// carriage return that ends no line): a header row of column names, then
// one row per line of the report. A cell that a
// spreadsheet would take for a formula (it begins with =, +, -, @, a tab
// or a carriage return: a display name such as =HYPERLINK(…) comes from
// whoever named the object) is written with a leading apostrophe, so that
// opening the file runs nothing; the JSON form keeps the value as it is.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(r.Columns); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	row := make([]string, 0, len(r.Columns))
	for _, cells := range r.Rows {
		row = row[:0]
		for _, c := range cells {
			row = append(row, inertCell(c))
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

// inertCell returns a CSV cell that no spreadsheet evaluates (OWASP's
// advice on CSV injection).
func inertCell(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

// document is the JSON form of a report: what it is about, the moment it
// answers about, the checkpoint it was read at, and then, under "value",
// the Graph-shaped objects as Graph's collections hold them.
type document struct {
	Report            Kind       `json:"report"`
	Title             string     `json:"title"`
	Subject           string     `json:"subject,omitempty"`
	AsOf              *time.Time `json:"asOf,omitempty"`
	AsKnownAt         uint64     `json:"asKnownAt,omitempty"`
	Since             *time.Time `json:"since,omitempty"`
	Until             *time.Time `json:"until,omitempty"`
	RecordedAfter     uint64     `json:"recordedAfter,omitempty"`
	GeneratedDateTime *time.Time `json:"generatedDateTime,omitempty"`
	Checkpoint        checkpoint `json:"checkpoint"`
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
// report's objects with Microsoft Graph's property names and enum values,
// one object per line.
func (r *Report) WriteJSON(w io.Writer) error {
	d := document{Report: r.Kind, Title: r.Title, Subject: r.Subject, AsOf: timePtr(r.Query.As.Of),
		AsKnownAt: uint64(r.Query.As.KnownAt), Since: timePtr(r.Query.Since), Until: timePtr(r.Query.Until),
		RecordedAfter: uint64(r.Query.RecordedAfter), GeneratedDateTime: timePtr(r.Query.GeneratedAt),
		Checkpoint: checkpoint{uint64(r.Checkpoint.Position), r.Checkpoint.Hash.String()}}
	head, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head[:len(head)-2]) // all but the closing "\n}"
	bw.WriteString(",\n  \"value\": [")
	// Each object on a line of its own, indented no further: as readable
	// line by line, and a large report is not re-scanned to indent it.
	// Windows of objects are encoded on every CPU, and written in order.
	const window = 4096
	encoded := make([][]byte, min(window, len(r.Value)))
	for from := 0; from < len(r.Value); from += window {
		part := r.Value[from:min(from+window, len(r.Value))]
		if err := marshalAll(part, encoded); err != nil {
			return fmt.Errorf("report: write json: %w", err)
		}
		for i := range part {
			if from+i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			bw.Write(encoded[i])
		}
	}
	if len(r.Value) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// marshalAll encodes values into out[i], splitting the work among as many
// goroutines as there are CPUs when there is enough of it, and waits for
// them.
func marshalAll(values []any, out [][]byte) error {
	encode := func(from, to int) error {
		for i := from; i < to; i++ {
			var b []byte
			var err error
			if a, ok := values[i].(assignmentJSON); ok {
				b, err = a.appendJSON(out[i][:0])
			} else {
				b, err = json.Marshal(values[i])
			}
			if err != nil {
				return err
			}
			out[i] = b
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(values)/256)
	if workers < 2 {
		return encode(0, len(values))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		from, to := w*len(values)/workers, (w+1)*len(values)/workers
		wg.Go(func() { errs[w] = encode(from, to) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

//go:embed report.html.tmpl
var htmlText string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"stamp": stamp,
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
	bw := bufio.NewWriterSize(w, 1<<16)
	data := struct {
		*Report
		Charts []chart
		Hash   string
	}{r, charts, r.Checkpoint.Hash.String()}
	if err := htmlTemplate.ExecuteTemplate(bw, "head", data); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	// The rows are written here rather than by the template: escaping
	// each cell through html/template's reflection costs more than the
	// rest of a large report.
	for _, row := range r.Rows {
		bw.WriteString("<tr>")
		for _, c := range row {
			if class := cellClass(c); class != "" {
				bw.WriteString(`<td class="` + class + `">`)
			} else {
				bw.WriteString("<td>")
			}
			template.HTMLEscape(bw, []byte(c))
			bw.WriteString("</td>")
		}
		bw.WriteString("</tr>\n")
	}
	if len(r.Rows) == 0 {
		if err := htmlTemplate.ExecuteTemplate(bw, "empty", data); err != nil {
			return fmt.Errorf("report: write html: %w", err)
		}
	}
	if err := htmlTemplate.ExecuteTemplate(bw, "tail", data); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return bw.Flush()
}

// cellClass styles a table cell by what it holds: an instant is not broken
// across lines, an id is set small.
func cellClass(s string) string {
	switch {
	case len(s) == len("2006-01-02T15:04:05Z") && s[4] == '-' && s[10] == 'T' && s[len(s)-1] == 'Z':
		return "t"
	case len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-':
		return "id" // a UUID
	case len(s) == 26 && strings.Trim(s, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == "":
		return "id" // a ULID
	}
	return ""
}
