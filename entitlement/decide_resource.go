package entitlement

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

func (c CreateResourceRequest) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	spec := c.Resource
	if _, ok := s.catalogs.Get(c.CatalogID); !ok {
		return decision{}, notFound(op, subject("catalog", c.CatalogID))
	}
	switch c.RequestType {
	case RequestTypeAdminAdd, RequestTypeAdminUpdate, RequestTypeAdminRemove:
	default:
		return decision{}, invalid(op, "requestType", "must be adminAdd, adminUpdate or adminRemove, not %q", c.RequestType)
	}
	switch spec.OriginSystem {
	case OriginSystemAadGroup, OriginSystemAadApplication, OriginSystemSharePointOnline:
	default:
		return decision{}, invalid(op, "resource.originSystem", "must be AadGroup, AadApplication or SharePointOnline, not %q", spec.OriginSystem)
	}
	if spec.OriginID == "" {
		return decision{}, invalid(op, "resource.originId", "is required")
	}
	if !canManageCatalogResources(s, a, c.CatalogID) {
		return decision{}, forbidden(op, subject("catalog", c.CatalogID))
	}
	existing, exists := s.resourceByOrigin(c.CatalogID, spec.OriginSystem, spec.OriginID)
	if c.RequestType == RequestTypeAdminRemove {
		if !exists {
			return decision{}, notFound(op, subject("resource", spec.OriginID))
		}
		// Rights over the origin object count only while it still exists;
		// a resource whose group or application was deleted from the
		// directory can be removed with catalog rights alone.
		if originExists(s, spec) && !hasResourceRights(s, a, spec.OriginSystem, spec.OriginID) {
			return decision{}, fail(op, ErrForbidden, subject("resource", existing.ID), "the actor has no rights over the resource")
		}
		if pkg, used := s.resourceInUse(existing.ID); used {
			return decision{}, fail(op, ErrConflict, subject("resource", existing.ID), "access package %s uses the resource", pkg)
		}
		req := ResourceRequest{ID: s.newID(ids), RequestType: c.RequestType, State: RequestStateDelivered,
			CatalogID: c.CatalogID, Resource: cloneResource(*existing), CreatedDateTime: now}
		return one(req.ID, Event{Stream: resourceStream(existing.ID), Type: EventResourceRemoved, Data: &ResourceRequestPayload{Request: req}})
	}

	// adminAdd and adminUpdate: the origin object must exist, be supported
	// and be under the actor's control.
	if err := checkOrigin(s, op, spec); err != nil {
		return decision{}, err
	}
	if !hasResourceRights(s, a, spec.OriginSystem, spec.OriginID) {
		return decision{}, fail(op, ErrForbidden, subject("resource", spec.OriginID), "the actor has no rights over the resource")
	}
	var res Resource
	typ := EventResourceAdded
	switch {
	case c.RequestType == RequestTypeAdminAdd && exists:
		return decision{}, fail(op, ErrConflict, subject("resource", existing.ID), "the resource is already in the catalog")
	case c.RequestType == RequestTypeAdminUpdate && !exists:
		return decision{}, notFound(op, subject("resource", spec.OriginID))
	case c.RequestType == RequestTypeAdminAdd:
		if n := len(s.resourcesOfCatalog(c.CatalogID)); n >= MaxResourcesPerCatalog {
			return decision{}, fail(op, ErrLimit, subject("catalog", c.CatalogID), "a catalog holds at most %d resources", MaxResourcesPerCatalog)
		}
		res = Resource{ID: s.newID(ids), CatalogID: c.CatalogID, OriginID: spec.OriginID,
			OriginSystem: spec.OriginSystem, CreatedDateTime: now}
	default:
		res = cloneResource(*existing)
		typ = EventResourceUpdated
	}
	res.DisplayName, res.Description = resourceDisplayName(s, spec), spec.Description
	res.ModifiedDateTime = now
	roles, scopes, err := resourceRolesAndScopes(s, op, spec)
	if err != nil {
		return decision{}, err
	}
	keepIDs(roles, res.Roles, func(r *ResourceRole) string { return r.OriginID }, func(r *ResourceRole) *string { return &r.ID }, func() string { return s.newID(ids) })
	keepIDs(scopes, res.Scopes, func(r *ResourceScope) string { return r.OriginID }, func(r *ResourceScope) *string { return &r.ID }, func() string { return s.newID(ids) })
	for i := range roles {
		roles[i].ResourceID = res.ID
	}
	for i := range scopes {
		scopes[i].ResourceID = res.ID
	}
	res.Roles, res.Scopes = roles, scopes
	if exists {
		if err := checkDroppedInUse(s, op, existing, &res); err != nil {
			return decision{}, err
		}
	}
	req := ResourceRequest{ID: s.newID(ids), RequestType: c.RequestType, State: RequestStateDelivered,
		CatalogID: c.CatalogID, Resource: res, CreatedDateTime: now}
	return one(req.ID, Event{Stream: resourceStream(res.ID), Type: typ, Data: &ResourceRequestPayload{Request: req}})
}

// checkOrigin checks that the origin object of a resource exists in the
// directory and can be governed (§8 rows 6 and 7).
func checkOrigin(s *State, op string, spec ResourceSpec) error {
	switch spec.OriginSystem {
	case OriginSystemAadGroup:
		g, ok := s.groups.Get(spec.OriginID)
		if !ok {
			return notFound(op, subject("group", spec.OriginID))
		}
		if why := g.unsupportedReason(); why != "" {
			return invalid(op, "resource.originId", "%s", why)
		}
	case OriginSystemAadApplication:
		sp, ok := s.servicePrincipals.Get(spec.OriginID)
		if !ok {
			return notFound(op, subject("servicePrincipal", spec.OriginID))
		}
		if sp.SignInAudience == "PersonalMicrosoftAccount" {
			return invalid(op, "resource.originId", "applications without support for organisational accounts cannot be governed")
		}
		if name, ok := ungovernedApps[sp.AppID]; ok {
			return invalid(op, "resource.originId", "the %s service principal cannot be governed as an application: "+
				"add the Microsoft 365 group or the SharePoint site instead", name)
		}
	case OriginSystemSharePointOnline:
		if why := notASite(spec.OriginID); why != "" {
			return invalid(op, "resource.originId", "%s", why)
		}
		if len(spec.Roles) == 0 {
			return invalid(op, "resource.roles", "a SharePoint Online site needs at least one site role")
		}
	}
	return nil
}

// ungovernedApps are the application ids of the first-party service
// principals entitlement management refuses as resources (§8 row 7).
var ungovernedApps = map[string]string{
	"00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
	"00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
}

// notASite says why a URL does not name a SharePoint Online site, or ""
// if it may: a site is named by its https URL, and a document, a list or
// a library cannot be governed (§8 row 7). A library is recognised by the
// paths SharePoint gives its own (Shared Documents, Lists, Forms …), a
// file by a period in its name (which a site's own name, after /sites/
// or /teams/, may hold); a library created with another name has a URL a
// subsite could have, and passes.
func notASite(origin string) string {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "a SharePoint Online site is named by its https URL"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "a SharePoint Online site's URL has no query or fragment"
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, seg := range segs {
		siteName := i == 1 && (strings.EqualFold(segs[0], "sites") || strings.EqualFold(segs[0], "teams"))
		switch {
		case !siteName && slices.Contains(notSitePaths, strings.ToLower(seg)):
			return fmt.Sprintf("%s names a document, a list or a library, not a site: only sites can be governed", origin)
		case !siteName && strings.Contains(seg, "."):
			return fmt.Sprintf("%s names a file, not a site: only sites can be governed", origin)
		}
	}
	return ""
}

// notSitePaths are path segments SharePoint gives lists, libraries and
// pages, never sites (lower case).
var notSitePaths = []string{"shared documents", "lists", "forms", "sitepages", "siteassets", "_layouts", "_api", "_vti_bin"}

func resourceDisplayName(s *State, spec ResourceSpec) string {
	if spec.DisplayName != "" {
		return spec.DisplayName
	}
	switch spec.OriginSystem {
	case OriginSystemAadGroup:
		if g, ok := s.groups.Get(spec.OriginID); ok && g.DisplayName != "" {
			return g.DisplayName
		}
	case OriginSystemAadApplication:
		if sp, ok := s.servicePrincipals.Get(spec.OriginID); ok && sp.DisplayName != "" {
			return sp.DisplayName
		}
	}
	return spec.OriginID
}

// resourceRolesAndScopes derives the roles and scopes of a resource as
// §1.4 describes, without ids.
func resourceRolesAndScopes(s *State, op string, spec ResourceSpec) ([]ResourceRole, []ResourceScope, error) {
	var roles []ResourceRole
	var scopes []ResourceScope
	sys := spec.OriginSystem
	switch sys {
	case OriginSystemAadGroup:
		roles = []ResourceRole{
			{DisplayName: "Member", OriginID: "Member_" + spec.OriginID, OriginSystem: sys},
			{DisplayName: "Owner", OriginID: "Owner_" + spec.OriginID, OriginSystem: sys},
		}
		if err := onlyRoles(op, spec.Roles, roles, "a group's roles are Member and Owner"); err != nil {
			return nil, nil, err
		}
	case OriginSystemAadApplication:
		sp, _ := s.servicePrincipals.Get(spec.OriginID)
		for _, r := range sp.AppRoles {
			roles = append(roles, ResourceRole{DisplayName: r.DisplayName, Description: r.Description, OriginID: r.ID, OriginSystem: sys})
		}
		if len(roles) == 0 {
			roles = []ResourceRole{{DisplayName: "Default Access", OriginID: DefaultAccessRoleOriginID, OriginSystem: sys}}
		}
		if err := onlyRoles(op, spec.Roles, roles, "an application's roles are its service principal's app roles"); err != nil {
			return nil, nil, err
		}
		if len(spec.Roles) > 0 {
			// The roles chosen, named as given.
			var chosen []ResourceRole
			for _, r := range spec.Roles {
				i := slices.IndexFunc(roles, func(x ResourceRole) bool { return x.OriginID == r.OriginID })
				x := roles[i]
				if r.DisplayName != "" {
					x.DisplayName = r.DisplayName
				}
				if r.Description != "" {
					x.Description = r.Description
				}
				chosen = append(chosen, x)
			}
			roles = chosen
		}
	case OriginSystemSharePointOnline:
		for _, r := range spec.Roles {
			roles = append(roles, ResourceRole{DisplayName: r.DisplayName, Description: r.Description, OriginID: r.OriginID, OriginSystem: sys})
		}
	}
	seen := map[string]bool{}
	for i, r := range roles {
		if r.OriginID == "" {
			return nil, nil, invalid(op, "resource.roles["+itoa(i)+"].originId", "is required")
		}
		if seen[r.OriginID] {
			return nil, nil, invalid(op, "resource.roles["+itoa(i)+"].originId", "duplicate role %q", r.OriginID)
		}
		seen[r.OriginID] = true
		if roles[i].DisplayName == "" {
			roles[i].DisplayName = r.OriginID
		}
	}
	// The root scope is the resource itself; sites may add sub-scopes.
	scopes = append(scopes, ResourceScope{DisplayName: "Root", Description: "Root scope", IsRootScope: true,
		OriginID: spec.OriginID, OriginSystem: sys})
	seen = map[string]bool{spec.OriginID: true}
	for i, sc := range spec.Scopes {
		if sc.IsRootScope || sc.OriginID == spec.OriginID {
			continue
		}
		if sys != OriginSystemSharePointOnline {
			return nil, nil, invalid(op, "resource.scopes["+itoa(i)+"].originId",
				"only a SharePoint Online site has scopes below its root; a group or an application has its root scope only")
		}
		if sc.OriginID == "" || seen[sc.OriginID] {
			return nil, nil, invalid(op, "resource.scopes["+itoa(i)+"].originId", "is missing or duplicate")
		}
		seen[sc.OriginID] = true
		name := sc.DisplayName
		if name == "" {
			name = sc.OriginID
		}
		scopes = append(scopes, ResourceScope{DisplayName: name, Description: sc.Description, OriginID: sc.OriginID, OriginSystem: sys})
	}
	return roles, scopes, nil
}

// onlyRoles refuses a given role that is not one of the roles the
// resource's origin has (§8 row 8: a bad role origin id), why saying
// which those are.
func onlyRoles(op string, given []RoleSpec, has []ResourceRole, why string) error {
	for i, r := range given {
		if !slices.ContainsFunc(has, func(x ResourceRole) bool { return x.OriginID == r.OriginID }) {
			return invalid(op, "resource.roles["+itoa(i)+"].originId", "%q is not a role of the resource: %s", r.OriginID, why)
		}
	}
	return nil
}

// keepIDs gives each derived role or scope an id: that of the item the
// resource already had with the same origin id, or a new one.
func keepIDs[T any](items, old []T, originID func(*T) string, id func(*T) *string, newID func() string) {
	for i := range items {
		*id(&items[i]) = ""
		for j := range old {
			if originID(&old[j]) == originID(&items[i]) {
				*id(&items[i]) = *id(&old[j])
			}
		}
		if *id(&items[i]) == "" {
			*id(&items[i]) = newID()
		}
	}
}

// checkDroppedInUse refuses an update that drops a role or scope a package uses.
func checkDroppedInUse(s *State, op string, old, upd *Resource) error {
	for _, use := range collect(&s.ix.roleScopeUses, old.ID) {
		pid, rsID, _ := strings.Cut(use, "\x00")
		p, _ := s.accessPackages.Get(pid)
		for _, rs := range p.ResourceRoleScopes {
			if rs.ID != rsID {
				continue
			}
			if !slices.ContainsFunc(upd.Roles, func(r ResourceRole) bool { return r.ID == rs.RoleID }) ||
				!slices.ContainsFunc(upd.Scopes, func(sc ResourceScope) bool { return sc.ID == rs.ScopeID }) {
				return fail(op, ErrConflict, subject("resource", old.ID),
					"access package %s uses role scope %s, which the update would drop", pid, rs.ID)
			}
		}
	}
	return nil
}

func cloneResource(r Resource) Resource {
	r.Roles = slices.Clone(r.Roles)
	r.Scopes = slices.Clone(r.Scopes)
	return r
}

// originExists reports whether the directory still holds a resource's
// origin object; SharePoint sites are not in the directory and always count.
func originExists(s *State, spec ResourceSpec) bool {
	switch spec.OriginSystem {
	case OriginSystemAadGroup:
		_, ok := s.groups.Get(spec.OriginID)
		return ok
	case OriginSystemAadApplication:
		_, ok := s.servicePrincipals.Get(spec.OriginID)
		return ok
	}
	return true
}
