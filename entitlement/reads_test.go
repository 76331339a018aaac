package entitlement

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReadAuthorization checks who may read catalog C's contents: tenant
// readers (GA, IGA, the reader directory roles, applications with either
// permission) and every catalog-scoped role in C, but not a catalog
// creator, the owner of another catalog or a plain user.
func TestReadAuthorization(t *testing.T) {
	w := adminWorld(t)
	w.user("globalReader", GlobalReader)
	w.user("securityReader", SecurityReader)
	w.user("securityAdmin", SecurityAdministrator)
	w.user("complianceAdmin", ComplianceAdministrator)
	s := w.state()
	readers := []string{"GA", "IGA", "owner", "reader", "apManager", "apAssignmentManager", "appRead", "appReadWrite",
		"globalReader", "securityReader", "securityAdmin", "complianceAdmin", "delegate2"}
	for name, a := range w.actors {
		reads := []error{}
		_, err := s.GetCatalog(a, w.id["C"])
		reads = append(reads, err)
		_, err = s.ListAccessPackages(a, w.id["C"])
		reads = append(reads, err)
		_, err = s.ResourcesOfCatalog(a, w.id["C"])
		reads = append(reads, err)
		_, err = s.ResourceRolesOfCatalog(a, w.id["C"], "", "")
		reads = append(reads, err)
		_, err = s.PoliciesOfPackage(a, w.id["P1"])
		reads = append(reads, err)
		_, err = s.GetAssignmentPolicy(a, w.id["Pol1"])
		reads = append(reads, err)
		_, err = s.IncompatibleAccessPackages(a, w.id["P1"])
		reads = append(reads, err)
		_, err = s.AccessPackagesIncompatibleWith(a, w.id["P3"])
		reads = append(reads, err)
		_, err = s.IncompatibleGroups(a, w.id["P1"])
		reads = append(reads, err)
		for i, err := range reads {
			if slices.Contains(readers, name) {
				require.NoError(t, err, "%s read %d", name, i)
			} else {
				require.ErrorIs(t, err, ErrForbidden, "%s read %d", name, i)
			}
		}
		visible := slices.ContainsFunc(s.ListCatalogs(a), func(c Catalog) bool { return c.ID == w.id["C"] })
		require.Equal(t, slices.Contains(readers, name), visible, "%s lists C", name)
	}
	// The catalog creator sees none of the catalogs it does not own; the
	// owner of D sees D only.
	require.Empty(t, s.ListCatalogs(w.actors["creator"]))
	cats := s.ListCatalogs(w.actors["otherOwner"])
	require.Len(t, cats, 1)
	require.Equal(t, w.id["D"], cats[0].ID)
	require.Len(t, s.ListCatalogs(w.actors["appRead"]), 4) // General, C, D, E
	_, err := s.GetCatalog(w.actors["GA"], nameID("none"))
	requireKind(t, err, ErrNotFound)
	_, err = s.PoliciesOfPackage(w.actors["GA"], nameID("none"))
	requireKind(t, err, ErrNotFound)

	// Connected organizations and settings: tenant readers and holders of
	// any entitlement management role.
	for _, name := range []string{"GA", "appRead", "creator", "apAssignmentManager", "otherOwner"} {
		_, err := s.ListConnectedOrganizations(w.actors[name])
		require.NoError(t, err, name)
		_, err = s.Settings(w.actors[name])
		require.NoError(t, err, name)
	}
	_, err = s.ListConnectedOrganizations(w.actors["plain"])
	requireKind(t, err, ErrForbidden)
	require.Len(t, RoleDefinitions(), 5)
}

func TestReadsReturnCopies(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	s := w.state()
	p, err := s.GetAccessPackage(ga, w.id["P1"])
	require.NoError(t, err)
	p.ResourceRoleScopes[0].ID = "changed"
	p.IncompatibleGroups[0] = "changed"
	again, err := s.GetAccessPackage(ga, w.id["P1"])
	require.NoError(t, err)
	require.NotEqual(t, "changed", again.ResourceRoleScopes[0].ID)
	require.NotEqual(t, "changed", again.IncompatibleGroups[0])
	// m.State() is a snapshot: later commands don't change it.
	w.do(ga, UpdateAccessPackage{AccessPackageID: w.id["P1"], DisplayName: ptr("Later")})
	again, err = s.GetAccessPackage(ga, w.id["P1"])
	require.NoError(t, err)
	require.Equal(t, "Package P1", again.DisplayName)
}

// TestListAssignmentsPages reads three assignments in pages of two, each
// after the last of the one before, and refuses a negative Top and an
// After that names no assignment (the projection's property test checks
// the State's pages against whole listings in random worlds).
func TestListAssignmentsPages(t *testing.T) {
	w, _ := accessWorld(t)
	s0 := w.state()
	ga := w.actors["GA"]
	for _, n := range []string{"alice", "erin", "frank"} {
		w.request(n, "P2", "Pol2")
		w.clock.t = w.clock.t.Add(time.Minute)
	}
	s := w.state()
	all, err := s.ListAssignments(ga, AssignmentFilter{AccessPackageID: w.id["P2"]})
	require.NoError(t, err)
	require.Len(t, all, 3)
	first, err := s.ListAssignments(ga, AssignmentFilter{AccessPackageID: w.id["P2"], Top: 2})
	require.NoError(t, err)
	require.Equal(t, all[:2], first)
	rest, err := s.ListAssignments(ga, AssignmentFilter{AccessPackageID: w.id["P2"], Top: 2, After: first[1].ID})
	require.NoError(t, err)
	require.Equal(t, all[2:], rest)

	_, err = s.ListAssignments(ga, AssignmentFilter{Top: -1})
	requireKind(t, err, ErrInvalid)
	// Found by a review: a misspelt state answered as if nobody held one.
	_, err = s.ListAssignments(ga, AssignmentFilter{State: "Delivered"})
	requireField(t, err, "state")
	_, err = s0.ListAssignments(ga, AssignmentFilter{After: all[0].ID})
	requireKind(t, err, ErrInvalid) // not yet made in that State
}
