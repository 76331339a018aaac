package eventstore_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// TestBoundaryCommandDigestIsHashed: the command digest is part of the
// envelope when set, so changing it in a stored event breaks the chain,
// and the NDJSON line carries it (found by mutation testing: dropping it
// from the envelope passed every test, since no test event had a digest).
func TestBoundaryCommandDigestIsHashed(t *testing.T) {
	e := goldenEvent()
	e.Metadata.CommandDigest = "sha256:aaaa"
	h0 := eventstore.ComputeHash(e.PrevHash, &e)
	require.Contains(t, string(eventstore.CanonicalBytes(&e)), `"commandDigest":"sha256:aaaa"`)
	other := e
	other.Metadata.CommandDigest = "sha256:bbbb"
	require.NotEqual(t, h0, eventstore.ComputeHash(other.PrevHash, &other), "changing commandDigest must change the hash")

	// A stored log whose digest was changed afterwards does not verify.
	events := chain(link{"a", `{"n":1}`}, link{"a", `{"n":2}`})
	events[0].Metadata.CommandDigest = "d1"
	eventstore.Seal(events[0].PrevHash, &events[0])
	eventstore.Seal(events[0].Hash, &events[1])
	_, err := eventstore.Verify(t.Context(), seq(events, nil))
	require.NoError(t, err)
	events[0].Metadata.CommandDigest = "d2"
	_, err = eventstore.Verify(t.Context(), seq(events, nil))
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(1), ce.Position)

	// The NDJSON line keeps the digest.
	eventstore.Seal(e.PrevHash, &e)
	line, err := e.MarshalJSON()
	require.NoError(t, err)
	var back eventstore.Event
	require.NoError(t, json.Unmarshal(line, &back))
	require.Equal(t, "sha256:aaaa", back.Metadata.CommandDigest)
}

// TestBoundaryStreamVersionRepeated: a stream whose version repeats (two
// events both at version 1), resealed so that every hash holds, does not
// verify, read whole or line by line. Only jumps forward were tested.
func TestBoundaryStreamVersionRepeated(t *testing.T) {
	events := sample() // a@1 b@1 a@2 c@1 b@2
	events[2].Version = 1
	eventstore.Seal(events[1].Hash, &events[2])
	for i := 3; i < len(events); i++ {
		eventstore.Seal(events[i-1].Hash, &events[i])
	}
	_, err := eventstore.Verify(t.Context(), seq(events, nil))
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(3), ce.Position)

	c := eventstore.NewChain(eventstore.Head{})
	var lineErr error
	for _, e := range events {
		line, _ := e.MarshalJSON()
		if lineErr = c.AddLine(line); lineErr != nil {
			break
		}
	}
	require.ErrorAs(t, lineErr, &ce)
	require.Equal(t, eventstore.Position(3), ce.Position)

	// And a version that goes back (a@2 then a@1).
	events = sample()
	events[2].Version = 0
	eventstore.Seal(events[1].Hash, &events[2])
	_, err = eventstore.Verify(t.Context(), seq(events[:3], nil))
	require.ErrorIs(t, err, eventstore.ErrChain)
}

// TestBoundarySignedHeadCoversHash: the signature covers the head's hash,
// not only its position and time: a head of a rewritten log at the same
// position does not pass as signed.
func TestBoundarySignedHeadCoversHash(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	signed := eventstore.SignHead(key, headOf(sample()[3]), time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	require.NoError(t, signed.Verify(pub))
	rewritten := signed
	rewritten.Hash[0] ^= 1
	require.ErrorIs(t, rewritten.Verify(pub), eventstore.ErrSignature)
}

// TestBoundaryPrepareRefuses: the command digest must be valid UTF-8 like
// every other string the hash covers, and times past 2262 do not fit in
// a store's Unix nanoseconds.
func TestBoundaryPrepareRefuses(t *testing.T) {
	now := time.Date(2024, 3, 3, 9, 0, 0, 0, time.UTC)
	newID := func() ulid.ULID { return ulid.MustParse("01HZX3Q5N7W8Y9ABCDEFGHJK00") }
	for name, ev := range map[string]eventstore.NewEvent{
		"digest not UTF-8": {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c", CommandDigest: "d\xff"}},
		"after 2262": {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"},
			OccurredAt: time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		_, _, err := eventstore.Prepare([]eventstore.NewEvent{ev}, now, newID)
		require.ErrorIs(t, err, eventstore.ErrInvalid, name)
	}
}
