package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// matrixActors are the kinds of actor the authorization matrix covers.
var matrixActors = []string{
	"GA", "IGA", "creator", "owner", "otherOwner", "reader",
	"apManager", "apAssignmentManager", "plain", "appRead", "appReadWrite",
}

// adminWorld builds the world of the authorization tests: one actor of
// every kind and, in catalog C, resources, packages, a policy and
// delegations; catalog D belongs to otherOwner; catalog E is empty and
// owned by owner.
func adminWorld(t testing.TB) *world {
	t.Helper()
	return buildAdminWorld(newWorld(t))
}

// buildAdminWorld adds adminWorld's actors and objects to w.
func buildAdminWorld(w *world) *world {
	t := w.t
	t.Helper()
	ga := w.user("GA", GlobalAdministrator)
	w.user("IGA", IdentityGovernanceAdministrator)
	for _, n := range []string{"creator", "owner", "otherOwner", "reader", "apManager", "apAssignmentManager", "plain", "delegate1", "delegate2", "sponsor"} {
		w.user(n)
	}
	w.app("appRead", EntitlementManagementReadAll)
	w.app("appReadWrite", EntitlementManagementReadWriteAll)
	guest := nameID("user/guest")
	w.do(sys, PutUser{User: User{ID: guest, UserType: UserTypeGuest, DisplayName: "guest", AccountEnabled: true}})
	w.uid["guest"] = guest

	// Every actor owns the groups and the application, so resource rights
	// never decide the matrix; only the catalog side does.
	var everyone []string
	for _, n := range matrixActors {
		everyone = append(everyone, w.uid[n])
	}
	for _, g := range []string{"G1", "G2", "G3", "GX"} {
		w.group(g, everyone...)
	}
	appRes := nameID("sp/appRes")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: appRes, DisplayName: "Payroll", Owners: everyone,
		AppRoles: []AppRole{{ID: nameID("role/payroll-admin"), DisplayName: "Admin"}}}})
	w.id["appRes"] = appRes

	w.do(ga, CreateRoleAssignment{PrincipalID: w.uid["creator"], RoleDefinitionID: RoleCatalogCreator, AppScopeID: TenantScope})
	for _, c := range []string{"C", "D", "E"} {
		w.id[c] = w.do(ga, CreateCatalog{DisplayName: "Catalog " + c}).ID
	}
	delegate := func(user, role, cat string) string {
		return w.do(ga, CreateRoleAssignment{PrincipalID: w.uid[user], RoleDefinitionID: role, AppScopeID: CatalogScope(w.id[cat])}).ID
	}
	delegate("owner", RoleCatalogOwner, "C")
	delegate("owner", RoleCatalogOwner, "E")
	delegate("otherOwner", RoleCatalogOwner, "D")
	delegate("reader", RoleCatalogReader, "C")
	delegate("apManager", RoleAccessPackageManager, "C")
	delegate("apAssignmentManager", RoleAccessPackageAssignmentManager, "C")
	w.id["RA-delegate2"] = delegate("delegate2", RoleAccessPackageManager, "C")

	for _, g := range []string{"G1", "G3"} {
		w.id["res-"+g] = w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
			Resource: ResourceSpec{OriginID: w.id[g], OriginSystem: OriginSystemAadGroup}}).ID
	}
	for _, p := range []string{"P1", "P2", "P3"} {
		w.id[p] = w.do(ga, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Package " + p}).ID
	}
	res := w.resourceByOrigin(w.id["C"], w.id["G1"])
	w.id["G1-member"], w.id["G1-root"] = res.Roles[0].ID, res.Scopes[0].ID
	w.id["G1-owner"] = res.Roles[1].ID
	w.id["RS-P1"] = w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P1"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]}).ID
	w.do(ga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P1"], IncompatibleAccessPackageID: w.id["P3"]})
	w.do(ga, AddIncompatibleGroup{AccessPackageID: w.id["P1"], GroupID: w.id["GX"]})
	w.id["Pol1"] = w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P1"], "Employees")}).ID
	w.id["O1"] = w.do(ga, CreateConnectedOrganization{DisplayName: "Fabrikam", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceDomain, DomainName: "fabrikam.com", DisplayName: "fabrikam.com"}}}).ID
	w.do(ga, AddConnectedOrganizationSponsor{ConnectedOrganizationID: w.id["O1"], DirectoryObjectID: w.uid["sponsor"]})
	w.id["O2"] = w.do(ga, CreateConnectedOrganization{DisplayName: "Tailspin"}).ID
	return w
}

func (w *world) resourceByOrigin(catalogID, originID string) *Resource {
	w.t.Helper()
	var out *Resource
	w.m.Read(func(s *State) {
		for _, r := range s.resources.All() {
			if r.CatalogID == catalogID && r.OriginID == originID {
				c := cloneResource(*r)
				out = &c
			}
		}
	})
	if out == nil {
		w.t.Fatalf("no resource %s in catalog %s", originID, catalogID)
	}
	return out
}

func TestFixturePoliciesValidate(t *testing.T) {
	p := requestPolicy(nameID("x"), "p")
	require.NoError(t, p.Validate())
	a := autoPolicy(nameID("x"), "a")
	require.NoError(t, a.Validate())
}
