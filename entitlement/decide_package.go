package entitlement

import (
	"slices"
	"time"
)

func (c CreateAccessPackage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if _, ok := s.catalogs.Get(c.CatalogID); !ok {
		return decision{}, notFound(op, subject("catalog", c.CatalogID))
	}
	if !canManagePackages(s, a, c.CatalogID) {
		return decision{}, forbidden(op, subject("catalog", c.CatalogID))
	}
	if err := checkDisplayName(op, "displayName", c.DisplayName); err != nil {
		return decision{}, err
	}
	if n := len(s.packagesOfCatalog(c.CatalogID)); n >= MaxPackagesPerCatalog {
		return decision{}, fail(op, ErrLimit, subject("catalog", c.CatalogID), "a catalog holds at most %d access packages", MaxPackagesPerCatalog)
	}
	if s.accessPackages.Len() >= MaxAccessPackages {
		return decision{}, fail(op, ErrLimit, "accessPackages", "a tenant holds at most %d access packages", MaxAccessPackages)
	}
	p := AccessPackage{
		ID: s.newID(ids), CatalogID: c.CatalogID, DisplayName: c.DisplayName, Description: c.Description,
		IsHidden: c.IsHidden, CreatedDateTime: now, ModifiedDateTime: now,
	}
	return one(p.ID, Event{Stream: packageStream(p.ID), Type: EventAccessPackageCreated, Data: &AccessPackageCreated{AccessPackage: p}})
}

// packageFor finds a package and checks check against its catalog.
func packageFor(s *State, a Actor, op, id string, check func(*State, Actor, string) bool) (*AccessPackage, error) {
	p, ok := s.accessPackages.Get(id)
	if !ok {
		return nil, notFound(op, subject("accessPackage", id))
	}
	if !check(s, a, p.CatalogID) {
		return nil, forbidden(op, subject("accessPackage", id))
	}
	return p, nil
}

func (c UpdateAccessPackage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	upd := AccessPackageUpdated{ID: p.ID, DisplayName: p.DisplayName, Description: p.Description, IsHidden: p.IsHidden, ModifiedDateTime: now}
	if c.DisplayName != nil {
		if err := checkDisplayName(op, "displayName", *c.DisplayName); err != nil {
			return decision{}, err
		}
		upd.DisplayName = *c.DisplayName
	}
	if c.Description != nil {
		upd.Description = *c.Description
	}
	if c.IsHidden != nil {
		upd.IsHidden = *c.IsHidden
	}
	return one(p.ID, Event{Stream: packageStream(p.ID), Type: EventAccessPackageUpdated, Data: &upd})
}

func (c DeleteAccessPackage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	// Deleting the package deletes its policies: an auto-assignment one
	// only by whoever may delete it on its own.
	if !canCreateAutoAssignmentPolicy(a) {
		for _, id := range s.policiesOfPackage(p.ID) {
			if e, _ := s.policies.Get(id); e.Policy.IsAutoAssignment() {
				return decision{}, fail(op, ErrForbidden, subject("assignmentPolicy", id),
					"only Global Administrators and Identity Governance Administrators may manage auto-assignment policies")
			}
		}
	}
	pl := newPlan(s, ids, now)
	if s.nonEndedAssignments(p.ID) > 0 || s.openRequests(p.ID, "") > 0 {
		pl.packageDue(p.ID, "") // only then may due work change the answer
	}
	if n := pl.s.nonEndedAssignments(p.ID); n > 0 {
		return decision{}, fail(op, ErrConflict, subject("accessPackage", p.ID), "it still has assignments that have not ended (%d)", n)
	}
	if n := pl.s.openRequests(p.ID, ""); n > 0 {
		return decision{}, fail(op, ErrConflict, subject("accessPackage", p.ID), "there are %d requests in progress", n)
	}
	pl.emitEvent(Event{Stream: packageStream(p.ID), Type: EventAccessPackageDeleted, Data: &ObjectRef{ID: p.ID}})
	return pl.decision(p.ID)
}

func (c AddResourceRoleScope) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canChangePackageResourceRoles)
	if err != nil {
		return decision{}, err
	}
	role, roleRes, ok := s.findRole(c.RoleID)
	if !ok {
		return decision{}, notFound(op, subject("resourceRole", c.RoleID))
	}
	scope, scopeRes, ok := s.findScope(c.ScopeID)
	if !ok {
		return decision{}, notFound(op, subject("resourceScope", c.ScopeID))
	}
	if roleRes.ID != scopeRes.ID {
		return decision{}, invalid(op, "scope", "the role and the scope belong to different resources")
	}
	if roleRes.CatalogID != p.CatalogID {
		return decision{}, invalid(op, "role", "the resource is not in the access package's catalog")
	}
	rs := ResourceRoleScope{ID: role.ID + "_" + scope.ID, RoleID: role.ID, ScopeID: scope.ID,
		ResourceID: roleRes.ID, CreatedDateTime: now}
	if slices.ContainsFunc(p.ResourceRoleScopes, func(x ResourceRoleScope) bool { return x.ID == rs.ID }) {
		return decision{}, fail(op, ErrConflict, subject("resourceRoleScope", rs.ID), "the access package already has this role scope")
	}
	pl := newPlan(s, ids, now)
	pl.expireEnded(collect(&s.ix.liveByPackage, p.ID))
	pl.emitEvent(Event{Stream: packageStream(p.ID), Type: EventResourceRoleScopeAdded,
		Data: &ResourceRoleScopeChanged{AccessPackageID: p.ID, ResourceRoleScope: rs}})
	return pl.decision(rs.ID)
}

func (c RemoveResourceRoleScope) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canChangePackageResourceRoles)
	if err != nil {
		return decision{}, err
	}
	i := slices.IndexFunc(p.ResourceRoleScopes, func(x ResourceRoleScope) bool { return x.ID == c.ResourceRoleScopeID })
	if i < 0 {
		return decision{}, notFound(op, subject("resourceRoleScope", c.ResourceRoleScopeID))
	}
	pl := newPlan(s, ids, now)
	pl.expireEnded(collect(&s.ix.liveByPackage, p.ID))
	pl.emitEvent(Event{Stream: packageStream(p.ID), Type: EventResourceRoleScopeRemoved,
		Data: &ResourceRoleScopeChanged{AccessPackageID: p.ID, ResourceRoleScope: p.ResourceRoleScopes[i]}})
	return pl.decision(c.ResourceRoleScopeID)
}

func (c AddIncompatibleAccessPackage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	if c.IncompatibleAccessPackageID == p.ID {
		return decision{}, invalid(op, "incompatibleAccessPackageId", "a package cannot be incompatible with itself")
	}
	other, ok := s.accessPackages.Get(c.IncompatibleAccessPackageID)
	if !ok {
		return decision{}, notFound(op, subject("accessPackage", c.IncompatibleAccessPackageID))
	}
	if !canReadCatalog(s, a, other.CatalogID) {
		// Naming it would tell its assignees through the refusals of
		// requests for p.
		return decision{}, forbidden(op, subject("accessPackage", other.ID))
	}
	if slices.Contains(p.IncompatibleAccessPackages, c.IncompatibleAccessPackageID) {
		return decision{}, fail(op, ErrConflict, subject("accessPackage", p.ID), "already incompatible with %s", c.IncompatibleAccessPackageID)
	}
	return one(p.ID, Event{Stream: packageStream(p.ID), Type: EventIncompatibleAccessPackageAdded,
		Data: &IncompatibilityChanged{AccessPackageID: p.ID, OtherID: c.IncompatibleAccessPackageID}})
}

func (c RemoveIncompatibleAccessPackage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	if !slices.Contains(p.IncompatibleAccessPackages, c.IncompatibleAccessPackageID) {
		return decision{}, notFound(op, subject("incompatibleAccessPackage", c.IncompatibleAccessPackageID))
	}
	return decideMadeAssignable(s, ids, now, p.ID, Event{Stream: packageStream(p.ID), Type: EventIncompatibleAccessPackageRemoved,
		Data: &IncompatibilityChanged{AccessPackageID: p.ID, OtherID: c.IncompatibleAccessPackageID}}, []string{p.ID})
}

func (c AddIncompatibleGroup) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	if _, ok := s.groups.Get(c.GroupID); !ok {
		return decision{}, notFound(op, subject("group", c.GroupID))
	}
	if slices.Contains(p.IncompatibleGroups, c.GroupID) {
		return decision{}, fail(op, ErrConflict, subject("accessPackage", p.ID), "group %s is already incompatible", c.GroupID)
	}
	return one(p.ID, Event{Stream: packageStream(p.ID), Type: EventIncompatibleGroupAdded,
		Data: &IncompatibilityChanged{AccessPackageID: p.ID, OtherID: c.GroupID}})
}

func (c RemoveIncompatibleGroup) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p, err := packageFor(s, a, op, c.AccessPackageID, canManagePackages)
	if err != nil {
		return decision{}, err
	}
	if !slices.Contains(p.IncompatibleGroups, c.GroupID) {
		return decision{}, notFound(op, subject("incompatibleGroup", c.GroupID))
	}
	return decideMadeAssignable(s, ids, now, p.ID, Event{Stream: packageStream(p.ID), Type: EventIncompatibleGroupRemoved,
		Data: &IncompatibilityChanged{AccessPackageID: p.ID, OtherID: c.GroupID}}, []string{p.ID})
}

// findRole finds a resource role by id in any catalog.
func (s *State) findRole(id string) (ResourceRole, *Resource, bool) {
	if rid, ok := s.ix.roleResource.Get(id); ok {
		r, _ := s.resources.Get(rid)
		for _, role := range r.Roles {
			if role.ID == id {
				return role, r, true
			}
		}
	}
	return ResourceRole{}, nil, false
}

// findScope finds a resource scope by id in any catalog.
func (s *State) findScope(id string) (ResourceScope, *Resource, bool) {
	if rid, ok := s.ix.scopeResource.Get(id); ok {
		r, _ := s.resources.Get(rid)
		for _, sc := range r.Scopes {
			if sc.ID == id {
				return sc, r, true
			}
		}
	}
	return ResourceScope{}, nil, false
}
