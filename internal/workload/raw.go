package workload

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/accessledger/accessledger/internal/sqlitex"
)

// RawInsertPerCommit measures what SQLite itself does on this machine with
// nothing of accessledger: one event-sized row inserted per transaction
// (an autocommit INSERT of a prepared statement) into a table with a
// primary key and one index, in WAL mode with synchronous=FULL, for about
// d, in a scratch file in dir (emptied first). It is the baseline the benchmark figures
// are given against: a command that is one commit cannot beat it.
func RawInsertPerCommit(ctx context.Context, dir string, d time.Duration) (Rate, error) {
	path := filepath.Join(dir, "raw-baseline.db")
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(f) // each measurement starts on an empty file
	}
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path, sqlitex.Options{Synchronous: sqlitex.SyncFull, BusyTimeout: 5 * time.Second}, false))
	if err != nil {
		return Rate{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS raw (
		position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL,
		payload TEXT NOT NULL, hash BLOB NOT NULL, UNIQUE (stream, version))`); err != nil {
		return Rate{}, fmt.Errorf("workload: raw baseline: %w", err)
	}
	st, err := db.PrepareContext(ctx, "INSERT INTO raw (position, stream, version, payload, hash) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return Rate{}, err
	}
	defer st.Close()
	payload := `{"request":{"id":"` + strings.Repeat("x", 300) + `"}}`
	hash := make([]byte, 32)
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		n++
		if _, err := st.ExecContext(ctx, n, fmt.Sprint("stream/", n%1000), n, payload, hash); err != nil {
			return Rate{}, fmt.Errorf("workload: raw baseline: %w", err)
		}
	}
	return Rate{N: n, Elapsed: time.Since(start)}, nil
}
