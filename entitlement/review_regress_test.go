package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Found by a review of access reviews: replacing a policy while one of
// its reviews was open (a new schedule, or the same moved) started a
// second review of the same assignments before the first closed. One
// review of a policy is open at a time: the next starts once the open
// one has closed, or once it is stopped.
func TestOneReviewOpenAcrossAnEdit(t *testing.T) {
	w, pol, first := reviewRescheduledWhileOpen(t)
	ga := w.actors["GA"]
	open := func() (n int) {
		for _, r := range w.reviews(pol) {
			if r.Status == ReviewStatusInProgress {
				n++
			}
		}
		return n
	}
	for range 8 {
		w.advance(12 * time.Hour)
		require.LessOrEqual(t, open(), 1, "%+v", w.reviews(pol))
	}
	revs := w.reviews(pol)
	require.Greater(t, len(revs), 1, "the new schedule's reviews start once the first closed")
	for _, r := range revs {
		if r.ID != first.ID {
			require.False(t, r.StartDateTime.Before(first.EndDateTime), "%+v starts before %+v ends", r, first)
		}
	}

	// Stopped, an open review no longer holds the next back.
	w.advance(2 * time.Hour)
	last := w.reviews(pol)[len(w.reviews(pol))-1]
	if last.Status == ReviewStatusInProgress {
		w.do(ga, StopAccessReview{AccessReviewID: last.ID})
	}
	n := len(w.reviews(pol))
	w.advance(24 * time.Hour)
	require.Greater(t, len(w.reviews(pol)), n)
	requireSameState(t, w.state(), w.replayed())
}

// Found by a review of requests and approvals: a non-editable answer to a
// multiple-choice question could be changed by an update that gave the
// add's value and another; only the first value was compared.
func TestNonEditableMultipleChoiceAnswer(t *testing.T) {
	w, _ := accessWorld(t)
	alice := w.actors["alice"]
	pol := requestPolicy(w.id["P2"], "Asked")
	pol.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	pol.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	pol.Questions = []Question{{Kind: MultipleChoiceQuestion, ID: "sites", Sequence: 1, IsRequired: true, Text: "Sites?",
		IsMultipleSelectionAllowed: true, Choices: []AnswerChoice{{ActualValue: "A"}, {ActualValue: "B"}, {ActualValue: "C"}}}}
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: pol}).ID
	add := w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: polID,
		Answers: []Answer{{QuestionID: "sites", Value: "A"}, {QuestionID: "sites", Value: "B"}}}).ID
	asg := w.getRequest(add).AssignmentID
	require.NotEmpty(t, asg)
	for _, again := range [][]string{{"A", "B", "C"}, {"A"}, {"B", "C"}} {
		var answers []Answer
		for _, v := range again {
			answers = append(answers, Answer{QuestionID: "sites", Value: v})
		}
		_, err := w.try(alice, CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg, Answers: answers})
		requireField(t, err, "answers")
	}
	w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg,
		Answers: []Answer{{QuestionID: "sites", Value: "B"}, {QuestionID: "sites", Value: "A"}}})
	// Left out, the add's answer stands (found by a mutation review).
	w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserUpdate, AssignmentID: asg})
}

// Found by a review of requests and approvals: primary approvers that
// resolved to applications only (a group whose one member is an app) made
// a stage nobody could decide, its fallback unused: approval decisions
// are made by users. Such a set is none, and the fallback applies.
func TestApproversAreUsers(t *testing.T) {
	w, _ := accessWorld(t)
	g := w.group("App approvers")
	w.do(sys, AddGroupMember{GroupID: g, MemberID: w.uid["appRead"]})
	p := requestPolicy(w.id["P2"], "Apps approve")
	p.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []ApprovalStage{{
		DurationBeforeAutomaticDenial: DurationDays(14),
		PrimaryApprovers:              []SubjectSet{{Kind: GroupMembers, GroupID: g}},
		FallbackPrimaryApprovers:      []SubjectSet{{Kind: SingleUser, UserID: w.uid["sponsor"]}}}}}
	w.id["Apps"] = w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
	id := w.request("alice", "P2", "Apps")
	r := w.getRequest(id)
	require.True(t, r.Stages[0].FallbackUsed)
	require.Equal(t, []string{w.uid["sponsor"]}, r.Stages[0].Approvers)
	w.approve("sponsor", id)
}

// Found by a review of lifecycle workflows: a joiner run and a leaver run
// of one user, both recorded by one late ProcessDue, ran back to back:
// the joiner's assignment was still being delivered, the leaver's removal
// of it failed, and the user kept the package. A run now waits for the
// deliveries of its user's assignments, as it would have had ProcessDue
// come on time; it keeps its instant.
func TestLeaverAfterJoinerRecordedLate(t *testing.T) {
	for _, late := range []bool{false, true} {
		w, fd := workflowWorld(t)
		lcw := w.actors["lcw"]
		pkg := w.id["Sales tools"]
		joiner := w.do(lcw, CreateWorkflow{Workflow: joinerWorkflow(pkg, w.id["Direct"], 0)}).ID
		leaver := w.do(lcw, CreateWorkflow{Workflow: leaverWorkflow(pkg)}).ID
		hire, leave := w.clock.t.Add(24*time.Hour), w.clock.t.Add(48*time.Hour)
		dan := nameID("user/dan")
		w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", Department: "Sales", AccountEnabled: true, UserType: UserTypeMember,
			EmployeeHireDate: &hire, EmployeeLeaveDateTime: &leave}})
		if late {
			w.advance(72 * time.Hour)
		} else {
			w.advance(25 * time.Hour)
			w.advance(47 * time.Hour)
		}
		jr, lr := w.results(joiner), w.results(leaver)
		require.Len(t, jr, 1, "late: %v", late)
		require.Len(t, lr, 1, "late: %v", late)
		require.Equal(t, ProcessingCompleted, lr[0].ProcessingStatus, "late: %v: %+v", late, lr[0].TaskProcessingResults)
		require.Equal(t, leave, lr[0].TaskProcessingResults[0].StartedDateTime, "late: %v: the run keeps its instant", late)
		var live bool
		w.m.Read(func(s *State) { _, live = s.liveAssignmentOf(dan, pkg) })
		require.False(t, live, "late: %v: the leaver removed the package", late)
		require.Empty(t, fd.heldBy(dan), "late: %v", late)
		requireSameState(t, w.state(), w.replayed())
	}
}

// Found by a review of lifecycle workflows: a new version that moved the
// trigger's instant canceled the scheduled run as "employeeLeaveDateTime
// changed", though the user's date had not.
func TestRunCanceledByANewVersionSaysSo(t *testing.T) {
	w, _ := workflowWorld(t)
	lcw := w.actors["lcw"]
	pkg := w.id["Sales tools"]
	id := w.do(lcw, CreateWorkflow{Workflow: leaverWorkflow(pkg)}).ID
	leave := w.clock.t.Add(10 * 24 * time.Hour)
	dan := nameID("user/dan")
	w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", AccountEnabled: true, EmployeeLeaveDateTime: &leave}})
	v2 := leaverWorkflow(pkg)
	v2.ExecutionConditions.Trigger.OffsetInDays = -2
	reasons := func(r Result) (out []string) {
		for _, e := range r.Events {
			if de, err := DecodeEvent(e); err == nil {
				if c, ok := de.Data.(*WorkflowRunCanceled); ok {
					out = append(out, c.Reason)
				}
			}
		}
		return out
	}
	require.Equal(t, []string{"the workflow's new version moves its trigger's instant"},
		reasons(w.do(lcw, CreateWorkflowVersion{WorkflowID: id, Workflow: v2})))
	later := leave.Add(24 * time.Hour)
	require.Equal(t, []string{"employeeLeaveDateTime changed"},
		reasons(w.do(sys, SetUserAttribute{UserID: dan, Name: "employeeLeaveDateTime", Value: later.Format(time.RFC3339)})))
}

// Found by a review of lifecycle workflows: a groupBasedSubjectSet scope
// was read as an empty rule and refused as one.
func TestGroupBasedScopeIsNotSupportedYet(t *testing.T) {
	w, _ := workflowWorld(t)
	x := leaverWorkflow(w.id["Sales tools"])
	x.ExecutionConditions.Scope = &RuleBasedSubjectSet{ODataType: "#microsoft.graph.identityGovernance.groupBasedSubjectSet"}
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: x})
	requireField(t, err, "executionConditions.scope.@odata.type")
	x.ExecutionConditions.Scope = &RuleBasedSubjectSet{ODataType: ScopeRuleBased, Rule: `(user.userType -eq "Member")`}
	w.do(w.actors["lcw"], CreateWorkflow{Workflow: x})
}

// reviewRescheduledWhileOpen has a policy's weekly review of alice open
// for a day, then replaces the policy with a daily schedule, each review
// open 12 hours, starting an hour later. It returns the policy and the
// open review.
func reviewRescheduledWhileOpen(t *testing.T) (*world, string, AccessReview) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.advance(25 * time.Hour)
	first := w.reviews(pol)[0]
	require.Equal(t, ReviewStatusInProgress, first.Status)
	p.ReviewSettings.Schedule.StartDateTime = w.clock.t.Add(time.Hour)
	p.ReviewSettings.Schedule.Recurrence = PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceDaily, Interval: 1}}
	p.ReviewSettings.Schedule.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: MustParseDuration("PT12H")}
	w.do(ga, ReplaceAssignmentPolicy{PolicyID: pol, Policy: p})
	return w, pol, first
}

// Found by a mutation review: a review stopped early frees the next at
// the first occurrence after the stop, not after its planned end; one
// stopped at its very start, at the following occurrence.
func TestStoppedReviewFreesNextEarly(t *testing.T) {
	w, pol, first := reviewRescheduledWhileOpen(t)
	ga := w.actors["GA"]
	w.do(ga, StopAccessReview{AccessReviewID: first.ID})
	stopAt := w.clock.t
	w.advance(2 * time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 2, "the next starts an hour after the stop: %+v", revs)
	require.Equal(t, stopAt.Add(time.Hour), revs[1].StartDateTime)

	// Stopped at its very start: the next is the following occurrence.
	w.advance(23 * time.Hour) // exactly the third occurrence
	revs = w.reviews(pol)
	require.Len(t, revs, 3)
	require.Equal(t, w.clock.t, revs[2].StartDateTime)
	w.do(ga, StopAccessReview{AccessReviewID: revs[2].ID})
	w.advance(24 * time.Hour)
	revs = w.reviews(pol)
	require.Len(t, revs, 4, "%+v", revs)
	require.Equal(t, revs[2].StartDateTime.Add(24*time.Hour), revs[3].StartDateTime)
	requireSameState(t, w.state(), w.replayed())
}

// Found by a mutation review: a leaver run that fell due while the user's joiner assignment is being
// delivered (delivery not yet recorded, pure Decide API) waits; a change
// to the user's leave date (or a new workflow version, or a deletion)
// decided meanwhile then cancels the due run instead of recording it
// first, and the leaver never runs.
func TestWaitingRunKeptOnChange(t *testing.T) {
	for _, mode := range []string{"version", "attr"} {
		w, _ := workflowWorld(t)
		lcw := w.actors["lcw"]
		pkg := w.id["Sales tools"]
		w.do(lcw, CreateWorkflow{Workflow: joinerWorkflow(pkg, w.id["Direct"], 0)})
		leaver := w.do(lcw, CreateWorkflow{Workflow: leaverWorkflow(pkg)}).ID
		hire, leave := w.clock.t.Add(24*time.Hour), w.clock.t.Add(48*time.Hour)
		dan := nameID("user/dan")
		w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", Department: "Sales", AccountEnabled: true, UserType: UserTypeMember,
			EmployeeHireDate: &hire, EmployeeLeaveDateTime: &leave}})
		s := w.state().Clone()
		now := w.clock.t.Add(72 * time.Hour)
		apply := func(cmd Command, a Actor) []Event {
			evs, err := Decide(s, a, now, nil, cmd)
			require.NoError(t, err)
			for _, e := range evs {
				require.NoError(t, s.Apply(e))
			}
			return evs
		}
		apply(AdvanceTime{}, SystemActor())
		require.True(t, s.deliveringTo(dan))
		var evs []Event
		if mode == "attr" {
			evs = apply(SetUserAttribute{UserID: dan, Name: "employeeLeaveDateTime", Value: leave.Add(time.Minute).Format(time.RFC3339)}, sys)
		} else {
			v2 := leaverWorkflow(pkg)
			v2.ExecutionConditions.Trigger.OffsetInDays = -1
			evs = apply(CreateWorkflowVersion{WorkflowID: leaver, Workflow: v2}, lcw)
		}
		for _, e := range evs {
			t.Logf("%s: %s %+v", mode, e.Type, e.Data)
		}
		ran := false
		for _, e := range evs {
			if e.Type == EventWorkflowUserProcessed {
				ran = true
			}
		}
		_, still := s.ix.timeRuns.Get(leaver + "\x00" + dan)
		require.True(t, ran || still, "%s: the leaver run that fell due at %s was neither run nor kept", mode, leave)
	}
}

// Reviewers are users, as approvers are: primary reviewers that resolve
// to applications only (a group whose one member is an app) made items
// nobody could decide, their fallback unused.
func TestReviewersAreUsers(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	g := w.group("App reviewers")
	w.do(sys, AddGroupMember{GroupID: g, MemberID: w.uid["appRead"]})
	p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	p.ReviewSettings.PrimaryReviewers = []SubjectSet{{Kind: GroupMembers, GroupID: g}}
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.advance(24 * time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(ga, revs[0].ID) })
	require.Len(t, items, 1)
	require.Equal(t, []string{w.uid["carol"]}, items[0].Reviewers, "the fallback reviews")
	w.do(w.actors["carol"], RecordReviewDecision{AccessReviewID: revs[0].ID, AssignmentID: items[0].AssignmentID, Decision: ReviewDecisionApprove})
	requireSameState(t, w.state(), w.replayed())
}
