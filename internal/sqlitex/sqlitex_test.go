package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql":  {Data: []byte("CREATE TABLE b (x)")},
		"m/0001_init.sql":  {Data: []byte("CREATE TABLE a (x)")},
		"m/README.md":      {Data: []byte("not a migration")},
		"gap/0001_a.sql":   {Data: []byte("SELECT 1")},
		"gap/0003_c.sql":   {Data: []byte("SELECT 1")},
		"bad/first.sql":    {Data: []byte("SELECT 1")},
		"dup/0001_a.sql":   {Data: []byte("SELECT 1")},
		"dup/0001_b.sql":   {Data: []byte("SELECT 1")},
		"empty/.gitignore": {Data: nil},
	}
	ms, err := LoadMigrations(fsys, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_init.sql" || ms[1].Version != 2 {
		t.Fatalf("LoadMigrations = %+v, %v", ms, err)
	}
	for _, dir := range []string{"gap", "bad", "dup"} {
		if _, err := LoadMigrations(fsys, dir); err == nil {
			t.Errorf("%s: no error", dir)
		}
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "x?#%.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ms := []Migration{{1, "0001_a.sql", "CREATE TABLE a (x); INSERT INTO a VALUES (1);"}}
	if got, err := Migrate(ctx, conn, ms, nil); err != nil || len(got) != 1 {
		t.Fatalf("first Migrate = %v, %v", got, err)
	}
	if got, err := Migrate(ctx, conn, ms, nil); err != nil || len(got) != 0 {
		t.Fatalf("second Migrate = %v, %v", got, err)
	}
	// A failing migration leaves nothing behind: neither its own changes
	// nor those of the migrations before it in the same run.
	bad := append(ms, Migration{2, "0002_b.sql", "CREATE TABLE b (x)"}, Migration{3, "0003_c.sql", "NOT SQL"})
	if _, err := Migrate(ctx, conn, bad, nil); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("bad Migrate = %v", err)
	}
	var n int
	if err := db.Read.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table b exists after a failed run: %d, %v", n, err)
	}
	if _, err := Migrate(ctx, conn, nil, nil); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Migrate with fewer migrations = %v, want ErrSchemaTooNew", err)
	}
	if _, err := Migrate(ctx, conn, []Migration{{2, "0002_x.sql", ""}}, nil); err == nil {
		t.Error("Migrate accepted a list not starting at 1")
	}
	// Pragmas of both pools.
	for pool, want := range map[string]map[string]string{
		"write": {"journal_mode": "wal", "synchronous": "2", "busy_timeout": "5000", "query_only": "0", "temp_store": "2"},
		"read":  {"journal_mode": "wal", "busy_timeout": "5000", "query_only": "1", "temp_store": "0"},
	} {
		q := Querier(db.Read)
		if pool == "write" {
			q = conn
		}
		for name, v := range want {
			if got, err := Pragma(ctx, q, name); err != nil || got != v {
				t.Errorf("%s pool: PRAGMA %s = %q, %v; want %s", pool, name, got, err, v)
			}
		}
	}
}

// TestAutoCheckpoint: the writer checkpoints at Options.AutoCheckpoint
// pages, and at SQLite's 1,000 without it.
func TestAutoCheckpoint(t *testing.T) {
	ctx := context.Background()
	for set, want := range map[int]string{0: "1000", 10000: "10000"} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{AutoCheckpoint: set})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Pragma(ctx, db.Write, "wal_autocheckpoint"); err != nil || got != want {
			t.Errorf("AutoCheckpoint %d: PRAGMA wal_autocheckpoint = %q, %v; want %s", set, got, err, want)
		}
		db.Close()
	}
}

func TestSynchronousLevel(t *testing.T) {
	for in, want := range map[string]string{"": "FULL", "full": "FULL", "normal": "NORMAL", "0": "OFF", "EXTRA": "EXTRA"} {
		if got, err := SynchronousLevel(in); err != nil || got != want {
			t.Errorf("SynchronousLevel(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := SynchronousLevel("sometimes"); err == nil {
		t.Error("accepted sometimes")
	}
	if _, err := Open(context.Background(), ":memory:", Options{}); err == nil {
		t.Error("Open accepted :memory:")
	}
}

// TestInspect: a missing or empty file is not inspected, a file that is
// not a database is ErrNotDatabase, and a database is given to f and left
// as it was (not switched to WAL).
func TestInspect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	called := false
	f := func(*sql.DB) error { called = true; return nil }
	for _, p := range []string{filepath.Join(dir, "missing.db"), filepath.Join(dir, "empty.db")} {
		if strings.HasSuffix(p, "empty.db") {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := Inspect(ctx, p, f); err != nil || called {
			t.Fatalf("%s: err %v, inspected %v", p, err, called)
		}
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database, but long enough to be read as a header by SQLite"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Inspect(ctx, text, f); !errors.Is(err, ErrNotDatabase) || called {
		t.Fatalf("a text file: err %v, inspected %v", err, called)
	}
	db := filepath.Join(dir, "app.db")
	w, err := sql.Open(DriverName, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before, _ := os.ReadFile(db)
	if err := Inspect(ctx, db, f); err != nil || !called {
		t.Fatalf("a database: err %v, inspected %v", err, called)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Fatal("the database was changed by its inspection")
	}
}

// coded is an error with SQLite's code, as the driver's are.
type coded int

func (c coded) Error() string { return fmt.Sprintf("sqlite error %d", int(c)) }
func (c coded) Code() int     { return int(c) }

func TestErrorKinds(t *testing.T) {
	for code, want := range map[int][3]bool{ // busy, damage, not a database
		5: {true, false, false}, 6: {true, false, false}, 517: {true, false, false}, // SQLITE_BUSY_SNAPSHOT
		11: {false, true, false}, 19: {false, true, false}, 2067: {false, true, false}, // SQLITE_CONSTRAINT_UNIQUE
		26: {false, false, true}, 1: {false, false, false}, 13: {false, false, false},
	} {
		err := fmt.Errorf("wrapped: %w", coded(code))
		if got := [3]bool{IsBusy(err), IsDamage(err), IsNotADB(err)}; got != want {
			t.Errorf("code %d: busy, damage, not a database = %v, want %v", code, got, want)
		}
	}
	if IsDamage(errors.New("no code")) {
		t.Error("an error without a code is damage")
	}
}
