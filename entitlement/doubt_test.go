package entitlement

import (
	"context"
	"fmt"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

// TestFailedCommitInDoubtFindsAnotherWritersCommand: a second Manager on
// the log has not yet seen a command id that the first one wrote. Its
// append of the same id is answered by the store as a duplicate (or a
// reuse) in a transaction whose COMMIT then fails, so the append's answer
// is ErrOutcomeUnknown. The Manager reads the log again and finds the
// command id there: but the events are the first Manager's, not the ones
// this execution decided. Execute must then answer as the store would have
// without the failed commit: a Duplicate whose ID is the logged one, or
// ErrCommandReused for another command under the id.
func TestFailedCommitInDoubtFindsAnotherWritersCommand(t *testing.T) {
	for _, same := range []bool{true, false} {
		t.Run(fmt.Sprintf("sameCommand=%v", same), func(t *testing.T) {
			w, hs := newHookWorld(t)
			ga := w.user("ga", GlobalAdministrator)
			other, err := NewManager(w.ctx, hs, Options{Clock: w.clock, IDs: SeededIDs(77)})
			require.NoError(t, err)
			first, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
			require.NoError(t, err)

			errIO := fmt.Errorf("commit: %w: disk I/O error", eventstore.ErrOutcomeUnknown)
			hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
				write() // answered as a duplicate or a reuse; the COMMIT fails after
				return func(context.Context) (eventstore.AppendResult, error) { return eventstore.AppendResult{}, errIO }
			})
			name := "Payroll"
			if !same {
				name = "Something else"
			}
			res, err := other.Execute(w.ctx, ga, CreateCatalog{DisplayName: name}, WithCommandID("payroll-1"))
			hs.setTicket(nil)
			require.Equal(t, 1, countCommand(t, w.store, "payroll-1"))
			if !same {
				requireKind(t, err, ErrConflict)
				require.Contains(t, err.Error(), "used at position")
				return
			}
			require.NoError(t, err)
			require.True(t, res.Duplicate, "the log holds the first Manager's execution")
			require.Equal(t, first.ID, res.ID, "the ID of the catalog in the log")
			_, err = other.State().GetCatalog(ga, res.ID)
			require.NoError(t, err)
		})
	}
}

// TestFailedCommitInDoubtWrappingADeadline: the store's commit fails in
// doubt with an error of its own that wraps context.DeadlineExceeded (a
// store with a deadline on its commit), while the caller's context is
// alive: that is no abandonment by the caller, so the Manager reads the
// log again, finds the events and reports success.
func TestFailedCommitInDoubtWrappingADeadline(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	errCommit := fmt.Errorf("%w: commit: %w", eventstore.ErrOutcomeUnknown, context.DeadlineExceeded)
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		write()
		return func(context.Context) (eventstore.AppendResult, error) { return eventstore.AppendResult{}, errCommit }
	})
	res, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	hs.setTicket(nil)
	require.NoError(t, w.ctx.Err())
	require.NoError(t, err, "the log shows the events and the caller did not stop waiting")
	require.Len(t, res.Events, 1)
}
