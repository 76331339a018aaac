package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// behind runs SQL on the log's file from another connection, after
// dropping the append-only triggers: what someone with the file can do.
func behind(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	for _, trig := range []string{"events_no_update", "events_no_delete", "commands_no_update", "commands_no_delete"} {
		_, err := db.Exec("DROP TRIGGER IF EXISTS " + trig)
		require.NoError(t, err)
	}
	for _, q := range stmts {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
}

func appendCommands(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		_, err := s.Append(context.Background(), eventstore.AnyCondition,
			eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: fmt.Sprintf("cmd-%d", i)}},
			eventstore.NewEvent{Stream: "s/2", Type: "happened", Metadata: eventstore.Metadata{CommandID: fmt.Sprintf("cmd-%d", i)}})
		require.NoError(t, err)
	}
}

// TestTruncationDetected deletes the last events behind the store: the
// hash chain of what is left still verifies, but the commands table
// remembers them, so CrossCheck names the first missing position, a
// writer refuses to open the log, and the deleted command's id is never
// answered as a duplicate with events the log lost.
func TestTruncationDetected(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	appendCommands(t, s, 3) // positions 1..6
	require.NoError(t, s.CrossCheck(ctx))
	require.NoError(t, s.CheckEnd(ctx))

	behind(t, path, "DELETE FROM events WHERE position > 4")
	_, err = eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	require.NoError(t, err, "the chain alone cannot see a cut at its end")
	err = s.CrossCheck(ctx)
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(5), ce.Position)
	require.Contains(t, ce.Reason, "truncated")
	require.ErrorAs(t, s.CheckEnd(ctx), &ce, "the cheap check sees it too")
	require.Equal(t, eventstore.Position(5), ce.Position)

	// The open writer: the deleted command's id is not a duplicate.
	s.w.cache.valid = false // the writer must read what was done behind it
	_, err = s.Append(ctx, eventstore.AnyCondition,
		eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "cmd-2"}})
	require.ErrorIs(t, err, eventstore.ErrChain)
	require.NoError(t, s.Close())

	_, err = Open(path, Options{})
	require.ErrorIs(t, err, eventstore.ErrChain, "a writer does not open a truncated log")
	ro, err := OpenReadOnly(path, Options{})
	require.NoError(t, err, "a reader does, to say what is wrong")
	defer ro.Close()
	require.ErrorIs(t, ro.CrossCheck(ctx), eventstore.ErrChain)
}

// crossChecked appends two commands to a new log, runs stmts on it behind
// the store, and returns the *ChainError CrossCheck gives a reader.
func crossChecked(t *testing.T, stmts ...string) *eventstore.ChainError {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	appendCommands(t, s, 2)
	require.NoError(t, s.Close())
	behind(t, path, stmts...)
	ro, err := OpenReadOnly(path, Options{})
	require.NoError(t, err)
	defer ro.Close()
	var ce *eventstore.ChainError
	require.ErrorAs(t, ro.CrossCheck(context.Background()), &ce)
	return ce
}

// TestInsertionDetected inserts a copy of an event under a new command id
// behind the store, resealing nothing: CrossCheck names it.
func TestInsertionDetected(t *testing.T) {
	ce := crossChecked(t, `INSERT INTO events SELECT 5, id, 's/9', 1, type, schema_version, occurred_at, recorded_at, actor_id, actor_kind,
		on_behalf_of, correlation_id, causation_id, 'forged', payload, hash, hash, '' FROM events WHERE position = 4`)
	require.Equal(t, eventstore.Position(5), ce.Position)
}

// TestRowMovedBeforeTheFirstPosition (found by a fault review): a row
// moved to a position no event has is named by its stored position, not
// by that position read as an unsigned one.
func TestRowMovedBeforeTheFirstPosition(t *testing.T) {
	ce := crossChecked(t, "UPDATE events SET position = -5 WHERE position = 3")
	require.Zero(t, ce.Position)
	require.Contains(t, ce.Reason, "position -5")
}
