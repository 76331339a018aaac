package entitlement

import "slices"

func cloneUser(u User) User {
	u.EmployeeHireDate = clonePtr(u.EmployeeHireDate)
	u.EmployeeLeaveDateTime = clonePtr(u.EmployeeLeaveDateTime)
	u.DeletedDateTime = clonePtr(u.DeletedDateTime)
	u.Sponsors = slices.Clone(u.Sponsors)
	if u.Lifecycle != nil {
		l := *u.Lifecycle
		l.BlockedDateTime, l.DeletionDateTime = clonePtr(l.BlockedDateTime), clonePtr(l.DeletionDateTime)
		u.Lifecycle = &l
	}
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

func cloneOrg(o ConnectedOrganization) ConnectedOrganization {
	o.IdentitySources = slices.Clone(o.IdentitySources)
	o.InternalSponsors = slices.Clone(o.InternalSponsors)
	o.ExternalSponsors = slices.Clone(o.ExternalSponsors)
	return o
}
