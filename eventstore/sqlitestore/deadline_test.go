package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// holdWriteLock takes the log's write lock on a connection of its own, as
// another process would, until the test rolls it back or ends.
func holdWriteLock(t *testing.T, path string) *sql.Conn {
	t.Helper()
	other, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	return conn
}

// TestAppendDeadlineWhileLocked appends while another connection (as
// another process would) holds the write lock: the append returns soon
// after its context's deadline, with the context's error or
// ErrOutcomeUnknown, not after the busy timeout.
func TestAppendDeadlineWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	conn := holdWriteLock(t, path)
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = s.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "t", Metadata: eventstore.Metadata{CommandID: "c1"}})
	took := time.Since(began)
	t.Logf("append under a held lock with a 100 ms deadline: %s, %v", took, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, eventstore.ErrOutcomeUnknown), "%v", err)
	require.Less(t, took, time.Second, "the deadline is honoured")
}

// TestLeaderGivesUpWhileLocked: the append that leads a commit gives up
// waiting for another connection's lock; it fails with its context's
// error, and the append queued behind it is written by a new leader once
// the lock is released.
func TestLeaderGivesUpWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	conn := holdWriteLock(t, path)

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	ev := func(cmd string) eventstore.NewEvent {
		return eventstore.NewEvent{Stream: "s/1", Type: "t", Metadata: eventstore.Metadata{CommandID: cmd}}
	}
	first := s.Enqueue(short, eventstore.AnyCondition, ev("short"))
	second := s.Enqueue(context.Background(), eventstore.AnyCondition, ev("patient"))
	firstErr := make(chan error, 1)
	go func() { _, err := first(short); firstErr <- err }()
	time.Sleep(20 * time.Millisecond) // the first append leads
	secondRes := make(chan error, 1)
	go func() { _, err := second(context.Background()); secondRes <- err }()

	require.ErrorIs(t, <-firstErr, context.DeadlineExceeded)
	time.Sleep(100 * time.Millisecond)
	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, <-secondRes, "the append behind the leader is written once the lock is free")

	head, err := s.Head(context.Background())
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(1), head.Position, "only the patient append is in the log")
	for e, err := range s.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		require.Equal(t, "patient", e.Metadata.CommandID)
	}
}

// TestLeaderGivesUpAfterAnAppendWasAbandoned (found by a review): while
// the leader waits for another connection's lock, the caller of an
// append in its batch stops waiting (the outcome is unknown to it), then
// the leader gives up too. The batch is queued again without the
// abandoned append, whose caller would never take up the lead: the store
// goes on writing once the lock is free, and the abandoned append's
// Ticket, called again, says it was not written.
func TestLeaderGivesUpAfterAnAppendWasAbandoned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	conn := holdWriteLock(t, path)
	taken := make(chan struct{})
	s.testHookWriting = func() { close(taken) }
	ev := func(cmd string) eventstore.NewEvent {
		return eventstore.NewEvent{Stream: "s/1", Type: "t", Metadata: eventstore.Metadata{CommandID: cmd}}
	}
	leadCtx, cancelLead := context.WithCancel(context.Background())
	lead := s.Enqueue(context.Background(), eventstore.AnyCondition, ev("c1"))
	other := s.Enqueue(context.Background(), eventstore.AnyCondition, ev("c2"))
	leadErr := make(chan error, 1)
	go func() { _, err := lead(leadCtx); leadErr <- err }()
	<-taken
	s.testHookWriting = nil
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = other(short)
	cancel()
	require.ErrorIs(t, err, eventstore.ErrOutcomeUnknown)
	cancelLead()
	require.ErrorIs(t, <-leadErr, context.Canceled)
	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Called again, its Ticket says what became of it: the error of the
	// wait that abandoned it, not a success with no events.
	again, err := other(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the Ticket called again (%d events)", len(again.Events))
	_, err2 := other(ctx)
	require.Equal(t, err, err2)
	res, err := s.Append(ctx, eventstore.AnyCondition, ev("c2"))
	require.NoError(t, err, "the abandoned append is repeated once the lock is free")
	require.False(t, res.Duplicate, "nothing of it had been written")
	_, err = s.Append(ctx, eventstore.AnyCondition, ev("c3"))
	require.NoError(t, err)
	head, err := s.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(2), head.Position)
}
