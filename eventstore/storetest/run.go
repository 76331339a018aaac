package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Run runs the conformance suite against the backend h opens, as subtests
// of t. Only h.Open is required; the subtests that need a missing Harness
// field are skipped.
//
// When the test binary was started by Run's own crash test (see the
// package documentation), Run instead becomes the appending child process.
func Run(t *testing.T, h Harness) {
	t.Helper()
	require.NotNil(t, h.Open, "storetest: Harness.Open is required")
	if crashChildRequested(t, h) {
		crashChild(t, h)
		return
	}
	top := t.Name()

	t.Run("Empty", func(t *testing.T) { testEmpty(t, h) })
	t.Run("Ordering", func(t *testing.T) { testOrdering(t, h) })
	t.Run("GapFree", func(t *testing.T) { testGapFree(t, h) })
	t.Run("AtomicMultiStream", func(t *testing.T) { testAtomicMultiStream(t, h) })
	t.Run("Conditions", func(t *testing.T) { testConditions(t, h) })
	t.Run("EmptyAppend", func(t *testing.T) { testEmptyAppend(t, h) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, h) })
	t.Run("Bounds", func(t *testing.T) { testBounds(t, h) })
	t.Run("Normalised", func(t *testing.T) { testNormalised(t, h) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, h) })
	t.Run("CommandReuse", func(t *testing.T) { testCommandReuse(t, h) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, h) })
	t.Run("Verify", func(t *testing.T) { testVerify(t, h) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, h) })
	t.Run("ConcurrentAppends", func(t *testing.T) { testConcurrentAppends(t, h) })
	t.Run("ConcurrentDuplicates", func(t *testing.T) { testConcurrentDuplicates(t, h) })
	t.Run("ReadersDuringWrites", func(t *testing.T) { testReadersDuringWrites(t, h) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, h) })
	t.Run("Context", func(t *testing.T) { testContext(t, h) })
	t.Run("EarlyBreak", func(t *testing.T) { testEarlyBreak(t, h) })
	t.Run("Enqueue", func(t *testing.T) { testEnqueue(t, h) })
	t.Run("ConstantMemoryReadAll", func(t *testing.T) { testConstantMemory(t, h) })
	t.Run("Model", func(t *testing.T) { RunModel(t, h) })
	t.Run("CrashSafety", func(t *testing.T) { testCrash(t, h, top) })
}

// testEmpty: a new store has no events and the zero head.
func testEmpty(t *testing.T, h Harness) {
	f := open(t, h)
	assert.Equal(t, eventstore.Head{}, f.head())
	assert.Empty(t, f.readAll(0))
	assert.Empty(t, f.readAll(7))
	assert.Empty(t, f.readStream("empty/none", 0))
	assert.Equal(t, eventstore.Head{}, f.verify())
}

// testOrdering: positions run 1..N in commit order, stream versions 1..n,
// and ReadAll and ReadStream resume after any position or version.
func testOrdering(t *testing.T, h Harness) {
	f := open(t, h)
	streams := []string{"order/a", "order/b", "order/c"}
	rng := rand.New(rand.NewPCG(1, 2))
	var all []eventstore.Event
	versions := map[eventstore.StreamID]eventstore.Version{}
	for i := range 15 {
		cmd := newCmd("order")
		in := make([]eventstore.NewEvent, 1+rng.IntN(3))
		for j := range in {
			in[j] = ev(streams[rng.IntN(len(streams))], "storetest.ordered", cmd, fmt.Sprintf(`{"append":%d,"event":%d}`, i, j))
		}
		r := f.append(eventstore.AnyCondition, in...)
		for j, e := range r.Events {
			versions[e.Stream]++
			require.Equal(t, eventstore.Position(len(all)+1), e.Position, "append %d event %d: position", i, j)
			require.Equal(t, in[j].Stream, e.Stream, "append %d event %d: events must keep their order", i, j)
			require.Equal(t, versions[e.Stream], e.Version, "append %d event %d: version in %s", i, j, e.Stream)
			require.Equal(t, in[j].Type, e.Type)
			require.JSONEq(t, string(in[j].Payload), string(e.Payload))
			require.Equal(t, cmd, e.Metadata.CommandID)
			all = append(all, e)
		}
		require.Equal(t, eventstore.Head{Position: all[len(all)-1].Position, Hash: all[len(all)-1].Hash}, r.Head())
		require.Equal(t, r.Head(), f.head(), "Head after append %d", i)
	}

	requireSameEvents(t, all, f.readAll(0), "ReadAll(0) must return exactly what was appended, in order")
	for after := 0; after <= len(all)+2; after++ {
		requireSameEvents(t, all[min(after, len(all)):], f.readAll(eventstore.Position(after)), "ReadAll after %d", after)
	}
	assert.Empty(t, f.readAll(1<<40), "ReadAll far after the head")

	for _, s := range streams {
		want := inStream(all, eventstore.StreamID(s))
		require.NotEmpty(t, want)
		for i, e := range want {
			require.Equal(t, eventstore.Version(i+1), e.Version, "versions of %s", s)
		}
		for after := 0; after <= len(want)+1; after++ {
			requireSameEvents(t, want[min(after, len(want)):], f.readStream(eventstore.StreamID(s), eventstore.Version(after)),
				"ReadStream(%s) after %d", s, after)
		}
	}
	assert.Empty(t, f.readStream("order/none", 0), "a stream that was never written")
	assert.Empty(t, f.readStream("order/a/", 0), "a stream whose name starts like another")
}

// testGapFree: appends that fail (conflict, invalid, duplicate) use up no
// position, so positions stay 1, 2, 3… with no gap.
func testGapFree(t *testing.T, h Harness) {
	f := open(t, h)
	first := f.append(eventstore.AnyCondition, events("gap/a", newCmd("gap"), 1)...)

	_, err := f.s.Append(f.ctx, eventstore.AtHead(9), events("gap/a", newCmd("gap"), 2)...)
	requireConflict(t, err)
	_, err = f.s.Append(f.ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{"gap/a": 5}}, events("gap/a", newCmd("gap"), 2)...)
	requireConflict(t, err)
	bad := events("gap/b", newCmd("gap"), 2)
	bad[1].Type = ""
	_, err = f.s.Append(f.ctx, eventstore.AnyCondition, bad...)
	require.ErrorIs(t, err, eventstore.ErrInvalid)
	dup, err := f.s.Append(f.ctx, eventstore.AnyCondition, events("gap/a", first.Events[0].Metadata.CommandID, 3)...)
	require.NoError(t, err)
	require.True(t, dup.Duplicate)

	r := f.append(eventstore.AnyCondition, events("gap/b", newCmd("gap"), 2)...)
	require.Equal(t, []eventstore.Position{2, 3}, positions(r.Events), "failed appends must not use up positions")
	require.Equal(t, first.Events[0].Hash, r.Events[0].PrevHash, "the chain continues from the last written event")
	require.Equal(t, oneTo(3), positions(f.readAll(0)))
	f.verify()
}

// testAtomicMultiStream: one append may span several streams; it is written
// whole, in order, with each stream's versions continuing, or not at all.
func testAtomicMultiStream(t *testing.T, h Harness) {
	f := open(t, h)
	pre := f.seed(1, "multi/c")

	cmd := newCmd("multi")
	in := []eventstore.NewEvent{
		ev("multi/a", "storetest.multi", cmd, `{"n":1}`),
		ev("multi/b", "storetest.multi", cmd, `{"n":2}`),
		ev("multi/a", "storetest.multi", cmd, `{"n":3}`),
		ev("multi/c", "storetest.multi", cmd, `{"n":4}`),
	}
	r := f.append(eventstore.AnyCondition, in...)
	require.Equal(t, []eventstore.Position{2, 3, 4, 5}, positions(r.Events))
	var got []string
	for _, e := range r.Events {
		got = append(got, fmt.Sprintf("%s@%d", e.Stream, e.Version))
		require.Equal(t, cmd, e.Metadata.CommandID)
	}
	require.Equal(t, []string{"multi/a@1", "multi/b@1", "multi/a@2", "multi/c@2"}, got)
	requireSameEvents(t, []eventstore.Event{r.Events[0], r.Events[2]}, f.readStream("multi/a", 0))
	requireSameEvents(t, []eventstore.Event{r.Events[1]}, f.readStream("multi/b", 0))
	requireSameEvents(t, []eventstore.Event{pre[0], r.Events[3]}, f.readStream("multi/c", 0))
	requireSameEvents(t, append(pre, r.Events...), f.readAll(0))

	type vmap = map[eventstore.StreamID]eventstore.Version
	four := func() []eventstore.NewEvent {
		cmd := newCmd("multi")
		return []eventstore.NewEvent{
			ev("multi/a", "storetest.multi", cmd, `{}`), ev("multi/b", "storetest.multi", cmd, `{}`),
			ev("multi/c", "storetest.multi", cmd, `{}`), ev("multi/d", "storetest.multi", cmd, `{}`),
		}
	}
	for _, tc := range []struct {
		name string
		cond vmap
		want *eventstore.ConflictError
	}{
		{"last stream stale", vmap{"multi/c": 1}, streamConflict("multi/c", 1, 2)},
		{"new stream expected to exist", vmap{"multi/d": 1}, streamConflict("multi/d", 1, 0)},
		{"stream not appended to", vmap{"multi/z": 3}, streamConflict("multi/z", 3, 0)},
		{"one right one wrong", vmap{"multi/a": 2, "multi/b": 0}, streamConflict("multi/b", 0, 1)},
	} {
		before := f.snapshot()
		_, err := f.s.Append(f.ctx, eventstore.Condition{Streams: tc.cond}, four()...)
		require.Equal(t, tc.want, requireConflict(t, err), tc.name)
		f.requireUnchanged(before, "a failed multi-stream append ("+tc.name+")")
		require.Empty(t, f.readStream("multi/d", 0), tc.name)
	}

	r = f.append(eventstore.Condition{Streams: vmap{"multi/a": 2, "multi/b": 1, "multi/c": 2, "multi/d": 0}}, four()...)
	require.Equal(t, []eventstore.Position{6, 7, 8, 9}, positions(r.Events))
	f.verify()
}

// testConditions: stream versions, "must not exist", unlisted streams and
// the expected global head; a failed condition returns a *ConflictError
// that says what failed and writes nothing.
func testConditions(t *testing.T, h Harness) {
	type vmap = map[eventstore.StreamID]eventstore.Version
	streams := func(m vmap) eventstore.Condition { return eventstore.Condition{Streams: m} }

	t.Run("StreamVersion", func(t *testing.T) {
		f := open(t, h)
		f.append(eventstore.AnyCondition, events("cond/s", newCmd("cond"), 2)...)
		r := f.append(streams(vmap{"cond/s": 2}), events("cond/s", newCmd("cond"), 1)...)
		require.Equal(t, eventstore.Version(3), r.Events[0].Version)
		for _, tc := range []struct {
			expect eventstore.Version
		}{{2}, {1}, {0}, {4}, {7}} {
			before := f.snapshot()
			r, err := f.s.Append(f.ctx, streams(vmap{"cond/s": tc.expect}), events("cond/s", newCmd("cond"), 1)...)
			require.Equal(t, streamConflict("cond/s", tc.expect, 3), requireConflict(t, err))
			require.Empty(t, r.Events)
			f.requireUnchanged(before, "a conflicting append")
		}
	})

	t.Run("MustNotExist", func(t *testing.T) {
		f := open(t, h)
		r := f.append(streams(vmap{"cond/new": 0}), events("cond/new", newCmd("cond"), 2)...)
		require.Equal(t, eventstore.Version(1), r.Events[0].Version)
		before := f.snapshot()
		_, err := f.s.Append(f.ctx, streams(vmap{"cond/new": 0}), events("cond/new", newCmd("cond"), 1)...)
		require.Equal(t, streamConflict("cond/new", 0, 2), requireConflict(t, err))
		f.requireUnchanged(before, "creating a stream that exists")
	})

	t.Run("UnlistedStreamsAny", func(t *testing.T) {
		f := open(t, h)
		f.seed(4, "cond/s", "cond/u")
		cmd := newCmd("cond")
		r := f.append(streams(vmap{"cond/s": 2}), ev("cond/s", "t", cmd, `{}`), ev("cond/u", "t", cmd, `{}`), ev("cond/v", "t", cmd, `{}`))
		require.Equal(t, []eventstore.Version{3, 3, 1}, []eventstore.Version{r.Events[0].Version, r.Events[1].Version, r.Events[2].Version})
	})

	t.Run("Head", func(t *testing.T) {
		f := open(t, h)
		r := f.append(eventstore.AtHead(0), events("cond/h", newCmd("cond"), 1)...)
		require.Equal(t, eventstore.Position(1), r.Events[0].Position)
		r = f.append(eventstore.AtHead(1), events("cond/h", newCmd("cond"), 2)...)
		require.Equal(t, []eventstore.Position{2, 3}, positions(r.Events))
		for _, stale := range []eventstore.Position{0, 1, 2, 4, 100} {
			before := f.snapshot()
			r, err := f.s.Append(f.ctx, eventstore.AtHead(stale), events("cond/h", newCmd("cond"), 1)...)
			require.Equal(t, headConflict(stale, 3), requireConflict(t, err), "expected head %d", stale)
			require.Empty(t, r.Events)
			f.requireUnchanged(before, "an append at a stale head")
		}
	})

	t.Run("HeadAndStreams", func(t *testing.T) {
		f := open(t, h)
		f.seed(3, "cond/s")
		head := eventstore.Position(3)
		stale := eventstore.Position(2)
		before := f.snapshot()

		_, err := f.s.Append(f.ctx, eventstore.Condition{Streams: vmap{"cond/s": 3}, Head: &stale}, events("cond/s", newCmd("cond"), 1)...)
		require.Equal(t, headConflict(2, 3), requireConflict(t, err), "the streams hold but the head moved")
		_, err = f.s.Append(f.ctx, eventstore.Condition{Streams: vmap{"cond/s": 2}, Head: &head}, events("cond/s", newCmd("cond"), 1)...)
		require.Equal(t, streamConflict("cond/s", 2, 3), requireConflict(t, err), "the head holds but a stream moved")
		_, err = f.s.Append(f.ctx, eventstore.Condition{Streams: vmap{"cond/s": 2}, Head: &stale}, events("cond/s", newCmd("cond"), 1)...)
		ce := requireConflict(t, err)
		require.Contains(t, []*eventstore.ConflictError{headConflict(2, 3), streamConflict("cond/s", 2, 3)}, ce,
			"with both wrong, either failure may be reported, correctly")
		f.requireUnchanged(before, "conflicting appends")

		f.append(eventstore.Condition{Streams: vmap{"cond/s": 3, "cond/t": 0}, Head: &head}, events("cond/t", newCmd("cond"), 1)...)
	})

	t.Run("HeadEvent", func(t *testing.T) {
		f := open(t, h)
		first := f.append(eventstore.AtHeadEvent(0, ulid.Make()), events("cond/h", newCmd("cond"), 2)...).Events[1].ID
		r := f.append(eventstore.AtHeadEvent(2, first), events("cond/h", newCmd("cond"), 1)...)
		require.Equal(t, eventstore.Position(3), r.Events[0].Position)
		second := r.Events[0].ID
		before := f.snapshot()
		_, err := f.s.Append(f.ctx, eventstore.AtHeadEvent(3, first), events("cond/h", newCmd("cond"), 1)...)
		require.Equal(t, &eventstore.ConflictError{ExpectedHead: 3, ActualHead: 3, ExpectedEventID: first, ActualEventID: second},
			requireConflict(t, err), "the head is at the position, another event")
		_, err = f.s.Append(f.ctx, eventstore.AtHeadEvent(2, first), events("cond/h", newCmd("cond"), 1)...)
		require.Equal(t, headConflict(2, 3), requireConflict(t, err), "the head moved on")
		f.requireUnchanged(before, "appends whose head event does not hold")

		zero := eventstore.Position(0)
		for _, c := range []eventstore.Condition{{HeadEventID: first}, {Head: &zero, HeadEventID: first}} {
			_, err := f.s.Append(f.ctx, c, events("cond/h", newCmd("cond"), 1)...)
			require.ErrorIs(t, err, eventstore.ErrInvalid, "a head event without a head position")
		}
		f.requireUnchanged(before, "invalid conditions")
	})

	t.Run("FailedCommandCanRetry", func(t *testing.T) {
		f := open(t, h)
		f.seed(2, "cond/s")
		cmd := newCmd("cond")
		_, err := f.s.Append(f.ctx, eventstore.AtHead(1), events("cond/s", cmd, 2)...)
		requireConflict(t, err)
		r := f.append(eventstore.AtHead(2), events("cond/s", cmd, 2)...)
		require.Equal(t, []eventstore.Position{3, 4}, positions(r.Events), "a command id whose append failed is not used up")
	})
}

// testEmptyAppend: appending no events does nothing and returns an empty
// result, whatever the condition.
func testEmptyAppend(t *testing.T, h Harness) {
	f := open(t, h)
	f.seed(2, "empty/s")
	before := f.snapshot()
	for _, cond := range []eventstore.Condition{
		eventstore.AnyCondition,
		eventstore.AtHead(2),
		eventstore.AtHead(99),
		{Streams: map[eventstore.StreamID]eventstore.Version{"empty/s": 9, "empty/none": 3}},
	} {
		r, err := f.s.Append(f.ctx, cond)
		require.NoError(t, err, "empty append with %+v", cond)
		require.Empty(t, r.Events)
		require.False(t, r.Duplicate)
		require.Equal(t, eventstore.Head{}, r.Head())
		r, err = f.s.Append(f.ctx, cond, []eventstore.NewEvent{}...)
		require.NoError(t, err)
		require.Empty(t, r.Events)
	}
	f.requireUnchanged(before, "empty appends")
	r := f.append(eventstore.AtHead(2), events("empty/s", newCmd("empty"), 1)...)
	require.Equal(t, eventstore.Position(3), r.Events[0].Position)
}

// testBounds: a read after a position or version beyond MaxPosition is
// refused with ErrInvalid (not the whole log, not a panic), and the store
// still works and closes afterwards.
func testBounds(t *testing.T, h Harness) {
	f := open(t, h)
	f.seed(2, "bounds/s")
	for _, after := range []uint64{eventstore.MaxPosition + 1, math.MaxUint64} {
		var got []eventstore.Event
		var err error
		for e, rerr := range f.s.ReadAll(f.ctx, eventstore.Position(after)) {
			if rerr != nil {
				err = rerr
				break
			}
			got = append(got, e)
		}
		require.ErrorIs(t, err, eventstore.ErrInvalid, "ReadAll after %d", after)
		require.Empty(t, got)
		err = nil
		for _, rerr := range f.s.ReadStream(f.ctx, "bounds/s", eventstore.Version(after)) {
			if rerr != nil {
				err = rerr
				break
			}
		}
		require.ErrorIs(t, err, eventstore.ErrInvalid, "ReadStream after %d", after)
	}
	assert.Len(t, f.readAll(0), 2, "the store still reads")
	assert.Empty(t, f.readAll(eventstore.MaxPosition), "after the largest position: nothing")
}

// testInvalid: malformed appends fail with ErrInvalid and write nothing,
// not even their valid events; their command id stays unused.
func testInvalid(t *testing.T, h Harness) {
	f := open(t, h)
	f.seed(1, "invalid/s")
	before := f.snapshot()
	var cmds []string
	for _, tc := range []struct {
		name  string
		spoil func(e []eventstore.NewEvent)
	}{
		{"no command id", func(e []eventstore.NewEvent) {
			for i := range e {
				e[i].Metadata.CommandID = ""
			}
		}},
		{"second event without command id", func(e []eventstore.NewEvent) { e[1].Metadata.CommandID = "" }},
		{"mixed command ids", func(e []eventstore.NewEvent) { e[2].Metadata.CommandID = newCmd("other") }},
		{"no stream", func(e []eventstore.NewEvent) { e[1].Stream = "" }},
		{"no type", func(e []eventstore.NewEvent) { e[2].Type = "" }},
		{"truncated JSON payload", func(e []eventstore.NewEvent) { e[1].Payload = json.RawMessage(`{"a":`) }},
		{"not JSON payload", func(e []eventstore.NewEvent) { e[0].Payload = json.RawMessage(`hello`) }},
		{"two JSON values", func(e []eventstore.NewEvent) { e[1].Payload = json.RawMessage(`{} {}`) }},
		{"trailing garbage", func(e []eventstore.NewEvent) { e[1].Payload = json.RawMessage(`{"a":1}}`) }},
		{"duplicate member", func(e []eventstore.NewEvent) { e[2].Payload = json.RawMessage(`{"a":1,"a":2}`) }},
		{"number out of range", func(e []eventstore.NewEvent) { e[0].Payload = json.RawMessage(`{"a":1e400}`) }},
		{"negative schema version", func(e []eventstore.NewEvent) { e[1].SchemaVersion = -1 }},
		{"occurred after 2262", func(e []eventstore.NewEvent) { e[1].OccurredAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		// Invalid UTF-8 would be hashed as U+FFFD: refused in every hashed
		// string, so that the hash covers exactly the bytes stored.
		{"stream not UTF-8", func(e []eventstore.NewEvent) { e[1].Stream = "invalid/\xff" }},
		{"type not UTF-8", func(e []eventstore.NewEvent) { e[0].Type = "t\xc3" }},
		{"actor not UTF-8", func(e []eventstore.NewEvent) { e[2].Metadata.ActorID = "user/\xfe" }},
		{"correlation id not UTF-8", func(e []eventstore.NewEvent) { e[1].Metadata.CorrelationID = "\x80" }},
		{"payload string not UTF-8", func(e []eventstore.NewEvent) { e[0].Payload = json.RawMessage("{\"a\":\"\xff\"}") }},
	} {
		cmd := newCmd("invalid")
		in := events("invalid/s", cmd, 3)
		tc.spoil(in)
		r, err := f.s.Append(f.ctx, eventstore.AnyCondition, in...)
		require.ErrorIs(t, err, eventstore.ErrInvalid, tc.name)
		require.NotErrorIs(t, err, eventstore.ErrConflict, tc.name)
		require.Empty(t, r.Events, tc.name)
		f.requireUnchanged(before, "an invalid append ("+tc.name+")")
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		f.append(eventstore.AnyCondition, events("invalid/s", cmd, 1)...)
	}
	f.verify()
}

// testNormalised: stores keep events as Prepare normalises them: canonical
// JSON payloads, schema version at least 1, UTC times, ids assigned where
// missing, metadata kept as given.
func testNormalised(t *testing.T, h Harness) {
	f := open(t, h)
	id := ulid.MustParse("01HZX3Q5N7W8Y9ABCDEFGHJKMN")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	occurred := time.Date(2024, 3, 3, 15, 0, 0, 123456789, zone)
	cmd := newCmd("norm")
	meta := eventstore.Metadata{
		ActorID: "user/ädä \"quoted\"", ActorKind: "user", OnBehalfOf: "user/grace",
		CorrelationID: "corr-1", CausationID: "cause-1", CommandID: cmd,
	}
	in := []eventstore.NewEvent{
		{Stream: "norm/ünï", Type: "storetest.normalised", Metadata: meta, Payload: json.RawMessage(`{"b":1, "a":2}`)},
		{Stream: "norm/ünï", Type: "storetest.normalised", Metadata: meta, Payload: json.RawMessage(" [ 1.0 , \"\\u0041\" , 1E2 , {\"z\":null,\"y\":true} ] ")},
		{Stream: "norm/2", Type: "storetest.normalised", Metadata: meta, Payload: nil, SchemaVersion: 3, ID: id, OccurredAt: occurred},
	}
	r := f.append(eventstore.AnyCondition, in...)
	want := []string{`{"a":2,"b":1}`, `[1,"A",100,{"y":true,"z":null}]`, `{}`}
	for i, e := range r.Events {
		assert.Equal(t, want[i], string(e.Payload), "event %d payload must be stored canonically", i)
		assert.Equal(t, meta, e.Metadata, "event %d metadata", i)
		assert.Equal(t, in[i].Stream, e.Stream)
		assert.Equal(t, "storetest.normalised", e.Type)
		assert.False(t, e.OccurredAt.IsZero(), "OccurredAt defaults to now")
		assert.False(t, e.RecordedAt.IsZero(), "RecordedAt is set")
		assert.Equal(t, time.UTC, e.OccurredAt.Location(), "OccurredAt is in UTC")
		assert.Equal(t, time.UTC, e.RecordedAt.Location(), "RecordedAt is in UTC")
		assert.NotEqual(t, ulid.ULID{}, e.ID, "an id is assigned")
	}
	assert.Equal(t, 1, r.Events[0].SchemaVersion, "schema version 0 means 1")
	assert.Equal(t, 3, r.Events[2].SchemaVersion)
	assert.Equal(t, id, r.Events[2].ID, "a given id is kept")
	assert.NotEqual(t, r.Events[0].ID, r.Events[1].ID, "assigned ids are distinct")
	assert.True(t, occurred.Equal(r.Events[2].OccurredAt), "OccurredAt %v is kept to the nanosecond, got %v", occurred, r.Events[2].OccurredAt)

	requireSameEvents(t, r.Events, f.readAll(0), "ReadAll returns events as Append returned them")
	requireSameEvents(t, r.Events[:2], f.readStream("norm/ünï", 0))
	f.verify()
}

// testIsolation: changing what Append returned, what a read yielded or what
// was passed in does not change the stored log.
func testIsolation(t *testing.T, h Harness) {
	f := open(t, h)
	in := events("iso/s", newCmd("iso"), 2)
	r := f.append(eventstore.AnyCondition, in...)
	stored := lines(r.Events)

	in[0].Payload[1] = 'X'
	r.Events[0].Payload[1] = 'Y'
	r.Events[1].Metadata.ActorID = "mallory"
	for e, err := range f.s.ReadAll(f.ctx, 0) {
		require.NoError(t, err)
		if len(e.Payload) > 1 {
			e.Payload[1] = 'Z'
		}
	}
	for e, err := range f.s.ReadStream(f.ctx, "iso/s", 0) {
		require.NoError(t, err)
		if len(e.Payload) > 1 {
			e.Payload[1] = 'Z'
		}
	}
	require.Equal(t, stored, lines(f.readAll(0)))
	f.verify()
}

// testIdempotency: repeating a command id returns the first append's
// events, marked Duplicate, and writes nothing, whatever the events and
// the condition of the repeat.
func testIdempotency(t *testing.T, h Harness) {
	f := open(t, h)
	f.seed(1, "idem/x")
	cmd := newCmd("idem")
	type vmap = map[eventstore.StreamID]eventstore.Version
	cond := eventstore.Condition{Streams: vmap{"idem/a": 0, "idem/b": 0}}
	in := []eventstore.NewEvent{ev("idem/a", "storetest.idem", cmd, `{"n":1}`), ev("idem/b", "storetest.idem", cmd, `{"n":2}`)}
	first := f.append(cond, in...)

	repeat := func(what string, cond eventstore.Condition, in ...eventstore.NewEvent) {
		t.Helper()
		before := f.snapshot()
		r, err := f.s.Append(f.ctx, cond, in...)
		require.NoError(t, err, what)
		require.True(t, r.Duplicate, "%s: Duplicate", what)
		requireSameEvents(t, first.Events, r.Events, "%s: a duplicate returns the first append's events", what)
		f.requireUnchanged(before, what)
	}
	repeat("the same append", cond, in...)
	repeat("the same events without a condition", eventstore.AnyCondition, in...)
	repeat("different events", eventstore.AnyCondition, ev("idem/c", "storetest.other", cmd, `{"other":true}`))
	repeat("a stale head", eventstore.AtHead(0), in...)

	f.seed(3, "idem/a", "idem/y")
	repeat("the same append after others", cond, in...)
	f.verify()
}

// testCommandReuse: a command id reused with another command digest is
// refused (a *CommandReusedError matching ErrConflict) and appends nothing;
// with the same digest, or without one on either side, it is a repeat.
// The digest is stored and read back with the events, and hashed.
func testCommandReuse(t *testing.T, h Harness) {
	f := open(t, h)
	cmd := newCmd("reuse")
	digested := func(d string, payload string) eventstore.NewEvent {
		e := ev("reuse/a", "storetest.reuse", cmd, payload)
		e.Metadata.CommandDigest = d
		return e
	}
	first := f.append(eventstore.AnyCondition, digested("digest-1", `{"amount":10}`))
	require.Equal(t, "digest-1", first.Events[0].Metadata.CommandDigest)
	stored := f.readAll(0)
	require.Equal(t, "digest-1", stored[len(stored)-1].Metadata.CommandDigest, "read back")

	before := f.snapshot()
	_, err := f.s.Append(f.ctx, eventstore.AnyCondition, digested("digest-2", `{"amount":1000}`))
	require.ErrorIs(t, err, eventstore.ErrConflict)
	var re *eventstore.CommandReusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, cmd, re.CommandID)
	require.Equal(t, first.Events[0].Position, re.Position)
	f.requireUnchanged(before, "a reused command id")

	for _, d := range []string{"digest-1", ""} {
		r, err := f.s.Append(f.ctx, eventstore.AnyCondition, digested(d, `{"amount":10}`))
		require.NoError(t, err)
		require.True(t, r.Duplicate, "digest %q", d)
	}
	f.verify()
}

// testReopen: after a restart the log, its head and the command ids are
// all still there, and appends continue the chain.
func testReopen(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("Harness.Reopen not set")
	}
	f := open(t, h)
	f.seed(3, "reopen/a", "reopen/b")
	cmd := newCmd("reopen")
	first := f.append(eventstore.AnyCondition, events("reopen/c", cmd, 2)...)
	before := f.snapshot()

	f.reopen()
	f.requireUnchanged(before, "Reopen")
	r, err := f.s.Append(f.ctx, eventstore.AtHead(0), events("reopen/c", cmd, 2)...)
	require.NoError(t, err)
	require.True(t, r.Duplicate, "a command id is remembered across a restart")
	requireSameEvents(t, first.Events, r.Events)
	f.requireUnchanged(before, "a duplicate after Reopen")

	next := f.append(eventstore.Condition{Head: &before.head.Position, Streams: map[eventstore.StreamID]eventstore.Version{"reopen/c": 2}},
		events("reopen/c", newCmd("reopen"), 1)...)
	require.Equal(t, before.head.Position+1, next.Events[0].Position)
	require.Equal(t, eventstore.Version(3), next.Events[0].Version)
	require.Equal(t, before.head.Hash, next.Events[0].PrevHash)

	f.reopen()
	require.Equal(t, next.Head(), f.head())
	f.verify()
}

// testVerify: Verify over ReadAll holds and ends at Head, after every append.
func testVerify(t *testing.T, h Harness) {
	f := open(t, h)
	require.Equal(t, eventstore.Head{}, f.verify())
	for i := range 10 {
		r := f.append(eventstore.AnyCondition, events(fmt.Sprintf("verify/%d", i%3), newCmd("verify"), 1+i%3)...)
		require.Equal(t, r.Head(), f.verify())
	}
	for _, e := range f.readAll(0) {
		require.Equal(t, eventstore.ComputeHash(e.PrevHash, &e), e.Hash, "position %d", e.Position)
	}
}

// testTamper: altering the stored log behind the store's back is found by
// Verify, which names the first position that no longer matches and
// returns the head verified up to it.
func testTamper(t *testing.T, h Harness) {
	if h.Tamper == nil {
		t.Skip("Harness.Tamper not set")
	}
	for _, tc := range []struct {
		name string
		do   func(Tamperer) error
		bad  eventstore.Position
	}{
		{"Payload", func(tp Tamperer) error { return tp.SetPayload(3, []byte(`{"amount":1000000}`)) }, 3},
		{"FirstPayload", func(tp Tamperer) error { return tp.SetPayload(1, []byte(`{}`)) }, 1},
		{"ActorID", func(tp Tamperer) error { return tp.SetActorID(4, "user/mallory") }, 4},
		{"Delete", func(tp Tamperer) error { return tp.Delete(3) }, 3},
		{"DeleteFirst", func(tp Tamperer) error { return tp.Delete(1) }, 1},
		{"Swap", func(tp Tamperer) error { return tp.Swap(2, 5) }, 2},
		{"SwapNeighbours", func(tp Tamperer) error { return tp.Swap(5, 6) }, 5},
		{"TwoChanges", func(tp Tamperer) error {
			if err := tp.SetActorID(5, "user/mallory"); err != nil {
				return err
			}
			return tp.SetPayload(2, []byte(`{"i":99}`))
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, h)
			var all []eventstore.Event
			for i := range 3 {
				cmd := newCmd("tamper")
				r := f.append(eventstore.AnyCondition,
					ev("tamper/a", "storetest.tamper", cmd, fmt.Sprintf(`{"i":%d}`, 2*i)),
					ev("tamper/b", "storetest.tamper", cmd, fmt.Sprintf(`{"i":%d}`, 2*i+1)))
				all = append(all, r.Events...)
			}
			f.verify()

			tp := h.Tamper(t, f.s)
			require.NotNil(t, tp, "Harness.Tamper returned nil")
			require.NoError(t, tc.do(tp))

			got, err := eventstore.Verify(f.ctx, f.s.ReadAll(f.ctx, 0))
			require.ErrorIs(t, err, eventstore.ErrChain)
			var ce *eventstore.ChainError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.bad, ce.Position, "Verify must name the first altered position: %v", err)
			var want eventstore.Head
			if tc.bad > 1 {
				want = eventstore.Head{Position: tc.bad - 1, Hash: all[tc.bad-2].Hash}
			}
			require.Equal(t, want, got, "Verify returns the head it verified up to")
		})
	}
}

// testClosed: after Close, every operation fails with ErrClosed.
func testClosed(t *testing.T, h Harness) {
	f := open(t, h)
	f.seed(3, "closed/s")
	pending := f.s.ReadAll(f.ctx, 0)
	f.close()

	_, err := f.s.Append(f.ctx, eventstore.AnyCondition, events("closed/s", newCmd("closed"), 1)...)
	require.ErrorIs(t, err, eventstore.ErrClosed, "Append")
	_, err = f.s.Head(f.ctx)
	require.ErrorIs(t, err, eventstore.ErrClosed, "Head")
	requireClosed := func(what string, seq iter.Seq2[eventstore.Event, error]) {
		t.Helper()
		var last error
		for _, err := range seq {
			if err != nil {
				last = err
				break
			}
		}
		require.ErrorIs(t, last, eventstore.ErrClosed, what)
	}
	requireClosed("ReadAll", f.s.ReadAll(f.ctx, 0))
	requireClosed("ReadStream", f.s.ReadStream(f.ctx, "closed/s", 0))
	requireClosed("a ReadAll made before Close", pending)
}

// testContext: a cancelled or expired context stops every operation with
// the context's error, and an Append under it writes nothing.
func testContext(t *testing.T, h Harness) {
	f := open(t, h)
	for range 15 {
		f.append(eventstore.AnyCondition, events("ctx/s", newCmd("ctx"), 100)...)
	}
	before := f.snapshot()
	total := len(before.events)

	cancelled, cancel := context.WithCancel(f.ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(f.ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		_, err := f.s.Append(c.ctx, eventstore.AnyCondition, events("ctx/s", newCmd("ctx"), 2)...)
		require.ErrorIs(t, err, c.want, "Append")
		_, err = f.s.Head(c.ctx)
		require.ErrorIs(t, err, c.want, "Head")
		for name, seq := range map[string]iter.Seq2[eventstore.Event, error]{
			"ReadAll":    f.s.ReadAll(c.ctx, 0),
			"ReadStream": f.s.ReadStream(c.ctx, "ctx/s", 0),
		} {
			var last error
			n := 0
			for _, err := range seq {
				if err != nil {
					last = err
					break
				}
				n++
			}
			require.ErrorIs(t, last, c.want, name)
			require.Less(t, n, total, "%s yielded the whole log under a done context", name)
		}
		_, err = eventstore.Verify(c.ctx, f.s.ReadAll(c.ctx, 0))
		require.ErrorIs(t, err, c.want, "Verify")
	}
	f.requireUnchanged(before, "appends under a done context")

	// Cancelling while reading ends the read with the context's error
	// before the end of the log: a backend that reads in pages must look
	// at the context at least once per page, and its pages must be smaller
	// than these 1,500 events.
	type read = func(ctx context.Context) iter.Seq2[eventstore.Event, error]
	for name, read := range map[string]read{
		"ReadAll":    func(ctx context.Context) iter.Seq2[eventstore.Event, error] { return f.s.ReadAll(ctx, 0) },
		"ReadStream": func(ctx context.Context) iter.Seq2[eventstore.Event, error] { return f.s.ReadStream(ctx, "ctx/s", 0) },
	} {
		ctx, cancel := context.WithCancel(f.ctx)
		n := 0
		var last error
		for _, err := range read(ctx) {
			if err != nil {
				last = err
				break
			}
			if n++; n == 10 {
				cancel()
			}
		}
		cancel()
		require.ErrorIs(t, last, context.Canceled, "%s after cancel", name)
		require.Less(t, n, total, "%s went on to the end of the log after cancel", name)
	}
}

// testEnqueue, for stores that implement eventstore.Enqueuer: appends are
// checked and written in the order they were queued, whatever order they
// are waited on in; an append chained (AtHeadEvent) on one that failed fails;
// a Ticket whose context has ended while queued writes nothing; a Ticket
// called again gives the same outcome.
func testEnqueue(t *testing.T, h Harness) {
	f := open(t, h)
	q, ok := f.s.(eventstore.Enqueuer)
	if !ok {
		t.Skip("the store does not implement eventstore.Enqueuer")
	}
	seeded := f.seed(1, "q/seed")
	head, err := f.s.Head(f.ctx)
	require.NoError(t, err)
	// ided gives events ids of their own, so that the next append can be
	// chained on the last one.
	ided := func(evs []eventstore.NewEvent) ([]eventstore.NewEvent, ulid.ULID) {
		for i := range evs {
			evs[i].ID = ulid.Make()
		}
		return evs, evs[len(evs)-1].ID
	}

	const n = 12
	tickets := make([]eventstore.Ticket, n)
	pos, prev := head.Position, seeded[0].ID
	for i := range tickets {
		evs, last := ided(events(fmt.Sprint("q/", i%3), newCmd("q"), 2))
		tickets[i] = q.Enqueue(f.ctx, eventstore.AtHeadEvent(pos, prev), evs...)
		pos, prev = pos+2, last
	}
	results := make([]eventstore.AppendResult, n)
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- { // waited on in reverse, concurrently
		wg.Go(func() {
			var err error
			results[i], err = tickets[i](f.ctx)
			assert.NoError(t, err, "append %d", i)
		})
	}
	wg.Wait()
	for i, r := range results {
		require.Equal(t, []eventstore.Position{head.Position + eventstore.Position(2*i) + 1, head.Position + eventstore.Position(2*i) + 2},
			positions(r.Events), "append %d is written in queue order", i)
	}
	f.verify()

	// A broken chain: the first append's condition fails, so the one
	// decided on it fails too, and the one decided on the log as it is
	// succeeds.
	h2, err := f.s.Head(f.ctx)
	require.NoError(t, err)
	badEvents, bad := ided(events("q/x", newCmd("q"), 1))
	t1 := q.Enqueue(f.ctx, eventstore.AtHead(h2.Position+7), badEvents...)
	t2 := q.Enqueue(f.ctx, eventstore.AtHeadEvent(h2.Position+1, bad), events("q/x", newCmd("q"), 1)...)
	t3 := q.Enqueue(f.ctx, eventstore.AtHeadEvent(h2.Position, prev), events("q/x", newCmd("q"), 1)...)
	_, err = t1(f.ctx)
	requireConflict(t, err)
	_, err = t2(f.ctx)
	requireConflict(t, err)
	r, err := t3(f.ctx)
	require.NoError(t, err)
	require.Equal(t, h2.Position+1, r.Events[0].Position)
	// A Ticket called again gives the outcome it gave.
	_, err = t1(f.ctx)
	requireConflict(t, err)
	again, err := t3(f.ctx)
	require.NoError(t, err)
	require.Equal(t, positions(r.Events), positions(again.Events), "a Ticket waited for twice")

	// A context that has ended before the Ticket is waited on, on an
	// append never queued, writes nothing.
	done, cancel := context.WithCancel(f.ctx)
	cancel()
	before := f.snapshot()
	_, err = q.Enqueue(done, eventstore.AnyCondition, events("q/x", newCmd("q"), 1)...)(done)
	require.ErrorIs(t, err, context.Canceled)
	f.requireUnchanged(before, "an append whose context had ended")

	// One command id queued three times (in one commit, where the store
	// groups them): another command under it is refused as it would be
	// once the first is in the log, and the same command is a repeat.
	cmd := newCmd("q")
	digested := func(stream, digest string) eventstore.NewEvent {
		e := ev(stream, "storetest.reuse", cmd, `{}`)
		e.Metadata.CommandDigest = digest
		return e
	}
	ta := q.Enqueue(f.ctx, eventstore.AnyCondition, digested("q/r1", "digest-1"))
	tb := q.Enqueue(f.ctx, eventstore.AnyCondition, digested("q/r2", "digest-2"))
	tc := q.Enqueue(f.ctx, eventstore.AnyCondition, digested("q/r1", "digest-1"))
	first, err := ta(f.ctx)
	require.NoError(t, err)
	_, err = tb(f.ctx)
	var reused *eventstore.CommandReusedError
	require.ErrorAs(t, err, &reused, "another command under the id")
	r, err = tc(f.ctx)
	require.NoError(t, err)
	require.True(t, r.Duplicate)
	requireSameEvents(t, first.Events, r.Events)
	f.verify()
}
