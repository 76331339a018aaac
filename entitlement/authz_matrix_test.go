package entitlement

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The sets of actors §3.3 and §3.4 allow.
var (
	admins          = []string{"GA", "IGA", "appReadWrite"}
	directoryAdmins = []string{"GA", "IGA"}
	catalogOwners   = append(slices.Clone(admins), "owner")
	packageManagers = append(slices.Clone(catalogOwners), "apManager")
	resourceManager = []string{"GA", "IGA", "owner"}
	roleScopeEditor = []string{"GA", "IGA", "owner", "apManager"}
	catalogCreators = append(slices.Clone(admins), "creator")
)

// TestAuthorizationMatrix runs every administrative command as every kind of
// actor and checks that exactly the actors of the permissions matrix are
// allowed, that the others get ErrForbidden, and that a refusal appends
// nothing.
func TestAuthorizationMatrix(t *testing.T) {
	cases := []struct {
		name    string
		cmd     func(w *world) Command
		allowed []string
	}{
		{"CreateCatalog", func(w *world) Command { return CreateCatalog{DisplayName: "New"} }, catalogCreators},
		{"UpdateCatalog", func(w *world) Command {
			return UpdateCatalog{CatalogID: w.id["C"], IsExternallyVisible: ptr(false)}
		}, catalogOwners},
		{"DeleteCatalog", func(w *world) Command { return DeleteCatalog{CatalogID: w.id["E"]} }, catalogOwners},
		{"CreateResourceRequest/adminAdd", func(w *world) Command {
			return CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
				Resource: ResourceSpec{OriginID: w.id["G2"], OriginSystem: OriginSystemAadGroup}}
		}, resourceManager},
		{"CreateResourceRequest/adminAdd app", func(w *world) Command {
			return CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
				Resource: ResourceSpec{OriginID: w.id["appRes"], OriginSystem: OriginSystemAadApplication}}
		}, resourceManager},
		{"CreateResourceRequest/adminUpdate", func(w *world) Command {
			return CreateResourceRequest{RequestType: RequestTypeAdminUpdate, CatalogID: w.id["C"],
				Resource: ResourceSpec{OriginID: w.id["G1"], OriginSystem: OriginSystemAadGroup, Description: "updated"}}
		}, resourceManager},
		{"CreateResourceRequest/adminRemove", func(w *world) Command {
			return CreateResourceRequest{RequestType: RequestTypeAdminRemove, CatalogID: w.id["C"],
				Resource: ResourceSpec{OriginID: w.id["G3"], OriginSystem: OriginSystemAadGroup}}
		}, resourceManager},
		{"CreateAccessPackage", func(w *world) Command {
			return CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "New"}
		}, packageManagers},
		{"UpdateAccessPackage", func(w *world) Command {
			return UpdateAccessPackage{AccessPackageID: w.id["P1"], IsHidden: ptr(true)}
		}, packageManagers},
		{"DeleteAccessPackage", func(w *world) Command { return DeleteAccessPackage{AccessPackageID: w.id["P2"]} }, packageManagers},
		{"AddResourceRoleScope", func(w *world) Command {
			return AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: w.id["G1-owner"], ScopeID: w.id["G1-root"]}
		}, roleScopeEditor},
		{"RemoveResourceRoleScope", func(w *world) Command {
			return RemoveResourceRoleScope{AccessPackageID: w.id["P1"], ResourceRoleScopeID: w.id["RS-P1"]}
		}, roleScopeEditor},
		{"AddIncompatibleAccessPackage", func(w *world) Command {
			return AddIncompatibleAccessPackage{AccessPackageID: w.id["P1"], IncompatibleAccessPackageID: w.id["P2"]}
		}, packageManagers},
		{"RemoveIncompatibleAccessPackage", func(w *world) Command {
			return RemoveIncompatibleAccessPackage{AccessPackageID: w.id["P1"], IncompatibleAccessPackageID: w.id["P3"]}
		}, packageManagers},
		{"AddIncompatibleGroup", func(w *world) Command {
			return AddIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: w.id["G2"]}
		}, packageManagers},
		{"RemoveIncompatibleGroup", func(w *world) Command {
			return RemoveIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: w.id["GX"]}
		}, packageManagers},
		{"CreateAssignmentPolicy", func(w *world) Command {
			return CreateAssignmentPolicy{Policy: requestPolicy(w.id["P2"], "Requests")}
		}, packageManagers},
		{"CreateAssignmentPolicy/auto", func(w *world) Command {
			return CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales")}
		}, directoryAdmins},
		{"ReplaceAssignmentPolicy", func(w *world) Command {
			return ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: requestPolicy("", "Renamed")}
		}, packageManagers},
		{"DeleteAssignmentPolicy", func(w *world) Command { return DeleteAssignmentPolicy{PolicyID: w.id["Pol1"]} }, packageManagers},
		{"CreateConnectedOrganization", func(w *world) Command {
			return CreateConnectedOrganization{DisplayName: "Woodgrove"}
		}, admins},
		{"UpdateConnectedOrganization", func(w *world) Command {
			return UpdateConnectedOrganization{ConnectedOrganizationID: w.id["O1"], State: ptr(ConnectedOrganizationProposed)}
		}, admins},
		{"DeleteConnectedOrganization", func(w *world) Command {
			return DeleteConnectedOrganization{ConnectedOrganizationID: w.id["O2"]}
		}, admins},
		{"AddConnectedOrganizationSponsor", func(w *world) Command {
			return AddConnectedOrganizationSponsor{ConnectedOrganizationID: w.id["O1"], External: true, DirectoryObjectID: w.uid["guest"]}
		}, admins},
		{"RemoveConnectedOrganizationSponsor", func(w *world) Command {
			return RemoveConnectedOrganizationSponsor{ConnectedOrganizationID: w.id["O1"], DirectoryObjectID: w.uid["sponsor"]}
		}, admins},
		{"UpdateSettings", func(w *world) Command {
			return UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleBlockSignIn)}
		}, admins},
		{"CreateRoleAssignment/catalogCreator", func(w *world) Command {
			return CreateRoleAssignment{PrincipalID: w.uid["delegate1"], RoleDefinitionID: RoleCatalogCreator, AppScopeID: TenantScope}
		}, admins},
		{"CreateRoleAssignment/catalogOwner", func(w *world) Command {
			return CreateRoleAssignment{PrincipalID: w.uid["delegate1"], RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])}
		}, catalogOwners},
		{"CreateRoleAssignment/catalogReader", func(w *world) Command {
			return CreateRoleAssignment{PrincipalID: w.uid["delegate1"], RoleDefinitionID: RoleCatalogReader, AppScopeID: CatalogScope(w.id["C"])}
		}, catalogOwners},
		{"CreateRoleAssignment/accessPackageManager", func(w *world) Command {
			return CreateRoleAssignment{PrincipalID: w.uid["delegate1"], RoleDefinitionID: RoleAccessPackageManager, AppScopeID: CatalogScope(w.id["C"])}
		}, catalogOwners},
		{"CreateRoleAssignment/accessPackageAssignmentManager", func(w *world) Command {
			return CreateRoleAssignment{PrincipalID: w.uid["delegate1"], RoleDefinitionID: RoleAccessPackageAssignmentManager, AppScopeID: CatalogScope(w.id["C"])}
		}, catalogOwners},
		{"DeleteRoleAssignment", func(w *world) Command { return DeleteRoleAssignment{RoleAssignmentID: w.id["RA-delegate2"]} }, catalogOwners},
		{"UpdateSubject", func(w *world) Command {
			return UpdateSubject{ObjectID: w.uid["guest"], SubjectLifecycle: SubjectLifecycleGoverned}
		}, admins},
		{"PutUser", func(w *world) Command { return PutUser{User: User{ID: nameID("user/new"), DisplayName: "new"}} }, []string{"GA"}},
		{"AddGroupMember", func(w *world) Command { return AddGroupMember{GroupID: w.id["G2"], MemberID: w.uid["plain"]} }, []string{"GA"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Refusals change nothing, so they share one world; every
			// allowed actor gets a fresh one.
			shared := adminWorld(t)
			for _, name := range matrixActors {
				w := shared
				if slices.Contains(tc.allowed, name) {
					w = adminWorld(t)
				}
				actor := w.actors[name]
				before := w.head()
				_, err := w.try(actor, tc.cmd(w))
				if slices.Contains(tc.allowed, name) {
					require.NoError(t, err, "%s as %s must be allowed", tc.name, name)
					require.Greater(t, w.head().Position, before.Position, "%s as %s appended nothing", tc.name, name)
				} else {
					require.ErrorIs(t, err, ErrForbidden, "%s as %s must be refused", tc.name, name)
					require.Equal(t, before, w.head(), "%s as %s: refusal appended events", tc.name, name)
				}
			}
		})
	}
}

// TestCatalogOwnerOfAnotherCatalog checks that ownership does not leak
// across catalogs: the owner of D can manage D but nothing in C.
func TestCatalogOwnerOfAnotherCatalog(t *testing.T) {
	w := adminWorld(t)
	oo := w.actors["otherOwner"]
	w.do(oo, UpdateCatalog{CatalogID: w.id["D"], Description: ptr("mine")})
	w.do(oo, CreateAccessPackage{CatalogID: w.id["D"], DisplayName: "Mine"})
	_, err := w.try(oo, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Theirs"})
	requireKind(t, err, ErrForbidden)
}

// TestRolesThroughGroupMembership checks that EM roles held by a group
// apply to its members, including nested ones.
func TestRolesThroughGroupMembership(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	outer := w.group("Owners", w.uid["GA"])
	inner := w.group("Inner", w.uid["GA"])
	w.do(sys, AddGroupMember{GroupID: outer, MemberID: inner})
	w.do(sys, AddGroupMember{GroupID: inner, MemberID: w.uid["plain"]})
	plain := w.actors["plain"]
	_, err := w.try(plain, UpdateCatalog{CatalogID: w.id["D"], Description: ptr("x")})
	requireKind(t, err, ErrForbidden)
	w.do(ga, CreateRoleAssignment{PrincipalID: outer, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["D"])})
	w.do(plain, UpdateCatalog{CatalogID: w.id["D"], Description: ptr("x")})
	w.do(sys, RemoveGroupMember{GroupID: inner, MemberID: w.uid["plain"]})
	_, err = w.try(plain, UpdateCatalog{CatalogID: w.id["D"], Description: ptr("y")})
	requireKind(t, err, ErrForbidden)
}
