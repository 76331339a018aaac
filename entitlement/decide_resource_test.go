package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func addGroup(catalogID, groupID string) CreateResourceRequest {
	return CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: catalogID,
		Resource: ResourceSpec{OriginID: groupID, OriginSystem: OriginSystemAadGroup}}
}

func TestAddGroupResource(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	g := w.group("Sales team")
	r := w.do(ga, addGroup(cat, g))
	require.Len(t, r.Events, 1)
	require.Equal(t, EventResourceAdded, r.Events[0].Type)
	require.Equal(t, "Create resource request", ActivityName(r.Events[0].Type))

	s := w.state()
	res, err := s.ResourcesOfCatalog(ga, cat)
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, "Sales team", res[0].DisplayName)
	require.Equal(t, OriginSystemAadGroup, res[0].OriginSystem)
	require.Equal(t, []string{"Member_" + g, "Owner_" + g}, []string{res[0].Roles[0].OriginID, res[0].Roles[1].OriginID})
	require.Len(t, res[0].Scopes, 1)
	require.True(t, res[0].Scopes[0].IsRootScope)
	require.Equal(t, g, res[0].Scopes[0].OriginID)
	roles, err := s.ResourceRolesOfCatalog(ga, cat, OriginSystemAadGroup, res[0].ID)
	require.NoError(t, err)
	require.Len(t, roles, 2)
	reqs, err := s.ResourceRequests(ga, cat)
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	require.Equal(t, RequestStateDelivered, reqs[0].State)
	require.Equal(t, r.ID, reqs[0].ID)

	_, err = w.try(ga, addGroup(cat, g))
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, addGroup(cat, nameID("group/none")))
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, CreateResourceRequest{RequestType: "userAdd", CatalogID: cat, Resource: ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup}})
	requireField(t, err, "requestType")
	_, err = w.try(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: g, OriginSystem: "Exchange"}})
	requireField(t, err, "resource.originSystem")
	_, err = w.try(ga, addGroup(nameID("cat/none"), g))
	requireKind(t, err, ErrNotFound)
}

func TestUnsupportedGroups(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	synced := nameID("group/synced")
	w.do(sys, PutGroup{Group: Group{ID: synced, DisplayName: "synced", SecurityEnabled: true, OnPremisesSyncEnabled: true}})
	dl := nameID("group/dl")
	w.do(sys, PutGroup{Group: Group{ID: dl, DisplayName: "dl", MailEnabled: true}})
	m365 := nameID("group/m365")
	w.do(sys, PutGroup{Group: Group{ID: m365, DisplayName: "team", MailEnabled: true, GroupTypes: []string{"Unified"}, ResourceProvisioning: []string{"Team"}}})
	for _, g := range []string{synced, dl} {
		_, err := w.try(ga, addGroup(cat, g))
		requireField(t, err, "resource.originId")
	}
	w.do(ga, addGroup(cat, m365)) // Teams are Microsoft 365 groups
}

// TestUngovernedApplicationsAndSiteParts: the Exchange Online and
// SharePoint Online service principals, and a SharePoint document, list or
// library, cannot be resources (§8 row 7; found by a review).
func TestUngovernedApplicationsAndSiteParts(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	for _, appID := range []string{"00000002-0000-0ff1-ce00-000000000000", "00000003-0000-0ff1-ce00-000000000000"} {
		sp := nameID("sp/" + appID)
		w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: sp, AppID: appID, DisplayName: appID}})
		_, err := w.try(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat,
			Resource: ResourceSpec{OriginID: sp, OriginSystem: OriginSystemAadApplication}})
		requireField(t, err, "resource.originId")
	}
	site := func(url string) CreateResourceRequest {
		return CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat,
			Resource: ResourceSpec{OriginID: url, OriginSystem: OriginSystemSharePointOnline, Roles: []RoleSpec{{OriginID: "4"}}}}
	}
	for _, url := range []string{
		"http://contoso.sharepoint.com/sites/sales",
		"https:///sites/sales",
		"https://contoso.sharepoint.com/sites/sales/Shared%20Documents",
		"https://contoso.sharepoint.com/sites/sales/Shared%20Documents/plan.docx",
		"https://contoso.sharepoint.com/sites/sales/Lists/Tasks",
		"https://contoso.sharepoint.com/sites/sales/SitePages/Home.aspx",
		"https://contoso.sharepoint.com/sites/sales?web=1",
		"https://contoso.sharepoint.com/sites/hr/Handbook/budget.xlsm",
		"https://contoso.sharepoint.com/sites/hr/Videos/intro.mp4",
	} {
		_, err := w.try(ga, site(url))
		requireField(t, err, "resource.originId")
	}
	// Sites, subsites and a site named like a library are sites.
	for _, url := range []string{"https://contoso.sharepoint.com", "https://contoso.sharepoint.com/teams/lists/design",
		"https://contoso.sharepoint.com/sites/Lists", "https://contoso.sharepoint.com/sites/sales.emea", "https://contoso.sharepoint.com/sites/v2.0-launch/design"} {
		w.do(ga, site(url))
	}
}

func TestApplicationAndSiteResources(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	bare := nameID("sp/bare")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: bare, DisplayName: "Bare"}})
	roled := nameID("sp/roled")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: roled, DisplayName: "Roled",
		AppRoles: []AppRole{{ID: nameID("r1"), DisplayName: "Reader"}, {ID: nameID("r2"), DisplayName: "Writer"}}}})
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: bare, OriginSystem: OriginSystemAadApplication}})
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: roled, OriginSystem: OriginSystemAadApplication}})
	site := "https://contoso.sharepoint.com/sites/sales"
	_, err := w.try(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: site, OriginSystem: OriginSystemSharePointOnline}})
	requireField(t, err, "resource.roles")
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{
		OriginID: site, OriginSystem: OriginSystemSharePointOnline, DisplayName: "Sales site",
		Roles: []RoleSpec{{OriginID: "3", DisplayName: "Owners"}, {OriginID: "4", DisplayName: "Members"}}}})

	s := w.state()
	bareRoles, err := s.ResourceRolesOfCatalog(ga, cat, OriginSystemAadApplication, w.resourceByOrigin(cat, bare).ID)
	require.NoError(t, err)
	require.Len(t, bareRoles, 1)
	require.Equal(t, "Default Access", bareRoles[0].DisplayName)
	require.Equal(t, DefaultAccessRoleOriginID, bareRoles[0].OriginID)
	roledRes := w.resourceByOrigin(cat, roled)
	require.Equal(t, nameID("r1"), roledRes.Roles[0].OriginID)
	require.Len(t, roledRes.Roles, 2)
	siteRoles, err := s.ResourceRolesOfCatalog(ga, cat, OriginSystemSharePointOnline, "")
	require.NoError(t, err)
	require.Len(t, siteRoles, 2)
	scopes, err := s.ResourceScopesOfCatalog(ga, cat)
	require.NoError(t, err)
	require.Len(t, scopes, 3)
}

// Found by a review as a new user: roles given for a group were dropped
// without a word and scopes below a group's root kept, and an
// application's given roles replaced its app roles whatever they were. A
// role must be the origin's, and only a site has scopes below its root.
func TestRolesAndScopesMustBeTheOrigins(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	g := w.group("Sales team")
	add := func(spec ResourceSpec) (Result, error) {
		return w.try(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: spec})
	}
	var err error
	for _, role := range []string{"Reader_" + g, "Member"} { // a role's display name is not its origin id
		_, err = add(ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup, Roles: []RoleSpec{{OriginID: role}}})
		requireField(t, err, "resource.roles[0].originId")
	}
	_, err = add(ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup, Scopes: []ScopeSpec{{OriginID: "sub-folder"}}})
	requireField(t, err, "resource.scopes[0].originId")
	roled := nameID("sp/roled")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: roled, DisplayName: "Roled",
		AppRoles: []AppRole{{ID: nameID("r1"), DisplayName: "Reader", Description: "Reads"}, {ID: nameID("r2"), DisplayName: "Writer", Description: "Writes"},
			{ID: nameID("r3"), DisplayName: "Admin"}}}})
	for _, role := range []string{"not-an-app-role", "Reader"} {
		_, err = add(ResourceSpec{OriginID: roled, OriginSystem: OriginSystemAadApplication, Roles: []RoleSpec{{OriginID: role}}})
		requireField(t, err, "resource.roles[0].originId")
	}
	_, err = add(ResourceSpec{OriginID: roled, OriginSystem: OriginSystemAadApplication, Scopes: []ScopeSpec{{OriginID: "tenant-a"}}})
	requireField(t, err, "resource.scopes[0].originId")

	// What the origin has may be given: a group's own roles and root, an
	// application's choice of its app roles, a site's scopes.
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup,
		Roles: []RoleSpec{{OriginID: "Member_" + g}}, Scopes: []ScopeSpec{{OriginID: g, IsRootScope: true}}}})
	require.Len(t, w.resourceByOrigin(cat, g).Roles, 2)
	require.Len(t, w.resourceByOrigin(cat, g).Scopes, 1)
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: roled, OriginSystem: OriginSystemAadApplication,
		Roles: []RoleSpec{{OriginID: nameID("r2"), DisplayName: "Writers"}, {OriginID: nameID("r1"), Description: "Reads only"}}}})
	// What a chosen role is given replaces the app role's; what it is not
	// given, the app role's keeps.
	var got [][3]string
	for _, r := range w.resourceByOrigin(cat, roled).Roles {
		got = append(got, [3]string{r.OriginID, r.DisplayName, r.Description})
	}
	require.Equal(t, [][3]string{{nameID("r2"), "Writers", "Writes"}, {nameID("r1"), "Reader", "Reads only"}}, got)
	site := "https://contoso.sharepoint.com/sites/sales"
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: site, OriginSystem: OriginSystemSharePointOnline,
		Roles: []RoleSpec{{OriginID: "4"}}, Scopes: []ScopeSpec{{OriginID: site + "/sub", DisplayName: "Sub"}}}})
	require.Len(t, w.resourceByOrigin(cat, site).Scopes, 2)
}

func TestResourceRights(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	iga := w.user("iga", IdentityGovernanceAdministrator)
	owner := w.user("owner")
	grpAdmin := w.user("grpAdmin", GroupsAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	for _, u := range []string{"owner", "grpAdmin"} {
		w.do(ga, CreateRoleAssignment{PrincipalID: w.uid[u], RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(cat)})
	}
	g := w.group("G")
	app := nameID("sp/app")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: app, DisplayName: "App"}})

	// IGA by role alone can add applications but not groups (§3.1).
	_, err := w.try(iga, addGroup(cat, g))
	requireKind(t, err, ErrForbidden)
	w.do(iga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: app, OriginSystem: OriginSystemAadApplication}})
	// A catalog owner needs rights over the group too.
	_, err = w.try(owner, addGroup(cat, g))
	requireKind(t, err, ErrForbidden)
	w.do(grpAdmin, addGroup(cat, g))

	// An application with ReadWrite.All cannot manage resources; as catalog
	// owner with Group.ReadWrite.All it can.
	g2 := w.group("G2")
	rw := w.app("rw", EntitlementManagementReadWriteAll)
	_, err = w.try(rw, addGroup(cat, g2))
	requireKind(t, err, ErrForbidden)
	ownerApp := w.app("ownerApp", GroupReadWriteAll)
	w.do(ga, CreateRoleAssignment{PrincipalID: ownerApp.ID, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(cat)})
	w.do(ownerApp, addGroup(cat, g2))

	// The group's owner, once catalog owner, can add it.
	g3 := w.group("G3", owner.ID)
	w.do(owner, addGroup(cat, g3))
	// SharePoint sites need the SharePoint Administrator role.
	site := CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{
		OriginID: "https://contoso.sharepoint.com/sites/x", OriginSystem: OriginSystemSharePointOnline, Roles: []RoleSpec{{OriginID: "4"}}}}
	_, err = w.try(iga, site)
	requireKind(t, err, ErrForbidden)
	w.do(w.user("spAdmin", SharePointAdministrator, IdentityGovernanceAdministrator), site)
}

func TestRemoveAndUpdateResource(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	remove := func(g string) CreateResourceRequest {
		return CreateResourceRequest{RequestType: RequestTypeAdminRemove, CatalogID: w.id["C"],
			Resource: ResourceSpec{OriginID: w.id[g], OriginSystem: OriginSystemAadGroup}}
	}
	_, err := w.try(ga, remove("G1"))
	requireKind(t, err, ErrConflict) // P1 uses it (invariant 4)
	_, err = w.try(ga, remove("G2"))
	requireKind(t, err, ErrNotFound)

	before := w.resourceByOrigin(w.id["C"], w.id["G1"])
	r := w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminUpdate, CatalogID: w.id["C"],
		Resource: ResourceSpec{OriginID: w.id["G1"], OriginSystem: OriginSystemAadGroup, DisplayName: "Renamed"}})
	require.Equal(t, "Update access package catalog resource", ActivityName(r.Events[0].Type))
	after := w.resourceByOrigin(w.id["C"], w.id["G1"])
	require.Equal(t, "Renamed", after.DisplayName)
	require.Equal(t, before.Roles, after.Roles, "role ids survive an update")
	require.Equal(t, before.Scopes, after.Scopes)

	r = w.do(ga, remove("G3"))
	require.Equal(t, "Create resource remove request", ActivityName(r.Events[0].Type))
	res, err := w.state().ResourcesOfCatalog(ga, w.id["C"])
	require.NoError(t, err)
	require.Len(t, res, 1)

	// Once P1 no longer uses G1, it can go.
	w.do(ga, RemoveResourceRoleScope{AccessPackageID: w.id["P1"], ResourceRoleScopeID: w.id["RS-P1"]})
	w.do(ga, remove("G1"))
}

func TestResourceLimit(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	for i := range MaxResourcesPerCatalog {
		w.do(ga, addGroup(cat, w.group("g"+itoa(i))))
	}
	_, err := w.try(ga, addGroup(cat, w.group("last")))
	requireKind(t, err, ErrLimit)
}

func TestRemoveResourceWhoseGroupWasDeleted(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	owner := w.user("owner")
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	w.do(ga, CreateRoleAssignment{PrincipalID: owner.ID, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(cat)})
	g := w.group("Gone")
	w.do(ga, addGroup(cat, g))
	remove := CreateResourceRequest{RequestType: RequestTypeAdminRemove, CatalogID: cat, Resource: ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup}}
	_, err := w.try(owner, remove)
	requireKind(t, err, ErrForbidden) // no rights over the group
	w.do(sys, DeleteGroup{GroupID: g})
	w.do(owner, remove) // the group is gone: catalog rights suffice
}

func TestDeletedUserLosesDelegatedRoles(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	bob := w.user("bob")
	w.do(ga, CreateRoleAssignment{PrincipalID: bob.ID, RoleDefinitionID: RoleCatalogCreator, AppScopeID: TenantScope})
	w.do(bob, CreateCatalog{DisplayName: "Bob's"})
	w.do(sys, DeleteUser{UserID: bob.ID})
	_, err := w.try(bob, CreateCatalog{DisplayName: "Again"})
	requireKind(t, err, ErrForbidden)
}
