package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/story"
	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

// markerName is the file in the demo's folder that lists every file the
// demo made, so that a later run replaces those and nothing else.
const markerName = ".accessledger-demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--out DIR] [--db FILE]", stderr)
	out := fs.String("out", "accessledger-demo", "the folder for the reports, the archive and the signing key")
	db := fs.String("db", "", "the log to write (default: DIR/ledger.db); an existing file is replaced only if an earlier demo made it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" {
		*db = filepath.Join(*out, "ledger.db")
	}
	_, err := os.Stat(*out)
	created := errors.Is(err, os.ErrNotExist)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	// A refused run leaves no folder it made behind (Remove takes only an
	// empty one).
	refused := func(err error) error {
		if created {
			os.Remove(*out)
		}
		return err
	}
	if fi, err := os.Stat(filepath.Dir(*db)); err != nil || !fi.IsDir() {
		// Said before an earlier demo's files are removed.
		return refused(fmt.Errorf("%w: --db %s: its folder %s does not exist", errUsage, *db, filepath.Dir(*db)))
	}
	unlock, err := lockDir(*out)
	if err != nil {
		return refused(err)
	}
	defer unlock()
	made, err := claim(*out, *db)
	if err != nil {
		return refused(err)
	}
	clock := story.NewClock()
	log, err := sqlitestore.Open(*db, sqlitestore.Options{Now: clock.Now})
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintln(stdout, "# accessledger demo: the seed scenarios of entitlement management, played through the library's API")
	cast, err := story.Play(ctx, log, clock, stdout)
	if err != nil {
		return err
	}
	if err := made.sqlite(projection.DefaultPath(*db)); err != nil {
		return err
	}
	p, err := projection.Open(ctx, log, projection.DefaultPath(*db), projection.Options{})
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.CatchUp(ctx); err != nil {
		return err
	}
	if err := tellHistory(ctx, stdout, log, p, cast); err != nil {
		return err
	}
	reports, err := writeDemoReports(ctx, made, p, cast)
	if err != nil {
		return err
	}
	archive, pubPath, err := writeDemoArchive(ctx, stdout, made, log, p)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "\n## Administrator: archive reports and logs, and verify them")
	fmt.Fprintf(stdout, "   %d report files (each report as CSV, JSON and HTML) in %s\n", len(reports), filepath.Join(*out, "reports"))
	pub, err := readPublicKey(pubPath)
	if err != nil {
		return err
	}
	file, err := os.Open(archive)
	if err != nil {
		return err
	}
	m, err := report.VerifyArchive(ctx, file, report.VerifyOptions{PublicKey: pub, Log: log})
	file.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   %s: %d events and %d files, signed; verified: signature, every file's SHA-256, the chain from position %d to %d, and the live log verifies up to its head and holds it\n",
		archive, m.Events, len(m.Files), m.Start.Position+1, m.Head.Position)
	head, err := verifyLog(ctx, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "   log %s verified: head position %d hash %s\n", *db, head.Position, head.Hash)

	fmt.Fprintln(stdout, "\n## What to open")
	for _, r := range []string{"assignments.html", "requests.html", "audit.html", "why.html"} {
		fmt.Fprintf(stdout, "   %s\n", filepath.Join(*out, "reports", r))
	}
	// The command as it was run (./bin/accessledger after make demo), so
	// that the line can be pasted as it is.
	self := os.Args[0]
	if filepath.Base(self) != "accessledger" {
		self = "accessledger"
	}
	fmt.Fprintf(stdout, "   and check the evidence yourself:\n   %s verify-archive --archive %s --public-key %s --db %s\n   python3 docs/tools/verify.py --archive %s --public-key %s\n",
		self, archive, pubPath, *db, archive, pubPath)
	return nil
}

// tellHistory asks the projection the questions an auditor asks.
func tellHistory(ctx context.Context, w io.Writer, log *sqlitestore.Store, p *projection.Projector, cast story.Cast) error {
	fmt.Fprintln(w, "\n## Administrator: view who has assignments, and who had them")
	role := projection.RoleRef(cast.SalesTeam)
	at := cast.Expired.Format("Mon 02 Jan 15:04")
	names := func(gs []projection.RoleGrant, as projection.As) string {
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.SubjectID)
		}
		byID, _ := p.DisplayNames(ctx, ids, as)
		var out []string
		for _, id := range ids {
			out = append(out, byID[id])
		}
		slices.Sort(out)
		out = slices.Compact(out)
		if len(out) == 0 {
			return "nobody"
		}
		return strings.Join(out, ", ")
	}
	thenAs, believedAs := projection.As{Of: cast.Expired}, projection.As{Of: cast.Expired, KnownAt: cast.Recorded}
	now, err := p.Holders(ctx, projection.HoldersFilter{Role: role}, projection.Now)
	if err != nil {
		return err
	}
	then, err := p.Holders(ctx, projection.HoldersFilter{Role: role}, thenAs)
	if err != nil {
		return err
	}
	believed, err := p.Holders(ctx, projection.HoldersFilter{Role: role}, believedAs)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   Member of Sales team now: %s\n", names(now, projection.Now))
	fmt.Fprintf(w, "   Member of Sales team on %s, as we know it now: %s\n", at, names(then, thenAs))
	fmt.Fprintf(w, "   Member of Sales team on %s, as the system believed before ProcessDue recorded the expiry (position %d): %s\n",
		at, cast.Recorded, names(believed, believedAs))
	whyAs := projection.As{Of: story.Start.AddDate(0, 0, 20)}
	x, err := p.Why(ctx, story.AnnaID, role, whyAs)
	if err != nil {
		return err
	}
	reviewers, err := p.DisplayNames(ctx, whyIDs(x), whyAs)
	if err != nil {
		return err
	}
	for _, c := range x.Causes {
		var by []string
		for _, d := range c.Decisions {
			by = append(by, fmt.Sprintf("%s by %s (position %d)", d.Result, reviewers[d.ReviewedBy], d.Position))
		}
		fmt.Fprintf(w, "   Why Anna held it on %s: requested at position %d, %s, policy version %d, delivered at position %d\n",
			story.Start.AddDate(0, 0, 20).Format("Mon 02 Jan"), c.Requested.Position, strings.Join(by, ", "), c.PolicyVersion, c.Delivered.Position)
	}
	if err := x.Check(ctx, log, nil); err != nil {
		return err
	}
	fmt.Fprintln(w, "   Every event the explanation cites was checked against the log: same position, id and hash.")
	return nil
}

// writeDemoReports writes every report in every format into DIR/reports.
func writeDemoReports(ctx context.Context, made *madeFiles, p *projection.Projector, cast story.Cast) ([]string, error) {
	day20 := projection.As{Of: story.Start.AddDate(0, 0, 20)}
	generated := cast.End
	for _, r := range []struct {
		name string
		kind report.Kind
		q    report.Query
	}{
		{"catalogs", report.Catalogs, report.Query{}},
		{"assignments", report.Assignments, report.Query{PackageID: cast.SalesTools, Since: story.Start}},
		{"access-packages", report.AccessPackages, report.Query{UserID: story.AnnaID}},
		{"resources", report.Resources, report.Query{UserID: story.AnnaID, As: day20}},
		{"requests", report.Requests, report.Query{}},
		{"audit", report.Audit, report.Query{}},
		{"conflicts", report.Conflicts, report.Query{As: day20}},
		{"connected-organizations", report.ConnectedOrganizations, report.Query{}},
		{"why", report.Why, report.Query{UserID: story.AnnaID, Role: projection.RoleRef(cast.SalesTeam), As: day20}},
	} {
		r.q.GeneratedAt = generated
		rep, err := report.Build(ctx, p, r.kind, r.q)
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", r.name, err)
		}
		for _, f := range report.Formats {
			path := filepath.Join(made.dir, "reports", r.name+"."+string(f))
			file, err := made.create(path)
			if err != nil {
				return nil, err
			}
			bw := bufio.NewWriter(file)
			err = rep.Write(bw, f)
			if err == nil {
				err = bw.Flush()
			}
			if cerr := file.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return made.under("reports"), nil
}

// writeDemoArchive makes a signing key and a signed archive of the whole
// log, and returns the archive's and the public key's paths.
func writeDemoArchive(ctx context.Context, w io.Writer, made *madeFiles, log *sqlitestore.Store, p *projection.Projector) (string, string, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return "", "", err
	}
	keyName := filepath.Join(made.dir, "demo-signing")
	for _, ext := range []string{".key", ".pub"} {
		if err := made.record(keyName + ext); err != nil {
			return "", "", err
		}
	}
	if err := writeKeys(keyName, pub, priv); err != nil {
		return "", "", err
	}
	path := filepath.Join(made.dir, "accessledger-archive.tar.gz")
	file, err := made.create(path)
	if err != nil {
		return "", "", err
	}
	_, err = report.WriteArchive(ctx, file, log, p, report.ArchiveOptions{SignKey: priv, UserIDs: []string{story.AnnaID},
		Tool: "accessledger " + version(), TempDir: made.dir})
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return path, keyName + ".pub", err
}

// madeFiles is what the demo made in its folder, listed in the marker file
// before each is created.
type madeFiles struct {
	dir    string
	marker string
	files  []string
}

// claim prepares the demo's folder: it removes what an earlier demo made
// there (and only that) and refuses a folder or a log it did not make.
// The marker lists the files under the folder relative to it, so that a
// copy of the folder names its own files; a listed path outside the
// folder is removed only if it is this run's log (or its WAL files), so
// that a marker copied from elsewhere never reaches another folder.
func claim(dir, db string) (*madeFiles, error) {
	m := &madeFiles{dir: dir, marker: filepath.Join(dir, markerName)}
	absDB, err := filepath.Abs(db)
	if err != nil {
		return nil, err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	earlier, err := os.ReadFile(m.marker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("%w: %s is not empty and an earlier demo did not make it: choose another --out", errUsage, dir)
		}
		earlier = nil
	case err != nil:
		return nil, err
	}
	var listed []string
	for f := range strings.Lines(string(earlier)) {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(absDir, f)
		}
		// Not another folder's files, nor another log.
		if inside(absDir, f) || f == absDB || f == absDB+"-wal" || f == absDB+"-shm" {
			listed = append(listed, f)
		}
	}
	if _, err := os.Stat(db); err == nil && !slices.Contains(listed, absDB) {
		return nil, fmt.Errorf("%w: %s exists and no earlier demo in %s made it: the demo never overwrites a file it did not create", errUsage, db, dir)
	}
	for _, f := range listed {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(m.marker, nil, 0o644); err != nil {
		return nil, err
	}
	return m, m.sqlite(absDB)
}

// inside reports whether path is under dir (both absolute and clean).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// record lists a file in the marker before it is made: relative to the
// folder if it is under it.
func (m *madeFiles) record(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	absDir, err := filepath.Abs(m.dir)
	if err != nil {
		return err
	}
	line := abs
	if inside(absDir, abs) {
		line, _ = filepath.Rel(absDir, abs)
	}
	f, err := os.OpenFile(m.marker, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	m.files = append(m.files, abs)
	return err
}

// sqlite records a SQLite file and its WAL companions.
func (m *madeFiles) sqlite(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := m.record(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

// create records a file and creates it, refusing to overwrite one.
func (m *madeFiles) create(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := m.record(path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// under lists the files made under a subfolder of the demo's folder.
func (m *madeFiles) under(sub string) []string {
	prefix, _ := filepath.Abs(filepath.Join(m.dir, sub))
	var out []string
	for _, f := range m.files {
		if strings.HasPrefix(f, prefix+string(filepath.Separator)) {
			out = append(out, f)
		}
	}
	return out
}
