package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

// readFlags are the flags of the commands that read a log through its
// projection: where they are, and which moment and range they ask about.
type readFlags struct {
	db, projection     string
	asOf, since, until string
	asKnownAt          uint64
	asKnownAtSet       bool // --as-known-at was given: 0 is not "the latest"
	pkg, user          string
	format, out        string
}

// register registers every read flag: those of registerMoment, a time
// range, an access package and the output.
func (f *readFlags) register(fs *flag.FlagSet) {
	f.registerMoment(fs)
	fs.StringVar(&f.since, "since", "", "start of the time range (RFC 3339 or a date)")
	fs.StringVar(&f.until, "until", "", "end of the time range, exclusive (RFC 3339 or a date)")
	fs.StringVar(&f.pkg, "package", "", "an access package: its id or display name")
	fs.StringVar(&f.format, "format", "csv", "csv, json or html")
	fs.StringVar(&f.out, "out", "", "write to this new file instead of standard output (an existing file is not overwritten)")
}

// registerMoment registers the flags that name the log, its projection,
// a user and the moment asked about.
func (f *readFlags) registerMoment(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the event log (SQLite file)")
	fs.StringVar(&f.projection, "projection", "", "the projection file (default: the log's path with .projection added)")
	fs.StringVar(&f.asOf, "as-of", "", "answer as of this instant (RFC 3339, or a date: 2026-03-02)")
	fs.Func("as-known-at", "answer as the system knew it once it had recorded this log `POSITION`", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not a log position: %q", v)
		}
		f.asKnownAt, f.asKnownAtSet = n, true
		return nil
	})
	fs.StringVar(&f.user, "user", "", "a user: id or display name")
}

// parseTime reads an instant as RFC 3339 or a date (midnight UTC).
func parseTime(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err == nil {
		// The log keeps instants as Unix nanoseconds, and the zero instant
		// would mean no flag (as of now): refused rather than misread.
		if t.Before(time.Unix(0, math.MinInt64+1)) || t.After(time.Unix(0, math.MaxInt64)) {
			return time.Time{}, fmt.Errorf("%w: --%s %s is outside the instants a log can hold (years 1678 to 2262)", errUsage, flagName, s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: --%s %q is neither RFC 3339 (2026-03-02T09:00:00Z) nor a date (2026-03-02)", errUsage, flagName, s)
}

// reader is an open log with its projection, caught up.
type reader struct {
	log *sqlitestore.Store
	p   *projection.Projector
	tmp string // a directory of the reader's own, removed on Close
}

func (r *reader) Close() {
	r.p.Close()
	r.log.Close()
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

// openProjection opens the projection at path, saying where it tried and
// how to choose another place if it cannot.
func openProjection(ctx context.Context, log projection.Log, path string) (*projection.Projector, error) {
	p, err := projection.Open(ctx, log, path, projection.Options{})
	if err != nil {
		hint := "--projection chooses another file"
		if !errors.Is(err, projection.ErrProjectionInUse) && !errors.Is(err, projection.ErrNotProjection) {
			if _, serr := os.Stat(path); serr == nil {
				hint += "; a damaged projection may be deleted, with its -wal and -shm files: it is rebuilt from the log"
			}
		}
		return nil, fmt.Errorf("open the projection %s (%s): %w", path, hint, err)
	}
	return p, nil
}

// openRebuilt opens the log and a projection rebuilt from it in a
// temporary directory beside the log (or, where the log's directory
// cannot take one, the system's), for answers that do not rest on a
// projection file someone may have edited.
func (f *readFlags) openRebuilt(ctx context.Context) (*reader, error) {
	dir, err := os.MkdirTemp(filepath.Dir(f.db), ".accessledger-rebuilt-")
	if err != nil {
		if dir, err = os.MkdirTemp("", "accessledger-rebuilt-"); err != nil {
			return nil, fmt.Errorf("a directory for the rebuilt projection: %w", err)
		}
	}
	g := *f
	g.projection = filepath.Join(dir, "projection.db")
	r, err := g.open(ctx) // a new projection is loaded by Rebuild
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r.tmp = dir
	return r, nil
}

// open opens the log and its projection and catches the projection up.
func (f *readFlags) open(ctx context.Context) (*reader, error) {
	log, err := openExisting(f.db)
	if err != nil {
		return nil, err
	}
	path := f.projection
	if path == "" {
		path = projection.DefaultPath(log.Path())
	}
	p, err := openProjection(ctx, log, path)
	if err != nil {
		log.Close()
		return nil, err
	}
	if err := catchUpOrLoad(ctx, log, p); err != nil {
		p.Close()
		log.Close()
		if errors.Is(err, projection.ErrDamaged) {
			err = fmt.Errorf("%w (delete %s with its -wal and -shm files, or run accessledger replay: it is rebuilt from the log)", err, path)
		}
		return nil, err
	}
	return &reader{log: log, p: p}, nil
}

// catchUpOrLoad brings a projection up to the log: one that has applied
// nothing yet is loaded by Rebuild, which is faster (see the projection
// package's doc). A log cut at its end is refused (see checkEnd).
func catchUpOrLoad(ctx context.Context, log *sqlitestore.Store, p *projection.Projector) error {
	if err := checkEnd(ctx, log); err != nil {
		return err
	}
	cp, err := p.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if cp.Position == 0 {
		if _, err = p.Rebuild(ctx, nil); !errors.Is(err, projection.ErrProjectionInUse) {
			return err
		}
		// Another process has it open (loading it too, perhaps): catch
		// up beside it instead.
	}
	_, err = p.CatchUp(ctx)
	return err
}

// checkEnd refuses a log cut at its end before a projection is built or
// caught up from it: the chain of what is left holds, and only the log's
// own records show the cut. (A projection with a checkpoint beyond the cut
// would see it; a new one would not.)
func checkEnd(ctx context.Context, log *sqlitestore.Store) error {
	if err := log.CheckEnd(ctx); err != nil {
		return fmt.Errorf("the log does not verify, so no projection is made from it: %w", err)
	}
	return nil
}

// openQuery opens the log and its projection and builds the query the
// flags ask for; the caller closes the reader.
func (f *readFlags) openQuery(ctx context.Context) (*reader, report.Query, error) {
	r, err := f.open(ctx)
	if err != nil {
		return nil, report.Query{}, err
	}
	q, err := f.query(ctx, r)
	if err != nil {
		r.Close()
		return nil, report.Query{}, err
	}
	return r, q, nil
}

// query builds the report query the flags ask for, resolving display
// names to ids.
func (f *readFlags) query(ctx context.Context, r *reader) (report.Query, error) {
	var q report.Query
	var err error
	if q.As.Of, err = parseTime("as-of", f.asOf); err != nil {
		return q, err
	}
	if q.Since, err = parseTime("since", f.since); err != nil {
		return q, err
	}
	if q.Until, err = parseTime("until", f.until); err != nil {
		return q, err
	}
	if f.asKnownAtSet && f.asKnownAt == 0 {
		return q, fmt.Errorf("%w: --as-known-at runs from 1, the log's first event (0 would be before anything was recorded)", errUsage)
	}
	q.As.KnownAt = eventstore.Position(f.asKnownAt)
	if q.As.KnownAt != 0 {
		// The projection would answer with what it has read, as of now
		// (projection.As): a moment the log has not reached is refused.
		cp, err := r.p.Checkpoint(ctx)
		if err != nil {
			return q, err
		}
		if q.As.KnownAt > cp.Position {
			return q, fmt.Errorf("%w: --as-known-at %d: the log ends at position %d", errUsage, q.As.KnownAt, cp.Position)
		}
	}
	if q.PackageID, err = r.packageID(ctx, f.pkg); err != nil {
		return q, err
	}
	if q.UserID, err = r.userID(ctx, f.user); err != nil {
		return q, err
	}
	return q, nil
}

// packageID resolves an access package's id or display name to its id.
func (r *reader) packageID(ctx context.Context, s string) (string, error) {
	return r.resolve(ctx, "access package", projection.TypeAccessPackage, s, func(name string) ([]string, error) {
		pkgs, err := r.p.AccessPackagesNamed(ctx, name, projection.Now)
		var ids []string
		for _, p := range pkgs {
			ids = append(ids, p.ID)
		}
		return ids, err
	})
}

// userID resolves a user's id or display name to the id.
func (r *reader) userID(ctx context.Context, s string) (string, error) {
	return r.resolve(ctx, "user", projection.TypeUser, s, func(name string) ([]string, error) {
		users, err := r.p.UsersNamed(ctx, name, projection.Now)
		var ids []string
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		return ids, err
	})
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// resolve turns an id or a display name into an id: a UUID is taken as
// an id, as given or in lower case (as the library makes them; ids given
// to it are kept as they came), which the log must have known at some
// time as one of what is asked for (of type typ), deleted since or not; a
// name must name exactly one object. Either way, an answer about nothing
// is refused rather than given as empty.
func (r *reader) resolve(ctx context.Context, what, typ, s string, named func(string) ([]string, error)) (string, error) {
	if s == "" {
		return s, nil
	}
	if uuidRE.MatchString(s) {
		for _, id := range []string{s, strings.ToLower(s)} {
			is, err := r.p.TypeOf(ctx, id)
			switch {
			case errors.Is(err, projection.ErrNotFound):
				continue
			case err != nil:
				return "", err
			case is != typ:
				return "", fmt.Errorf("%w: %s is no %s: the log knows it as a %s", errUsage, s, what, is)
			}
			return id, nil
		}
		return "", fmt.Errorf("%w: the log has no %s (nor anything else) with the id %s", errUsage, what, s)
	}
	ids, err := named(s)
	switch {
	case err != nil:
		return "", err
	case len(ids) == 0:
		return "", fmt.Errorf("%w: no %s is named %q (names are matched exactly; give the id, or the display name as the log has it)", errUsage, what, s)
	case len(ids) > 1:
		return "", fmt.Errorf("%w: %d %ss are named %q; give one of their ids: %s", errUsage, len(ids), what, s, strings.Join(ids, ", "))
	}
	return ids[0], nil
}

// output opens the --out file, which must not exist yet (as archive,
// keygen and demo refuse to overwrite), or returns stdout. The returned
// function closes it, and removes it if the output failed.
func (f *readFlags) output(stdout io.Writer) (io.Writer, func(failed bool) error, error) {
	if f.out == "" {
		return stdout, func(bool) error { return nil }, nil
	}
	file, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, nil, outExists(f.out)
	}
	if err != nil {
		return nil, nil, err
	}
	return file, func(failed bool) error {
		err := file.Close()
		if failed || err != nil {
			os.Remove(f.out)
		}
		return err
	}, nil
}

// outExists is the usage error of an --out that names an existing file:
// no command overwrites one.
func outExists(path string) error {
	return fmt.Errorf("%w: %s exists; remove it or choose another --out", errUsage, path)
}

// reportError turns a report's invalid query into a usage error.
func reportError(err error) error {
	var missing *report.MissingError
	if errors.As(err, &missing) {
		flag := map[string]string{"PackageID": "--package", "UserID": "--user", "Role": "--resource and --role"}[missing.Field]
		return fmt.Errorf("%w: the %s report needs %s", errUsage, missing.Kind, flag)
	}
	if errors.Is(err, report.ErrInvalid) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

func itoa(p eventstore.Position) string { return strconv.FormatUint(uint64(p), 10) }
