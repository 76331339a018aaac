package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

func sample() []eventstore.Event {
	return chain(
		link{"a", `{"n":1}`},
		link{"b", `{"n":2}`},
		link{"a", `{"n":3}`},
		link{"c", `{"n":4}`},
		link{"b", `{"n":5}`},
	)
}

func TestVerifyValid(t *testing.T) {
	ctx := t.Context()
	head, err := eventstore.Verify(ctx, seq(nil, nil))
	require.NoError(t, err)
	require.Equal(t, eventstore.Head{}, head, "an empty log verifies to the zero head")

	events := sample()
	head, err = eventstore.Verify(ctx, seq(events, nil))
	require.NoError(t, err)
	require.Equal(t, headOf(events[4]), head)

	for n := 1; n <= len(events); n++ {
		head, err := eventstore.Verify(ctx, seq(events[:n], nil))
		require.NoError(t, err, "a prefix of a valid log is valid")
		require.Equal(t, headOf(events[n-1]), head)
	}
}

// TestVerifyBroken breaks a valid chain in each way Verify checks, and
// expects a *ChainError at the first bad position with the head before it.
func TestVerifyBroken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func([]eventstore.Event) []eventstore.Event
		bad   eventstore.Position
	}{
		{"changed payload", func(e []eventstore.Event) []eventstore.Event {
			e[2].Payload = []byte(`{"n":33}`)
			return e
		}, 3},
		{"changed actor", func(e []eventstore.Event) []eventstore.Event {
			e[3].Metadata.ActorID = "user/mallory"
			return e
		}, 4},
		{"changed type", func(e []eventstore.Event) []eventstore.Event { e[0].Type = "x"; return e }, 1},
		{"changed schema version", func(e []eventstore.Event) []eventstore.Event { e[1].SchemaVersion = 2; return e }, 2},
		{"changed occurredAt", func(e []eventstore.Event) []eventstore.Event {
			e[4].OccurredAt = e[4].OccurredAt.Add(1)
			return e
		}, 5},
		{"changed recordedAt", func(e []eventstore.Event) []eventstore.Event {
			e[4].RecordedAt = e[4].RecordedAt.Add(-1)
			return e
		}, 5},
		{"changed id", func(e []eventstore.Event) []eventstore.Event { e[1].ID[15]++; return e }, 2},
		{"changed command id", func(e []eventstore.Event) []eventstore.Event { e[1].Metadata.CommandID = "x"; return e }, 2},
		{"changed hash", func(e []eventstore.Event) []eventstore.Event { e[2].Hash[0] ^= 1; return e }, 3},
		{"resealed event breaks the next link", func(e []eventstore.Event) []eventstore.Event {
			e[1].Payload = []byte(`{"n":22}`)
			eventstore.Seal(e[1].PrevHash, &e[1])
			return e
		}, 3},
		{"missing first", func(e []eventstore.Event) []eventstore.Event { return e[1:] }, 1},
		{"missing middle", func(e []eventstore.Event) []eventstore.Event { return append(e[:2:2], e[3:]...) }, 3},
		{"duplicated event", func(e []eventstore.Event) []eventstore.Event { return append(e[:3:3], e[2:]...) }, 4},
		{"swapped", func(e []eventstore.Event) []eventstore.Event { e[1], e[3] = e[3], e[1]; return e }, 2},
		{"renumbered position", func(e []eventstore.Event) []eventstore.Event {
			e[2].Position = 7
			eventstore.Seal(e[2].PrevHash, &e[2])
			return e
		}, 3},
		{"version jump", func(e []eventstore.Event) []eventstore.Event {
			e[2].Version = 3
			eventstore.Seal(e[2].PrevHash, &e[2])
			return e
		}, 3},
		{"stream starts at version 2", func(e []eventstore.Event) []eventstore.Event {
			e[3].Version = 2
			eventstore.Seal(e[3].PrevHash, &e[3])
			return e
		}, 4},
		{"first event has a previous hash", func(e []eventstore.Event) []eventstore.Event {
			e[0].PrevHash[0] = 1
			eventstore.Seal(e[0].PrevHash, &e[0])
			return e
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := tc.spoil(sample())
			head, err := eventstore.Verify(t.Context(), seq(broken, nil))
			require.ErrorIs(t, err, eventstore.ErrChain)
			require.NotErrorIs(t, err, eventstore.ErrConflict)
			var ce *eventstore.ChainError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.bad, ce.Position, "%v", err)
			require.NotEmpty(t, ce.Reason)
			require.Contains(t, err.Error(), fmt.Sprintf("position %d", ce.Position))
			var want eventstore.Head
			if tc.bad > 1 {
				want = headOf(broken[tc.bad-2]) // the last event that verified
			}
			require.Equal(t, want, head, "Verify returns the head verified before the break")

			// Line by line, as an archive is read: the same verdict.
			c := eventstore.NewChain(eventstore.Head{})
			var lineErr error
			for _, e := range broken {
				line, _ := e.MarshalJSON()
				if lineErr = c.AddLine(line); lineErr != nil {
					break
				}
			}
			var lce *eventstore.ChainError
			require.ErrorAs(t, lineErr, &lce)
			require.Equal(t, ce.Position, lce.Position, "%v", lineErr)
			require.Equal(t, want, c.Head())
		})
	}
}

func TestVerifySequenceError(t *testing.T) {
	events := sample()
	boom := errors.New("disk on fire")
	head, err := eventstore.Verify(t.Context(), seq(events[:2], boom))
	require.ErrorIs(t, err, boom, "errors of the sequence are returned as they are")
	require.NotErrorIs(t, err, eventstore.ErrChain)
	require.Equal(t, headOf(events[1]), head)
}

func TestVerifyContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := eventstore.Verify(ctx, seq(sample(), nil))
	require.ErrorIs(t, err, context.Canceled)
}

func TestErrors(t *testing.T) {
	var err error = &eventstore.ConflictError{Stream: "s", Expected: 1, Actual: 2}
	require.ErrorIs(t, err, eventstore.ErrConflict)
	require.NotErrorIs(t, err, eventstore.ErrChain)
	require.Equal(t, `eventstore: append conflict: expected stream "s" at version 1, it is at 2`, err.Error())
	err = &eventstore.ConflictError{ExpectedHead: 3, ActualHead: 5}
	require.Equal(t, "eventstore: append conflict: expected head at position 3, log is at 5", err.Error())

	wrapped := errors.Join(errors.New("context"), &eventstore.ChainError{Position: 4, Reason: "because"})
	require.ErrorIs(t, wrapped, eventstore.ErrChain)
	require.NotErrorIs(t, wrapped, eventstore.ErrConflict)
	require.Contains(t, wrapped.Error(), "hash chain broken at position 4: because")
}

// TestVerifyFrom verifies every stretch of a valid log from the head
// before it, and refuses a stretch that does not follow its start.
func TestVerifyFrom(t *testing.T) {
	ctx := t.Context()
	events := sample()
	for from := 0; from < len(events); from++ {
		start := eventstore.Head{}
		if from > 0 {
			start = headOf(events[from-1])
		}
		for to := from; to <= len(events); to++ {
			head, err := eventstore.VerifyFrom(ctx, start, seq(events[from:to], nil))
			require.NoError(t, err, "events %d..%d", from+1, to)
			if to > from {
				require.Equal(t, headOf(events[to-1]), head)
			} else {
				require.Equal(t, start, head)
			}
		}
	}
	// A start that is not the head before the stretch.
	_, err := eventstore.VerifyFrom(ctx, headOf(events[0]), seq(events[2:], nil))
	require.ErrorIs(t, err, eventstore.ErrChain)
	wrong := headOf(events[1])
	wrong.Hash[0] ^= 1
	_, err = eventstore.VerifyFrom(ctx, wrong, seq(events[2:], nil))
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(3), ce.Position)
	// From the beginning, a stream must still start at version 1.
	_, err = eventstore.VerifyFrom(ctx, eventstore.Head{}, seq(events, nil))
	require.NoError(t, err)
	// Within a stretch, a stream seen twice must not skip a version (b is
	// at version 1 at position 2, and jumps to 3 at position 5).
	spoiled := sample()
	spoiled[4].Version = 3
	eventstore.Seal(spoiled[3].Hash, &spoiled[4])
	_, err = eventstore.VerifyFrom(ctx, headOf(spoiled[0]), seq(spoiled[1:], nil))
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(5), ce.Position)
	require.Contains(t, ce.Reason, "jumps")
}

// TestChainAddLine checks lines in the canonical form (read without
// decoding), re-encoded on the way (decoded first), with an escaped stream
// id, and lines that are not events.
func TestChainAddLine(t *testing.T) {
	events := chain(link{"a", `{"n":1}`}, link{`we"ird\\stream`, "{\"s\":\"<tag> & \u2028\"}"}, link{"a", `{"n":3}`})
	lines := func(reencode func([]byte) []byte) *eventstore.Chain {
		c := eventstore.NewChain(eventstore.Head{})
		for _, e := range events {
			line, _ := e.MarshalJSON()
			require.NoError(t, c.AddLine(reencode(line)), string(line))
		}
		require.Equal(t, headOf(events[len(events)-1]), c.Head())
		return c
	}
	lines(func(b []byte) []byte { return b })
	lines(func(b []byte) []byte {
		var buf bytes.Buffer
		require.NoError(t, json.Indent(&buf, b, "", "  "))
		return buf.Bytes()
	})
	lines(func(b []byte) []byte { // json.Marshal's HTML escaping
		out, err := json.Marshal(json.RawMessage(b))
		require.NoError(t, err)
		return out
	})

	c := eventstore.NewChain(eventstore.Head{})
	err := c.AddLine([]byte("not json"))
	require.Error(t, err)
	require.NotErrorIs(t, err, eventstore.ErrChain, "a line that is not an event is not a broken chain")
	line, _ := events[0].MarshalJSON()
	forged := bytes.Replace(line, []byte(`"n":1`), []byte(`"n":2`), 1)
	require.ErrorIs(t, c.AddLine(forged), eventstore.ErrChain)
	require.Equal(t, eventstore.Head{}, c.Head(), "a refused line leaves the chain as it was")
	require.NoError(t, c.AddLine(line))
}

// TestChainAddLineMovedPrevHash (found by a review): the prevHash member
// moved into a payload that has a "position" member of the event's own
// position leaves the bytes hashed as they were; the line holds another
// event (no top-level prevHash, a payload with one) and is refused.
func TestChainAddLineMovedPrevHash(t *testing.T) {
	events := chain(link{"a", `{"a":1,"position":1,"z":0}`})
	line, err := events[0].MarshalJSON()
	require.NoError(t, err)
	member := []byte(`,"prevHash":"` + events[0].PrevHash.String() + `"`)
	require.Contains(t, string(line), string(member))
	moved := bytes.Replace(line, member, nil, 1)
	moved = bytes.Replace(moved, []byte(`"position":1,"z"`), append(append([]byte(`"position":1`), member...), `,"z"`...), 1)
	require.NotEqual(t, line, moved)
	err = eventstore.NewChain(eventstore.Head{}).AddLine(moved)
	require.Error(t, err)
	require.NoError(t, eventstore.NewChain(eventstore.Head{}).AddLine(line))
}

// TestChainAddLineExtraMember (found by a review): a line that holds a
// member the event does not have, at the top or in its metadata, does not
// hash as the line it is; decoding it would drop the member and hash the
// event without it. It is refused as a broken chain at its position, as
// docs/tools/verify.py refuses it, and the chain stays as it was.
func TestChainAddLineExtraMember(t *testing.T) {
	events := chain(link{"a", `{"n":1}`}, link{"b", `{"n":2}`})
	first, _ := events[0].MarshalJSON()
	line, _ := events[1].MarshalJSON()
	for name, extended := range map[string][]byte{
		"top":      bytes.Replace(line, []byte(`,"version":`), []byte(`,"approvedBy":"CEO","version":`), 1),
		"metadata": bytes.Replace(line, []byte(`"metadata":{`), []byte(`"metadata":{"approvedBy":"CEO",`), 1),
	} {
		require.NotEqual(t, line, extended, name)
		c := eventstore.NewChain(eventstore.Head{})
		require.NoError(t, c.AddLine(first))
		err := c.AddLine(extended)
		var ce *eventstore.ChainError
		require.ErrorAs(t, err, &ce, name)
		require.Equal(t, eventstore.Position(2), ce.Position, name)
		require.Equal(t, headOf(events[0]), c.Head(), name)
		require.NoError(t, c.AddLine(line), name)
	}
}

// TestVerified: the iterator passes a good log through, passes the events
// up to its start unchecked, and stops at the first event changed in
// place, yielding a *ChainError for it.
func TestVerified(t *testing.T) {
	events := sample()
	var got []eventstore.Position
	for e, err := range eventstore.Verified(seq(events, nil), eventstore.Head{}) {
		require.NoError(t, err)
		got = append(got, e.Position)
	}
	require.Equal(t, []eventstore.Position{1, 2, 3, 4, 5}, got)

	// From a start: the start's own event is not checked.
	from := headOf(events[1])
	events[1].Payload = []byte(`{"n":22}`)
	got = nil
	for e, err := range eventstore.Verified(seq(events[1:], nil), from) {
		require.NoError(t, err)
		got = append(got, e.Position)
	}
	require.Equal(t, []eventstore.Position{2, 3, 4, 5}, got)

	events[2].Payload = []byte(`{"n":33}`)
	got = nil
	var broke error
	for e, err := range eventstore.Verified(seq(events, nil), eventstore.Head{}) {
		if err != nil {
			broke = err
			continue
		}
		got = append(got, e.Position)
	}
	var ce *eventstore.ChainError
	require.ErrorAs(t, broke, &ce)
	require.Equal(t, eventstore.Position(2), ce.Position, "event 2 was changed first")
	require.Equal(t, []eventstore.Position{1}, got, "nothing after the break")
}
