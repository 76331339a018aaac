package projection

import (
	"context"
	"testing"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/stretchr/testify/require"
)

// TestActorNamesWithTheCacheEmptied holds the audit log's actor names to
// the names of the time when the writer's cache of objects is emptied
// after every event, so that every name is read back from the objects
// table: a rename written there must be the name read afterwards.
func TestActorNamesWithTheCacheEmptied(t *testing.T) {
	ctx := context.Background()
	log := memstore.New(memstore.Options{})
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{})
	require.NoError(t, err)
	ann := "0a0a0a0a-0000-4000-8000-000000000001"
	sys, admin := entitlement.SystemActor(), entitlement.UserActor(ann, entitlement.GlobalAdministrator)
	_, err = m.Execute(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: ann, DisplayName: "Ann", AccountEnabled: true}})
	require.NoError(t, err)
	cat, err := m.Execute(ctx, sys, entitlement.CreateCatalog{DisplayName: "Sales"})
	require.NoError(t, err)
	// Renaming the catalog reads nothing of Ann but her name.
	rename := func(name string) entitlement.Command {
		return entitlement.UpdateCatalog{CatalogID: cat.ID, DisplayName: &name}
	}
	for _, c := range []struct {
		actor entitlement.Actor
		cmd   entitlement.Command
	}{
		{admin, rename("Sales 1")},
		{sys, entitlement.SetUserAttribute{UserID: ann, Name: "displayName", Value: "Ann Lee"}},
		{admin, rename("Sales 2")},
	} {
		_, err := m.Execute(ctx, c.actor, c.cmd)
		require.NoError(t, err)
	}
	p, err := Open(ctx, log, t.TempDir()+"/p.projection", Options{})
	require.NoError(t, err)
	defer p.Close()
	p.w.maxCached = 0
	_, err = p.CatchUp(ctx)
	require.NoError(t, err)
	entries, err := p.AuditLog(ctx, AuditFilter{ActorID: ann})
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.InitiatedBy.DisplayName)
	}
	require.Equal(t, []string{"Ann", "Ann Lee"}, names)
}
