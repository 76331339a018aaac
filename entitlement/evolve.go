package entitlement

import (
	"fmt"
	"reflect"
	"slices"
)

// Apply evolves the state by one event. It is deterministic and trusts the
// event: validation happened when the event was decided. It fails only on
// an event it does not know or whose payload does not match its type, and
// on a read-only State (see Clone).
//
// Apply never changes an object in place: it stores a changed copy, so
// that clones of s taken before are unaffected.
func (s *State) Apply(e Event) error {
	if s.readOnly {
		return errReadOnly
	}
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
		u := cloneUser(d.User)
		s.putUser(&u)
	case *UserAttributeChanged:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *UserManagerChanged:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *UserRef:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *UserDeleted:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *SubjectLifecycleChanged:
		s.changeUser(d.ObjectID, func(u *User) { EvolveUser(u, e) })
	case *GuestLifecycleChanged:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *DirectoryChangeOutcome:
		s.changeUser(d.UserID, func(u *User) { EvolveUser(u, e) })
	case *GroupPayload:
		g := cloneGroup(d.Group)
		s.putGroup(&g)
	case *GroupMember:
		if s.groups.Has(d.GroupID) {
			if e.Type == EventGroupMemberAdded {
				s.addMember(d.GroupID, d.MemberID)
			} else {
				s.removeMember(d.GroupID, d.MemberID)
			}
		}
	case *ServicePrincipalPayload:
		sp := cloneSP(d.ServicePrincipal)
		s.servicePrincipals.Set(sp.ID, &sp)
	case *ObjectRef:
		s.applyDelete(e, d.ID)
	case *CatalogCreated:
		c := d.Catalog
		s.putCatalog(&c)
		if ra := d.OwnerRoleAssignment; ra != nil {
			r := *ra
			s.putRoleAssignment(&r)
		}
	case *CatalogUpdated:
		c := d.Catalog
		s.putCatalog(&c)
	case *ResourceRequestPayload:
		req := cloneResourceRequest(d.Request)
		s.resourceRequests.Set(req.ID, &req)
		if e.Type == EventResourceRemoved {
			s.dropResource(req.Resource.ID)
		} else {
			r := cloneResource(req.Resource)
			s.putResource(&r)
		}
	case *AccessPackageCreated:
		p := clonePackage(d.AccessPackage)
		s.putPackage(&p)
	case *AccessPackageUpdated:
		s.changePackage(d.ID, func(p *AccessPackage) { EvolveAccessPackage(p, e) })
	case *ResourceRoleScopeChanged:
		if !s.accessPackages.Has(d.AccessPackageID) {
			return nil
		}
		s.changePackage(d.AccessPackageID, func(p *AccessPackage) { EvolveAccessPackage(p, e) })
		s.fanOutRoleScope(e, d)
	case *IncompatibilityChanged:
		s.changePackage(d.AccessPackageID, func(p *AccessPackage) { EvolveAccessPackage(p, e) })
	case *AssignmentPolicyPayload:
		version := 1
		if old, ok := s.policies.Get(d.Policy.ID); ok {
			version = old.Version + 1
		}
		s.putPolicy(&policyEntry{CatalogID: d.CatalogID, Policy: *d.Policy.Clone(), Version: version})
	case *ConnectedOrganizationPayload:
		o := cloneOrg(d.ConnectedOrganization)
		s.putOrganization(&o)
	case *SponsorChanged:
		o, ok := s.connectedOrganizations.Get(d.ConnectedOrganizationID)
		if !ok {
			return nil
		}
		c := cloneOrg(*o)
		EvolveConnectedOrganization(&c, e)
		s.putOrganization(&c)
	case *SettingsUpdated:
		st := d.Settings
		s.settingsLog = append(slices.Clip(s.settingsLog), settingsVersion{From: d.ModifiedDateTime, Settings: st})
	case *AssignmentRequestPayload:
		return s.applyNewRequest(d)
	case *RoleAssignmentPayload:
		ra := d.RoleAssignment
		if e.Type == EventRoleAssignmentCreated {
			s.putRoleAssignment(&ra)
		} else {
			s.dropRoleAssignment(ra.ID)
		}
	default:
		if !s.applyAccess(e) && !s.applyWorkflow(e) && !s.applyReview(e) {
			return fmt.Errorf("unexpected payload %T", e.Data)
		}
	}
	return nil
}

// changeUser stores a changed copy of a user, if the user exists.
func (s *State) changeUser(id string, f func(*User)) {
	if u, ok := s.users.Get(id); ok {
		c := cloneUser(*u)
		f(&c)
		s.putUser(&c)
	}
}

// changePackage stores a changed copy of a package, if it exists.
func (s *State) changePackage(id string, f func(*AccessPackage)) {
	if p, ok := s.accessPackages.Get(id); ok {
		c := clonePackage(*p)
		f(&c)
		s.putPackage(&c)
	}
}

// applyDelete applies the deletion events whose payload is an ObjectRef.
func (s *State) applyDelete(e Event, id string) {
	switch e.Type {
	case EventGroupDeleted:
		s.groups.Delete(id)
		s.dropMember(id)
	case EventServicePrincipalDeleted:
		s.servicePrincipals.Delete(id)
		s.dropMember(id)
	case EventCatalogDeleted:
		s.catalogs.Delete(id)
		for _, rid := range s.resourcesOfCatalog(id) {
			s.dropResource(rid)
		}
		for _, raID := range collect(&s.ix.rolesByScope, CatalogScope(id)) {
			s.dropRoleAssignment(raID)
		}
	case EventAccessPackageDeleted:
		for _, pid := range s.policiesOfPackage(id) {
			s.dropPolicy(pid)
		}
		for _, other := range collect(&s.ix.incompatibleWith, id) {
			s.changePackage(other, func(p *AccessPackage) { EvolveAccessPackage(p, e) })
		}
		s.dropPackage(id)
	case EventAssignmentPolicyDeleted:
		s.dropPolicy(id)
	case EventConnectedOrganizationDeleted:
		s.dropOrganization(id)
	case EventWorkflowDeleted:
		s.dropWorkflow(id)
	}
}
