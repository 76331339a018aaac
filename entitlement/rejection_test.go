package entitlement

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// One test per rejection case 9–25 of §8 of the domain specification. w.try
// checks that a refused command appended nothing.

func addReq(pkg, pol string) CreateAssignmentRequest {
	return CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol}
}

func TestRejection09_TargetScopePolicyPackageAdminRole(t *testing.T) {
	w, _ := accessWorld(t)
	// A guest is not in allMemberUsers.
	_, err := w.try(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["guest"]})
	requireKind(t, err, ErrForbidden)
	// Pol2 belongs to P2, not P1.
	_, err = w.try(w.actors["alice"], addReq(w.id["P1"], w.id["Pol2"]))
	requireField(t, err, "assignment.assignmentPolicyId")
	// A catalog reader may not assign directly.
	_, err = w.try(w.actors["reader"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["alice"]})
	requireKind(t, err, ErrForbidden)
	// An owner of another catalog neither.
	_, err = w.try(w.actors["otherOwner"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["alice"]})
	requireKind(t, err, ErrForbidden)
	// A user may not make a userAdd for somebody else.
	_, err = w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["erin"]})
	requireKind(t, err, ErrForbidden)
}

func TestRejection10_IncompatiblePackageOrGroup(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	// P1 is incompatible with P3 and with group GX (adminWorld).
	pol3 := w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "P3 open")}).ID
	w.do(w.actors["alice"], addReq(w.id["P3"], pol3))
	_, err := w.try(w.actors["alice"], addReq(w.id["P1"], w.id["PolA"]))
	requireKind(t, err, ErrConflict)
	_, err = w.try(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["alice"]})
	requireKind(t, err, ErrConflict)
	w.do(sys, AddGroupMember{GroupID: w.id["GX"], MemberID: w.uid["erin"]})
	_, err = w.try(w.actors["erin"], addReq(w.id["P1"], w.id["PolA"]))
	requireKind(t, err, ErrConflict)
	// The link is directional: holding P1 does not block P3.
	id := w.request("frank", "P1", "PolA")
	w.approve("carol", id)
	w.do(w.actors["frank"], addReq(w.id["P3"], pol3))
}

func TestRejection11_CustomScheduleByPolicy(t *testing.T) {
	w, _ := accessWorld(t)
	cmd := addReq(w.id["P2"], w.id["Pol2"])
	cmd.Schedule = EntitlementManagementSchedule{StartDateTime: w.clock.t.Add(time.Hour)}
	_, err := w.try(w.actors["alice"], cmd)
	requireField(t, err, "schedule")
	require.Contains(t, err.Error(), "Custom assignment schedule is prevented by policy")
}

func TestRejection12_ExtensionBeyondPolicyOrOutOfScope(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := requestPolicy(w.id["P3"], "G2 members, custom")
	pol.AllowedTargetScope = ScopeSpecificDirectoryUsers
	pol.SpecificAllowedTargets = []SubjectSet{{Kind: GroupMembers, GroupID: w.id["G2"]}}
	pol.RequestorSettings.AllowCustomAssignmentSchedule = true
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	w.do(sys, AddGroupMember{GroupID: w.id["G2"], MemberID: w.uid["alice"]})
	id := w.do(w.actors["alice"], addReq(w.id["P3"], polID)).ID
	asg := w.getRequest(id).AssignmentID
	ext := CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg,
		Schedule: EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationAfterDateTime,
			EndDateTime: w.clock.t.Add(60 * 24 * time.Hour)}}}
	_, err := w.try(w.actors["alice"], ext)
	requireField(t, err, "schedule.expiration")
	w.do(sys, RemoveGroupMember{GroupID: w.id["G2"], MemberID: w.uid["alice"]})
	ext.Schedule = EntitlementManagementSchedule{}
	_, err = w.try(w.actors["alice"], ext)
	requireKind(t, err, ErrForbidden)
}

func TestRejection13_AnswersAndJustification(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := requestPolicy(w.id["P3"], "questions")
	pol.RequestApprovalSettings.IsRequestorJustificationRequired = true
	pol.Questions = []Question{
		{Kind: TextInputQuestion, ID: nameID("q/1"), Sequence: 1, IsRequired: true, Text: "Employee number", IsSingleLineQuestion: true, RegexPattern: `[0-9]{4}`},
		{Kind: MultipleChoiceQuestion, ID: nameID("q/2"), Sequence: 2, Text: "Site", Choices: []AnswerChoice{{ActualValue: "hq", Text: "HQ"}}},
	}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	cmd := addReq(w.id["P3"], polID)
	cmd.Justification = "work"
	_, err := w.try(w.actors["alice"], cmd)
	requireField(t, err, "answers")
	cmd.Answers = []Answer{{QuestionID: nameID("q/1"), Value: "12a4"}}
	_, err = w.try(w.actors["alice"], cmd)
	requireField(t, err, "answers[0].value")
	cmd.Answers = []Answer{{QuestionID: nameID("q/1"), Value: "1234"}, {QuestionID: nameID("q/2"), Value: "branch"}}
	_, err = w.try(w.actors["alice"], cmd)
	requireField(t, err, "answers[1].value")
	cmd.Answers = cmd.Answers[:1]
	cmd.Justification = " "
	_, err = w.try(w.actors["alice"], cmd)
	requireField(t, err, "justification")
	cmd.Justification = "work"
	w.do(w.actors["alice"], cmd)
}

func TestRejection14_BlockedOrMissingRequestor(t *testing.T) {
	w, _ := accessWorld(t)
	w.do(sys, BlockUser{UserID: w.uid["alice"]})
	_, err := w.try(w.actors["alice"], addReq(w.id["P2"], w.id["Pol2"]))
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["alice"]})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["Pol2"], TargetID: nameID("user/nobody")})
	requireKind(t, err, ErrNotFound)
}

func TestRejection15_SelfRequestFlagDisabled(t *testing.T) {
	w, _ := accessWorld(t)
	// Pol1 (adminWorld) allows only self-add.
	id := w.do(w.actors["alice"], addReq(w.id["P1"], w.id["Pol1"])).ID
	asg := w.getRequest(id).AssignmentID
	_, err := w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["erin"], CreateAssignmentRequest{RequestType: RequestTypeOnBehalfAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["Pol1"], TargetID: w.uid["frank"]})
	requireKind(t, err, ErrForbidden)
}

func TestRejection16_DuplicateRequestOrAssignment(t *testing.T) {
	w, _ := accessWorld(t)
	w.request("alice", "P1", "PolA")
	_, err := w.try(w.actors["alice"], addReq(w.id["P1"], w.id["Pol1"]))
	requireKind(t, err, ErrConflict)
	w.request("alice", "P2", "Pol2")
	_, err = w.try(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["alice"]})
	requireKind(t, err, ErrConflict)
}

func TestRejection17_CancelNotCancellable(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P2", "Pol2")
	_, err := w.try(w.actors["alice"], CancelAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
	id2 := w.request("alice", "P1", "PolA")
	_, err = w.try(w.actors["appReadWrite"], CancelAssignmentRequest{RequestID: id2})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["erin"], CancelAssignmentRequest{RequestID: id2})
	requireKind(t, err, ErrForbidden)
}

func TestRejection18_ReprocessRequest(t *testing.T) {
	w, fd := accessWorld(t)
	id := w.request("alice", "P2", "Pol2")
	_, err := w.try(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
	fd.failOn[w.id["G3"]] = true
	id2 := w.request("erin", "P2", "Pol2")
	w.clock.t = w.clock.t.Add(ReprocessWindow + time.Minute)
	_, err = w.try(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id2})
	requireKind(t, err, ErrConflict)
	_, err = w.try(w.actors["GA"], ReprocessAssignmentRequest{RequestID: nameID("missing")})
	requireKind(t, err, ErrNotFound)
}

func TestRejection19_ReprocessAssignment(t *testing.T) {
	w, fd := accessWorld(t)
	fd.failOn[w.id["G3"]] = true
	id := w.request("alice", "P2", "Pol2")
	asg := w.getRequest(id).AssignmentID
	_, err := w.try(w.actors["GA"], ReprocessAssignment{AssignmentID: asg})
	requireKind(t, err, ErrConflict)
	fd.failOn[w.id["G3"]] = false
	w.do(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id})
	_, err = w.try(w.actors["reader"], ReprocessAssignment{AssignmentID: asg})
	requireKind(t, err, ErrForbidden)
	w.do(w.actors["apAssignmentManager"], ReprocessAssignment{AssignmentID: asg})
}

// TestReprocessAfterDelivery: a grant that fails after the request was
// delivered (a reprocess, or a role scope added to the package) leaves the
// assignment partiallyDelivered or deliveryFailed with its request
// delivered, terminal; the assignment's own reprocess retries it (found by
// a review: neither reprocess was accepted).
func TestReprocessAfterDelivery(t *testing.T) {
	t.Run("reprocess", func(t *testing.T) {
		w, fd := accessWorld(t)
		id := w.request("alice", "P2", "Pol2")
		asg := w.getRequest(id).AssignmentID
		fd.failOn[w.id["G3"]] = true
		w.do(w.actors["GA"], ReprocessAssignment{AssignmentID: asg})
		require.Equal(t, AssignmentStateDeliveryFailed, w.getAssignment(asg).State)
		require.Equal(t, RequestStateDelivered, w.getRequest(id).State)
		_, err := w.try(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id})
		requireKind(t, err, ErrConflict)
		fd.failOn[w.id["G3"]] = false
		w.do(w.actors["apAssignmentManager"], ReprocessAssignment{AssignmentID: asg})
		require.Equal(t, AssignmentStateDelivered, w.getAssignment(asg).State)
	})
	t.Run("role scope added", func(t *testing.T) {
		w, fd := accessWorld(t)
		ga := w.actors["GA"]
		id := w.request("alice", "P2", "Pol2")
		asg := w.getRequest(id).AssignmentID
		fd.failOn[w.id["G1"]] = true
		res := w.resourceByOrigin(w.id["C"], w.id["G1"])
		w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: res.Roles[0].ID, ScopeID: res.Scopes[0].ID})
		require.Equal(t, AssignmentStatePartiallyDelivered, w.getAssignment(asg).State)
		fd.failOn[w.id["G1"]] = false
		w.do(ga, ReprocessAssignment{AssignmentID: asg})
		require.Equal(t, AssignmentStateDelivered, w.getAssignment(asg).State)
		require.Len(t, fd.heldBy(w.uid["alice"]), 2)
	})
}

// TestRejection20_ResumeNotAvailable: resume answers a custom extension's
// callout, and custom extensions are not supported yet: a policy that
// names any is refused, so no request ever waits for a callback, and
// there is no resume to refuse.
func TestRejection20_ResumeNotAvailable(t *testing.T) {
	_, err := DecodeAssignmentPolicy([]byte(`{"displayName":"p","allowedTargetScope":"allMemberUsers",` +
		`"customExtensionStageSettings":[{"stage":"assignmentRequestCreated","customExtension":{"id":"x"}}]}`))
	var ie *InvalidError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "customExtensionStageSettings", ie.Field)
	require.Contains(t, ie.Reason, "not supported yet")
}

func TestRejection21_NonApproverOrOwnRequest(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	id := w.request("alice", "P1", "PolA")
	st := w.getRequest(id).Stages[0].ID
	for _, who := range []string{"erin", "GA", "owner"} {
		_, err := w.try(w.actors[who], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove})
		requireKind(t, err, ErrForbidden)
	}
	_, err := w.try(w.actors["appReadWrite"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrForbidden)
	// bob asks for himself through a policy where he is the approver.
	pol := approvalPolicy(w.id["P3"], "bob approves", w.uid["bob"])
	pol.RequestApprovalSettings.Stages[0].PrimaryApprovers = []SubjectSet{{Kind: SingleUser, UserID: w.uid["bob"]}, {Kind: SingleUser, UserID: w.uid["carol"]}}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	own := w.do(w.actors["bob"], addReq(w.id["P3"], polID)).ID
	r := w.getRequest(own)
	require.Equal(t, []string{w.uid["carol"]}, r.Stages[0].Approvers)
	_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: own, StageID: r.Stages[0].ID, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrForbidden)
	for _, pa := range w.state().ApprovalsForApprover(w.actors["bob"]) {
		require.NotEqual(t, own, pa.Request.ID)
	}
}

func TestRejection22_SecondDecision(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := approvalPolicy(w.id["P3"], "two approvers", w.uid["carol"])
	pol.RequestApprovalSettings.Stages[0].PrimaryApprovers = []SubjectSet{{Kind: SingleUser, UserID: w.uid["bob"]}, {Kind: SingleUser, UserID: w.uid["carol"]}}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	id := w.do(w.actors["alice"], addReq(w.id["P3"], polID)).ID
	st := w.getRequest(id).Stages[0].ID
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionDeny})
	_, err := w.try(w.actors["carol"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
	_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
}

func TestRejection23_BadApprovalOrStageID(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	_, err := w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: nameID("nope"), StageID: nameID("nope"), ReviewResult: DecisionApprove})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: nameID("nope"), ReviewResult: DecisionApprove})
	requireKind(t, err, ErrNotFound)
}

func TestRejection24_ApproverJustificationRequired(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := approvalPolicy(w.id["P3"], "justify", w.uid["carol"])
	pol.RequestApprovalSettings.Stages[0].IsApproverJustificationRequired = true
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	id := w.do(w.actors["alice"], addReq(w.id["P3"], polID)).ID
	st := w.getRequest(id).Stages[0].ID
	_, err := w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove})
	requireField(t, err, "justification")
	// Graph's callers write Approve or Deny; the stage's own values
	// (Approved, Denied) are what it records, not what it accepts.
	for _, r := range []string{"Maybe", ReviewApproved, ReviewDenied, "approve"} {
		_, err = w.try(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: r, Justification: "x"})
		requireField(t, err, "reviewResult")
	}
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: id, StageID: st, ReviewResult: DecisionApprove, Justification: "needed"})
}

func TestRejection25_DeleteInProgressOrAssigned(t *testing.T) {
	w, _ := accessWorld(t)
	id := w.request("alice", "P1", "PolA")
	_, err := w.try(w.actors["GA"], DeleteAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
	w.approve("bob", id)
	_, err = w.try(w.actors["GA"], DeleteAssignmentRequest{RequestID: id})
	requireKind(t, err, ErrConflict)
	// An update, and a removal, linked to the assignment they acted on
	// (found by a review: a delivered update request was deleted).
	add := w.request("alice", "P2", "Pol2")
	asg := w.getRequest(add).AssignmentID
	w.clock.t = w.clock.t.Add(time.Hour)
	upd := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg}).ID
	require.Equal(t, RequestStateDelivered, w.getRequest(upd).State)
	_, err = w.try(w.actors["GA"], DeleteAssignmentRequest{RequestID: upd})
	requireKind(t, err, ErrConflict)
	rm := w.do(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: asg}).ID
	_, err = w.try(w.actors["GA"], DeleteAssignmentRequest{RequestID: rm})
	requireKind(t, err, ErrConflict)
	// A denied update never acted on its assignment, and goes.
	update := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: w.getRequest(id).AssignmentID}).ID
	require.Equal(t, RequestStatePendingApproval, w.getRequest(update).State)
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: update, StageID: w.getRequest(update).Stages[0].ID,
		ReviewResult: DecisionDeny, Justification: "no"})
	w.do(w.actors["GA"], DeleteAssignmentRequest{RequestID: update})
	// A denied request has none, and goes.
	denied := w.request("erin", "P1", "PolA")
	w.do(w.actors["bob"], UpdateApprovalStage{ApprovalID: denied, StageID: w.getRequest(denied).Stages[0].ID,
		ReviewResult: DecisionDeny, Justification: "no"})
	w.do(w.actors["GA"], DeleteAssignmentRequest{RequestID: denied})
}

// TestRequestLimit: at the tenant's limit of requests within 3 months, a
// request that gives or extends access is refused with ErrLimit, and a
// removal is not, so that access can always be taken away (found by a
// review: only adds were counted).
func TestRequestLimit(t *testing.T) {
	w, _ := accessWorld(t)
	asg := w.getRequest(w.request("alice", "P2", "Pol2")).AssignmentID
	s := w.state().Clone()
	now := w.clock.t.Add(time.Hour)
	done := now.Add(-time.Hour)
	for i := range MaxRequestsPerThreeMonths {
		s.putRequest(&AssignmentRequest{ID: nameID(fmt.Sprintf("filler/%d", i)), RequestType: RequestTypeUserAdd,
			State: RequestStateCanceled, Status: RequestStatusCanceled, CreatedDateTime: now.Add(-2 * time.Hour), CompletedDateTime: &done,
			AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["frank"], RequestorID: w.uid["frank"]})
	}
	_, err := Decide(s, w.actors["erin"], now, SeededIDs(77), addReq(w.id["P2"], w.id["Pol2"]))
	requireKind(t, err, ErrLimit)
	_, err = Decide(s, w.actors["alice"], now, SeededIDs(78), CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
	requireKind(t, err, ErrLimit)
	_, err = Decide(s, w.actors["alice"], now, SeededIDs(79), CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg})
	require.NoError(t, err)
	// An administrator's update that only brings the end forward (what a
	// leaver's workflow makes) is not refused either; a user's is (found by
	// a review: a user could go past the limit a nanosecond at a time).
	pol, _ := s.policies.Get(w.id["Pol2"])
	custom := pol.Policy
	custom.RequestorSettings.AllowCustomAssignmentSchedule = true
	evs, err := Decide(s, w.actors["GA"], now, SeededIDs(80), ReplaceAssignmentPolicy{PolicyID: custom.ID, Policy: custom})
	require.NoError(t, err)
	for _, e := range evs {
		require.NoError(t, s.Apply(e))
	}
	sooner := EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: now.Add(24 * time.Hour)}}
	_, err = Decide(s, w.actors["alice"], now, SeededIDs(81), CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg, Schedule: sooner})
	requireKind(t, err, ErrLimit)
	_, err = Decide(s, w.actors["GA"], now, SeededIDs(82), CreateAssignmentRequest{RequestType: RequestTypeAdminUpdate, AssignmentID: asg, Schedule: sooner})
	require.NoError(t, err)
}

// TestUpdateOnlyDelivered: an update (extension) of an assignment whose
// delivery failed is refused; it is reprocessed first (§2.2; found by a
// review: it was accepted).
func TestUpdateOnlyDelivered(t *testing.T) {
	w, fd := accessWorld(t)
	fd.failOn[w.id["G3"]] = true
	id := w.request("alice", "P2", "Pol2")
	asg := w.getRequest(id).AssignmentID
	require.Equal(t, AssignmentStateDeliveryFailed, w.getAssignment(asg).State)
	w.clock.t = w.clock.t.Add(time.Hour)
	update := CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg}
	_, err := w.try(w.actors["alice"], update)
	requireKind(t, err, ErrConflict)
	fd.failOn[w.id["G3"]] = false
	w.do(w.actors["GA"], ReprocessAssignmentRequest{RequestID: id})
	w.do(w.actors["alice"], update)
}
