// Package sqlitex opens SQLite databases the way accessledger uses them and
// runs embedded, ordered schema migrations. It is shared by the event store
// (eventstore/sqlitestore) and the projections.
//
// A database is opened as two pools on the same file: a writer pool of
// exactly one connection (SQLite allows one writer at a time; a single
// connection with BEGIN IMMEDIATE never meets SQLITE_BUSY_SNAPSHOT) and a
// reader pool of several read-only connections, so that reads never queue
// behind writes. The file is put in WAL mode, which lets readers and the
// writer work at the same time (unless Options.NoJournal, for a file that
// nobody reads while it is written).
package sqlitex

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DriverName is the database/sql driver name of modernc.org/sqlite.
const DriverName = "sqlite"

// TempStore is the PRAGMA temp_store of the write connection: MEMORY. A
// multi-row INSERT into a table with an index keeps a statement journal
// (the pages it changes, to undo it alone on error); with the default
// temp_store, a journal past 64 KiB spills into a temporary file that is
// created, written and deleted by every such statement. A batch of 16
// appends to 16 streams spent more than a third of its INSERT time there.
const TempStore = "MEMORY"

// Synchronous values for Options.Synchronous, as PRAGMA synchronous takes them.
const (
	SyncFull   = "FULL"
	SyncNormal = "NORMAL"
	SyncOff    = "OFF"
	SyncExtra  = "EXTRA"
)

// Options says how to open a database. The zero value is durable:
// synchronous=FULL, a 5 s busy timeout and a reader pool sized to the machine.
type Options struct {
	// Synchronous is the PRAGMA synchronous of the write connection: one of
	// SyncFull (the default), SyncNormal, SyncOff or SyncExtra.
	Synchronous string
	// BusyTimeout is how long a connection waits for a lock held by another
	// connection or process before failing with SQLITE_BUSY. Default 5 s.
	BusyTimeout time.Duration
	// ReadConns is the size of the reader pool. Default max(4, GOMAXPROCS).
	ReadConns int
	// MmapSize, if positive, is the PRAGMA mmap_size of every connection in
	// bytes. Memory-mapped reads skip a copy per page.
	MmapSize int64
	// CacheSize, if non-zero, is the PRAGMA cache_size of every connection
	// (negative: KiB, positive: pages).
	CacheSize int
	// NoJournal opens the writer with journal_mode=OFF instead of WAL:
	// every page is written once, into the file, and nothing can be rolled
	// back, so a write that fails leaves the file in no defined state. It
	// is for a file that is thrown away unless everything written to it
	// succeeds, and that nothing reads while it is written.
	NoJournal bool
	// AutoCheckpoint, if positive, is the PRAGMA wal_autocheckpoint of the
	// writer in pages: a commit that takes the WAL past it copies the WAL
	// into the file. Zero keeps SQLite's 1,000.
	AutoCheckpoint int
}

// SynchronousLevel checks s and returns it in the form PRAGMA synchronous
// takes, with "" meaning SyncFull.
func SynchronousLevel(s string) (string, error) {
	switch strings.ToUpper(s) {
	case "", SyncFull, "2":
		return SyncFull, nil
	case SyncNormal, "1":
		return SyncNormal, nil
	case SyncOff, "0":
		return SyncOff, nil
	case SyncExtra, "3":
		return SyncExtra, nil
	}
	return "", fmt.Errorf("sqlitex: synchronous must be FULL, NORMAL, OFF or EXTRA, not %q", s)
}

func (o Options) withDefaults() (Options, error) {
	var err error
	if o.Synchronous, err = SynchronousLevel(o.Synchronous); err != nil {
		return o, err
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.ReadConns <= 0 {
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	return o, nil
}

// DB is a database opened as a writer pool of one connection and a pool of
// read-only connections on the same file.
type DB struct {
	// Write has exactly one connection. Its transactions begin with BEGIN
	// IMMEDIATE (the DSN sets _txlock=immediate).
	Write *sql.DB
	// Read is a pool of read-only (query_only) connections.
	Read *sql.DB
}

// Open opens (creating if needed) the SQLite database at path in WAL mode
// (without a journal if opts.NoJournal), applying opts to every
// connection. The caller runs migrations and closes the DB.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlitex: open %q: need the path of a database file", path)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	w, err := sql.Open(DriverName, DSN(path, opts, false))
	if err != nil {
		return nil, fmt.Errorf("sqlitex: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Open the writer first: it creates the file and switches it to WAL,
	// which read-only connections cannot do.
	if err := pingWithin(ctx, w, opts.BusyTimeout); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitex: open %s: %w", path, err)
	}
	r, err := sql.Open(DriverName, DSN(path, opts, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitex: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := pingWithin(ctx, r, opts.BusyTimeout); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlitex: open %s for reading: %w", path, err)
	}
	return &DB{Write: w, Read: r}, nil
}

// OpenReadOnly opens the existing SQLite database at path for reading
// only: mode=ro, query_only, no change to its journal mode, and nothing
// created. A database that no process has open in WAL mode (no -wal file
// beside it) is opened immutable, so that SQLite neither locks it nor
// creates -wal and -shm files beside it, and a file the user may not write
// can be read; one that a writer holds open is read through its WAL as
// usual, which needs its -shm file.
func OpenReadOnly(ctx context.Context, path string, opts Options) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlitex: open %q: need the path of a database file", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlitex: open %s: %w", path, err)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	_, werr := os.Stat(path + "-wal")
	dsn := DSN(path, opts, true) + "&mode=ro"
	if errors.Is(werr, fs.ErrNotExist) {
		dsn += "&immutable=1"
	}
	r, err := sql.Open(DriverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitex: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		return nil, fmt.Errorf("sqlitex: open %s: %w", path, err)
	}
	return r, nil
}

// pingWithin opens db's first connection, trying again while the file is
// busy, for up to timeout. Setting up a connection (switching a new file to
// WAL, above all) can meet another process doing the same and fail with
// SQLITE_BUSY at once, without the busy handler that every later statement
// waits in.
func pingWithin(ctx context.Context, db *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || !IsBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// IsBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED:
// another connection holds the lock it needed.
func IsBusy(err error) bool {
	switch primaryCode(err) {
	case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
		return true
	}
	return false
}

// primaryCode returns SQLite's primary result code of err (its extended
// code's low byte), or -1 if err carries none.
func primaryCode(err error) int {
	var coded interface{ Code() int }
	if !errors.As(err, &coded) {
		return -1
	}
	return coded.Code() & 0xff
}

// ErrNotDatabase is Inspect's error for a file that is not a SQLite
// database.
var ErrNotDatabase = errors.New("not a SQLite database")

// Inspect opens the file at path read-only, without writing to it (opening
// to write would put it in WAL mode), and calls f with the pool, closed
// once f returns. A file that is missing or empty is not inspected (nil);
// one that is not a database is ErrNotDatabase.
func Inspect(ctx context.Context, path string, f func(*sql.DB) error) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // the caller creates it, or reports why it cannot
	}
	db, err := OpenReadOnly(ctx, path, Options{ReadConns: 1})
	if IsNotADB(err) {
		return fmt.Errorf("%s is %w", path, ErrNotDatabase)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

// IsDamage reports whether err is SQLite's SQLITE_CONSTRAINT or
// SQLITE_CORRUPT: rows that cannot be there, or a file that is not sound.
func IsDamage(err error) bool {
	switch primaryCode(err) {
	case 11, 19: // SQLITE_CORRUPT, SQLITE_CONSTRAINT
		return true
	}
	return false
}

// IsNotADB reports whether err is SQLite's SQLITE_NOTADB: the file is not
// a database.
func IsNotADB(err error) bool {
	return primaryCode(err) == 26
}

// EachRow runs query with args on conn at the driver level and calls f
// with each row's ncols values, in a slice f must not keep (it is reused).
// For long answers the database/sql scanning machinery costs as much as
// SQLite itself; the driver hands TEXT over as string and BLOB as []byte
// of its own.
func EachRow(ctx context.Context, conn *sql.Conn, query string, args []any, ncols int, f func(row []driver.Value) error) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("sqlitex: the driver's connection cannot prepare with a context")
		}
		st, err := pc.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		sq, ok := st.(driver.StmtQueryContext)
		if !ok {
			return errors.New("sqlitex: the driver's statement cannot query with a context")
		}
		rows, err := sq.QueryContext(ctx, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]driver.Value, ncols)
		for {
			switch err := rows.Next(dest); {
			case err == io.EOF:
				return nil
			case err != nil:
				return err
			}
			if err := f(dest); err != nil {
				return err
			}
		}
	})
}

// EachBytes runs query, whose one column is TEXT or BLOB, on conn and
// calls f with each row's value (nil for NULL), which f may keep.
func EachBytes(ctx context.Context, conn *sql.Conn, query string, args []any, f func([]byte)) error {
	return EachRow(ctx, conn, query, args, 1, func(row []driver.Value) error {
		switch v := row[0].(type) {
		case []byte:
			f(v)
		case string:
			f([]byte(v))
		case nil:
			f(nil)
		default:
			return fmt.Errorf("sqlitex: a %T where TEXT or BLOB was expected", v)
		}
		return nil
	})
}

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.Read.Close(), d.Write.Close())
}

// CloseAndWait closes d, then waits until the connections that were in
// use are returned and closed too (sql.DB.Close does not wait for them),
// or until ctx is done: after it, no connection of d has the file open.
// Whoever replaces the file needs that: the last connection to close
// checkpoints and deletes the WAL by its path, which by then would be
// the new file's.
func (d *DB) CloseAndWait(ctx context.Context) error {
	err := d.Close()
	for d.Read.Stats().OpenConnections+d.Write.Stats().OpenConnections > 0 {
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return err
}

// DSN returns the modernc.org/sqlite data source name for the file at path:
// the busy timeout, foreign keys on and, for the writer, WAL mode (no
// journal if opts.NoJournal), synchronous, temporary storage in memory
// (see TempStore), the automatic checkpoint if set and BEGIN IMMEDIATE
// transactions; for a reader, query_only.
// opts must already be checked (see SynchronousLevel).
func DSN(path string, opts Options, readOnly bool) string {
	q := []string{
		"_pragma=busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")",
		"_pragma=foreign_keys(1)",
	}
	if opts.MmapSize > 0 {
		q = append(q, "_pragma=mmap_size("+strconv.FormatInt(opts.MmapSize, 10)+")")
	}
	if opts.CacheSize != 0 {
		q = append(q, "_pragma=cache_size("+strconv.Itoa(opts.CacheSize)+")")
	}
	if readOnly {
		q = append(q, "_pragma=query_only(1)")
	} else {
		sync := opts.Synchronous
		if sync == "" {
			sync = SyncFull
		}
		mode := "WAL"
		if opts.NoJournal {
			mode = "OFF"
		}
		q = append(q, "_pragma=journal_mode("+mode+")", "_pragma=synchronous("+sync+")", "_pragma=temp_store("+TempStore+")", "_txlock=immediate")
		if opts.AutoCheckpoint > 0 {
			q = append(q, "_pragma=wal_autocheckpoint("+strconv.Itoa(opts.AutoCheckpoint)+")")
		}
	}
	return "file:" + escapePath(path) + "?" + strings.Join(q, "&")
}

// escapePath makes path safe in a file: URI: '%', '?' and '#' are escaped.
func escapePath(path string) string {
	var b strings.Builder
	for _, c := range []byte(path) {
		switch c {
		case '%', '?', '#':
			b.WriteString(url.QueryEscape(string(c)))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Pragma runs PRAGMA name and returns its single value as text.
func Pragma(ctx context.Context, q Querier, name string) (string, error) {
	var v string
	if err := q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		return "", fmt.Errorf("sqlitex: pragma %s: %w", name, err)
	}
	return v, nil
}

// Querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ConfigureWriter applies the writer settings of opts to conn, a
// connection the caller brought (see eventstore/sqlitestore.OpenDB): the
// busy timeout and synchronous level, and WAL mode unless the database is
// in memory.
func ConfigureWriter(ctx context.Context, conn *sql.Conn, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	stmts := []string{
		"PRAGMA busy_timeout = " + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10),
		"PRAGMA synchronous = " + opts.Synchronous,
		"PRAGMA temp_store = " + TempStore,
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlitex: %s: %w", s, err)
		}
	}
	mode, err := Pragma(ctx, conn, "journal_mode")
	if err != nil {
		return err
	}
	if mode = strings.ToLower(mode); mode != "wal" && mode != "memory" {
		if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
			return fmt.Errorf("sqlitex: PRAGMA journal_mode = WAL: %w", err)
		}
	}
	return nil
}

// BeginImmediate starts a write transaction on conn with BEGIN IMMEDIATE,
// taking the database's write lock at once (waiting up to the busy timeout).
func BeginImmediate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlitex: begin immediate: %w", err)
	}
	return nil
}

// Rollback rolls back the transaction open on conn, if any. SQLite may
// already have rolled it back after an error; that is not reported.
func Rollback(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil &&
		!strings.Contains(err.Error(), "no transaction is active") {
		return fmt.Errorf("sqlitex: rollback: %w", err)
	}
	return nil
}
