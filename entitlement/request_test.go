package entitlement

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"

	"github.com/stretchr/testify/require"
)

func TestRequestApproveDeliverExpire(t *testing.T) {
	w, fd := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	r := w.getRequest(id)
	require.Equal(t, RequestStatePendingApproval, r.State)
	require.Equal(t, RequestStatusPendingApproval, r.Status)
	require.Len(t, r.Stages, 1)
	require.Equal(t, []string{w.uid["bob"]}, r.Stages[0].Approvers)
	require.False(t, r.Stages[0].FallbackUsed)
	require.Equal(t, 2, r.PolicyVersion+1) // version 1
	approvals := w.state().ApprovalsForApprover(w.actors["bob"])
	require.Len(t, approvals, 1)
	require.Empty(t, w.state().ApprovalsForApprover(w.actors["alice"]))

	w.clock.t = w.clock.t.Add(time.Hour)
	res := w.approve("bob", id)
	require.NotEmpty(t, res.Delivery)
	r = w.getRequest(id)
	require.Equal(t, RequestStateDelivered, r.State)
	require.NotNil(t, r.CompletedDateTime)
	a := w.getAssignment(r.AssignmentID)
	require.Equal(t, AssignmentStateDelivered, a.State)
	end, ok := a.End()
	require.True(t, ok)
	require.Equal(t, w.clock.t.Add(30*24*time.Hour), end)
	require.Equal(t, []string{w.id["RS-P1"]}, fd.heldBy(w.uid["alice"]))
	require.Len(t, w.state().MyAssignments(w.actors["alice"]), 1)
	require.Len(t, w.state().EffectiveAccess(w.actors["alice"], w.uid["alice"]), 1)

	// Notices, then expiry.
	w.clock.t = end.Add(-10 * 24 * time.Hour)
	res, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Len(t, res.Events, 1)
	require.Equal(t, EventAssignmentFourteenDaysBeforeExpiration, res.Events[0].Type)
	require.Equal(t, w.clock.t, res.Events[0].OccurredAt)
	w.clock.t = end.Add(time.Hour)
	res, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	// Processed after the end: no 1-day notice of an end that has passed.
	require.Equal(t, []string{EventAssignmentExpired}, eventTypes(res))
	a = w.getAssignment(a.ID)
	require.Equal(t, AssignmentStateExpired, a.State)
	require.Equal(t, end, *a.ExpiredDateTime)
	require.Empty(t, fd.heldBy(w.uid["alice"]))
	requireSameState(t, w.state(), w.replayed())

	// Renewal is a new assignment.
	id2 := w.request("alice", "P1", "PolA")
	w.approve("bob", id2)
	require.NotEqual(t, a.ID, w.getRequest(id2).AssignmentID)
}

func eventTypes(r Result) []string {
	var out []string
	for _, e := range r.Events {
		out = append(out, e.Type)
	}
	return out
}

func TestPolicyChangeDoesNotAffectSubmittedRequest(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	id := w.request("alice", "P1", "PolA")
	// The policy now needs two stages and lasts 5 days.
	pol := approvalPolicy(w.id["P1"], "changed", w.uid["carol"])
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(5)}
	pol.RequestApprovalSettings.Stages = append(pol.RequestApprovalSettings.Stages, ApprovalStage{
		DurationBeforeAutomaticDenial: DurationDays(3),
		PrimaryApprovers:              []SubjectSet{{Kind: SingleUser, UserID: w.uid["carol"]}},
	})
	w.do(ga, ReplaceAssignmentPolicy{PolicyID: w.id["PolA"], Policy: pol})
	w.approve("bob", id)
	r := w.getRequest(id)
	require.Equal(t, 1, r.PolicyVersion)
	require.Equal(t, RequestStateDelivered, r.State, "the old version had one stage")
	end, _ := w.getAssignment(r.AssignmentID).End()
	require.Equal(t, w.clock.t.Add(30*24*time.Hour), end)

	id2 := w.request("erin", "P1", "PolA")
	require.Equal(t, 2, w.getRequest(id2).PolicyVersion)
	w.approve("bob", id2)
	r2 := w.getRequest(id2)
	require.Equal(t, RequestStatePendingApproval, r2.State)
	require.Len(t, r2.Stages, 2)
	// The first stage, decided, can no longer be decided while the second
	// is open.
	_, err := w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id2, StageID: r2.Stages[0].ID, ReviewResult: DecisionDeny, Justification: "no"})
	requireKind(t, err, ErrConflict)
	require.ErrorContains(t, err, "already decided")
	w.approve("carol", id2)
	end2, _ := w.getAssignment(w.getRequest(id2).AssignmentID).End()
	require.Equal(t, w.clock.t.Add(5*24*time.Hour), end2)
}

// escalatingPolicy adds to P3 the policy PolE: one stage, escalated after
// 2 days to the requestor's second-level manager, denied after 14.
func escalatingPolicy(w *world) {
	pol := approvalPolicy(w.id["P3"], "escalating", w.uid["carol"])
	pol.RequestApprovalSettings.Stages[0].IsEscalationEnabled = true
	pol.RequestApprovalSettings.Stages[0].DurationBeforeEscalation = DurationDays(2)
	pol.RequestApprovalSettings.Stages[0].EscalationApprovers = []SubjectSet{{Kind: RequestorManager, ManagerLevel: 2}}
	w.id["PolE"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
}

func TestEscalationAndTimeout(t *testing.T) {
	w, _ := accessWorld(t)
	escalatingPolicy(w)
	id := w.request("alice", "P3", "PolE")
	w.clock.t = w.clock.t.Add(3 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	r := w.getRequest(id)
	require.Equal(t, RequestStatusPendingApprovalEscalated, r.Status)
	require.Equal(t, []string{w.uid["carol"]}, r.Stages[0].EscalationApprovers)
	require.Len(t, w.state().ApprovalsForApprover(w.actors["carol"]), 1)
	require.Len(t, w.state().ApprovalsForApprover(w.actors["bob"]), 1, "primaries keep their right")

	id2 := w.request("erin", "P3", "PolE")
	w.clock.t = w.clock.t.Add(15 * 24 * time.Hour)
	_, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	for _, x := range []string{id, id2} {
		r := w.getRequest(x)
		require.Equal(t, RequestStateDenied, r.State)
		require.Equal(t, RequestStatusTimedOut, r.Status)
		require.Equal(t, StageStatusExpired, r.Stages[0].Status)
	}
	_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: w.getRequest(id).Stages[0].ID, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
	requireSameState(t, w.state(), w.replayed())
}

// TestDueWorkCountsWithoutProcessDue: a command decides as if the
// time-driven work that fell due by its time had been recorded, however
// lately ProcessDue ran: an escalation approver may decide once the
// escalation is due (the escalation is recorded first), a stage past its
// automatic denial can no longer be decided, an assignment past its end
// can be neither extended, removed nor asked for again until its expiry
// is recorded (which ProcessDue does as of the end), and a change to its
// package records that expiry before it fans out.
func TestDueWorkCountsWithoutProcessDue(t *testing.T) {
	w, fd := accessWorld(t)
	ga := w.actors["GA"]
	escalatingPolicy(w)

	id := w.request("alice", "P3", "PolE")
	stage := w.getRequest(id).Stages[0].ID
	_, err := w.try(w.actors["carol"], UpdateApprovalStage{ApprovalID: id, StageID: stage, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrForbidden) // not yet an approver
	w.clock.t = w.clock.t.Add(3 * 24 * time.Hour)
	res := w.do(w.actors["carol"], UpdateApprovalStage{ApprovalID: id, StageID: stage, ReviewResult: DecisionApprove})
	require.Equal(t, EventApprovalStageEscalated, res.Events[0].Type, "the escalation due is recorded first")
	require.Equal(t, string(ActorSystem), res.Events[0].Metadata.ActorKind, "the escalation is the system's")
	require.Equal(t, w.uid["carol"], res.Events[1].Metadata.ActorID, "the decision is carol's")
	r := w.getRequest(id)
	require.True(t, r.Stages[0].Escalated)
	require.Equal(t, RequestStateDelivered, r.State)
	fid := w.request("frank", "P3", "PolE") // no manager: carol approves
	w.approve("carol", fid)

	id2 := w.request("erin", "P3", "PolE")
	w.clock.t = w.clock.t.Add(15 * 24 * time.Hour)
	_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id2, StageID: w.getRequest(id2).Stages[0].ID, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), RequestStatusTimedOut)
	_, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Equal(t, RequestStatusTimedOut, w.getRequest(id2).Status)
	// Frank asks for an extension a week before his end.
	w.clock.t = w.clock.t.Add(7 * 24 * time.Hour)
	update := w.do(w.actors["frank"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate,
		AssignmentID: w.getRequest(fid).AssignmentID}).ID

	a := w.getAssignment(r.AssignmentID)
	fa := w.getAssignment(w.getRequest(fid).AssignmentID)
	end, ok := a.End()
	require.True(t, ok)
	fend, _ := fa.End()
	require.False(t, fend.Before(end))
	w.clock.t = fend.Add(time.Hour)
	require.Equal(t, AssignmentStateDelivered, w.getAssignment(a.ID).State, "ProcessDue has not run since the end")
	for _, rt := range []string{RequestTypeUserUpdate, RequestTypeUserRemove} {
		_, err = w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: rt, AssignmentID: a.ID})
		requireKind(t, err, ErrConflict)
		require.Contains(t, err.Error(), "the assignment has ended", rt)
	}
	_, err = w.try(ga, ReprocessAssignment{AssignmentID: a.ID})
	requireKind(t, err, ErrConflict)
	// Frank's extension, asked before his end, can no longer be approved:
	// his expiry cancels it.
	_, err = w.try(w.actors["carol"], UpdateApprovalStage{ApprovalID: update,
		StageID: w.getRequest(update).Stages[0].ID, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), RequestStateCanceled)

	// The next command accepted records both expiries first, each as of
	// its end, as the system's, then its own events.
	renewed := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["P3"], AssignmentPolicyID: w.id["PolE"]})
	ends := map[string]time.Time{}
	firstOwn := slices.IndexFunc(renewed.Events, func(e eventstore.Event) bool { return e.Metadata.ActorID == w.uid["alice"] })
	for i, e := range renewed.Events {
		if e.Type != EventAssignmentExpired {
			continue
		}
		require.Equal(t, SystemActor().ID, e.Metadata.ActorID, "the expiry is the system's, not alice's")
		require.Less(t, i, firstOwn, "the expiries come first")
		var expired AssignmentExpired
		require.NoError(t, json.Unmarshal(e.Payload, &expired))
		ends[expired.AssignmentID] = expired.ExpiredDateTime
	}
	require.Equal(t, map[string]time.Time{a.ID: end, fa.ID: fend}, ends)
	require.Equal(t, w.uid["alice"], renewed.Events[len(renewed.Events)-1].Metadata.ActorID)
	require.Equal(t, AssignmentStateExpired, w.getAssignment(a.ID).State)
	require.Equal(t, RequestStateCanceled, w.getRequest(update).State, "the expiry cancels the open extension")

	// A change to the package then reaches no ended assignment, and
	// Frank's roles were taken away.
	g1 := w.resourceByOrigin(w.id["C"], w.id["G1"])
	added := w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P3"], RoleID: g1.Roles[0].ID, ScopeID: g1.Scopes[0].ID})
	require.NotContains(t, eventTypes(added), EventAssignmentExpired)
	require.NotContains(t, fd.heldBy(w.uid["frank"]), added.ID, "the deliverer was not asked to grant it")
	for _, x := range fa.Resources {
		require.NotContains(t, fd.heldBy(w.uid["frank"]), x.ResourceRoleScopeID, "revoked")
	}
	requireSameState(t, w.state(), w.replayed())
}

func TestFallbackApproversWhenNoManager(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("frank", "P1", "PolA")
	r := w.getRequest(id)
	require.True(t, r.Stages[0].FallbackUsed)
	require.Equal(t, []string{w.uid["carol"]}, r.Stages[0].Approvers)
	// carol asks herself: her manager is nobody, the fallback is herself and
	// is left out; the stage can only time out, as in Entra.
	id2 := w.request("carol", "P1", "PolA")
	require.Empty(t, w.getRequest(id2).Stages[0].Approvers)
	// Without fallback approvers, no fallback is used (found by a review:
	// the stage said it was).
	p := approvalPolicy(w.id["P3"], "managers only", "")
	p.RequestApprovalSettings.Stages[0].FallbackPrimaryApprovers = nil
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
	r = w.getRequest(w.do(w.actors["frank"], addReq(w.id["P3"], pol)).ID)
	require.Empty(t, r.Stages[0].Approvers)
	require.False(t, r.Stages[0].FallbackUsed)
}

func TestDenyEndsRequest(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	r := w.getRequest(id)
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: r.Stages[0].ID, ReviewResult: DecisionDeny})
	r = w.getRequest(id)
	require.Equal(t, RequestStateDenied, r.State)
	require.Equal(t, ReviewDenied, r.Stages[0].ReviewResult)
	require.Empty(t, r.AssignmentID)
	w.do(w.actors["GA"], DeleteAssignmentRequest{RequestID: id})
	require.Empty(t, w.state().MyRequests(w.actors["alice"]))
}

func TestScheduledStartAndCancel(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := requestPolicy(w.id["P3"], "custom schedule")
	pol.RequestorSettings.AllowCustomAssignmentSchedule = true
	w.id["PolS"] = w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	start := w.clock.t.Add(48 * time.Hour)
	id := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"],
		AssignmentPolicyID: w.id["PolS"], Schedule: EntitlementManagementSchedule{StartDateTime: start,
			Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(7)}}}).ID
	require.Equal(t, RequestStatusPendingNotBefore, w.getRequest(id).Status)
	w.clock.t = start.Add(time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	r := w.getRequest(id)
	require.Equal(t, RequestStateDelivered, r.State)
	a := w.getAssignment(r.AssignmentID)
	require.Equal(t, start, a.Schedule.StartDateTime)
	end, _ := a.End()
	require.Equal(t, start.Add(7*24*time.Hour), end)

	id2 := w.do(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"],
		AssignmentPolicyID: w.id["PolS"], Schedule: EntitlementManagementSchedule{StartDateTime: w.clock.t.Add(time.Hour)}}).ID
	w.do(w.actors["erin"], CancelAssignmentRequest{RequestID: id2})
	require.Equal(t, RequestStateCanceled, w.getRequest(id2).State)

	// A start after the policy's end date is the request's mistake.
	ending := requestPolicy(w.id["P2"], "ends")
	ending.RequestorSettings.AllowCustomAssignmentSchedule = true
	ending.Expiration = ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: w.clock.t.Add(24 * time.Hour)}
	polE := w.do(ga, CreateAssignmentPolicy{Policy: ending}).ID
	_, err = w.try(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: polE, Schedule: EntitlementManagementSchedule{StartDateTime: w.clock.t.Add(48 * time.Hour)}})
	requireField(t, err, "schedule.startDateTime")
}

func TestExtensionAndRemoval(t *testing.T) {
	w, fd := accessWorld(t)
	id := w.request("alice", "P2", "Pol2")
	asg := w.getRequest(id).AssignmentID
	end0, _ := w.getAssignment(asg).End()
	w.clock.t = w.clock.t.Add(10 * 24 * time.Hour)
	w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	end1, _ := w.getAssignment(asg).End()
	require.Equal(t, end0.Add(10*24*time.Hour), end1)
	require.Equal(t, []string{w.id["RS-P2"]}, fd.heldBy(w.uid["alice"]))
	rid := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg}).ID
	require.Equal(t, RequestStateDelivered, w.getRequest(rid).State)
	require.Equal(t, AssignmentStateExpired, w.getAssignment(asg).State)
	require.Empty(t, fd.heldBy(w.uid["alice"]))
	requireSameState(t, w.state(), w.replayed())
}

func TestRoleScopeChangesReachAssignees(t *testing.T) {
	w, fd := accessWorld(t)
	ga := w.actors["GA"]
	w.request("alice", "P2", "Pol2")
	w.request("erin", "P2", "Pol2")
	res := w.resourceByOrigin(w.id["C"], w.id["G1"])
	rsID := w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: res.Roles[0].ID, ScopeID: res.Scopes[0].ID}).ID
	require.Equal(t, rsID, w.id["RS-P1"], "same role scope as P1's")
	require.ElementsMatch(t, []string{w.id["RS-P1"], w.id["RS-P2"]}, fd.heldBy(w.uid["alice"]))
	require.ElementsMatch(t, []string{w.id["RS-P1"], w.id["RS-P2"]}, fd.heldBy(w.uid["erin"]))
	// alice also gets P1 (same role scope); removing it from P2 keeps it.
	id := w.request("alice", "P1", "PolA")
	w.approve("bob", id)
	w.do(ga, RemoveResourceRoleScope{AccessPackageID: w.id["P2"], ResourceRoleScopeID: rsID})
	require.ElementsMatch(t, []string{w.id["RS-P1"], w.id["RS-P2"]}, fd.heldBy(w.uid["alice"]))
	require.Equal(t, []string{w.id["RS-P2"]}, fd.heldBy(w.uid["erin"]), "erin held it through P2 alone")
	require.Len(t, w.state().EffectiveAccess(ga, w.uid["alice"]), 2)
	// Ending P1 now takes it away.
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.getRequest(id).AssignmentID})
	require.Equal(t, []string{w.id["RS-P2"]}, fd.heldBy(w.uid["alice"]))
	requireSameState(t, w.state(), w.replayed())
}

func TestPartialDeliveryAndReprocess(t *testing.T) {
	w, fd := accessWorld(t)
	ga := w.actors["GA"]
	res := w.resourceByOrigin(w.id["C"], w.id["G1"])
	w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: res.Roles[0].ID, ScopeID: res.Scopes[0].ID})
	fd.failOn[w.id["G1"]] = true
	id := w.request("alice", "P2", "Pol2")
	r := w.getRequest(id)
	require.Equal(t, RequestStatePartiallyDelivered, r.State)
	a := w.getAssignment(r.AssignmentID)
	require.Equal(t, AssignmentStatePartiallyDelivered, a.State)
	failed := a.resource(w.id["RS-P1"])
	require.Equal(t, DeliveryFailed, failed.Status)
	require.Equal(t, string(errFakeDelivery), failed.Reason)
	_, err := w.try(ga, ReprocessAssignment{AssignmentID: a.ID})
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), "reprocess its request (ReprocessAssignmentRequest "+id+")", "the refusal says what retries a failed delivery")

	// Within 14 days: reprocess succeeds once the resource accepts.
	fd.failOn[w.id["G1"]] = false
	w.clock.t = w.clock.t.Add(13 * 24 * time.Hour)
	w.do(w.actors["apAssignmentManager"], ReprocessAssignmentRequest{RequestID: id})
	require.Equal(t, RequestStateDelivered, w.getRequest(id).State)
	require.Equal(t, AssignmentStateDelivered, w.getAssignment(a.ID).State)
	w.do(ga, ReprocessAssignment{AssignmentID: a.ID})

	// Beyond 14 days a failed request can't be reprocessed.
	fd.failOn[w.id["G3"]] = true
	fd.failOn[w.id["G1"]] = true
	id2 := w.request("erin", "P2", "Pol2")
	require.Equal(t, RequestStateDeliveryFailed, w.getRequest(id2).State)
	w.clock.t = w.clock.t.Add(15 * 24 * time.Hour)
	_, err = w.try(ga, ReprocessAssignmentRequest{RequestID: id2})
	requireKind(t, err, ErrConflict)
	requireSameState(t, w.state(), w.replayed())
}

func TestReadsOfAccess(t *testing.T) {
	w, _ := accessWorld(t)
	st := w.state()
	pkgs := st.AccessPackagesForRequestor(w.actors["alice"])
	require.Len(t, pkgs, 2) // P1 (two policies) and P2
	reqs, err := st.ApplicablePolicyRequirements(w.actors["alice"], w.id["P1"])
	require.NoError(t, err)
	require.Len(t, reqs, 2)
	// Graph's requirements carry the schedule as an
	// entitlementManagementSchedule (review: it was the bare expiration).
	i := slices.IndexFunc(reqs, func(r AssignmentRequestRequirements) bool { return r.PolicyID == w.id["PolA"] })
	require.GreaterOrEqual(t, i, 0)
	b, err := json.Marshal(reqs[i])
	require.NoError(t, err)
	require.Contains(t, string(b), `"schedule":{"expiration":{"type":"afterDuration","duration":"P30D"}}`)
	_, err = st.ApplicablePolicyRequirements(w.actors["appReadWrite"], w.id["P1"])
	requireKind(t, err, ErrForbidden)

	w.request("alice", "P2", "Pol2")
	w.request("erin", "P1", "Pol1")
	st = w.state()
	_, err = st.ListAssignments(w.actors["apAssignmentManager"], AssignmentFilter{})
	requireField(t, err, "accessPackage/id")
	as, err := st.ListAssignments(w.actors["apAssignmentManager"], AssignmentFilter{AccessPackageID: w.id["P2"]})
	require.NoError(t, err)
	require.Len(t, as, 1)
	as, err = st.ListAssignments(w.actors["GA"], AssignmentFilter{})
	require.NoError(t, err)
	require.Len(t, as, 2)
	_, err = st.ListAssignments(w.actors["plain"], AssignmentFilter{AccessPackageID: w.id["P2"]})
	requireKind(t, err, ErrForbidden)
	// erin holds P1, alice P2: nobody holds both.
	x, err := st.AdditionalAccess(w.actors["GA"], w.id["P1"], w.id["P2"])
	require.NoError(t, err)
	require.Empty(t, x)
	_, err = st.AdditionalAccess(w.actors["GA"], w.id["P1"], w.id["P1"])
	requireField(t, err, "incompatibleAccessPackageId")
	_, err = st.AdditionalAccess(w.actors["appReadWrite"], w.id["P1"], w.id["P2"])
	requireKind(t, err, ErrForbidden)
	require.Len(t, st.MyRequests(w.actors["alice"]), 1)
}

func TestOnBehalfSystemAndAdminRequests(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := requestPolicy(w.id["P3"], "managers ask for their reports")
	pol.RequestorSettings.EnableOnBehalfRequestorsToAddAccess = true
	pol.RequestorSettings.OnBehalfRequestors = []SubjectSet{{Kind: TargetManager, ManagerLevel: 1}}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	id := w.do(w.actors["bob"], CreateAssignmentRequest{RequestType: RequestTypeOnBehalfAdd, AccessPackageID: w.id["P3"],
		AssignmentPolicyID: polID, TargetID: w.uid["alice"]}).ID
	r := w.getRequest(id)
	require.Equal(t, w.uid["bob"], r.RequestorID)
	require.Equal(t, w.uid["alice"], r.TargetID)
	require.Equal(t, RequestStateDelivered, r.State)
	// The requestor, neither its target nor an approver, reads it.
	_, err := w.state().GetAssignmentRequest(w.actors["bob"], id)
	require.NoError(t, err)
	_, err = w.try(w.actors["carol"], CreateAssignmentRequest{RequestType: RequestTypeOnBehalfAdd, AccessPackageID: w.id["P3"],
		AssignmentPolicyID: polID, TargetID: w.uid["erin"]})
	requireKind(t, err, ErrForbidden)

	// An admin assignment through a policy that needs approval still
	// needs it (invariant 17).
	id2 := w.do(w.actors["apAssignmentManager"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd,
		AccessPackageID: w.id["P1"], AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["erin"]}).ID
	require.Equal(t, RequestStatePendingApproval, w.getRequest(id2).State)
	// An application with ReadWrite.All may assign directly.
	id3 := w.do(w.actors["appReadWrite"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["frank"]}).ID
	require.Equal(t, RequestStateDelivered, w.getRequest(id3).State)
	// Only the system makes system requests.
	_, err = w.try(ga, CreateAssignmentRequest{RequestType: RequestTypeSystemAdd,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["erin"]})
	requireKind(t, err, ErrForbidden)
	w.do(sys, CreateAssignmentRequest{RequestType: RequestTypeSystemAdd,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["erin"]})
	requireSameState(t, w.state(), w.replayed())
}

func TestDeletePackageOrPolicyWithAssignments(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	id := w.request("alice", "P2", "Pol2")
	_, err := w.try(ga, DeleteAccessPackage{AccessPackageID: w.id["P2"]})
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, DeleteAssignmentPolicy{PolicyID: w.id["Pol2"]})
	requireKind(t, err, ErrConflict)
	// A request in progress also blocks deletion.
	w.request("erin", "P1", "PolA")
	_, err = w.try(ga, DeleteAssignmentPolicy{PolicyID: w.id["PolA"]})
	requireKind(t, err, ErrConflict)
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.getRequest(id).AssignmentID})
	w.do(ga, DeleteAssignmentPolicy{PolicyID: w.id["Pol2"]})
	w.do(ga, DeleteAccessPackage{AccessPackageID: w.id["P2"]})
	require.NoError(t, checkInvariants(w.state()))
}

func TestProcessDueRules(t *testing.T) {
	w, _ := accessWorld(t)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t.Add(time.Hour))
	requireField(t, err, "until")
	// A nanosecond ahead: the message shows the two instants apart
	// (review: both were printed to the second, alike).
	_, err = w.m.ProcessDue(w.ctx, w.clock.t.Add(time.Nanosecond))
	requireField(t, err, "until")
	require.Contains(t, err.Error(), w.clock.t.Add(time.Nanosecond).UTC().Format(time.RFC3339Nano))
	res, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Empty(t, res.Events, "nothing is due")
	_, err = w.try(w.actors["GA"], AdvanceTime{})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["GA"], RecordDelivery{})
	requireKind(t, err, ErrForbidden)
}

func TestDeliverPendingAfterCrash(t *testing.T) {
	w, fd := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	// Decide and append the approval without delivering, as if the
	// process died between the two appends.
	st := w.state()
	evs, err := Decide(st, w.actors["bob"], w.clock.t, SeededIDs(9), UpdateApprovalStage{ApprovalID: id,
		StageID: w.getRequest(id).Stages[0].ID, ReviewResult: DecisionApprove})
	require.NoError(t, err)
	require.Equal(t, EventAssignmentDelivering, evs[len(evs)-1].Type)
	var nes []eventstore.NewEvent
	for _, e := range evs {
		ne, err := e.encode(w.clock.t, eventstore.Metadata{ActorID: w.uid["bob"], ActorKind: string(ActorUser), CommandID: "crashed"})
		require.NoError(t, err)
		nes = append(nes, ne)
	}
	_, err = w.store.Append(w.ctx, eventstore.AnyCondition, nes...)
	require.NoError(t, err)
	require.Empty(t, fd.heldBy(w.uid["alice"]))
	res, err := w.m.DeliverPending(w.ctx)
	require.NoError(t, err)
	require.NotEmpty(t, res.Delivery)
	require.Equal(t, []string{w.id["RS-P1"]}, fd.heldBy(w.uid["alice"]))
	require.Equal(t, RequestStateDelivered, w.getRequest(id).State)
	requireSameState(t, w.state(), w.replayed())
}

func TestEveryEventTypeIsAudited(t *testing.T) {
	for _, typ := range EventTypes() {
		require.NotEmpty(t, ActivityName(typ), "event type %s has no activity name", typ)
	}
	for typ := range accessRegistry {
		require.Contains(t, EventTypes(), typ)
	}
}

// TestApprovalChecksTheTargetAgain (found by a review as a new user): what
// held when a request was made is checked again when it is approved and
// when its scheduled start comes. A target that since got a package the
// requested one lists as incompatible, was blocked by the directory or
// was deleted cannot be approved (ErrConflict, nothing appended); a
// scheduled request whose target got an incompatible package is canceled
// at its start.
func TestApprovalChecksTheTargetAgain(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	w.id["Pol3"] = w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "open P3")}).ID // P1 lists P3
	refused := func(who, id string) {
		t.Helper()
		head := w.m.Head()
		r := w.getRequest(id)
		_, err := w.try(w.actors[who], UpdateApprovalStage{ApprovalID: id, StageID: r.Stages[len(r.Stages)-1].ID,
			ReviewResult: DecisionApprove, Justification: "ok"})
		requireKind(t, err, ErrConflict)
		require.ErrorContains(t, err, "can no longer be approved")
		require.Equal(t, head, w.m.Head())
	}
	alice := w.request("alice", "P1", "PolA")
	w.request("alice", "P3", "Pol3")
	refused("bob", alice)
	erin := w.request("erin", "P1", "PolA")
	w.do(sys, BlockUser{UserID: w.uid["erin"]})
	refused("bob", erin)
	frank := w.request("frank", "P1", "PolA")
	w.do(sys, DeleteUser{UserID: w.uid["frank"]})
	refused("carol", frank)

	sched := requestPolicy(w.id["P1"], "scheduled")
	sched.RequestorSettings.AllowCustomAssignmentSchedule = true
	w.id["PolS"] = w.do(ga, CreateAssignmentPolicy{Policy: sched}).ID
	start := w.clock.t.Add(48 * time.Hour)
	later := w.do(w.actors["carol"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolS"], Schedule: EntitlementManagementSchedule{StartDateTime: start}}).ID
	w.request("carol", "P3", "Pol3")
	w.advance(72 * time.Hour)
	r := w.getRequest(later)
	require.Equal(t, RequestStateCanceled, r.State)
	require.Empty(t, r.AssignmentID)
	requireSameState(t, w.state(), w.replayed())
}

// TestTimeOutCountsWithoutProcessDue (found by a review as a new user): a
// request past its automatic denial, with no ProcessDue since, can no
// longer be canceled, and a new request of the same package records the
// escalation and the time-out first, as of when they fell due; a
// scheduled request whose start has come can no longer be canceled.
func TestTimeOutCountsWithoutProcessDue(t *testing.T) {
	w, _ := accessWorld(t)
	escalatingPolicy(w)
	id := w.request("erin", "P3", "PolE")
	opened := w.getRequest(id).Stages[0].OpenedDateTime
	w.clock.t = w.clock.t.Add(20 * 24 * time.Hour)
	head := w.m.Head()
	_, err := w.try(w.actors["erin"], CancelAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
	require.ErrorContains(t, err, RequestStatusTimedOut)
	require.Equal(t, head, w.m.Head())

	again := w.do(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id["P3"], AssignmentPolicyID: w.id["PolE"]})
	types := eventTypes(again)
	require.Equal(t, []string{EventApprovalStageEscalated, EventAssignmentRequestTimedOut}, types[:2])
	r := w.getRequest(id)
	require.Equal(t, RequestStatusTimedOut, r.Status)
	require.Equal(t, opened.Add(14*24*time.Hour), *r.CompletedDateTime, "timed out as of its due time")
	require.Equal(t, opened.Add(2*24*time.Hour), *r.Stages[0].EscalatedDateTime)

	sched := requestPolicy(w.id["P2"], "scheduled")
	sched.RequestorSettings.AllowCustomAssignmentSchedule = true
	w.id["PolS"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: sched}).ID
	start := w.clock.t.Add(24 * time.Hour)
	later := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["PolS"], Schedule: EntitlementManagementSchedule{StartDateTime: start}}).ID
	w.clock.t = start.Add(time.Hour)
	_, err = w.try(w.actors["alice"], CancelAssignmentRequest{RequestID: later})
	requireKind(t, err, ErrConflict)
	require.ErrorContains(t, err, RequestStateDelivering, "started as of its start, then refused")
	w.advance(0)
	require.Equal(t, RequestStateDelivered, w.getRequest(later).State)
	requireSameState(t, w.state(), w.replayed())
}

// TestApprovalAfterAnIncompatibleEnded (found by a code review): the
// incompatible package the target held has ended, unrecorded, when the
// request is approved: the expiry is recorded first, and the approval
// goes through, as it would had ProcessDue run.
func TestApprovalAfterAnIncompatibleEnded(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	short := requestPolicy(w.id["P3"], "one day")
	short.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(1)}
	w.id["Pol3"] = w.do(ga, CreateAssignmentPolicy{Policy: short}).ID // P1 lists P3 as incompatible
	alice := w.request("alice", "P1", "PolA")
	w.request("alice", "P3", "Pol3")
	w.clock.t = w.clock.t.Add(2 * 24 * time.Hour) // alice's P3 has ended, unrecorded
	w.approve("bob", alice)
	require.Equal(t, RequestStateDelivered, w.getRequest(alice).State)
	requireSameState(t, w.state(), w.replayed())
}

// TestApproverInformationNotVisible: a stage whose policy keeps its
// approvers from requestors hides who they are and who decided from the
// requestor's reads, not from the approvers' or the package's managers'
// (found by a review: the setting was validated and never acted on).
func TestApproverInformationNotVisible(t *testing.T) {
	w, _ := accessWorld(t)
	ga, alice := w.actors["GA"], w.actors["alice"]
	p := approvalPolicy(w.id["P3"], "hidden approvers", w.uid["bob"])
	p.RequestApprovalSettings.Stages[0].ApproverInformationVisibility = ApproverInformationNotVisible
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	id := w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"], AssignmentPolicyID: pol}).ID
	st := w.getRequest(id).Stages[0]
	require.NotEmpty(t, st.Approvers)
	var approver Actor
	for name, uid := range w.uid {
		if uid == st.Approvers[0] {
			approver = w.actors[name]
		}
	}
	w.do(approver, UpdateApprovalStage{ApprovalID: id, StageID: st.ID, ReviewResult: DecisionApprove, Justification: "fine"})

	s := w.state()
	mine := s.MyRequests(alice)
	got, err := s.GetAssignmentRequest(alice, id)
	require.NoError(t, err)
	for _, r := range []AssignmentRequest{mine[len(mine)-1], got} {
		require.Equal(t, id, r.ID)
		require.Empty(t, r.Stages[0].Approvers)
		require.Empty(t, r.Stages[0].ReviewedBy)
		require.Equal(t, "fine", r.Stages[0].Justification, "the decision stays")
		require.NotEmpty(t, r.Stages[0].ReviewResult)
		require.Empty(t, r.Policy.RequestApprovalSettings.Stages[0].PrimaryApprovers)
		require.Empty(t, r.Policy.RequestApprovalSettings.Stages[0].FallbackPrimaryApprovers)
	}
	for _, who := range []Actor{approver, ga} {
		r, err := s.GetAssignmentRequest(who, id)
		require.NoError(t, err)
		require.Equal(t, approver.ID, r.Stages[0].ReviewedBy)
		require.NotEmpty(t, r.Stages[0].Approvers)
		require.NotEmpty(t, r.Policy.RequestApprovalSettings.Stages[0].PrimaryApprovers)
	}
	require.Equal(t, approver.ID, w.getRequest(id).Stages[0].ReviewedBy, "the State keeps them")
}

// TestNotificationDisabled: the expiry notices of a policy that turns
// notifications off say so (found by a review: the setting was stored and
// never used).
func TestNotificationDisabled(t *testing.T) {
	w, _ := accessWorld(t)
	notice := func(pol string) *AssignmentNotice {
		t.Helper()
		start := w.clock.t
		id := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"], AssignmentPolicyID: pol}).ID
		asg := w.getRequest(id).AssignmentID
		w.clock.t = start.Add(20 * 24 * time.Hour)
		res, err := w.m.ProcessDue(w.ctx, w.clock.t)
		require.NoError(t, err)
		require.Equal(t, []string{EventAssignmentFourteenDaysBeforeExpiration}, eventTypes(res))
		de, err := DecodeEvent(res.Events[0])
		require.NoError(t, err)
		w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AccessPackageID: w.id["P3"], AssignmentID: asg})
		return de.Data.(*AssignmentNotice)
	}
	for _, disabled := range []bool{false, true} {
		p := requestPolicy(w.id["P3"], fmt.Sprint("notifications disabled ", disabled))
		p.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
		p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
		p.NotificationSettings.IsAssignmentNotificationDisabled = disabled
		n := notice(w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID)
		require.Equal(t, disabled, n.NotificationDisabled)
	}
}

// Deleting a policy or a package counts what is still live after what
// fell due is recorded: assignments past their end and requests past
// their automatic denial do not keep it, whenever ProcessDue last ran.
func TestDeleteAfterWorkFellDue(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	held := w.request("alice", "P1", "PolA")
	w.approve("bob", held)
	waiting := w.request("erin", "P1", "PolA")
	asg := w.getRequest(held).AssignmentID
	end, ok := w.getAssignment(asg).End()
	require.True(t, ok)
	denial := w.getRequest(waiting).Stages[0].OpenedDateTime.Add(14 * 24 * time.Hour)

	w.clock.t = end.Add(-time.Hour)
	_, err := w.try(ga, DeleteAssignmentPolicy{PolicyID: w.id["PolA"]})
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), "assignments that have not ended (1)")

	w.clock.t = end.Add(time.Hour)
	res := w.do(ga, DeleteAssignmentPolicy{PolicyID: w.id["PolA"]})
	var types []string
	for _, e := range res.Events {
		types = append(types, e.Type)
	}
	require.Equal(t, []string{EventAssignmentRequestTimedOut, EventAssignmentExpired, EventAssignmentPolicyDeleted}, types,
		"the time-out and the expiry, in the order they fell due, then the deletion")
	for i, want := range []time.Time{denial, end} {
		de, err := DecodeEvent(res.Events[i])
		require.NoError(t, err)
		require.Equal(t, want, ValidTime(de, res.Events[i].OccurredAt), "event %d is as of when it fell due", i)
	}
	for _, e := range res.Events[:2] {
		require.Equal(t, string(ActorSystem), e.Metadata.ActorKind)
	}
	require.Equal(t, RequestStatusTimedOut, w.getRequest(waiting).Status)
	require.Equal(t, AssignmentStateExpired, w.getAssignment(asg).State)
	w.do(ga, DeleteAccessPackage{AccessPackageID: w.id["P1"]})
}

// TestUpdateRequestBody (found by a review): an update acts on its
// assignment as it is. Its package and policy, if named, must be the
// assignment's; it cannot move the start; it asks again only the
// questions whose answers may be edited, and refuses new answers to the
// others.
func TestUpdateRequestBody(t *testing.T) {
	w, _ := accessWorld(t)
	alice := w.actors["alice"]
	pol := requestPolicy(w.id["P2"], "Asked")
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
	pol.RequestorSettings.AllowCustomAssignmentSchedule = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	pol.Questions = []Question{
		{Kind: TextInputQuestion, ID: "costCenter", Sequence: 1, IsRequired: true, Text: "Cost center?"},
		{Kind: TextInputQuestion, ID: "project", Sequence: 2, IsRequired: true, IsAnswerEditable: true, Text: "Project?"},
	}
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	add := w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: polID,
		Answers: []Answer{{QuestionID: "costCenter", Value: "CC-1"}, {QuestionID: "project", Value: "Apollo"}}}).ID
	asg := w.getRequest(add).AssignmentID
	require.NotEmpty(t, asg)
	update := func(mod func(*CreateAssignmentRequest)) CreateAssignmentRequest {
		c := CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg,
			Answers: []Answer{{QuestionID: "project", Value: "Gemini"}}}
		mod(&c)
		return c
	}

	_, err := w.try(alice, update(func(c *CreateAssignmentRequest) { c.Answers = nil }))
	requireKind(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "project", "an editable required question is asked again")
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) {
		c.Answers = append(c.Answers, Answer{QuestionID: "costCenter", Value: "CC-2"})
	}))
	requireField(t, err, "answers")
	require.Contains(t, err.Error(), "cannot be edited")
	// The same answer again is no edit (review: a client that sends every
	// answer back was refused).
	echoed := w.do(alice, update(func(c *CreateAssignmentRequest) {
		c.Answers = append(c.Answers, Answer{QuestionID: "costCenter", Value: "CC-1"})
	})).ID
	require.Equal(t, RequestStateDelivered, w.getRequest(echoed).State)
	// Errors name the answer by its place in the request (review: in a
	// filtered list), and a repeated answer is checked like any.
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) {
		c.Answers = []Answer{{QuestionID: "costCenter", Value: "CC-1"}, {QuestionID: "project", Value: "A"}, {QuestionID: "project", Value: "B"}}
	}))
	requireField(t, err, "answers[2].answeredQuestion.id")
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) {
		c.Answers = append(c.Answers, Answer{QuestionID: "costCenter", Value: "CC-1"}, Answer{QuestionID: "costCenter", Value: "CC-1"})
	}))
	requireKind(t, err, ErrInvalid)
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) {
		c.Schedule = EntitlementManagementSchedule{StartDateTime: w.clock.t.Add(10 * 24 * time.Hour),
			Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(20)}}
	}))
	requireField(t, err, "schedule.startDateTime")
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) { c.AccessPackageID = w.id["P1"] }))
	requireField(t, err, "assignment.accessPackageId")
	_, err = w.try(alice, update(func(c *CreateAssignmentRequest) { c.AssignmentPolicyID = w.id["Pol2"] }))
	requireField(t, err, "assignment.assignmentPolicyId")
	_, err = w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg, AccessPackageID: w.id["P1"]})
	requireField(t, err, "assignment.accessPackageId")

	ok := w.do(alice, update(func(c *CreateAssignmentRequest) {
		c.AccessPackageID, c.AssignmentPolicyID = w.id["P2"], polID
		c.Schedule = EntitlementManagementSchedule{StartDateTime: w.clock.t,
			Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(20)}}
	})).ID
	require.Equal(t, RequestStateDelivered, w.getRequest(ok).State)
	end, _ := w.getAssignment(asg).End()
	require.Equal(t, w.clock.t.Add(20*24*time.Hour), end)
}

// TestUpdateAfterAnUpdateTimedOut (found by a review): an update of an
// assignment whose earlier update timed out, unrecorded, records the
// time-out first and is decided, rather than refused for the open one.
func TestUpdateAfterAnUpdateTimedOut(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	w.approve("bob", id)
	asg := w.getRequest(id).AssignmentID
	first := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg}).ID
	require.Equal(t, RequestStatePendingApproval, w.getRequest(first).State)
	w.clock.t = w.clock.t.Add(15 * 24 * time.Hour) // the stage times out after 14 days
	res := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	require.Equal(t, EventAssignmentRequestTimedOut, res.Events[0].Type, "the time-out is recorded first")
	require.Equal(t, string(ActorSystem), res.Events[0].Metadata.ActorKind)
	require.Equal(t, RequestStatusTimedOut, w.getRequest(first).Status)
	require.Equal(t, RequestStatePendingApproval, w.getRequest(res.ID).State)
}
