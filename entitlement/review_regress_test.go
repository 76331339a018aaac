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
