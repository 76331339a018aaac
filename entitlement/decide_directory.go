package entitlement

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// userAttributes are the attributes SetUserAttribute may change. Every
// attribute a membership rule may test is one of them, or accountEnabled,
// objectId or managerId (see ruleAttribute).
var userAttributes = []string{
	"displayName", "mail", "userPrincipalName", "userType", "department",
	"jobTitle", "companyName", "country", "employeeHireDate", "employeeLeaveDateTime",
	"givenName", "surname", "mailNickname", "employeeId", "employeeType",
	"city", "state", "postalCode", "officeLocation", "usageLocation",
}

// userTextField and userTimeField locate a user attribute's field, so that
// reading and writing attributes share one list of names.
func userTextField(u *User, name string) *string {
	switch name {
	case "displayName":
		return &u.DisplayName
	case "mail":
		return &u.Mail
	case "userPrincipalName":
		return &u.UserPrincipalName
	case "userType":
		return &u.UserType
	case "department":
		return &u.Department
	case "jobTitle":
		return &u.JobTitle
	case "companyName":
		return &u.CompanyName
	case "country":
		return &u.Country
	case "givenName":
		return &u.GivenName
	case "surname":
		return &u.Surname
	case "mailNickname":
		return &u.MailNickname
	case "employeeId":
		return &u.EmployeeID
	case "employeeType":
		return &u.EmployeeType
	case "city":
		return &u.City
	case "state":
		return &u.State
	case "postalCode":
		return &u.PostalCode
	case "officeLocation":
		return &u.OfficeLocation
	case "usageLocation":
		return &u.UsageLocation
	}
	return nil
}

func userTimeField(u *User, name string) **time.Time {
	switch name {
	case "employeeHireDate":
		return &u.EmployeeHireDate
	case "employeeLeaveDateTime":
		return &u.EmployeeLeaveDateTime
	}
	return nil
}

// userAttribute returns the current value of a user attribute as text.
func userAttribute(u *User, name string) string {
	if f := userTextField(u, name); f != nil {
		return *f
	}
	if f := userTimeField(u, name); f != nil {
		return formatTimePtr(*f)
	}
	return ""
}

// ruleAttribute is the accessor a membership rule is matched with: the
// user's attribute as text, and whether it is set. accountEnabled, which
// is not a SetUserAttribute attribute (BlockUser and UnblockUser change
// it), reads "true" or "false".
func ruleAttribute(u *User, name string) (string, bool) {
	switch name {
	case "accountEnabled":
		return strconv.FormatBool(u.AccountEnabled), true
	case "objectId":
		return u.ID, true
	case "managerId":
		return u.ManagerID, u.ManagerID != ""
	}
	v := userAttribute(u, name)
	return v, v != ""
}

// setUserAttribute sets a user attribute from text already validated.
func setUserAttribute(u *User, name, v string) {
	if f := userTextField(u, name); f != nil {
		*f = v
	} else if f := userTimeField(u, name); f != nil {
		*f = parseTimePtr(v)
	}
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTimePtr(v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (c PutUser) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("user", c.User.ID))
	}
	u := c.User
	if err := checkID(op, "id", u.ID); err != nil {
		return decision{}, err
	}
	switch u.UserType {
	case "":
		u.UserType = UserTypeMember
	case UserTypeMember, UserTypeGuest:
	default:
		return decision{}, invalid(op, "userType", "must be Member or Guest, not %q", u.UserType)
	}
	switch u.SubjectLifecycle {
	case "", SubjectLifecycleNotDefined, SubjectLifecycleNotGoverned, SubjectLifecycleGoverned:
	default:
		return decision{}, invalid(op, "subjectLifecycle", "unknown value %q", u.SubjectLifecycle)
	}
	if u.SubjectLifecycle == SubjectLifecycleGoverned && u.UserType != UserTypeGuest {
		return decision{}, invalid(op, "subjectLifecycle", "only guests are governed")
	}
	if u.ConnectedOrganizationID != "" && u.UserType != UserTypeGuest {
		return decision{}, invalid(op, "connectedOrganizationId", "only guests belong to a connected organization")
	}
	if u.ManagerID == u.ID {
		return decision{}, invalid(op, "manager", "a user cannot be their own manager")
	}
	if u.ConnectedOrganizationID != "" {
		if _, ok := s.connectedOrganizations.Get(u.ConnectedOrganizationID); !ok {
			return decision{}, notFound(op, subject("connectedOrganization", u.ConnectedOrganizationID))
		}
	}
	u.EmployeeHireDate = utcPtr(u.EmployeeHireDate)
	u.EmployeeLeaveDateTime = utcPtr(u.EmployeeLeaveDateTime)
	u.Sponsors = slices.Clone(u.Sponsors)
	slices.Sort(u.Sponsors)
	u.Sponsors = slices.Compact(u.Sponsors)
	typ, ch := EventUserCreated, userChange{all: true}
	if old, ok := s.users.Get(u.ID); ok {
		typ = EventUserUpdated
		u.DeletedDateTime = utcPtr(old.DeletedDateTime)
		u.Lifecycle = old.Lifecycle // the external user lifecycle's, not the feed's
		// Entitlement management's own properties of the subject, which
		// a directory feed does not know: kept unless the feed gives them
		// (a guest the feed makes a member keeps only what a member has).
		if u.SubjectLifecycle == "" {
			u.SubjectLifecycle = old.SubjectLifecycle
		}
		if u.ConnectedOrganizationID == "" {
			u.ConnectedOrganizationID = old.ConnectedOrganizationID
		}
		if u.UserType != UserTypeGuest {
			u = asMember(u)
		}
		ch = userChange{attrs: changedAttributes(old, &u), all: !old.AccountEnabled && u.AccountEnabled}
	} else {
		u.DeletedDateTime, u.Lifecycle = nil, nil
	}
	return decideUserEvent(s, ids, now, u.ID, Event{Stream: userStream(u.ID), Type: typ, Data: &UserPayload{User: u}}, ch)
}

func (c SetUserAttribute) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("user", c.UserID))
	}
	u, ok := s.activeUser(c.UserID)
	if !ok {
		return decision{}, notFound(op, subject("user", c.UserID))
	}
	// Graph's property names, in any case, as membership rules read them.
	if i := slices.IndexFunc(userAttributes, func(n string) bool { return strings.EqualFold(n, c.Name) }); i >= 0 {
		c.Name = userAttributes[i]
	} else {
		return decision{}, invalid(op, "name", "unknown or read-only attribute %q", c.Name)
	}
	v := c.Value
	switch c.Name {
	case "userType":
		if v != UserTypeMember && v != UserTypeGuest {
			return decision{}, invalid(op, "value", "userType must be Member or Guest")
		}
	case "employeeHireDate", "employeeLeaveDateTime":
		if v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return decision{}, invalid(op, "value", "%s must be an RFC 3339 time: %v", c.Name, err)
			}
			v = t.UTC().Format(time.RFC3339Nano)
		}
	}
	old := userAttribute(u, c.Name)
	var ch userChange
	if old != v {
		ch.attrs = []string{c.Name}
	}
	e := Event{Stream: userStream(u.ID), Type: EventUserAttributeChanged,
		Data: &UserAttributeChanged{UserID: u.ID, Name: c.Name, OldValue: old, NewValue: v}}
	if m := asMember(cloneUser(*u)); c.Name == "userType" && v == UserTypeMember &&
		(m.SubjectLifecycle != u.SubjectLifecycle || m.ConnectedOrganizationID != u.ConnectedOrganizationID) {
		// A guest made a member keeps only what a member has, as with
		// the directory feed's PutUser.
		return decideUserEvent(s, ids, now, u.ID, e, ch, Event{Stream: userStream(u.ID), Type: EventUserUpdated, Data: &UserPayload{User: m}})
	}
	return decideUserEvent(s, ids, now, u.ID, e, ch)
}

// asMember returns u as a member: only guests are governed by the external
// user lifecycle or belong to a connected organization.
func asMember(u User) User {
	u.UserType = UserTypeMember
	if u.SubjectLifecycle == SubjectLifecycleGoverned {
		u.SubjectLifecycle = SubjectLifecycleNotDefined
	}
	u.ConnectedOrganizationID = ""
	return u
}

func (c SetManager) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("user", c.UserID))
	}
	if _, ok := s.activeUser(c.UserID); !ok {
		return decision{}, notFound(op, subject("user", c.UserID))
	}
	if c.ManagerID != "" {
		if c.ManagerID == c.UserID {
			return decision{}, invalid(op, "managerId", "a user cannot be their own manager")
		}
		if _, ok := s.activeUser(c.ManagerID); !ok {
			return decision{}, notFound(op, subject("user", c.ManagerID))
		}
	}
	var ch userChange
	if u, _ := s.activeUser(c.UserID); u.ManagerID != c.ManagerID {
		ch.attrs = []string{"managerId"}
	}
	return decideUserEvent(s, ids, now, c.UserID, Event{Stream: userStream(c.UserID), Type: EventUserManagerChanged,
		Data: &UserManagerChanged{UserID: c.UserID, ManagerID: c.ManagerID}}, ch)
}

func (c BlockUser) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	return decideBlock(s, a, now, ids, c.commandName(), c.UserID, false)
}

func (c UnblockUser) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	return decideBlock(s, a, now, ids, c.commandName(), c.UserID, true)
}

func decideBlock(s *State, a Actor, now time.Time, ids IDSource, op, userID string, enable bool) (decision, error) {
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("user", userID))
	}
	u, ok := s.activeUser(userID)
	if !ok {
		return decision{}, notFound(op, subject("user", userID))
	}
	if u.AccountEnabled == enable {
		return decision{}, fail(op, ErrConflict, subject("user", userID), "accountEnabled is already %v", enable)
	}
	// Blocking changes only what rules reading accountEnabled say;
	// unblocking also lets matching users be assigned again.
	typ, ch := EventUserBlocked, userChange{attrs: []string{"accountEnabled"}}
	if enable {
		typ, ch.all = EventUserUnblocked, true
	}
	return decideUserEvent(s, ids, now, userID, Event{Stream: userStream(userID), Type: typ, Data: &UserRef{UserID: userID}}, ch)
}

func (c DeleteUser) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("user", c.UserID))
	}
	if _, ok := s.activeUser(c.UserID); !ok {
		return decision{}, notFound(op, subject("user", c.UserID))
	}
	return decideUserEvent(s, ids, now, c.UserID, Event{Stream: userStream(c.UserID), Type: EventUserDeleted,
		Data: &UserDeleted{UserID: c.UserID, DeletedDateTime: now}}, userChange{all: true})
}

// decideUserEvent decides a change to a user: the event and those that go
// with it (also), then what the automatic assignment policies and
// lifecycle workflows that read what changed call for once it is applied
// (see plan.userChanged).
func decideUserEvent(s *State, ids IDSource, now time.Time, userID string, e Event, ch userChange, also ...Event) (decision, error) {
	claimed := claimedEmail(s, userID, e)
	due := s.hasUserDue(userID, now)
	if !s.readsChange(ch) && claimed == "" && !due {
		return decision{events: append([]Event{e}, also...), id: userID}, nil
	}
	p := newPlan(s, ids, now)
	if due {
		// What fell due about the user (expiries, workflow runs) is
		// recorded on the user as they were then. It may have changed
		// the user's external user lifecycle (a guest's last assignment
		// ended): a feed's user keeps the lifecycle as it now stands.
		p.userDue(userID)
		if d, ok := e.Data.(*UserPayload); ok {
			if cur, ok := p.s.users.Get(userID); ok {
				u := d.User
				u.Lifecycle = cur.Lifecycle
				e.Data = &UserPayload{User: u}
			}
		}
	}
	p.emitEvent(e)
	for _, e := range also {
		p.emitEvent(e)
	}
	if claimed != "" {
		// Someone not in the directory asked under this email, and their
		// request still waits for the guest it would create. The
		// directory now has a guest with the email: the waiting requests
		// are canceled rather than approved into a second guest for the
		// same person, who asks again as the directory's guest.
		for id := range p.s.ix.pendingByEmail.Members(claimed) {
			if id != userID {
				p.cancelPendingRequests(id)
			}
		}
	}
	p.userChanged(userID, ch)
	return p.decision(userID)
}

// claimedEmail returns the email that event e gives a guest, if requests
// of a person not in the directory wait under it.
func claimedEmail(s *State, userID string, e Event) string {
	var u *User
	switch d := e.Data.(type) {
	case *UserPayload:
		u = &d.User
	case *UserAttributeChanged:
		old, ok := s.users.Get(userID)
		if !ok {
			return ""
		}
		if d.Name != "mail" && d.Name != "userType" {
			return "" // no other attribute makes a guest's email
		}
		c := *old
		setUserAttribute(&c, d.Name, d.NewValue)
		u = &c
	}
	for _, k := range guestEmailKeys(u) {
		for id := range s.ix.pendingByEmail.Members(k) {
			if id != userID {
				return k
			}
		}
	}
	return ""
}

// changedAttributes returns the attributes, among those SetUserAttribute
// changes and accountEnabled, whose value differs between two versions of
// a user.
func changedAttributes(old, u *User) []string {
	var out []string
	for _, name := range userAttributes {
		if userAttribute(old, name) != userAttribute(u, name) {
			out = append(out, name)
		}
	}
	if old.AccountEnabled != u.AccountEnabled {
		out = append(out, "accountEnabled")
	}
	if old.ManagerID != u.ManagerID {
		out = append(out, "managerId")
	}
	return out
}

func (c UpdateSubject) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !isAdmin(a) {
		return decision{}, forbidden(op, subject("subject", c.ObjectID))
	}
	u, ok := s.activeUser(c.ObjectID)
	if !ok {
		return decision{}, notFound(op, subject("subject", c.ObjectID))
	}
	switch c.SubjectLifecycle {
	case SubjectLifecycleNotDefined, SubjectLifecycleNotGoverned, SubjectLifecycleGoverned:
	default:
		return decision{}, invalid(op, "subjectLifecycle", "must be notDefined, notGoverned or governed")
	}
	if c.SubjectLifecycle == SubjectLifecycleGoverned && u.UserType != UserTypeGuest {
		return decision{}, invalid(op, "subjectLifecycle", "only guests are governed")
	}
	return one(c.ObjectID, Event{Stream: userStream(c.ObjectID), Type: EventSubjectLifecycleChanged,
		Data: &SubjectLifecycleChanged{ObjectID: c.ObjectID, SubjectLifecycle: c.SubjectLifecycle}})
}

func (c PutGroup) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("group", c.Group.ID))
	}
	g := c.Group
	if err := checkID(op, "id", g.ID); err != nil {
		return decision{}, err
	}
	g.Owners = sortedSet(g.Owners)
	g.GroupTypes = slices.Clone(g.GroupTypes)
	g.ResourceProvisioning = slices.Clone(g.ResourceProvisioning)
	g.Members = nil
	typ := EventGroupCreated
	if _, ok := s.groups.Get(g.ID); ok {
		typ = EventGroupUpdated
	}
	return one(g.ID, Event{Stream: groupStream(g.ID), Type: typ, Data: &GroupPayload{Group: g}})
}

func (c AddGroupMember) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("group", c.GroupID))
	}
	if !s.groups.Has(c.GroupID) {
		return decision{}, notFound(op, subject("group", c.GroupID))
	}
	if !s.directoryObjectExists(c.MemberID) {
		return decision{}, notFound(op, subject("directoryObject", c.MemberID))
	}
	if c.MemberID == c.GroupID || s.isMemberOf(c.GroupID, c.MemberID) {
		return decision{}, invalid(op, "memberId", "a group cannot contain itself")
	}
	if s.ix.members.Has(c.GroupID, c.MemberID) {
		return decision{}, fail(op, ErrConflict, subject("group", c.GroupID), "%s is already a member", c.MemberID)
	}
	return one(c.GroupID, Event{Stream: groupStream(c.GroupID), Type: EventGroupMemberAdded,
		Data: &GroupMember{GroupID: c.GroupID, MemberID: c.MemberID}})
}

func (c RemoveGroupMember) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("group", c.GroupID))
	}
	if !s.groups.Has(c.GroupID) {
		return decision{}, notFound(op, subject("group", c.GroupID))
	}
	if !s.ix.members.Has(c.GroupID, c.MemberID) {
		return decision{}, notFound(op, subject("groupMember", c.MemberID))
	}
	return one(c.GroupID, Event{Stream: groupStream(c.GroupID), Type: EventGroupMemberRemoved,
		Data: &GroupMember{GroupID: c.GroupID, MemberID: c.MemberID}})
}

func (c DeleteGroup) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("group", c.GroupID))
	}
	if _, ok := s.groups.Get(c.GroupID); !ok {
		return decision{}, notFound(op, subject("group", c.GroupID))
	}
	return withoutRoles(s, c.GroupID, Event{Stream: groupStream(c.GroupID), Type: EventGroupDeleted, Data: &ObjectRef{ID: c.GroupID}})
}

// withoutRoles decides the deletion of a principal from the directory:
// its entitlement management role assignments go first, each recorded as
// removed, as Entra deletes them with the object; left in place they
// would keep the rights of an application whose service principal is
// gone.
func withoutRoles(s *State, principalID string, deleted Event) (decision, error) {
	var events []Event
	for _, id := range collect(&s.ix.rolesByPrincipal, principalID) {
		ra, _ := s.roleAssignments.Get(id)
		events = append(events, Event{Stream: roleAssignmentStream(id), Type: EventRoleAssignmentDeleted, Data: &RoleAssignmentPayload{RoleAssignment: *ra}})
	}
	return decision{events: append(events, deleted), id: principalID}, nil
}

func (c PutServicePrincipal) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("servicePrincipal", c.ServicePrincipal.ID))
	}
	sp := c.ServicePrincipal
	if err := checkID(op, "id", sp.ID); err != nil {
		return decision{}, err
	}
	sp.Owners = sortedSet(sp.Owners)
	sp.AppRoles = slices.Clone(sp.AppRoles)
	for i, r := range sp.AppRoles {
		if err := checkID(op, "appRoles["+itoa(i)+"].id", r.ID); err != nil {
			return decision{}, err
		}
	}
	typ := EventServicePrincipalCreated
	if _, ok := s.servicePrincipals.Get(sp.ID); ok {
		typ = EventServicePrincipalUpdated
	}
	return one(sp.ID, Event{Stream: spStream(sp.ID), Type: typ, Data: &ServicePrincipalPayload{ServicePrincipal: sp}})
}

func (c DeleteServicePrincipal) decide(s *State, a Actor, now time.Time, _ IDSource) (decision, error) {
	op := c.commandName()
	if !canManageDirectory(a) {
		return decision{}, forbidden(op, subject("servicePrincipal", c.ServicePrincipalID))
	}
	if _, ok := s.servicePrincipals.Get(c.ServicePrincipalID); !ok {
		return decision{}, notFound(op, subject("servicePrincipal", c.ServicePrincipalID))
	}
	return withoutRoles(s, c.ServicePrincipalID, Event{Stream: spStream(c.ServicePrincipalID), Type: EventServicePrincipalDeleted,
		Data: &ObjectRef{ID: c.ServicePrincipalID}})
}

// sortedSet returns a sorted copy of s without duplicates or empty strings.
func sortedSet(s []string) []string {
	out := slices.DeleteFunc(slices.Clone(s), func(x string) bool { return x == "" })
	slices.Sort(out)
	return slices.Compact(out)
}
