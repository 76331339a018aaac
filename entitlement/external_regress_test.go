package entitlement

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Regressions found by a code review: each was reproduced before its fix.

// A guest's former mail, a deleted guest's or a former guest's finds
// nobody, after replay and after a snapshot load alike; in particular, a
// former address does not act with the guest's roles.
func TestGuestEmailIndexFollowsTheUser(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	g := nameID("user/ext")
	w.do(sys, PutUser{User: User{ID: g, UserType: UserTypeGuest, DisplayName: "ext", Mail: "old@partner.com", AccountEnabled: true}})
	w.do(ga, CreateRoleAssignment{PrincipalID: g, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])})
	w.do(sys, SetUserAttribute{UserID: g, Name: "mail", Value: "new@partner.com"})
	_, err := w.try(ExternalActor("old@partner.com", ""), CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "by a former address"})
	requireKind(t, err, ErrForbidden)
	w.do(ExternalActor("new@partner.com", ""), CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "by the guest"})
	requireConsistentIndexes(t, w.state(), "mail changed")

	h := nameID("user/ext2")
	w.do(sys, PutUser{User: User{ID: h, UserType: UserTypeGuest, DisplayName: "x", Mail: "x@partner.com", AccountEnabled: true}})
	w.do(sys, PutUser{User: User{ID: h, UserType: UserTypeMember, DisplayName: "x", Mail: "x@partner.com", AccountEnabled: true}})
	require.Equal(t, ActorExternalUser, w.state().asGuest(ExternalActor("x@partner.com", "")).Kind, "no longer a guest")
	w.do(sys, PutUser{User: User{ID: h, UserType: UserTypeGuest, DisplayName: "x", Mail: "x@partner.com", AccountEnabled: true}})
	w.do(sys, DeleteUser{UserID: h})
	_, err = w.state().GuestByEmail(ga, "x@partner.com")
	requireKind(t, err, ErrNotFound)
	requireConsistentIndexes(t, w.state(), "deleted")
}

// Two organizations with one domain: the older answers; when it goes,
// the other does, after replay and after a snapshot load alike.
func TestSharedDomainOrganizations(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	src := []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: "shared.com", DisplayName: "shared.com"}}
	a := w.do(ga, CreateConnectedOrganization{DisplayName: "A", IdentitySources: src}).ID
	w.clock.t = w.clock.t.Add(time.Minute)
	b := w.do(ga, CreateConnectedOrganization{DisplayName: "B", IdentitySources: src}).ID
	for i, want := range []string{a, b} {
		if i > 0 {
			w.do(ga, DeleteConnectedOrganization{ConnectedOrganizationID: a})
		}
		s := w.state()
		fresh, err := stateOf(s.Clone().document())
		require.NoError(t, err)
		for _, st := range []*State{s, fresh} {
			got, ok := st.organizationOf("p@shared.com", "")
			require.True(t, ok)
			require.Equal(t, want, got)
		}
	}
}

// A guest blocked by the lifecycle, unblocked by the directory, then
// assigned again is not deleted on the old date.
func TestNewAssignmentCancelsDeletionOfUnblockedGuest(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	w.advance(11 * 24 * time.Hour)
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.NotNil(t, kim.Lifecycle.DeletionDateTime)
	w.do(sys, UnblockUser{UserID: kim.ID})
	direct := w.do(ga, CreateAssignmentPolicy{Policy: directPolicy(pkg)}).ID
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: direct, TargetID: kim.ID})
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Nil(t, kim.Lifecycle.DeletionDateTime)
	w.advance(60 * 24 * time.Hour)
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Nil(t, kim.DeletedDateTime)
	w.autoHolderByID(kim.ID, pkg)
}

// The directory feed neither erases the lifecycle's schedule nor sets one.
func TestPutUserKeepsTheLifecycle(t *testing.T) {
	w, _ := accessWorld(t)
	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	w.advance(11 * 24 * time.Hour)
	kim, _ := w.guestOf("kim@fabrikam.com")
	deletion := *kim.Lifecycle.DeletionDateTime
	fed := kim
	fed.Lifecycle, fed.DisplayName = nil, "Kim K."
	w.do(sys, PutUser{User: fed})
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Equal(t, deletion, *kim.Lifecycle.DeletionDateTime)
	bob := w.uid["bob"]
	soon := w.clock.t.Add(time.Hour)
	w.do(sys, PutUser{User: User{ID: bob, DisplayName: "bob", AccountEnabled: true, Lifecycle: &GuestLifecycle{DeletionDateTime: &soon}}})
	w.advance(2 * time.Hour)
	w.m.Read(func(s *State) { require.Nil(t, at(&s.users, bob).DeletedDateTime) })
}

// A snapshot written before the settings' history was kept loads its
// settings as counting from the start.
func TestSnapshotWithoutSettingsHistory(t *testing.T) {
	w := adminWorld(t)
	w.do(w.actors["GA"], UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleNone)})
	d := w.state().Clone().document()
	d.SettingsHistory = nil
	old, err := stateOf(d)
	require.NoError(t, err)
	require.Equal(t, ExternalUserLifecycleNone, old.settingsAt(w.clock.t).ExternalUserLifecycleAction)
}

// A new version keeps the runs ahead that it schedules too, and runs
// those that fell due first, under the version they fell due under
// (found by a review as a new user: a due run used to run later with the
// new version, as of its due time, before that version existed).
func TestWorkflowVersionKeepsRuns(t *testing.T) {
	w, _ := workflowWorld(t)
	lcw := w.actors["lcw"]
	wf := w.do(lcw, CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	u, v := nameID("user/newhire"), nameID("user/later")
	hire, later := w.clock.t.Add(24*time.Hour), w.clock.t.Add(72*time.Hour)
	w.do(sys, PutUser{User: User{ID: u, DisplayName: "n", Department: "Sales", AccountEnabled: true, EmployeeHireDate: &hire}})
	w.do(sys, PutUser{User: User{ID: v, DisplayName: "l", Department: "Sales", AccountEnabled: true, EmployeeHireDate: &later}})
	w.clock.t = hire.Add(time.Hour) // u's run due, not processed; v's ahead
	w.do(lcw, CreateWorkflowVersion{WorkflowID: wf, Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)})
	require.Len(t, w.runs(wf), 1, "v's run, ahead, is kept")
	res := w.results(wf)
	require.Len(t, res, 1, "u's run, due, ran first")
	require.Equal(t, 1, res[0].WorkflowVersion)
	require.Equal(t, hire, res[0].StartedDateTime)
	w.advance(72 * time.Hour)
	res = w.results(wf)
	require.Len(t, res, 2)
	for _, r := range res {
		if r.SubjectID == v {
			require.Equal(t, 2, r.WorkflowVersion)
		}
	}

	mover := Workflow{DisplayName: "Mover", Category: WorkflowCategoryMover, IsEnabled: true, IsSchedulingEnabled: true,
		ExecutionConditions: WorkflowExecutionConditions{ODataType: ConditionsTriggerAndScopeBased,
			Scope:   &RuleBasedSubjectSet{Rule: `(user.department -eq "Sales")`},
			Trigger: &WorkflowTrigger{ODataType: TriggerAttributeChange, TriggerAttributes: []TriggerAttribute{{Name: "department"}}}},
		Tasks: []WorkflowTask{{DisplayName: "Cancel", TaskDefinitionID: TaskCancelPendingAccessPackageRequests, IsEnabled: true}}}
	mw := w.do(lcw, CreateWorkflow{Workflow: mover}).ID
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	w.do(lcw, CreateWorkflowVersion{WorkflowID: mw, Workflow: mover})
	require.Empty(t, w.runs(mw), "the mover's run was due: it ran first")
	require.Len(t, w.results(mw), 1)
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review as a new user. A guest the lifecycle blocked and an
// administrator then marked notGoverned is not deleted (invariant 38);
// a governed guest the directory had blocked gets the lifecycle when
// their last assignment ends: the block recorded, the deletion scheduled.
func TestLifecycleFollowsGovernance(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pkg, pol := w.partnerWiki()
	for _, mail := range []string{"kim@fabrikam.com", "lee@fabrikam.com"} {
		w.do(ExternalActor(mail, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	}
	lee, _ := w.guestOf("lee@fabrikam.com")
	w.do(sys, BlockUser{UserID: lee.ID})
	w.advance(11 * 24 * time.Hour)
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.NotNil(t, kim.Lifecycle.DeletionDateTime)
	w.do(ga, UpdateSubject{ObjectID: kim.ID, SubjectLifecycle: SubjectLifecycleNotGoverned})
	lee, _ = w.guestOf("lee@fabrikam.com")
	require.NotNil(t, lee.Lifecycle)
	require.NotNil(t, lee.Lifecycle.DeletionDateTime)
	w.advance(60 * 24 * time.Hour)
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Nil(t, kim.DeletedDateTime)
	w.m.Read(func(s *State) { require.NotNil(t, at(&s.users, lee.ID).DeletedDateTime) })
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review as a new user: a person not in the directory asks,
// and while the request waits for approval the directory creates a guest
// with their email. Approving it used to create a second guest for the
// same person. The waiting request is canceled instead; the person, now
// the directory's guest, asks again, and one guest holds the package.
func TestDirectoryGuestClaimsWaitingRequests(t *testing.T) {
	w, _ := accessWorld(t)
	manager := w.actors["apManager"]
	pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	pol := openPolicy(pkg, ScopeAllExternalUsers, 10)
	pol.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true,
		Stages: []ApprovalStage{{DurationBeforeAutomaticDenial: DurationDays(14), PrimaryApprovers: []SubjectSet{{Kind: SingleUser, UserID: w.uid["carol"]}}}}}
	polID := w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID
	raj := ExternalActor("raj@fabrikam.com", "")
	ask := CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: polID}
	first := w.do(raj, ask).ID
	_, err := w.try(raj, UpdateApprovalStage{ApprovalID: first, StageID: w.getRequest(first).Stages[0].ID,
		ReviewResult: DecisionApprove, Justification: "me"})
	requireKind(t, err, ErrForbidden)
	require.ErrorContains(t, err, "not by a person outside it")
	guest := nameID("user/raj")
	w.do(sys, PutUser{User: User{ID: guest, UserType: UserTypeGuest, DisplayName: "Raj", Mail: "Raj@Fabrikam.com", AccountEnabled: true}})
	require.Equal(t, RequestStateCanceled, w.getRequest(first).State)
	_, err = w.try(w.actors["carol"], UpdateApprovalStage{ApprovalID: first, StageID: w.getRequest(first).Stages[0].ID,
		ReviewResult: DecisionApprove, Justification: "ok"})
	requireKind(t, err, ErrConflict)

	again := w.do(raj, ask).ID
	require.Equal(t, guest, w.getRequest(again).TargetID)
	w.approve("carol", again)
	var guests int
	w.m.Read(func(s *State) {
		for _, u := range s.users.All() {
			if u.IsGuest() && normalizeEmail(u.Mail) == "raj@fabrikam.com" {
				guests++
			}
		}
		require.Len(t, s.MyAssignments(raj), 1)
	})
	require.Equal(t, 1, guests)

	// A member made a guest claims the email too.
	sam := ExternalActor("sam@fabrikam.com", "")
	waiting := w.do(sam, ask).ID
	member := nameID("user/sam")
	w.do(sys, PutUser{User: User{ID: member, DisplayName: "Sam", Mail: "sam@fabrikam.com", AccountEnabled: true}})
	require.Equal(t, RequestStatePendingApproval, w.getRequest(waiting).State, "a member is not the external person")
	w.do(sys, SetUserAttribute{UserID: member, Name: "userType", Value: UserTypeGuest})
	require.Equal(t, RequestStateCanceled, w.getRequest(waiting).State)
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review as a new user: a connected organization deleted while
// a request of one of its people waited left the guest made on approval
// in an organization that no longer exists. The guest goes to the
// organization of their domain then, if one exists; a proposed one only
// under a policy for all external users (found by a later review: it
// was proposed under any policy, against invariant 41), else none.
func TestGuestOfADeletedOrganization(t *testing.T) {
	w, _ := accessWorld(t)
	ga, manager := w.actors["GA"], w.actors["apManager"]
	org := w.do(ga, CreateConnectedOrganization{DisplayName: "Contoso", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceDomain, DomainName: "contoso.com", DisplayName: "contoso.com"}}}).ID
	pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	pol := openPolicy(pkg, ScopeAllConfiguredConnectedOrganizationUsers, 10)
	pol.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true,
		Stages: []ApprovalStage{{DurationBeforeAutomaticDenial: DurationDays(14), PrimaryApprovers: []SubjectSet{{Kind: SingleUser, UserID: w.uid["carol"]}}}}}
	polID := w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID
	req := w.do(ExternalActor("nina@contoso.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: polID}).ID
	w.do(ga, DeleteConnectedOrganization{ConnectedOrganizationID: org})
	w.approve("carol", req)
	nina, ok := w.guestOf("nina@contoso.com")
	require.True(t, ok)
	require.Empty(t, nina.ConnectedOrganizationID)
	orgs, err := w.state().ListConnectedOrganizations(ga)
	require.NoError(t, err)
	for _, o := range orgs {
		require.NotEqual(t, ConnectedOrganizationProposed, o.State, "no organization proposed outside allExternalUsers")
	}

	// Under a policy for all external users, a proposed one.
	org = w.do(ga, CreateConnectedOrganization{DisplayName: "Contoso", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceDomain, DomainName: "contoso.com", DisplayName: "contoso.com"}}}).ID
	pol.AllowedTargetScope = ScopeAllExternalUsers
	anyone := w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID
	req = w.do(ExternalActor("omar@contoso.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: anyone}).ID
	w.do(ga, DeleteConnectedOrganization{ConnectedOrganizationID: org})
	w.approve("carol", req)
	omar, ok := w.guestOf("omar@contoso.com")
	require.True(t, ok)
	o, err := w.state().GetConnectedOrganization(ga, omar.ConnectedOrganizationID)
	require.NoError(t, err)
	require.Equal(t, ConnectedOrganizationProposed, o.State)
	requireSameState(t, w.state(), w.replayed())
}

// A guest whose deletion fell due, unrecorded, asks again: the deletion is
// recorded first, as of when it fell due, and they ask as a new person.
func TestRequestOfAGuestDueForDeletion(t *testing.T) {
	w, _ := accessWorld(t)
	pkg, pol := w.partnerWiki()
	kim := ExternalActor("kim@fabrikam.com", "")
	ask := CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol}
	w.do(kim, ask)
	w.advance(11 * 24 * time.Hour) // the assignment ends: blocked, deletion in 30 days
	old, _ := w.guestOf("kim@fabrikam.com")
	deletion := *old.Lifecycle.DeletionDateTime
	w.clock.t = w.clock.t.Add(45 * 24 * time.Hour)
	w.do(kim, ask)
	w.m.Read(func(s *State) { require.Equal(t, deletion, *at(&s.users, old.ID).DeletedDateTime) })
	g, ok := w.guestOf("kim@fabrikam.com")
	require.True(t, ok)
	require.NotEqual(t, old.ID, g.ID)
	require.Nil(t, g.DeletedDateTime)
}

// Found by a review as a new user: a directory feed refreshing a governed
// guest (a new department) sent what the directory knows, and the guest
// lost entitlement management's governance and connected organization:
// losing the last assignment then neither blocked nor deleted them. The
// feed now keeps what it leaves empty, and sets what it gives.
func TestPutUserKeepsGovernance(t *testing.T) {
	w, _ := accessWorld(t)
	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.Equal(t, SubjectLifecycleGoverned, kim.SubjectLifecycle)
	require.NotEmpty(t, kim.ConnectedOrganizationID)
	w.do(sys, PutUser{User: User{ID: kim.ID, UserType: UserTypeGuest, DisplayName: kim.DisplayName, Mail: kim.Mail,
		UserPrincipalName: kim.UserPrincipalName, AccountEnabled: true, Department: "Consulting"}})
	fed, _ := w.guestOf("kim@fabrikam.com")
	require.Equal(t, "Consulting", fed.Department)
	require.Equal(t, SubjectLifecycleGoverned, fed.SubjectLifecycle)
	require.Equal(t, kim.ConnectedOrganizationID, fed.ConnectedOrganizationID)
	for _, given := range []string{SubjectLifecycleNotDefined, SubjectLifecycleNotGoverned} {
		w.do(sys, PutUser{User: User{ID: kim.ID, UserType: UserTypeGuest, DisplayName: kim.DisplayName, Mail: kim.Mail,
			AccountEnabled: true, SubjectLifecycle: given, ConnectedOrganizationID: w.id["O2"]}})
		fed, _ = w.guestOf("kim@fabrikam.com")
		require.Equal(t, given, fed.SubjectLifecycle, "what the feed gives, it sets")
		require.Equal(t, w.id["O2"], fed.ConnectedOrganizationID, "what the feed gives, it sets")
	}
	fed.SubjectLifecycle = SubjectLifecycleGoverned
	w.do(sys, PutUser{User: fed})
	w.advance(11 * 24 * time.Hour)
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.False(t, kim.AccountEnabled, "still governed: blocked once her last assignment ended")
	require.NotNil(t, kim.Lifecycle.DeletionDateTime)
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review as a new user: a member made governed was accepted
// and stored, with no effect, since the external user lifecycle is for
// guests. It is refused, by UpdateSubject and by the directory feed.
func TestOnlyGuestsAreGoverned(t *testing.T) {
	w, _ := accessWorld(t)
	bob := w.uid["bob"]
	_, err := w.try(w.actors["GA"], UpdateSubject{ObjectID: bob, SubjectLifecycle: SubjectLifecycleGoverned})
	requireKind(t, err, ErrInvalid)
	_, err = w.try(sys, PutUser{User: User{ID: bob, DisplayName: "bob", AccountEnabled: true, SubjectLifecycle: SubjectLifecycleGoverned}})
	requireKind(t, err, ErrInvalid)
	w.do(w.actors["GA"], UpdateSubject{ObjectID: bob, SubjectLifecycle: SubjectLifecycleNotGoverned})

	// A governed guest the feed makes a member is governed no longer
	// (found by a mutation review: the governance was kept).
	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.Equal(t, SubjectLifecycleGoverned, kim.SubjectLifecycle)
	w.do(sys, PutUser{User: User{ID: kim.ID, UserType: UserTypeMember, DisplayName: kim.DisplayName, Mail: kim.Mail, AccountEnabled: true}})
	member, err := w.state().GetUser(w.actors["GA"], kim.ID)
	require.NoError(t, err)
	require.Equal(t, SubjectLifecycleNotDefined, member.SubjectLifecycle)

	// So does one whose userType alone is changed (left alone by the
	// first fix).
	w.do(ExternalActor("lee@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	lee, _ := w.guestOf("lee@fabrikam.com")
	require.Equal(t, SubjectLifecycleGoverned, lee.SubjectLifecycle)
	r := w.do(sys, SetUserAttribute{UserID: lee.ID, Name: "userType", Value: UserTypeMember})
	require.Equal(t, []string{EventUserAttributeChanged, EventUserUpdated}, eventTypes(r))
	member, err = w.state().GetUser(w.actors["GA"], lee.ID)
	require.NoError(t, err)
	require.Equal(t, UserTypeMember, member.UserType)
	require.Equal(t, SubjectLifecycleNotDefined, member.SubjectLifecycle)
	require.Empty(t, member.ConnectedOrganizationID, "nor does a member belong to a connected organization (found by a review)")

	// Only that change does it (found by a mutation review): a guest
	// kept a guest, another attribute set to "Member", and a guest with
	// nothing only guests have, made a member, are the attribute alone.
	w.do(ExternalActor("max@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	maxi, _ := w.guestOf("max@fabrikam.com")
	for _, c := range []SetUserAttribute{{UserID: maxi.ID, Name: "userType", Value: UserTypeGuest}, {UserID: maxi.ID, Name: "department", Value: UserTypeMember}} {
		require.Equal(t, []string{EventUserAttributeChanged}, eventTypes(w.do(sys, c)), "%+v", c)
		u, err := w.state().GetUser(w.actors["GA"], maxi.ID)
		require.NoError(t, err)
		require.Equal(t, SubjectLifecycleGoverned, u.SubjectLifecycle)
		require.Equal(t, maxi.ConnectedOrganizationID, u.ConnectedOrganizationID)
	}
	plain := nameID("user/plain-guest")
	w.do(sys, PutUser{User: User{ID: plain, UserType: UserTypeGuest, DisplayName: "plain", AccountEnabled: true}})
	require.Equal(t, []string{EventUserAttributeChanged}, eventTypes(w.do(sys, SetUserAttribute{UserID: plain, Name: "userType", Value: UserTypeMember})))
	requireSameState(t, w.state(), w.replayed())
}

// connectedOrganizationOnly returns a package whose policy admits the
// users of the connected organizations given, and the policy.
func (w *world) connectedOrganizationOnly(orgs ...string) (pkg, pol string) {
	manager := w.actors["apManager"]
	pkg = w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partners only"}).ID
	p := openPolicy(pkg, ScopeSpecificConnectedOrganizationUsers, 10)
	for _, o := range orgs {
		p.SpecificAllowedTargets = append(p.SpecificAllowedTargets, SubjectSet{Kind: ConnectedOrganizationMembers, ConnectedOrganizationID: o})
	}
	return pkg, w.do(manager, CreateAssignmentPolicy{Policy: p}).ID
}

// Found by a review of external partners: a policy for a connected
// organization's users admitted members of the directory (a member the
// feed gave an organization, a guest made a member), mixing internal and
// external users (§8 row 29). Only guests belong to an organization, and
// only guests are in such a policy's scope.
func TestConnectedOrganizationPoliciesAdmitGuestsOnly(t *testing.T) {
	w, _ := accessWorld(t)
	o1 := w.id["O1"]
	wiki, wikiPolicy := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: wiki, AssignmentPolicyID: wikiPolicy})
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.Equal(t, o1, kim.ConnectedOrganizationID)
	pkg, pol := w.connectedOrganizationOnly(o1)
	w.do(UserActor(kim.ID), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})

	// Made a member, kim leaves the organization and its policies' scope.
	w.do(sys, SetUserAttribute{UserID: kim.ID, Name: "userType", Value: UserTypeMember})
	member, err := w.state().GetUser(w.actors["GA"], kim.ID)
	require.NoError(t, err)
	require.Empty(t, member.ConnectedOrganizationID)
	other, otherPolicy := w.connectedOrganizationOnly(o1)
	_, err = w.try(UserActor(kim.ID), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPolicy})
	requireKind(t, err, ErrForbidden)
	// A member the feed gives an organization is refused.
	_, err = w.try(sys, PutUser{User: User{ID: nameID("user/m"), DisplayName: "m", AccountEnabled: true, ConnectedOrganizationID: o1}})
	requireField(t, err, "connectedOrganizationId")
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review of external partners: deleting a connected
// organization left its guests naming it, and the directory feed could
// no longer send them back as read. Its guests now stay, in none.
func TestDeletedOrganizationLeavesItsGuests(t *testing.T) {
	w, _ := accessWorld(t)
	ga, o1 := w.actors["GA"], w.id["O1"]
	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	kim, _ := w.guestOf("kim@fabrikam.com")
	require.Equal(t, o1, kim.ConnectedOrganizationID)
	r := w.do(ga, DeleteConnectedOrganization{ConnectedOrganizationID: o1})
	require.Equal(t, []string{EventUserUpdated, EventConnectedOrganizationDeleted}, eventTypes(r))
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Empty(t, kim.ConnectedOrganizationID)
	require.Equal(t, SubjectLifecycleGoverned, kim.SubjectLifecycle, "still governed")
	fed := kim
	fed.Lifecycle, fed.Department = nil, "Consulting"
	w.do(sys, PutUser{User: fed})
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review of external partners: domain names that match no
// email, and a source given twice, were stored; an organization an
// administrator configured for a domain already proposed was not found,
// the older proposed one answering; an external sponsor could be a guest
// of another organization.
func TestConnectedOrganizationIdentitySources(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	for _, d := range []string{"not a domain", "@fabrikam.com", " fabrikam.com ", "kim@fabrikam.com", "fabrikam..com", "-x.com"} {
		_, err := w.try(ga, CreateConnectedOrganization{DisplayName: "D", IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: d}}})
		requireField(t, err, "identitySources[0].domainName")
	}
	_, err := w.try(ga, CreateConnectedOrganization{DisplayName: "Twice", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceDomain, DomainName: "x.com"}, {ODataType: IdentitySourceDomain, DomainName: "X.com"}}})
	requireField(t, err, "identitySources[1]")

	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("lee@tailwind.io", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	w.clock.t = w.clock.t.Add(time.Minute)
	tailwind := w.do(ga, CreateConnectedOrganization{DisplayName: "Tailwind",
		IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: "tailwind.io"}}}).ID
	conf := w.do(w.actors["apManager"], CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Configured partners"}).ID
	confPol := w.do(w.actors["apManager"], CreateAssignmentPolicy{Policy: openPolicy(conf, ScopeAllConfiguredConnectedOrganizationUsers, 10)}).ID
	w.do(ExternalActor("ann@tailwind.io", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: conf, AssignmentPolicyID: confPol})
	ann, ok := w.guestOf("ann@tailwind.io")
	require.True(t, ok)
	require.Equal(t, tailwind, ann.ConnectedOrganizationID, "the configured organization, not the older proposed one")

	_, err = w.try(ga, AddConnectedOrganizationSponsor{ConnectedOrganizationID: w.id["O1"], External: true, DirectoryObjectID: ann.ID})
	requireField(t, err, "directoryObjectId")
	requireSameState(t, w.state(), w.replayed())
}

// Tests from a mutation review of the connected-organization fixes: what
// only guests have goes when a guest becomes a member (each part on its
// own), host names are checked to the letter, two sources matched alike
// are one, a deletion's updates are the system's, and organizations that
// tie are told apart by id.
func TestConnectedOrganizationEdges(t *testing.T) {
	w, _ := accessWorld(t)
	ga, o1 := w.actors["GA"], w.id["O1"]
	inOrg, governed := nameID("user/in-org"), nameID("user/governed")
	w.do(sys, PutUser{User: User{ID: inOrg, UserType: UserTypeGuest, DisplayName: "in org", AccountEnabled: true, ConnectedOrganizationID: o1}})
	w.do(sys, PutUser{User: User{ID: governed, UserType: UserTypeGuest, DisplayName: "governed", AccountEnabled: true, SubjectLifecycle: SubjectLifecycleGoverned}})
	for _, id := range []string{inOrg, governed} {
		require.Equal(t, []string{EventUserAttributeChanged, EventUserUpdated},
			eventTypes(w.do(sys, SetUserAttribute{UserID: id, Name: "userType", Value: UserTypeMember})))
		u, err := w.state().GetUser(ga, id)
		require.NoError(t, err)
		require.Empty(t, u.ConnectedOrganizationID)
		require.NotEqual(t, SubjectLifecycleGoverned, u.SubjectLifecycle)
	}

	long := strings.Repeat("a", 64) + ".com"
	huge := strings.Repeat(strings.Repeat("b", 60)+".", 4) + "com" // 247 bytes
	for _, d := range []string{long, "x-.com", huge + "xxxxxxx"} {
		_, err := w.try(ga, CreateConnectedOrganization{DisplayName: "D", IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: d}}})
		requireField(t, err, "identitySources[0].domainName")
	}
	w.do(ga, CreateConnectedOrganization{DisplayName: "Long", IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: huge}}})
	_, err := w.try(ga, CreateConnectedOrganization{DisplayName: "Twice", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceDomain, DomainName: "y.com"},
		{ODataType: IdentitySourceExternalDomain, DomainName: "y.com", IssuerURI: "https://y.com/saml"}}})
	requireField(t, err, "identitySources[1]")

	pkg, pol := w.partnerWiki()
	w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	r := w.do(ga, DeleteConnectedOrganization{ConnectedOrganizationID: o1})
	for _, e := range r.Events {
		if e.Type == EventUserUpdated {
			require.Equal(t, string(ActorSystem), e.Metadata.ActorKind, "the guests' updates are the system's")
		}
	}

	// Two configured organizations of one domain, made at one instant:
	// the one of the least id.
	a := w.do(ga, CreateConnectedOrganization{DisplayName: "Tie A", IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: "tie.io"}}}).ID
	b := w.do(ga, CreateConnectedOrganization{DisplayName: "Tie B", IdentitySources: []IdentitySource{{ODataType: IdentitySourceDomain, DomainName: "tie.io"}}}).ID
	w.do(ExternalActor("ann@tie.io", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	ann, ok := w.guestOf("ann@tie.io")
	require.True(t, ok)
	require.Equal(t, min(a, b), ann.ConnectedOrganizationID)
	requireSameState(t, w.state(), w.replayed())
}
