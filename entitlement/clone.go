package entitlement

import (
	"maps"
	"slices"
)

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	if s == nil || s.users == nil {
		return NewState()
	}
	c := &State{
		users:                  cloneMap(s.users, cloneUser),
		groups:                 cloneMap(s.groups, cloneGroup),
		servicePrincipals:      cloneMap(s.servicePrincipals, cloneSP),
		catalogs:               cloneMap(s.catalogs, func(x Catalog) Catalog { return x }),
		resources:              cloneMap(s.resources, cloneResource),
		resourceRequests:       cloneMap(s.resourceRequests, cloneResourceRequest),
		accessPackages:         cloneMap(s.accessPackages, clonePackage),
		policies:               cloneMap(s.policies, clonePolicyPayload),
		connectedOrganizations: cloneMap(s.connectedOrganizations, cloneOrg),
		roleAssignments:        cloneMap(s.roleAssignments, func(x RoleAssignment) RoleAssignment { return x }),
	}
	c.policyVersions = maps.Clone(s.policyVersions)
	c.requests = cloneMap(s.requests, cloneRequest)
	c.assignments = cloneMap(s.assignments, cloneAssignment)
	if s.settings != nil {
		st := *s.settings
		c.settings = &st
	}
	return c
}

func cloneMap[V any](m map[string]*V, f func(V) V) map[string]*V {
	out := make(map[string]*V, len(m))
	for k, v := range maps.All(m) {
		x := f(*v)
		out[k] = &x
	}
	return out
}

func cloneUser(u User) User {
	u.EmployeeHireDate = clonePtr(u.EmployeeHireDate)
	u.EmployeeLeaveDateTime = clonePtr(u.EmployeeLeaveDateTime)
	u.DeletedDateTime = clonePtr(u.DeletedDateTime)
	u.Sponsors = slices.Clone(u.Sponsors)
	return u
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneGroup(g Group) Group {
	g.GroupTypes = slices.Clone(g.GroupTypes)
	g.ResourceProvisioning = slices.Clone(g.ResourceProvisioning)
	g.Owners = slices.Clone(g.Owners)
	g.Members = slices.Clone(g.Members)
	return g
}

func cloneSP(sp ServicePrincipal) ServicePrincipal {
	sp.AppRoles = slices.Clone(sp.AppRoles)
	sp.Owners = slices.Clone(sp.Owners)
	return sp
}

func cloneResourceRequest(r ResourceRequest) ResourceRequest {
	r.Resource = cloneResource(r.Resource)
	return r
}

func clonePackage(p AccessPackage) AccessPackage {
	p.ResourceRoleScopes = slices.Clone(p.ResourceRoleScopes)
	p.IncompatibleAccessPackages = slices.Clone(p.IncompatibleAccessPackages)
	p.IncompatibleGroups = slices.Clone(p.IncompatibleGroups)
	return p
}

func clonePolicyPayload(p AssignmentPolicyPayload) AssignmentPolicyPayload {
	p.Policy = *p.Policy.Clone()
	return p
}

func cloneOrg(o ConnectedOrganization) ConnectedOrganization {
	o.IdentitySources = slices.Clone(o.IdentitySources)
	o.InternalSponsors = slices.Clone(o.InternalSponsors)
	o.ExternalSponsors = slices.Clone(o.ExternalSponsors)
	return o
}
