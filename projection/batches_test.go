package projection_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
	"github.com/stretchr/testify/require"
)

// pausingLog calls pause before it yields the event at position at.
type pausingLog struct {
	projection.Log
	at    eventstore.Position
	pause func()
}

func (l pausingLog) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		for e, err := range l.Log.ReadAll(ctx, after) {
			if err == nil && e.Position == l.at {
				l.pause()
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// TestCatchUpCommitsWholeCommands (found by a review): a batch that
// reaches BatchSize in the middle of a command goes on to the command's
// end, so that no reader, in this process or another, sees the command
// half applied; and a query of the Projector that is catching up does
// not wait for the catch-up.
func TestCatchUpCommitsWholeCommands(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	granted, err := s.grantAnna()
	require.NoError(t, err)
	require.Greater(t, len(granted.Events), 1, "the approval is a command of several events")
	first, last := granted.Events[0].Position, granted.Events[len(granted.Events)-1].Position

	path := projection.DefaultPath(s.log.Path())
	other, err := projection.Open(s.ctx, s.log, path, projection.Options{})
	require.NoError(t, err)
	defer other.Close()
	var p *projection.Projector
	var seen projection.Checkpoint
	waited := false
	queried := make(chan error, 1)
	log := pausingLog{Log: s.log, at: first + 1, pause: func() {
		var err error
		seen, err = other.Checkpoint(s.ctx)
		require.NoError(t, err)
		go func() {
			_, err := p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg}, projection.Now)
			queried <- err
		}()
		select {
		case err := <-queried:
			require.NoError(t, err)
		case <-time.After(2 * time.Second):
			waited = true // and the query answers once the catch-up ends
		}
	}}
	// A batch of BatchSize events would end at the approval, the first
	// event of its command.
	p, err = projection.Open(s.ctx, log, path, projection.Options{BatchSize: int(first)})
	require.NoError(t, err)
	defer p.Close()
	cp, err := p.CatchUp(s.ctx)
	require.NoError(t, err)
	head, err := s.log.Head(s.ctx)
	require.NoError(t, err)
	require.Equal(t, head.Position, cp.Position)
	require.False(t, seen.Position >= first && seen.Position < last,
		"another reader saw the checkpoint %d, inside the command at %d..%d", seen.Position, first, last)
	require.False(t, waited, "a query waited for the catch-up")
	if waited {
		require.NoError(t, <-queried)
	}
}
