package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

// testConcurrentAppends: many goroutines append at once, some with
// conditions. Nothing is lost or duplicated, positions stay gap-free, each
// append's events are contiguous, the chain verifies, and an append to a
// stream only its goroutine writes never conflicts.
func testConcurrentAppends(t *testing.T, h Harness) {
	const goroutines, appends = 16, 50
	f := open(t, h)
	prefix := newCmd("conc")

	type outcome struct {
		results   []eventstore.AppendResult
		ownEvents int
		errs      []string
	}
	out := make([]outcome, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			o := &out[g]
			fail := func(format string, args ...any) { o.errs = append(o.errs, fmt.Sprintf(format, args...)) }
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			own := eventstore.StreamID(fmt.Sprintf("conc/own-%d", g))
			var ownVersion eventstore.Version
			known := map[eventstore.StreamID]eventstore.Version{}
			<-start
			for i := range appends {
				cmd := fmt.Sprintf("%s-%d-%d", prefix, g, i)
				n := 1 + rng.IntN(3)
				shared := eventstore.StreamID(fmt.Sprintf("conc/shared-%d", rng.IntN(3)))
				make_ := func(stream eventstore.StreamID) []eventstore.NewEvent {
					in := make([]eventstore.NewEvent, n)
					for j := range in {
						in[j] = ev(string(stream), "storetest.concurrent", cmd, fmt.Sprintf(`{"g":%d,"i":%d,"j":%d}`, g, i, j))
					}
					return in
				}
				var (
					r   eventstore.AppendResult
					err error
				)
				switch i % 4 {
				case 0: // a stream of its own at its exact version: never conflicts
					r, err = f.s.Append(f.ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{own: ownVersion}}, make_(own)...)
					if err != nil {
						fail("append %d to its own stream at version %d: %v", i, ownVersion, err)
						continue
					}
					ownVersion += eventstore.Version(n)
					o.ownEvents += n
				case 1: // shared streams, no condition
					r, err = f.s.Append(f.ctx, eventstore.AnyCondition, make_(shared)...)
				case 2: // the head it read; retry on conflict
					for range 100 {
						var head eventstore.Head
						if head, err = f.s.Head(f.ctx); err != nil {
							break
						}
						r, err = f.s.Append(f.ctx, eventstore.AtHead(head.Position), make_(shared)...)
						if !errors.Is(err, eventstore.ErrConflict) {
							break
						}
					}
				case 3: // the version of a shared stream it last saw; retry on conflict
					for range 100 {
						r, err = f.s.Append(f.ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{shared: known[shared]}}, make_(shared)...)
						var ce *eventstore.ConflictError
						if !errors.As(err, &ce) {
							break
						}
						if ce.Stream != shared || ce.Expected != known[shared] || ce.Actual <= ce.Expected {
							fail("append %d: conflict %+v does not describe stream %s at %d", i, *ce, shared, known[shared])
							break
						}
						known[shared] = ce.Actual
					}
					if err == nil {
						known[shared] = r.Events[len(r.Events)-1].Version
					}
				}
				switch {
				case errors.Is(err, eventstore.ErrConflict):
					// Still conflicting after many tries: allowed, nothing written.
				case err != nil:
					fail("append %d: %v", i, err)
				case r.Duplicate || len(r.Events) != n:
					fail("append %d: duplicate=%v, %d events for %d", i, r.Duplicate, len(r.Events), n)
				default:
					o.results = append(o.results, r)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	var results []eventstore.AppendResult
	for g, o := range out {
		require.Empty(t, o.errs, "goroutine %d", g)
		results = append(results, o.results...)
	}

	all := f.readAll(0)
	require.Equal(t, oneTo(len(all)), positions(all), "positions must be 1..N without gaps")
	f.verify()

	written := 0
	seenCmd := map[string]bool{}
	for _, r := range results {
		first := r.Events[0].Position
		for j, e := range r.Events {
			require.Equal(t, first+eventstore.Position(j), e.Position, "the events of one append must be contiguous")
		}
		require.LessOrEqual(t, int(r.Events[len(r.Events)-1].Position), len(all))
		requireSameEvents(t, r.Events, all[first-1:int(first-1)+len(r.Events)], "the log holds what Append returned")
		cmd := r.Events[0].Metadata.CommandID
		require.False(t, seenCmd[cmd], "command %s written twice", cmd)
		seenCmd[cmd] = true
		written += len(r.Events)
	}
	require.Equal(t, written, len(all), "the log holds exactly the successful appends: nothing lost, nothing extra")
	ids := map[string]bool{}
	for _, e := range all {
		require.False(t, ids[e.ID.String()], "event id %s appears twice", e.ID)
		ids[e.ID.String()] = true
	}
	for g, o := range out {
		own := f.readStream(eventstore.StreamID(fmt.Sprintf("conc/own-%d", g)), 0)
		require.Len(t, own, o.ownEvents, "stream of goroutine %d", g)
	}
}

// testConcurrentDuplicates: the same command appended by several
// goroutines at once is written once; every caller gets the same events and
// all but one are told it was a duplicate.
func testConcurrentDuplicates(t *testing.T, h Harness) {
	const rounds, goroutines = 5, 8
	f := open(t, h)
	for round := range rounds {
		cmd := newCmd("race")
		results := make([]eventstore.AppendResult, goroutines)
		errs := make([]error, goroutines)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				<-start
				results[g], errs[g] = f.s.Append(f.ctx, eventstore.AnyCondition,
					ev("race/a", "storetest.race", cmd, `{"x":1}`), ev("race/b", "storetest.race", cmd, `{"x":2}`))
			})
		}
		close(start)
		wg.Wait()
		fresh := 0
		for g := range goroutines {
			require.NoError(t, errs[g], "round %d goroutine %d", round, g)
			if !results[g].Duplicate {
				fresh++
			}
			requireSameEvents(t, results[0].Events, results[g].Events, "round %d: every caller sees the one append", round)
		}
		require.Equal(t, 1, fresh, "round %d: exactly one append is not a duplicate", round)
		require.Len(t, f.readAll(0), 2*(round+1))
	}
	f.verify()
}

// testReadersDuringWrites: readers running while writers append never see
// a gap, a broken link or an unsorted stream, and a reader that has seen
// head N reads at least N events.
func testReadersDuringWrites(t *testing.T, h Harness) {
	const writers, appends, readers = 4, 60, 4
	f := open(t, h)
	var done atomic.Bool
	var wwg, rwg sync.WaitGroup
	werrs := make([]error, writers)
	rerrs := make([][]string, readers)
	reads := make([]int, readers)

	var ready sync.WaitGroup // writers start once every reader has read once
	ready.Add(readers)
	for w := range writers {
		wwg.Go(func() {
			ready.Wait()
			for i := range appends {
				cmd := newCmd("rw")
				in := []eventstore.NewEvent{ev(fmt.Sprintf("rw/%d", w), "storetest.rw", cmd, `{}`)}
				for range i % 3 {
					in = append(in, ev("rw/shared", "storetest.rw", cmd, `{}`))
				}
				if _, err := f.s.Append(f.ctx, eventstore.AnyCondition, in...); err != nil {
					werrs[w] = err
					return
				}
			}
		})
	}
	for r := range readers {
		rwg.Go(func() {
			defer func() {
				if reads[r] < 2 {
					ready.Done() // failed before its first read ended; let the writers go
				}
			}()
			fail := func(format string, args ...any) { rerrs[r] = append(rerrs[r], fmt.Sprintf(format, args...)) }
			var cursor eventstore.Head // an incremental reader, like a projector
			var version eventstore.Version
			for last := false; !last && len(rerrs[r]) == 0; {
				last = done.Load()
				if reads[r]++; reads[r] == 2 {
					ready.Done()
				}
				head, err := f.s.Head(f.ctx)
				if err != nil {
					fail("Head: %v", err)
					return
				}
				// Now and then a reader from the start, which must get at
				// least as far as the head it saw.
				if reads[r]%8 == 1 || last {
					var prev eventstore.Head
					for e, err := range f.s.ReadAll(f.ctx, 0) {
						if err != nil {
							fail("ReadAll: %v", err)
							return
						}
						if e.Position != prev.Position+1 || e.PrevHash != prev.Hash {
							fail("ReadAll: position %d (prev hash %s) follows %s", e.Position, e.PrevHash, prev)
							return
						}
						prev = eventstore.Head{Position: e.Position, Hash: e.Hash}
					}
					if prev.Position < head.Position {
						fail("Head was %d before reading, but ReadAll stopped at %d", head.Position, prev.Position)
					}
				}
				for e, err := range f.s.ReadAll(f.ctx, cursor.Position) {
					if err != nil || e.Position != cursor.Position+1 || e.PrevHash != cursor.Hash {
						fail("ReadAll after %s: position %d, prev hash %s, err %v", cursor, e.Position, e.PrevHash, err)
						return
					}
					cursor = eventstore.Head{Position: e.Position, Hash: e.Hash}
				}
				if cursor.Position < head.Position {
					fail("Head was %d before reading, but ReadAll from the cursor stopped at %d", head.Position, cursor.Position)
				}
				for e, err := range f.s.ReadStream(f.ctx, "rw/shared", version) {
					if err != nil || e.Version != version+1 {
						fail("ReadStream: version %d after %d, err %v", e.Version, version, err)
						return
					}
					version = e.Version
				}
			}
		})
	}
	wwg.Wait()
	done.Store(true)
	rwg.Wait()
	for w, err := range werrs {
		require.NoError(t, err, "writer %d", w)
	}
	for r := range readers {
		require.Empty(t, rerrs[r], "reader %d", r)
	}
	t.Logf("reads while writing: %v", reads)
	n := len(f.readAll(0))
	require.Equal(t, writers*appends*2, n) // each writer: 60 appends of 1, 2, 3 events
	f.verify()
}

// testEarlyBreak: a loop that breaks out of ReadAll or ReadStream stops the
// iterator at once (a call after that would panic), leaks nothing, and
// leaves the store usable.
func testEarlyBreak(t *testing.T, h Harness) {
	f := open(t, h)
	for range 3 {
		cmd := newCmd("brk")
		in := events("brk/a", cmd, 10)
		in = append(in, events("brk/b", cmd, 5)...)
		f.append(eventstore.AnyCondition, in...)
	}
	// A cancellable context: database/sql, for one, starts a goroutine per
	// open result set on such a context, so a result set left open shows.
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	runtime.GC()
	before := runtime.NumGoroutine()

	for i := range 100 {
		stop := 1 + i%5
		n := 0
		for _, err := range f.s.ReadAll(ctx, eventstore.Position(i%7)) {
			require.NoError(t, err)
			if n++; n == stop {
				break
			}
		}
		require.Equal(t, stop, n)
		n = 0
		for _, err := range f.s.ReadStream(ctx, "brk/a", eventstore.Version(i%3)) {
			require.NoError(t, err)
			if n++; n == stop {
				break
			}
		}
		require.Equal(t, stop, n)
	}

	var err error
	within(t, 10*time.Second, "Append after abandoned reads", func() {
		_, err = f.s.Append(f.ctx, eventstore.AnyCondition, events("brk/a", newCmd("brk"), 1)...)
	})
	require.NoError(t, err)
	require.Len(t, f.readAll(0), 46)
	f.verify()

	leaked := func() int { return runtime.NumGoroutine() - before }
	require.Eventually(t, func() bool { return leaked() <= 5 }, 5*time.Second, 10*time.Millisecond,
		"goroutines leaked by abandoned iterators: %d", leaked())
}

// testConstantMemory: reading a large log holds only a bounded number of
// events at a time: the live heap does not grow with what has been read.
func testConstantMemory(t *testing.T, h Harness) {
	if testing.Short() {
		t.Skip("appends 20,000 events; skipped with -short")
	}
	if raceEnabled {
		t.Skip("heap measurements are unreliable under the race detector")
	}
	const total, batch = 20000, 500
	f := open(t, h)
	pad := strings.Repeat("x", 400)
	for b := range total / batch {
		cmd := newCmd("mem")
		in := make([]eventstore.NewEvent, batch)
		for i := range in {
			k := b*batch + i
			in[i] = ev(fmt.Sprintf("mem/%d", k%50), "storetest.memory", cmd, fmt.Sprintf(`{"k":%d,"pad":%q}`, k, pad))
		}
		f.append(eventstore.AnyCondition, in...)
	}

	// Measure the live heap before reading and then every 1,000 events.
	// Holding the 20,000 events, read or still to be read, would take about
	// 15 MB (an event here is about 750 bytes); a reader with a bounded
	// buffer stays within a few pages of events.
	const limit = 4 << 20
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	var peak uint64
	n := 0
	for _, err := range f.s.ReadAll(f.ctx, 0) {
		if err != nil {
			require.NoError(t, err)
		}
		if n++; n%1000 == 0 {
			peak = max(peak, heap())
		}
	}
	require.Equal(t, total, n)
	growth := int64(peak) - int64(base)
	t.Logf("live heap before reading: %d bytes; largest growth while reading: %d bytes", base, growth)
	require.Less(t, growth, int64(limit), "the live heap grew while reading: ReadAll must hold neither the events it has yielded nor those to come")
}
