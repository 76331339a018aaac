package entitlement

// CreateConnectedOrganization creates a connected organization
// (POST /connectedOrganizations); State defaults to configured. Each
// identity source is given once; a domain is a DNS name. Where two
// organizations share an identity source, an external person is of the
// configured one, else the older.
type CreateConnectedOrganization struct {
	DisplayName     string
	Description     string
	IdentitySources []IdentitySource
	State           string
}

// UpdateConnectedOrganization changes a connected organization; nil fields
// stay as they are.
type UpdateConnectedOrganization struct {
	ConnectedOrganizationID string
	DisplayName             *string
	Description             *string
	State                   *string
	IdentitySources         []IdentitySource // nil: unchanged
}

// DeleteConnectedOrganization deletes a connected organization no policy
// refers to. Its guests stay, in no connected organization (recorded as
// the system's update of each).
type DeleteConnectedOrganization struct {
	ConnectedOrganizationID string
}

// AddConnectedOrganizationSponsor adds a user or group as an internal or
// external sponsor of a connected organization.
type AddConnectedOrganizationSponsor struct {
	ConnectedOrganizationID string
	External                bool // externalSponsors instead of internalSponsors
	DirectoryObjectID       string
}

// RemoveConnectedOrganizationSponsor removes a sponsor.
type RemoveConnectedOrganizationSponsor struct {
	ConnectedOrganizationID string
	External                bool
	DirectoryObjectID       string
}

// UpdateSettings changes the tenant's entitlementManagementSettings
// (PATCH /settings); nil fields stay as they are.
type UpdateSettings struct {
	ExternalUserLifecycleAction                  *string
	DurationUntilExternalUserDeletedAfterBlocked *Duration
}

// CreateRoleAssignment delegates an entitlement management role
// (POST /roleManagement/entitlementManagement/roleAssignments). AppScopeID
// is "/" for Catalog creator and "/AccessPackageCatalog/{id}" otherwise.
type CreateRoleAssignment struct {
	PrincipalID      string
	RoleDefinitionID string
	AppScopeID       string
}

// DeleteRoleAssignment removes a delegation.
type DeleteRoleAssignment struct {
	RoleAssignmentID string
}

func (CreateConnectedOrganization) commandName() string     { return "CreateConnectedOrganization" }
func (UpdateConnectedOrganization) commandName() string     { return "UpdateConnectedOrganization" }
func (DeleteConnectedOrganization) commandName() string     { return "DeleteConnectedOrganization" }
func (AddConnectedOrganizationSponsor) commandName() string { return "AddConnectedOrganizationSponsor" }
func (RemoveConnectedOrganizationSponsor) commandName() string {
	return "RemoveConnectedOrganizationSponsor"
}
func (UpdateSettings) commandName() string       { return "UpdateSettings" }
func (CreateRoleAssignment) commandName() string { return "CreateRoleAssignment" }
func (DeleteRoleAssignment) commandName() string { return "DeleteRoleAssignment" }
