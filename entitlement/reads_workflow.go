package entitlement

import (
	"cmp"
	"slices"
)

// ListWorkflows returns the lifecycle workflows, sorted by display name.
func (s *State) ListWorkflows(a Actor) ([]Workflow, error) {
	a = s.reader(a)
	if !canReadWorkflows(a) {
		return nil, forbidden("ListWorkflows", "workflows")
	}
	var out []Workflow
	for _, e := range s.workflows.All() {
		out = append(out, *e.Workflow.Clone())
	}
	slices.SortFunc(out, byName(func(w Workflow) string { return w.DisplayName }, func(w Workflow) string { return w.ID }))
	return out, nil
}

// readWorkflowEntry checks that a may read workflows and that id is one.
func (s *State) readWorkflowEntry(a Actor, op, id string) (*workflowEntry, error) {
	return s.workflowEntry(a, op, id, canReadWorkflows)
}

// workflowEntry checks that a is allowed and that id is a workflow.
func (s *State) workflowEntry(a Actor, op, id string, allowed func(Actor) bool) (*workflowEntry, error) {
	if !allowed(a) {
		return nil, forbidden(op, subject("workflow", id))
	}
	e, ok := s.workflows.Get(id)
	if !ok {
		return nil, notFound(op, subject("workflow", id))
	}
	return e, nil
}

// GetWorkflow returns a workflow's current version.
func (s *State) GetWorkflow(a Actor, id string) (Workflow, error) {
	a = s.reader(a)
	e, err := s.readWorkflowEntry(a, "GetWorkflow", id)
	if err != nil {
		return Workflow{}, err
	}
	return *e.Workflow.Clone(), nil
}

// WorkflowVersions returns every version of a workflow, the first first
// and the current last (Graph workflows/{id}/versions).
func (s *State) WorkflowVersions(a Actor, id string) ([]Workflow, error) {
	a = s.reader(a)
	e, err := s.readWorkflowEntry(a, "WorkflowVersions", id)
	if err != nil {
		return nil, err
	}
	var out []Workflow
	for _, w := range append(slices.Clip(e.Previous), e.Workflow) {
		out = append(out, *w.Clone())
	}
	return out, nil
}

// ScheduledWorkflowRuns returns the runs of a workflow its triggers have
// scheduled and ProcessDue has not run yet, by due time.
func (s *State) ScheduledWorkflowRuns(a Actor, id string) ([]ScheduledRun, error) {
	a = s.reader(a)
	if _, err := s.readWorkflowEntry(a, "ScheduledWorkflowRuns", id); err != nil {
		return nil, err
	}
	var out []ScheduledRun
	for rid := range s.ix.runsByWorkflow.Members(id) {
		r, _ := s.scheduledRuns.Get(rid)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y ScheduledRun) int {
		return cmp.Or(x.DueDateTime.Compare(y.DueDateTime), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// WorkflowUserProcessingResults returns what the runs of a workflow did,
// per user and per task (Graph workflows/{id}/userProcessingResults), in
// the order they started. A deleted workflow's results stay readable.
func (s *State) WorkflowUserProcessingResults(a Actor, id string) ([]UserProcessingResult, error) {
	a = s.reader(a)
	const op = "WorkflowUserProcessingResults"
	if !canReadWorkflows(a) {
		return nil, forbidden(op, subject("workflow", id))
	}
	if !s.workflows.Has(id) && s.ix.resultsByWorkflow.Len(id) == 0 {
		return nil, notFound(op, subject("workflow", id))
	}
	var out []UserProcessingResult
	for rid := range s.ix.resultsByWorkflow.Members(id) {
		r, _ := s.workflowResults.Get(rid)
		c := *r
		c.TaskProcessingResults = slices.Clone(r.TaskProcessingResults)
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(x, y UserProcessingResult) int {
		return cmp.Or(x.StartedDateTime.Compare(y.StartedDateTime), cmp.Compare(x.SubjectID, y.SubjectID))
	})
	return out, nil
}
