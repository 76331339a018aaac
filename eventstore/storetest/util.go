package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

// fixture is one open store under test.
type fixture struct {
	t      *testing.T
	h      Harness
	s      eventstore.Store
	ctx    context.Context
	closed bool
}

// open opens an empty store with h.Open and closes it when the test ends.
func open(t *testing.T, h Harness) *fixture {
	t.Helper()
	s := h.Open(t)
	require.NotNil(t, s, "Harness.Open returned nil")
	f := &fixture{t: t, h: h, s: s, ctx: t.Context()}
	t.Cleanup(func() {
		if !f.closed {
			require.NoError(t, f.s.Close(), "Close")
		}
	})
	return f
}

// close closes the store now.
func (f *fixture) close() {
	f.t.Helper()
	f.closed = true
	require.NoError(f.t, f.s.Close(), "Close")
}

// reopen restarts the store with h.Reopen.
func (f *fixture) reopen() {
	f.t.Helper()
	f.s = f.h.Reopen(f.t, f.s)
	require.NotNil(f.t, f.s, "Harness.Reopen returned nil")
}

// append appends events, which must succeed and write them all.
func (f *fixture) append(cond eventstore.Condition, events ...eventstore.NewEvent) eventstore.AppendResult {
	f.t.Helper()
	r, err := f.s.Append(f.ctx, cond, events...)
	require.NoError(f.t, err, "Append")
	require.False(f.t, r.Duplicate, "a new command id was reported as a duplicate")
	require.Len(f.t, r.Events, len(events), "Append returned a different number of events than given")
	return r
}

func (f *fixture) head() eventstore.Head {
	f.t.Helper()
	h, err := f.s.Head(f.ctx)
	require.NoError(f.t, err, "Head")
	return h
}

func (f *fixture) readAll(after eventstore.Position) []eventstore.Event {
	f.t.Helper()
	return collect(f.t, f.s.ReadAll(f.ctx, after))
}

func (f *fixture) readStream(stream eventstore.StreamID, after eventstore.Version) []eventstore.Event {
	f.t.Helper()
	return collect(f.t, f.s.ReadStream(f.ctx, stream, after))
}

// verify checks the whole chain and that it ends at the store's Head.
func (f *fixture) verify() eventstore.Head {
	f.t.Helper()
	got, err := eventstore.Verify(f.ctx, f.s.ReadAll(f.ctx, 0))
	require.NoError(f.t, err, "Verify over ReadAll")
	require.Equal(f.t, f.head(), got, "Verify ended at a different head than Head reports")
	return got
}

// snapshot is the whole visible state of a store, to check that a failed
// append wrote nothing.
type snapshot struct {
	head   eventstore.Head
	events []string
}

func (f *fixture) snapshot() snapshot {
	f.t.Helper()
	return snapshot{head: f.head(), events: lines(f.readAll(0))}
}

func (f *fixture) requireUnchanged(before snapshot, what string) {
	f.t.Helper()
	after := f.snapshot()
	require.Equal(f.t, before.head, after.head, "%s moved the head", what)
	require.Equal(f.t, before.events, after.events, "%s changed the log", what)
}

// collect reads a whole sequence, failing t on the first error.
func collect(t require.TestingT, seq iter.Seq2[eventstore.Event, error]) []eventstore.Event {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	var out []eventstore.Event
	for e, err := range seq {
		require.NoError(t, err, "reading events")
		out = append(out, e)
	}
	return out
}

// slice turns events into a sequence, as a store's ReadAll would yield them.
func slice(events []eventstore.Event) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// lines renders events in their JSON form, which holds every field, so
// that comparing two lists gives a readable diff.
func lines(events []eventstore.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		b, _ := e.MarshalJSON() // never fails; not json.Marshal, which would reject a bad payload
		out[i] = string(b)
	}
	return out
}

func requireSameEvents(t require.TestingT, want, got []eventstore.Event, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.Equal(t, lines(want), lines(got), msgAndArgs...)
}

// inStream returns the events of one stream, in order.
func inStream(events []eventstore.Event, stream eventstore.StreamID) []eventstore.Event {
	var out []eventstore.Event
	for _, e := range events {
		if e.Stream == stream {
			out = append(out, e)
		}
	}
	return out
}

var cmdSeq atomic.Uint64

// newCmd returns a command id not used before in this process.
func newCmd(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), cmdSeq.Add(1))
}

// ev is a valid event to append.
func ev(stream, typ, cmd, payload string) eventstore.NewEvent {
	return eventstore.NewEvent{
		Stream: eventstore.StreamID(stream),
		Type:   typ,
		Metadata: eventstore.Metadata{
			ActorID:   "user/ada",
			ActorKind: "user",
			CommandID: cmd,
		},
		Payload: json.RawMessage(payload),
	}
}

// events makes n valid events of one command on stream.
func events(stream, cmd string, n int) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = ev(stream, "storetest.happened", cmd, fmt.Sprintf(`{"i":%d}`, i))
	}
	return out
}

// seed appends n one-event commands round-robin over streams and returns
// the events written.
func (f *fixture) seed(n int, streams ...string) []eventstore.Event {
	f.t.Helper()
	var out []eventstore.Event
	for i := range n {
		r := f.append(eventstore.AnyCondition, ev(streams[i%len(streams)], "storetest.seeded", newCmd("seed"), fmt.Sprintf(`{"seed":%d}`, i)))
		out = append(out, r.Events...)
	}
	return out
}

// requireConflict checks that err is a *ConflictError matching ErrConflict
// and returns it.
func requireConflict(t require.TestingT, err error) *eventstore.ConflictError {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.ErrorIs(t, err, eventstore.ErrConflict)
	require.NotErrorIs(t, err, eventstore.ErrInvalid)
	var ce *eventstore.ConflictError
	require.ErrorAs(t, err, &ce)
	return ce
}

func streamConflict(stream string, expected, actual eventstore.Version) *eventstore.ConflictError {
	return &eventstore.ConflictError{Stream: eventstore.StreamID(stream), Expected: expected, Actual: actual}
}

func headConflict(expected, actual eventstore.Position) *eventstore.ConflictError {
	return &eventstore.ConflictError{ExpectedHead: expected, ActualHead: actual}
}

// within runs fn and fails the test if it does not return in time, so that a
// store that deadlocks fails instead of hanging the test binary.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

func positions(events []eventstore.Event) []eventstore.Position {
	out := make([]eventstore.Position, len(events))
	for i, e := range events {
		out[i] = e.Position
	}
	return out
}

func oneTo(n int) []eventstore.Position {
	out := make([]eventstore.Position, n)
	for i := range out {
		out[i] = eventstore.Position(i + 1)
	}
	return out
}
