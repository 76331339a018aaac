package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unsafe"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
)

// chunkRows are the row counts of the multi-row statements the writer
// prepares, largest first; the last must be 1. A write of n rows uses as
// few statements as these sizes allow.
var chunkRows = [...]int{64, 16, 8, 4, 2, 1}

// lookupRows is how many keys one look-up statement takes; shorter lists
// are padded by repeating their last key. Powers of two keep the padding
// under half the statement: a batch of 12 appends padded to 64 keys made
// the state read take twice as long as at 16.
var lookupRows = [...]int{64, 32, 16, 8, 4, 2, 1}

// writer is the store's write connection with its prepared statements and
// the scratch space of a batch. Only the group-commit leader uses it,
// holding Store.wmu.
type writer struct {
	conn *sql.Conn

	begin, commit, rollback, head  *sql.Stmt
	lastRecorded                   *sql.Stmt
	bigCache, smallCache           *sql.Stmt // PRAGMA cache_size for large commits, and back
	insertEvents, insertCommands   [len(chunkRows)]*sql.Stmt
	lookupCommands, lookupVersions [len(lookupRows)]*sql.Stmt

	// cache is the log state as of this writer's last commit; see load.
	cache logCache

	// Scratch, reused from batch to batch.
	args        []any
	versions    map[eventstore.StreamID]eventstore.Version
	known       map[string][2]int64    // command id -> first, last position already in the log
	state       map[stateKey]*sql.Stmt // see stateStmt
	dataVersion int64                  // PRAGMA data_version in this transaction
	headID      ulid.ULID              // the id of the head event, as load found it
	batch       map[string]*pending    // command id -> append written in this batch
	events      []*eventstore.Event
	commands    []commandRow
}

// logCache is what the writer knows of the log between transactions: the
// head and the versions of recently written or read streams, as of its
// last commit. It holds only while no other connection has committed to
// the file since, which PRAGMA data_version tells (it changes when another
// connection or process commits, never on this connection's own commits):
// load checks it at the start of every transaction, inside BEGIN IMMEDIATE,
// so nothing can commit between the check and the writes. Any rollback or
// failed commit drops the cache.
type logCache struct {
	valid       bool
	dataVersion int64
	head        eventstore.Position
	hash        eventstore.Hash
	headID      ulid.ULID
	recorded    int64 // the head event's recordedAt, Unix nanoseconds
	versions    map[eventstore.StreamID]eventstore.Version
}

// maxCachedStreams bounds logCache.versions: when a commit would take it
// past this many streams, it is emptied first (and a commit of more
// streams than that caches none). Streams not cached are read from the
// database.
const maxCachedStreams = 4096

// drop forgets everything cached.
func (c *logCache) drop() {
	c.valid = false
	clear(c.versions)
}

// commandRow is a row of the commands table.
type commandRow struct {
	id          string
	first, last int64
}

// largeCommitCache is the page cache (PRAGMA cache_size, in KiB when
// negative) of a large commit: 64 MiB, allocated as it is needed.
const largeCommitCache = -64 << 10

func newWriter(ctx context.Context, conn *sql.Conn) (*writer, error) {
	var cacheSize int
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cacheSize); err != nil {
		return nil, fmt.Errorf("sqlitestore: read cache_size: %w", err)
	}
	w := &writer{
		conn:     conn,
		cache:    logCache{versions: make(map[eventstore.StreamID]eventstore.Version)},
		versions: make(map[eventstore.StreamID]eventstore.Version),
		known:    make(map[string][2]int64),
		batch:    make(map[string]*pending),
		state:    make(map[stateKey]*sql.Stmt),
		args:     make([]any, 0, chunkRows[0]*numColumns),
	}
	type prep struct {
		st **sql.Stmt
		q  string
	}
	stmts := []prep{
		{&w.begin, "BEGIN IMMEDIATE"},
		{&w.commit, "COMMIT"},
		{&w.rollback, "ROLLBACK"},
		{&w.head, "SELECT position, hash, id FROM events ORDER BY position DESC LIMIT 1"},
		{&w.lastRecorded, "SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1"},
		{&w.bigCache, "PRAGMA cache_size = " + strconv.Itoa(largeCommitCache)},
		{&w.smallCache, "PRAGMA cache_size = " + strconv.Itoa(cacheSize)},
	}
	for i, n := range chunkRows {
		stmts = append(stmts,
			prep{&w.insertEvents[i], "INSERT INTO events (" + columns + ") VALUES " + placeholders(n, numColumns)},
			prep{&w.insertCommands[i], "INSERT INTO commands (command_id, first_position, last_position) VALUES " + placeholders(n, 3)})
	}
	for i, n := range lookupRows {
		stmts = append(stmts,
			prep{&w.lookupCommands[i], "SELECT command_id, first_position, last_position FROM commands WHERE command_id IN " +
				placeholders(1, n)},
			prep{&w.lookupVersions[i], "WITH s(stream) AS (VALUES " + placeholders(n, 1) + ") " +
				"SELECT s.stream, (SELECT e.version FROM events e WHERE e.stream = s.stream ORDER BY e.version DESC LIMIT 1) FROM s"})
	}
	for _, p := range stmts {
		st, err := conn.PrepareContext(ctx, p.q)
		if err != nil {
			w.closeStmts()
			return nil, fmt.Errorf("sqlitestore: prepare %q: %w", p.q, err)
		}
		*p.st = st
	}
	return w, nil
}

// placeholders returns rows parenthesised groups of cols question marks.
func placeholders(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

func (w *writer) closeStmts() error {
	all := []*sql.Stmt{w.begin, w.commit, w.rollback, w.head, w.lastRecorded, w.bigCache, w.smallCache}
	all = append(all, w.insertEvents[:]...)
	all = append(all, w.insertCommands[:]...)
	all = append(all, w.lookupCommands[:]...)
	all = append(all, w.lookupVersions[:]...)
	for _, st := range w.state {
		all = append(all, st)
	}
	var errs []error
	for _, st := range all {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// close releases the statements and the connection.
func (w *writer) close() error {
	return errors.Join(w.closeStmts(), w.conn.Close())
}

// The writer's statements run with a background context: a batch serves
// many appenders, and one caller's cancellation must not abort the others.
var bg = context.Background()

func (w *writer) exec(st *sql.Stmt, args ...any) error {
	_, err := st.ExecContext(bg, args...)
	return err
}

// abort rolls back the transaction, if SQLite has not already done so.
func (w *writer) abort() error {
	if err := w.exec(w.rollback); err != nil && !strings.Contains(err.Error(), "no transaction is active") {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// reset empties the scratch space for a new transaction.
func (w *writer) reset() {
	// A map keeps the buckets it grew to when cleared, and iterating it
	// costs that much ever after: one large commit would tax every commit
	// after it. Maps that grew past what ordinary commits use are
	// dropped instead.
	const keep = 256
	if len(w.versions) > keep {
		w.versions = make(map[eventstore.StreamID]eventstore.Version)
	}
	if len(w.known) > keep {
		w.known = make(map[string][2]int64)
	}
	if len(w.batch) > keep {
		w.batch = make(map[string]*pending)
	}
	clear(w.versions)
	clear(w.known)
	clear(w.batch)
	if cap(w.events) > 4*keep {
		w.events = nil
	}
	clear(w.events)
	w.events = w.events[:0]
	w.commands = w.commands[:0]
}

// readHead returns the last position and hash, inside the transaction,
// and sets w.headID.
func (w *writer) readHead() (eventstore.Position, eventstore.Hash, error) {
	var pos int64
	var b []byte
	var h eventstore.Hash
	var id string
	w.headID = ulid.ULID{}
	err := w.head.QueryRowContext(bg).Scan(&pos, &b, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, h, nil
	}
	if err == nil {
		err = w.headID.UnmarshalText([]byte(id))
	}
	if err != nil {
		return 0, h, fmt.Errorf("read head: %w", err)
	}
	if err := setHash(&h, b); err != nil {
		return 0, h, fmt.Errorf("read head: %w", err)
	}
	return eventstore.Position(pos), h, nil
}

// lookup runs one of sts (prepared for lookupRows keys) per chunk of keys,
// padding the last chunk, and passes every row to scan.
func (w *writer) lookup(sts *[len(lookupRows)]*sql.Stmt, keys []string, dest []any, row func()) error {
	for len(keys) > 0 {
		k := len(lookupRows) - 1
		for k > 0 && lookupRows[k] < len(keys) {
			k--
		}
		n := lookupRows[k]
		args := w.args[:0]
		for i := range n {
			args = append(args, keys[min(i, len(keys)-1)])
		}
		keys = keys[min(n, len(keys)):]
		rows, err := sts[k].QueryContext(bg, args...)
		clear(args)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			row()
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	return nil
}

// load reads, inside the transaction, what deciding the appends of live
// needs: the head (and its event id, into w.headID), which of their command ids the log already holds (into
// w.known) and the versions of the streams they name in their conditions
// or events (into w.versions), and sets w.dataVersion. A batch of up to
// lookupRows[0] command ids and streams takes one statement.
//
// While the cache is valid, the head and the cached stream versions are
// taken from it, and the statement reads only PRAGMA data_version, the
// streams not cached and, if lookUp, the command ids (looked up in the
// database, never cached, so that duplicates are found across restarts
// and processes; without lookUp, the commands table's primary key finds
// them, see optimistic). If data_version shows that another connection has
// committed since this writer's last commit, the cache is dropped and
// everything is read again, command ids included. Without lookUp and with
// every stream cached, load reads nothing at all: a trivial statement
// costs 13-20 µs through the driver, 5 % of a one-event commit.
func (w *writer) load(live []*pending, lookUp bool) (eventstore.Position, eventstore.Hash, error) {
	cmds := make([]string, 0, len(live))
	streams := make([]string, 0, len(live))
	seen := make(map[string]bool)
	for _, p := range live {
		cmds = append(cmds, p.cmd)
		for id := range p.cond.Streams {
			if !seen[string(id)] {
				seen[string(id)] = true
				streams = append(streams, string(id))
			}
		}
		for i := range p.events {
			if id := string(p.events[i].Stream); !seen[id] {
				seen[id] = true
				streams = append(streams, id)
			}
		}
	}
	if len(cmds) > lookupRows[0] || len(streams) > lookupRows[0] {
		return w.loadLarge(cmds, streams)
	}
	if c := &w.cache; c.valid {
		missing := make([]string, 0, len(streams))
		for _, id := range streams {
			if v, ok := c.versions[eventstore.StreamID(id)]; ok {
				w.versions[eventstore.StreamID(id)] = v
			} else {
				missing = append(missing, id)
			}
		}
		if !lookUp && len(missing) == 0 {
			// Nothing to read: the cache is trusted without asking
			// data_version. A commit by another connection since has
			// taken position head+1, so the INSERT fails and the batch is
			// written again carefully; an append that conflicts with the
			// cache has it checked first (see tryWrite).
			w.dataVersion, w.headID = c.dataVersion, c.headID
			return c.head, c.hash, nil
		}
		look := cmds
		if !lookUp {
			look = nil
		}
		if _, _, err := w.loadState(look, missing, false); err != nil {
			return 0, eventstore.Hash{}, err
		}
		if w.dataVersion == c.dataVersion {
			w.headID = c.headID
			return c.head, c.hash, nil
		}
		c.drop()
		clear(w.known)
		clear(w.versions)
	}
	return w.loadState(cmds, streams, true)
}

// loadLarge is load for batches too large for one statement; it does not
// use the cache.
func (w *writer) loadLarge(cmds, streams []string) (eventstore.Position, eventstore.Hash, error) {
	if err := w.conn.QueryRowContext(bg, "PRAGMA data_version").Scan(&w.dataVersion); err != nil {
		return 0, eventstore.Hash{}, fmt.Errorf("read data_version: %w", err)
	}
	head, prev, err := w.readHead()
	if err != nil {
		return 0, prev, err
	}
	if err := w.loadCommands(cmds); err != nil {
		return 0, prev, err
	}
	return head, prev, w.loadVersions(streams)
}

// loadState runs the state statement (see stateStmt) for cmds and streams,
// at most lookupRows[0] of each, reading the head only if withHead.
func (w *writer) loadState(cmds, streams []string, withHead bool) (eventstore.Position, eventstore.Hash, error) {
	nc, ns := lookupSize(len(cmds)), lookupSize(len(streams))
	st, err := w.stateStmt(stateKey{nc, ns, withHead})
	if err != nil {
		return 0, eventstore.Hash{}, err
	}
	args := w.args[:0]
	for i := range nc {
		args = append(args, cmds[min(i, len(cmds)-1)])
	}
	for i := range ns {
		args = append(args, streams[min(i, len(streams)-1)])
	}
	rows, err := st.QueryContext(bg, args...)
	clear(args)
	if err != nil {
		return 0, eventstore.Hash{}, fmt.Errorf("read log state: %w", err)
	}
	defer rows.Close()
	if withHead {
		w.headID = ulid.ULID{}
	}
	var (
		head  eventstore.Position
		prev  eventstore.Hash
		kind  int64
		key   sql.NullString
		a     sql.NullInt64
		b     any
		state = []any{&kind, &key, &a, &b}
		dv    bool
	)
	for rows.Next() {
		if err := rows.Scan(state...); err != nil {
			return 0, prev, fmt.Errorf("read log state: %w", err)
		}
		switch kind {
		case 0:
			head = eventstore.Position(a.Int64)
			if err := w.headID.UnmarshalText([]byte(key.String)); err != nil {
				return 0, prev, fmt.Errorf("read head: %w", err)
			}
			h, _ := b.([]byte)
			if err := setHash(&prev, h); err != nil {
				return 0, prev, fmt.Errorf("read head: %w", err)
			}
		case 1:
			last, _ := b.(int64)
			w.known[key.String] = [2]int64{a.Int64, last}
		case 2:
			w.versions[eventstore.StreamID(key.String)] = eventstore.Version(a.Int64)
		case 3:
			w.dataVersion, dv = a.Int64, true
		}
	}
	if err := rows.Err(); err != nil {
		return 0, prev, fmt.Errorf("read log state: %w", err)
	}
	if !dv {
		return 0, prev, errors.New("read log state: no data_version")
	}
	return head, prev, nil
}

// remember makes the cache the state of the log this writer has just
// committed: head, hash, the head's event id and the stream versions of
// the transaction.
func (w *writer) remember(head eventstore.Position, hash eventstore.Hash, headID ulid.ULID, recorded int64) {
	c := &w.cache
	if len(c.versions)+len(w.versions) > maxCachedStreams {
		clear(c.versions)
	}
	if len(w.versions) <= maxCachedStreams {
		maps.Copy(c.versions, w.versions)
	}
	c.valid, c.dataVersion, c.head, c.hash, c.headID, c.recorded = true, w.dataVersion, head, hash, headID, recorded
}

// lookupSize is the smallest of lookupRows that holds n keys, or 0 for no
// keys.
func lookupSize(n int) int {
	if n == 0 {
		return 0
	}
	k := len(lookupRows) - 1
	for k > 0 && lookupRows[k] < n {
		k--
	}
	return lookupRows[k]
}

// stateKey names a state statement: how many command ids and streams it
// looks up, and whether it reads the head.
type stateKey struct {
	nc, ns int
	head   bool
}

// stateStmt returns the statement that reads PRAGMA data_version and, if
// k.head, the head and its event id, looks up k.nc command ids and reads the versions of
// k.ns streams, preparing it on first use. Rows are (0, head event id,
// head position, head hash), (1, command id, first position, last
// position), (2, stream, version or NULL, NULL) and (3, NULL,
// data_version, NULL).
func (w *writer) stateStmt(k stateKey) (*sql.Stmt, error) {
	if st := w.state[k]; st != nil {
		return st, nil
	}
	q := "SELECT 3, NULL, data_version, NULL FROM pragma_data_version"
	if k.head {
		q += " UNION ALL SELECT 0, id, position, hash FROM (SELECT position, hash, id FROM events ORDER BY position DESC LIMIT 1)"
	}
	if k.nc > 0 {
		// A join with VALUES costs SQLite less than an IN list, which it
		// first copies into a temporary index.
		q += " UNION ALL SELECT 1, c.command_id, c.first_position, c.last_position " +
			"FROM (VALUES " + placeholders(k.nc, 1) + ") v JOIN commands c ON c.command_id = v.column1"
	}
	if k.ns > 0 {
		q += " UNION ALL SELECT 2, s.column1, (SELECT e.version FROM events e WHERE e.stream = s.column1 ORDER BY e.version DESC LIMIT 1), NULL " +
			"FROM (VALUES " + placeholders(k.ns, 1) + ") s"
	}
	st, err := w.conn.PrepareContext(bg, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	w.state[k] = st
	return st, nil
}

// loadCommands looks up which of cmds the log already holds, into w.known.
func (w *writer) loadCommands(cmds []string) error {
	var id string
	var first, last int64
	err := w.lookup(&w.lookupCommands, cmds, []any{&id, &first, &last}, func() {
		w.known[id] = [2]int64{first, last}
	})
	if err != nil {
		return fmt.Errorf("look up command ids: %w", err)
	}
	return nil
}

// loadVersions reads the versions of streams into w.versions.
func (w *writer) loadVersions(streams []string) error {
	var stream string
	var v sql.NullInt64
	err := w.lookup(&w.lookupVersions, streams, []any{&stream, &v}, func() {
		w.versions[eventstore.StreamID(stream)] = eventstore.Version(v.Int64)
	})
	if err != nil {
		return fmt.Errorf("read stream versions: %w", err)
	}
	return nil
}

// version returns the version of stream as of the appends written so far
// in this transaction. Every stream of the batch was loaded by loadVersions.
func (w *writer) version(stream eventstore.StreamID) eventstore.Version {
	return w.versions[stream]
}

// rangeEvents reads the events at positions first..last.
func (w *writer) rangeEvents(first, last int64) ([]eventstore.Event, error) {
	return readPage(bg, w.conn, &current, make([]eventstore.Event, 0, last-first+1), current.rangeOf, first, last)
}

// flush writes the queued events and commands rows with as few statements
// as chunkRows allows.
func (w *writer) flush() error {
	for evs := w.events; len(evs) > 0; {
		k, n := chunk(len(evs))
		args := w.args[:0]
		for _, e := range evs[:n] {
			args = appendArgs(args, e)
		}
		_, err := w.insertEvents[k].ExecContext(bg, args...)
		clear(args)
		if err != nil {
			return fmt.Errorf("insert events at %d: %w", evs[0].Position, err)
		}
		evs = evs[n:]
	}
	for cmds := w.commands; len(cmds) > 0; {
		k, n := chunk(len(cmds))
		args := w.args[:0]
		for _, c := range cmds[:n] {
			args = append(args, c.id, c.first, c.last)
		}
		_, err := w.insertCommands[k].ExecContext(bg, args...)
		clear(args)
		if err != nil {
			return fmt.Errorf("insert command %q: %w", cmds[0].id, err)
		}
		cmds = cmds[n:]
	}
	clear(w.events)
	w.events = w.events[:0]
	w.commands = w.commands[:0]
	return nil
}

// chunk picks the statement for the next rows of a write of n rows.
func chunk(n int) (k, rows int) {
	for chunkRows[k] > n {
		k++
	}
	return k, chunkRows[k]
}

// appendArgs appends the column values of e, in the order of columns.
func appendArgs(args []any, e *eventstore.Event) []any {
	return append(args,
		int64(e.Position), e.ID.String(), string(e.Stream), int64(e.Version), e.Type,
		int64(e.SchemaVersion), e.OccurredAt.UnixNano(), e.RecordedAt.UnixNano(),
		e.Metadata.ActorID, e.Metadata.ActorKind, e.Metadata.OnBehalfOf,
		e.Metadata.CorrelationID, e.Metadata.CausationID, e.Metadata.CommandID,
		// The payload is bound as TEXT without a copy: the driver copies it
		// into SQLite before ExecContext returns, and nothing writes to it.
		unsafe.String(unsafe.SliceData(e.Payload), len(e.Payload)),
		e.PrevHash[:], e.Hash[:], e.Metadata.CommandDigest,
	)
}
