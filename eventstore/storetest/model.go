package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// RunModel checks the store h opens against a simple model of the log (a
// slice of events and a map of stream versions) with random sequences of
// appends: new and repeated command ids, random streams, conditions that
// hold and that do not, empty appends and invalid ones, and restarts when
// h.Reopen is set. After every step the store and the model must agree on
// the head, the whole log, every stream and the kind of every error.
//
// Run calls it as the subtest "Model". It uses pgregory.net/rapid: by
// default 100 random sequences of about 30 steps (-rapid.checks and
// -rapid.steps change that; -short divides the checks by 5).
func RunModel(t *testing.T, h Harness) {
	require.NotNil(t, h.Open, "storetest: Harness.Open is required")
	rapid.Check(t, func(rt *rapid.T) {
		m := &model{tt: t, h: h, versions: map[eventstore.StreamID]eventstore.Version{}, written: map[string][]eventstore.Event{}}
		m.s = h.Open(t)
		require.NotNil(rt, m.s, "Harness.Open returned nil")
		defer func() { _ = m.s.Close() }()
		actions := map[string]func(*rapid.T){
			"append":  m.appendNew,
			"repeat":  m.repeat,
			"empty":   m.empty,
			"invalid": m.invalid,
			"":        m.check,
		}
		if h.Reopen != nil {
			actions["reopen"] = m.reopen
		}
		rt.Repeat(actions)
	})
}

// modelStrings are payload strings as JSON text and in canonical form.
var modelStrings = []struct{ json, canonical string }{
	{`""`, `""`}, {`"x"`, `"x"`}, {`"\u00fcn\u00efx"`, `"ünïx"`}, {`"a\"b\/"`, `"a\"b/"`},
}

var (
	modelStreams = []eventstore.StreamID{"m/a", "m/b", "m/c"}
	// modelCondStreams adds a stream no event is ever appended to.
	modelCondStreams = append(slices.Clone(modelStreams), "m/never")
)

type model struct {
	tt *testing.T
	h  Harness
	s  eventstore.Store

	events   []eventstore.Event
	versions map[eventstore.StreamID]eventstore.Version
	written  map[string][]eventstore.Event // command id -> the events its append wrote
	unused   []string                      // command ids whose appends failed
	seq      int
}

func (m *model) head() eventstore.Head {
	if len(m.events) == 0 {
		return eventstore.Head{}
	}
	last := m.events[len(m.events)-1]
	return eventstore.Head{Position: last.Position, Hash: last.Hash}
}

// command draws a command id never written: a new one or one whose append failed.
func (m *model) command(t *rapid.T) string {
	if len(m.unused) > 0 && rapid.Bool().Draw(t, "reuse failed command id") {
		return rapid.SampledFrom(m.unused).Draw(t, "failed command id")
	}
	m.seq++
	return fmt.Sprintf("model-%d", m.seq)
}

// newEvents draws valid events of command cmd and the canonical form of
// their payloads.
func (m *model) newEvents(t *rapid.T, cmd string) ([]eventstore.NewEvent, []string) {
	n := rapid.IntRange(1, 3).Draw(t, "events")
	out := make([]eventstore.NewEvent, n)
	canonical := make([]string, n)
	for i := range out {
		k := rapid.IntRange(-3, 3).Draw(t, "k")
		s := rapid.SampledFrom(modelStrings).Draw(t, "s")
		out[i] = eventstore.NewEvent{
			Stream:   rapid.SampledFrom(modelStreams).Draw(t, "stream"),
			Type:     rapid.SampledFrom([]string{"model.created", "model.changed"}).Draw(t, "type"),
			Metadata: eventstore.Metadata{CommandID: cmd, ActorID: "model"},
			// Not canonical: members out of order, spaced out, 2.0 for 2.
			Payload: json.RawMessage(fmt.Sprintf(`{ "s" : %s , "k" : %d.0 }`, s.json, k)),
		}
		canonical[i] = fmt.Sprintf(`{"k":%d,"s":%s}`, k, s.canonical)
	}
	return out, canonical
}

// condition draws a condition and reports whether it holds now.
func (m *model) condition(t *rapid.T) (eventstore.Condition, bool) {
	var c eventstore.Condition
	holds := true
	if rapid.Bool().Draw(t, "expect head") {
		p := m.head().Position
		if !rapid.Bool().Draw(t, "right head") {
			p = eventstore.Position(rapid.IntRange(0, len(m.events)+2).Draw(t, "head"))
		}
		c.Head = &p
		holds = holds && p == m.head().Position
		if p > 0 && int(p) <= len(m.events) && rapid.Bool().Draw(t, "expect head event") {
			c.HeadEventID = m.events[p-1].ID
			if !rapid.Bool().Draw(t, "right head event") {
				c.HeadEventID = ulid.Make()
				holds = false
			}
		}
	}
	for range rapid.IntRange(0, 2).Draw(t, "expected streams") {
		s := rapid.SampledFrom(modelCondStreams).Draw(t, "expected stream")
		v := m.versions[s]
		if !rapid.Bool().Draw(t, "right version") {
			v = eventstore.Version(rapid.IntRange(0, 4).Draw(t, "version"))
		}
		if c.Streams == nil {
			c.Streams = map[eventstore.StreamID]eventstore.Version{}
		}
		c.Streams[s] = v
	}
	for s, v := range c.Streams {
		holds = holds && v == m.versions[s]
	}
	return c, holds
}

// requireConflictFor checks that err is a conflict that truthfully names
// one of the expectations of c that do not hold.
func (m *model) requireConflictFor(t *rapid.T, err error, c eventstore.Condition) {
	ce := requireConflict(t, err)
	if ce.ExpectedEventID != (ulid.ULID{}) {
		require.NotNil(t, c.Head, "conflict on the head, which was not expected: %v", ce)
		require.Equal(t, *c.Head, m.head().Position, "a head-event conflict at the wrong head: %v", ce)
		require.Equal(t, &eventstore.ConflictError{ExpectedHead: *c.Head, ActualHead: *c.Head, ExpectedEventID: c.HeadEventID,
			ActualEventID: m.events[len(m.events)-1].ID}, ce)
		require.NotEqual(t, c.HeadEventID, ce.ActualEventID)
		return
	}
	if ce.Stream == "" {
		require.NotNil(t, c.Head, "conflict on the head, which was not expected: %v", ce)
		require.Equal(t, headConflict(*c.Head, m.head().Position), ce)
		require.NotEqual(t, *c.Head, m.head().Position, "the expected head holds: %v", ce)
		return
	}
	want, listed := c.Streams[ce.Stream]
	require.True(t, listed, "conflict on stream %s, which the condition does not name", ce.Stream)
	require.Equal(t, streamConflict(string(ce.Stream), want, m.versions[ce.Stream]), ce)
	require.NotEqual(t, want, m.versions[ce.Stream], "the expected version holds: %v", ce)
}

func (m *model) markFailed(cmd string) {
	if cmd != "" && !slices.Contains(m.unused, cmd) {
		m.unused = append(m.unused, cmd)
	}
}

// appendNew appends events under a command id not written before.
func (m *model) appendNew(t *rapid.T) {
	cmd := m.command(t)
	in, canonical := m.newEvents(t, cmd)
	cond, holds := m.condition(t)
	r, err := m.s.Append(t.Context(), cond, in...)
	if !holds {
		m.requireConflictFor(t, err, cond)
		require.Empty(t, r.Events)
		m.markFailed(cmd)
		return
	}
	require.NoError(t, err)
	require.False(t, r.Duplicate)
	require.Len(t, r.Events, len(in))
	prev := m.head()
	for i, e := range r.Events {
		m.versions[in[i].Stream]++
		require.Equal(t, prev.Position+1, e.Position, "position")
		require.Equal(t, in[i].Stream, e.Stream)
		require.Equal(t, m.versions[e.Stream], e.Version, "version of %s", e.Stream)
		require.Equal(t, in[i].Type, e.Type)
		require.Equal(t, 1, e.SchemaVersion)
		require.Equal(t, in[i].Metadata, e.Metadata)
		require.Equal(t, canonical[i], string(e.Payload), "canonical payload")
		require.Equal(t, prev.Hash, e.PrevHash, "previous hash")
		require.Equal(t, eventstore.ComputeHash(e.PrevHash, &e), e.Hash, "hash")
		prev = eventstore.Head{Position: e.Position, Hash: e.Hash}
	}
	m.events = append(m.events, r.Events...)
	m.written[cmd] = r.Events
	m.unused = slices.DeleteFunc(m.unused, func(c string) bool { return c == cmd })
}

// repeat appends under a command id already written: whatever the events
// and the condition, the result is the first append's, as a duplicate.
func (m *model) repeat(t *rapid.T) {
	if len(m.written) == 0 {
		t.Skip("no command written yet")
	}
	cmds := make([]string, 0, len(m.written))
	for c := range m.written {
		cmds = append(cmds, c)
	}
	slices.Sort(cmds)
	cmd := rapid.SampledFrom(cmds).Draw(t, "written command id")
	cond, _ := m.condition(t)
	in, _ := m.newEvents(t, cmd)
	r, err := m.s.Append(t.Context(), cond, in...)
	require.NoError(t, err)
	require.True(t, r.Duplicate)
	requireSameEvents(t, m.written[cmd], r.Events)
}

// empty appends nothing, under any condition.
func (m *model) empty(t *rapid.T) {
	cond, _ := m.condition(t)
	r, err := m.s.Append(t.Context(), cond)
	require.NoError(t, err)
	require.False(t, r.Duplicate)
	require.Empty(t, r.Events)
}

// invalid appends malformed events. With a condition that holds the error
// must be ErrInvalid; with one that does not, a store may report either.
func (m *model) invalid(t *rapid.T) {
	cmd := m.command(t)
	in, _ := m.newEvents(t, cmd)
	i := rapid.IntRange(0, len(in)-1).Draw(t, "spoilt event")
	switch rapid.SampledFrom([]string{"stream", "type", "payload", "command", "mixed"}).Draw(t, "spoil") {
	case "stream":
		in[i].Stream = ""
	case "type":
		in[i].Type = ""
	case "payload":
		in[i].Payload = json.RawMessage(rapid.SampledFrom([]string{`{`, `{"a":1,"a":2}`, `[1,]`, `{} 1`, `nope`}).Draw(t, "bad payload"))
	case "command":
		in[i].Metadata.CommandID = ""
	case "mixed":
		if len(in) == 1 {
			in = append(in, in[0])
		}
		in[len(in)-1].Metadata.CommandID = cmd + "-other"
	}
	cond, holds := m.condition(t)
	r, err := m.s.Append(t.Context(), cond, in...)
	if holds {
		require.ErrorIs(t, err, eventstore.ErrInvalid)
	} else if !errors.Is(err, eventstore.ErrInvalid) {
		m.requireConflictFor(t, err, cond)
	}
	require.Empty(t, r.Events)
	m.markFailed(cmd)
}

func (m *model) reopen(t *rapid.T) {
	m.s = m.h.Reopen(m.tt, m.s)
	require.NotNil(t, m.s, "Harness.Reopen returned nil")
}

// check compares the store with the model.
func (m *model) check(t *rapid.T) {
	ctx := t.Context()
	head, err := m.s.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, m.head(), head, "Head")
	requireSameEvents(t, m.events, collect(t, m.s.ReadAll(ctx, 0)), "ReadAll(0)")
	after := rapid.IntRange(0, len(m.events)+1).Draw(t, "read after")
	requireSameEvents(t, m.events[min(after, len(m.events)):], collect(t, m.s.ReadAll(ctx, eventstore.Position(after))), "ReadAll(%d)", after)
	for _, s := range modelCondStreams {
		want := inStream(m.events, s)
		requireSameEvents(t, want, collect(t, m.s.ReadStream(ctx, s, 0)), "ReadStream(%s)", s)
		v := rapid.IntRange(0, len(want)+1).Draw(t, "stream after")
		requireSameEvents(t, want[min(v, len(want)):], collect(t, m.s.ReadStream(ctx, s, eventstore.Version(v))), "ReadStream(%s, %d)", s, v)
	}
	verified, err := eventstore.Verify(ctx, m.s.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, m.head(), verified)
}
