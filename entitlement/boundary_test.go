package entitlement

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Boundaries and rules that a review by hand-made mutations found no test
// pinned: each test fails with the plausible bug named in its comment.

// TestDeleteCatalogWithOnePackage: a catalog holding exactly one access
// package cannot be deleted (invariant 5, §8 row 4).
func TestDeleteCatalogWithOnePackage(t *testing.T) {
	w := newWorld(t)
	ga := w.user("GA", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "One"}).ID
	w.do(ga, CreateAccessPackage{CatalogID: cat, DisplayName: "Only"})
	_, err := w.try(ga, DeleteCatalog{CatalogID: cat})
	requireKind(t, err, ErrConflict)
}

// TestDeletePackageWithOneOpenRequest: a package with no assignment but
// exactly one request in progress cannot be deleted.
func TestDeletePackageWithOneOpenRequest(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("erin", "P1", "PolA") // waits for bob's approval
	require.Equal(t, RequestStatePendingApproval, w.getRequest(id).State)
	require.Zero(t, w.state().nonEndedAssignments(w.id["P1"]))
	_, err := w.try(w.actors["GA"], DeleteAccessPackage{AccessPackageID: w.id["P1"]})
	requireKind(t, err, ErrConflict)
}

// TestNoDecisionAtTheDenialInstant: at exactly stage start +
// durationBeforeAutomaticDenial the request has timed out (invariant 24):
// it can be neither approved nor canceled, whether or not ProcessDue ran.
func TestNoDecisionAtTheDenialInstant(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P1", "PolA") // one stage, P14D
	r := w.getRequest(id)
	w.clock.t = r.Stages[0].OpenedDateTime.Add(14 * 24 * time.Hour)
	_, err := w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: r.Stages[0].ID,
		ReviewResult: DecisionApprove, Justification: "ok"})
	requireKind(t, err, ErrConflict)
	_, err = w.try(w.actors["alice"], CancelAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
}

// TestEscalationApproverAtTheEscalationInstant: at exactly stage start +
// durationBeforeEscalation the escalation approvers may decide (ProcessDue
// would have escalated the stage as of that instant).
func TestEscalationApproverAtTheEscalationInstant(t *testing.T) {
	w, _ := accessWorld(t)
	escalatingPolicy(w) // escalates after 2 days to the manager's manager (carol)
	id := w.request("alice", "P3", "PolE")
	r := w.getRequest(id)
	w.clock.t = r.Stages[0].OpenedDateTime.Add(2 * 24 * time.Hour)
	w.do(w.actors["carol"], UpdateApprovalStage{ApprovalID: id, StageID: r.Stages[0].ID,
		ReviewResult: DecisionApprove, Justification: "ok"})
	require.Equal(t, RequestStateDelivered, w.getRequest(id).State)
}

// TestReprocessAtExactlyFourteenDays: a failed request may be reprocessed
// while now − completedDateTime ≤ 14 days (invariant 29), so at exactly
// 14 days too.
func TestReprocessAtExactlyFourteenDays(t *testing.T) {
	w, fd := accessWorld(t)
	fd.failOn[w.id["G3"]] = true
	id := w.request("erin", "P2", "Pol2")
	r := w.getRequest(id)
	require.Equal(t, RequestStateDeliveryFailed, r.State)
	require.NotNil(t, r.CompletedDateTime)
	w.clock.t = r.CompletedDateTime.Add(ReprocessWindow)
	fd.failOn[w.id["G3"]] = false
	w.do(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id})
	w.clock.t = w.clock.t.Add(time.Nanosecond)
	fd.failOn[w.id["G3"]] = true
	id2 := w.request("alice", "P2", "Pol2")
	r2 := w.getRequest(id2)
	w.clock.t = r2.CompletedDateTime.Add(ReprocessWindow + time.Nanosecond)
	_, err := w.try(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id2})
	requireKind(t, err, ErrConflict)
}

// TestExtensionResetsExpiryNotices: the 14-day and 1-day notices fire
// before every end (§2.2: reminders fire 14 days and 1 day before
// expiry), so an extension re-arms those already sent for the old end.
func TestExtensionResetsExpiryNotices(t *testing.T) {
	w, _ := accessWorld(t)
	asg := w.getRequest(w.request("alice", "P2", "Pol2")).AssignmentID // 30 days
	end, _ := w.getAssignment(asg).End()
	w.clock.t = end.Add(-13 * 24 * time.Hour)
	res, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Contains(t, eventTypes(res), EventAssignmentFourteenDaysBeforeExpiration)
	require.True(t, w.getAssignment(asg).FourteenDayNoticeSent)

	w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	x := w.getAssignment(asg)
	newEnd, _ := x.End()
	require.True(t, newEnd.After(end), "extended")
	require.False(t, x.FourteenDayNoticeSent, "an extension re-arms the 14-day notice")
	require.False(t, x.OneDayNoticeSent, "an extension re-arms the 1-day notice")
	w.clock.t = newEnd.Add(-13 * 24 * time.Hour)
	res, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Contains(t, eventTypes(res), EventAssignmentFourteenDaysBeforeExpiration)
}

// TestNoNoticeForAnEndReached: ProcessDue run first at exactly an
// assignment's end expires it, and sends no notice of that end.
func TestNoNoticeForAnEndReached(t *testing.T) {
	w, _ := accessWorld(t)
	asg := w.getRequest(w.request("alice", "P2", "Pol2")).AssignmentID
	end, _ := w.getAssignment(asg).End()
	w.clock.t = end
	res, err := w.m.ProcessDue(w.ctx, end)
	require.NoError(t, err)
	types := eventTypes(res)
	require.Contains(t, types, EventAssignmentExpired)
	require.NotContains(t, types, EventAssignmentFourteenDaysBeforeExpiration)
	require.NotContains(t, types, EventAssignmentOneDayBeforeExpiration)
}

// escalationFallbackPolicy is a one-stage policy on P3: the requestor's
// manager approves; after 2 days the stage escalates to escalation, or to
// frank if escalation resolves to nobody. opts change the stage further.
func escalationFallbackPolicy(w *world, name string, escalation SubjectSet, opts ...func(*ApprovalStage)) string {
	pol := approvalPolicy(w.id["P3"], name, w.uid["carol"])
	st := &pol.RequestApprovalSettings.Stages[0]
	st.IsEscalationEnabled = true
	st.DurationBeforeEscalation = DurationDays(2)
	st.EscalationApprovers = []SubjectSet{escalation}
	st.FallbackEscalationApprovers = []SubjectSet{{Kind: SingleUser, UserID: w.uid["frank"]}}
	for _, o := range opts {
		o(st)
	}
	return w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
}

// escalatedRequest makes alice request P3 under a policy of
// escalationFallbackPolicy that escalates to the named user, and returns
// the request and its first stage once escalated; opts change the stage.
func escalatedRequest(w *world, to string, opts ...func(*ApprovalStage)) (string, ApprovalStageState) {
	w.t.Helper()
	w.id["PolE-"+to] = escalationFallbackPolicy(w, "escalates to "+to, SubjectSet{Kind: SingleUser, UserID: w.uid[to]}, opts...)
	id := w.request("alice", "P3", "PolE-"+to)
	w.clock.t = w.clock.t.Add(3 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(w.t, err)
	st := w.getRequest(id).Stages[0]
	require.True(w.t, st.Escalated)
	return id, st
}

// TestFallbackEscalationOnlyWhenEscalationResolvesToNobody: like fallback
// primary approvers (invariant 26), fallback escalation approvers decide
// only when the escalation approvers resolve to nobody.
func TestFallbackEscalationOnlyWhenEscalationResolvesToNobody(t *testing.T) {
	w, _ := accessWorld(t)
	id, st := escalatedRequest(w, "carol")
	require.Equal(t, []string{w.uid["carol"]}, st.EscalationApprovers)
	require.False(t, st.EscalationFallbackUsed)
	_, err := w.try(w.actors["frank"], UpdateApprovalStage{ApprovalID: id, StageID: st.ID, ReviewResult: DecisionApprove, Justification: "ok"})
	requireKind(t, err, ErrForbidden)
	w.approve("carol", id)
}

// TestEscalationLeavesOutTheRequestor: the requestor is never an
// effective approver (invariant 21): escalation approvers that resolve only
// to the requestor resolve to nobody, and the fallback escalation
// approvers decide.
func TestEscalationLeavesOutTheRequestor(t *testing.T) {
	w, _ := accessWorld(t)
	id, st := escalatedRequest(w, "alice")
	require.Equal(t, []string{w.uid["frank"]}, st.EscalationApprovers)
	require.True(t, st.EscalationFallbackUsed)
	w.approve("frank", id)
}

// TestGroupsAdministratorIsNoTenantReader: only the reader roles of §3.1
// (Global Reader, Security Reader, Security Administrator, Compliance
// Administrator) read every catalog; a Groups Administrator does not.
func TestGroupsAdministratorIsNoTenantReader(t *testing.T) {
	w := adminWorld(t)
	ga := w.user("grpAdmin", GroupsAdministrator)
	require.Empty(t, w.state().ListCatalogs(ga))
	_, err := w.state().GetCatalog(ga, w.id["C"])
	requireKind(t, err, ErrForbidden)
	require.NotEmpty(t, w.state().ListCatalogs(w.user("gr", GlobalReader)))
}

// TestExchangeAdministratorOnlyForM365Groups: with catalog ownership, an
// Exchange Administrator may add Microsoft 365 groups, not security groups
// (§3.1: "Exchange Administrator → M365 groups").
func TestExchangeAdministratorOnlyForM365Groups(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	exa := w.user("exa", ExchangeAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	w.do(ga, CreateRoleAssignment{PrincipalID: exa.ID, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(cat)})
	sec := w.group("Security")
	_, err := w.try(exa, addGroup(cat, sec))
	requireKind(t, err, ErrForbidden)
	m365 := nameID("group/M365")
	w.do(sys, PutGroup{Group: Group{ID: m365, DisplayName: "M365", MailEnabled: true, GroupTypes: []string{"Unified"}}})
	w.do(exa, addGroup(cat, m365))
}

// TestDeletedUserLosesCatalogRoles: the role assignments of a user deleted
// from the directory no longer count, for reads too (commands refuse a
// deleted actor before authorization, reads do not).
func TestDeletedUserLosesCatalogRoles(t *testing.T) {
	w := adminWorld(t)
	reader := w.actors["reader"]
	_, err := w.state().GetCatalog(reader, w.id["C"])
	require.NoError(t, err)
	w.do(sys, DeleteUser{UserID: reader.ID})
	_, err = w.state().GetCatalog(reader, w.id["C"])
	requireKind(t, err, ErrForbidden)
	require.Empty(t, w.state().ListCatalogs(reader))
}

// TestGuestUpdateInCatalogNotExternallyVisible: a guest's own requests,
// extensions (userUpdate) included, are refused once the catalog is not
// visible to external users (invariant 44, §8 row 33).
func TestGuestUpdateInCatalogNotExternallyVisible(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := requestPolicy(w.id["P2"], "Everyone")
	pol.AllowedTargetScope = ScopeAllDirectoryUsers
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	guest := UserActor(w.uid["guest"])
	id := w.do(guest, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: polID}).ID
	asg := w.getRequest(id).AssignmentID
	require.NotEmpty(t, asg)
	w.do(ga, UpdateCatalog{CatalogID: w.id["C"], IsExternallyVisible: ptr(false)})
	w.clock.t = w.clock.t.Add(time.Hour)
	_, err := w.try(guest, CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	requireKind(t, err, ErrForbidden)
}

// TestRequestLimitBoundary: with exactly MaxRequestsPerThreeMonths
// requests in the last 3 months, the next add is refused; one fewer and it
// is accepted.
func TestRequestLimitBoundary(t *testing.T) {
	w, _ := accessWorld(t)
	s := w.state().Clone()
	now := w.clock.t.Add(time.Hour)
	done := now.Add(-time.Hour)
	have := s.recentRequests(now.Add(-90 * 24 * time.Hour))
	for i := range MaxRequestsPerThreeMonths - have - 1 {
		s.putRequest(&AssignmentRequest{ID: nameID(fmt.Sprintf("filler/%d", i)), RequestType: RequestTypeUserAdd,
			State: RequestStateCanceled, Status: RequestStatusCanceled, CreatedDateTime: now.Add(-2 * time.Hour), CompletedDateTime: &done,
			AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["frank"], RequestorID: w.uid["frank"]})
	}
	require.Equal(t, MaxRequestsPerThreeMonths-1, s.recentRequests(now.Add(-90*24*time.Hour)))
	_, err := Decide(s, w.actors["erin"], now, SeededIDs(77), addReq(w.id["P2"], w.id["Pol2"]))
	require.NoError(t, err, "one below the limit")
	s.putRequest(&AssignmentRequest{ID: nameID("filler/last"), RequestType: RequestTypeUserAdd,
		State: RequestStateCanceled, Status: RequestStatusCanceled, CreatedDateTime: now.Add(-2 * time.Hour), CompletedDateTime: &done,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["frank"], RequestorID: w.uid["frank"]})
	_, err = Decide(s, w.actors["erin"], now, SeededIDs(78), addReq(w.id["P2"], w.id["Pol2"]))
	requireKind(t, err, ErrLimit)
}

// TestReviewerJustificationRequired: with isReviewerJustificationRequired
// a review decision without a justification is refused, and a review
// closes at exactly its end: no decision is recorded then, whether or not
// ProcessDue ran.
func TestReviewerJustificationRequired(t *testing.T) {
	w, _ := accessWorld(t)
	pol := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	pol.ReviewSettings.IsReviewerJustificationRequired = true
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	w.id["Rev"] = polID
	asg := w.getRequest(w.request("alice", "P2", "Rev")).AssignmentID
	w.advance(24 * time.Hour)
	revs := w.reviews(polID)
	require.Len(t, revs, 1)
	rev := revs[0]
	for _, blank := range []string{"", "   "} { // found by a review: spaces passed
		_, err := w.try(w.actors["bob"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: asg, Decision: ReviewDecisionApprove, Justification: blank})
		requireField(t, err, "justification")
	}
	w.do(w.actors["bob"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: asg, Decision: ReviewDecisionApprove, Justification: "still needed"})

	w.clock.t = rev.EndDateTime
	_, err := w.try(w.actors["bob"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: asg, Decision: ReviewDecisionDeny, Justification: "late"})
	requireKind(t, err, ErrConflict)
}

// TestEndAtTheStartRefused: a requested end equal to the start asks for no
// access at all, and is refused as the request is made, not canceled when
// it would be delivered.
func TestEndAtTheStartRefused(t *testing.T) {
	w, _ := accessWorld(t)
	polID := customSchedulePolicy(w)
	start := w.clock.t.Add(24 * time.Hour)
	_, err := w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: polID, Schedule: EntitlementManagementSchedule{StartDateTime: start,
			Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: start}}})
	requireField(t, err, "schedule.expiration")
}

// TestRequestPartsThatWouldBeIgnored: what a request asks for and would
// not get is refused, not stored (found by a review): a recurrence given
// without its type, no expiration under a policy that ends assignments
// (it was cut to the policy's end without a word), answers on a removal.
func TestRequestPartsThatWouldBeIgnored(t *testing.T) {
	w, _ := accessWorld(t)
	alice := w.actors["alice"]
	recurrence := EntitlementManagementSchedule{Recurrence: PatternedRecurrence{Pattern: RecurrencePattern{Interval: 2}}}
	_, err := w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["Pol2"], Schedule: recurrence})
	requireField(t, err, "schedule") // the policy allows no schedule of the requestor's
	custom := customSchedulePolicy(w)
	_, err = w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: custom, Schedule: recurrence})
	requireField(t, err, "schedule.recurrence")

	pol := requestPolicy(w.id["P2"], "A week at most")
	pol.RequestorSettings.AllowCustomAssignmentSchedule = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(7)}
	week := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	_, err = w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: week, Schedule: EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationNoExpiration}}})
	requireField(t, err, "schedule.expiration")

	asg := w.getRequest(w.request("alice", "P2", "Pol2")).AssignmentID
	_, err = w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg,
		Answers: []Answer{{QuestionID: "no-such-question", Value: "x"}}})
	requireField(t, err, "answers")
}

// TestNoRemovalWhileDelivering: an assignment whose delivery is not yet
// recorded can be neither removed nor updated; once delivered it can.
func TestNoRemovalWhileDelivering(t *testing.T) {
	w, _ := accessWorld(t)
	m, bd, res := aliceDelivering(t, w, 20*time.Millisecond)
	require.Error(t, res.DeliveryError)
	asg := m.State().MyAssignments(w.actors["alice"])[0]
	require.Equal(t, AssignmentStateDelivering, asg.State)
	for _, c := range []CreateAssignmentRequest{
		{RequestType: RequestTypeUserRemove, AssignmentID: asg.ID},
		{RequestType: RequestTypeUserUpdate, AssignmentID: asg.ID},
	} {
		_, err := m.Execute(w.ctx, w.actors["alice"], c)
		requireKind(t, err, ErrConflict)
	}
	close(bd.release)
	_, err := m.DeliverPending(w.ctx)
	require.NoError(t, err)
	_, err = m.Execute(w.ctx, w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg.ID})
	require.NoError(t, err)
}

// TestExpiryRevokesFailedGrants: a grant that failed may have reached the
// resource in part, so an assignment's expiry revokes it too.
func TestExpiryRevokesFailedGrants(t *testing.T) {
	w, fd := accessWorld(t)
	fd.failOn[w.id["G3"]] = true
	id := w.request("alice", "P2", "Pol2")
	asg := w.getAssignment(w.getRequest(id).AssignmentID)
	require.Equal(t, DeliveryFailed, asg.Resources[0].Status)
	fd.failOn[w.id["G3"]] = false
	end, ok := asg.End()
	require.True(t, ok)
	w.clock.t = end
	_, err := w.m.ProcessDue(w.ctx, end)
	require.NoError(t, err)
	asg = w.getAssignment(asg.ID)
	require.Equal(t, AssignmentStateExpired, asg.State)
	for _, r := range asg.Resources {
		require.NotEqual(t, DeliveryFailed, r.Status, "the failed grant of %s is revoked", r.ResourceID)
	}
}

// TestNoCancelAtTheScheduledStart: a scheduled request can be canceled
// until its start, not at it: ProcessDue delivers it as of then.
func TestNoCancelAtTheScheduledStart(t *testing.T) {
	w, _ := accessWorld(t)
	polID := customSchedulePolicy(w)
	start := w.clock.t.Add(24 * time.Hour)
	id := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: polID, Schedule: EntitlementManagementSchedule{StartDateTime: start}}).ID
	require.Equal(t, RequestStateScheduled, w.getRequest(id).State)
	w.clock.t = start
	_, err := w.try(w.actors["alice"], CancelAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
}

// TestFourteenDayNoticeOfAFourteenDayAssignment: an assignment that lasts
// exactly 14 days gets its 14-day notice as it starts.
func TestFourteenDayNoticeOfAFourteenDayAssignment(t *testing.T) {
	w, _ := accessWorld(t)
	pol := requestPolicy(w.id["P2"], "Two weeks")
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(14)}
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	asg := w.getRequest(w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: polID}).ID).AssignmentID
	res, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Contains(t, eventTypes(res), EventAssignmentFourteenDaysBeforeExpiration)
	require.True(t, w.getAssignment(asg).FourteenDayNoticeSent)
}

// TestBlockedGroupMemberIsNoApprover: a group's blocked members resolve to
// nobody, like a blocked single user, so that the fallback approvers
// decide when no member may.
func TestBlockedGroupMemberIsNoApprover(t *testing.T) {
	w, _ := accessWorld(t)
	g := w.group("Approvers")
	w.do(sys, AddGroupMember{GroupID: g, MemberID: w.uid["frank"]})
	w.do(sys, BlockUser{UserID: w.uid["frank"]})
	pol := approvalPolicy(w.id["P1"], "Group approves", w.uid["carol"])
	pol.RequestApprovalSettings.Stages[0].PrimaryApprovers = []SubjectSet{{Kind: GroupMembers, GroupID: g}}
	w.id["PolG"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	st := w.getRequest(w.request("alice", "P1", "PolG")).Stages[0]
	require.Equal(t, []string{w.uid["carol"]}, st.Approvers)
	require.True(t, st.FallbackUsed)
}

// TestPackageAssignmentLimitBoundary: a package holding one assignment
// fewer than MaxAssignmentsPerPackage takes one more; at the limit the next
// add is refused.
func TestPackageAssignmentLimitBoundary(t *testing.T) {
	w, _ := accessWorld(t)
	s := w.state().Clone()
	now := w.clock.t.Add(time.Hour)
	for i := s.nonEndedAssignments(w.id["P2"]); i < MaxAssignmentsPerPackage-1; i++ {
		s.putAssignment(fillerAssignment(w.id["P2"], i))
	}
	require.Equal(t, MaxAssignmentsPerPackage-1, s.nonEndedAssignments(w.id["P2"]))
	_, err := Decide(s, w.actors["erin"], now, SeededIDs(77), addReq(w.id["P2"], w.id["Pol2"]))
	require.NoError(t, err, "one below the limit")
	s.putAssignment(fillerAssignment(w.id["P2"], MaxAssignmentsPerPackage))
	_, err = Decide(s, w.actors["erin"], now, SeededIDs(78), addReq(w.id["P2"], w.id["Pol2"]))
	requireKind(t, err, ErrLimit)
}

// customSchedulePolicy adds to P2 a policy whose requestors may ask for
// their own schedule, and returns its id.
func customSchedulePolicy(w *world) string {
	w.t.Helper()
	pol := requestPolicy(w.id["P2"], "Custom")
	pol.RequestorSettings.AllowCustomAssignmentSchedule = true
	return w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
}
