package entitlement

// CreateAccessPackage creates an access package in a catalog (POST /accessPackages).
type CreateAccessPackage struct {
	CatalogID   string
	DisplayName string
	Description string
	IsHidden    bool
}

// UpdateAccessPackage changes a package's displayName, description or
// isHidden (PATCH /accessPackages/{id}); nil fields stay as they are.
type UpdateAccessPackage struct {
	AccessPackageID string
	DisplayName     *string
	Description     *string
	IsHidden        *bool
}

// DeleteAccessPackage deletes a package that has no non-ended assignments;
// its policies go with it.
type DeleteAccessPackage struct {
	AccessPackageID string
}

// AddResourceRoleScope adds a role of a catalog resource at one of its
// scopes to a package (POST /accessPackages/{id}/resourceRoleScopes).
type AddResourceRoleScope struct {
	AccessPackageID string
	RoleID          string
	ScopeID         string
}

// RemoveResourceRoleScope removes a role scope from a package.
type RemoveResourceRoleScope struct {
	AccessPackageID     string
	ResourceRoleScopeID string
}

// AddIncompatibleAccessPackage declares that anyone assigned
// IncompatibleAccessPackageID may not obtain AccessPackageID. The actor
// must also be able to read the catalog of IncompatibleAccessPackageID.
type AddIncompatibleAccessPackage struct {
	AccessPackageID             string
	IncompatibleAccessPackageID string
}

// RemoveIncompatibleAccessPackage removes such a declaration.
type RemoveIncompatibleAccessPackage struct {
	AccessPackageID             string
	IncompatibleAccessPackageID string
}

// AddIncompatibleGroup declares that members of GroupID may not obtain
// AccessPackageID.
type AddIncompatibleGroup struct {
	AccessPackageID string
	GroupID         string
}

// RemoveIncompatibleGroup removes such a declaration.
type RemoveIncompatibleGroup struct {
	AccessPackageID string
	GroupID         string
}

func (CreateAccessPackage) commandName() string             { return "CreateAccessPackage" }
func (UpdateAccessPackage) commandName() string             { return "UpdateAccessPackage" }
func (DeleteAccessPackage) commandName() string             { return "DeleteAccessPackage" }
func (AddResourceRoleScope) commandName() string            { return "AddResourceRoleScope" }
func (RemoveResourceRoleScope) commandName() string         { return "RemoveResourceRoleScope" }
func (AddIncompatibleAccessPackage) commandName() string    { return "AddIncompatibleAccessPackage" }
func (RemoveIncompatibleAccessPackage) commandName() string { return "RemoveIncompatibleAccessPackage" }
func (AddIncompatibleGroup) commandName() string            { return "AddIncompatibleGroup" }
func (RemoveIncompatibleGroup) commandName() string         { return "RemoveIncompatibleGroup" }
