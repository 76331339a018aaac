package eventstore_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

func TestSignedHead(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	events := sample()
	head := headOf(events[3])
	at := time.Date(2026, 3, 2, 9, 30, 0, 123, time.UTC)
	signed := eventstore.SignHead(key, head, at)
	require.NoError(t, signed.Verify(key.Public().(ed25519.PublicKey)))

	parsed, err := eventstore.ParseSignedHead(signed.String())
	require.NoError(t, err)
	require.Equal(t, signed, parsed)
	require.NoError(t, parsed.Verify(key.Public().(ed25519.PublicKey)))

	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	require.ErrorIs(t, parsed.Verify(other.Public().(ed25519.PublicKey)), eventstore.ErrSignature)
	moved := parsed
	moved.Position++
	require.ErrorIs(t, moved.Verify(key.Public().(ed25519.PublicKey)), eventstore.ErrSignature, "the signature covers the position")
	later := parsed
	later.Time = later.Time.Add(time.Second)
	require.ErrorIs(t, later.Verify(key.Public().(ed25519.PublicKey)), eventstore.ErrSignature, "and the time")

	for _, bad := range []string{"", "12", "x:" + head.Hash.String(), "3:abc", signed.String()[:40]} {
		_, err := eventstore.ParseSignedHead(bad)
		require.ErrorIs(t, err, eventstore.ErrInvalid, bad)
	}
	h, err := eventstore.ParseHead("4:" + head.Hash.String())
	require.NoError(t, err)
	require.Equal(t, head, h)
}

func TestCheckHead(t *testing.T) {
	ctx := t.Context()
	events := sample()
	s := memstore.New(memstore.Options{})
	for _, e := range events[:4] {
		_, err := s.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{ID: e.ID, Stream: e.Stream, Type: e.Type,
			OccurredAt: e.OccurredAt, Metadata: e.Metadata, Payload: e.Payload})
		require.NoError(t, err)
	}
	var stored []eventstore.Event
	for e, err := range s.ReadAll(ctx, 0) {
		require.NoError(t, err)
		stored = append(stored, e)
	}
	require.NoError(t, eventstore.CheckHead(ctx, s.ReadAll, headOf(stored[2])))
	require.NoError(t, eventstore.CheckHead(ctx, s.ReadAll, eventstore.Head{}))

	beyond := eventstore.Head{Position: 9, Hash: stored[3].Hash}
	err := eventstore.CheckHead(ctx, s.ReadAll, beyond)
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(9), ce.Position)
	require.Contains(t, ce.Reason, "truncated")

	wrong := headOf(stored[1])
	wrong.Hash[0] ^= 1
	require.ErrorAs(t, eventstore.CheckHead(ctx, s.ReadAll, wrong), &ce)
	require.Contains(t, ce.Reason, "rewritten")
}
