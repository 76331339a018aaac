package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one ordered schema change.
type Migration struct {
	// Version is the number the file name starts with: 1, 2, 3… without gaps.
	Version int
	// Name is the file name.
	Name string
	// SQL is the script, one or more statements. It runs inside a
	// transaction, so it must not change journal_mode or use VACUUM.
	SQL string
}

// LoadMigrations reads the migrations in directory dir of fsys: the files
// named NNNN_description.sql, ordered by NNNN. Versions must run 1, 2, 3…
// without gaps or repeats. Other files are ignored.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlitex: migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("sqlitex: migration %s: name must be NNNN_description.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("sqlitex: migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("sqlitex: migration %s: expected version %d", m.Name, i+1)
		}
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix nanoseconds
) STRICT`

// ErrSchemaTooNew is returned by Migrate when the database records a
// migration this program does not know: it was written by a newer version.
var ErrSchemaTooNew = errors.New("sqlitex: database schema is newer than this program")

// Migrate brings the database on conn up to date: in one BEGIN IMMEDIATE
// transaction it applies, in order, every migration of ms not yet recorded
// in the schema_migrations table, and records it there with the time from
// now (time.Now if nil). Either all pending migrations are applied or none.
// It returns the versions it applied; none when the schema was up to date,
// in which case it takes no write lock.
func Migrate(ctx context.Context, conn *sql.Conn, ms []Migration, now func() time.Time) ([]int, error) {
	if now == nil {
		now = time.Now
	}
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("sqlitex: migration %s has version %d, expected %d", m.Name, m.Version, i+1)
		}
	}
	latest := len(ms)
	if v, err := schemaVersion(ctx, conn); err == nil && v == latest {
		return nil, nil
	}
	if err := BeginImmediate(ctx, conn); err != nil {
		return nil, err
	}
	applied, err := migrateTx(ctx, conn, ms, latest, now)
	if err != nil {
		return nil, errors.Join(err, Rollback(context.Background(), conn))
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlitex: migrate: commit: %w", err), Rollback(context.Background(), conn))
	}
	return applied, nil
}

func migrateTx(ctx context.Context, conn *sql.Conn, ms []Migration, latest int, now func() time.Time) ([]int, error) {
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("sqlitex: migrate: %w", err)
	}
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	if v > latest {
		return nil, fmt.Errorf("%w: it is at version %d, this program knows up to %d", ErrSchemaTooNew, v, latest)
	}
	var applied []int
	for _, m := range ms[v:] {
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("sqlitex: migration %s: %w", m.Name, err)
		}
		if _, err := conn.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, now().UnixNano()); err != nil {
			return nil, fmt.Errorf("sqlitex: migration %s: record: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// schemaVersion returns the highest recorded migration, 0 for none. It
// fails if schema_migrations does not exist.
func schemaVersion(ctx context.Context, q Querier) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlitex: schema version: %w", err)
	}
	return int(v.Int64), nil
}
