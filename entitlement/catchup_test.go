package entitlement

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var errRead = errors.New("the disk is unplugged")

// flakyStore fails a read after failAfter events, unless failAfter is
// negative, and counts the reads under way. With cancel set, it cancels
// the read's context there instead, and reports that as a store would;
// with panics, it panics.
type flakyStore struct {
	eventstore.Store
	failAfter int
	cancel    context.CancelFunc
	panics    bool
	reading   atomic.Int32
	// edited, if not zero, is a position whose payload reads changed, as
	// if its row had been edited behind the store.
	edited eventstore.Position
}

func (s *flakyStore) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	n := s.failAfter
	return func(yield func(eventstore.Event, error) bool) {
		s.reading.Add(1)
		defer s.reading.Add(-1)
		i := 0
		for e, err := range s.Store.ReadAll(ctx, after) {
			if n >= 0 && i == n {
				if s.panics {
					panic("store bug")
				}
				if s.cancel != nil {
					s.cancel()
					yield(eventstore.Event{}, ctx.Err())
					return
				}
				yield(eventstore.Event{}, errRead)
				return
			}
			if err == nil && e.Position == s.edited {
				e.Payload = append(bytes.Clone(e.Payload[:len(e.Payload)-1]), `,"edited":true}`...)
			}
			if !yield(e, err) || err != nil {
				return
			}
			i++
		}
	}
}

// laggingManager returns a world, and a manager on it through a flakyStore
// that does not fail yet, with the head it published before the world
// added more than a decodeBatch of users.
func laggingManager(t *testing.T) (*world, *flakyStore, *Manager, eventstore.Position) {
	w := newWorld(t)
	fs := &flakyStore{Store: w.store, failAfter: -1}
	m, err := NewManager(w.ctx, fs, Options{Clock: w.clock})
	require.NoError(t, err)
	before := m.Head()
	for i := range decodeBatch + 3 {
		w.user(fmt.Sprint("u", i))
	}
	return w, fs, m, before
}

// TestCatchUpAfterAFailedRead holds a manager whose catch-up failed part
// way (a read error after some events) to the log: the next catch-up
// brings it to the state of a fresh replay, without skipping the events
// read before the failure.
func TestCatchUpAfterAFailedRead(t *testing.T) {
	for _, failAfter := range []int{0, 1, 2, decodeBatch, decodeBatch + 1} {
		t.Run(fmt.Sprint(failAfter), func(t *testing.T) {
			w, fs, m, before := laggingManager(t)
			fs.failAfter = failAfter
			require.ErrorIs(t, m.CatchUp(w.ctx), errRead)
			require.Equal(t, before, m.Head(), "a failed catch-up publishes nothing")
			fs.failAfter = -1
			require.NoError(t, m.CatchUp(w.ctx))
			require.Equal(t, w.head().Position, m.Head())
			requireSameState(t, w.replayed(), m.State())
		})
	}
}

// TestDecodedLogStopsItsReader holds decodedLog to its promise that its
// reading goroutine has ended when the iteration returns, whether the
// caller stops early or reads to the end, and that it yields the log in
// order.
func TestDecodedLogStopsItsReader(t *testing.T) {
	w := newWorld(t)
	for i := range 2*decodeBatch + 10 {
		w.user(fmt.Sprint("u", i))
	}
	fs := &flakyStore{Store: w.store, failAfter: -1}
	m := &Manager{store: fs}
	for _, stopAt := range []int{0, 1, decodeBatch, 2*decodeBatch + 5, -1} {
		var last eventstore.Position
		n := 0
		for e, err := range m.decodedLog(w.ctx, eventstore.Head{}) {
			require.NoError(t, err)
			require.Equal(t, last+1, e.position)
			last = e.position
			if n == stopAt {
				break
			}
			n++
		}
		require.Zero(t, fs.reading.Load(), "stopped at %d: the log is still being read", stopAt)
		if stopAt < 0 {
			require.Equal(t, w.head().Position, last)
		}
	}
}

// TestReplayFollowsTheChain: an event changed behind the store (its
// payload no longer what its hash covers) stops a start or a catch-up
// with a *eventstore.ChainError at its position, and nothing from it on
// is applied or published.
func TestReplayFollowsTheChain(t *testing.T) {
	w, fs, m, before := laggingManager(t)
	fs.edited = before + 5
	err := m.CatchUp(w.ctx)
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, before+5, ce.Position)
	require.Equal(t, before, m.Head(), "nothing of the catch-up is published")
	_, err = NewManager(w.ctx, fs, Options{Clock: w.clock, NoSnapshot: true})
	require.ErrorIs(t, err, eventstore.ErrChain)
	fs.edited = 0
	require.NoError(t, m.CatchUp(w.ctx))
	requireSameState(t, w.replayed(), m.State())
}

// TestCatchUpCanceled holds a catch-up whose context is canceled part way
// to an error: never a success that applied only part of the log.
func TestCatchUpCanceled(t *testing.T) {
	w := newWorld(t)
	for i := range decodeBatch + 3 {
		w.user(fmt.Sprint("u", i))
	}
	for _, at := range []int{0, 1, decodeBatch - 1, decodeBatch, decodeBatch + 1} {
		for range 4 { // the goroutine's hand-over is a select: try it more than once
			ctx, cancel := context.WithCancel(w.ctx)
			fs := &flakyStore{Store: w.store, failAfter: at, cancel: cancel}
			_, err := NewManager(ctx, fs, Options{Clock: w.clock, NoSnapshot: true})
			require.ErrorIs(t, err, context.Canceled, "canceled after %d events", at)
			require.Zero(t, fs.reading.Load())
		}
	}
}

// TestReadPanicReachesTheCaller: a panic while the log is read and
// decoded (a store's or an upcaster's bug), on decodedLog's goroutine, is
// raised on the caller's, which may recover it, after the events before
// it; the manager keeps the head of the state it published.
func TestReadPanicReachesTheCaller(t *testing.T) {
	w, fs, m, before := laggingManager(t)
	fs.failAfter, fs.panics = decodeBatch+1, true
	require.PanicsWithValue(t, "store bug", func() { m.CatchUp(w.ctx) })
	require.Zero(t, fs.reading.Load())
	require.Equal(t, before, m.Head())
	fs.failAfter = -1
	require.NoError(t, m.CatchUp(w.ctx))
	requireSameState(t, w.replayed(), m.State())
}

// TestCatchUpFailuresProperty: catch-ups of a lagging manager over random
// stretches of the log, each failing at a random event in a random way
// (a read error, a canceled context, a panic) or not at all. A failed
// catch-up publishes nothing and leaves no read under way; a catch-up that
// succeeds leaves the manager with the state of a fresh replay.
func TestCatchUpFailuresProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newWorld(t)
		fs := &flakyStore{Store: w.store, failAfter: -1}
		m, err := NewManager(w.ctx, fs, Options{Clock: w.clock})
		require.NoError(rt, err)
		users := 0
		for range rapid.IntRange(1, 6).Draw(rt, "catchUps") {
			for range rapid.IntRange(0, 2*decodeBatch+2).Draw(rt, "newUsers") {
				w.user(fmt.Sprint("u", users))
				users++
			}
			before := m.Head()
			ctx, cancel := context.WithCancel(w.ctx)
			fs.failAfter, fs.cancel, fs.panics = -1, nil, false
			switch mode := rapid.IntRange(0, 3).Draw(rt, "mode"); mode {
			case 1, 2, 3:
				fs.failAfter = rapid.IntRange(0, int(w.head().Position-before)).Draw(rt, "failAfter")
				fs.cancel = map[int]context.CancelFunc{2: cancel}[mode]
				fs.panics = mode == 3
			}
			var err error
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				err = m.CatchUp(ctx)
				return false
			}()
			cancel()
			require.Zero(rt, fs.reading.Load(), "a read is still under way")
			if fs.failAfter >= 0 && fs.failAfter < int(w.head().Position-before) {
				require.True(rt, panicked || err != nil, "a catch-up that failed after %d events reported success", fs.failAfter)
				require.Equal(rt, before, m.Head(), "a failed catch-up published events")
				continue
			}
			require.False(rt, panicked)
			require.NoError(rt, err)
			require.Equal(rt, w.head().Position, m.Head())
			requireSameState(rt, w.replayed(), m.State())
		}
	})
}
