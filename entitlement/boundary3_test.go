package entitlement

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Boundary tests of a third mutation review (workflow validation and
// tasks, access reviews, external users, subject sets): each pins a
// behaviour that no other test did.

// TestMoverTriggeredByAManagerChange: managerId, which is not one of the
// attributes SetUserAttribute sets, may trigger a mover workflow, and a
// new manager runs it.
func TestMoverTriggeredByAManagerChange(t *testing.T) {
	w, _ := workflowWorld(t)
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: moverWorkflow(true, "managerId")}).ID
	w.do(sys, SetManager{UserID: w.uid["alice"], ManagerID: w.uid["carol"]})
	require.Len(t, w.runs(id), 1)
}

// TestMoverTriggerTakesNoOffset: offsetInDays belongs to a time-based
// trigger; an attribute-change trigger that gives one is refused.
func TestMoverTriggerTakesNoOffset(t *testing.T) {
	w, _ := workflowWorld(t)
	wf := moverWorkflow(true, "department")
	wf.ExecutionConditions.Trigger.OffsetInDays = 1
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: wf})
	requireField(t, err, "executionConditions.trigger")
}

// expireAllTask is the task that removes all of a user's assignments,
// ending them daysUntilExpiration days from the run.
func expireAllTask(days string) WorkflowTask {
	return WorkflowTask{DisplayName: "Expire", TaskDefinitionID: TaskRemoveAllAccessPackageAssignments, IsEnabled: true,
		Arguments: []KeyValuePair{{Name: "daysUntilExpiration", Value: days}}}
}

// TestDaysUntilExpirationOfTheMostDays: daysUntilExpiration may be the
// longest expiration, not a day more.
func TestDaysUntilExpirationOfTheMostDays(t *testing.T) {
	w, _ := workflowWorld(t)
	w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(expireAllTask(strconv.Itoa(MaxDaysUntilExpirationOfTask)))})
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(expireAllTask(strconv.Itoa(MaxDaysUntilExpirationOfTask + 1)))})
	requireField(t, err, "tasks[0].arguments")
}

// TestTaskArgumentGivenTwiceRefused: a task names each argument once.
func TestTaskArgumentGivenTwiceRefused(t *testing.T) {
	w, _ := workflowWorld(t)
	task := expireAllTask("10")
	task.Arguments = append(task.Arguments, KeyValuePair{Name: "daysUntilExpiration", Value: "20"})
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(task)})
	requireField(t, err, "tasks[0].arguments[1].name")
}

// TestDeletedWorkflowResultsStayReadable: what a deleted workflow's runs
// did stays readable; a workflow that never ran and does not exist is
// not found.
func TestDeletedWorkflowResultsStayReadable(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: moverWorkflow(false, "department")}).ID
	w.do(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"]}})
	w.do(w.actors["lcw"], DeleteWorkflow{WorkflowID: id})
	require.Len(t, w.results(id), 1)
	w.m.Read(func(s *State) {
		_, err := s.WorkflowUserProcessingResults(SystemActor(), nameID("workflow/none"))
		requireKind(t, err, ErrNotFound)
	})
}

// TestRemoveTaskLeavesAnAssignmentBeingDelivered: the remove task does not
// end an assignment whose delivery is not yet recorded; it fails saying
// so, and asks for no removal.
func TestRemoveTaskLeavesAnAssignmentBeingDelivered(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(
		WorkflowTask{DisplayName: "Remove P2", TaskDefinitionID: TaskRemoveAccessPackageAssignment, IsEnabled: true,
			Arguments: []KeyValuePair{{Name: "accessPackageId", Value: w.id["P2"]}}},
	)}).ID
	m, _, _ := aliceDelivering(t, w, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Millisecond)
	defer cancel()
	_, err := m.Execute(ctx, w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"]}})
	require.NoError(t, err)
	var res []UserProcessingResult
	m.Read(func(s *State) { res, err = s.WorkflowUserProcessingResults(SystemActor(), id) })
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, ProcessingFailed, res[0].ProcessingStatus)
	require.Contains(t, res[0].TaskProcessingResults[0].FailureReason, "being delivered")
	require.Empty(t, res[0].TaskProcessingResults[0].RequestIDs)
}

// reviewItems returns the items of a review, as a Global Administrator
// reads them.
func (w *world) reviewItems(reviewID string) []ReviewDecisionItem {
	w.t.Helper()
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) {
		var err error
		items, err = s.ReviewDecisionItems(w.actors["GA"], reviewID)
		require.NoError(w.t, err)
	})
	return items
}

// TestReviewAppliedBeforeACommandAtItsEnd: a request through a policy at
// exactly the instant its review ends is decided after the review closed
// and its results applied, as ProcessDue would have then.
func TestReviewAppliedBeforeACommandAtItsEnd(t *testing.T) {
	w, pol := reviewWorld(t)
	w.advance(24 * time.Hour)
	rev := w.reviews(pol)[0]
	w.clock.t = rev.EndDateTime
	w.request("frank", "P2", "Rev")
	rev = w.reviews(pol)[0]
	require.NotEqual(t, ReviewStatusInProgress, rev.Status)
	for _, it := range w.reviewItems(rev.ID) {
		require.Equal(t, ApplyResultAppliedSuccessfully, it.ApplyResult)
		require.NotEmpty(t, it.RemovalRequestID, "nobody decided, and the policy removes access then")
	}
}

// TestReviewOfAnAssignmentEndedBeforeItsEnd: an assignment removed while
// its review was open is not removed again when the review's results
// apply: its result says the object is gone.
func TestReviewOfAnAssignmentEndedBeforeItsEnd(t *testing.T) {
	w, pol := reviewWorld(t)
	w.advance(24 * time.Hour)
	rev := w.reviews(pol)[0]
	erin := w.autoHolderByID(w.uid["erin"], w.id["P2"]).ID
	w.do(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: erin})
	w.clock.t = rev.EndDateTime
	w.advance(0)
	found := false
	for _, it := range w.reviewItems(rev.ID) {
		if it.AssignmentID == erin {
			found = true
			require.Equal(t, ApplyResultAppliedSuccessfullyButObjectNotFound, it.ApplyResult)
			require.Empty(t, it.RemovalRequestID)
		}
	}
	require.True(t, found)
}

// TestApplicationInAReviewerGroupDecidesNothing: a service principal that
// is a member of a reviewer group is no reviewer: only users review, and
// only they are listed.
func TestApplicationInAReviewerGroupDecidesNothing(t *testing.T) {
	w, _ := accessWorld(t)
	app := w.app("reviewBot", EntitlementManagementReadWriteAll)
	group := nameID("group/Reviewers")
	w.do(sys, PutGroup{Group: Group{ID: group, DisplayName: "Reviewers", SecurityEnabled: true}})
	for _, m := range []string{app.ID, w.uid["carol"]} {
		w.do(sys, AddGroupMember{GroupID: group, MemberID: m})
	}
	p := reviewedPolicy(w.id["P2"], w.uid["frank"], ReviewRemoveAccess)
	p.ReviewSettings.PrimaryReviewers = []SubjectSet{{Kind: GroupMembers, GroupID: group}}
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	asg := w.getAssignment(w.getRequest(w.request("alice", "P2", "Rev")).AssignmentID)
	w.advance(24 * time.Hour)
	rev := w.reviews(pol)[0]
	require.Equal(t, []string{w.uid["carol"]}, w.reviewItems(rev.ID)[0].Reviewers)
	_, err := w.try(app, RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: asg.ID, Decision: ReviewDecisionDeny})
	requireKind(t, err, ErrForbidden)
	w.do(w.actors["carol"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: asg.ID, Decision: ReviewDecisionApprove})
}

// TestReviewLeavesAnAssignmentBeingDelivered: a review whose results
// would remove an assignment still being delivered removes nothing; the
// result says it failed.
func TestReviewLeavesAnAssignmentBeingDelivered(t *testing.T) {
	w, _ := accessWorld(t)
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)}).ID
	w.id["Pol2"] = pol // alice asks through the reviewed policy
	m, _, _ := aliceDelivering(t, w, 20*time.Millisecond)
	due := func(at time.Time) {
		ctx, cancel := context.WithTimeout(w.ctx, 20*time.Millisecond)
		defer cancel()
		w.clock.t = at
		_, err := m.ProcessDue(ctx, at)
		require.NoError(t, err)
	}
	due(t0.Add(24 * time.Hour))
	var revs []AccessReview
	m.Read(func(s *State) { revs, _ = s.AccessReviewsOfPolicy(SystemActor(), pol) })
	require.Len(t, revs, 1)
	due(revs[0].EndDateTime)
	var items []ReviewDecisionItem
	m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(SystemActor(), revs[0].ID) })
	require.Len(t, items, 1)
	require.Equal(t, ApplyResultAppliedWithUnknownFailure, items[0].ApplyResult)
	require.Empty(t, items[0].RemovalRequestID)
	require.Equal(t, AssignmentStateDelivering, m.State().MyAssignments(w.actors["alice"])[0].State)
}

// TestGuestReviewerFindsTheirReviews: a person outside the organization
// whose guest reviews their own access finds the review among their
// pending reviews when they act by email.
func TestGuestReviewerFindsTheirReviews(t *testing.T) {
	w, _ := accessWorld(t)
	pkg := w.do(w.actors["apManager"], CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	p := openPolicy(pkg, ScopeAllExternalUsers, 10)
	p.ReviewSettings = reviewedPolicy(pkg, w.uid["carol"], ReviewKeepAccess).ReviewSettings
	p.ReviewSettings.IsSelfReview, p.ReviewSettings.PrimaryReviewers = true, nil
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
	kim := ExternalActor("kim@fabrikam.com", "")
	w.do(kim, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	w.advance(24 * time.Hour)
	require.Len(t, w.reviews(pol), 1)
	require.Len(t, w.state().MyPendingReviews(kim), 1)
}

// TestGuestLifecycleFromTheLatestEnd: a governed guest's lifecycle starts
// when their last assignment ended, even when ProcessDue records that end
// (found through its expiry notice) before an earlier one.
func TestGuestLifecycleFromTheLatestEnd(t *testing.T) {
	w, _ := accessWorld(t)
	manager := w.actors["apManager"]
	kim := ExternalActor("kim@fabrikam.com", "")
	var pkgs []string
	for _, days := range []int{10, 20} {
		pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki " + strconv.Itoa(days)}).ID
		pol := w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(pkg, ScopeAllExternalUsers, days)}).ID
		w.do(kim, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
		pkgs = append(pkgs, pkg)
	}
	guest, _ := w.guestOf("kim@fabrikam.com")
	last, ok := w.autoHolderByID(guest.ID, pkgs[1]).End()
	require.True(t, ok)
	w.advance(24 * time.Hour) // the first assignment's 14-day notice
	w.clock.t = last.Add(24 * time.Hour)
	w.advance(0) // the second's 14-day notice comes before the first's end
	guest, _ = w.guestOf("kim@fabrikam.com")
	require.False(t, guest.AccountEnabled)
	require.Equal(t, last, *guest.Lifecycle.BlockedDateTime)
}

// addPartnerWiki adds to w (an accessWorld) a package "Partner wiki" in
// catalog C that anyone outside the organization may ask for, for ten
// days (policy "Open to externals").
func addPartnerWiki(w *world) {
	w.t.Helper()
	manager := w.actors["apManager"]
	w.id["Partner wiki"] = w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	w.id["Open to externals"] = w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(w.id["Partner wiki"], ScopeAllExternalUsers, 10)}).ID
}

// askExternal asks for the partner wiki through a policy as a person
// outside the organization.
func (w *world) askExternal(email, tenantID, policy string) (Result, error) {
	w.t.Helper()
	return w.try(ExternalActor(email, tenantID), CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["Partner wiki"], AssignmentPolicyID: w.id[policy]})
}

// TestGuestNamedByEmail: the guest made for a person who gave no name is
// named by their email.
func TestGuestNamedByEmail(t *testing.T) {
	w, _ := accessWorld(t)
	addPartnerWiki(w)
	_, err := w.askExternal("kim@fabrikam.com", "", "Open to externals")
	require.NoError(t, err)
	guest, ok := w.guestOf("kim@fabrikam.com")
	require.True(t, ok)
	require.Equal(t, "kim@fabrikam.com", guest.DisplayName)
}

// TestOrganizationMatchedByTenant: a person is matched to a connected
// organization by their home tenant, whatever their email's domain.
func TestOrganizationMatchedByTenant(t *testing.T) {
	w, _ := accessWorld(t)
	addPartnerWiki(w)
	tenant := nameID("tenant/northwind")
	org := w.do(w.actors["GA"], CreateConnectedOrganization{DisplayName: "Northwind", IdentitySources: []IdentitySource{
		{ODataType: IdentitySourceAzureAD, TenantID: tenant, DisplayName: "Northwind"}}}).ID
	w.id["Northwind"] = w.do(w.actors["apManager"], CreateAssignmentPolicy{Policy: partnerPolicy(w.id["Partner wiki"], 10, org)}).ID
	_, err := w.askExternal("lee@northwind.example", strings.ToUpper(tenant), "Northwind")
	require.NoError(t, err)
	_, err = w.askExternal("ann@northwind.example", "", "Northwind")
	requireKind(t, err, ErrForbidden)
}

// TestRequestLinkOffersOnlySelfRequests: a request link offers a person
// outside the organization only the policies they may ask through, and
// the link may end in a slash.
func TestRequestLinkOffersOnlySelfRequests(t *testing.T) {
	w, _ := accessWorld(t)
	addPartnerWiki(w)
	adminOnly := openPolicy(w.id["Partner wiki"], ScopeAllExternalUsers, 20)
	adminOnly.DisplayName, adminOnly.RequestorSettings.EnableTargetsToSelfAddAccess = "Assigned by administrators", false
	w.do(w.actors["apManager"], CreateAssignmentPolicy{Policy: adminOnly})
	var link RequestLink
	w.m.Read(func(s *State) {
		var err error
		link, err = s.RequestLink(w.actors["apManager"], w.id["Partner wiki"])
		require.NoError(t, err)
		got, err := s.ResolveRequestLink(ExternalActor("kim@fabrikam.com", ""), link.Path+"/")
		require.NoError(t, err)
		require.Len(t, got.Requirements, 1)
	})
}

// TestGuestDeletionCancelsTheirWorkflowRuns: a guest the lifecycle
// deletes has no workflow run left scheduled.
func TestGuestDeletionCancelsTheirWorkflowRuns(t *testing.T) {
	w, _ := workflowWorld(t)
	addPartnerWiki(w)
	w.do(w.actors["GA"], UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleBlockSignInAndDelete),
		DurationUntilExternalUserDeletedAfterBlocked: ptr(MustParseDuration("PT0S"))})
	_, err := w.askExternal("kim@fabrikam.com", "", "Open to externals")
	require.NoError(t, err)
	kim, _ := w.guestOf("kim@fabrikam.com")
	w.do(sys, SetUserAttribute{UserID: kim.ID, Name: "employeeLeaveDateTime", Value: t0.AddDate(0, 0, 100).Format(time.RFC3339)})
	leaver := leaverWorkflow(w.id["Partner wiki"])
	leaver.ExecutionConditions.Scope.Rule = `(user.userType -eq "Guest")`
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: leaver}).ID
	require.Len(t, w.runs(id), 1)
	w.do(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(kim.ID, w.id["Partner wiki"]).ID})
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.NotNil(t, kim.DeletedDateTime)
	require.Empty(t, w.runs(id))
}

// TestMemberNotInAnExternalScope: a policy for users outside the
// organization does not admit a member of the directory.
func TestMemberNotInAnExternalScope(t *testing.T) {
	w, _ := accessWorld(t)
	addPartnerWiki(w)
	_, err := w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["Partner wiki"], AssignmentPolicyID: w.id["Open to externals"]})
	requireKind(t, err, ErrForbidden)
}

// TestSponsorsOfTheTargetsOrganization: on a request on behalf of a
// guest, the sponsors who approve are those of the guest's connected
// organization, not the requestor's.
func TestSponsorsOfTheTargetsOrganization(t *testing.T) {
	w, _ := accessWorld(t)
	manager := w.actors["apManager"]
	pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner portal"}).ID
	pol := partnerPolicy(pkg, 30, w.id["O1"])
	id := w.do(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg,
		AssignmentPolicyID: w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID}).ID
	w.approve("sponsor", id)
	kim, ok := w.guestOf("kim@fabrikam.com")
	require.True(t, ok)
	pkg2 := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner files"}).ID
	pol = partnerPolicy(pkg2, 30, w.id["O1"])
	pol.RequestorSettings.EnableOnBehalfRequestorsToAddAccess = true
	pol.RequestorSettings.OnBehalfRequestors = []SubjectSet{{Kind: SingleUser, UserID: w.uid["bob"]}}
	id = w.do(w.actors["bob"], CreateAssignmentRequest{RequestType: RequestTypeOnBehalfAdd, AccessPackageID: pkg2, TargetID: kim.ID,
		AssignmentPolicyID: w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID}).ID
	r := w.getRequest(id)
	require.Len(t, r.Stages, 1)
	require.Equal(t, []string{w.uid["sponsor"]}, r.Stages[0].Approvers)
}

// TestNoFallbackEscalationWithoutFallbackApprovers: a stage whose
// escalation approvers resolve to nobody, and that names no fallback
// escalation approvers, escalates to nobody without using a fallback.
func TestNoFallbackEscalationWithoutFallbackApprovers(t *testing.T) {
	w, _ := accessWorld(t)
	pol := approvalPolicy(w.id["P3"], "escalates to the requestor", w.uid["carol"])
	stage := &pol.RequestApprovalSettings.Stages[0]
	stage.IsEscalationEnabled, stage.DurationBeforeEscalation = true, DurationDays(2)
	stage.EscalationApprovers = []SubjectSet{{Kind: SingleUser, UserID: w.uid["alice"]}}
	w.id["PolE"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	id := w.request("alice", "P3", "PolE")
	w.advance(3 * 24 * time.Hour)
	st := w.getRequest(id).Stages[0]
	require.True(t, st.Escalated)
	require.Empty(t, st.EscalationApprovers)
	require.False(t, st.EscalationFallbackUsed)
}

// TestAssignmentEndingAtAReviewStartIsNotReviewed: an assignment whose
// end is the instant a review of its policy starts was not live then:
// the review has no item for it.
func TestAssignmentEndingAtAReviewStartIsNotReviewed(t *testing.T) {
	w, _ := accessWorld(t)
	p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)
	p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(1)}
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.clock.t = t0.Add(time.Hour)
	w.request("erin", "P2", "Rev")
	w.advance(24 * time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	require.Equal(t, t0.Add(24*time.Hour), revs[0].StartDateTime)
	items := w.reviewItems(revs[0].ID)
	require.Len(t, items, 1)
	require.Equal(t, w.uid["erin"], items[0].PrincipalID)
}
