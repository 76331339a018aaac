package projection_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/projection"
)

func TestDirectoryQueries(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	before, err := p.Checkpoint(s.ctx)
	require.NoError(t, err)

	cats, err := p.Catalogs(s.ctx, projection.Now)
	require.NoError(t, err)
	require.Len(t, cats, 2, "the built-in General catalog and Sales, by name")
	require.Equal(t, []string{"General", "Sales"}, []string{cats[0].DisplayName, cats[1].DisplayName})
	pkgs, err := p.AccessPackages(s.ctx, cats[1].ID, projection.Now)
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Equal(t, s.pkg, pkgs[0].ID)
	none, err := p.AccessPackages(s.ctx, "no-such-catalog", projection.Now)
	require.NoError(t, err)
	require.Empty(t, none)
	res, err := p.Resources(s.ctx, "", projection.Now)
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, s.resource, res[0].ID)

	// Renaming the package: found by its new name, as it was before by
	// the old one when asked as known at the earlier position.
	beforeRename := *s.now
	*s.now = s.now.Add(time.Hour)
	_, err = s.run(s.admin, entitlement.UpdateAccessPackage{AccessPackageID: s.pkg, DisplayName: new("Sales apps")})
	require.NoError(t, err)
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	byName, err := p.AccessPackagesNamed(s.ctx, "Sales apps", projection.Now)
	require.NoError(t, err)
	require.Len(t, byName, 1)
	old, err := p.AccessPackagesNamed(s.ctx, "Sales apps", projection.As{KnownAt: before.Position})
	require.NoError(t, err)
	require.Len(t, old, 1)
	require.Equal(t, "Sales tools", old[0].DisplayName)
	gone, err := p.AccessPackagesNamed(s.ctx, "Sales tools", projection.Now)
	require.NoError(t, err)
	require.Empty(t, gone)

	anna, err := p.UsersNamed(s.ctx, "Anna", projection.Now)
	require.NoError(t, err)
	require.Len(t, anna, 1)
	require.Equal(t, annaID, anna[0].ID)
	u, err := p.User(s.ctx, markID, projection.Now)
	require.NoError(t, err)
	require.Equal(t, "Mark", u.DisplayName)
	_, err = p.User(s.ctx, "nobody", projection.Now)
	require.ErrorIs(t, err, projection.ErrNotFound)

	names, err := p.DisplayNames(s.ctx, []string{annaID, markID, s.pkg, groupID, "unknown", annaID}, projection.Now)
	require.NoError(t, err)
	require.Equal(t, map[string]string{annaID: "Anna", markID: "Mark", s.pkg: "Sales apps", groupID: "Sales"}, names)
	// Names as of the past and as known at a past position are those of
	// then (found by a review: reports of the past showed today's).
	for name, as := range map[string]projection.As{
		"as known before the rename": {KnownAt: before.Position},
		"as of before the rename":    {Of: beforeRename},
		"as of before it existed":    {Of: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"both, before it existed":    {Of: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), KnownAt: before.Position},
	} {
		names, err := p.DisplayNames(s.ctx, []string{annaID, s.pkg, "unknown"}, as)
		require.NoError(t, err)
		require.Equal(t, map[string]string{annaID: "Anna", s.pkg: "Sales tools"}, names, name)
	}
	names, err = p.DisplayNames(s.ctx, []string{s.pkg}, projection.As{Of: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, map[string]string{s.pkg: "Sales apps"}, names)
	names, err = p.DisplayNames(s.ctx, []string{s.pkg, annaID}, projection.As{KnownAt: 1})
	require.NoError(t, err)
	require.Empty(t, names, "not known yet at position 1")
}

// TestDeletedObjectsNamed (found by a review): a deleted package and its
// policy keep their names, now as well as as of any instant, and the
// package is listed in its catalog as of before its deletion.
func TestDeletedObjectsNamed(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	sales, err := s.m.State().GetAccessPackage(s.admin, s.pkg)
	require.NoError(t, err)
	pkg, err := s.run(s.admin, entitlement.CreateAccessPackage{CatalogID: sales.CatalogID, DisplayName: "Temp"})
	require.NoError(t, err)
	pol, err := s.run(s.admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Temp policy", AccessPackageID: pkg.ID, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true}}})
	require.NoError(t, err)
	beforeDelete := *s.now
	*s.now = s.now.Add(time.Hour)
	_, err = s.run(s.admin, entitlement.DeleteAccessPackage{AccessPackageID: pkg.ID})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()

	want := map[string]string{pkg.ID: "Temp", pol.ID: "Temp policy"}
	for name, as := range map[string]projection.As{
		"before the deletion": {Of: beforeDelete},
		"far future":          {Of: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
		"now":                 projection.Now,
	} {
		names, err := p.DisplayNames(s.ctx, []string{pkg.ID, pol.ID}, as)
		require.NoError(t, err)
		require.Equal(t, want, names, name)
	}
	as := projection.As{Of: beforeDelete}
	for _, catalog := range []string{"", sales.CatalogID} {
		pkgs, err := p.AccessPackages(s.ctx, catalog, as)
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(pkgs, func(x entitlement.AccessPackage) bool { return x.ID == pkg.ID }),
			"catalog %q as of before the deletion: %v", catalog, pkgs)
	}
	now, err := p.AccessPackages(s.ctx, sales.CatalogID, projection.Now)
	require.NoError(t, err)
	require.False(t, slices.ContainsFunc(now, func(x entitlement.AccessPackage) bool { return x.ID == pkg.ID }), "gone now")
	gone, err := p.AccessPackagesNamed(s.ctx, "Temp", projection.Now)
	require.NoError(t, err)
	require.Empty(t, gone)
}

// TypeOf says what kind of thing an id names, deleted or not.
func TestTypeOf(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	pol := s.deletedPolicy(t)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	for id, want := range map[string]string{annaID: projection.TypeUser, s.pkg: projection.TypeAccessPackage,
		pol: "AccessPackageAssignmentPolicy"} {
		got, err := p.TypeOf(s.ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err = p.TypeOf(s.ctx, "no-such-id")
	require.ErrorIs(t, err, projection.ErrNotFound)
}
