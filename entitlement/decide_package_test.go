package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccessPackageLifecycle(t *testing.T) {
	w := adminWorld(t)
	apm := w.actors["apManager"]
	r := w.do(apm, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Sales", Description: "For sales", IsHidden: true})
	require.Equal(t, EventAccessPackageCreated, r.Events[0].Type)
	id := r.ID
	p, err := w.state().GetAccessPackage(apm, id)
	require.NoError(t, err)
	require.Equal(t, "Sales", p.DisplayName)
	require.True(t, p.IsHidden)
	require.Equal(t, w.id["C"], p.CatalogID)

	w.do(apm, UpdateAccessPackage{AccessPackageID: id, DisplayName: ptr("Sales EU"), IsHidden: ptr(false)})
	p, err = w.state().GetAccessPackage(apm, id)
	require.NoError(t, err)
	require.Equal(t, "Sales EU", p.DisplayName)
	require.Equal(t, "For sales", p.Description)
	require.False(t, p.IsHidden)

	_, err = w.try(apm, UpdateAccessPackage{AccessPackageID: id, DisplayName: ptr("")})
	requireField(t, err, "displayName")
	_, err = w.try(apm, CreateAccessPackage{CatalogID: w.id["C"]})
	requireField(t, err, "displayName")
	_, err = w.try(apm, CreateAccessPackage{CatalogID: nameID("none"), DisplayName: "x"})
	requireKind(t, err, ErrNotFound)

	pkgs, err := w.state().ListAccessPackages(w.actors["reader"], w.id["C"])
	require.NoError(t, err)
	require.Len(t, pkgs, 4)
	_, err = w.state().ListAccessPackages(w.actors["plain"], w.id["C"])
	requireKind(t, err, ErrForbidden)

	// Deleting P1 takes its policies with it and removes it from other
	// packages' incompatibility lists.
	w.do(apm, AddIncompatibleAccessPackage{AccessPackageID: id, IncompatibleAccessPackageID: w.id["P1"]})
	r = w.do(apm, DeleteAccessPackage{AccessPackageID: w.id["P1"]})
	require.Equal(t, "Delete access package", ActivityName(r.Events[0].Type))
	s := w.state()
	_, err = s.GetAssignmentPolicy(apm, w.id["Pol1"])
	requireKind(t, err, ErrNotFound)
	p, err = s.GetAccessPackage(apm, id)
	require.NoError(t, err)
	require.Empty(t, p.IncompatibleAccessPackages)
	_, err = w.try(apm, DeleteAccessPackage{AccessPackageID: w.id["P1"]})
	requireKind(t, err, ErrNotFound)
}

func TestPackageLimit(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	for i := range MaxPackagesPerCatalog {
		w.do(ga, CreateAccessPackage{CatalogID: cat, DisplayName: "p" + itoa(i)})
	}
	_, err := w.try(ga, CreateAccessPackage{CatalogID: cat, DisplayName: "last"})
	requireKind(t, err, ErrLimit)
}

func TestResourceRoleScopes(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	r := w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	require.Equal(t, w.id["G1-member"]+"_"+w.id["G1-root"], r.ID) // invariant 3
	require.Equal(t, EventResourceRoleScopeAdded, r.Events[0].Type)
	p, err := w.state().GetAccessPackage(ga, w.id["P2"])
	require.NoError(t, err)
	require.Len(t, p.ResourceRoleScopes, 1)
	require.Equal(t, w.resourceByOrigin(w.id["C"], w.id["G1"]).ID, p.ResourceRoleScopes[0].ResourceID)

	_, err = w.try(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: nameID("none"), ScopeID: w.id["G1-root"]})
	requireKind(t, err, ErrNotFound)
	// Role and scope of different resources.
	g3 := w.resourceByOrigin(w.id["C"], w.id["G3"])
	_, err = w.try(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: w.id["G1-owner"], ScopeID: g3.Scopes[0].ID})
	requireField(t, err, "scope")
	// A resource of another catalog (invariant 2).
	w.do(ga, addGroup(w.id["D"], w.id["G2"]))
	g2 := w.resourceByOrigin(w.id["D"], w.id["G2"])
	_, err = w.try(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: g2.Roles[0].ID, ScopeID: g2.Scopes[0].ID})
	requireField(t, err, "role")

	w.do(ga, RemoveResourceRoleScope{AccessPackageID: w.id["P2"], ResourceRoleScopeID: r.ID})
	_, err = w.try(ga, RemoveResourceRoleScope{AccessPackageID: w.id["P2"], ResourceRoleScopeID: r.ID})
	requireKind(t, err, ErrNotFound)
	// Application permissions alone don't change package resources (§3.4).
	_, err = w.try(w.actors["appReadWrite"], AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	requireKind(t, err, ErrForbidden)
}

func TestIncompatibilities(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	r := w.do(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: w.id["P3"]})
	require.Equal(t, "Create incompatible access package", ActivityName(r.Events[0].Type))
	s := w.state()
	inc, err := s.IncompatibleAccessPackages(ga, w.id["P2"])
	require.NoError(t, err)
	require.Len(t, inc, 1)
	require.Equal(t, w.id["P3"], inc[0].ID)
	// Directional: P3 itself lists nothing, its inverse lists P1 and P2.
	inc, err = s.IncompatibleAccessPackages(ga, w.id["P3"])
	require.NoError(t, err)
	require.Empty(t, inc)
	inv, err := s.AccessPackagesIncompatibleWith(ga, w.id["P3"])
	require.NoError(t, err)
	require.ElementsMatch(t, []string{w.id["P1"], w.id["P2"]}, []string{inv[0].ID, inv[1].ID})
	groups, err := s.IncompatibleGroups(ga, w.id["P1"])
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, w.id["GX"], groups[0].ID)

	_, err = w.try(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: w.id["P2"]})
	requireField(t, err, "incompatibleAccessPackageId")
	_, err = w.try(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: w.id["P3"]})
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: nameID("x")})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, AddIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: w.id["GX"]})
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, AddIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: nameID("x")})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, RemoveIncompatibleGroup{AccessPackageID: w.id["P2"], GroupID: w.id["GX"]})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, RemoveIncompatibleAccessPackage{AccessPackageID: w.id["P3"], IncompatibleAccessPackageID: w.id["P2"]})
	requireKind(t, err, ErrNotFound)
	r = w.do(ga, RemoveIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: w.id["GX"]})
	require.Equal(t, "Delete incompatible group", ActivityName(r.Events[0].Type))
}

// TestIncompatiblePackageOfAnotherCatalog (found by a review as a new
// user): a catalog owner cannot name as incompatible a package of a
// catalog they cannot read, and the lists of incompatible packages leave
// out those of catalogs the reader cannot read.
func TestIncompatiblePackageOfAnotherCatalog(t *testing.T) {
	w := adminWorld(t)
	ga, owner, other := w.actors["GA"], w.actors["owner"], w.actors["otherOwner"]
	pd := w.do(other, CreateAccessPackage{CatalogID: w.id["D"], DisplayName: "Secret project"}).ID
	head := w.m.Head()
	_, err := w.try(owner, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: pd})
	requireKind(t, err, ErrForbidden)
	require.Equal(t, head, w.m.Head())

	w.do(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P2"], IncompatibleAccessPackageID: pd})
	s := w.state()
	got, err := s.IncompatibleAccessPackages(owner, w.id["P2"])
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.IncompatibleAccessPackages(ga, w.id["P2"])
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = s.AccessPackagesIncompatibleWith(other, pd)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.AccessPackagesIncompatibleWith(ga, pd)
	require.NoError(t, err)
	require.Len(t, got, 1)
}
