package entitlement

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenLog is the event log of an administrative session written with
// deterministic clocks and ids.
const goldenLog = "testdata/admin-log.golden.ndjson"

// TestGoldenAdminLog pins the event vocabulary: the log of a fixed
// administrative session must match testdata byte for byte (run with
// -update after a deliberate change, and add an upcaster when a payload's
// shape changes), and the stored log must still replay into the same state.
func TestGoldenAdminLog(t *testing.T) {
	ctx := context.Background()
	var n uint64
	st := memstore.New(memstore.Options{
		Now: func() time.Time { return t0 },
		NewID: func() ulid.ULID {
			n++
			return ulid.MustNew(ulid.Timestamp(t0), bytes.NewReader(bytes.Repeat([]byte{byte(n)}, 16)))
		},
	})
	w := buildAdminWorld(newWorldOn(t, st))
	var buf bytes.Buffer
	for e, err := range st.ReadAll(ctx, 0) {
		require.NoError(t, err)
		b, err := json.Marshal(e)
		require.NoError(t, err)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(goldenLog), 0o755))
		require.NoError(t, os.WriteFile(goldenLog, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(goldenLog)
	require.NoError(t, err, "run go test -run TestGoldenAdminLog -update to create it")
	require.Equal(t, string(want), buf.String())

	// Replay the stored log, verified, into a fresh state.
	replay := NewState()
	var events []eventstore.Event
	sc := bufio.NewScanner(bytes.NewReader(want))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventstore.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		events = append(events, e)
		de, err := DecodeEvent(e)
		require.NoError(t, err)
		require.NoError(t, replay.Apply(de))
	}
	require.NoError(t, sc.Err())
	requireSameState(t, w.m.State(), replay)
	require.NotEmpty(t, events)
}
