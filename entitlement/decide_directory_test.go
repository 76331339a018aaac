package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDirectoryFeed(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	mgr := w.user("mgr")
	id := nameID("user/ann")
	hire := time.Date(2026, 1, 5, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	r := w.do(sys, PutUser{User: User{ID: id, DisplayName: "Ann", Mail: "ann@contoso.com", UserPrincipalName: "ann@contoso.com",
		Department: "Sales", JobTitle: "Rep", CompanyName: "Contoso", Country: "NL", EmployeeHireDate: &hire,
		AccountEnabled: true, ManagerID: mgr.ID}})
	require.Equal(t, EventUserCreated, r.Events[0].Type)
	require.Equal(t, "Add user", ActivityName(r.Events[0].Type))
	u, err := w.state().GetUser(ga, id)
	require.NoError(t, err)
	require.Equal(t, UserTypeMember, u.UserType)
	require.Equal(t, hire.UTC(), *u.EmployeeHireDate)

	// Names in any case, as membership rules read them; the event names
	// the attribute as Graph does.
	r = w.do(sys, SetUserAttribute{UserID: id, Name: "Department", Value: "Marketing"})
	require.Contains(t, string(r.Events[0].Payload), `"name":"department"`)
	w.do(sys, SetUserAttribute{UserID: id, Name: "employeeLeaveDateTime", Value: "2026-12-31T17:00:00Z"})
	_, err = w.try(sys, SetUserAttribute{UserID: id, Name: "employeeLeaveDateTime", Value: "tomorrow"})
	requireField(t, err, "value")
	_, err = w.try(sys, SetUserAttribute{UserID: id, Name: "objectId", Value: "x"})
	requireField(t, err, "name")
	w.do(sys, SetManager{UserID: id, ManagerID: ""})
	_, err = w.try(sys, SetManager{UserID: id, ManagerID: id})
	requireField(t, err, "managerId")
	_, err = w.try(sys, SetManager{UserID: id, ManagerID: nameID("nobody")})
	requireKind(t, err, ErrNotFound)
	w.do(sys, BlockUser{UserID: id})
	_, err = w.try(sys, BlockUser{UserID: id})
	requireKind(t, err, ErrConflict)
	u, err = w.state().GetUser(UserActor(id), id) // a user reads itself
	require.NoError(t, err)
	require.Equal(t, "Marketing", u.Department)
	require.Equal(t, time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), *u.EmployeeLeaveDateTime)
	require.Empty(t, u.ManagerID)
	require.False(t, u.AccountEnabled)
	w.do(sys, UnblockUser{UserID: id})

	// Only the system and Global Administrators feed the directory.
	_, err = w.try(w.user("iga", IdentityGovernanceAdministrator), PutUser{User: User{ID: nameID("user/x")}})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(sys, PutUser{User: User{ID: "not-a-guid"}})
	requireField(t, err, "id")
	_, err = w.try(sys, PutUser{User: User{ID: nameID("user/y"), UserType: "Robot"}})
	requireField(t, err, "userType")

	// Groups and members.
	g := w.group("Sales")
	w.do(sys, AddGroupMember{GroupID: g, MemberID: id})
	_, err = w.try(sys, AddGroupMember{GroupID: g, MemberID: id})
	requireKind(t, err, ErrConflict)
	_, err = w.try(sys, AddGroupMember{GroupID: g, MemberID: g})
	requireField(t, err, "memberId")
	// Updating the group keeps its members.
	w.do(sys, PutGroup{Group: Group{ID: g, DisplayName: "Sales EU", SecurityEnabled: true}})
	grp, err := w.state().GetGroup(ga, g)
	require.NoError(t, err)
	require.Equal(t, []string{id}, grp.Members)
	require.Equal(t, "Sales EU", grp.DisplayName)
	w.do(sys, RemoveGroupMember{GroupID: g, MemberID: id})
	_, err = w.try(sys, RemoveGroupMember{GroupID: g, MemberID: id})
	requireKind(t, err, ErrNotFound)
	w.do(sys, DeleteGroup{GroupID: g})
	_, err = w.state().GetGroup(ga, g)
	requireKind(t, err, ErrNotFound)

	// Service principals.
	sp := nameID("sp/x")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: sp, DisplayName: "X"}})
	w.do(sys, DeleteServicePrincipal{ServicePrincipalID: sp})
	_, err = w.try(sys, DeleteServicePrincipal{ServicePrincipalID: sp})
	requireKind(t, err, ErrNotFound)

	// Subjects and deletion.
	w.do(ga, UpdateSubject{ObjectID: id, SubjectLifecycle: SubjectLifecycleNotGoverned})
	_, err = w.try(ga, UpdateSubject{ObjectID: id, SubjectLifecycle: "managed"})
	requireField(t, err, "subjectLifecycle")
	w.do(sys, DeleteUser{UserID: id})
	u, err = w.state().GetUser(ga, id)
	require.NoError(t, err)
	require.NotNil(t, u.DeletedDateTime)
	require.Equal(t, SubjectLifecycleNotGoverned, u.SubjectLifecycle)
	_, err = w.try(sys, DeleteUser{UserID: id})
	requireKind(t, err, ErrNotFound)
	_, err = w.state().GetUser(UserActor(nameID("user/stranger")), mgr.ID)
	requireKind(t, err, ErrForbidden)
}

func TestBlockedOrDeletedUsersCannotAct(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	w.do(sys, BlockUser{UserID: ga.ID})
	_, err := w.try(ga, CreateCatalog{DisplayName: "x"})
	requireKind(t, err, ErrForbidden)
	w.do(sys, UnblockUser{UserID: ga.ID})
	w.do(ga, CreateCatalog{DisplayName: "x"})
	w.do(sys, DeleteUser{UserID: ga.ID})
	_, err = w.try(ga, CreateCatalog{DisplayName: "y"})
	requireKind(t, err, ErrForbidden)
	// A user the directory does not know is taken at its word.
	w.do(UserActor(nameID("user/unknown"), GlobalAdministrator), CreateCatalog{DisplayName: "z"})
}

func TestDirectoryValidation(t *testing.T) {
	w := newWorld(t)
	_, err := w.try(sys, PutGroup{Group: Group{ID: "g1"}})
	requireField(t, err, "id")
	_, err = w.try(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: nameID("sp/a"), AppRoles: []AppRole{{ID: "admin"}}}})
	requireField(t, err, "appRoles[0].id")
	_, err = w.try(sys, PutUser{User: User{ID: nameID("user/a"), SubjectLifecycle: "managed"}})
	requireField(t, err, "subjectLifecycle")
	_, err = w.try(sys, PutUser{User: User{ID: nameID("user/a"), UserType: UserTypeGuest, ConnectedOrganizationID: nameID("org/none")}})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(sys, PutUser{User: User{ID: nameID("user/a"), ConnectedOrganizationID: nameID("org/none")}})
	requireField(t, err, "connectedOrganizationId") // a member (found by a review)
	_, err = w.try(sys, AddGroupMember{GroupID: nameID("group/none"), MemberID: nameID("user/a")})
	requireKind(t, err, ErrNotFound)
	g := w.group("G")
	_, err = w.try(sys, AddGroupMember{GroupID: g, MemberID: nameID("user/none")})
	requireKind(t, err, ErrNotFound)
	// Nested groups may not form a cycle.
	h := w.group("H")
	w.do(sys, AddGroupMember{GroupID: g, MemberID: h})
	_, err = w.try(sys, AddGroupMember{GroupID: h, MemberID: g})
	requireField(t, err, "memberId")
	// A re-fed user keeps being the same object: PutUser on an existing id
	// is an update.
	w.do(sys, PutUser{User: User{ID: nameID("user/a"), DisplayName: "A", AccountEnabled: true}})
	r := w.do(sys, PutUser{User: User{ID: nameID("user/a"), DisplayName: "A2", AccountEnabled: true, Sponsors: []string{"b", "a", "b"}}})
	require.Equal(t, EventUserUpdated, r.Events[0].Type)
	u, err := w.state().GetUser(SystemActor(), nameID("user/a"))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, u.Sponsors)
}

// TestEveryRuleAttributeIsStored sets each attribute a membership rule may
// test through the directory commands and matches a rule on it against
// the stored user: a rule never tests an attribute the directory drops.
func TestEveryRuleAttributeIsStored(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	id := nameID("user/rule-attributes")
	w.do(sys, PutUser{User: User{ID: id, AccountEnabled: true}})
	for _, name := range MembershipRuleAttributes() {
		t.Run(name, func(t *testing.T) {
			value := "v-" + name
			switch name {
			case "accountEnabled":
				value = "true" // set by PutUser, BlockUser and UnblockUser
			case "objectId":
				value = id
			case "managerId":
				value = ga.ID
				w.do(sys, SetManager{UserID: id, ManagerID: ga.ID})
			case "employeeHireDate", "employeeLeaveDateTime":
				value = "2026-03-02T09:00:00Z"
				w.do(sys, SetUserAttribute{UserID: id, Name: name, Value: value})
			case "userType":
				value = UserTypeGuest
				fallthrough
			default:
				w.do(sys, SetUserAttribute{UserID: id, Name: name, Value: value})
			}
			u, err := w.state().GetUser(ga, id)
			require.NoError(t, err)
			literal := `"` + value + `"`
			if name == "accountEnabled" {
				literal = value
			}
			rule, err := ParseMembershipRule("(user." + name + " -eq " + literal + ")")
			require.NoError(t, err)
			require.True(t, rule.Match(func(n string) (string, bool) { return ruleAttribute(&u, n) }),
				"rule on %s does not match the stored user", name)
		})
	}
}
