package entitlement

import (
	"cmp"
	"strings"
	"time"
)

// External users (domain §1.12, §2.6): people of partner organizations who
// are not in the directory ask for access by email; on approval a guest is
// created and governed; when a governed guest loses their last assignment,
// the tenant's externalUserLifecycleAction blocks them and may delete them
// later.

// ActorExternalUser is a person not (yet) in the directory, signed in with
// an account of their own organization: the embedding program vouches for
// the email (and, for a Microsoft Entra tenant, the tenant id).
const ActorExternalUser ActorKind = "externalUser"

// ExternalActor returns the actor of a person not yet in the directory,
// known by their email and, when they sign in with a Microsoft Entra
// account, their home tenant's id. Such an actor may request access for
// themselves (CreateAssignmentRequest, userAdd), read what a request link
// offers them (ResolveRequestLink), and see and cancel their own requests
// (MyRequests, GetAssignmentRequest, CancelAssignmentRequest). Once a guest
// exists for the email, every command and read takes the actor as that
// guest (UserActor of its id): its assignments, reviews, access and
// sign-in block are the guest's. A guest the directory creates (PutUser)
// with the email of a person whose requests still wait cancels those
// requests: approved, they would make a second guest for the same person,
// who asks again as the directory's guest.
func ExternalActor(email, tenantID string) Actor {
	return Actor{ID: normalizeEmail(email), Kind: ActorExternalUser, TenantID: tenantID}
}

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// emailDomain returns the domain of an email address, or "" if it is
// not one (no local part, no domain, or more than one @).
func emailDomain(e string) string {
	local, d, ok := strings.Cut(e, "@")
	if !ok || local == "" || d == "" || strings.Contains(d, "@") {
		return ""
	}
	return d
}

// AccessPackageSubject is Graph's accessPackageSubject for a requestor not
// in the directory when they asked: who they said they are, and the
// connected organization they were matched to (empty for an unknown
// organization under allExternalUsers, until approval creates a proposed
// one). ObjectID is the id the guest gets on approval.
type AccessPackageSubject struct {
	ObjectID                string `json:"objectId"`
	Email                   string `json:"email"`
	DisplayName             string `json:"displayName,omitempty"`
	TenantID                string `json:"tenantId,omitempty"`
	SubjectType             string `json:"subjectType"` // user
	ConnectedOrganizationID string `json:"connectedOrganizationId,omitempty"`
}

// GuestLifecycle is what the external user lifecycle did to a governed
// guest (not a Graph property): blocked on losing their last assignment,
// with their deletion scheduled; the change the embedding program's
// directory still has to make, and the outcome of the last one.
type GuestLifecycle struct {
	BlockedDateTime  *time.Time `json:"blockedDateTime,omitempty"`
	DeletionDateTime *time.Time `json:"deletionDateTime,omitempty"`
	// PendingChange is blockSignIn, unblockSignIn or delete: what the
	// DirectoryDeliverer is to do, "" once done.
	PendingChange string `json:"pendingChange,omitempty"`
	// LastChange, LastChangeStatus (delivered or failed) and
	// LastChangeReason record the outcome of the last change delivered.
	LastChange       string `json:"lastChange,omitempty"`
	LastChangeStatus string `json:"lastChangeStatus,omitempty"`
	LastChangeReason string `json:"lastChangeReason,omitempty"`
}

// Directory changes the external user lifecycle asks of the embedding
// program.
const (
	DirectoryChangeBlockSignIn   = "blockSignIn"
	DirectoryChangeUnblockSignIn = "unblockSignIn"
	DirectoryChangeDelete        = "delete"
)

// Event types of the external user lifecycle.
const (
	// EventGuestBlocked: a governed guest lost their last assignment and
	// is blocked from signing in (DeletionDateTime: deleted then).
	EventGuestBlocked = "externalUserBlocked"
	// EventGuestUnblocked: a blocked guest got a new assignment before
	// their deletion, which is canceled.
	EventGuestUnblocked = "externalUserUnblocked"
	// EventGuestDeleted: a blocked guest's deletion came.
	EventGuestDeleted = "externalUserDeleted"
	// EventGuestChangeDelivered / Failed: the embedding program's
	// directory made, or failed to make, the change.
	EventGuestChangeDelivered = "externalUserChangeDelivered"
	EventGuestChangeFailed    = "externalUserChangeFailed"
)

// GuestLifecycleChanged records a step of the external user lifecycle.
type GuestLifecycleChanged struct {
	UserID   string    `json:"userId"`
	DateTime time.Time `json:"dateTime"`
	// DeletionDateTime is when a blocked guest is deleted (blockSignInAndDelete).
	DeletionDateTime *time.Time `json:"deletionDateTime,omitempty"`
	// Action is the settings' externalUserLifecycleAction it applies.
	Action string `json:"action,omitempty"`
}

// DirectoryChangeOutcome records what the embedding program's directory
// did with a change.
type DirectoryChangeOutcome struct {
	UserID string `json:"userId"`
	Change string `json:"change"`
	Reason string `json:"reason,omitempty"`
}

func init() {
	for _, t := range []string{EventGuestBlocked, EventGuestUnblocked, EventGuestDeleted} {
		registry[t] = func() any { return new(GuestLifecycleChanged) }
	}
	for _, t := range []string{EventGuestChangeDelivered, EventGuestChangeFailed} {
		registry[t] = func() any { return new(DirectoryChangeOutcome) }
	}
	activities[EventGuestBlocked] = "Block external user sign-in after last access package assignment ended"
	activities[EventGuestUnblocked] = "Unblock external user sign-in on new access package assignment"
	activities[EventGuestDeleted] = "Delete external user after last access package assignment ended"
	activities[EventGuestChangeDelivered] = "Update external user in directory"
	activities[EventGuestChangeFailed] = "Update external user in directory"
}

// evolveGuest applies a step of the external user lifecycle, or the
// outcome of its directory change, to a user (see EvolveUser).
func evolveGuest(u *User, e Event) bool {
	l := GuestLifecycle{}
	if u.Lifecycle != nil {
		l = *u.Lifecycle
	}
	switch d := e.Data.(type) {
	case *GuestLifecycleChanged:
		if d.UserID != u.ID {
			return false
		}
		switch e.Type {
		case EventGuestBlocked:
			u.AccountEnabled = false
			l.BlockedDateTime, l.DeletionDateTime = timePtr(d.DateTime), clonePtr(d.DeletionDateTime)
			l.PendingChange = DirectoryChangeBlockSignIn
		case EventGuestUnblocked:
			u.AccountEnabled = true
			l.BlockedDateTime, l.DeletionDateTime = nil, nil
			l.PendingChange = DirectoryChangeUnblockSignIn
		case EventGuestDeleted:
			u.DeletedDateTime = timePtr(d.DateTime)
			l.DeletionDateTime = nil
			l.PendingChange = DirectoryChangeDelete
		}
	case *DirectoryChangeOutcome:
		if d.UserID != u.ID {
			return false
		}
		if l.PendingChange == d.Change {
			l.PendingChange = ""
		}
		l.LastChange, l.LastChangeStatus, l.LastChangeReason = d.Change, "delivered", ""
		if e.Type == EventGuestChangeFailed {
			l.LastChangeStatus, l.LastChangeReason = "failed", d.Reason
		}
	default:
		return false
	}
	u.Lifecycle = &l
	return true
}

// guestDue returns the due key of a guest's scheduled deletion. A guest
// entitlement management no longer governs has none: marked notGoverned,
// they are not deleted (invariant 38); marked governed again, the
// deletion stands.
func guestDue(u *User) string {
	if u == nil || !u.isGoverned() || u.Lifecycle == nil || u.Lifecycle.DeletionDateTime == nil {
		return ""
	}
	return dueKey(dueItem{*u.Lifecycle.DeletionDateTime, dueGuestDeletion, u.ID})
}

// isGoverned reports whether entitlement management governs the user's
// lifecycle: a guest it created on approval, or one an administrator
// marked governed.
func (u *User) isGoverned() bool {
	return u.IsGuest() && u.SubjectLifecycle == SubjectLifecycleGoverned && u.DeletedDateTime == nil
}

// lifecycleBlocked reports whether the external user lifecycle blocked
// the user (as opposed to the directory).
func (u *User) lifecycleBlocked() bool {
	return u.Lifecycle != nil && u.Lifecycle.BlockedDateTime != nil && !u.AccountEnabled
}

// liveAssignments counts the user's assignments that have not ended.
func (s *State) liveAssignments(userID string) int { return s.ix.liveByTarget.Len(userID) }

// lostAssignment applies the external user lifecycle to the target of an
// assignment that just ended, if it was a governed guest's last one: the
// settings that stood when their last assignment ended say what happens
// (ProcessDue may record that end later), and a deletion keeps the time it
// was given whatever the settings say later. A guest the directory had
// blocked already gets the block recorded, and the deletion scheduled.
func (p *plan) lostAssignment(userID string) {
	u, ok := p.s.activeUser(userID)
	if !ok || !u.isGoverned() || p.s.liveAssignments(userID) > 0 {
		return
	}
	// The lifecycle is the system's work, whoever's command ended the
	// assignment (the guest's own removal, an administrator's).
	defer p.system()()
	// The last assignment ended at the latest end among them: ProcessDue
	// may record an end found through its expiry notice before one due
	// earlier. The settings are those that stood then, even if ProcessDue
	// records the end later still.
	at := p.now
	for id := range p.s.ix.assignmentsByTarget.Members(userID) {
		if a, _ := p.s.assignments.Get(id); a.ExpiredDateTime != nil && a.ExpiredDateTime.After(at) {
			at = *a.ExpiredDateTime
		}
	}
	st := p.s.settingsAt(at)
	ev := GuestLifecycleChanged{UserID: userID, DateTime: at, Action: st.ExternalUserLifecycleAction}
	switch st.ExternalUserLifecycleAction {
	case ExternalUserLifecycleBlockSignIn:
	case ExternalUserLifecycleBlockSignInAndDelete:
		ev.DeletionDateTime = timePtr(st.DurationUntilExternalUserDeletedAfterBlocked.AddTo(at))
	default:
		return
	}
	p.emitEvent(Event{Stream: userStream(userID), Type: EventGuestBlocked, Data: &ev})
	if ev.DeletionDateTime != nil && !ev.DeletionDateTime.After(p.now) {
		p.deleteGuest(userID)
	}
}

// deleteGuest deletes a blocked governed guest whose time has come, and
// cancels the requests still pending for them.
func (p *plan) deleteGuest(userID string) {
	if p.s.liveAssignments(userID) > 0 {
		// A new assignment cancels the deletion (ensureGuest); this guards
		// the due queue against an entry that would never leave it.
		p.emitEvent(Event{Stream: userStream(userID), Type: EventGuestUnblocked,
			Data: &GuestLifecycleChanged{UserID: userID, DateTime: p.now}})
		return
	}
	p.cancelPendingRequests(userID)
	p.emitEvent(Event{Stream: userStream(userID), Type: EventGuestDeleted,
		Data: &GuestLifecycleChanged{UserID: userID, DateTime: p.now}})
	p.userChanged(userID, userChange{all: true})
}

// ensureGuest makes sure the target of an add request exists before its
// assignment is: for a requestor who was not in the directory, the guest
// is created now, governed, in the connected organization they were
// matched to, or in a proposed one created for their domain under
// allExternalUsers. A guest the lifecycle blocked is unblocked, and their
// deletion canceled.
func (p *plan) ensureGuest(r *AssignmentRequest) {
	if u, ok := p.s.activeUser(r.TargetID); ok {
		// Blocked by the lifecycle, or unblocked by the directory since
		// with the deletion still ahead: either way the new assignment
		// cancels the deletion.
		if l := u.Lifecycle; l != nil && (l.BlockedDateTime != nil || l.DeletionDateTime != nil) {
			p.emitEvent(Event{Stream: userStream(u.ID), Type: EventGuestUnblocked,
				Data: &GuestLifecycleChanged{UserID: u.ID, DateTime: p.now}})
		}
		return
	}
	t := r.TargetSubject
	if t == nil || p.s.users.Has(r.TargetID) {
		return
	}
	org := t.ConnectedOrganizationID
	if !p.s.connectedOrganizations.Has(org) {
		// None matched when they asked, or the one that did was deleted
		// since: the organization of their domain, else a proposed one,
		// which only a policy for all external users proposes (§1.12,
		// invariant 41); under another, the guest is in none.
		org = ""
		if id, ok := p.s.organizationOf(t.Email, t.TenantID); ok {
			org = id
		} else if r.Policy != nil && r.Policy.AllowedTargetScope == ScopeAllExternalUsers {
			org = p.proposedOrganization(t)
		}
	}
	name := t.DisplayName
	if name == "" {
		name = t.Email
	}
	u := User{ID: t.ObjectID, UserType: UserTypeGuest, DisplayName: name, Mail: t.Email,
		UserPrincipalName: strings.ReplaceAll(t.Email, "@", "_") + "#EXT#", AccountEnabled: true,
		SubjectLifecycle: SubjectLifecycleGoverned, ConnectedOrganizationID: org}
	p.emitEvent(Event{Stream: userStream(u.ID), Type: EventUserCreated, Data: &UserPayload{User: u}})
	p.userChanged(u.ID, userChange{all: true})
}

// proposedOrganization returns the connected organization of an external
// requestor's domain, creating it in state proposed if there is none: one
// per domain, however many of its people are approved.
func (p *plan) proposedOrganization(t *AccessPackageSubject) string {
	if id, ok := p.s.organizationOf(t.Email, t.TenantID); ok {
		return id
	}
	d := emailDomain(t.Email)
	if d == "" {
		return ""
	}
	id := p.s.newID(p.ids)
	o := ConnectedOrganization{ID: id, DisplayName: d, Description: "Proposed when a user of " + d + " was approved",
		IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: d, DisplayName: d}},
		State:           ConnectedOrganizationProposed, CreatedDateTime: p.now, ModifiedDateTime: p.now}
	p.emitEvent(Event{Stream: orgStream(id), Type: EventConnectedOrganizationCreated, Data: &ConnectedOrganizationPayload{ConnectedOrganization: o}})
	return id
}

// organizationOf finds the connected organization of an external person:
// by their home tenant, else by their email's domain.
func (s *State) organizationOf(email, tenantID string) (string, bool) {
	if tenantID != "" {
		if id, ok := s.organizationWith("tenant:" + strings.ToLower(tenantID)); ok {
			return id, true
		}
	}
	if d := emailDomain(email); d != "" {
		if id, ok := s.organizationWith("domain:" + d); ok {
			return id, true
		}
	}
	return "", false
}

// organizationWith returns, of the connected organizations with an
// identity source (an ix.orgsByIdentity key), a configured one before a
// proposed one (an administrator who configures a partner first
// auto-proposed means that one), then the oldest, then the least id.
func (s *State) organizationWith(key string) (string, bool) {
	proposed := func(o *ConnectedOrganization) int {
		if o.State == ConnectedOrganizationProposed {
			return 1
		}
		return 0
	}
	var best *ConnectedOrganization
	for id := range s.ix.orgsByIdentity.Members(key) {
		o, _ := s.connectedOrganizations.Get(id)
		if best == nil || cmp.Or(cmp.Compare(proposed(o), proposed(best)),
			o.CreatedDateTime.Compare(best.CreatedDateTime), cmp.Compare(o.ID, best.ID)) < 0 {
			best = o
		}
	}
	if best == nil {
		return "", false
	}
	return best.ID, true
}

// identityKeys returns the ix.orgsByIdentity keys of an organization.
func identityKeys(o *ConnectedOrganization) []string {
	var out []string
	for _, src := range o.IdentitySources {
		switch src.ODataType {
		case IdentitySourceAzureAD, IdentitySourceCrossCloudAzureAD:
			out = append(out, "tenant:"+strings.ToLower(src.TenantID))
		case IdentitySourceDomain, IdentitySourceExternalDomain:
			out = append(out, "domain:"+strings.ToLower(src.DomainName))
		}
	}
	return out
}

// putOrganization stores a connected organization, keeping the index of
// its identity sources. An identity source two organizations share finds
// one of them (see organizationWith).
func (s *State) putOrganization(o *ConnectedOrganization) {
	var was []string
	if old, ok := s.connectedOrganizations.Get(o.ID); ok {
		was = identityKeys(old)
	}
	s.connectedOrganizations.Set(o.ID, o)
	moveMember(&s.ix.orgsByIdentity, was, identityKeys(o), o.ID)
}

func (s *State) dropOrganization(id string) {
	if o, ok := s.connectedOrganizations.Delete(id); ok {
		moveMember(&s.ix.orgsByIdentity, identityKeys(o), nil, id)
	}
}

// guestEmailKeys returns the ix.guestsByEmail key of a user: their mail,
// for a guest not deleted.
func guestEmailKeys(u *User) []string {
	if u == nil || !u.IsGuest() || u.Mail == "" || u.DeletedDateTime != nil {
		return nil
	}
	return []string{normalizeEmail(u.Mail)}
}

// guestOf returns the guest, not deleted, with an email (the smallest id
// if several share it).
func (s *State) guestOf(email string) (string, bool) {
	for id := range s.ix.guestsByEmail.Members(email) {
		return id, true
	}
	return "", false
}

// pendingOf returns the id requests of a person not in the directory named
// for them, while no user has it.
func (s *State) pendingOf(email string) (string, bool) {
	for id := range s.ix.pendingByEmail.Members(email) {
		return id, true
	}
	return "", false
}

// externalInScope reports whether a policy with a connected-organization
// or external scope admits a person of the connected organization org (""
// for none): one not in the directory yet, or a guest (targetInScope).
func (s *State) externalInScope(p *AssignmentPolicy, org string) bool {
	switch p.AllowedTargetScope {
	case ScopeSpecificConnectedOrganizationUsers:
		for _, set := range p.SpecificAllowedTargets {
			if org != "" && set.Kind == ConnectedOrganizationMembers && set.ConnectedOrganizationID == org {
				return true
			}
		}
	case ScopeAllConfiguredConnectedOrganizationUsers:
		o, ok := s.connectedOrganizations.Get(org)
		return ok && o.State == ConnectedOrganizationConfigured
	case ScopeAllExternalUsers:
		return true
	}
	return false
}

// asGuest returns the actor an external person acts as once their guest
// exists and is not deleted: UserActor of its id. Other actors, and
// external people without a guest, are returned as they are.
func (s *State) asGuest(a Actor) Actor {
	if a.Kind != ActorExternalUser {
		return a
	}
	if id, ok := s.guestOf(a.ID); ok {
		return UserActor(id)
	}
	return a
}

// asPrincipal is asGuest for reads, which also take a person whose first
// request still waits as the user that request names, so that they see
// their own requests.
func (s *State) asPrincipal(a Actor) Actor {
	if a = s.asGuest(a); a.Kind != ActorExternalUser {
		return a
	}
	if id, ok := s.pendingOf(a.ID); ok {
		return UserActor(id)
	}
	return a
}

// decideExternal decides a request by a person not in the directory: a
// userAdd for themselves, through a policy that admits people of their
// connected organization (or any, under allExternalUsers), in a published
// catalog visible to external users. A person the directory knows as a
// guest asks as that guest.
func (c CreateAssignmentRequest) decideExternal(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	email := a.ID
	if emailDomain(email) == "" {
		return decision{}, invalid(op, "requestor.email", "%q is not an email address", email)
	}
	if c.RequestType != RequestTypeUserAdd {
		return decision{}, fail(op, ErrForbidden, subject("externalUser", email), "a person not in the directory may only ask for access for themselves (userAdd)")
	}
	if c.TargetID != "" || c.AssignmentID != "" {
		return decision{}, invalid(op, "assignment.targetId", "a person not in the directory asks for themselves")
	}
	pkg, ok := s.accessPackages.Get(c.AccessPackageID)
	if !ok {
		return decision{}, notFound(op, subject("accessPackage", c.AccessPackageID))
	}
	pol, ok := s.policies.Get(c.AssignmentPolicyID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentPolicy", c.AssignmentPolicyID))
	}
	if pol.Policy.AccessPackageID != pkg.ID {
		return decision{}, invalid(op, "assignment.assignmentPolicyId", "the policy does not belong to the access package")
	}
	cat, err := checkCatalogOpen(s, op, pkg)
	if err != nil {
		return decision{}, err
	}
	sub := subject("accessPackage", pkg.ID)
	if !cat.IsExternallyVisible {
		return decision{}, fail(op, ErrForbidden, subject("catalog", cat.ID), "the catalog is not visible to users outside the organization")
	}
	if pol.Policy.IsAutoAssignment() {
		return decision{}, invalid(op, "assignment.assignmentPolicyId", "an auto-assignment policy takes no requests")
	}
	org, _ := s.organizationOf(email, a.TenantID)
	if !pol.Policy.RequestorSettings.EnableTargetsToSelfAddAccess || !s.externalInScope(&pol.Policy, org) {
		return decision{}, fail(op, ErrForbidden, sub, "the policy does not admit users of %s", emailDomain(email))
	}
	id, ok := s.pendingOf(email)
	if !ok {
		id = s.newID(ids)
	}
	if err := checkRequestContent(s, op, c, kindAdd, pkg, pol, nil, id, now); err != nil {
		return decision{}, err
	}
	p := newPlan(s, ids, now)
	return p.decision(p.newRequest(AssignmentRequest{
		RequestType: RequestTypeUserAdd, Schedule: cloneSchedule(c.Schedule), Justification: c.Justification,
		Answers: cloneNonEmpty(c.Answers), AccessPackageID: pkg.ID, AssignmentPolicyID: pol.Policy.ID,
		PolicyVersion: pol.Version, TargetID: id, RequestorID: id,
		TargetSubject: &AccessPackageSubject{ObjectID: id, Email: email, TenantID: a.TenantID, SubjectType: "user",
			ConnectedOrganizationID: org},
	}))
}

// RequestLink is the link an access package manager sends to a partner
// organization's contact (Entra's "My Access portal link"): a stable path
// naming the package, that the embedding program puts after the address
// of its own request page.
type RequestLink struct {
	AccessPackageID string
	// Path is "/access-packages/<id>".
	Path string
}

const requestLinkPrefix = "/access-packages/"

// RequestLink returns the request link of an access package, to whoever
// may read the package (its catalog's owners, readers and package
// managers, and administrators).
func (s *State) RequestLink(a Actor, packageID string) (RequestLink, error) {
	a = s.reader(a)
	if _, err := s.readPackage(a, "RequestLink", packageID); err != nil {
		return RequestLink{}, err
	}
	return RequestLink{AccessPackageID: packageID, Path: requestLinkPrefix + packageID}, nil
}

// ResolveRequestLink returns what a request link offers the actor who
// followed it: the package, and the requirements of each policy through
// which they may request it for themselves. For a person not in the
// directory (ExternalActor) those are the policies that admit people of
// their connected organization, or anyone under allExternalUsers, in a
// published catalog visible to external users. The link may be a whole
// address ending in its path. A hidden package is found by its link.
func (s *State) ResolveRequestLink(a Actor, link string) (RequestableAccessPackage, error) {
	a = s.reader(a)
	const op = "ResolveRequestLink"
	i := strings.LastIndex(link, requestLinkPrefix)
	if i < 0 {
		return RequestableAccessPackage{}, invalid(op, "link", "%q is not a request link (it has no %s)", link, requestLinkPrefix)
	}
	id, _, _ := strings.Cut(link[i+len(requestLinkPrefix):], "?")
	id = strings.TrimSuffix(id, "/")
	pkg, ok := s.accessPackages.Get(id)
	if !ok {
		return RequestableAccessPackage{}, notFound(op, subject("accessPackage", id))
	}
	a = s.asGuest(a)
	if why := actorBarred(s, a); why != "" {
		return RequestableAccessPackage{}, fail(op, ErrForbidden, subject("accessPackage", id), "%s", why)
	}
	cat, err := checkCatalogOpen(s, op, pkg)
	if err != nil {
		return RequestableAccessPackage{}, err
	}
	var reqs []AssignmentRequestRequirements
	switch a.Kind {
	case ActorExternalUser:
		if !cat.IsExternallyVisible {
			return RequestableAccessPackage{}, fail(op, ErrForbidden, subject("catalog", cat.ID), "the catalog is not visible to users outside the organization")
		}
		org, _ := s.organizationOf(a.ID, a.TenantID)
		for _, pid := range s.policiesOfPackage(id) {
			e, _ := s.policies.Get(pid)
			if p := &e.Policy; !p.IsAutoAssignment() && p.RequestorSettings.EnableTargetsToSelfAddAccess && s.externalInScope(p, org) {
				reqs = append(reqs, requirementsOf(p))
			}
		}
	case ActorUser:
		reqs = s.requestablePolicies(a, id)
	}
	if len(reqs) == 0 {
		return RequestableAccessPackage{}, fail(op, ErrForbidden, subject("accessPackage", id), "no policy of the access package lets you request it")
	}
	return RequestableAccessPackage{AccessPackage: clonePackage(*pkg), Requirements: reqs}, nil
}

// settingsVersion is the tenant's settings from an instant on.
type settingsVersion struct {
	From     time.Time `json:"from"`
	Settings Settings  `json:"settings"`
}

// settingsAt returns the settings as they stood at t: the last change
// made at or before t, or the defaults before the first change.
func (s *State) settingsAt(t time.Time) Settings {
	for i := len(s.settingsLog) - 1; i >= 0; i-- {
		if v := s.settingsLog[i]; !v.From.After(t) {
			return v.Settings
		}
	}
	return DefaultSettings()
}

// GuestByEmail returns the guest user, not deleted, the directory knows
// for an email: one created when a person outside the organization was
// approved, or fed by the embedding program. Reading it takes the rights
// GetUser takes.
func (s *State) GuestByEmail(a Actor, email string) (User, error) {
	a = s.reader(a)
	id, ok := s.guestOf(normalizeEmail(email))
	if !ok {
		return User{}, notFound("GuestByEmail", subject("externalUser", normalizeEmail(email)))
	}
	return s.GetUser(a, id)
}

// lastSettings returns the settings an administrator last set, or nil.
func (s *State) lastSettings() *Settings {
	if n := len(s.settingsLog); n > 0 {
		st := s.settingsLog[n-1].Settings
		return &st
	}
	return nil
}
