package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Boundary tests of a second mutation review (automatic assignment,
// lifecycle workflows, access reviews, external users, subject sets and
// the rule language): each pins a behaviour that no other test did.

// TestWorkflowRunThatFellDueRunsBeforeItsPolicyChanges: a joiner's run
// that fell due, unrecorded, before its task's policy was replaced is
// recorded first by the replacement, as of its instant, under the policy
// version that stood then: as it would have been had ProcessDue run on
// time (found by a review as a new user: it ran against the later state).
func TestWorkflowRunThatFellDueRunsBeforeItsPolicyChanges(t *testing.T) {
	w, joiner, _, hire := danJoiningTomorrow(t)
	w.clock.t = hire.Add(24 * time.Hour) // the run is due, not processed
	renamed := directPolicy(w.id["Sales tools"])
	renamed.DisplayName = "Direct, renamed"
	res := w.do(w.actors["IGA"], ReplaceAssignmentPolicy{PolicyID: w.id["Direct"], Policy: renamed})
	require.Equal(t, EventAssignmentPolicyReplaced, res.Events[len(res.Events)-1].Type, "the run's events come first")
	runs := w.results(joiner)
	require.Len(t, runs, 1)
	require.Equal(t, hire, runs[0].StartedDateTime, "the run is recorded as of its instant")
	req := w.getRequest(runs[0].TaskProcessingResults[0].RequestIDs[0])
	require.Equal(t, 1, req.PolicyVersion)
	require.Equal(t, hire, req.CreatedDateTime)
}

// danJoiningTomorrow is workflowWorld with a joiner workflow for Sales
// and dan, in Sales, hired a day from now: his run is scheduled.
func danJoiningTomorrow(t *testing.T) (w *world, joiner, dan string, hire time.Time) {
	w, _ = workflowWorld(t)
	joiner = w.do(w.actors["lcw"], CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	dan = nameID("user/dan")
	hire = w.clock.t.Add(24 * time.Hour)
	w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", Department: "Sales", AccountEnabled: true, EmployeeHireDate: &hire}})
	return w, joiner, dan, hire
}

// TestWorkflowOfExactlyTheMostTasks: a workflow may have 25 tasks.
func TestWorkflowOfExactlyTheMostTasks(t *testing.T) {
	w, _ := workflowWorld(t)
	wf := joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)
	wf.Tasks = nil
	for range MaxTasksPerWorkflow {
		wf.Tasks = append(wf.Tasks, joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0).Tasks[0])
	}
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: wf}).ID
	wf.Tasks = append(wf.Tasks, wf.Tasks[0])
	_, err := w.try(w.actors["lcw"], CreateWorkflowVersion{WorkflowID: id, Workflow: wf})
	requireKind(t, err, ErrLimit)
}

// TestWorkflowLimitBoundary: a tenant has at most 50 workflows: the 50th
// is made, the 51st refused.
func TestWorkflowLimitBoundary(t *testing.T) {
	w, _ := workflowWorld(t)
	wf := joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)
	for range MaxWorkflows {
		w.do(w.actors["lcw"], CreateWorkflow{Workflow: wf})
	}
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: wf})
	requireKind(t, err, ErrLimit)
}

// TestOnDemandRunOfExactlyTheMostUsers: an on-demand run takes up to ten
// users, each once.
func TestOnDemandRunOfExactlyTheMostUsers(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	var ten []string
	for _, n := range []string{"alice", "bob", "carol", "erin", "frank", "owner", "plain", "delegate1", "delegate2", "sponsor"} {
		ten = append(ten, w.uid[n])
	}
	require.Len(t, ten, MaxUsersPerOnDemandRun)
	_, err := w.try(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"], w.uid["bob"], w.uid["alice"]}})
	requireField(t, err, "subjects")
	w.do(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: ten})
	require.Len(t, w.results(id), MaxUsersPerOnDemandRun)
}

// moverWorkflow is a mover workflow, for users in Legal, triggered by a
// change of the attributes given, that cancels their pending requests.
func moverWorkflow(scheduling bool, attrs ...string) Workflow {
	var trig []TriggerAttribute
	for _, a := range attrs {
		trig = append(trig, TriggerAttribute{Name: a})
	}
	return Workflow{
		DisplayName: "Into Legal", Category: WorkflowCategoryMover, IsEnabled: true, IsSchedulingEnabled: scheduling,
		ExecutionConditions: WorkflowExecutionConditions{ODataType: ConditionsTriggerAndScopeBased,
			Scope:   &RuleBasedSubjectSet{Rule: `(user.department -eq "Legal")`},
			Trigger: &WorkflowTrigger{ODataType: TriggerAttributeChange, TriggerAttributes: trig}},
		Tasks: []WorkflowTask{{DisplayName: "Cancel pending", TaskDefinitionID: TaskCancelPendingAccessPackageRequests, IsEnabled: true}},
	}
}

// TestMoverRunsOnceForSeveralTriggerAttributes: a change of two trigger
// attributes at once schedules one run.
func TestMoverRunsOnceForSeveralTriggerAttributes(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: moverWorkflow(true, "department", "jobTitle")}).ID
	alice := at(&w.state().users, w.uid["alice"])
	u := *alice
	u.Department, u.JobTitle = "Legal", "Counsel"
	w.do(sys, PutUser{User: u})
	require.Len(t, w.runs(id), 1)
	w.advance(0)
	require.Len(t, w.results(id), 1)
}

// TestMoverWithoutSchedulingRunsOnlyOnDemand: a mover workflow whose
// scheduling is off schedules nothing when a trigger attribute changes.
func TestMoverWithoutSchedulingRunsOnlyOnDemand(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: moverWorkflow(false, "department")}).ID
	r := w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	require.Empty(t, w.runs(id))
	require.NotContains(t, eventTypes(r), EventWorkflowRunScheduled)
}

// TestDueRunAtTheInstantOfTheCommand: a run due at exactly the instant of
// a command that takes its user out of the scope has fallen due: it is
// recorded first, and the joiner gets the package.
func TestDueRunAtTheInstantOfTheCommand(t *testing.T) {
	w, joiner, dan, hire := danJoiningTomorrow(t)
	w.clock.t = hire
	w.do(sys, SetUserAttribute{UserID: dan, Name: "department", Value: "Legal"})
	res := w.results(joiner)
	require.Len(t, res, 1)
	require.Equal(t, hire, res[0].StartedDateTime)
	require.NotNil(t, w.autoHolderByID(dan, w.id["Sales tools"]))
}

// onDemandMover is an on-demand mover workflow with the tasks given.
func onDemandMover(tasks ...WorkflowTask) Workflow {
	return Workflow{DisplayName: "On demand", Category: WorkflowCategoryMover, IsEnabled: true,
		ExecutionConditions: WorkflowExecutionConditions{ODataType: ConditionsOnDemandOnly}, Tasks: tasks}
}

// TestOneTaskFailingWithContinueOnError: a run whose only failure is a
// task that continues on error completes with errors, counting it.
func TestOneTaskFailingWithContinueOnError(t *testing.T) {
	w, _ := workflowWorld(t)
	pkg, pol := w.id["Sales tools"], w.id["Direct"]
	w.do(w.actors["IGA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: pol, TargetID: w.uid["alice"]})
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(
		WorkflowTask{DisplayName: "Request again", TaskDefinitionID: TaskRequestAccessPackageAssignment, IsEnabled: true, ContinueOnError: true,
			Arguments: []KeyValuePair{{Name: "accessPackageId", Value: pkg}, {Name: "assignmentPolicyId", Value: pol}}},
		WorkflowTask{DisplayName: "Cancel pending", TaskDefinitionID: TaskCancelPendingAccessPackageRequests, IsEnabled: true},
	)}).ID
	w.do(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"]}})
	res := w.results(id)
	require.Len(t, res, 1)
	require.Equal(t, ProcessingCompletedWithErrors, res[0].ProcessingStatus)
	require.Equal(t, 1, res[0].FailedTasksCount)
	require.Equal(t, 2, res[0].TotalTasksCount)
	require.Equal(t, ProcessingFailed, res[0].TaskProcessingResults[0].ProcessingStatus)
	require.Equal(t, ProcessingCompleted, res[0].TaskProcessingResults[1].ProcessingStatus)
}

// TestRemoveTaskLeavesAnAutomaticAssignment: the remove task does not end
// an assignment an automatic assignment policy made; it fails saying so.
func TestRemoveTaskLeavesAnAutomaticAssignment(t *testing.T) {
	w, _ := autoWorld(t)
	w.user("lcw", LifecycleWorkflowsAdministrator)
	w.do(w.actors["IGA"], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	asg := w.autoHolder("alice", "P3")
	require.NotNil(t, asg)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(
		WorkflowTask{DisplayName: "Remove P3", TaskDefinitionID: TaskRemoveAccessPackageAssignment, IsEnabled: true,
			Arguments: []KeyValuePair{{Name: "accessPackageId", Value: w.id["P3"]}}},
	)}).ID
	w.do(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"]}})
	res := w.results(id)
	require.Len(t, res, 1)
	require.Equal(t, ProcessingFailed, res[0].ProcessingStatus)
	require.Contains(t, res[0].TaskProcessingResults[0].FailureReason, "automatic assignment policy")
	require.Equal(t, asg.ID, w.autoHolder("alice", "P3").ID)
}

// TestRemoveAllLeavesAnEndAlreadyAtTheDate: with daysUntilExpiration, an
// assignment that ends exactly that many days ahead is left as it is.
func TestRemoveAllLeavesAnEndAlreadyAtTheDate(t *testing.T) {
	w, _ := workflowWorld(t)
	pkg, pol := w.id["Sales tools"], w.id["Direct"]
	end := w.clock.t.AddDate(0, 0, 15)
	w.do(w.actors["IGA"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: pol, TargetID: w.uid["alice"],
		Schedule: EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: end}}})
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(
		WorkflowTask{DisplayName: "Expire in 15 days", TaskDefinitionID: TaskRemoveAllAccessPackageAssignments, IsEnabled: true,
			Arguments: []KeyValuePair{{Name: "daysUntilExpiration", Value: "15"}}},
	)}).ID
	w.do(w.actors["lcw"], ActivateWorkflow{WorkflowID: id, Subjects: []string{w.uid["alice"]}})
	res := w.results(id)
	require.Len(t, res, 1)
	require.Equal(t, ProcessingCompleted, res[0].ProcessingStatus)
	require.Empty(t, res[0].TaskProcessingResults[0].RequestIDs, "it ends then anyway")
	got, ok := w.autoHolder("alice", "Sales tools").End()
	require.True(t, ok)
	require.Equal(t, end, got)
}

// TestHireDateAtTheInstantSchedulesNoRun: a time-based trigger fires only
// at instants still ahead when the run is scheduled; one that is now is
// not ahead.
func TestHireDateAtTheInstantSchedulesNoRun(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "employeeHireDate", Value: w.clock.t.Format(time.RFC3339)})
	require.Empty(t, w.runs(id))
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "employeeHireDate", Value: w.clock.t.Add(time.Second).Format(time.RFC3339)})
	require.Len(t, w.runs(id), 1)
}

// TestWorkflowOffsetBoundary: offsetInDays may be -180 or 180.
func TestWorkflowOffsetBoundary(t *testing.T) {
	w, _ := workflowWorld(t)
	for _, days := range []int{-MaxWorkflowOffsetInDays, MaxWorkflowOffsetInDays} {
		w.do(w.actors["lcw"], CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], days)})
	}
}

// TestDaysUntilExpirationZeroRefused: daysUntilExpiration counts from 1;
// "0" would read as an immediate removal of everything.
func TestDaysUntilExpirationZeroRefused(t *testing.T) {
	w, _ := workflowWorld(t)
	task := func(days string) WorkflowTask {
		return WorkflowTask{DisplayName: "Expire", TaskDefinitionID: TaskRemoveAllAccessPackageAssignments, IsEnabled: true,
			Arguments: []KeyValuePair{{Name: "daysUntilExpiration", Value: days}}}
	}
	_, err := w.try(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(task("0"))})
	requireField(t, err, "tasks[0].arguments")
	w.do(w.actors["lcw"], CreateWorkflow{Workflow: onDemandMover(task("1"))})
}

// TestWorkflowUpdateMakesNoVersion: changing a workflow's basic
// properties (UpdateWorkflow) changes its current version in place.
func TestWorkflowUpdateMakesNoVersion(t *testing.T) {
	w, _ := workflowWorld(t)
	id := w.do(w.actors["lcw"], CreateWorkflow{Workflow: joinerWorkflow(w.id["Sales tools"], w.id["Direct"], 0)}).ID
	w.do(w.actors["lcw"], UpdateWorkflow{WorkflowID: id, DisplayName: "Renamed", IsEnabled: true, IsSchedulingEnabled: true})
	var versions []Workflow
	w.m.Read(func(s *State) { versions, _ = s.WorkflowVersions(SystemActor(), id) })
	require.Len(t, versions, 1)
	require.Equal(t, "Renamed", versions[0].DisplayName)
	require.Equal(t, 1, versions[0].Version)
}

// reviewWorld is accessWorld with reviewedPolicy on P2 ("Rev", removing
// the access nobody decided on), held by alice and erin.
func reviewWorld(t *testing.T) (*world, string) {
	w, _ := accessWorld(t)
	pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.request("erin", "P2", "Rev")
	return w, pol
}

// TestPolicyEditAtAReviewStartStartsItOnce: a policy edited at the very
// instant its review starts (recorded first) gets no second review for
// that occurrence.
func TestPolicyEditAtAReviewStartStartsItOnce(t *testing.T) {
	w, pol := reviewWorld(t)
	w.clock.t = t0.Add(24 * time.Hour) // the first review's start, not processed
	edited := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)
	edited.Description = "edited"
	w.do(w.actors["GA"], ReplaceAssignmentPolicy{PolicyID: pol, Policy: edited})
	w.advance(0)
	w.advance(time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	require.Equal(t, 1, revs[0].Occurrence)
}

// TestRemovalAtAReviewStartIsReviewed: an assignment removed at the very
// instant a review of it starts was live when it started: the review,
// recorded first, has its item.
func TestRemovalAtAReviewStartIsReviewed(t *testing.T) {
	w, pol := reviewWorld(t)
	w.clock.t = t0.Add(24 * time.Hour)
	w.do(w.actors["GA"], CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(w.uid["erin"], w.id["P2"]).ID})
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(w.actors["GA"], revs[0].ID) })
	require.Len(t, items, 2)
}

// TestNoDecisionOrStopAtAReviewEnd: at the instant a review ends it takes
// no decision, and it cannot be stopped: ProcessDue applies it then.
func TestNoDecisionOrStopAtAReviewEnd(t *testing.T) {
	w, pol := reviewWorld(t)
	w.advance(24 * time.Hour)
	rev := w.reviews(pol)[0]
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(w.actors["GA"], rev.ID) })
	w.clock.t = rev.EndDateTime
	_, err := w.try(w.actors["bob"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: items[0].AssignmentID, Decision: ReviewDecisionApprove})
	requireKind(t, err, ErrConflict)
	_, err = w.try(w.actors["owner"], StopAccessReview{AccessReviewID: rev.ID})
	requireKind(t, err, ErrConflict)
	w.clock.t = rev.EndDateTime.Add(-time.Nanosecond)
	w.do(w.actors["bob"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: items[0].AssignmentID, Decision: ReviewDecisionApprove})
	w.do(w.actors["owner"], StopAccessReview{AccessReviewID: rev.ID})
}

// TestReviewEndAndNextStartAtOneInstant: with reviews open exactly as long
// as their recurrence, one ends when the next starts. A command at that
// instant records them in ProcessDue's order, the end first (until a
// review of access reviews, the start was first, and the new review
// covered an assignment the closing one then removed): the new review
// does not cover the assignment the closing one removed.
func TestReviewEndAndNextStartAtOneInstant(t *testing.T) {
	for _, byCommand := range []bool{false, true} {
		w, _ := accessWorld(t)
		p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)
		p.ReviewSettings.Schedule.Expiration.Duration = DurationDays(7)
		pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
		w.id["Rev"] = pol
		w.request("alice", "P2", "Rev")
		w.advance(24 * time.Hour)
		first := w.reviews(pol)[0]
		w.clock.t = first.EndDateTime
		if byCommand {
			w.request("frank", "P2", "Rev")
		} else {
			w.advance(0)
		}
		revs := w.reviews(pol)
		require.Len(t, revs, 2, "by command: %v", byCommand)
		require.Equal(t, first.EndDateTime, revs[1].StartDateTime)
		var items []ReviewDecisionItem
		w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(w.actors["GA"], revs[1].ID) })
		require.Empty(t, items, "by command: %v: alice's assignment, removed as the first review closed", byCommand)
		a := w.state().MyAssignments(w.actors["alice"])
		require.Empty(t, a, "by command: %v", byCommand)
	}
}

// TestStaleDirectoryOutcomeLeavesTheNewerChangePending: the outcome of a
// directory change that a newer one replaced (a block delivered after
// the guest was unblocked again) is recorded, but the newer change stays
// pending.
func TestStaleDirectoryOutcomeLeavesTheNewerChangePending(t *testing.T) {
	u := &User{ID: "g", UserType: UserTypeGuest, AccountEnabled: true, SubjectLifecycle: SubjectLifecycleGoverned}
	for _, e := range []Event{
		{Type: EventGuestBlocked, Data: &GuestLifecycleChanged{UserID: "g", DateTime: t0}},
		{Type: EventGuestUnblocked, Data: &GuestLifecycleChanged{UserID: "g", DateTime: t0.Add(time.Minute)}},
		{Type: EventGuestChangeDelivered, Data: &DirectoryChangeOutcome{UserID: "g", Change: DirectoryChangeBlockSignIn}},
	} {
		require.True(t, evolveGuest(u, e), e.Type)
	}
	require.Equal(t, DirectoryChangeUnblockSignIn, u.Lifecycle.PendingChange)
	require.Equal(t, DirectoryChangeBlockSignIn, u.Lifecycle.LastChange)
	require.Equal(t, "delivered", u.Lifecycle.LastChangeStatus)
}
