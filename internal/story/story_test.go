package story_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/story"
)

// play plays the story on a fresh log and returns the log's head and what
// the story told.
func play(t *testing.T) (eventstore.Head, string) {
	t.Helper()
	ctx := context.Background()
	clock := story.NewClock()
	log, err := sqlitestore.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlitestore.Options{Now: clock.Now})
	require.NoError(t, err)
	defer log.Close()
	var out bytes.Buffer
	_, err = story.Play(ctx, log, clock, &out)
	require.NoError(t, err, out.String())
	head, err := eventstore.Verify(ctx, log.ReadAll(ctx, 0))
	require.NoError(t, err)
	return head, out.String()
}

func TestPlayIsDeterministic(t *testing.T) {
	h1, out1 := play(t)
	h2, out2 := play(t)
	require.Equal(t, h1, h2, "the same log, hash for hash")
	require.Equal(t, out1, out2)
	require.Contains(t, out1, "Approve access package assignment request")
	require.Contains(t, out1, "is refused, and nothing is written")
	t.Log(out1)
}
