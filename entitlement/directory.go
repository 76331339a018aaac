package entitlement

import (
	"slices"
	"time"
)

// User types (Graph user.userType).
const (
	UserTypeMember = "Member"
	UserTypeGuest  = "Guest"
)

// Subject lifecycles (Graph accessPackageSubjectLifecycle).
const (
	SubjectLifecycleNotDefined  = "notDefined"
	SubjectLifecycleNotGoverned = "notGoverned"
	SubjectLifecycleGoverned    = "governed"
)

// User is a user of the directory as entitlement management needs to know
// it: identity, type, manager, the attributes membership rules read, whether
// sign-in is blocked, and for guests the connected organization and
// sponsors. The embedding program keeps it current through the directory
// commands.
type User struct {
	ID                      string     `json:"id"`
	UserType                string     `json:"userType"` // Member or Guest
	DisplayName             string     `json:"displayName,omitempty"`
	Mail                    string     `json:"mail,omitempty"`
	UserPrincipalName       string     `json:"userPrincipalName,omitempty"`
	ManagerID               string     `json:"managerId,omitempty"`
	Department              string     `json:"department,omitempty"`
	JobTitle                string     `json:"jobTitle,omitempty"`
	CompanyName             string     `json:"companyName,omitempty"`
	Country                 string     `json:"country,omitempty"`
	GivenName               string     `json:"givenName,omitempty"`
	Surname                 string     `json:"surname,omitempty"`
	MailNickname            string     `json:"mailNickname,omitempty"`
	EmployeeID              string     `json:"employeeId,omitempty"`
	EmployeeType            string     `json:"employeeType,omitempty"`
	City                    string     `json:"city,omitempty"`
	State                   string     `json:"state,omitempty"`
	PostalCode              string     `json:"postalCode,omitempty"`
	OfficeLocation          string     `json:"officeLocation,omitempty"`
	UsageLocation           string     `json:"usageLocation,omitempty"`
	EmployeeHireDate        *time.Time `json:"employeeHireDate,omitempty"`
	EmployeeLeaveDateTime   *time.Time `json:"employeeLeaveDateTime,omitempty"`
	AccountEnabled          bool       `json:"accountEnabled"`
	SubjectLifecycle        string     `json:"subjectLifecycle,omitempty"`
	ConnectedOrganizationID string     `json:"connectedOrganizationId,omitempty"`
	Sponsors                []string   `json:"sponsors,omitempty"`
	// DeletedDateTime is set once the user is deleted; a deleted user stays
	// known (soft-deleted, restorable for 30 days in Entra).
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	// Lifecycle is what the external user lifecycle did to a governed
	// guest, if anything.
	Lifecycle *GuestLifecycle `json:"guestLifecycle,omitempty"`
}

// IsGuest reports whether u is a guest (external) user.
func (u *User) IsGuest() bool { return u.UserType == UserTypeGuest }

// Group is a directory group with its owners and direct members (users,
// groups or service principals). The flags say whether entitlement
// management can govern it (§8 row 7): groups synchronised from on-premises
// and mail-enabled distribution groups cannot be catalog resources.
type Group struct {
	ID                    string   `json:"id"`
	DisplayName           string   `json:"displayName,omitempty"`
	Description           string   `json:"description,omitempty"`
	Mail                  string   `json:"mail,omitempty"`
	MailEnabled           bool     `json:"mailEnabled"`
	SecurityEnabled       bool     `json:"securityEnabled"`
	GroupTypes            []string `json:"groupTypes,omitempty"`                  // "Unified" for Microsoft 365 groups
	ResourceProvisioning  []string `json:"resourceProvisioningOptions,omitempty"` // "Team" for a team
	OnPremisesSyncEnabled bool     `json:"onPremisesSyncEnabled"`
	Owners                []string `json:"owners,omitempty"`
	Members               []string `json:"members,omitempty"`
}

// IsUnified reports whether g is a Microsoft 365 group.
func (g *Group) IsUnified() bool { return slices.Contains(g.GroupTypes, "Unified") }

// unsupportedReason says why g cannot be a catalog resource, or "".
func (g *Group) unsupportedReason() string {
	switch {
	case g.OnPremisesSyncEnabled:
		return "groups synchronised from on-premises Active Directory cannot be governed"
	case g.MailEnabled && !g.SecurityEnabled && !g.IsUnified():
		return "Exchange distribution groups cannot be governed"
	}
	return ""
}

// AppRole is a role an application defines.
type AppRole struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
	Value       string `json:"value,omitempty"`
}

// ServicePrincipal is an application's identity in the directory: the origin
// of AadApplication resources and the principal of app-only actors.
type ServicePrincipal struct {
	ID          string    `json:"id"`
	AppID       string    `json:"appId,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	AppRoles    []AppRole `json:"appRoles,omitempty"`
	Owners      []string  `json:"owners,omitempty"`
	// SignInAudience is the application's audience; "PersonalMicrosoftAccount"
	// (no organisational accounts) cannot be governed.
	SignInAudience string `json:"signInAudience,omitempty"`
}
