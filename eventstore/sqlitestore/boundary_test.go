package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// TestBoundaryCheckEndOneEventCut: cutting only the last event behind the
// store is a truncation too (TestTruncationDetected cuts two, which an
// off-by-one in checkEnd still saw).
func TestBoundaryCheckEndOneEventCut(t *testing.T) {
	ctx := context.Background()
	s, path := twoCommands(t)
	behind(t, path, "DELETE FROM events WHERE position = 4")
	var ce *eventstore.ChainError
	require.ErrorAs(t, s.CheckEnd(ctx), &ce)
	require.Equal(t, eventstore.Position(4), ce.Position)
	require.ErrorAs(t, s.CrossCheck(ctx), &ce)
	require.Equal(t, eventstore.Position(4), ce.Position)
}

// TestBoundaryRepeatOverRewrittenCommand: a command's positions rewritten
// behind the store to hold another command's events (as many as it wrote,
// so the count still matches) are not handed back as the repeat's
// "duplicate" events.
func TestBoundaryRepeatOverRewrittenCommand(t *testing.T) {
	ctx := context.Background()
	s, path := twoCommands(t)
	behind(t, path, "UPDATE events SET command_id = 'someone-else' WHERE position = 2")
	res, err := s.Append(ctx, eventstore.AnyCondition,
		eventstore.NewEvent{Stream: "s/1", Type: "happened", Metadata: eventstore.Metadata{CommandID: "cmd-0"}},
		eventstore.NewEvent{Stream: "s/2", Type: "happened", Metadata: eventstore.Metadata{CommandID: "cmd-0"}})
	require.ErrorIs(t, err, eventstore.ErrChain, "answered with %+v", res)
	require.False(t, res.Duplicate)
}

// TestBoundaryStaleCacheAfterAnotherConnection: once another connection
// has written to the file (here: cut the log's last append, commands row
// and all), the writer's cache is not trusted for a batch that reads the
// state: the next append follows the log's actual head, and the log
// verifies.
func TestBoundaryStaleCacheAfterAnotherConnection(t *testing.T) {
	ctx := context.Background()
	s, path := twoCommands(t)
	behind(t, path, "DELETE FROM events WHERE position > 2", "DELETE FROM commands WHERE command_id = 'cmd-1'")
	res, err := s.Append(ctx, eventstore.AnyCondition,
		eventstore.NewEvent{Stream: "s/new", Type: "happened", Metadata: eventstore.Metadata{CommandID: "new"}})
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(3), res.Events[0].Position)
	head, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(3), head.Position)
	require.NoError(t, s.CrossCheck(ctx))
}

// twoCommands returns a store of two commands of two events each (cmd-0
// at positions 1 and 2, cmd-1 at 3 and 4) and the path of its file.
func twoCommands(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	appendCommands(t, s, 2)
	return s, path
}

// TestCheckEndEventsPastTheRecordedAppends (found by a review of the CLI):
// the last append cut part-way and its commands row deleted leaves events
// past every recorded append; CheckEnd, which the readers of the log rely
// on (archive, report), refused only the opposite.
func TestCheckEndEventsPastTheRecordedAppends(t *testing.T) {
	ctx := context.Background()
	s, path := twoCommands(t)
	behind(t, path, "DELETE FROM events WHERE position = 4", "DELETE FROM commands WHERE last_position = 4")
	var ce *eventstore.ChainError
	require.ErrorAs(t, s.CheckEnd(ctx), &ce)
	require.Equal(t, eventstore.Position(3), ce.Position)
	require.ErrorAs(t, s.CrossCheck(ctx), &ce)
}
