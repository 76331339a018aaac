package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/accessledger/accessledger/eventstore/storetest"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open:   func(*testing.T) eventstore.Store { return memstore.New(memstore.Options{}) },
		Tamper: memstore.Tamper,
	})
}

// TestOptions: the injected clock stamps RecordedAt (and OccurredAt where
// the caller gave none) and the injected id source names events.
func TestOptions(t *testing.T) {
	now := time.Date(2024, 3, 3, 9, 30, 0, 0, time.UTC)
	n := 0
	s := memstore.New(memstore.Options{
		Now: func() time.Time { return now },
		NewID: func() ulid.ULID {
			n++
			return ulid.MustParse(fmt.Sprintf("01HZX3Q5N7W8Y9ABCDEFGHJK%02d", n))
		},
	})
	defer s.Close()
	occurred := now.Add(-time.Hour)
	r, err := s.Append(t.Context(), eventstore.AnyCondition,
		eventstore.NewEvent{Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}},
		eventstore.NewEvent{Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}, OccurredAt: occurred},
	)
	require.NoError(t, err)
	require.Len(t, r.Events, 2)
	for i, e := range r.Events {
		require.Equal(t, now, e.RecordedAt)
		require.Equal(t, ulid.MustParse(fmt.Sprintf("01HZX3Q5N7W8Y9ABCDEFGHJK%02d", i+1)), e.ID)
	}
	require.Equal(t, now, r.Events[0].OccurredAt)
	require.Equal(t, occurred, r.Events[1].OccurredAt)
}

func TestRecordedAtNeverDecreases(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	n := 0
	s := memstore.New(memstore.Options{Now: func() time.Time { n++; return t0.Add(-time.Duration(n) * time.Second) }})
	for i := range 4 {
		_, err := s.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "t",
			Metadata: eventstore.Metadata{CommandID: fmt.Sprint(i)}})
		require.NoError(t, err)
	}
	var last time.Time
	for e, err := range s.ReadAll(ctx, 0) {
		require.NoError(t, err)
		require.False(t, e.RecordedAt.Before(last), "position %d", e.Position)
		last = e.RecordedAt
	}
}
