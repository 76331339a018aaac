package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/sqlitex"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestOpenReadOnly reads a closed log without writing a byte to it or
// beside it, even from a file and folder it may not write.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	w, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	for i := range 5 {
		_, err := w.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "happened",
			Payload: []byte(`{"n":1}`), Metadata: eventstore.Metadata{CommandID: string(rune('a' + i))}})
		require.NoError(t, err)
	}
	want, err := w.Head(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	sum, names := fileSum(t, path), dirNames(t, dir)
	require.NoError(t, os.Chmod(path, 0o444))
	require.NoError(t, os.Chmod(dir, 0o555))
	defer os.Chmod(dir, 0o755)

	r, err := sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
	require.NoError(t, err)
	head, err := eventstore.Verify(ctx, r.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, want, head)
	got, err := r.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)
	_, err = r.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "x", Metadata: eventstore.Metadata{CommandID: "z"}})
	require.ErrorIs(t, err, sqlitestore.ErrReadOnly)
	require.NoError(t, r.Close())

	require.Equal(t, sum, fileSum(t, path), "the file is unchanged")
	require.Equal(t, names, dirNames(t, dir), "no -wal or -shm file left beside it")
}

// TestOpenReadOnlyRefusesOtherFiles opens another program's database, an
// empty file and a file that is not a database: each is refused with
// ErrNotLog and left as it was.
func TestOpenReadOnlyRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))

	for _, path := range append(otherFiles(t, dir), empty) {
		sum := fileSum(t, path)
		_, err := sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
		require.ErrorIs(t, err, sqlitestore.ErrNotLog, path)
		require.Equal(t, sum, fileSum(t, path), "%s is unchanged", path)
	}
	_, err := sqlitestore.OpenReadOnly(filepath.Join(dir, "missing.db"), sqlitestore.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoFileExists(t, filepath.Join(dir, "missing.db"), "nothing is created")
}

// otherFiles writes, in dir, files that are not accessledger logs and
// returns their paths: databases of other programs, among them some whose
// tables carry a log's names (found by a review: Open took those for logs
// and switched them to WAL), and a file that is not a database.
func otherFiles(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	for _, db := range []struct{ name, script string }{
		{"other.db", "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)"},
		{"events.db", "CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO events (name) VALUES ('birthday'), ('wedding')"},
		// golang-migrate's and Rails' tables of applied migrations.
		{"migrate.db", "CREATE TABLE schema_migrations (version uint64, dirty bool); INSERT INTO schema_migrations VALUES (2, false)"},
		{"rails.db", "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101120000')"},
		// A log's three tables by name, schema_migrations even as a log's,
		// but events and commands of another shape.
		{"lookalike.db", `CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT);
			CREATE TABLE commands (id INTEGER PRIMARY KEY, line TEXT);
			CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT;
			INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`},
	} {
		path := filepath.Join(dir, db.name)
		sqlExec(t, path, db.script)
		paths = append(paths, path)
	}
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("not a database, just some notes that are long enough to be read as a header......"), 0o644))
	return append(paths, text)
}

// TestOpenReadOnlyBesideAWriter reads a log a writer holds open, through
// its WAL, and sees what the writer appended.
func TestOpenReadOnlyBesideAWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	w, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer w.Close()
	_, err = w.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "a"}})
	require.NoError(t, err)
	r, err := sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer r.Close()
	_, err = w.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "b"}})
	require.NoError(t, err)
	head, err := r.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(2), head.Position)
}

// TestOpenReadOnlyFirstSchema reads a log of the first schema version,
// which has no command_digest column and which a read-only open does not
// migrate; Open does.
func TestOpenReadOnlyFirstSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	_, err = w.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "a"}})
	require.NoError(t, err)
	want, err := w.Head(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("ALTER TABLE events DROP COLUMN command_digest; DELETE FROM schema_migrations WHERE version = 2")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	r, err := sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
	require.NoError(t, err)
	head, err := eventstore.Verify(ctx, r.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, want, head)
	require.NoError(t, r.Close())

	// Open takes it for the log it is, and migrates it.
	w, err = sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer w.Close()
	head, err = eventstore.Verify(ctx, w.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, want, head)
}

// TestOpenRefusesOtherFiles (found by a review as a new user): Open, which
// creates and migrates a log, refuses another program's database and a
// file that is not a database, and leaves them as they were; an empty
// file becomes a log.
func TestOpenRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	paths := otherFiles(t, dir)
	names := dirNames(t, dir)
	for _, path := range paths {
		sum := fileSum(t, path)
		_, err := sqlitestore.Open(path, sqlitestore.Options{})
		require.ErrorIs(t, err, sqlitestore.ErrNotLog, path)
		require.Equal(t, sum, fileSum(t, path), "%s is unchanged", path)
	}
	require.Equal(t, names, dirNames(t, dir), "no -wal or -shm file left beside them")
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	s, err := sqlitestore.Open(empty, sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s, err = sqlitestore.Open(empty, sqlitestore.Options{})
	require.NoError(t, err, "a log opens again")
	require.NoError(t, s.Close())
	// So does a database that holds nothing, though it is not empty.
	dropped := filepath.Join(dir, "dropped.db")
	sqlExec(t, dropped, "CREATE TABLE t (x); DROP TABLE t")
	s, err = sqlitestore.Open(dropped, sqlitestore.Options{})
	require.NoError(t, err, "a database that holds nothing becomes a log")
	require.NoError(t, s.Close())
}

// sqlExec runs script on the database at path, behind any store's back.
func sqlExec(t *testing.T, path, script string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(script)
	require.NoError(t, err, script)
}

// changedLog makes a log at path with one event, in rollback-journal mode
// so that whatever writes to it shows in its bytes, and runs script on it.
func changedLog(t *testing.T, path, script string) {
	t.Helper()
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	_, err = s.Append(context.Background(), eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "a"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	sqlExec(t, path, "PRAGMA journal_mode = DELETE; "+script)
}

// TestOpenRefusesLogLookalikes: a database whose schema_migrations does
// not record this program's migrations, by number and name, or whose
// events or commands table is not a log's, is not a log, to Open and
// OpenReadOnly alike; nor, to Open, is a log with another program's table
// beside it. Each is left as it was.
func TestOpenRefusesLogLookalikes(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		readOnlyToo  bool
	}{
		{"the last migration named otherwise", "UPDATE schema_migrations SET name = 'x' || name WHERE version = (SELECT max(version) FROM schema_migrations)", true},
		{"the migrations numbered otherwise", "UPDATE schema_migrations SET version = version + 10", true},
		{"no migration recorded", "DELETE FROM schema_migrations; ALTER TABLE events DROP COLUMN command_digest", true},
		{"commands of another shape", "DROP TABLE commands; CREATE TABLE commands (id INTEGER PRIMARY KEY, line TEXT)", true},
		{"events of another shape", "DROP TABLE events; CREATE TABLE events (position INTEGER PRIMARY KEY, name TEXT)", true},
		{"a table of another program beside", "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ledger.db")
			changedLog(t, path, tc.script)
			sum, names := fileSum(t, path), dirNames(t, dir)
			_, err := sqlitestore.Open(path, sqlitestore.Options{})
			require.ErrorIs(t, err, sqlitestore.ErrNotLog)
			if tc.readOnlyToo {
				_, err = sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
				require.ErrorIs(t, err, sqlitestore.ErrNotLog)
			}
			require.Equal(t, sum, fileSum(t, path), "unchanged")
			require.Equal(t, names, dirNames(t, dir), "no -wal or -shm file left beside it")
		})
	}
}

// TestOpenRefusesANewerLog: a log of a later schema version than this
// program's, by one or many, is refused by Open and OpenReadOnly alike
// as too new, and Open refuses it before writing to it.
func TestOpenRefusesANewerLog(t *testing.T) {
	migrations, err := os.ReadDir("migrations")
	require.NoError(t, err)
	for _, version := range []int{len(migrations) + 1, 99} {
		dir := t.TempDir()
		path := filepath.Join(dir, "ledger.db")
		changedLog(t, path, fmt.Sprintf("INSERT INTO schema_migrations VALUES (%d, '%04d_future.sql', 0)", version, version))
		sum, names := fileSum(t, path), dirNames(t, dir)
		_, err := sqlitestore.Open(path, sqlitestore.Options{})
		require.ErrorIs(t, err, sqlitex.ErrSchemaTooNew, version)
		_, err = sqlitestore.OpenReadOnly(path, sqlitestore.Options{})
		require.ErrorIs(t, err, sqlitex.ErrSchemaTooNew, version)
		require.Equal(t, sum, fileSum(t, path), "unchanged")
		require.Equal(t, names, dirNames(t, dir), "no -wal or -shm file left beside it")
	}
}
