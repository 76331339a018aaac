package entitlement

import "time"

// Catalog types (Graph accessPackageCatalogType).
const (
	CatalogTypeUserManaged    = "userManaged"
	CatalogTypeServiceDefault = "serviceDefault"
	CatalogTypeServiceManaged = "serviceManaged"
)

// Catalog states (Graph accessPackageCatalogState).
const (
	CatalogStateUnpublished = "unpublished"
	CatalogStatePublished   = "published"
)

// GeneralCatalogID is the fixed id of the built-in General catalog
// (catalogType serviceDefault). See NewManager for how it comes to exist.
const GeneralCatalogID = "4f3bd8fb-d6a6-4c1e-9b8a-2d1d8e0b0a01"

// Catalog is an accessPackageCatalog.
type Catalog struct {
	ID                  string    `json:"id"`
	DisplayName         string    `json:"displayName"`
	Description         string    `json:"description,omitempty"`
	CatalogType         string    `json:"catalogType"`
	State               string    `json:"state"`
	IsExternallyVisible bool      `json:"isExternallyVisible"`
	CreatedDateTime     time.Time `json:"createdDateTime"`
	ModifiedDateTime    time.Time `json:"modifiedDateTime"`
}

// Origin systems of catalog resources (Graph accessPackageResource.originSystem).
const (
	OriginSystemAadGroup         = "AadGroup"
	OriginSystemAadApplication   = "AadApplication"
	OriginSystemSharePointOnline = "SharePointOnline"
)

// Resource request types and state (Graph accessPackageRequestType and
// accessPackageRequestState, the values resource requests use).
const (
	RequestTypeAdminAdd    = "adminAdd"
	RequestTypeAdminUpdate = "adminUpdate"
	RequestTypeAdminRemove = "adminRemove"
	RequestStateDelivered  = "delivered"
)

// DefaultAccessRoleOriginID is the origin id of the "Default Access" role of
// an application that defines no app roles.
const DefaultAccessRoleOriginID = "00000000-0000-0000-0000-000000000000"

// Resource is an accessPackageResource: a group, application or SharePoint
// site added to one catalog, with its roles and scopes.
type Resource struct {
	ID               string          `json:"id"`
	CatalogID        string          `json:"catalogId"`
	DisplayName      string          `json:"displayName"`
	Description      string          `json:"description,omitempty"`
	OriginID         string          `json:"originId"`
	OriginSystem     string          `json:"originSystem"`
	Roles            []ResourceRole  `json:"roles"`
	Scopes           []ResourceScope `json:"scopes"`
	CreatedDateTime  time.Time       `json:"createdDateTime"`
	ModifiedDateTime time.Time       `json:"modifiedDateTime"`
}

// ResourceRole is an accessPackageResourceRole.
type ResourceRole struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	Description  string `json:"description,omitempty"`
	OriginID     string `json:"originId"`
	OriginSystem string `json:"originSystem"`
	ResourceID   string `json:"resourceId"`
}

// ResourceScope is an accessPackageResourceScope.
type ResourceScope struct {
	ID           string `json:"id"`
	DisplayName  string `json:"displayName"`
	Description  string `json:"description,omitempty"`
	IsRootScope  bool   `json:"isRootScope"`
	OriginID     string `json:"originId"`
	OriginSystem string `json:"originSystem"`
	ResourceID   string `json:"resourceId"`
}

// ResourceRequest is an accessPackageResourceRequest. Requests are
// processed synchronously, so every recorded request is delivered.
type ResourceRequest struct {
	ID              string    `json:"id"`
	RequestType     string    `json:"requestType"`
	State           string    `json:"state"`
	CatalogID       string    `json:"catalogId"`
	Resource        Resource  `json:"resource"`
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// AccessPackage is an accessPackage with its contained role scopes and
// incompatibility links.
type AccessPackage struct {
	ID                         string              `json:"id"`
	CatalogID                  string              `json:"catalogId"`
	DisplayName                string              `json:"displayName"`
	Description                string              `json:"description,omitempty"`
	IsHidden                   bool                `json:"isHidden"`
	CreatedDateTime            time.Time           `json:"createdDateTime"`
	ModifiedDateTime           time.Time           `json:"modifiedDateTime"`
	ResourceRoleScopes         []ResourceRoleScope `json:"resourceRoleScopes"`
	IncompatibleAccessPackages []string            `json:"incompatibleAccessPackages"` // ids, sorted
	IncompatibleGroups         []string            `json:"incompatibleGroups"`         // ids, sorted
}

// ResourceRoleScope is an accessPackageResourceRoleScope: a role of a
// resource at a scope, granted by the package. Its id is "roleId_scopeId".
type ResourceRoleScope struct {
	ID              string    `json:"id"`
	RoleID          string    `json:"roleId"`
	ScopeID         string    `json:"scopeId"`
	ResourceID      string    `json:"resourceId"`
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// Connected organization states (Graph connectedOrganizationState).
const (
	ConnectedOrganizationConfigured = "configured"
	ConnectedOrganizationProposed   = "proposed"
)

// Identity source types (the @odata.type of Graph's identitySource subtypes).
const (
	IdentitySourceAzureAD           = "#microsoft.graph.azureActiveDirectoryTenant"
	IdentitySourceCrossCloudAzureAD = "#microsoft.graph.crossCloudAzureActiveDirectoryTenant"
	IdentitySourceDomain            = "#microsoft.graph.domainIdentitySource"
	IdentitySourceExternalDomain    = "#microsoft.graph.externalDomainFederation"
	IdentitySourceSocial            = "#microsoft.graph.socialIdentitySource"
)

// IdentitySource is one of Graph's identitySource subtypes, told apart by
// ODataType; only the fields of that subtype are set.
type IdentitySource struct {
	ODataType                string `json:"@odata.type"`
	TenantID                 string `json:"tenantId,omitempty"`
	CloudInstance            string `json:"cloudInstance,omitempty"`
	DomainName               string `json:"domainName,omitempty"`
	IssuerURI                string `json:"issuerUri,omitempty"`
	SocialIdentitySourceType string `json:"socialIdentitySourceType,omitempty"`
	DisplayName              string `json:"displayName,omitempty"`
}

// ConnectedOrganization is a connectedOrganization with its sponsors.
type ConnectedOrganization struct {
	ID               string           `json:"id"`
	DisplayName      string           `json:"displayName"`
	Description      string           `json:"description,omitempty"`
	IdentitySources  []IdentitySource `json:"identitySources"`
	State            string           `json:"state"`
	InternalSponsors []string         `json:"internalSponsors"` // directory object ids, sorted
	ExternalSponsors []string         `json:"externalSponsors"` // directory object ids, sorted
	CreatedDateTime  time.Time        `json:"createdDateTime"`
	ModifiedDateTime time.Time        `json:"modifiedDateTime"`
}

// External user lifecycle actions (Graph accessPackageExternalUserLifecycleAction).
const (
	ExternalUserLifecycleNone                 = "none"
	ExternalUserLifecycleBlockSignIn          = "blockSignIn"
	ExternalUserLifecycleBlockSignInAndDelete = "blockSignInAndDelete"
)

// Settings is the tenant's entitlementManagementSettings. Until an
// administrator changes them they are DefaultSettings.
type Settings struct {
	// ExternalUserLifecycleAction is what happens to a governed guest who
	// loses their last assignment: none, blockSignIn or
	// blockSignInAndDelete.
	ExternalUserLifecycleAction string `json:"externalUserLifecycleAction"`
	// DurationUntilExternalUserDeletedAfterBlocked is how long after being
	// blocked a governed guest is deleted; zero length deletes at once.
	DurationUntilExternalUserDeletedAfterBlocked Duration `json:"durationUntilExternalUserDeletedAfterBlocked"`
}

// DefaultSettings are the settings of a new tenant: block governed guests
// when they lose their last assignment and delete them 30 days later.
func DefaultSettings() Settings {
	return Settings{
		ExternalUserLifecycleAction:                  ExternalUserLifecycleBlockSignInAndDelete,
		DurationUntilExternalUserDeletedAfterBlocked: DurationDays(30),
	}
}

// Entitlement management role definition ids (§3.2).
const (
	RoleCatalogCreator                 = "ba92d953-d8e0-4e39-a797-0cbedb0a89e8"
	RoleCatalogOwner                   = "ae79f266-94d4-4dab-b730-feca7e132178"
	RoleCatalogReader                  = "44272f93-9762-48e8-af59-1b5351b1d6b3"
	RoleAccessPackageManager           = "7f480852-ebdc-47d4-87de-0d8498384a83"
	RoleAccessPackageAssignmentManager = "e2182095-804a-4656-ae11-64734e9b7ae5"
)

// RoleDefinitionName returns the display name of an entitlement management
// role definition id, or "" if it is not one.
func RoleDefinitionName(id string) string {
	switch id {
	case RoleCatalogCreator:
		return "Catalog creator"
	case RoleCatalogOwner:
		return "Catalog owner"
	case RoleCatalogReader:
		return "Catalog reader"
	case RoleAccessPackageManager:
		return "Access package manager"
	case RoleAccessPackageAssignmentManager:
		return "Access package assignment manager"
	}
	return ""
}

// TenantScope is the appScopeId of tenant-wide role assignments.
const TenantScope = "/"

// CatalogScope returns the appScopeId of role assignments scoped to a catalog.
func CatalogScope(catalogID string) string { return "/AccessPackageCatalog/" + catalogID }

// RoleAssignment is a unifiedRoleAssignment under
// roleManagement/entitlementManagement.
type RoleAssignment struct {
	ID               string    `json:"id"`
	PrincipalID      string    `json:"principalId"`
	RoleDefinitionID string    `json:"roleDefinitionId"`
	AppScopeID       string    `json:"appScopeId"`
	DirectoryScopeID string    `json:"directoryScopeId"`
	CreatedDateTime  time.Time `json:"createdDateTime"`
}

// CatalogID returns the catalog a catalog-scoped assignment applies to, or "".
func (r *RoleAssignment) CatalogID() string {
	const p = "/AccessPackageCatalog/"
	if len(r.AppScopeID) > len(p) && r.AppScopeID[:len(p)] == p {
		return r.AppScopeID[len(p):]
	}
	return ""
}
