package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Found by a review as a new user (1 Dec 2026): work that fell due, not
// yet recorded because ProcessDue ran late, changed the outcome of later
// commands, or was decided on the state as the later command left it. Every
// command now records what fell due by its time first. Each test plays the
// late case and expects what ProcessDue run on time gives.

// TestLateEscalationResolvesItsApproversAsWhenDue: a stage's escalation
// falls due, then the requestor's second-level manager changes before
// ProcessDue runs: the change records the escalation first, with the
// approvers of then. The change may come at the very instant the
// escalation falls due: what falls due at a command's time is recorded
// before it too.
func TestLateEscalationResolvesItsApproversAsWhenDue(t *testing.T) {
	for _, late := range []time.Duration{0, 24 * time.Hour} {
		w, _ := accessWorld(t)
		escalatingPolicy(w) // escalation after 2 days to the requestor's second-level manager
		id := w.request("alice", "P3", "PolE")
		w.clock.t = w.clock.t.Add(2*24*time.Hour + late)
		res := w.do(sys, SetManager{UserID: w.uid["bob"], ManagerID: w.uid["frank"]})
		require.Equal(t, EventApprovalStageEscalated, res.Events[0].Type, "the escalation due is recorded first (%v late)", late)
		require.Equal(t, []string{w.uid["carol"]}, w.getRequest(id).Stages[0].EscalationApprovers, "alice's second-level manager when it fell due")
		requireSameState(t, w.state(), w.replayed())
	}
}

// TestLateAutomaticRemovalFreesThePackage: an automatic assignment whose
// grace period ended, unrecorded, no longer keeps its user from asking for
// the package through another policy.
func TestLateAutomaticRemovalFreesThePackage(t *testing.T) {
	w, _ := autoWorld(t)
	w.do(w.actors["IGA"], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], DurationDays(7))})
	self := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "Self")}).ID
	auto := w.autoHolderByID(w.uid["alice"], w.id["P3"])
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	left := w.clock.t
	w.clock.t = w.clock.t.Add(10 * 24 * time.Hour)
	w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"], AssignmentPolicyID: self})
	ended := w.getAssignment(auto.ID)
	require.Equal(t, AssignmentStateExpired, ended.State)
	require.Equal(t, left.AddDate(0, 0, 7), *ended.ExpiredDateTime, "removed as of the end of the grace period")
	requireSameState(t, w.state(), w.replayed())
}

// TestLateWorkflowRunHoldsItsPolicy: a joiner's run that fell due assigns
// through its policy before anyone may delete the policy, as it would
// have on time: the deletion is refused, and the run is recorded as of
// its instant.
func TestLateWorkflowRunHoldsItsPolicy(t *testing.T) {
	w, joiner, dan, hire := danJoiningTomorrow(t)
	w.clock.t = hire.Add(24 * time.Hour)
	head := w.head()
	del := DeleteAssignmentPolicy{PolicyID: w.id["Direct"]}
	_, err := w.try(w.actors["IGA"], del)
	requireKind(t, err, ErrConflict)
	require.Equal(t, head, w.head(), "a refusal appends nothing, the run included")
	evs, err := Decide(w.state(), w.actors["IGA"], w.clock.t, SeededIDs(9), del)
	requireKind(t, err, ErrConflict)
	require.Empty(t, evs, "nor does Decide give the run's events with the refusal")
	w.advance(0)
	runs := w.results(joiner)
	require.Len(t, runs, 1)
	require.Equal(t, hire, runs[0].StartedDateTime)
	require.Equal(t, ProcessingCompleted, runs[0].ProcessingStatus)
	require.NotNil(t, w.autoHolderByID(dan, w.id["Sales tools"]))
}

// TestLateReviewDenialEndsTheExtension: a review's denial takes effect at
// the review's end; an extension asked before it and approved after it,
// with no ProcessDue between, can no longer be approved.
func TestLateReviewDenialEndsTheExtension(t *testing.T) {
	w, _ := accessWorld(t)
	pol := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(90)}
	pol.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForUpdate: true, Stages: []ApprovalStage{{
		DurationBeforeAutomaticDenial: DurationDays(14), PrimaryApprovers: []SubjectSet{{Kind: SingleUser, UserID: w.uid["carol"]}}}}}
	w.id["Rev"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	asg := w.getRequest(w.request("alice", "P2", "Rev")).AssignmentID
	w.advance(25 * time.Hour) // the review starts: bob, alice's manager, reviews
	review := w.reviews(w.id["Rev"])[0]
	w.do(w.actors["bob"], RecordReviewDecision{AccessReviewID: review.ID, AssignmentID: asg, Decision: ReviewDecisionDeny, Justification: "left the team"})
	ext := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg}).ID
	w.clock.t = w.clock.t.Add(6 * 24 * time.Hour) // past the review's end, not processed
	_, err := w.try(w.actors["carol"], UpdateApprovalStage{ApprovalID: ext, StageID: w.getRequest(ext).Stages[0].ID, ReviewResult: DecisionApprove})
	requireKind(t, err, ErrConflict)
	w.advance(0)
	a := w.getAssignment(asg)
	require.Equal(t, AssignmentStateExpired, a.State)
	require.Equal(t, review.EndDateTime, *a.ExpiredDateTime, "removed as of the review's end")
	require.Equal(t, RequestStateCanceled, w.getRequest(ext).State)
	require.Nil(t, a.ExtendedDateTime)
}

// TestRecordDeliveryRecordsNoDueWork: the system's recording of delivery
// outcomes finishes work already decided, and is the one command besides
// AdvanceTime that does not record the work that fell due before it.
func TestRecordDeliveryRecordsNoDueWork(t *testing.T) {
	w, _ := accessWorld(t)
	escalatingPolicy(w)
	w.request("alice", "P3", "PolE")
	later := w.clock.t.Add(3 * 24 * time.Hour) // the escalation fell due
	evs, err := Decide(w.state(), SystemActor(), later, SeededIDs(9), RecordDelivery{})
	require.NoError(t, err)
	require.Empty(t, evs)
	evs, err = Decide(w.state(), SystemActor(), later, SeededIDs(9), AdvanceTime{})
	require.NoError(t, err)
	require.NotEmpty(t, evs, "the escalation is due")
}

// TestRepeatOfACommandThatRecordedDueWork: a command repeated with its
// command id answers with the id of its own object, not that of the due
// work it recorded first (an expiry, here; found while reviewing the
// change that records due work first).
func TestRepeatOfACommandThatRecordedDueWork(t *testing.T) {
	w, _ := accessWorld(t)
	w.request("alice", "P2", "Pol2")
	w.clock.t = w.clock.t.Add(31 * 24 * time.Hour) // her assignment ended, unrecorded
	catalog := func() Result {
		res, err := w.m.Execute(w.ctx, w.actors["GA"], CreateCatalog{DisplayName: "Later"}, WithCommandID("later"))
		require.NoError(t, err)
		return res
	}
	first := catalog()
	require.Equal(t, EventAssignmentExpired, first.Events[0].Type, "the expiry is recorded first")
	again := catalog()
	require.True(t, again.Duplicate)
	require.Equal(t, first.ID, again.ID)
	_, err := w.state().GetCatalog(w.actors["GA"], again.ID)
	require.NoError(t, err)
}
