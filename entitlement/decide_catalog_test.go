package entitlement

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateCatalog(t *testing.T) {
	w := newWorld(t)
	alice := w.user("alice")
	ga := w.user("ga", GlobalAdministrator)
	w.do(ga, CreateRoleAssignment{PrincipalID: w.uid["alice"], RoleDefinitionID: RoleCatalogCreator, AppScopeID: TenantScope})

	r := w.do(alice, CreateCatalog{DisplayName: "Marketing", Description: "Campaign resources"})
	require.Len(t, r.Events, 1)
	ev := r.Events[0]
	require.Equal(t, EventCatalogCreated, ev.Type)
	require.Equal(t, "catalog/"+r.ID, string(ev.Stream))
	require.Equal(t, "Create access package catalog", ActivityName(ev.Type))
	require.Equal(t, alice.ID, ev.Metadata.ActorID)
	require.Equal(t, "user", ev.Metadata.ActorKind)
	require.Equal(t, t0, ev.OccurredAt)
	var payload CatalogCreated
	require.NoError(t, json.Unmarshal(ev.Payload, &payload))
	require.NotNil(t, payload.OwnerRoleAssignment)

	s := w.state()
	c, err := s.GetCatalog(alice, r.ID)
	require.NoError(t, err)
	require.Equal(t, Catalog{ID: r.ID, DisplayName: "Marketing", Description: "Campaign resources",
		CatalogType: CatalogTypeUserManaged, State: CatalogStatePublished, IsExternallyVisible: true,
		CreatedDateTime: t0, ModifiedDateTime: t0}, c)
	// The creator became the owner (invariant 47).
	ras := s.ListRoleAssignments(ga, RoleAssignmentFilter{AppScopeID: CatalogScope(r.ID)})
	require.Len(t, ras, 1)
	require.Equal(t, alice.ID, ras[0].PrincipalID)
	require.Equal(t, RoleCatalogOwner, ras[0].RoleDefinitionID)
	// A catalog creator sees only its own catalogs, not General.
	cats := s.ListCatalogs(alice)
	require.Len(t, cats, 1)
	require.Equal(t, r.ID, cats[0].ID)
	require.Len(t, s.ListCatalogs(ga), 2)
}

func TestCreateCatalogRejections(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	_, err := w.try(ga, CreateCatalog{DisplayName: "  "})
	requireField(t, err, "displayName")
	_, err = w.try(ga, CreateCatalog{DisplayName: "x", State: "enabled"})
	requireField(t, err, "state")
	_, err = w.try(w.user("bob"), CreateCatalog{DisplayName: "x"})
	requireKind(t, err, ErrForbidden)
}

func TestCatalogLimit(t *testing.T) {
	s := NewState()
	for i := range MaxCatalogs {
		id := nameID("cat/" + itoa(i))
		s.catalogs.Set(id, &Catalog{ID: id})
	}
	_, err := Decide(s, SystemActor(), t0, SeededIDs(1), CreateCatalog{DisplayName: "one too many"})
	requireKind(t, err, ErrLimit)
}

func TestUpdateCatalog(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	id := w.do(ga, CreateCatalog{DisplayName: "A"}).ID
	w.clock.t = t0.Add(60e9)
	r := w.do(ga, UpdateCatalog{CatalogID: id, DisplayName: ptr("B"), State: ptr(CatalogStateUnpublished), IsExternallyVisible: ptr(false)})
	require.Equal(t, EventCatalogUpdated, r.Events[0].Type)
	c, err := w.state().GetCatalog(ga, id)
	require.NoError(t, err)
	require.Equal(t, "B", c.DisplayName)
	require.Equal(t, CatalogStateUnpublished, c.State)
	require.False(t, c.IsExternallyVisible)
	require.Equal(t, t0.Add(60e9), c.ModifiedDateTime)
	require.Equal(t, t0, c.CreatedDateTime)

	_, err = w.try(ga, UpdateCatalog{CatalogID: nameID("missing")})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, UpdateCatalog{CatalogID: id, State: ptr("x")})
	requireField(t, err, "state")
	_, err = w.try(ga, UpdateCatalog{CatalogID: id, DisplayName: ptr("")})
	requireField(t, err, "displayName")
}

func TestDeleteCatalog(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	_, err := w.try(ga, DeleteCatalog{CatalogID: w.id["C"]})
	requireKind(t, err, ErrConflict) // it holds packages (invariant 5)
	_, err = w.try(ga, DeleteCatalog{CatalogID: GeneralCatalogID})
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, DeleteCatalog{CatalogID: nameID("nope")})
	requireKind(t, err, ErrNotFound)

	r := w.do(ga, DeleteCatalog{CatalogID: w.id["E"]})
	require.Equal(t, "Delete access package catalog", ActivityName(r.Events[0].Type))
	s := w.state()
	_, err = s.GetCatalog(ga, w.id["E"])
	requireKind(t, err, ErrNotFound)
	// Its role assignments went with it (invariant 47).
	require.Empty(t, s.ListRoleAssignments(ga, RoleAssignmentFilter{AppScopeID: CatalogScope(w.id["E"])}))
}

func TestGeneralCatalogBootstrap(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	c, err := w.state().GetCatalog(ga, GeneralCatalogID)
	require.NoError(t, err)
	require.Equal(t, CatalogTypeServiceDefault, c.CatalogType)
	require.Equal(t, "General", c.DisplayName)
	// A second manager on the same log does not bootstrap again.
	h := w.head()
	_ = w.replayed()
	require.Equal(t, h, w.head())
	// General is usable like any catalog.
	w.do(ga, CreateAccessPackage{CatalogID: GeneralCatalogID, DisplayName: "Everyone"})
}

// TestEmptyReferenceIsInvalid: a command that names no object where it
// must name one is incomplete (Graph's 400), not about a missing object:
// ErrInvalid with the field, and nothing appended.
func TestEmptyReferenceIsInvalid(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	head := w.head()
	for _, cmd := range []Command{
		DeleteCatalog{},
		CreateAccessPackage{DisplayName: "Sales"},
	} {
		_, err := w.try(ga, cmd)
		require.ErrorIs(t, err, ErrInvalid, "%T", cmd)
		var ie *InvalidError
		require.ErrorAs(t, err, &ie)
		require.Equal(t, "catalogId", ie.Field)
		require.Contains(t, err.Error(), "is required")
	}
	require.Equal(t, head, w.head(), "nothing appended")
	_, err := w.try(ga, DeleteCatalog{CatalogID: "0b1c2d3e-0000-4000-8000-000000000000"})
	require.ErrorIs(t, err, ErrNotFound, "an id that names nothing is still not found")
}
