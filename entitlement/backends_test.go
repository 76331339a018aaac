package entitlement

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/stretchr/testify/require"
)

// TestSameSessionOnEveryBackend runs one administrative session on the
// in-memory store and on SQLite: the logs carry the same events and
// payloads, the states are equal, and the SQLite log replays into the same
// state after reopening.
func TestSameSessionOnEveryBackend(t *testing.T) {
	ctx := context.Background()
	mem := adminWorld(t)
	path := filepath.Join(t.TempDir(), "log.db")
	sq, err := sqlitestore.Open(path, sqlitestore.Options{Now: func() time.Time { return t0 }, Synchronous: sqlitestore.SyncOff})
	require.NoError(t, err)
	lite := buildAdminWorld(newWorldOn(t, sq))
	requireSameState(t, mem.m.State(), lite.m.State())

	read := func(st eventstore.Store) []eventstore.Event {
		var out []eventstore.Event
		for e, err := range st.ReadAll(ctx, 0) {
			require.NoError(t, err)
			out = append(out, e)
		}
		return out
	}
	a, b := read(mem.store), read(sq)
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.Equal(t, a[i].Stream, b[i].Stream)
		require.Equal(t, a[i].Type, b[i].Type)
		require.Equal(t, a[i].Metadata, b[i].Metadata)
		require.JSONEq(t, string(a[i].Payload), string(b[i].Payload))
	}

	require.NoError(t, sq.Close())
	sq, err = sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer sq.Close()
	m, err := NewManager(ctx, sq, Options{})
	require.NoError(t, err)
	requireSameState(t, mem.m.State(), m.State())
}

// TestSameAccessSessionOnEveryBackend runs the access session of the
// golden log on memory and on SQLite: equal states, and the SQLite log
// replays into the same state after reopening.
func TestSameAccessSessionOnEveryBackend(t *testing.T) {
	ctx := context.Background()
	mem, fd := accessWorld(t)
	accessSession(mem, fd)
	path := filepath.Join(t.TempDir(), "log.db")
	sq, err := sqlitestore.Open(path, sqlitestore.Options{Now: func() time.Time { return t0 }, Synchronous: sqlitestore.SyncOff})
	require.NoError(t, err)
	lite, fd2 := accessWorldOn(newWorldOn(t, sq))
	accessSession(lite, fd2)
	requireSameState(t, mem.m.State(), lite.m.State())
	require.Equal(t, fd.held, fd2.held)
	require.NoError(t, sq.Close())
	sq, err = sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer sq.Close()
	m, err := NewManager(ctx, sq, Options{})
	require.NoError(t, err)
	requireSameState(t, mem.m.State(), m.State())
}
