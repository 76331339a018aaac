package entitlement

import "slices"

// ActorKind says what kind of principal is acting.
type ActorKind string

// Actor kinds.
const (
	// ActorUser is a person signed in, possibly through an application with
	// delegated permissions; their directory roles and entitlement
	// management role assignments decide what they may do.
	ActorUser ActorKind = "user"
	// ActorServicePrincipal is an application acting as itself (app-only):
	// its application permissions and any entitlement management role
	// assignments held by its service principal decide what it may do.
	ActorServicePrincipal ActorKind = "servicePrincipal"
	// ActorSystem is the embedding program acting as the directory or as
	// entitlement management itself (directory sync, time processing).
	ActorSystem ActorKind = "system"
)

// DirectoryRole is a Microsoft Entra built-in directory role held by an
// actor, as the embedding program's authentication reports it.
type DirectoryRole string

// Directory roles that matter to entitlement management (domain spec §3.1).
const (
	GlobalAdministrator             DirectoryRole = "Global Administrator"
	IdentityGovernanceAdministrator DirectoryRole = "Identity Governance Administrator"
	PrivilegedRoleAdministrator     DirectoryRole = "Privileged Role Administrator"
	GlobalReader                    DirectoryRole = "Global Reader"
	SecurityReader                  DirectoryRole = "Security Reader"
	SecurityAdministrator           DirectoryRole = "Security Administrator"
	ComplianceAdministrator         DirectoryRole = "Compliance Administrator"
	GroupsAdministrator             DirectoryRole = "Groups Administrator"
	IntuneAdministrator             DirectoryRole = "Intune Administrator"
	ExchangeAdministrator           DirectoryRole = "Exchange Administrator"
	SharePointAdministrator         DirectoryRole = "SharePoint Administrator"
	ApplicationAdministrator        DirectoryRole = "Application Administrator"
	CloudApplicationAdministrator   DirectoryRole = "Cloud Application Administrator"
	UserAdministrator               DirectoryRole = "User Administrator"
	// LifecycleWorkflowsAdministrator manages and runs lifecycle workflows
	// (with Global Administrator). It confers no entitlement management
	// rights, but its workflows' tasks request and remove access packages
	// for any user, on-demand runs included, as in Entra: grant it as
	// carefully as the packages its workflows may name.
	LifecycleWorkflowsAdministrator DirectoryRole = "Lifecycle Workflows Administrator"
)

// AppPermission is a Microsoft Graph application permission granted to an
// application (app-only actor).
type AppPermission string

// Application permissions that matter to entitlement management (§3.4).
const (
	EntitlementManagementReadAll      AppPermission = "EntitlementManagement.Read.All"
	EntitlementManagementReadWriteAll AppPermission = "EntitlementManagement.ReadWrite.All"
	GroupReadWriteAll                 AppPermission = "Group.ReadWrite.All"
	LifecycleWorkflowsReadAll         AppPermission = "LifecycleWorkflows.Read.All"
	LifecycleWorkflowsReadWriteAll    AppPermission = "LifecycleWorkflows.ReadWrite.All"
)

// Actor is who executes a command or asks a read. For a user, ID is the
// user's object id; for an application, the object id of its service
// principal, which may also hold entitlement management roles through role
// assignments.
type Actor struct {
	ID             string
	Kind           ActorKind
	DirectoryRoles []DirectoryRole
	AppPermissions []AppPermission
	// OnBehalfOf names the user an application acts for, if any; it is
	// recorded in the event metadata only.
	OnBehalfOf string
	// TenantID is the home tenant of an external actor (ExternalActor),
	// when they sign in with a Microsoft Entra account. (Omitted when
	// empty so that command digests of actors without it stay the same.)
	TenantID string `json:",omitempty"`
}

// UserActor returns a user actor holding the given directory roles.
func UserActor(id string, roles ...DirectoryRole) Actor {
	return Actor{ID: id, Kind: ActorUser, DirectoryRoles: roles}
}

// AppActor returns an app-only actor for the service principal id,
// holding the given application permissions.
func AppActor(servicePrincipalID string, perms ...AppPermission) Actor {
	return Actor{ID: servicePrincipalID, Kind: ActorServicePrincipal, AppPermissions: perms}
}

// SystemActor returns the actor the embedding program uses for directory
// feeds and for work entitlement management does by itself.
func SystemActor() Actor { return Actor{ID: "system", Kind: ActorSystem} }

// HasRole reports whether a holds the directory role r. Only users hold
// directory roles.
func (a Actor) HasRole(r DirectoryRole) bool {
	return a.Kind == ActorUser && slices.Contains(a.DirectoryRoles, r)
}

// HasPermission reports whether a is an application granted p.
func (a Actor) HasPermission(p AppPermission) bool {
	return a.Kind == ActorServicePrincipal && slices.Contains(a.AppPermissions, p)
}

func (a Actor) hasAnyRole(rs ...DirectoryRole) bool {
	for _, r := range rs {
		if a.HasRole(r) {
			return true
		}
	}
	return false
}
