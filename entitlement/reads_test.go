package entitlement

import (
	"slices"
	"testing"

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

// TestListAssignmentsPageArguments refuses a negative Top and an After
// that names no assignment (the pages themselves are checked against the
// whole listing by the projection's property test).
func TestListAssignmentsPageArguments(t *testing.T) {
	w := adminWorld(t)
	s := w.state()
	ga := w.actors["GA"]
	_, err := s.ListAssignments(ga, AssignmentFilter{Top: -1})
	requireKind(t, err, ErrInvalid)
	_, err = s.ListAssignments(ga, AssignmentFilter{After: nameID("none")})
	requireKind(t, err, ErrInvalid)
	got, err := s.ListAssignments(ga, AssignmentFilter{Top: 3})
	require.NoError(t, err)
	require.Empty(t, got)
}
