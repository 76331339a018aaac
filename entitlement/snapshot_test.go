package entitlement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
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

// snapshotted is snapshotWorld with a snapshot written beside the log:
// its path and content.
func snapshotted(t *testing.T) (w *world, st *sqlitestore.Store, snap string, content []byte) {
	t.Helper()
	w, st, _ = snapshotWorld(t)
	info, err := w.m.WriteSnapshot(w.ctx, "")
	require.NoError(t, err)
	content, err = os.ReadFile(info.Path)
	require.NoError(t, err)
	return w, st, info.Path, content
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
	require.Equal(t, info.Bytes, m.Started().Snapshot.Bytes)
	require.NoError(t, m.Started().SnapshotIgnored)
	require.Equal(t, int(w.head().Position-info.Position), m.Started().Replayed, "and replayed only the tail")
	requireSameState(t, w.m.State(), m.State())
	requireConsistentIndexes(t, m.State())

	full, err := NewManager(w.ctx, st, Options{Clock: w.clock, NoSnapshot: true})
	require.NoError(t, err)
	require.Empty(t, full.Started().Snapshot.Path)
	require.NoError(t, full.Started().SnapshotIgnored, "not looked at")
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
	w, st, snap, good := snapshotted(t)

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
		mismatch := name == "another log's"
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(c.dst, c.file, 0o644))
			var logs bytes.Buffer
			m, err := NewManager(w.ctx, c.store, Options{Clock: w.clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			require.Empty(t, m.Started().Snapshot.Path, "the snapshot was not used")
			require.Error(t, m.Started().SnapshotIgnored, "and says why")
			require.Equal(t, mismatch, errors.Is(m.Started().SnapshotIgnored, ErrSnapshotMismatch), "%v", m.Started().SnapshotIgnored)
			require.Equal(t, int(m.Head()), m.Started().Replayed, "the whole log")
			require.Contains(t, logs.String(), "snapshot ignored")
			requireSameState(t, c.want.m.State(), m.State())
		})
	}
}

func TestWriteSnapshotNeedsAPath(t *testing.T) {
	w := newWorld(t) // a memory log has no file to put the snapshot beside
	_, err := w.m.WriteSnapshot(context.Background(), "")
	requireKind(t, err, ErrInvalid) // found by a review: an untyped error
	p := filepath.Join(t.TempDir(), "mem.snapshot")
	info, err := w.m.WriteSnapshot(context.Background(), p)
	require.NoError(t, err)
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, SnapshotPath: p})
	require.NoError(t, err)
	require.Equal(t, info.Position, m.Started().Snapshot.Position)
	requireSameState(t, w.m.State(), m.State())
}

// TestSnapshotKeepsEveryKindOfState: automatic assignments with a removal
// scheduled, workflows with versions, scheduled runs and results, guests
// blocked with a deletion scheduled, settings history, access reviews in
// progress: a snapshot holds them all, and the Manager that starts from
// it has the State replaying gives, due queue included.
func TestSnapshotKeepsEveryKindOfState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	st, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	w, _ := workflowWorldOn(newWorldOn(t, st))
	ga, lcw := w.actors["GA"], w.actors["lcw"]
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	w.do(ga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], DurationDays(2))})
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	wf := w.do(lcw, CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	w.do(lcw, CreateWorkflowVersion{WorkflowID: wf, Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], -1)})
	hire := w.clock.t.AddDate(0, 0, 5)
	w.do(sys, PutUser{User: User{ID: nameID("user/snap"), Department: "Sales", EmployeeHireDate: &hire, AccountEnabled: true}})
	w.do(lcw, ActivateWorkflow{WorkflowID: wf, Subjects: []string{w.uid["bob"]}})
	pkg := w.do(ga, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg,
		AssignmentPolicyID: w.do(ga, CreateAssignmentPolicy{Policy: openPolicy(pkg, ScopeAllExternalUsers, 1)}).ID})
	w.do(ga, UpdateSettings{DurationUntilExternalUserDeletedAfterBlocked: ptr(DurationDays(9))})
	w.do(ga, CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)})
	w.advance(26 * time.Hour)

	_, err = w.m.WriteSnapshot(w.ctx, "")
	require.NoError(t, err)
	m, err := NewManager(w.ctx, st, Options{Clock: w.clock})
	require.NoError(t, err)
	require.NotEmpty(t, m.Started().Snapshot.Path)
	requireSameState(t, w.m.State(), m.State())
	requireConsistentIndexes(t, m.State())
	s := m.State()
	require.Positive(t, s.workflowResults.Len())
	require.Positive(t, s.scheduledRuns.Len())
	require.Positive(t, s.reviews.Len())
	require.NotEmpty(t, s.settingsLog)
	kim, err := s.GuestByEmail(ga, "kim@fabrikam.com")
	require.NoError(t, err)
	require.NotNil(t, kim.Lifecycle.DeletionDateTime)
}

// reseal gives a snapshot file edited by hand the checksum of its new
// content, as someone who may write the file can.
func reseal(t *testing.T, data []byte) []byte {
	t.Helper()
	end := bytes.LastIndex(bytes.TrimRight(data, "\n"), []byte("\nend "))
	require.Positive(t, end)
	sum := sha256.Sum256(data[:end+1])
	return append(slices.Clip(data[:end+1]), "end "+hex.EncodeToString(sum[:])+"\n"...)
}

// TestSnapshotResealed (found by a review): a snapshot edited and
// resealed. The Manager cannot tell at start an edited object that the
// log's tail does not touch (the checksum is no signature, as the format
// says), but CheckSnapshot finds it; a snapshot that claims position 0,
// or whose tail does not apply to it, is ignored and the log replayed.
func TestSnapshotResealed(t *testing.T) {
	w, st, snap, good := snapshotted(t)
	require.NoError(t, w.m.CheckSnapshot(w.ctx, ""), "a snapshot as written is the log's")
	tailFrom := w.head().Position
	w.do(w.actors["GA"], CreateCatalog{DisplayName: "Tail"})

	edited := reseal(t, bytes.Replace(good, []byte(`"displayName":"frank"`), []byte(`"displayName":"Mallory"`), 1))
	require.NoError(t, os.WriteFile(snap, edited, 0o644))
	err := w.m.CheckSnapshot(w.ctx, "")
	require.ErrorIs(t, err, ErrSnapshotMismatch)
	require.Contains(t, err.Error(), "users differ")

	lines := bytes.SplitAfter(good, []byte("\n"))
	var hdr snapshotHeader
	require.NoError(t, json.Unmarshal(lines[1], &hdr))
	require.Equal(t, tailFrom, hdr.Position)
	hdr.Position, hdr.Hash = 0, eventstore.Hash{}
	zero, err := json.Marshal(hdr)
	require.NoError(t, err)
	// A tail that does not apply: the snapshot without the policies, which
	// the tail's request names.
	var noPolicies [][]byte
	for _, l := range lines {
		if !bytes.HasPrefix(l, []byte("policy ")) {
			noPolicies = append(noPolicies, l)
		}
	}
	tail := w.request("frank", "P1", "PolA")
	w.approve("carol", tail)
	for name, file := range map[string][]byte{
		"position 0":               reseal(t, bytes.Join(append([][]byte{lines[0], append(zero, '\n')}, lines[2:]...), nil)),
		"a tail that cannot apply": reseal(t, bytes.Join(noPolicies, nil)),
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(snap, file, 0o644))
			m, err := NewManager(w.ctx, st, Options{Clock: w.clock})
			require.NoError(t, err)
			require.Empty(t, m.Started().Snapshot.Path, "the snapshot was not used")
			require.ErrorIs(t, m.Started().SnapshotIgnored, ErrSnapshotMismatch)
			require.Equal(t, int(m.Head()), m.Started().Replayed, "the whole log")
			requireSameState(t, w.m.State(), m.State())
			requireConsistentIndexes(t, m.State())
		})
	}
}

// TestSnapshotTailChainBroken: a tail that breaks the chain after a
// sound snapshot fails the start, as a whole replay would; it is no
// reason to ignore the snapshot and replay the log again (review).
func TestSnapshotTailChainBroken(t *testing.T) {
	w, st, snap, _ := snapshotted(t)
	w.do(w.actors["GA"], CreateCatalog{DisplayName: "Tail"})
	fs := &flakyStore{Store: st, failAfter: -1, edited: w.head().Position}
	reads := &countingReads{Store: fs}
	_, err := NewManager(w.ctx, reads, Options{Clock: w.clock, SnapshotPath: snap})
	require.ErrorIs(t, err, eventstore.ErrChain)
	require.NotErrorIs(t, err, ErrSnapshotMismatch)
	require.Equal(t, 2, reads.n, "the snapshot's event, then the tail: the log is not replayed again")
}

// countingReads counts the reads of the log.
type countingReads struct {
	eventstore.Store
	n int
}

func (c *countingReads) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	c.n++
	return c.Store.ReadAll(ctx, after)
}

// TestSnapshotKey: with Options.SnapshotKey, snapshots are sealed with an
// HMAC under it, and only a snapshot sealed under the key is used: one
// edited and resealed without the key, one sealed under another key and
// one without a key are ignored; without the key, a keyed one is too.
func TestSnapshotKey(t *testing.T) {
	w, st, snap, plain := snapshotted(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	keyed, err := NewManager(w.ctx, st, Options{Clock: w.clock, SnapshotKey: key, NoSnapshot: true})
	require.NoError(t, err)
	_, err = keyed.WriteSnapshot(w.ctx, "")
	require.NoError(t, err)
	sealed, err := os.ReadFile(snap)
	require.NoError(t, err)
	require.Contains(t, string(sealed), "\nend hmac-sha256 ")
	require.NoError(t, keyed.CheckSnapshot(w.ctx, ""))

	start := func(file []byte, k []byte) StartInfo {
		t.Helper()
		require.NoError(t, os.WriteFile(snap, file, 0o644))
		m, err := NewManager(w.ctx, st, Options{Clock: w.clock, SnapshotKey: k})
		require.NoError(t, err)
		requireSameState(t, w.m.State(), m.State())
		return m.Started()
	}
	require.NotEmpty(t, start(sealed, key).Snapshot.Path, "sealed under the key: used")
	edited := bytes.Replace(sealed, []byte(`"displayName":"frank"`), []byte(`"displayName":"Mallory"`), 1)
	require.NotEqual(t, sealed, edited)
	for name, c := range map[string]struct {
		file []byte
		key  []byte
		why  string
	}{
		"edited, seal kept":                {edited, key, "does not match"},
		"edited, resealed without the key": {reseal(t, edited), key, "not sealed with"},
		"sealed under another key":         {sealed, []byte("another key, as long as the first"), "does not match"},
		"no key, a keyed snapshot":         {sealed, nil, "sealed with a key"},
		"a key, an unkeyed snapshot":       {plain, key, "not sealed with"},
		"an empty key is no key":           {sealed, []byte{}, "sealed with a key"},
	} {
		info := start(c.file, c.key)
		require.Empty(t, info.Snapshot.Path, name)
		require.ErrorContains(t, info.SnapshotIgnored, c.why, name)
	}
}
