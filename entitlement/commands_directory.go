package entitlement

// PutUser creates the user, or replaces it if it exists (directory feed).
// A replaced user keeps what entitlement management, not the directory,
// holds about them: the external user lifecycle's schedule, and the
// subjectLifecycle and connected organization the feed leaves empty. Only
// a guest may be governed or belong to a connected organization: a
// governed guest the feed makes a member gets subjectLifecycle notDefined
// and no connected organization.
// A guest given the email of a person not in the directory whose requests
// still wait cancels those requests (see ExternalActor).
type PutUser struct {
	User User
}

// SetUserAttribute changes one attribute of a user. Name is the Graph
// property name: displayName, mail, userPrincipalName, userType,
// department, jobTitle, companyName, country, givenName, surname,
// mailNickname, employeeId, employeeType, city, state, postalCode,
// officeLocation, usageLocation, employeeHireDate or employeeLeaveDateTime
// (RFC 3339, "" clears), in any case, as membership rules read them. The
// manager is set with SetManager. The automatic assignment policies and workflows
// that read the attribute are evaluated in the same decision. A guest
// whose userType becomes Member loses what only guests have (a governed
// subjectLifecycle becomes notDefined; the connected organization goes),
// recorded as the user updated.
type SetUserAttribute struct {
	UserID string
	Name   string
	Value  string
}

// SetManager sets a user's manager; an empty ManagerID removes it.
type SetManager struct {
	UserID    string
	ManagerID string
}

// BlockUser blocks a user from signing in (accountEnabled false).
type BlockUser struct {
	UserID string
}

// UnblockUser lets a blocked user sign in again.
type UnblockUser struct {
	UserID string
}

// DeleteUser deletes a user (soft delete: the user stays known, marked deleted).
type DeleteUser struct {
	UserID string
}

// UpdateSubject sets an accessPackageSubject's subjectLifecycle (Graph
// PATCH subjects(objectId='…')), e.g. to make a guest governed. Only a
// guest may be governed: the external user lifecycle is for guests.
type UpdateSubject struct {
	ObjectID         string
	SubjectLifecycle string
}

// PutGroup creates the group, or replaces its properties and owners if it
// exists; members change only through AddGroupMember and RemoveGroupMember.
type PutGroup struct {
	Group Group
}

// AddGroupMember adds a user, group or service principal to a group.
type AddGroupMember struct {
	GroupID  string
	MemberID string
}

// RemoveGroupMember removes a member from a group.
type RemoveGroupMember struct {
	GroupID  string
	MemberID string
}

// DeleteGroup deletes a group.
type DeleteGroup struct {
	GroupID string
}

// PutServicePrincipal creates or replaces a service principal.
type PutServicePrincipal struct {
	ServicePrincipal ServicePrincipal
}

// DeleteServicePrincipal deletes a service principal.
type DeleteServicePrincipal struct {
	ServicePrincipalID string
}

func (PutUser) commandName() string                { return "PutUser" }
func (SetUserAttribute) commandName() string       { return "SetUserAttribute" }
func (SetManager) commandName() string             { return "SetManager" }
func (BlockUser) commandName() string              { return "BlockUser" }
func (UnblockUser) commandName() string            { return "UnblockUser" }
func (DeleteUser) commandName() string             { return "DeleteUser" }
func (UpdateSubject) commandName() string          { return "UpdateSubject" }
func (PutGroup) commandName() string               { return "PutGroup" }
func (AddGroupMember) commandName() string         { return "AddGroupMember" }
func (RemoveGroupMember) commandName() string      { return "RemoveGroupMember" }
func (DeleteGroup) commandName() string            { return "DeleteGroup" }
func (PutServicePrincipal) commandName() string    { return "PutServicePrincipal" }
func (DeleteServicePrincipal) commandName() string { return "DeleteServicePrincipal" }
