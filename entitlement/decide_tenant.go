package entitlement

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

func checkIdentitySources(op string, srcs []IdentitySource) error {
	for i, src := range srcs {
		f := "identitySources[" + itoa(i) + "]"
		switch src.ODataType {
		case IdentitySourceAzureAD, IdentitySourceCrossCloudAzureAD:
			if _, err := uuid.Parse(src.TenantID); err != nil {
				return invalid(op, f+".tenantId", "must be a GUID")
			}
			if src.ODataType == IdentitySourceCrossCloudAzureAD && !slices.Contains(cloudInstances, src.CloudInstance) {
				return invalid(op, f+".cloudInstance", "must be one of %s, not %q", strings.Join(cloudInstances, ", "), src.CloudInstance)
			}
		case IdentitySourceDomain:
			if src.DomainName == "" {
				return invalid(op, f+".domainName", "is required")
			}
		case IdentitySourceExternalDomain:
			if src.DomainName == "" || src.IssuerURI == "" {
				return invalid(op, f, "domainName and issuerUri are required")
			}
		case IdentitySourceSocial:
			// An external requestor is known by their tenant and their
			// email's domain (ExternalActor), never by a social provider:
			// such an organization could match nobody.
			return invalid(op, f+".@odata.type", "%s is not supported yet: external requestors are matched to "+
				"connected organizations by tenant id or email domain", src.ODataType)
		default:
			return invalid(op, f+".@odata.type", "unknown identity source type %q", src.ODataType)
		}
		// A domain that is not a host name (a space, an @) would match
		// nobody's email, as would a source given twice.
		if src.DomainName != "" && !isHostName(src.DomainName) {
			return invalid(op, f+".domainName", "%q is not a domain name", src.DomainName)
		}
		for j, other := range srcs[:i] {
			// Two sources an external person is matched on alike (a
			// domain and its federation, say) are one source.
			if k := identityKeys(&ConnectedOrganization{IdentitySources: []IdentitySource{src}}); len(k) > 0 &&
				slices.Equal(k, identityKeys(&ConnectedOrganization{IdentitySources: []IdentitySource{other}})) {
				return invalid(op, f, "is identitySources[%d] again", j)
			}
		}
		// A field of another subtype would be stored and never matched on:
		// a domain source with a tenantId matched nobody at the domain.
		for _, x := range []struct {
			name, value string
			of          []string
		}{
			{"tenantId", src.TenantID, []string{IdentitySourceAzureAD, IdentitySourceCrossCloudAzureAD}},
			{"cloudInstance", src.CloudInstance, []string{IdentitySourceCrossCloudAzureAD}},
			{"domainName", src.DomainName, []string{IdentitySourceDomain, IdentitySourceExternalDomain}},
			{"issuerUri", src.IssuerURI, []string{IdentitySourceExternalDomain}},
			{"socialIdentitySourceType", src.SocialIdentitySourceType, nil},
		} {
			if x.value != "" && !slices.Contains(x.of, src.ODataType) {
				return invalid(op, f+"."+x.name, "is not a property of %s", src.ODataType)
			}
		}
	}
	return nil
}

// cloudInstances are the clouds a crossCloudAzureActiveDirectoryTenant may
// be in (Graph's cloudInstance).
var cloudInstances = []string{"microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn"}

func checkOrgState(op, state string) error {
	if state != ConnectedOrganizationConfigured && state != ConnectedOrganizationProposed {
		return invalid(op, "state", "must be configured or proposed, not %q", state)
	}
	return nil
}

func (c CreateConnectedOrganization) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageConnectedOrganizations(a) {
		return decision{}, forbidden(op, "connectedOrganizations")
	}
	if err := checkDisplayName(op, "displayName", c.DisplayName); err != nil {
		return decision{}, err
	}
	state := c.State
	if state == "" {
		state = ConnectedOrganizationConfigured
	}
	if err := checkOrgState(op, state); err != nil {
		return decision{}, err
	}
	if err := checkIdentitySources(op, c.IdentitySources); err != nil {
		return decision{}, err
	}
	if s.connectedOrganizations.Len() >= MaxConnectedOrganizations {
		return decision{}, fail(op, ErrLimit, "connectedOrganizations", "a tenant holds at most %d connected organizations", MaxConnectedOrganizations)
	}
	o := ConnectedOrganization{
		ID: s.newID(ids), DisplayName: c.DisplayName, Description: c.Description,
		IdentitySources: slices.Clone(c.IdentitySources), State: state,
		CreatedDateTime: now, ModifiedDateTime: now,
	}
	return one(o.ID, Event{Stream: orgStream(o.ID), Type: EventConnectedOrganizationCreated, Data: &ConnectedOrganizationPayload{ConnectedOrganization: o}})
}

func (c UpdateConnectedOrganization) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	old, ok := s.connectedOrganizations.Get(c.ConnectedOrganizationID)
	if !ok {
		return decision{}, notFound(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	if !canManageConnectedOrganizations(a) {
		return decision{}, forbidden(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	o := *old
	o.InternalSponsors = slices.Clone(o.InternalSponsors)
	o.ExternalSponsors = slices.Clone(o.ExternalSponsors)
	o.IdentitySources = slices.Clone(o.IdentitySources)
	if c.DisplayName != nil {
		if err := checkDisplayName(op, "displayName", *c.DisplayName); err != nil {
			return decision{}, err
		}
		o.DisplayName = *c.DisplayName
	}
	if c.Description != nil {
		o.Description = *c.Description
	}
	if c.State != nil {
		if err := checkOrgState(op, *c.State); err != nil {
			return decision{}, err
		}
		o.State = *c.State
	}
	if c.IdentitySources != nil {
		if err := checkIdentitySources(op, c.IdentitySources); err != nil {
			return decision{}, err
		}
		o.IdentitySources = slices.Clone(c.IdentitySources)
	}
	o.ModifiedDateTime = now
	return one(o.ID, Event{Stream: orgStream(o.ID), Type: EventConnectedOrganizationUpdated, Data: &ConnectedOrganizationPayload{ConnectedOrganization: o}})
}

// isHostName reports whether d is a DNS host name: dot-separated labels of
// letters, digits and inner hyphens, at most 63 bytes each.
func isHostName(d string) bool {
	if len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (c DeleteConnectedOrganization) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if _, ok := s.connectedOrganizations.Get(c.ConnectedOrganizationID); !ok {
		return decision{}, notFound(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	if !canManageConnectedOrganizations(a) {
		return decision{}, forbidden(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	if pid, used := s.policyReferencingOrg(c.ConnectedOrganizationID); used {
		return decision{}, fail(op, ErrConflict, subject("connectedOrganization", c.ConnectedOrganizationID),
			"assignment policy %s refers to the connected organization", pid)
	}
	// Its guests stay, in no connected organization: none may name one
	// that does not exist.
	var events []Event
	for _, id := range collect(&s.ix.usersByOrg, c.ConnectedOrganizationID) {
		u, _ := s.users.Get(id)
		left := cloneUser(*u)
		left.ConnectedOrganizationID = ""
		events = append(events, Event{Stream: userStream(id), Type: EventUserUpdated, Data: &UserPayload{User: left}, BySystem: true})
	}
	events = append(events, Event{Stream: orgStream(c.ConnectedOrganizationID), Type: EventConnectedOrganizationDeleted,
		Data: &ObjectRef{ID: c.ConnectedOrganizationID}})
	return decision{events: events, id: c.ConnectedOrganizationID}, nil
}

func sponsorEventType(external, add bool) string {
	switch {
	case external && add:
		return EventExternalSponsorAdded
	case external:
		return EventExternalSponsorRemoved
	case add:
		return EventInternalSponsorAdded
	}
	return EventInternalSponsorRemoved
}

func (c AddConnectedOrganizationSponsor) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	o, ok := s.connectedOrganizations.Get(c.ConnectedOrganizationID)
	if !ok {
		return decision{}, notFound(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	if !canManageConnectedOrganizations(a) {
		return decision{}, forbidden(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	u, isUser := s.activeUser(c.DirectoryObjectID)
	_, isGroup := s.groups.Get(c.DirectoryObjectID)
	if !isUser && !isGroup {
		return decision{}, notFound(op, subject("directoryObject", c.DirectoryObjectID))
	}
	list := o.InternalSponsors
	if c.External {
		list = o.ExternalSponsors
		if isUser && (!u.IsGuest() || u.ConnectedOrganizationID != "" && u.ConnectedOrganizationID != o.ID) {
			return decision{}, invalid(op, "directoryObjectId", "external sponsors are guests from the organization")
		}
	} else if isUser && u.IsGuest() {
		return decision{}, invalid(op, "directoryObjectId", "internal sponsors are members of this directory")
	}
	if slices.Contains(list, c.DirectoryObjectID) {
		return decision{}, fail(op, ErrConflict, subject("connectedOrganization", o.ID), "%s is already a sponsor", c.DirectoryObjectID)
	}
	return one(o.ID, Event{Stream: orgStream(o.ID), Type: sponsorEventType(c.External, true),
		Data: &SponsorChanged{ConnectedOrganizationID: o.ID, DirectoryObjectID: c.DirectoryObjectID}})
}

func (c RemoveConnectedOrganizationSponsor) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	o, ok := s.connectedOrganizations.Get(c.ConnectedOrganizationID)
	if !ok {
		return decision{}, notFound(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	if !canManageConnectedOrganizations(a) {
		return decision{}, forbidden(op, subject("connectedOrganization", c.ConnectedOrganizationID))
	}
	list := o.InternalSponsors
	if c.External {
		list = o.ExternalSponsors
	}
	if !slices.Contains(list, c.DirectoryObjectID) {
		return decision{}, notFound(op, subject("sponsor", c.DirectoryObjectID))
	}
	return one(o.ID, Event{Stream: orgStream(o.ID), Type: sponsorEventType(c.External, false),
		Data: &SponsorChanged{ConnectedOrganizationID: o.ID, DirectoryObjectID: c.DirectoryObjectID}})
}

func (c UpdateSettings) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canEditSettings(a) {
		return decision{}, forbidden(op, "settings")
	}
	st := s.currentSettings()
	if v := c.ExternalUserLifecycleAction; v != nil {
		switch *v {
		case ExternalUserLifecycleNone, ExternalUserLifecycleBlockSignIn, ExternalUserLifecycleBlockSignInAndDelete:
		default:
			return decision{}, invalid(op, "externalUserLifecycleAction", "must be none, blockSignIn or blockSignInAndDelete, not %q", *v)
		}
		st.ExternalUserLifecycleAction = *v
	}
	if d := c.DurationUntilExternalUserDeletedAfterBlocked; d != nil {
		if d.IsZero() {
			return decision{}, invalid(op, "durationUntilExternalUserDeletedAfterBlocked", "is required (use PT0S to delete at once)")
		}
		if d.IsCalendar() || !d.AtMost(3660*24*time.Hour) {
			return decision{}, invalid(op, "durationUntilExternalUserDeletedAfterBlocked", "must be a number of days up to 3660")
		}
		st.DurationUntilExternalUserDeletedAfterBlocked = *d
	}
	return one("", Event{Stream: SettingsStream, Type: EventSettingsUpdated, Data: &SettingsUpdated{Settings: st, ModifiedDateTime: now}})
}

// currentSettings returns the tenant settings, the defaults until changed:
// the last of their history.
func (s *State) currentSettings() Settings {
	if n := len(s.settingsLog); n > 0 {
		return s.settingsLog[n-1].Settings
	}
	return DefaultSettings()
}

func (c CreateRoleAssignment) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if RoleDefinitionName(c.RoleDefinitionID) == "" {
		return decision{}, invalid(op, "roleDefinitionId", "%q is not an entitlement management role", c.RoleDefinitionID)
	}
	catalogID := ""
	if c.RoleDefinitionID == RoleCatalogCreator {
		if c.AppScopeID != TenantScope {
			return decision{}, invalid(op, "appScopeId", "the Catalog creator role is tenant-wide: appScopeId must be \"/\"")
		}
		if !canDelegateCatalogCreator(a) {
			return decision{}, forbidden(op, "roleAssignments")
		}
	} else {
		const p = "/AccessPackageCatalog/"
		if !strings.HasPrefix(c.AppScopeID, p) {
			return decision{}, invalid(op, "appScopeId", "must be /AccessPackageCatalog/{catalogId} for a catalog role")
		}
		catalogID = strings.TrimPrefix(c.AppScopeID, p)
		if _, ok := s.catalogs.Get(catalogID); !ok {
			return decision{}, notFound(op, subject("catalog", catalogID))
		}
		if !canDelegateInCatalog(s, a, catalogID) {
			return decision{}, forbidden(op, subject("catalog", catalogID))
		}
	}
	if !s.directoryObjectExists(c.PrincipalID) {
		return decision{}, notFound(op, subject("directoryObject", c.PrincipalID))
	}
	for id := range s.ix.rolesByPrincipal.Members(c.PrincipalID) {
		ra, _ := s.roleAssignments.Get(id)
		if ra.PrincipalID == c.PrincipalID && ra.RoleDefinitionID == c.RoleDefinitionID && ra.AppScopeID == c.AppScopeID {
			return decision{}, fail(op, ErrConflict, subject("roleAssignment", id), "the principal already holds this role at this scope")
		}
	}
	if catalogID != "" {
		if ps := s.delegatedPrincipals(catalogID); !ps[c.PrincipalID] && len(ps) >= MaxDelegatesPerCatalog {
			return decision{}, fail(op, ErrLimit, subject("catalog", catalogID), "at most %d users may be delegated to roles in a catalog", MaxDelegatesPerCatalog)
		}
	}
	ra := RoleAssignment{ID: s.newID(ids), PrincipalID: c.PrincipalID, RoleDefinitionID: c.RoleDefinitionID,
		AppScopeID: c.AppScopeID, DirectoryScopeID: "/", CreatedDateTime: now}
	return one(ra.ID, Event{Stream: roleAssignmentStream(ra.ID), Type: EventRoleAssignmentCreated, Data: &RoleAssignmentPayload{RoleAssignment: ra}})
}

func (c DeleteRoleAssignment) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	ra, ok := s.roleAssignments.Get(c.RoleAssignmentID)
	if !ok {
		return decision{}, notFound(op, subject("roleAssignment", c.RoleAssignmentID))
	}
	allowed := false
	if cid := ra.CatalogID(); cid != "" {
		allowed = canDelegateInCatalog(s, a, cid)
	} else {
		allowed = canDelegateCatalogCreator(a)
	}
	if !allowed {
		return decision{}, forbidden(op, subject("roleAssignment", ra.ID))
	}
	return one(ra.ID, Event{Stream: roleAssignmentStream(ra.ID), Type: EventRoleAssignmentDeleted, Data: &RoleAssignmentPayload{RoleAssignment: *ra}})
}
