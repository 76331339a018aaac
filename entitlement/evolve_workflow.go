package entitlement

import (
	"slices"
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

func workflowStream(id string) eventstore.StreamID {
	return eventstore.StreamID("workflow/" + id)
}

// Event types of lifecycle workflows.
const (
	EventWorkflowCreated        = "lifecycleWorkflowCreated"
	EventWorkflowUpdated        = "lifecycleWorkflowUpdated"
	EventWorkflowVersionCreated = "lifecycleWorkflowVersionCreated"
	EventWorkflowDeleted        = "lifecycleWorkflowDeleted"
	// EventWorkflowActivated: someone ran a workflow on demand; the runs
	// follow.
	EventWorkflowActivated = "lifecycleWorkflowActivated"
	// EventWorkflowRunScheduled: a trigger fired or will fire for a user;
	// ProcessDue runs the workflow for them at DueDateTime.
	EventWorkflowRunScheduled = "lifecycleWorkflowRunScheduled"
	// EventWorkflowRunCanceled: a scheduled run will not happen.
	EventWorkflowRunCanceled = "lifecycleWorkflowRunCanceled"
	// EventWorkflowTaskProcessed: one task of a run, for one user.
	EventWorkflowTaskProcessed = "lifecycleWorkflowTaskProcessed"
	// EventWorkflowUserProcessed: a run for one user ended; it follows the
	// events of its tasks.
	EventWorkflowUserProcessed = "lifecycleWorkflowUserProcessed"
)

// WorkflowPayload carries a workflow as created, updated or versioned.
type WorkflowPayload struct {
	Workflow Workflow `json:"workflow"`
}

// WorkflowActivated records an on-demand run asked for (ActivateWorkflow).
type WorkflowActivated struct {
	WorkflowID string   `json:"workflowId"`
	Subjects   []string `json:"subjects"`
}

// ScheduledRun is a run of a workflow for one user that a trigger
// scheduled: at the user's time-based attribute plus the offset, or at once
// after an attribute change. It is pending until ProcessDue runs it or it
// is canceled.
type ScheduledRun struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflowId"`
	SubjectID  string `json:"subjectId"`
	// Trigger is the @odata.type of the trigger that fired, and Attribute
	// the attribute it read (time-based) or that changed.
	Trigger           string    `json:"trigger"`
	Attribute         string    `json:"attribute"`
	DueDateTime       time.Time `json:"dueDateTime"`
	ScheduledDateTime time.Time `json:"scheduledDateTime"`
}

// WorkflowRunCanceled records a scheduled run that will not happen, and why.
type WorkflowRunCanceled struct {
	ScheduledRunID string    `json:"scheduledRunId"`
	WorkflowID     string    `json:"workflowId"`
	SubjectID      string    `json:"subjectId"`
	Reason         string    `json:"reason"`
	DateTime       time.Time `json:"dateTime"`
}

// TaskProcessingResult is the outcome of one task for one user (Graph
// taskProcessingResult): completed, failed with FailureReason, or canceled
// because an earlier task failed without continueOnError.
type TaskProcessingResult struct {
	ID                     string `json:"id"`
	UserProcessingResultID string `json:"userProcessingResultId"`
	WorkflowID             string `json:"workflowId"`
	WorkflowVersion        int    `json:"workflowVersion"`
	SubjectID              string `json:"subjectId"`
	TaskID                 string `json:"taskId"`
	TaskDefinitionID       string `json:"taskDefinitionId"`
	TaskDisplayName        string `json:"taskDisplayName"`
	ProcessingStatus       string `json:"processingStatus"`
	FailureReason          string `json:"failureReason,omitempty"`
	// RequestIDs are the assignment requests the task created or canceled.
	RequestIDs        []string  `json:"requestIds,omitempty"`
	StartedDateTime   time.Time `json:"startedDateTime"`
	CompletedDateTime time.Time `json:"completedDateTime"`
}

// UserProcessingResult is a run of a workflow for one user (Graph
// userProcessingResult), at the workflow version it started with. In the
// event it carries no TaskProcessingResults: those are the task events
// before it, which the State gathers here.
type UserProcessingResult struct {
	ID                    string `json:"id"`
	WorkflowID            string `json:"workflowId"`
	WorkflowVersion       int    `json:"workflowVersion"`
	SubjectID             string `json:"subjectId"`
	WorkflowExecutionType string `json:"workflowExecutionType"`
	// ScheduledRunID is the run a trigger scheduled ("" on demand).
	ScheduledRunID        string                 `json:"scheduledRunId,omitempty"`
	ProcessingStatus      string                 `json:"processingStatus"`
	TotalTasksCount       int                    `json:"totalTasksCount"`
	FailedTasksCount      int                    `json:"failedTasksCount"`
	StartedDateTime       time.Time              `json:"startedDateTime"`
	CompletedDateTime     time.Time              `json:"completedDateTime"`
	TaskProcessingResults []TaskProcessingResult `json:"taskProcessingResults,omitempty"`
}

// workflowEntry is a workflow as the State keeps it: its current version
// and the versions before it.
type workflowEntry struct {
	Workflow Workflow   `json:"workflow"`
	Previous []Workflow `json:"previous,omitempty"`
}

func init() {
	for t, mk := range map[string]func() any{
		EventWorkflowCreated:        func() any { return new(WorkflowPayload) },
		EventWorkflowUpdated:        func() any { return new(WorkflowPayload) },
		EventWorkflowVersionCreated: func() any { return new(WorkflowPayload) },
		EventWorkflowDeleted:        func() any { return new(ObjectRef) },
		EventWorkflowActivated:      func() any { return new(WorkflowActivated) },
		EventWorkflowRunScheduled:   func() any { return new(ScheduledRun) },
		EventWorkflowRunCanceled:    func() any { return new(WorkflowRunCanceled) },
		EventWorkflowTaskProcessed:  func() any { return new(TaskProcessingResult) },
		EventWorkflowUserProcessed:  func() any { return new(UserProcessingResult) },
	} {
		registry[t] = mk
	}
	for t, n := range map[string]string{
		EventWorkflowCreated:        "Create workflow",
		EventWorkflowUpdated:        "Update workflow",
		EventWorkflowVersionCreated: "Create workflow version",
		EventWorkflowDeleted:        "Delete workflow",
		EventWorkflowActivated:      "Run workflow on demand",
		EventWorkflowRunScheduled:   "Schedule workflow for user",
		EventWorkflowRunCanceled:    "Cancel scheduled workflow for user",
		EventWorkflowTaskProcessed:  "Process workflow task for user",
		EventWorkflowUserProcessed:  "Process workflow for user",
	} {
		activities[t] = n
	}
}

// applyWorkflow applies the events of lifecycle workflows. It reports
// false for a payload it does not know.
func (s *State) applyWorkflow(e Event) bool {
	switch d := e.Data.(type) {
	case *WorkflowPayload:
		w := *d.Workflow.Clone()
		entry := &workflowEntry{Workflow: w}
		if old, ok := s.workflows.Get(w.ID); ok {
			entry.Previous = old.Previous
			if e.Type == EventWorkflowVersionCreated {
				entry.Previous = append(slices.Clip(old.Previous), old.Workflow)
			}
		}
		s.putWorkflow(entry)
	case *WorkflowActivated:
		// Recorded for the audit; the runs that follow change the State.
	case *ScheduledRun:
		r := *d
		s.putScheduledRun(&r)
	case *WorkflowRunCanceled:
		s.dropScheduledRun(d.ScheduledRunID)
	case *TaskProcessingResult:
		t := *d
		t.RequestIDs = slices.Clone(d.RequestIDs)
		r := &UserProcessingResult{ID: d.UserProcessingResultID, WorkflowID: d.WorkflowID, SubjectID: d.SubjectID}
		if old, ok := s.workflowResults.Get(d.UserProcessingResultID); ok {
			c := *old
			r = &c
		}
		r.TaskProcessingResults = append(slices.Clip(r.TaskProcessingResults), t)
		s.putWorkflowResult(r)
	case *UserProcessingResult:
		r := *d
		if old, ok := s.workflowResults.Get(d.ID); ok {
			r.TaskProcessingResults = old.TaskProcessingResults
		}
		s.putWorkflowResult(&r)
		if r.ScheduledRunID != "" {
			s.dropScheduledRun(r.ScheduledRunID)
		}
	default:
		return false
	}
	return true
}

// putWorkflow stores a workflow entry, keeping the index of the
// attributes it reads.
func (s *State) putWorkflow(e *workflowEntry) {
	if old, ok := s.workflows.Get(e.Workflow.ID); ok {
		s.unindexWorkflow(old)
	}
	s.workflows.Set(e.Workflow.ID, e)
	s.ix.workflowsByAttribute.Add(everyReader, e.Workflow.ID)
	for _, a := range e.Workflow.readsAttributes() {
		s.ix.workflowsByAttribute.Add(a, e.Workflow.ID)
	}
}

func (s *State) unindexWorkflow(e *workflowEntry) {
	s.ix.workflowsByAttribute.Remove(everyReader, e.Workflow.ID)
	for _, a := range e.Workflow.readsAttributes() {
		s.ix.workflowsByAttribute.Remove(a, e.Workflow.ID)
	}
}

func (s *State) dropWorkflow(id string) {
	if e, ok := s.workflows.Delete(id); ok {
		s.unindexWorkflow(e)
	}
}

func (s *State) putScheduledRun(r *ScheduledRun) {
	s.scheduledRuns.Set(r.ID, r)
	s.ix.runsByWorkflow.Add(r.WorkflowID, r.ID)
	s.ix.runsBySubject.Add(r.SubjectID, r.ID)
	if r.Trigger == TriggerTimeBasedAttribute {
		s.ix.timeRuns.Set(r.WorkflowID+"\x00"+r.SubjectID, r.ID)
	}
	s.refreshRunDue(r)
}

// refreshRunDue puts a scheduled run in the due queue, or takes it out
// while an assignment of its user is being delivered: a run waits for
// the deliveries before it (a joiner's package, then a leaver's removal
// of it, recorded together by a late ProcessDue), as it would have had
// ProcessDue come on time. The run keeps its instant.
func (s *State) refreshRunDue(r *ScheduledRun) {
	k := dueKey(dueItem{r.DueDateTime, dueWorkflowRun, r.ID})
	if s.deliveringTo(r.SubjectID) {
		s.moveDue(k, "")
	} else {
		s.moveDue("", k)
	}
}

// deliveringTo reports whether an assignment of the user is being
// delivered.
func (s *State) deliveringTo(userID string) bool {
	for id := range s.ix.liveByTarget.Members(userID) {
		if a, _ := s.assignments.Get(id); a.State == AssignmentStateDelivering {
			return true
		}
	}
	return false
}

func (s *State) dropScheduledRun(id string) {
	r, ok := s.scheduledRuns.Delete(id)
	if !ok {
		return
	}
	s.ix.runsByWorkflow.Remove(r.WorkflowID, id)
	s.ix.runsBySubject.Remove(r.SubjectID, id)
	if r.Trigger == TriggerTimeBasedAttribute {
		s.ix.timeRuns.Delete(r.WorkflowID + "\x00" + r.SubjectID)
	}
	s.moveDue(dueKey(dueItem{r.DueDateTime, dueWorkflowRun, id}), "")
}

func (s *State) putWorkflowResult(r *UserProcessingResult) {
	s.workflowResults.Set(r.ID, r)
	s.ix.resultsByWorkflow.Add(r.WorkflowID, r.ID)
}
