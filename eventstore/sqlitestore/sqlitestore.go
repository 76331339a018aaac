package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/oklog/ulid/v2"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Synchronous is the PRAGMA synchronous level of the write connection.
type Synchronous int

const (
	// SyncFull syncs the WAL on every commit: an append that returned
	// survives a power cut. The default.
	SyncFull Synchronous = iota
	// SyncNormal syncs only at checkpoints: a power cut may lose the last
	// commits (never corrupt the file). A crash of the process loses nothing.
	SyncNormal
	// SyncOff never syncs. For throw-away logs and tests.
	SyncOff
)

func (s Synchronous) pragma() (string, error) {
	switch s {
	case SyncFull:
		return sqlitex.SyncFull, nil
	case SyncNormal:
		return sqlitex.SyncNormal, nil
	case SyncOff:
		return sqlitex.SyncOff, nil
	}
	return "", fmt.Errorf("sqlitestore: unknown Synchronous level %d", int(s))
}

// Options configures a Store. The zero value is durable and ready to use.
type Options struct {
	// Now stamps RecordedAt (and OccurredAt where the caller left it zero).
	// Defaults to time.Now.
	Now func() time.Time
	// NewID makes event ids where the caller gave none. Defaults to ulid.Make.
	NewID func() ulid.ULID
	// Synchronous is the durability of a commit. Defaults to SyncFull.
	Synchronous Synchronous
	// BusyTimeout is how long the store waits for the write lock when
	// another connection (another process) holds it, and how long opening
	// waits for one that is setting up the same file. The wait is in short
	// randomized steps, so that processes take turns, and an append whose
	// context ends first fails with its context's error, having written
	// nothing. Defaults to 5 s.
	BusyTimeout time.Duration
	// ReadConns is the size of the reader pool of a store opened with Open.
	// Defaults to max(4, GOMAXPROCS).
	ReadConns int
	// PageSize is how many events ReadAll and ReadStream fetch per query;
	// it bounds their memory. Defaults to 512.
	PageSize int
	// MmapSize is how many bytes of the file the store's connections map
	// into memory (PRAGMA mmap_size), which makes reading a large log
	// markedly faster. Open defaults it to 256 MiB; OpenReadOnly maps
	// nothing unless it is set. Negative turns memory-mapping off.
	MmapSize int64
}

// Stats counts what a Store has written since it was opened.
type Stats struct {
	// Commits is the number of write transactions committed. Appends that
	// arrive together share one commit, so Commits <= Appends.
	Commits uint64
	// Appends is the number of appends written: duplicates, conflicts and
	// failures are not counted.
	Appends uint64
	// Events is the number of events written.
	Events uint64
}

// Store is an event log in a SQLite file. It is safe for concurrent use,
// also by several processes on the same file.
type Store struct {
	opts     Options
	path     string // "" when opened with OpenDB
	pageSize int64
	read     *sql.DB
	db       *sqlitex.DB // nil when opened with OpenDB or OpenReadOnly
	w        *writer     // nil when opened with OpenReadOnly
	readOnly bool        // opened with OpenReadOnly: read is the store's own
	q        *queries    // the read statements for the log's schema version

	closed atomic.Bool

	// Group commit. mu guards queue, leading and the fields gather uses;
	// wmu is held by the leader while it writes (and by gather's wait, and
	// by Close while it releases the writer).
	mu         sync.Mutex
	queue      []*pending
	spare      []*pending
	leading    bool
	company    int           // appends the last commit wrote, plus those that queued meanwhile
	lastCommit time.Duration // how long the last commit took
	filled     chan struct{} // closed when the queue holds fillAt appends; see gather
	fillAt     int
	timer      *time.Timer   // gather's, used under wmu
	maxGather  time.Duration // bound of gather's wait: the const maxGather, which tests change
	wmu        sync.Mutex

	qHead *sql.Stmt

	// testHookWriting, if set, is called by the leader once it has taken
	// the batch it writes.
	testHookWriting func()
	// testHookCommit, if set, runs the COMMIT in commit's place: a test
	// makes a commit fail before SQLite writes it, or after.
	testHookCommit func(commit func() error) error

	commits, appends, events atomic.Uint64
}

var _ eventstore.Store = (*Store)(nil)

// Open opens the event log in the SQLite file at path, creating the file if
// needed and bringing its schema up to date. The store owns two pools on
// the file: one write connection and opts.ReadConns read-only connections.
// A file that holds something else (another program's database, or not a
// database) is refused with ErrNotLog and left as it was.
func Open(path string, opts Options) (*Store, error) {
	level, err := opts.Synchronous.pragma()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := checkLogOrNew(ctx, path); err != nil {
		return nil, err
	}
	if opts.MmapSize == 0 {
		opts.MmapSize = 256 << 20
	}
	db, err := sqlitex.Open(ctx, path, sqlitex.Options{
		Synchronous: level,
		BusyTimeout: opts.BusyTimeout,
		ReadConns:   opts.ReadConns,
		MmapSize:    max(opts.MmapSize, 0),
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s, err := open(ctx, conn, db.Read, opts)
	if err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	s.db, s.path = db, path
	return s, nil
}

// commandHolds checks that the events the commands table names for a
// command, first..last, are in the log with that command id.
func commandHolds(cmd string, first, last eventstore.Position, evs []eventstore.Event) error {
	if uint64(len(evs)) != uint64(last-first)+1 {
		return &eventstore.ChainError{Position: first + eventstore.Position(len(evs)), Reason: fmt.Sprintf(
			"command %q wrote positions %d to %d, and the log holds %d of them: it was truncated", cmd, first, last, len(evs))}
	}
	for _, e := range evs {
		if e.Metadata.CommandID != cmd {
			return &eventstore.ChainError{Position: e.Position, Reason: fmt.Sprintf(
				"command %q wrote position %d, which now holds command %q's event: the log was rewritten", cmd, e.Position, e.Metadata.CommandID)}
		}
	}
	return nil
}

// checkEnd checks that the log ends where the commands table says the
// last append ended: a log whose end was cut off behind the store, or
// holds events past the last append it recorded (every append records
// one), fails with a *eventstore.ChainError.
func checkEnd(ctx context.Context, q sqlitex.Querier) error {
	var head, recorded int64
	if err := q.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(position), 0) FROM events),
		(SELECT coalesce(max(last_position), 0) FROM commands)`).Scan(&head, &recorded); err != nil {
		return fmt.Errorf("read the ends of the log: %w", err)
	}
	if recorded > head {
		return &eventstore.ChainError{Position: eventstore.Position(head + 1), Reason: fmt.Sprintf(
			"the commands table records appends up to position %d, and the log ends at %d: it was truncated", recorded, head)}
	}
	if head > recorded {
		return &eventstore.ChainError{Position: eventstore.Position(recorded + 1), Reason: fmt.Sprintf(
			"the log holds events up to position %d, and the commands table records appends up to %d: "+
				"an append was cut or its record deleted behind the store", head, recorded)}
	}
	return nil
}

// CheckEnd checks that the log was not cut at its end: the commands table
// records no append beyond its last event, and records the append of its
// last event. It is the part of CrossCheck
// that the hash chain cannot stand in for: a reader that verifies the
// chain of what it reads (an archive, a projection) needs only this. It
// returns a *eventstore.ChainError. The commands table has no index on
// where appends end (one would cost every commit a page), so CheckEnd
// reads it whole: about 0.1 s a million appends on the machine of
// docs/performance.md. Open does it once.
func (s *Store) CheckEnd(ctx context.Context) error {
	return checkEnd(ctx, s.read)
}

// CrossCheck checks what the log holds besides the hash chain, which
// eventstore.Verify checks: that the commands table, which records the
// positions every append wrote, agrees with the events. Deleting the last
// events leaves the chain intact but their commands' rows behind;
// inserting events leaves them without one. It returns a
// *eventstore.ChainError naming the first position that disagrees.
func (s *Store) CrossCheck(ctx context.Context) error {
	if err := checkEnd(ctx, s.read); err != nil {
		return err
	}
	var pos int64
	err := s.read.QueryRowContext(ctx, `SELECT e.position FROM events e LEFT JOIN commands c ON c.command_id = e.command_id
		WHERE c.command_id IS NULL OR e.position NOT BETWEEN c.first_position AND c.last_position
		ORDER BY e.position LIMIT 1`).Scan(&pos)
	switch {
	case err == nil && pos < 1:
		// No event has such a position; a ChainError's is unsigned.
		return &eventstore.ChainError{Reason: fmt.Sprintf("a row is stored at position %d, which no event has: it was moved behind the store", pos)}
	case err == nil:
		return &eventstore.ChainError{Position: eventstore.Position(pos), Reason: "the event is not where the commands table records its append: it was inserted or moved behind the store"}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlitestore: cross-check: %w", err)
	}
	err = s.read.QueryRowContext(ctx, `SELECT c.first_position FROM commands c
		WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.position = c.first_position AND e.command_id = c.command_id)
		   OR NOT EXISTS (SELECT 1 FROM events e WHERE e.position = c.last_position AND e.command_id = c.command_id)
		ORDER BY c.first_position LIMIT 1`).Scan(&pos)
	switch {
	case err == nil:
		return &eventstore.ChainError{Position: eventstore.Position(pos), Reason: "the commands table records an append whose events are not there"}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlitestore: cross-check: %w", err)
	}
	return nil
}

// defaultBusyTimeout is Options.BusyTimeout's default.
const defaultBusyTimeout = 5 * time.Second

// ErrReadOnly is returned by Append on a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("sqlitestore: the log was opened read-only")

// checkLogOrNew refuses (ErrNotLog), without writing to it, a file at path
// that is neither missing, empty, a database that holds nothing, nor a log
// alone (see recognize). A log too new for this program is refused too
// (sqlitex.ErrSchemaTooNew), before opening it to write switches it to WAL.
func checkLogOrNew(ctx context.Context, path string) error {
	err := sqlitex.Inspect(ctx, path, func(read *sql.DB) error {
		var objects, others int
		err := read.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE type = 'table' AND name NOT IN ('events', 'commands', 'schema_migrations'))
			FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).Scan(&objects, &others)
		switch {
		case err != nil:
			return fmt.Errorf("%w: %s: %v", ErrNotLog, path, err)
		case objects == 0:
			return nil // a new database, which Open makes a log
		case others > 0:
			return fmt.Errorf("%w: %s holds %d tables of another program", ErrNotLog, path, others)
		}
		_, err = recognize(ctx, read, path)
		return err
	})
	switch {
	case errors.Is(err, sqlitex.ErrNotDatabase):
		return fmt.Errorf("%w: %w", ErrNotLog, err)
	case err != nil && !errors.Is(err, ErrNotLog):
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return err
}

// The columns of a log's tables, as the migrations made them: events has
// eventsV1Columns, and from schema version 2 on command_digest after them.
const (
	eventsV1Columns = "position INTEGER, id TEXT, stream TEXT, version INTEGER, type TEXT, schema_version INTEGER, " +
		"occurred_at INTEGER, recorded_at INTEGER, actor_id TEXT, actor_kind TEXT, on_behalf_of TEXT, " +
		"correlation_id TEXT, causation_id TEXT, command_id TEXT, payload TEXT, prev_hash BLOB, hash BLOB"
	commandsColumns   = "command_id TEXT, first_position INTEGER, last_position INTEGER"
	migrationsColumns = "version INTEGER, name TEXT, applied_at INTEGER"
)

// recognize checks that the database q reads holds an accessledger log and
// returns its schema version: schema_migrations records, by their names,
// the migrations of this program from the first on, and events and
// commands have the columns those migrations made. Another program's
// tables that carry a log's names fail with ErrNotLog; a log whose schema
// is newer than this program's, with sqlitex.ErrSchemaTooNew. Tables
// beside the log's (see OpenDB) are not looked at.
func recognize(ctx context.Context, q sqlitex.Querier, path string) (int, error) {
	notLog := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("%w: %s %s", ErrNotLog, path, fmt.Sprintf(format, args...))
	}
	ms, err := sqlitex.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	cols, err := tableColumns(ctx, q, "schema_migrations")
	if err != nil {
		return 0, err
	}
	if cols != migrationsColumns {
		return notLog("has no schema_migrations table of a log")
	}
	rows, err := q.QueryContext(ctx, "SELECT version, name FROM schema_migrations ORDER BY version")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	version := 0
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return notLog("records a migration that is not a log's: %v", err)
		}
		// The migrations this program knows must be there, in order, by
		// their names; a newer program's come after them.
		if version < len(ms) && (v != version+1 || name != ms[version].Name) {
			return notLog("records migration %d %q, which is not a log's", v, name)
		}
		version = v
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	switch {
	case version == 0:
		return notLog("records no migration")
	case version > len(ms):
		return version, fmt.Errorf("%s: %w: it is at version %d, this program knows up to %d", path, sqlitex.ErrSchemaTooNew, version, len(ms))
	}
	events := eventsV1Columns
	if version >= 2 {
		events += ", command_digest TEXT"
	}
	for _, t := range []struct{ name, want string }{{"events", events}, {"commands", commandsColumns}} {
		cols, err := tableColumns(ctx, q, t.name)
		if err != nil {
			return 0, err
		}
		if cols != t.want {
			return notLog("has a table %s that is not a log's at schema version %d", t.name, version)
		}
	}
	return version, nil
}

// tableColumns returns the columns of table with their declared types, in
// their order ("name TYPE, name TYPE"), or "" if there is no such table.
func tableColumns(ctx context.Context, q sqlitex.Querier, table string) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return "", fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return "", fmt.Errorf("read the columns of %s: %w", table, err)
		}
		cols = append(cols, name+" "+typ)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read the columns of %s: %w", table, err)
	}
	return strings.Join(cols, ", "), nil
}

// ErrNotLog matches the error of Open and OpenReadOnly on a file that is
// not an accessledger log: another program's database, or not a database
// at all.
var ErrNotLog = errors.New("sqlitestore: not an accessledger event log")

// OpenReadOnly opens the existing event log at path for reading only. It
// writes nothing to the file or beside it: it does not migrate the schema,
// switch the journal mode or create the file, and it refuses a file that is
// not an accessledger log (ErrNotLog) or whose schema is newer than this
// version knows. A log that no process has open is read as an immutable
// file, so that it can be read from a read-only file system and no -wal or
// -shm file is created; a log that a writer holds open is read through its
// WAL. Append returns ErrReadOnly.
func OpenReadOnly(path string, opts Options) (*Store, error) {
	ctx := context.Background()
	read, err := sqlitex.OpenReadOnly(ctx, path, sqlitex.Options{BusyTimeout: opts.BusyTimeout, ReadConns: opts.ReadConns,
		MmapSize: max(opts.MmapSize, 0)})
	if sqlitex.IsNotADB(err) {
		return nil, fmt.Errorf("%w: %s is not a SQLite database", ErrNotLog, path)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	fail := func(err error) (*Store, error) {
		read.Close()
		return nil, err
	}
	version, err := recognize(ctx, read, path)
	switch {
	case errors.Is(err, ErrNotLog):
		return fail(err)
	case err != nil:
		return fail(fmt.Errorf("sqlitestore: %w", err))
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 512
	}
	q := &current
	if version < 2 {
		legacy := newQueries(false)
		q = &legacy
	}
	s := &Store{opts: opts, path: path, pageSize: int64(opts.PageSize), read: read, readOnly: true, q: q, maxGather: maxGather}
	if s.qHead, err = read.PrepareContext(ctx, "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"); err != nil {
		return fail(fmt.Errorf("sqlitestore: prepare: %w", err))
	}
	return s, nil
}

// OpenDB opens the event log in a database the caller has already opened
// with the modernc.org/sqlite driver ("sqlite"), bringing its schema up to
// date. Use it to keep the log in a database of your own; Open is simpler.
//
// The store takes one connection of db for writing and keeps it until
// Close; every other query goes to the rest of db's pool. So db:
//   - must allow at least two open connections (SetMaxOpenConns(1) would
//     leave reads waiting for ever, and OpenDB refuses it);
//   - must be one database shared by all its connections: a file, or a
//     shared-cache memory database ("file:name?mode=memory&cache=shared"),
//     not a plain ":memory:", which gives each connection its own database;
//   - should not be written to by the caller at the same time as the store
//     is appending, except through BEGIN IMMEDIATE transactions (a
//     deferred read-then-write transaction fails with SQLITE_BUSY_SNAPSHOT).
//
// On its write connection the store sets synchronous from opts, switches a
// file database to WAL mode, and, once the schema is up to date, sets
// busy_timeout to 0: appends wait for another connection's write lock in
// the store, up to opts.BusyTimeout, where their contexts reach.
// opts.ReadConns is ignored: db's own pool settings apply. Close gives the
// write connection back to db's pool (with those pragmas still set) but
// does not close db.
func OpenDB(db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlitestore: OpenDB: nil *sql.DB")
	}
	if n := db.Stats().MaxOpenConnections; n == 1 {
		return nil, errors.New("sqlitestore: OpenDB: db allows only one open connection; the store needs one for writing and more for reading")
	}
	level, err := opts.Synchronous.pragma()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: OpenDB: %w", err)
	}
	if err := sqlitex.ConfigureWriter(ctx, conn, sqlitex.Options{Synchronous: level, BusyTimeout: opts.BusyTimeout}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlitestore: OpenDB: %w", err)
	}
	s, err := open(ctx, conn, db, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	// The reader pool must see what the write connection wrote.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n == 0 {
		s.Close()
		return nil, fmt.Errorf("sqlitestore: OpenDB: db's connections do not share one database (a plain :memory: database?): %v", err)
	}
	return s, nil
}

// open runs the migrations on the write connection conn, prepares the
// statements and returns the store. It does not close conn on error.
func open(ctx context.Context, conn *sql.Conn, read *sql.DB, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = ulid.Make
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 512
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = defaultBusyTimeout
	}
	ms, err := sqlitex.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	if _, err := sqlitex.Migrate(ctx, conn, ms, opts.Now); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	// A log whose last events were deleted behind the store would hand
	// their positions out again: refuse to write to it.
	if err := checkEnd(ctx, conn); err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	// From now on appends wait for another connection's write lock in
	// Store.begin, where their contexts reach, not inside SQLite.
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	w, err := newWriter(ctx, conn)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, pageSize: int64(opts.PageSize), read: read, w: w, q: &current, maxGather: maxGather}
	if s.qHead, err = read.PrepareContext(ctx, "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"); err != nil {
		w.close()
		return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
	}
	return s, nil
}

// Path returns the file of the log, or "" for a store opened with OpenDB.
func (s *Store) Path() string { return s.path }

// Stats returns what the store has written since it was opened.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Appends: s.appends.Load(), Events: s.events.Load()}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Head, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Head{}, err
	}
	if s.closed.Load() {
		return eventstore.Head{}, eventstore.ErrClosed
	}
	var h eventstore.Head
	var pos int64
	var hash sql.RawBytes
	rows, err := s.qHead.QueryContext(ctx)
	if err != nil {
		return h, s.readErr("head", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&pos, &hash); err != nil {
			return h, s.readErr("head", err)
		}
		h.Position = eventstore.Position(pos)
		if err := setHash(&h.Hash, hash); err != nil {
			return eventstore.Head{}, fmt.Errorf("sqlitestore: head: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return eventstore.Head{}, s.readErr("head", err)
	}
	return h, nil
}

// ReadAll implements eventstore.Store. It fetches Options.PageSize events
// per query (keyset paging on position), so it runs in constant memory, and
// holds no database snapshot while yielding. It reads a consistent prefix
// of the log: events appended while iterating are included up to the point
// reached. A row changed behind the store so that it is no event (a hash
// that is not 32 bytes, an id that is not a ULID) ends the read, after the
// events before it, with a *eventstore.ChainError at its position.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	if err := eventstore.CheckReadAfter(after); err != nil {
		return failed(err)
	}
	return s.pages(ctx, s.q.all, s.q.allAfter, nil, int64(after), func(e *eventstore.Event) int64 { return int64(e.Position) })
}

// ReadStream implements eventstore.Store, paging like ReadAll.
func (s *Store) ReadStream(ctx context.Context, stream eventstore.StreamID, after eventstore.Version) iter.Seq2[eventstore.Event, error] {
	if err := eventstore.CheckReadAfter(after); err != nil {
		return failed(err)
	}
	return s.pages(ctx, s.q.stream, s.q.streamAfter, string(stream), int64(after), func(e *eventstore.Event) int64 { return int64(e.Version) })
}

// failed is a read that yields only err.
func failed(err error) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) { yield(eventstore.Event{}, err) }
}

// readAhead is how many pages ReadAll and ReadStream read concurrently,
// on separate connections of the reader pool, while the caller handles
// the current one. Reading is bound by the driver's work per column, so
// two readers use both cores of a small machine.
const readAhead = 2

// pages yields the rows of q page by page. The first page is read with
// qAfter ([first,] after, limit); if it is full, q takes ([first,] lo, hi)
// and selects the keys in (lo, hi]: positions and stream versions are
// gap-free, so page i after key k is exactly (k+i·n, k+(i+1)·n] and pages
// can be read in parallel. After a page with fewer than n events, the rest
// is read with qAfter ([first,] after, limit) from the last key seen: for a
// sound log that finds nothing, and for a log with a row removed behind
// the store's back it goes on past the hole, so that Verify still sees it.
// Every read is waited for before pages returns, so no goroutine outlives
// the iteration, and at most readAhead+1 pages are in memory.
func (s *Store) pages(ctx context.Context, q, qAfter string, first any, after int64, key func(*eventstore.Event) int64) iter.Seq2[eventstore.Event, error] {
	n := s.pageSize
	fetch := func(buf []eventstore.Event, q string, lo, hi int64) ([]eventstore.Event, error) {
		if err := ctx.Err(); err != nil {
			return buf[:0], err
		}
		if s.closed.Load() {
			return buf[:0], eventstore.ErrClosed
		}
		var err error
		if first != nil {
			buf, err = s.page(ctx, buf[:0], q, first, lo, hi)
		} else {
			buf, err = s.page(ctx, buf[:0], q, lo, hi)
		}
		// A row that is no event ends the page with a *ChainError, after
		// the events before it.
		var bad *eventstore.ChainError
		if err != nil && !errors.As(err, &bad) {
			return buf[:0], s.readErr("read", err)
		}
		return buf, err
	}
	type fetched struct {
		buf []eventstore.Event
		err error
	}
	return func(yield func(eventstore.Event, error) bool) {
		var (
			ahead []chan fetched       // reads under way, in key order
			spare [][]eventstore.Event // page buffers to reuse
			last  = after              // the key of the last event yielded
			next  = after              // lower bound of the next page to read
		)
		defer func() {
			for _, ch := range ahead {
				<-ch
			}
		}()
		start := func() {
			var buf []eventstore.Event
			if k := len(spare); k > 0 {
				buf, spare = spare[k-1], spare[:k-1]
			}
			ch := make(chan fetched, 1)
			go func(buf []eventstore.Event, lo int64) {
				buf, err := fetch(buf, q, lo, lo+n)
				ch <- fetched{buf, err}
			}(buf, next)
			ahead = append(ahead, ch)
			next += n
		}
		// The first page is read with qAfter: a read of the log's tail,
		// which is most reads, is then one query, with no page read ahead
		// for nothing and no second query to make sure of a short page.
		cur, err := fetch(nil, qAfter, after, n)
		sequential := int64(len(cur)) < n // reading with qAfter
		if !sequential {
			next = key(&cur[n-1])
		}
		for {
			full := err == nil && int64(len(cur)) == n
			for i := range cur {
				if i > 0 {
					if err := ctx.Err(); err != nil {
						yield(eventstore.Event{}, err)
						return
					}
				}
				if !yield(cur[i], nil) {
					return
				}
				// Pages are read ahead once the caller has taken an
				// event: one who wants a single event (a position
				// looked up) costs a page, not three.
				for i == 0 && full && !sequential && len(ahead) < readAhead {
					start()
				}
				last = key(&cur[i])
				cur[i] = eventstore.Event{} // let the payload go
			}
			if err != nil {
				yield(eventstore.Event{}, err)
				return
			}
			switch {
			case !full && sequential:
				return
			case !full || sequential:
				// A short page ends a sound log; make sure with qAfter.
				for _, ch := range ahead {
					<-ch
				}
				ahead = ahead[:0]
				sequential = true
				cur, err = fetch(cur, qAfter, last, n)
			default:
				f := <-ahead[0]
				ahead = ahead[1:]
				spare = append(spare, cur)
				cur, err = f.buf, f.err
			}
		}
	}
}

// page reads one page with a connection of the reader pool.
func (s *Store) page(ctx context.Context, buf []eventstore.Event, q string, args ...any) ([]eventstore.Event, error) {
	conn, err := s.read.Conn(ctx)
	if err != nil {
		return buf, err
	}
	defer conn.Close()
	return readPage(ctx, conn, s.q, buf, q, args...)
}

// readErr reports a failed read, as ErrClosed if the store was closed
// under it.
func (s *Store) readErr(op string, err error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// Close implements eventstore.Store. It waits for a commit under way,
// fails appends still queued with eventstore.ErrClosed and releases the
// connections (a *sql.DB given to OpenDB stays open). Later calls fail with
// eventstore.ErrClosed; closing again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.closeStmts()
	if s.w != nil {
		err = errors.Join(err, s.w.close())
	}
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	if s.readOnly {
		err = errors.Join(err, s.read.Close())
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

func (s *Store) closeStmts() error {
	var errs []error
	if s.qHead != nil {
		errs = append(errs, s.qHead.Close())
	}
	return errors.Join(errs...)
}
