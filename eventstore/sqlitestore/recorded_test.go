package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// TestRecordedAtNeverDecreases appends with a clock that runs backwards
// (a correction, or another process's earlier stamp): recordedAt stays
// non-decreasing along positions.
func TestRecordedAtNeverDecreases(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	n := 0
	back := func() time.Time { n++; return t0.Add(-time.Duration(n) * time.Second) }
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), Options{Now: back})
	require.NoError(t, err)
	defer s.Close()
	for i := range 4 {
		_, err := s.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: "s/1", Type: "t",
			Metadata: eventstore.Metadata{CommandID: fmt.Sprint(i)}})
		require.NoError(t, err)
	}
	var last time.Time
	for e, err := range s.ReadAll(ctx, 0) {
		require.NoError(t, err)
		require.False(t, e.RecordedAt.Before(last), "position %d recorded at %s, before %s", e.Position, e.RecordedAt, last)
		last = e.RecordedAt
	}
	_, err = eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	require.NoError(t, err)
}
