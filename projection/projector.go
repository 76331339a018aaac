package projection

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
)

//go:embed schema.sql
var schema string

// queryIndexes are the indexes only queries read; see indexes.sql.
//
//go:embed indexes.sql
var queryIndexes string

// While Rebuild loads the log, audit_targets rows go to a table without a
// key, in log order, and move into audit_targets in key order at the end:
// a B-tree filled in key order costs a fraction of one filled at random.
// Sorting them, and building the query indexes, spills to temporary
// files rather than memory.
const (
	createTargetsLoad = `CREATE TABLE audit_targets_load (
		target_id TEXT NOT NULL, activity_time INTEGER NOT NULL, position INTEGER NOT NULL) STRICT`
	finishLoad = `PRAGMA temp_store = FILE;
		INSERT OR IGNORE INTO audit_targets (target_id, activity_time, position)
			SELECT target_id, activity_time, position FROM audit_targets_load ORDER BY target_id, activity_time, position;
		DROP TABLE audit_targets_load;
		`
)

// schemaVersion names the shape of the tables and what they hold. A
// projection written with another is deleted and rebuilt, never migrated:
// the log is the record. (15: audit entries name a deleted policy's
// package and an access review, and give the old values of extensions,
// expiries and removed role assignments.)
const schemaVersion = "15"

// Log is what a Projector reads: the event log, in position order.
// eventstore.Store satisfies it.
type Log interface {
	ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error]
}

// Options configures a Projector. The zero value is ready to use.
type Options struct {
	// Upcasters bring old payloads to the current schema before they are
	// applied.
	Upcasters *eventstore.Upcasters
	// BatchSize is how many events one transaction applies at least
	// (zero or negative: 1000): it goes on to the end of the command it reached, up
	// to ten times as many events.
	BatchSize int
}

// Checkpoint is how far a projection got: the position and hash of the
// last event it applied. The zero Checkpoint is an empty projection.
type Checkpoint struct {
	Position eventstore.Position
	Hash     eventstore.Hash
}

// ErrCheckpointMismatch matches the error of a projection whose checkpoint
// the log does not hold: the log was replaced, rewritten or truncated
// since the projection was built. Rebuild it.
var ErrCheckpointMismatch = errors.New("projection: the log does not hold the projection's checkpoint")

// ErrDamaged matches the error of a catch-up whose events the projection's
// tables refuse (a row already there, or a file SQLite finds corrupt): the
// file was edited, or damaged, behind the projection's back. Delete it,
// with its -wal and -shm files, or Rebuild it: it is made again from the
// log.
var ErrDamaged = errors.New("projection: the projection file is damaged or was edited")

// ErrProjectionInUse is the error of Rebuild when another process has the
// projection open: swapping the new file in would pull the file and its
// WAL from under that process's connections (another Projector of the
// same path in this process counts too). Close it there, or rebuild into
// another file (Open another path) and switch to it. Open returns it too
// when the file has another schema version, which it deletes only if no
// other process has it open (it waits up to five seconds for processes
// opening it at the same moment, which recreate it one after the other).
// (On systems without flock, neither can tell yet, and both go ahead.)
var ErrProjectionInUse = errors.New("projection: another process has the projection open")

// replaceWait is how long Open waits for the locks that recreating a
// projection of another schema version takes: enough for processes
// opening it at the same moment to give theirs up, not for one that has
// it open to close it. A variable for tests.
var replaceWait = 5 * time.Second

// rebuildBatch is the least number of events a transaction of Rebuild
// applies.
const rebuildBatch = 10000

// errClosed is the error of a closed Projector's methods.
var errClosed = errors.New("projection: closed")

// Progress reports how far a Rebuild got.
type Progress struct {
	Applied eventstore.Position // the position applied so far
}

// Projector keeps a projection of an event log in a SQLite file of its
// own: the audit log and the tables its queries read. It is safe for
// concurrent use; queries never wait for CatchUp, which applies events in
// batched transactions, each writing the checkpoint it reached and ending
// where a command's events end, so that no query sees a command half
// applied (a query waits only for Rebuild's swap and for Close). Each
// query is one read transaction: all its statements (Why, RequestHistory
// and a page run several) see the projection as one commit left it. A
// crash loses at most the batch in progress, which the next CatchUp
// applies again.
//
// The projection is disposable: delete the file and it is rebuilt from the
// log. It never writes to the log, so it never takes the log's write lock.
type Projector struct {
	log  Log
	path string
	opts Options

	rebuilding sync.Mutex // serialises Rebuild
	mu         sync.Mutex // serialises CatchUp, the swap of Rebuild and Close; guards closed and w
	// dbMu guards db: queries take it shared for a moment, to find the
	// pool; what replaces or closes db holds mu too, and takes dbMu
	// exclusive, so that a query never waits for a catch-up, only for a
	// swap or a Close under way.
	dbMu   sync.RWMutex
	db     *sqlitex.DB
	w      *writer
	closed bool
	lock   *fileLock // held shared while open; exclusive to swap
}

// DefaultPath returns the projection file of the log at logPath: the
// log's path with ".projection" added.
func DefaultPath(logPath string) string { return logPath + ".projection" }

// Open opens the projection at path, creating it empty if it does not
// exist, and deleting and recreating it if it was written with another
// schema version (ErrProjectionInUse if another process has that one
// open). It removes the files that rebuilds of the projection left when
// their process died, as Rebuild does (not yet on systems without flock).
// It reads nothing from the log until CatchUp.
func Open(ctx context.Context, log Log, path string, opts Options) (*Projector, error) {
	if log == nil {
		return nil, errors.New("projection: Open: nil log")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	lock, err := openLock(path)
	if err != nil {
		return nil, err
	}
	if err := lock.shared(); err != nil {
		lock.close()
		return nil, fmt.Errorf("projection: lock %s: %w", path, err)
	}
	removeAbandoned(path)
	p := &Projector{log: log, path: path, opts: opts, lock: lock}
	if err := p.openFile(ctx); err != nil {
		if errors.Is(err, ErrNotProjection) {
			lock.discard() // nothing beside another program's file
		} else {
			lock.close()
		}
		return nil, err
	}
	return p, nil
}

// autoCheckpoint is the projection's WAL size, in pages, at which a commit
// copies the WAL into the file: 10,000 (40 MiB), not SQLite's 1,000. The
// copy's two fsyncs cost the same at either size and a page that many
// commits change is copied once, so catching up costs less on average
// (one command at 100,000 users: 2.8 ms against 2.9-3.5 ms), at the price
// of rarer and longer pauses: about one catch-up in 115 there pays 110-135
// ms instead of about one in 11 paying up to 35 ms (docs/performance.md).
const autoCheckpoint = 10000

// openDB opens the projection file at path with the current schema. A
// file being rebuilt is written without a journal and without syncing (any
// failure, or a crash, discards it) with one reader, and without the
// indexes only queries read (Rebuild creates them at the end); the
// projection in use syncs at checkpoints (synchronous=NORMAL: a crash
// loses at most the last batches, which the next CatchUp applies again).
//
// A projection of another schema version is deleted and created again,
// with lock exclusive (fileLock.replace): another process may have it
// open (an older program, say), and the file would go from under its
// connections. The file of a rebuild (lock nil) is new, and has no other
// version.
func openDB(ctx context.Context, path string, rebuilding bool, lock *fileLock) (*sqlitex.DB, error) {
	opts := sqlitex.Options{Synchronous: sqlitex.SyncNormal, CacheSize: -16 << 10, AutoCheckpoint: autoCheckpoint}
	if rebuilding {
		opts = sqlitex.Options{Synchronous: sqlitex.SyncOff, NoJournal: true, CacheSize: -16 << 10, ReadConns: 1}
	} else if err := checkProjectionFile(ctx, path); err != nil {
		return nil, err
	}
	// replaced: this call recreated the file, or found it recreated;
	// raced: another process created the schema when this one would have.
	var replaced, raced bool
	for {
		db, err := sqlitex.Open(ctx, path, opts)
		if err != nil {
			return nil, fmt.Errorf("projection: %w", err)
		}
		v, err := readSchemaVersion(ctx, db.Write)
		switch {
		case err == nil && v == schemaVersion:
			return db, nil
		case err == nil || errors.Is(err, sql.ErrNoRows):
			// Another schema version of a projection (checkProjectionFile
			// refused any other database): it is rebuilt.
			db.Close()
			if replaced || lock == nil {
				return nil, fmt.Errorf("projection: %s keeps schema version %q after being recreated", path, v)
			}
			// Another process may have recreated it by the time this one
			// may: the version is read again then.
			recreated := func() bool {
				db, err := sqlitex.Open(ctx, path, opts)
				if err != nil {
					return true // the next round reports it
				}
				defer db.Close()
				now, err := readSchemaVersion(ctx, db.Write)
				return err != nil || now != v
			}
			if err := lock.replace(ctx, recreated, func() error { return removeDB(path) }); err != nil {
				return nil, fmt.Errorf("projection: %s has schema version %q, not %s, and cannot be recreated: %w",
					path, v, schemaVersion, err)
			}
			replaced = true
			continue
		}
		// No meta table: a new file, or one that is not a projection.
		created, cerr := createSchema(ctx, db, rebuilding)
		if cerr != nil {
			db.Close()
			return nil, cerr
		}
		if !created {
			// Another process created it meanwhile: read it again.
			db.Close()
			if raced {
				return nil, fmt.Errorf("%w: %s holds tables but no schema version: it is left alone", ErrNotProjection, path)
			}
			raced = true
			continue
		}
		return db, nil
	}
}

// checkProjectionFile refuses, reading it without writing (opening it
// read-write would switch it to WAL, in its header), a file at path that
// holds a database that is not a projection: none that is missing or
// empty, or has this schema version, or is a projection (isProjection).
func checkProjectionFile(ctx context.Context, path string) error {
	err := sqlitex.Inspect(ctx, path, func(db *sql.DB) error { return judgeProjectionFile(ctx, db, path) })
	switch {
	case errors.Is(err, sqlitex.ErrNotDatabase):
		return fmt.Errorf("%w: %w: it is left alone", ErrNotProjection, err)
	case err != nil && !errors.Is(err, ErrNotProjection):
		return fmt.Errorf("projection: %w", err)
	}
	return err
}

// judgeProjectionFile is checkProjectionFile's judgement of the database
// db, read-only, at path.
func judgeProjectionFile(ctx context.Context, db *sql.DB, path string) error {
	v, err := readSchemaVersion(ctx, db)
	switch {
	case err == nil && v == schemaVersion:
		return nil
	case err == nil || errors.Is(err, sql.ErrNoRows):
		ours, err := isProjection(ctx, db, path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !ours {
			return fmt.Errorf("%w: %s has a meta table but is not marked as a projection (SQLite application_id): "+
				"it is left alone; name another file, or delete it by hand if it is an old projection", ErrNotProjection, path)
		}
		return nil
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if tables > 0 {
		return fmt.Errorf("%w: %s holds tables but no schema version: it is left alone", ErrNotProjection, path)
	}
	return nil
}

// ErrNotProjection is returned by Open for a file that holds a database
// that is not a projection, which it leaves as it is.
var ErrNotProjection = errors.New("projection: not a projection file")

// applicationID marks a SQLite file as a projection (PRAGMA
// application_id, in the file's header): "alpr".
const applicationID = 0x616c7072

// isProjection reports whether the database at path, which records
// another schema version, is a projection, and so may be deleted and
// rebuilt: it carries the projection's application_id, or (made before the
// mark, 30 Nov 2026) none and the name Open gives projections by default.
func isProjection(ctx context.Context, db *sql.DB, path string) (bool, error) {
	var id int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return false, err
	}
	return id == applicationID || id == 0 && strings.HasSuffix(path, ".projection"), nil
}

// readSchemaVersion reads the schema version a projection file records.
func readSchemaVersion(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v)
	return v, err
}

// createSchema creates the schema in an empty file, in one transaction
// that holds the write lock, so that two processes opening a new
// projection at once do not both create it. It reports false if the file
// was not empty when the lock was taken.
func createSchema(ctx context.Context, db *sqlitex.DB, rebuilding bool) (bool, error) {
	tx, err := db.Write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock first
	if err != nil {
		return false, fmt.Errorf("projection: create the schema: %w", err)
	}
	defer tx.Rollback()
	var tables int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return false, fmt.Errorf("projection: create the schema: %w", err)
	}
	if tables > 0 {
		return false, nil
	}
	ddl := schema
	if !rebuilding {
		ddl += queryIndexes
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return false, fmt.Errorf("projection: create the schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", schemaVersion); err != nil {
		return false, fmt.Errorf("projection: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return false, fmt.Errorf("projection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("projection: create the schema: %w", err)
	}
	return true, nil
}

// removeDB deletes a SQLite file and its WAL companions.
func removeDB(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("projection: %w", err)
		}
	}
	return nil
}

// rebuildPrefix starts the names of the files Rebuild writes beside the
// projection at path.
func rebuildPrefix(path string) string { return filepath.Base(path) + ".rebuild-" }

// createRebuildFile creates the file a rebuild of the projection at path
// writes, under a name of its own (rebuilds by two processes do not write
// one file), and claims it until release is called (once or more).
func createRebuildFile(path string) (tmp string, release func(), err error) {
	for {
		f, err := os.CreateTemp(filepath.Dir(path), rebuildPrefix(path)+"*")
		if err != nil {
			return "", nil, fmt.Errorf("projection: %w", err)
		}
		tmp := f.Name()
		if err := errors.Join(f.Chmod(0o644), f.Close()); err != nil { // CreateTemp's 0600 would stay after the swap
			removeDB(tmp)
			return "", nil, fmt.Errorf("projection: %w", err)
		}
		held, err := claim(tmp)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
			return tmp, func() {}, nil
		case err == nil && held != nil:
			// Another process's removeAbandoned may have taken the new
			// file for abandoned and removed it before the claim.
			fi, ferr := held.Stat()
			pi, perr := os.Stat(tmp)
			if ferr == nil && perr == nil && os.SameFile(fi, pi) {
				return tmp, sync.OnceFunc(func() { held.Close() }), nil
			}
			held.Close()
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			removeDB(tmp)
			return "", nil, fmt.Errorf("projection: %w", err)
		}
		// Taken or removed by another process's removeAbandoned: again.
	}
}

// removeAbandoned removes the files that rebuilds of the projection at path
// left behind when their process died: those whose claim it can take.
// Errors are ignored: a file left there only takes room.
func removeAbandoned(path string) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return
	}
	prefix := rebuildPrefix(path)
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || strings.HasSuffix(name, "-wal") || strings.HasSuffix(name, "-shm") {
			continue
		}
		full := filepath.Join(filepath.Dir(path), name)
		f, err := claim(full)
		if err != nil || f == nil {
			continue
		}
		removeDB(full)
		f.Close()
	}
}

// swappable reports ErrProjectionInUse if another process has the
// projection open now.
func (p *Projector) swappable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	if err := p.lock.exclusive(); err != nil {
		return err
	}
	return p.lock.shared()
}

// closeWait bounds how long Close waits for queries still running.
var closeWait = 5 * time.Second

// Close closes the projection file. It waits for the queries still
// running, up to a few seconds, before it lets go of the lock that keeps
// other processes from swapping a rebuilt file in: a connection to the
// old file, closing after such a swap, would delete the new file's WAL
// (see Rebuild). A query whose rows are never closed is not waited for
// longer.
func (p *Projector) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	defer p.lock.close()
	p.dbMu.Lock()
	defer p.dbMu.Unlock()
	if p.db == nil {
		return nil
	}
	p.w.close()
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	err := p.db.CloseAndWait(ctx)
	p.db = nil
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // closed; the query's connection closes when it ends
	}
	return err
}

// view begins the read transaction a query reads through, on a
// connection of its own, so that all its statements see one commit of the
// projection (SQLite takes the snapshot at the first statement). The
// caller ends it with endView.
func (p *Projector) view(ctx context.Context) (*sql.Conn, error) {
	// The connection is taken under dbMu, so that a swap or Close, which
	// take it exclusive, wait for it rather than close the pool between.
	p.dbMu.RLock()
	if p.db == nil {
		p.dbMu.RUnlock()
		return nil, errClosed
	}
	conn, err := p.db.Read.Conn(ctx)
	p.dbMu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("projection: query: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		// A BEGIN whose context ended may have begun all the same.
		discard(conn)
		return nil, fmt.Errorf("projection: query: begin: %w", err)
	}
	return conn, nil
}

// endView ends a view's transaction and gives its connection back to the
// pool; a connection whose transaction could not be ended is discarded
// instead, so that no later query reads its old snapshot.
func endView(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		discard(conn)
		return
	}
	conn.Close()
}

// discard closes conn's connection to the file rather than give it back
// to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// Checkpoint returns how far the projection got.
func (p *Projector) Checkpoint(ctx context.Context) (Checkpoint, error) {
	db, err := p.view(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	defer endView(db)
	return readCheckpoint(ctx, db)
}

// CheckpointAt returns the checkpoint the projection had once it had
// applied the event at position: that position and the event's hash. It
// is how an answer as known at a position names the log it was made from.
// A position the projection has not applied is refused with
// ErrInvalidQuery; 0 is the empty log's checkpoint.
func (p *Projector) CheckpointAt(ctx context.Context, position eventstore.Position) (Checkpoint, error) {
	if position == 0 {
		return Checkpoint{}, nil
	}
	db, err := p.view(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	defer endView(db)
	var hash string
	err = db.QueryRowContext(ctx, "SELECT hash FROM audit WHERE position = ?", int64(position)).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, invalidQuery("CheckpointAt: the projection has not applied position %d", position)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("projection: read the checkpoint at %d: %w", position, err)
	}
	h, err := eventstore.ParseHash(hash)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("projection: checkpoint hash at %d: %w", position, err)
	}
	return Checkpoint{Position: position, Hash: h}, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkpointQuery reads the checkpoint from meta.
const checkpointQuery = `SELECT
	coalesce((SELECT value FROM meta WHERE key = 'checkpoint_position'), '0'),
	coalesce((SELECT value FROM meta WHERE key = 'checkpoint_hash'), '')`

func readCheckpoint(ctx context.Context, q querier) (Checkpoint, error) {
	return scanCheckpoint(q.QueryRowContext(ctx, checkpointQuery))
}

// scanCheckpoint scans the row of checkpointQuery.
func scanCheckpoint(row *sql.Row) (Checkpoint, error) {
	var cp Checkpoint
	var pos int64
	var hash string
	err := row.Scan(&pos, &hash)
	if err != nil {
		return cp, fmt.Errorf("projection: read the checkpoint: %w", err)
	}
	cp.Position = eventstore.Position(pos)
	if hash != "" {
		if cp.Hash, err = eventstore.ParseHash(hash); err != nil {
			return cp, fmt.Errorf("projection: checkpoint hash: %w", err)
		}
	}
	return cp, nil
}

// CatchUp applies the events the log holds after the checkpoint, in
// transactions of Options.BatchSize events or a little more, each ending
// where a command's events end. It first checks that the log
// still holds the checkpoint's event (ErrCheckpointMismatch otherwise).
func (p *Projector) CatchUp(ctx context.Context) (Checkpoint, error) {
	return p.CatchUpTo(ctx, 0)
}

// CatchUpTo applies events until the projection has applied position at
// least (and everything the log holds when it gets there): after an
// Execute, CatchUpTo(Result.LastPosition()) makes the
// projection show the command. A position of 0 means the log's end. A
// position the log has not reached yet is not waited for: CatchUpTo
// applies what the log holds and returns that checkpoint, before it.
func (p *Projector) CatchUpTo(ctx context.Context, position eventstore.Position) (Checkpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db == nil {
		return Checkpoint{}, errClosed
	}
	for {
		cp, err := readCheckpoint(ctx, p.db.Write)
		if err != nil {
			return cp, err
		}
		if position != 0 && cp.Position >= position {
			return cp, nil
		}
		cp, err = catchUp(ctx, p.log, p.w, cp, p.opts, nil)
		if !errors.Is(err, errCheckpointMoved) {
			return cp, err
		}
	}
}

// errCheckpointMoved stops a catch-up that finds, once it holds the write
// lock, that another process moved the checkpoint: it starts again from
// there.
var errCheckpointMoved = errors.New("projection: another process moved the checkpoint")

// catchUp applies the events after cp to the projection written through
// w, reporting progress after every batch. It reads the log from the
// checkpoint's own event, which must be the one the checkpoint names, and
// returns the checkpoint it committed last. Each event after it must
// follow the one before in the hash chain, its hash that of its contents:
// a projection, and the reports made from it, show no event the chain
// does not prove.
func catchUp(ctx context.Context, log Log, w *writer, cp Checkpoint, opts Options, progress func(Progress)) (Checkpoint, error) {
	if cp != w.last {
		clear(w.cache) // another process wrote since this writer did
		w.last = cp
	}
	committed := cp
	var b *batch
	flush := func() error {
		if b == nil {
			return nil
		}
		err := b.commit(cp)
		b = nil
		if err != nil {
			return err
		}
		committed, w.last = cp, cp
		if progress != nil {
			progress(Progress{Applied: cp.Position})
		}
		return nil
	}
	from, checking := cp.Position, cp.Position > 0
	if checking {
		from--
	}
	// A batch that has BatchSize events ends where a command's events
	// end, so that no reader sees a command half applied; a command of
	// more than ten batches' events is committed in parts all the same,
	// to bound a transaction.
	n, lastCmd := 0, ""
	verified := eventstore.Verified(log.ReadAll(ctx, from), eventstore.Head{Position: cp.Position, Hash: cp.Hash})
	for e, err := range opts.Upcasters.Events(verified) {
		if err != nil {
			if b != nil {
				b.rollback()
			}
			if errors.Is(err, eventstore.ErrChain) {
				return committed, fmt.Errorf("projection: the log does not verify: %w", err)
			}
			return committed, fmt.Errorf("projection: read the log after position %d: %w", from, err)
		}
		if checking {
			checking = false
			if e.Position != cp.Position || e.Hash != cp.Hash {
				return committed, fmt.Errorf("%w: position %d has hash %s in the log, %s in the projection",
					ErrCheckpointMismatch, cp.Position, e.Hash, cp.Hash)
			}
			continue
		}
		cmd := e.Metadata.CommandID
		if b != nil && (n >= opts.BatchSize && (cmd == "" || cmd != lastCmd) || n >= 10*opts.BatchSize) {
			if err := flush(); err != nil {
				return committed, err
			}
			n = 0
		}
		if b == nil {
			if b, err = begin(ctx, w); err != nil {
				return committed, err
			}
			// Another process may have applied these events since the
			// checkpoint was read: the write lock is now this batch's.
			if now, err := scanCheckpoint(b.checkpoint.QueryRowContext(ctx)); err != nil || now != committed {
				b.rollback()
				if err != nil {
					return committed, err
				}
				return now, errCheckpointMoved
			}
		}
		if err := b.apply(e); err != nil {
			b.rollback()
			if sqlitex.IsDamage(err) {
				err = fmt.Errorf("%w: %w", ErrDamaged, err)
			}
			return committed, fmt.Errorf("projection: apply position %d (%s): %w", e.Position, e.Type, err)
		}
		cp = Checkpoint{Position: e.Position, Hash: e.Hash}
		n, lastCmd = n+1, cmd
	}
	if checking {
		return committed, fmt.Errorf("%w: the log ends before position %d", ErrCheckpointMismatch, cp.Position)
	}
	if err := flush(); err != nil {
		return committed, err
	}
	return committed, nil
}

// Rebuild replays the whole log into a new file beside the projection and
// swaps it in once it has caught up, reporting progress after every batch.
// It swaps only if no other process has the projection open; otherwise it
// returns ErrProjectionInUse and the projection stays as it was. It checks
// before replaying too, so that a rebuild another process would block
// fails at once.
// Queries go on against the old projection until the swap, which waits
// for those still running (as Close does), and those asked meanwhile wait
// for the swap to end and read the new file.
//
// The new file is loaded, not kept up to date: without a journal, and
// with the indexes only queries read built after the last batch, from
// keys SQLite sorts in temporary files (in SQLITE_TMPDIR or TMPDIR, else
// /var/tmp, /usr/tmp or /tmp), which needs room for the keys of the
// largest index. A rebuild that fails before the swap, or a crash, leaves
// the projection in use as it was. After the swap, a failure to open the
// new file (or to open the old one again after a failed swap) leaves the
// Projector closed: its methods then report so, and Open opens it again;
// a failure of the catch-up of the events appended while rebuilding leaves
// the new file behind the log, and CatchUp goes on from where it stopped.
// The file of a rebuild whose process died (FILE.rebuild- and a random
// suffix) is removed by the next Open or Rebuild, which tells it from the
// file of a rebuild under way in another process by the flock that rebuild
// holds on it; not yet on systems without flock, where such files stay
// until removed by hand.
func (p *Projector) Rebuild(ctx context.Context, progress func(Progress)) (Checkpoint, error) {
	p.rebuilding.Lock()
	defer p.rebuilding.Unlock()
	// Refuse at once, not after the replay, a swap that would be refused.
	if err := p.swappable(); err != nil {
		return Checkpoint{}, err
	}
	removeAbandoned(p.path)
	tmp, release, err := createRebuildFile(p.path)
	if err != nil {
		return Checkpoint{}, err
	}
	defer release()
	db, err := openDB(ctx, tmp, true, nil)
	if err != nil {
		removeDB(tmp)
		return Checkpoint{}, err
	}
	if _, err := db.Write.ExecContext(ctx, createTargetsLoad); err != nil {
		db.Close()
		removeDB(tmp)
		return Checkpoint{}, fmt.Errorf("projection: %w", err)
	}
	w, err := newWriter(ctx, db.Write, true)
	if err != nil {
		db.Close()
		removeDB(tmp)
		return Checkpoint{}, err
	}
	// The file being rebuilt is not in use: larger transactions write
	// each hot page fewer times.
	opts := p.opts
	opts.BatchSize = max(opts.BatchSize, rebuildBatch)
	cp, err := catchUp(ctx, p.log, w, Checkpoint{}, opts, progress)
	w.close()
	if err == nil {
		_, err = db.Write.ExecContext(ctx, finishLoad+queryIndexes)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeDB(tmp)
		return cp, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		removeDB(tmp)
		return cp, errClosed
	}
	err = p.swap(ctx, tmp, release)
	removeDB(tmp)
	if err != nil {
		return cp, err
	}
	// Events appended while rebuilding.
	return catchUp(ctx, p.log, p.w, cp, p.opts, progress)
}

// swap renames the rebuilt file tmp over the projection, with the lock
// exclusive, and opens it. It calls release, which gives up the rebuild's
// claim on tmp, once tmp is renamed and before it opens the file: closing
// a descriptor of a file drops every POSIX lock the process holds on it,
// SQLite's included. The caller holds p.mu; queries wait for the swap.
func (p *Projector) swap(ctx context.Context, tmp string, release func()) (err error) {
	if err := p.lock.exclusive(); err != nil {
		return err
	}
	p.dbMu.Lock()
	defer p.dbMu.Unlock()
	swapped := false
	defer func() {
		if swapped {
			return
		}
		if p.db == nil {
			// Closed for a swap that failed: the old file is still there.
			// (Reopened even if ctx, which may be why it failed, is done.)
			err = errors.Join(err, p.openFile(context.WithoutCancel(ctx)))
		}
		// flock converts: the exclusive lock becomes shared again.
		err = errors.Join(err, p.lock.shared())
	}()
	if p.db != nil {
		// Closing the last connection checkpoints and removes the WAL, so
		// that no stale WAL is applied to the file renamed over it. A
		// query still running has a connection of its own: the swap waits
		// for it, or its closing would delete the new file's WAL.
		p.w.close()
		err := p.db.CloseAndWait(ctx)
		p.db = nil
		if err != nil {
			return err
		}
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(p.path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("projection: %w", err)
		}
	}
	// The swap: rename replaces the old file atomically. Renamed, the
	// file is no longer one that removeAbandoned may take for abandoned.
	if err := os.Rename(tmp, p.path); err != nil {
		return fmt.Errorf("projection: swap in the rebuilt projection: %w", err)
	}
	release()
	// Swapped: other processes may open it again while this one catches
	// up.
	swapped = true
	if err := p.lock.shared(); err != nil {
		return err
	}
	return p.openFile(ctx)
}

// openFile opens the projection file for p, which has it closed. The
// caller holds p.mu and p.dbMu, or has not shared p yet (Open).
func (p *Projector) openFile(ctx context.Context) error {
	db, err := openDB(ctx, p.path, false, p.lock)
	if err != nil {
		return err
	}
	w, err := newWriter(ctx, db.Write, false)
	if err != nil {
		db.Close()
		return err
	}
	p.db, p.w = db, w
	return nil
}
