package entitlement

import "slices"

// Authorization, one function per row of the permissions matrix (domain
// spec §3.3), with the directory roles of §3.1 and the application
// permissions of §3.4. Entitlement management roles count whether the actor
// holds them directly or through membership of a group that holds them.
//
// Applications: EntitlementManagement.ReadWrite.All makes an app-only actor
// an administrator for every task except managing resources in catalogs and
// in access packages and creating auto-assignment policies (GA/IGA only,
// invariant 8); Read.All makes it a tenant-wide reader. An application may
// instead hold catalog-scoped roles through its service principal.

// isAdmin reports whether a is an entitlement management administrator:
// Global Administrator or Identity Governance Administrator, an application
// with EntitlementManagement.ReadWrite.All, or the system.
func isAdmin(a Actor) bool {
	return a.Kind == ActorSystem ||
		a.hasAnyRole(GlobalAdministrator, IdentityGovernanceAdministrator) ||
		a.HasPermission(EntitlementManagementReadWriteAll)
}

// isDirectoryAdmin reports whether a is a Global or Identity Governance
// Administrator user, or the system: the only actors for tasks that
// application permissions do not cover.
func isDirectoryAdmin(a Actor) bool {
	return a.Kind == ActorSystem || a.hasAnyRole(GlobalAdministrator, IdentityGovernanceAdministrator)
}

// isTenantReader reports whether a may read everything in entitlement
// management: administrators, the reader directory roles and applications
// with either permission.
func isTenantReader(a Actor) bool {
	return isAdmin(a) ||
		a.hasAnyRole(GlobalReader, SecurityReader, SecurityAdministrator, ComplianceAdministrator) ||
		a.HasPermission(EntitlementManagementReadAll)
}

// holdsRole reports whether a holds the role definition at appScopeID,
// directly or through a group.
func holdsRole(s *State, a Actor, roleDefinitionID, appScopeID string) bool {
	if !canHoldRoles(s, a) {
		return false
	}
	var groups map[string]bool
	looked := false
	for id := range s.ix.rolesByScope.Members(appScopeID) {
		ra, _ := s.roleAssignments.Get(id)
		if ra.RoleDefinitionID != roleDefinitionID {
			continue
		}
		if ra.PrincipalID == a.ID {
			return true
		}
		if !looked {
			groups, looked = s.groupsOf(a.ID), true
		}
		if groups[ra.PrincipalID] {
			return true
		}
	}
	return false
}

// holdsAnyCatalogRole reports whether a holds any of the roles in the catalog.
func holdsAnyCatalogRole(s *State, a Actor, catalogID string, roles ...string) bool {
	for _, r := range roles {
		if holdsRole(s, a, r, CatalogScope(catalogID)) {
			return true
		}
	}
	return false
}

// holdsAnyEMRole reports whether a holds any entitlement management role anywhere.
func holdsAnyEMRole(s *State, a Actor) bool {
	if !canHoldRoles(s, a) {
		return false
	}
	if s.ix.rolesByPrincipal.Len(a.ID) > 0 {
		return true
	}
	for g := range s.groupsOf(a.ID) {
		if s.ix.rolesByPrincipal.Len(g) > 0 {
			return true
		}
	}
	return false
}

// canHoldRoles reports whether a's role assignments count: not for the
// system, an actor without id, or a user the directory has deleted or
// blocked from signing in.
func canHoldRoles(s *State, a Actor) bool {
	if a.Kind == ActorSystem || a.ID == "" {
		return false
	}
	if u, ok := s.users.Get(a.ID); ok && (u.DeletedDateTime != nil || !u.AccountEnabled) {
		return false
	}
	return true
}

// reader returns the actor whose rights a read uses: for an ExternalActor
// the guest their email names (or the user their waiting first request
// names: asPrincipal), and for a user the directory has deleted or blocked
// from signing in the user without directory roles or permissions, whose
// entitlement management roles do not count either (canHoldRoles): such
// a user may not act at all (actorBarred), and reads only what anyone may
// about themselves.
func (s *State) reader(a Actor) Actor {
	if a = s.asPrincipal(a); actorBarred(s, a) != "" {
		return Actor{ID: a.ID, Kind: a.Kind}
	}
	return a
}

func isCatalogOwner(s *State, a Actor, catalogID string) bool {
	return holdsRole(s, a, RoleCatalogOwner, CatalogScope(catalogID))
}

// Row "Delegate to catalog creator".
func canDelegateCatalogCreator(a Actor) bool { return isAdmin(a) }

// Row "Add / edit connected organization".
func canManageConnectedOrganizations(a Actor) bool { return isAdmin(a) }

// Row "Edit tenant settings".
func canEditSettings(a Actor) bool { return isAdmin(a) }

// Row "Create auto-assignment policy": Global Administrator or IGA only.
func canCreateAutoAssignmentPolicy(a Actor) bool { return isDirectoryAdmin(a) }

// Row "Create catalog".
func canCreateCatalog(s *State, a Actor) bool {
	return isAdmin(a) || holdsRole(s, a, RoleCatalogCreator, TenantScope)
}

// Row "Add catalog owner, edit or delete catalog, set external visibility".
func canManageCatalog(s *State, a Actor, catalogID string) bool {
	return isAdmin(a) || isCatalogOwner(s, a, catalogID)
}

// Row "Add or remove resource in catalog", catalog half; the resource half
// is hasResourceRights. Application permissions alone do not suffice.
func canManageCatalogResources(s *State, a Actor, catalogID string) bool {
	return isDirectoryAdmin(a) || isCatalogOwner(s, a, catalogID)
}

// Row "Delegate or remove access package manager" (and the other
// catalog-scoped roles).
func canDelegateInCatalog(s *State, a Actor, catalogID string) bool {
	return canManageCatalog(s, a, catalogID)
}

// Rows "Create access package" and "Create or edit (request) policies,
// incompatibilities, hide, delete package".
func canManagePackages(s *State, a Actor, catalogID string) bool {
	return isAdmin(a) || holdsAnyCatalogRole(s, a, catalogID, RoleCatalogOwner, RoleAccessPackageManager)
}

// Row "Change resource roles of a package". Application permissions alone
// do not suffice (resources in access packages, §3.4).
func canChangePackageResourceRoles(s *State, a Actor, catalogID string) bool {
	return isDirectoryAdmin(a) || holdsAnyCatalogRole(s, a, catalogID, RoleCatalogOwner, RoleAccessPackageManager)
}

// Row "Read catalog contents". A catalog creator sees only the catalogs it owns.
func canReadCatalog(s *State, a Actor, catalogID string) bool {
	return isTenantReader(a) || holdsAnyCatalogRole(s, a, catalogID,
		RoleCatalogOwner, RoleCatalogReader, RoleAccessPackageManager, RoleAccessPackageAssignmentManager)
}

// canReadTenantObjects says who may read connected organizations and
// settings: tenant readers and anyone holding an entitlement management role
// (policy authors pick connected organizations).
func canReadTenantObjects(s *State, a Actor) bool {
	return isTenantReader(a) || holdsAnyEMRole(s, a)
}

// canManageDirectory says who may feed the directory: the system and Global
// Administrators.
func canManageDirectory(a Actor) bool {
	return a.Kind == ActorSystem || a.HasRole(GlobalAdministrator)
}

// hasResourceRights reports whether a has rights over the origin object of
// a resource (§3.1): groups need ownership or a groups role, applications
// ownership or an application role, SharePoint sites the SharePoint
// Administrator role.
func hasResourceRights(s *State, a Actor, originSystem, originID string) bool {
	if a.Kind == ActorSystem || a.HasRole(GlobalAdministrator) {
		return true
	}
	switch originSystem {
	case OriginSystemAadGroup:
		g, ok := s.groups.Get(originID)
		if !ok {
			return false
		}
		if slices.Contains(g.Owners, a.ID) || a.hasAnyRole(GroupsAdministrator, IntuneAdministrator) ||
			a.HasPermission(GroupReadWriteAll) {
			return true
		}
		return g.IsUnified() && a.hasAnyRole(ExchangeAdministrator, SharePointAdministrator)
	case OriginSystemAadApplication:
		sp, ok := s.servicePrincipals.Get(originID)
		if !ok {
			return false
		}
		return slices.Contains(sp.Owners, a.ID) ||
			a.hasAnyRole(IdentityGovernanceAdministrator, ApplicationAdministrator, CloudApplicationAdministrator)
	case OriginSystemSharePointOnline:
		return a.HasRole(SharePointAdministrator)
	}
	return false
}

// Rows "Directly assign or remove user", "View assignments, requests,
// delivery errors" and "Reprocess or cancel request, reprocess assignment":
// administrators (applications with ReadWrite.All included), catalog
// owners, access package managers and access package assignment managers.
func canAssign(s *State, a Actor, catalogID string) bool {
	return isAdmin(a) || holdsAnyCatalogRole(s, a, catalogID,
		RoleCatalogOwner, RoleAccessPackageManager, RoleAccessPackageAssignmentManager)
}

// canAssignPackage is canAssign over the catalog of an existing package.
func canAssignPackage(s *State, a Actor, packageID string) bool {
	pkg, ok := s.accessPackages.Get(packageID)
	return ok && canAssign(s, a, pkg.CatalogID)
}

// canViewAssignments: canAssign, plus the tenant-wide readers.
func canViewAssignments(s *State, a Actor, catalogID string) bool {
	return isTenantReader(a) || canAssign(s, a, catalogID)
}
