package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/internal/workload"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench [--users 1000,100000] [flags]", stderr)
	users := fs.String("users", "1000", "tenant sizes to run, comma-separated (each is a run of its own)")
	seed := fs.Uint64("seed", 1, "the workload generator's seed")
	dir := fs.String("dir", "", "keep each run's logs in a directory of its own in this one, made if needed (default: a temporary directory, removed afterwards)")
	history := fs.Int("history-days", 0, "days of generated history before measuring (0: about a request per user; -1: none)")
	single := fs.Int("single", 0, "request → delivered loops by one goroutine (default: min(2000, users))")
	concurrent := fs.Int("concurrent", 0, "request → delivered loops by --goroutines goroutines (default: min(8000, 2 × users))")
	goroutines := fs.Int("goroutines", 16, "goroutines of the concurrent phase")
	skipExpiry := fs.Bool("skip-expiry", false, "leave out filling the tenant and expiring every assignment")
	proj := fs.Bool("projection", true, "also measure the projection of the log: catch-up, queries as of now and the past, rebuild")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *goroutines < 1:
		return fmt.Errorf("%w: --goroutines %d: at least 1", errUsage, *goroutines)
	case *history < -1:
		return fmt.Errorf("%w: --history-days %d: 0 or more days, or -1 for none", errUsage, *history)
	case *single < 0 || *concurrent < 0:
		return fmt.Errorf("%w: --single and --concurrent count loops: 0 (the default) or more", errUsage)
	}
	var sizes []int
	for f := range strings.SplitSeq(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return fmt.Errorf("%w: --users: %q is not a tenant size (10 or more users)", errUsage, f)
		}
		sizes = append(sizes, n)
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
	}
	var reports []*workload.Report
	for _, n := range sizes {
		p := newProgress(stderr, fmt.Sprintf("%d users", n))
		rep, err := workload.Bench(ctx, workload.BenchConfig{
			Users: n, Seed: *seed, Dir: *dir, HistoryDays: *history, Single: *single, Concurrent: *concurrent,
			Goroutines: *goroutines, SkipExpiry: *skipExpiry, Projection: *proj,
		}, p.report)
		p.done()
		if err != nil {
			return err
		}
		reports = append(reports, rep)
		printReport(stdout, rep)
	}
	if len(reports) > 1 {
		small, large := reports[0], reports[len(reports)-1]
		fmt.Fprintf(stdout, "\nrequest → delivered, 1 goroutine, at %s users: %.2fx the rate at %s users (target ≥ 0.9x)\n",
			count(large.Users), large.Single.PerSecond()/small.Single.PerSecond(), count(small.Users))
	}
	return nil
}

// printReport writes one run's figures with the targets of the write-path
// issue beside them.
func printReport(w io.Writer, r *workload.Report) {
	// The ratios are to the mean of the two raw measurements, taken before
	// and right after the one-goroutine requests.
	raw := (r.RawInsertPerCommit.PerSecond() + r.RawAfterSingle.PerSecond()) / 2
	fmt.Fprintf(w, "\naccessledger bench: %s users, %s events in the log when replayed\n\n", count(r.Users), count(int(r.Events)))
	row := func(name, value, note string) { fmt.Fprintf(w, "  %-44s %18s   %s\n", name, value, note) }
	fmt.Fprintln(w, "baseline, measured in the same run")
	row("raw SQLite insert, one row per commit", perSecond(raw), fmt.Sprintf("synchronous=FULL, WAL; the mean of %s before the requests and %s after",
		perSecond(r.RawInsertPerCommit.PerSecond()), perSecond(r.RawAfterSingle.PerSecond())))
	fmt.Fprintln(w, "\nwrite path")
	row("request → delivered, 1 goroutine", perSecond(r.Single.PerSecond()),
		fmt.Sprintf("%.2fx raw (target ≥ 0.35x: a request is two commits)", r.Single.PerSecond()/raw))
	row(fmt.Sprintf("request → delivered, %d goroutines", r.Goroutines), perSecond(r.Concurrent.PerSecond()),
		fmt.Sprintf("%.1fx one goroutine (target ≥ 4x), %.1f appends per commit", r.Concurrent.PerSecond()/r.Single.PerSecond(), r.AppendsPerCommit))
	if r.Expiry.N > 0 {
		row(fmt.Sprintf("ProcessDue expiring %s assignments", count(r.Expiry.N)), perSecond(r.Expiry.PerSecond()),
			fmt.Sprintf("in %s (target ≥ 20,000/s)", r.Expiry.Elapsed.Round(time.Millisecond)))
	}
	row("ProcessDue with nothing due", latency(r.NothingDue), "p50 / p99 (target ≤ 100 µs)")
	fmt.Fprintf(w, "\nper-user reads at %s users, approvals read by approvers of %s requests waiting (p50 / p99; target ≤ 50 µs)\n",
		count(r.Users), count(r.Pending))
	names := make([]string, 0, len(r.Reads))
	for name := range r.Reads {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		row(name, latency(r.Reads[name]), "")
	}
	fmt.Fprintln(w, "\nstart and memory")
	row("replay from SQLite", perSecond(r.Replay.PerSecond())+" ev",
		fmt.Sprintf("%s events in %s (target ≥ 300,000/s)", count(r.Replay.N), r.Replay.Elapsed.Round(time.Millisecond)))
	row("heap per user, request and assignment", fmt.Sprintf("%.0f B", r.BytesPerEntity()),
		fmt.Sprintf("%s on the heap for %s of them (target ≤ 2 KiB)", mebibytes(r.HeapBytes), count(r.Entities)))
	row("write a snapshot", r.SnapshotWrite.Elapsed.Round(time.Millisecond).String(), mebibytes(uint64(r.SnapshotWrite.N)))
	row("start from the snapshot", r.SnapshotStart.Elapsed.Round(time.Millisecond).String(),
		fmt.Sprintf("and replay the %s events after it (the whole log: %s)", count(r.SnapshotStart.N), r.Replay.Elapsed.Round(time.Millisecond)))
	if p := r.Projection; p != nil {
		printProjection(w, row, p)
	}
	fmt.Fprintln(w, "\ngenerating the tenant")
	row("directory and catalogs", perSecond(r.Build.PerSecond())+" ev", fmt.Sprintf("%s events in %s", count(r.Build.N), r.Build.Elapsed.Round(time.Millisecond)))
	if r.History.N > 0 {
		h := r.HistoryStats
		row(fmt.Sprintf("%d days of history", h.Days), perSecond(r.History.PerSecond())+" ev",
			fmt.Sprintf("%s events in %s: %s requests, %s approvals, %s denials, %s cancels, %s extensions, %s removals",
				count(r.History.N), r.History.Elapsed.Round(time.Millisecond), count(h.Requests), count(h.Approvals), count(h.Denials),
				count(h.Cancels), count(h.Extensions), count(h.Removals)))
	}
}

// printProjection writes the projection's figures with the targets of the
// read-side issue beside them.
func printProjection(w io.Writer, row func(name, value, note string), p *workload.ProjectionReport) {
	fmt.Fprintf(w, "\nprojection (%s events)\n", count(p.Events))
	rss := "peak RSS not known here"
	if p.PeakRSS > 0 {
		rss = fmt.Sprintf("peak RSS %s, %s before (target ≤ 256 MiB)", mebibytes(p.PeakRSS), mebibytes(p.BaseRSS))
	}
	row("rebuild", perSecond(p.Rebuild.PerSecond())+" ev",
		fmt.Sprintf("%s events in %s (target ≥ 100,000/s); %s", count(p.Rebuild.N), p.Rebuild.Elapsed.Round(time.Millisecond), rss))
	row("rebuild, rows written", perSecond(p.RowsPerSecond())+" rows",
		fmt.Sprintf("%s rows, %s; %.2fx raw SQLite inserting as many rows (%s)", count(p.Rows), mebibytes(uint64(p.FileBytes)),
			p.RowsPerSecond()/p.RawRows.PerSecond(), perSecond(p.RawRows.PerSecond())))
	row("first catch-up beside the Manager", perSecond(p.CatchUp.PerSecond())+" ev", fmt.Sprintf("%s events in %s", count(p.CatchUp.N), p.CatchUp.Elapsed.Round(time.Millisecond)))
	row("catch up one command (a request with its delivery)", latency(p.CatchUpOne), "p50 / p99 (target ≤ 1 ms)")
	fmt.Fprintln(w, "\nprojection queries (p50 / p99; target ≤ 5 ms, why ≤ 10 ms; \"now\" is after the expiry phase ended")
	fmt.Fprintln(w, "the history's assignments, \"past\" the middle of the history)")
	names := make([]string, 0, len(p.Queries))
	for name := range p.Queries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		row(name, latency(p.Queries[name]), "")
	}
}

func perSecond(v float64) string { return count(int(v+0.5)) + " /s" }

func latency(l workload.Latency) string {
	return fmt.Sprintf("%s / %s", micro(l.P50), micro(l.P99))
}

func micro(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	if d < 10*time.Microsecond {
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func mebibytes(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// count formats n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// progress shows how far a run got: a line rewritten in place on a
// terminal; otherwise a line per phase, and one at every tenth of a long
// phase.
type progress struct {
	w        io.Writer
	label    string
	terminal bool
	phase    string
	tenths   int
	last     time.Time
	started  time.Time
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label, started: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) report(pr workload.Progress) {
	if !p.terminal {
		if pr.Phase != p.phase {
			p.phase, p.tenths = pr.Phase, 0
			fmt.Fprintf(p.w, "%s: %s\n", p.label, pr.Phase)
		}
		if pr.Total >= 1000 && pr.Done*10/pr.Total > p.tenths {
			p.tenths = pr.Done * 10 / pr.Total
			fmt.Fprintf(p.w, "%s: %s: %s of %s (%d%%)\n", p.label, pr.Phase, count(pr.Done), count(pr.Total), 10*p.tenths)
		}
		return
	}
	if pr.Phase == p.phase && time.Since(p.last) < 200*time.Millisecond && pr.Done < pr.Total {
		return
	}
	p.phase, p.last = pr.Phase, time.Now()
	bar := ""
	if pr.Total > 1 {
		const width = 30
		fill := width * pr.Done / pr.Total
		bar = fmt.Sprintf(" [%s%s] %s/%s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), count(pr.Done), count(pr.Total))
	}
	fmt.Fprintf(p.w, "\r\033[K%s %s: %s%s", time.Since(p.started).Round(time.Second), p.label, pr.Phase, bar)
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
