package workload

import (
	"context"
	"testing"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/stretchr/testify/require"
)

// generate builds a small tenant and plays a month of it on a memory log.
func generate(t *testing.T, seed uint64, workers int) (*memstore.Store, *entitlement.Manager, *Tenant, Stats) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	clock := NewClock(Start)
	m, err := entitlement.NewManager(ctx, st, entitlement.Options{Clock: clock, IDs: entitlement.SeededIDs(seed)})
	require.NoError(t, err)
	tn, err := Build(ctx, m, clock, Config{Seed: seed, Users: 300, Workers: workers}, nil)
	require.NoError(t, err)
	stats, err := tn.Play(ctx, 30, 40, nil)
	require.NoError(t, err)
	return st, m, tn, stats
}

func TestPlayDoesEverything(t *testing.T) {
	st, m, tn, stats := generate(t, 1, 1)
	t.Logf("%+v", stats)
	require.Equal(t, 30, stats.Days)
	for name, n := range map[string]int{"requests": stats.Requests, "approvals": stats.Approvals, "denials": stats.Denials,
		"cancels": stats.Cancels, "extensions": stats.Extensions, "removals": stats.Removals,
		"role-scope changes": stats.RoleScopeChanges, "attribute changes": stats.AttributeChanges} {
		require.Positive(t, n, name)
	}
	types := map[string]int{}
	for e, err := range st.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		types[e.Type]++
	}
	for _, typ := range []string{entitlement.EventAssignmentRequestTimedOut, entitlement.EventAssignmentExpired,
		entitlement.EventAssignmentRequestDenied, entitlement.EventAssignmentRequestCanceled, entitlement.EventAssignmentExtended,
		entitlement.EventApprovalStageEscalated, entitlement.EventResourceRoleScopeRemoved, entitlement.EventAssignmentFourteenDaysBeforeExpiration} {
		require.Positive(t, types[typ], "no %s in the history", typ)
	}
	c := m.State().Counts()
	require.Equal(t, len(tn.Users)+1, c.Users)
	require.Positive(t, c.LiveAssignments)
	_, err := eventstore.Verify(context.Background(), st.ReadAll(context.Background(), 0))
	require.NoError(t, err)
}

func TestSameSeedSameLog(t *testing.T) {
	a, _, _, _ := generate(t, 7, 1)
	b, _, _, _ := generate(t, 7, 1)
	var ta, tb []string
	for e, err := range a.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		ta = append(ta, string(e.Stream)+" "+e.Type+" "+string(e.Payload))
	}
	for e, err := range b.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		tb = append(tb, string(e.Stream)+" "+e.Type+" "+string(e.Payload))
	}
	require.Equal(t, ta, tb)
}

func TestWorkersRunTheSameCommands(t *testing.T) {
	_, m, _, stats := generate(t, 3, 8)
	require.Equal(t, 30, stats.Days)
	require.Positive(t, m.State().Counts().LiveAssignments)
}

func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a SQLite log")
	}
	rep, err := Bench(context.Background(), BenchConfig{Users: 200, HistoryDays: 10, Single: 50, Concurrent: 200, Dir: t.TempDir()}, nil)
	require.NoError(t, err)
	t.Logf("%+v", rep)
	require.GreaterOrEqual(t, rep.Expiry.N, 200, "one ProcessDue expired every assignment, at least one per user")
	require.Positive(t, rep.Replay.N)
	require.Positive(t, rep.RawInsertPerCommit.N)
	require.Positive(t, rep.RawAfterSingle.N)
	require.Len(t, rep.Reads, 4)
	require.Positive(t, rep.Entities)
	require.Positive(t, rep.SnapshotWrite.N, "snapshot bytes")
	require.Equal(t, rep.Tail, rep.SnapshotStart.N, "the start from the snapshot replayed only the tail")
}
