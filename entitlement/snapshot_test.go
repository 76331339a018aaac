package entitlement

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/stretchr/testify/require"
)

// snapshotWorld is the access world on a SQLite log in a file, after the
// golden access session.
func snapshotWorld(t *testing.T) (*world, *sqlitestore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	st, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	w, fd := accessWorldOn(newWorldOn(t, st))
	accessSession(w, fd)
	return w, st, path
}

func TestSnapshotPlusTail(t *testing.T) {
	w, st, path := snapshotWorld(t)
	info, err := w.m.WriteSnapshot(w.ctx, "")
	require.NoError(t, err)
	require.Equal(t, path+".snapshot", info.Path, "beside the log by default")
	require.Equal(t, w.head().Position, info.Position)
	require.Positive(t, info.Bytes)

	// The tail: more commands after the snapshot.
	first := w.request("frank", "P1", "PolA")
	w.clock.t = w.clock.t.Add(time.Hour)
	w.approve("carol", first)
	repeat := w.do(w.actors["GA"], CreateCatalog{DisplayName: "Tail"})

	m, err := NewManager(w.ctx, st, Options{Clock: w.clock})
	require.NoError(t, err)
	require.Equal(t, info.Position, m.Started().Snapshot.Position, "started from the snapshot")
	require.Equal(t, int(w.head().Position-info.Position), m.Started().Replayed, "and replayed only the tail")
	requireSameState(t, w.m.State(), m.State())
	requireConsistentIndexes(t, m.State())

	full, err := NewManager(w.ctx, st, Options{Clock: w.clock, NoSnapshot: true})
	require.NoError(t, err)
	require.Empty(t, full.Started().Snapshot.Path)
	require.Equal(t, int(w.head().Position), full.Started().Replayed)
	requireSameState(t, full.State(), m.State())

	// Command ids from before the snapshot are still known: reusing one
	// for another command is refused, naming where it was used, and
	// repeating a command appends nothing.
	_, err = m.Execute(w.ctx, w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["P1"], AssignmentPolicyID: w.id["PolA"]}, WithCommandID("acmd-1"))
	require.ErrorIs(t, err, ErrConflict)
	require.Contains(t, err.Error(), "was used at position")
	res, err := m.Execute(w.ctx, w.actors["GA"], CreateCatalog{DisplayName: "Tail"}, WithCommandID(repeat.CommandID))
	require.NoError(t, err)
	require.True(t, res.Duplicate)
	require.Equal(t, repeat.ID, res.ID)
}

// TestSnapshotNotTrusted: a snapshot of another log, a damaged one and a
// truncated one are ignored, and the whole log is replayed.
func TestSnapshotNotTrusted(t *testing.T) {
	w, st, path := snapshotWorld(t)
	snap := path + ".snapshot"
	_, err := w.m.WriteSnapshot(w.ctx, "")
	require.NoError(t, err)
	good, err := os.ReadFile(snap)
	require.NoError(t, err)

	other, ost, opath := snapshotWorld(t)
	other.do(other.actors["GA"], CreateCatalog{DisplayName: "Only in the other log"})

	damaged := bytes.Replace(good, []byte(`"displayName":"frank"`), []byte(`"displayName":"Frank"`), 1)
	require.NotEqual(t, good, damaged)
	for name, c := range map[string]struct {
		store *sqlitestore.Store
		file  []byte
		dst   string
		want  *world
	}{
		"another log's":  {ost, good, opath + ".snapshot", other},
		"damaged":        {st, damaged, snap, w},
		"truncated":      {st, good[:len(good)/2], snap, w},
		"not a snapshot": {st, []byte("hello\n"), snap, w},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(c.dst, c.file, 0o644))
			var logs bytes.Buffer
			m, err := NewManager(w.ctx, c.store, Options{Clock: w.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			require.Empty(t, m.Started().Snapshot.Path, "the snapshot was not used")
			require.Contains(t, logs.String(), "snapshot ignored")
			requireSameState(t, c.want.m.State(), m.State())
		})
	}
}

func TestWriteSnapshotNeedsAPath(t *testing.T) {
	w := newWorld(t) // a memory log has no file to put the snapshot beside
	_, err := w.m.WriteSnapshot(context.Background(), "")
	require.Error(t, err)
	p := filepath.Join(t.TempDir(), "mem.snapshot")
	info, err := w.m.WriteSnapshot(context.Background(), p)
	require.NoError(t, err)
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, SnapshotPath: p})
	require.NoError(t, err)
	require.Equal(t, info.Position, m.Started().Snapshot.Position)
	requireSameState(t, w.m.State(), m.State())
}
