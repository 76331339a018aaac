package entitlement

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"
)

// goldenAccessLog is the event log of a fixed session on the access side:
// requests, an approval, a denial, a partial delivery, an extension, a
// removal, escalation, notices and expiry.
const goldenAccessLog = "testdata/access-log.golden.ndjson"

// goldenAccessLogV1 is the same session as the log's first schema wrote
// it, before new requests referred to their policy version.
const goldenAccessLogV1 = "testdata/access-log.v1.ndjson"

// TestGoldenAccessLog pins the vocabulary of requests, approvals and
// assignments as TestGoldenAdminLog does for administration.
func TestGoldenAccessLog(t *testing.T) {
	ctx := context.Background()
	var n uint64
	st := memstore.New(memstore.Options{
		Now: func() time.Time { return t0 },
		NewID: func() ulid.ULID {
			n++
			var b [16]byte
			for i := range 8 {
				b[2+i] = byte(n >> (8 * (7 - i)))
			}
			return ulid.MustNew(ulid.Timestamp(t0), bytes.NewReader(b[:]))
		},
	})
	w, fd := accessWorldOn(newWorldOn(t, st))
	start := w.head().Position
	accessSession(w, fd)

	var buf bytes.Buffer
	for e, err := range st.ReadAll(ctx, start) {
		require.NoError(t, err)
		b, err := json.Marshal(e)
		require.NoError(t, err)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if *update {
		require.NoError(t, os.WriteFile(goldenAccessLog, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(goldenAccessLog)
	require.NoError(t, err, "run go test -run TestGoldenAccessLog -update to create it")
	require.Equal(t, string(want), buf.String())
	requireSameState(t, w.state(), w.replayed())

	// The same session as written by the first version of the log, whose
	// new requests carried a copy of their policy (schema version 1),
	// replays to the same state.
	setup := NewState()
	for e, err := range st.ReadAll(ctx, 0) {
		require.NoError(t, err)
		if e.Position > start {
			break
		}
		de, err := DecodeEvent(e)
		require.NoError(t, err)
		require.NoError(t, setup.Apply(de))
	}
	v1, err := os.ReadFile(goldenAccessLogV1)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(v1))
	sc.Buffer(nil, 1<<20)
	versions := map[int]int{}
	for sc.Scan() {
		var e eventstore.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		versions[e.SchemaVersion]++
		de, err := DecodeEvent(e)
		require.NoError(t, err)
		require.NoError(t, setup.Apply(de))
	}
	require.Equal(t, map[int]int{1: len(bytes.Split(bytes.TrimSpace(v1), []byte("\n")))}, versions, "the old log is all version 1")
	requireConsistentIndexes(t, setup)
	// Its requests are this session's, each with the policy version it
	// was submitted under. (The rest differs: the old session was played
	// when a late ProcessDue still sent expiry notices after the end.)
	now, old := w.state(), setup
	require.Equal(t, now.requests.Len(), old.requests.Len())
	for id, r := range now.requests.All() {
		o, ok := old.requests.Get(id)
		require.True(t, ok, "request %s", id)
		require.Equal(t, cloneRequest(*r), cloneRequest(*o))
	}
}

// accessSession runs the access session of the golden log in w.
func accessSession(w *world, fd *fakeDeliverer) {
	t := w.t
	t.Helper()
	a := w.request("alice", "P1", "PolA")
	w.clock.t = w.clock.t.Add(time.Hour)
	w.approve("bob", a)
	d := w.request("erin", "P1", "PolA")
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: d, StageID: w.getRequest(d).Stages[0].ID, ReviewResult: DecisionDeny})
	fd.failOn[w.id["G3"]] = true
	f := w.request("frank", "P2", "Pol2")
	fd.failOn[w.id["G3"]] = false
	w.do(w.actors["apAssignmentManager"], ReprocessAssignmentRequest{RequestID: f})
	e := w.request("erin", "P2", "Pol2")
	w.clock.t = w.clock.t.Add(24 * time.Hour)
	w.do(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: w.getRequest(e).AssignmentID})
	w.do(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: w.getRequest(e).AssignmentID})
	w.clock.t = w.clock.t.Add(40 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
}
