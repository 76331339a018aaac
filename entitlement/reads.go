package entitlement

import (
	"cmp"
	"slices"
)

// Reads answer the administrative questions of the scenarios. Each takes
// the Actor asking and authorizes it as §3.3 says for reading; results are
// copies, sorted by display name and then id.

func byName[T any](name, id func(T) string) func(a, b T) int {
	return func(a, b T) int {
		return cmp.Or(cmp.Compare(name(a), name(b)), cmp.Compare(id(a), id(b)))
	}
}

// ListCatalogs returns the catalogs a may read. A catalog creator sees only
// the catalogs it holds a role in; an actor without rights gets none.
func (s *State) ListCatalogs(a Actor) []Catalog {
	a = s.reader(a)
	var out []Catalog
	for id, c := range s.catalogs.All() {
		if canReadCatalog(s, a, id) {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, byName(func(c Catalog) string { return c.DisplayName }, func(c Catalog) string { return c.ID }))
	return out
}

// readCatalog checks that the catalog exists and a may read it.
func (s *State) readCatalog(a Actor, op, catalogID string) (*Catalog, error) {
	c, ok := s.catalogs.Get(catalogID)
	if !ok {
		return nil, notFound(op, subject("catalog", catalogID))
	}
	if !canReadCatalog(s, a, catalogID) {
		return nil, forbidden(op, subject("catalog", catalogID))
	}
	return c, nil
}

// GetCatalog returns one catalog.
func (s *State) GetCatalog(a Actor, catalogID string) (Catalog, error) {
	a = s.reader(a)
	c, err := s.readCatalog(a, "GetCatalog", catalogID)
	if err != nil {
		return Catalog{}, err
	}
	return *c, nil
}

// ListAccessPackages returns the packages of a catalog.
func (s *State) ListAccessPackages(a Actor, catalogID string) ([]AccessPackage, error) {
	a = s.reader(a)
	if _, err := s.readCatalog(a, "ListAccessPackages", catalogID); err != nil {
		return nil, err
	}
	var out []AccessPackage
	for _, id := range s.packagesOfCatalog(catalogID) {
		p, _ := s.accessPackages.Get(id)
		out = append(out, clonePackage(*p))
	}
	slices.SortFunc(out, byName(func(p AccessPackage) string { return p.DisplayName }, func(p AccessPackage) string { return p.ID }))
	return out, nil
}

// readPackage checks that the package exists and a may read its catalog.
func (s *State) readPackage(a Actor, op, id string) (*AccessPackage, error) {
	p, ok := s.accessPackages.Get(id)
	if !ok {
		return nil, notFound(op, subject("accessPackage", id))
	}
	if !canReadCatalog(s, a, p.CatalogID) {
		return nil, forbidden(op, subject("accessPackage", id))
	}
	return p, nil
}

// GetAccessPackage returns one package with its role scopes and incompatibilities.
func (s *State) GetAccessPackage(a Actor, id string) (AccessPackage, error) {
	a = s.reader(a)
	p, err := s.readPackage(a, "GetAccessPackage", id)
	if err != nil {
		return AccessPackage{}, err
	}
	return clonePackage(*p), nil
}

// ResourcesOfCatalog returns the resources of a catalog with their roles and scopes.
func (s *State) ResourcesOfCatalog(a Actor, catalogID string) ([]Resource, error) {
	a = s.reader(a)
	if _, err := s.readCatalog(a, "ResourcesOfCatalog", catalogID); err != nil {
		return nil, err
	}
	var out []Resource
	for _, id := range s.resourcesOfCatalog(catalogID) {
		r, _ := s.resources.Get(id)
		out = append(out, cloneResource(*r))
	}
	slices.SortFunc(out, byName(func(r Resource) string { return r.DisplayName }, func(r Resource) string { return r.ID }))
	return out, nil
}

// ResourceRolesOfCatalog returns the roles of a catalog's resources, the
// roles packages of the catalog can grant. originSystem and resourceID
// filter when not empty (Graph's $filter=originSystem eq … and resource/id eq …).
func (s *State) ResourceRolesOfCatalog(a Actor, catalogID, originSystem, resourceID string) ([]ResourceRole, error) {
	a = s.reader(a)
	if _, err := s.readCatalog(a, "ResourceRolesOfCatalog", catalogID); err != nil {
		return nil, err
	}
	var out []ResourceRole
	for _, id := range s.resourcesOfCatalog(catalogID) {
		r, _ := s.resources.Get(id)
		if (originSystem != "" && r.OriginSystem != originSystem) || (resourceID != "" && r.ID != resourceID) {
			continue
		}
		out = append(out, r.Roles...)
	}
	slices.SortFunc(out, byName(func(r ResourceRole) string { return r.DisplayName }, func(r ResourceRole) string { return r.ID }))
	return out, nil
}

// ResourceScopesOfCatalog returns the scopes of a catalog's resources.
func (s *State) ResourceScopesOfCatalog(a Actor, catalogID string) ([]ResourceScope, error) {
	a = s.reader(a)
	if _, err := s.readCatalog(a, "ResourceScopesOfCatalog", catalogID); err != nil {
		return nil, err
	}
	var out []ResourceScope
	for _, id := range s.resourcesOfCatalog(catalogID) {
		r, _ := s.resources.Get(id)
		out = append(out, r.Scopes...)
	}
	slices.SortFunc(out, byName(func(r ResourceScope) string { return r.DisplayName }, func(r ResourceScope) string { return r.ID }))
	return out, nil
}

// ResourceRequests returns the resource requests made in a catalog, oldest first.
func (s *State) ResourceRequests(a Actor, catalogID string) ([]ResourceRequest, error) {
	a = s.reader(a)
	if _, err := s.readCatalog(a, "ResourceRequests", catalogID); err != nil {
		return nil, err
	}
	var out []ResourceRequest
	for _, r := range s.resourceRequests.All() {
		if r.CatalogID == catalogID {
			out = append(out, cloneResourceRequest(*r))
		}
	}
	slices.SortFunc(out, func(x, y ResourceRequest) int {
		return cmp.Or(x.CreatedDateTime.Compare(y.CreatedDateTime), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// PoliciesOfPackage returns the assignment policies of a package.
func (s *State) PoliciesOfPackage(a Actor, accessPackageID string) ([]AssignmentPolicy, error) {
	a = s.reader(a)
	if _, err := s.readPackage(a, "PoliciesOfPackage", accessPackageID); err != nil {
		return nil, err
	}
	var out []AssignmentPolicy
	for _, id := range s.policiesOfPackage(accessPackageID) {
		e, _ := s.policies.Get(id)
		out = append(out, *e.Policy.Clone())
	}
	slices.SortFunc(out, byName(func(p AssignmentPolicy) string { return p.DisplayName }, func(p AssignmentPolicy) string { return p.ID }))
	return out, nil
}

// GetAssignmentPolicy returns one policy.
func (s *State) GetAssignmentPolicy(a Actor, policyID string) (AssignmentPolicy, error) {
	a = s.reader(a)
	const op = "GetAssignmentPolicy"
	p, ok := s.policies.Get(policyID)
	if !ok {
		return AssignmentPolicy{}, notFound(op, subject("assignmentPolicy", policyID))
	}
	if !canReadCatalog(s, a, p.CatalogID) {
		return AssignmentPolicy{}, forbidden(op, subject("assignmentPolicy", policyID))
	}
	return *p.Policy.Clone(), nil
}

// IncompatibleAccessPackages returns the packages whose assignees may not
// obtain the package (its incompatibleAccessPackages), those of catalogs a
// may read: a package of another catalog is left out.
func (s *State) IncompatibleAccessPackages(a Actor, accessPackageID string) ([]AccessPackage, error) {
	a = s.reader(a)
	p, err := s.readPackage(a, "IncompatibleAccessPackages", accessPackageID)
	if err != nil {
		return nil, err
	}
	var out []AccessPackage
	for _, id := range p.IncompatibleAccessPackages {
		if q, ok := s.accessPackages.Get(id); ok && canReadCatalog(s, a, q.CatalogID) {
			out = append(out, clonePackage(*q))
		}
	}
	return out, nil
}

// AccessPackagesIncompatibleWith returns the packages that list the package
// as incompatible (the read-only inverse, accessPackagesIncompatibleWith),
// those of catalogs a may read.
func (s *State) AccessPackagesIncompatibleWith(a Actor, accessPackageID string) ([]AccessPackage, error) {
	a = s.reader(a)
	if _, err := s.readPackage(a, "AccessPackagesIncompatibleWith", accessPackageID); err != nil {
		return nil, err
	}
	var out []AccessPackage
	for id := range s.ix.incompatibleWith.Members(accessPackageID) {
		if q, _ := s.accessPackages.Get(id); canReadCatalog(s, a, q.CatalogID) {
			out = append(out, clonePackage(*q))
		}
	}
	return out, nil
}

// IncompatibleGroups returns the groups whose members may not obtain the package.
func (s *State) IncompatibleGroups(a Actor, accessPackageID string) ([]Group, error) {
	a = s.reader(a)
	p, err := s.readPackage(a, "IncompatibleGroups", accessPackageID)
	if err != nil {
		return nil, err
	}
	var out []Group
	for _, id := range p.IncompatibleGroups {
		if g, ok := s.groups.Get(id); ok {
			out = append(out, s.groupWithMembers(g))
		}
	}
	return out, nil
}

// RoleAssignmentFilter narrows ListRoleAssignments; empty fields match all.
type RoleAssignmentFilter struct {
	PrincipalID      string
	RoleDefinitionID string
	AppScopeID       string
}

// ListRoleAssignments returns the entitlement management role assignments a
// may see: all of them for tenant readers; otherwise those in catalogs a
// may read and a's own. Like Graph, the list does not show rights that come
// from directory roles or group membership.
func (s *State) ListRoleAssignments(a Actor, f RoleAssignmentFilter) []RoleAssignment {
	a = s.reader(a)
	var out []RoleAssignment
	for _, ra := range s.roleAssignments.All() {
		if (f.PrincipalID != "" && ra.PrincipalID != f.PrincipalID) ||
			(f.RoleDefinitionID != "" && ra.RoleDefinitionID != f.RoleDefinitionID) ||
			(f.AppScopeID != "" && ra.AppScopeID != f.AppScopeID) {
			continue
		}
		cid := ra.CatalogID()
		if isTenantReader(a) || (a.ID != "" && ra.PrincipalID == a.ID) || (cid != "" && canReadCatalog(s, a, cid)) {
			out = append(out, *ra)
		}
	}
	return out
}

// ListConnectedOrganizations returns the connected organizations, both
// configured and proposed.
func (s *State) ListConnectedOrganizations(a Actor) ([]ConnectedOrganization, error) {
	a = s.reader(a)
	if !canReadTenantObjects(s, a) {
		return nil, forbidden("ListConnectedOrganizations", "connectedOrganizations")
	}
	var out []ConnectedOrganization
	for _, o := range s.connectedOrganizations.All() {
		out = append(out, cloneOrg(*o))
	}
	slices.SortFunc(out, byName(func(o ConnectedOrganization) string { return o.DisplayName }, func(o ConnectedOrganization) string { return o.ID }))
	return out, nil
}

// GetConnectedOrganization returns one connected organization.
func (s *State) GetConnectedOrganization(a Actor, id string) (ConnectedOrganization, error) {
	a = s.reader(a)
	const op = "GetConnectedOrganization"
	o, ok := s.connectedOrganizations.Get(id)
	if !ok {
		return ConnectedOrganization{}, notFound(op, subject("connectedOrganization", id))
	}
	if !canReadTenantObjects(s, a) {
		return ConnectedOrganization{}, forbidden(op, subject("connectedOrganization", id))
	}
	return cloneOrg(*o), nil
}

// Settings returns the tenant's entitlement management settings.
func (s *State) Settings(a Actor) (Settings, error) {
	a = s.reader(a)
	if !canReadTenantObjects(s, a) {
		return Settings{}, forbidden("Settings", "settings")
	}
	return s.currentSettings(), nil
}

// canReadDirectoryObject says who may read a directory object: tenant
// readers, holders of any entitlement management role, and the object itself.
func canReadDirectoryObject(s *State, a Actor, id string) bool {
	return canReadTenantObjects(s, a) || (a.ID != "" && a.ID == id)
}

// GetUser returns a user, deleted or not.
func (s *State) GetUser(a Actor, id string) (User, error) {
	a = s.reader(a)
	u, ok := s.users.Get(id)
	if !ok {
		return User{}, notFound("GetUser", subject("user", id))
	}
	if !canReadDirectoryObject(s, a, id) {
		return User{}, forbidden("GetUser", subject("user", id))
	}
	return cloneUser(*u), nil
}

// GetGroup returns a group with its owners and members.
func (s *State) GetGroup(a Actor, id string) (Group, error) {
	a = s.reader(a)
	g, ok := s.groups.Get(id)
	if !ok {
		return Group{}, notFound("GetGroup", subject("group", id))
	}
	if !canReadDirectoryObject(s, a, id) {
		return Group{}, forbidden("GetGroup", subject("group", id))
	}
	return s.groupWithMembers(g), nil
}

// groupWithMembers returns a copy of a group with its direct members.
func (s *State) groupWithMembers(g *Group) Group {
	c := cloneGroup(*g)
	c.Members = s.groupMembers(g.ID)
	return c
}

// GetServicePrincipal returns a service principal.
func (s *State) GetServicePrincipal(a Actor, id string) (ServicePrincipal, error) {
	a = s.reader(a)
	sp, ok := s.servicePrincipals.Get(id)
	if !ok {
		return ServicePrincipal{}, notFound("GetServicePrincipal", subject("servicePrincipal", id))
	}
	if !canReadDirectoryObject(s, a, id) {
		return ServicePrincipal{}, forbidden("GetServicePrincipal", subject("servicePrincipal", id))
	}
	return cloneSP(*sp), nil
}

// RoleDefinition is a unifiedRoleDefinition of entitlement management.
type RoleDefinition struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

// RoleDefinitions returns the five built-in entitlement management roles (§3.2).
func RoleDefinitions() []RoleDefinition {
	ids := []string{RoleCatalogCreator, RoleCatalogOwner, RoleCatalogReader, RoleAccessPackageManager, RoleAccessPackageAssignmentManager}
	out := make([]RoleDefinition, len(ids))
	for i, id := range ids {
		out[i] = RoleDefinition{ID: id, DisplayName: RoleDefinitionName(id), IsBuiltIn: true}
	}
	return out
}
