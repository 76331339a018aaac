package entitlement

import (
	"fmt"
	"reflect"
	"slices"
)

// Apply evolves the state by one event. It is deterministic and trusts the
// event: validation happened when the event was decided. It fails only on
// an event it does not know or whose payload does not match its type.
func (s *State) Apply(e Event) error {
	s.init()
	if v := reflect.ValueOf(e.Data); !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("entitlement: apply %s to %s: payload %T is not a non-nil pointer", e.Type, e.Stream, e.Data)
	}
	if mk, ok := registry[e.Type]; !ok || reflect.TypeOf(mk()) != reflect.TypeOf(e.Data) {
		return fmt.Errorf("entitlement: apply %s to %s: unknown type or payload %T does not match it", e.Type, e.Stream, e.Data)
	}
	if err := s.apply(e); err != nil {
		return fmt.Errorf("entitlement: apply %s to %s: %w", e.Type, e.Stream, err)
	}
	return nil
}

func (s *State) apply(e Event) error {
	switch d := e.Data.(type) {
	case *UserPayload:
		u := d.User
		s.users[u.ID] = &u
	case *UserAttributeChanged:
		if u, ok := s.users[d.UserID]; ok {
			setUserAttribute(u, d.Name, d.NewValue)
		}
	case *UserManagerChanged:
		if u, ok := s.users[d.UserID]; ok {
			u.ManagerID = d.ManagerID
		}
	case *UserRef:
		if u, ok := s.users[d.UserID]; ok {
			u.AccountEnabled = e.Type == EventUserUnblocked
		}
	case *UserDeleted:
		if u, ok := s.users[d.UserID]; ok {
			t := d.DeletedDateTime
			u.DeletedDateTime = &t
		}
	case *SubjectLifecycleChanged:
		if u, ok := s.users[d.ObjectID]; ok {
			u.SubjectLifecycle = d.SubjectLifecycle
		}
	case *GroupPayload:
		g := d.Group
		if old, ok := s.groups[g.ID]; ok {
			g.Members = old.Members
		} else {
			g.Members = nil
		}
		s.groups[g.ID] = &g
	case *GroupMember:
		if g, ok := s.groups[d.GroupID]; ok {
			if e.Type == EventGroupMemberAdded {
				g.Members = insertSorted(g.Members, d.MemberID)
			} else {
				g.Members = removeString(g.Members, d.MemberID)
			}
		}
	case *ServicePrincipalPayload:
		sp := d.ServicePrincipal
		s.servicePrincipals[sp.ID] = &sp
	case *ObjectRef:
		s.applyDelete(e.Type, d.ID)
	case *CatalogCreated:
		c := d.Catalog
		s.catalogs[c.ID] = &c
		if ra := d.OwnerRoleAssignment; ra != nil {
			r := *ra
			s.roleAssignments[r.ID] = &r
		}
	case *CatalogUpdated:
		c := d.Catalog
		s.catalogs[c.ID] = &c
	case *ResourceRequestPayload:
		req := d.Request
		s.resourceRequests[req.ID] = &req
		r := req.Resource
		if e.Type == EventResourceRemoved {
			delete(s.resources, r.ID)
		} else {
			r.Roles = slices.Clone(r.Roles)
			r.Scopes = slices.Clone(r.Scopes)
			s.resources[r.ID] = &r
		}
	case *AccessPackageCreated:
		p := d.AccessPackage
		s.accessPackages[p.ID] = &p
	case *AccessPackageUpdated:
		if p, ok := s.accessPackages[d.ID]; ok {
			p.DisplayName, p.Description, p.IsHidden = d.DisplayName, d.Description, d.IsHidden
			p.ModifiedDateTime = d.ModifiedDateTime
		}
	case *ResourceRoleScopeChanged:
		if p, ok := s.accessPackages[d.AccessPackageID]; ok {
			if e.Type == EventResourceRoleScopeAdded {
				p.ResourceRoleScopes = append(p.ResourceRoleScopes, d.ResourceRoleScope)
				s.grantRoleScopeToAssignees(p.ID, d.ResourceRoleScope)
			} else {
				p.ResourceRoleScopes = slices.DeleteFunc(p.ResourceRoleScopes, func(rs ResourceRoleScope) bool {
					return rs.ID == d.ResourceRoleScope.ID
				})
				s.revokeRoleScopeFromAssignees(p.ID, d.ResourceRoleScope.ID)
			}
		}
	case *IncompatibilityChanged:
		p, ok := s.accessPackages[d.AccessPackageID]
		if !ok {
			return nil
		}
		switch e.Type {
		case EventIncompatibleAccessPackageAdded:
			p.IncompatibleAccessPackages = insertSorted(p.IncompatibleAccessPackages, d.OtherID)
		case EventIncompatibleAccessPackageRemoved:
			p.IncompatibleAccessPackages = removeString(p.IncompatibleAccessPackages, d.OtherID)
		case EventIncompatibleGroupAdded:
			p.IncompatibleGroups = insertSorted(p.IncompatibleGroups, d.OtherID)
		case EventIncompatibleGroupRemoved:
			p.IncompatibleGroups = removeString(p.IncompatibleGroups, d.OtherID)
		}
	case *AssignmentPolicyPayload:
		p := AssignmentPolicyPayload{CatalogID: d.CatalogID, Policy: *d.Policy.Clone()}
		s.policies[p.Policy.ID] = &p
		s.policyVersions[p.Policy.ID]++
	case *ConnectedOrganizationPayload:
		o := d.ConnectedOrganization
		s.connectedOrganizations[o.ID] = &o
	case *SponsorChanged:
		o, ok := s.connectedOrganizations[d.ConnectedOrganizationID]
		if !ok {
			return nil
		}
		switch e.Type {
		case EventInternalSponsorAdded:
			o.InternalSponsors = insertSorted(o.InternalSponsors, d.DirectoryObjectID)
		case EventInternalSponsorRemoved:
			o.InternalSponsors = removeString(o.InternalSponsors, d.DirectoryObjectID)
		case EventExternalSponsorAdded:
			o.ExternalSponsors = insertSorted(o.ExternalSponsors, d.DirectoryObjectID)
		case EventExternalSponsorRemoved:
			o.ExternalSponsors = removeString(o.ExternalSponsors, d.DirectoryObjectID)
		}
	case *SettingsUpdated:
		st := d.Settings
		s.settings = &st
	case *RoleAssignmentPayload:
		ra := d.RoleAssignment
		if e.Type == EventRoleAssignmentCreated {
			s.roleAssignments[ra.ID] = &ra
		} else {
			delete(s.roleAssignments, ra.ID)
		}
	default:
		if !s.applyAccess(e) {
			return fmt.Errorf("unexpected payload %T", e.Data)
		}
	}
	return nil
}

// applyDelete applies the deletion events whose payload is an ObjectRef.
func (s *State) applyDelete(eventType, id string) {
	switch eventType {
	case EventGroupDeleted:
		delete(s.groups, id)
		s.dropMember(id)
	case EventServicePrincipalDeleted:
		delete(s.servicePrincipals, id)
		s.dropMember(id)
	case EventCatalogDeleted:
		delete(s.catalogs, id)
		for _, rid := range s.resourcesOfCatalog(id) {
			delete(s.resources, rid)
		}
		scope := CatalogScope(id)
		for raID, ra := range s.roleAssignments {
			if ra.AppScopeID == scope {
				delete(s.roleAssignments, raID)
			}
		}
	case EventAccessPackageDeleted:
		delete(s.accessPackages, id)
		for _, pid := range s.policiesOfPackage(id) {
			delete(s.policies, pid)
			delete(s.policyVersions, pid)
		}
		for _, p := range s.accessPackages {
			if slices.Contains(p.IncompatibleAccessPackages, id) {
				p.IncompatibleAccessPackages = removeString(p.IncompatibleAccessPackages, id)
			}
		}
	case EventAssignmentPolicyDeleted:
		delete(s.policies, id)
		delete(s.policyVersions, id)
	case EventConnectedOrganizationDeleted:
		delete(s.connectedOrganizations, id)
	}
}

// dropMember removes a deleted directory object from every group.
func (s *State) dropMember(id string) {
	for _, g := range s.groups {
		if slices.Contains(g.Members, id) {
			g.Members = removeString(g.Members, id)
		}
	}
}
