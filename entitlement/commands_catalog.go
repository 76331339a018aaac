package entitlement

// CreateCatalog creates a catalog (POST /catalogs). The creator becomes its
// owner. State defaults to published and IsExternallyVisible to true.
type CreateCatalog struct {
	DisplayName         string
	Description         string
	State               string // published (default) or unpublished
	IsExternallyVisible *bool  // default true
}

// UpdateCatalog changes a catalog's properties (PATCH /catalogs/{id}); nil
// fields stay as they are.
type UpdateCatalog struct {
	CatalogID           string
	DisplayName         *string
	Description         *string
	State               *string
	IsExternallyVisible *bool
}

// DeleteCatalog deletes a catalog that holds no access packages.
type DeleteCatalog struct {
	CatalogID string
}

// ResourceSpec describes the resource of a resource request in Graph's
// terms. For groups the roles (Member and Owner) and the root scope are
// derived from the directory; for applications the roles are the service
// principal's app roles, or "Default Access" when it has none, and Roles
// may choose some of them (by origin id, the app role's id); for
// SharePoint sites the roles (site role sequence numbers) must be given,
// the root scope is the site itself and Scopes may add scopes below it.
// A role that is not the origin's, or a scope below the root of a group or
// an application, is refused with ErrInvalid.
type ResourceSpec struct {
	OriginID     string
	OriginSystem string // AadGroup, AadApplication or SharePointOnline
	DisplayName  string
	Description  string
	Roles        []RoleSpec
	Scopes       []ScopeSpec
}

// RoleSpec describes a resource role by its origin id.
type RoleSpec struct {
	OriginID    string
	DisplayName string
	Description string
}

// ScopeSpec describes a resource scope by its origin id.
type ScopeSpec struct {
	OriginID    string
	DisplayName string
	Description string
	IsRootScope bool
}

// CreateResourceRequest adds, updates or removes a resource in a catalog
// (POST /resourceRequests with requestType adminAdd, adminUpdate or
// adminRemove). For update and remove the resource is found by its origin.
// Its Result.ID is the resource request's, as in Graph; the resource
// itself, with the ids of its roles and scopes that AddResourceRoleScope
// takes, is read with State.ResourcesOfCatalog (a group's roles are
// Member and Owner; its one scope is the group itself).
type CreateResourceRequest struct {
	RequestType string
	CatalogID   string
	Resource    ResourceSpec
}

func (CreateCatalog) commandName() string         { return "CreateCatalog" }
func (UpdateCatalog) commandName() string         { return "UpdateCatalog" }
func (DeleteCatalog) commandName() string         { return "DeleteCatalog" }
func (CreateResourceRequest) commandName() string { return "CreateResourceRequest" }
