package projection

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/entitlement/entitlementtest"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCanceledQueriesLeaveNoOpenTransaction: queries whose context ends
// at all points of their run give their connections back outside any
// transaction: afterwards, as many queries at once as the pool holds all
// begin and see the latest commit.
func TestCanceledQueriesLeaveNoOpenTransaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 30, 5))
	p := openProjection(t, st, filepath.Join(dir, "p.projection"), Options{})
	_, err := p.CatchUp(ctx)
	require.NoError(t, err)
	for i := range 300 {
		c, cancel := context.WithTimeout(ctx, time.Duration(i%60)*10*time.Microsecond)
		switch i % 3 {
		case 0:
			_, _ = p.AuditLog(c, AuditFilter{})
		case 1:
			_, _ = p.Requests(c, RequestFilter{}, As{})
		default:
			_, _ = p.Assignments(c, entitlement.AssignmentFilter{}, As{})
		}
		cancel()
	}
	putLateUser(t, st)
	last, err := p.CatchUp(ctx)
	require.NoError(t, err)
	pool, err := p.readPool()
	require.NoError(t, err)
	n := pool.Stats().MaxOpenConnections
	views := make([]*sql.Conn, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			db, err := p.view(ctx)
			if !assert.NoError(t, err) {
				return
			}
			cp, err := readCheckpoint(ctx, db)
			assert.NoError(t, err)
			assert.Equal(t, last, cp)
			mu.Lock()
			views = append(views, db)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, v := range views {
		endView(v)
	}
}

// TestQueryReadsOneCommit: the statements of one query read through one
// read transaction, so a catch-up that commits between two of them is not
// seen by the second; the next query sees it.
func TestQueryReadsOneCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 9, 2))
	p := openProjection(t, st, filepath.Join(dir, "p.projection"), Options{})
	first, err := p.CatchUp(ctx)
	require.NoError(t, err)
	putLateUser(t, st)

	db, err := p.view(ctx)
	require.NoError(t, err)
	cp, err := readCheckpoint(ctx, db)
	require.NoError(t, err)
	require.Equal(t, first, cp)
	last, err := p.CatchUp(ctx)
	require.NoError(t, err)
	require.Greater(t, last.Position, first.Position)
	cp, err = readCheckpoint(ctx, db)
	require.NoError(t, err)
	require.Equal(t, first, cp, "a statement later in the same query")
	endView(db)
	got, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, last, got, "the next query")
}

// putLateUser appends a command to the log: a user named late.
func putLateUser(t *testing.T, st eventstore.Store) {
	t.Helper()
	m, err := entitlement.NewManager(context.Background(), st, entitlement.Options{NoSnapshot: true})
	require.NoError(t, err)
	_, err = m.Execute(context.Background(), entitlement.SystemActor(), entitlement.PutUser{User: entitlement.User{
		ID: entitlementtest.NameID("late"), DisplayName: "late", AccountEnabled: true}})
	require.NoError(t, err)
}
