package entitlement

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/internal/pmap"
)

// canManageWorkflows says who may create, change, delete and run
// lifecycle workflows: Global Administrators, Lifecycle Workflows
// Administrators, applications with LifecycleWorkflows.ReadWrite.All, and
// the system.
func canManageWorkflows(a Actor) bool {
	return a.Kind == ActorSystem || a.hasAnyRole(GlobalAdministrator, LifecycleWorkflowsAdministrator) ||
		a.HasPermission(LifecycleWorkflowsReadWriteAll)
}

// canReadWorkflows says who may read them: those who manage them, Global
// Readers and Security Readers, and applications with
// LifecycleWorkflows.Read.All.
func canReadWorkflows(a Actor) bool {
	return canManageWorkflows(a) || a.hasAnyRole(GlobalReader, SecurityReader) || a.HasPermission(LifecycleWorkflowsReadAll)
}

// checkWorkflowReferences checks that the packages and policies a
// workflow's tasks name exist and fit: the policy belongs to the package
// and takes requests.
func checkWorkflowReferences(s *State, op string, w *Workflow) error {
	for i, t := range w.Tasks {
		path := "tasks[" + itoa(i) + "].arguments"
		pkgID, ok := t.argument("accessPackageId")
		if !ok {
			continue
		}
		if !s.accessPackages.Has(pkgID) {
			return fail(op, ErrNotFound, subject("accessPackage", pkgID), "%s names an access package that does not exist", path)
		}
		polID, ok := t.argument("assignmentPolicyId")
		if !ok {
			continue
		}
		e, ok := s.policies.Get(polID)
		switch {
		case !ok:
			return fail(op, ErrNotFound, subject("assignmentPolicy", polID), "%s names a policy that does not exist", path)
		case e.Policy.AccessPackageID != pkgID:
			return invalid(op, path, "the policy does not belong to the access package")
		case e.Policy.IsAutoAssignment():
			return invalid(op, path, "an automatic assignment policy takes no requests")
		}
	}
	return nil
}

// prepareWorkflow validates a workflow as given and fills what the
// library assigns: task ids and execution sequences.
func prepareWorkflow(s *State, op string, w *Workflow, ids IDSource) error {
	if len(w.Tasks) > MaxTasksPerWorkflow {
		return fail(op, ErrLimit, subject("workflow", w.ID), "a workflow has at most %d tasks", MaxTasksPerWorkflow)
	}
	if ie := w.validate(); ie != nil {
		return wrapInvalid(op, ie)
	}
	if err := checkWorkflowReferences(s, op, w); err != nil {
		return err
	}
	for i := range w.Tasks {
		w.Tasks[i].ID = s.newID(ids)
		w.Tasks[i].ExecutionSequence = i + 1
	}
	return nil
}

func (c CreateWorkflow) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if !canManageWorkflows(a) {
		return decision{}, forbidden(op, "workflows")
	}
	if s.workflows.Len() >= MaxWorkflows {
		return decision{}, fail(op, ErrLimit, "workflows", "a tenant has at most %d workflows", MaxWorkflows)
	}
	w := c.Workflow.Clone()
	if err := prepareWorkflow(s, op, w, ids); err != nil {
		return decision{}, err
	}
	w.ID = s.newID(ids)
	w.Version = 1
	w.CreatedDateTime, w.LastModifiedDateTime = now, now
	w.CreatedBy, w.LastModifiedBy = a.ID, a.ID
	p := newPlan(s, ids, now)
	p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowCreated, Data: &WorkflowPayload{Workflow: *w}})
	p.armWorkflow(w.ID)
	return p.decision(w.ID)
}

// readWorkflow finds a workflow for a command.
func readWorkflow(s *State, a Actor, op, id string) (*workflowEntry, error) {
	return s.workflowEntry(a, op, id, canManageWorkflows)
}

func (c UpdateWorkflow) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	e, err := readWorkflow(s, a, op, c.WorkflowID)
	if err != nil {
		return decision{}, err
	}
	w := e.Workflow.Clone()
	w.DisplayName, w.Description = c.DisplayName, c.Description
	w.IsEnabled, w.IsSchedulingEnabled = c.IsEnabled, c.IsSchedulingEnabled
	w.LastModifiedDateTime, w.LastModifiedBy = now, a.ID
	if ie := w.validate(); ie != nil {
		return decision{}, wrapInvalid(op, ie)
	}
	p := newPlan(s, ids, now)
	p.runsDue(collect(&s.ix.runsByWorkflow, w.ID))
	was := e.Workflow.scheduled()
	p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowUpdated, Data: &WorkflowPayload{Workflow: *w}})
	switch {
	case was && !w.scheduled():
		p.cancelWorkflowRuns(w.ID, "the workflow's schedule was turned off")
	case !was && w.scheduled():
		p.armWorkflow(w.ID)
	}
	return p.decision(w.ID)
}

func (c CreateWorkflowVersion) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	e, err := readWorkflow(s, a, op, c.WorkflowID)
	if err != nil {
		return decision{}, err
	}
	w := c.Workflow.Clone()
	if w.ID != "" && w.ID != c.WorkflowID {
		return decision{}, invalid(op, "id", "does not match the workflow")
	}
	if w.Category != e.Workflow.Category {
		return decision{}, invalid(op, "category", "a workflow's category does not change (%s)", e.Workflow.Category)
	}
	if err := prepareWorkflow(s, op, w, ids); err != nil {
		return decision{}, err
	}
	w.ID, w.Version = c.WorkflowID, e.Workflow.Version+1
	w.CreatedDateTime, w.CreatedBy = e.Workflow.CreatedDateTime, e.Workflow.CreatedBy
	w.LastModifiedDateTime, w.LastModifiedBy = now, a.ID
	p := newPlan(s, ids, now)
	p.runsDue(collect(&s.ix.runsByWorkflow, w.ID)) // under the version they fell due under
	p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowVersionCreated, Data: &WorkflowPayload{Workflow: *w}})
	if !w.scheduled() {
		p.cancelWorkflowRuns(w.ID, "the workflow's schedule is off in its new version")
		return p.decision(w.ID)
	}
	// The runs that fell due ran above, under the old version. The
	// time-based runs still ahead are evaluated again under the new one
	// (evaluateTimeRun), and its instants ahead are scheduled.
	for _, rid := range collect(&p.s.ix.runsByWorkflow, w.ID) {
		if r, _ := p.s.scheduledRuns.Get(rid); r.Trigger == TriggerTimeBasedAttribute {
			p.evaluateTimeRun(w.ID, r.SubjectID, "the workflow's new version moves its trigger's instant")
		}
	}
	p.armWorkflow(w.ID)
	return p.decision(w.ID)
}

func (c DeleteWorkflow) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if _, err := readWorkflow(s, a, op, c.WorkflowID); err != nil {
		return decision{}, err
	}
	p := newPlan(s, ids, now)
	p.runsDue(collect(&s.ix.runsByWorkflow, c.WorkflowID))
	p.cancelWorkflowRuns(c.WorkflowID, "the workflow was deleted")
	p.emitEvent(Event{Stream: workflowStream(c.WorkflowID), Type: EventWorkflowDeleted, Data: &ObjectRef{ID: c.WorkflowID}})
	return p.decision(c.WorkflowID)
}

func (c ActivateWorkflow) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	e, err := readWorkflow(s, a, op, c.WorkflowID)
	if err != nil {
		return decision{}, err
	}
	if !e.Workflow.IsEnabled {
		return decision{}, fail(op, ErrConflict, subject("workflow", c.WorkflowID), "a disabled workflow does not run")
	}
	switch n := len(c.Subjects); {
	case n == 0:
		return decision{}, invalid(op, "subjects", "at least one user is required")
	case n > MaxUsersPerOnDemandRun:
		return decision{}, fail(op, ErrLimit, subject("workflow", c.WorkflowID), "an on-demand run takes at most %d users", MaxUsersPerOnDemandRun)
	}
	for i, u := range c.Subjects {
		if _, ok := s.activeUser(u); !ok {
			return decision{}, notFound(op, subject("user", u))
		}
		if slices.Contains(c.Subjects[:i], u) {
			return decision{}, invalid(op, "subjects", "user %s is given twice", u)
		}
	}
	p := newPlan(s, ids, now)
	p.emitEvent(Event{Stream: workflowStream(c.WorkflowID), Type: EventWorkflowActivated,
		Data: &WorkflowActivated{WorkflowID: c.WorkflowID, Subjects: slices.Clone(c.Subjects)}})
	// The tasks are the workflow's, as a scheduled run's are: its
	// requests are made by the system, whoever asked for the run.
	p.bySystem(func() {
		for _, u := range c.Subjects {
			p.runWorkflow(c.WorkflowID, u, WorkflowExecutionOnDemand, "")
		}
	})
	return p.decision(c.WorkflowID)
}

// armWorkflow schedules a run, for every user, of a scheduled workflow
// with a time-based trigger whose instant is still ahead: each user is
// evaluated once.
func (p *plan) armWorkflow(id string) {
	e, _ := p.s.workflows.Get(id)
	if !e.Workflow.scheduled() || e.Workflow.timeAttribute() == "" {
		return
	}
	var users []string
	for uid, u := range p.s.users.All() {
		if t, ok := e.Workflow.triggerInstant(u); ok && t.After(p.now) && e.Workflow.inScope(u) {
			users = append(users, uid)
		}
	}
	for _, uid := range users {
		p.evaluateTimeRun(id, uid, "the workflow's new version moves its trigger's instant")
	}
}

// cancelWorkflowRuns cancels every scheduled run of a workflow.
func (p *plan) cancelWorkflowRuns(id, reason string) {
	for _, rid := range collect(&p.s.ix.runsByWorkflow, id) {
		p.cancelRun(rid, reason)
	}
}

func (p *plan) cancelRun(id, reason string) {
	r, _ := p.s.scheduledRuns.Get(id)
	p.emitEvent(Event{Stream: workflowStream(r.WorkflowID), Type: EventWorkflowRunCanceled, Data: &WorkflowRunCanceled{
		ScheduledRunID: id, WorkflowID: r.WorkflowID, SubjectID: r.SubjectID, Reason: reason, DateTime: p.now}})
}

func (p *plan) scheduleRun(w *Workflow, userID, trigger, attribute string, due time.Time) {
	p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowRunScheduled, Data: &ScheduledRun{
		ID: p.s.newID(p.ids), WorkflowID: w.ID, SubjectID: userID, Trigger: trigger, Attribute: attribute,
		DueDateTime: due, ScheduledDateTime: p.now}})
}

// evaluateTimeRun brings the run a time-based workflow has scheduled for
// a user in line with the user and the workflow now: one run at the
// trigger instant while the user is in scope, none otherwise. A new run is
// scheduled only for an instant still ahead; a run already scheduled whose
// instant came but that ProcessDue has not reached yet is kept, so that an
// unrelated change does not lose it. An instant fires once: once run, it
// is not scheduled again. A run whose instant moved is canceled with the
// reason moved (what moved it).
func (p *plan) evaluateTimeRun(workflowID, userID, moved string) {
	e, ok := p.s.workflows.Get(workflowID)
	if !ok {
		return
	}
	w := &e.Workflow
	attr := w.timeAttribute()
	if attr == "" {
		return
	}
	var due time.Time
	reason := ""
	u, active := p.s.activeUser(userID)
	switch {
	case !active:
		reason = "the user was deleted"
	case !w.scheduled():
		reason = "the workflow's schedule is off"
	case !w.inScope(u):
		reason = "the user left the workflow's scope"
	default:
		t, ok := w.triggerInstant(u)
		if !ok {
			reason = attr + " was cleared"
		} else {
			due = t
		}
	}
	if id, ok := p.s.ix.timeRuns.Get(workflowID + "\x00" + userID); ok {
		r, _ := p.s.scheduledRuns.Get(id)
		if reason == "" && r.DueDateTime.Equal(due) {
			return
		}
		if !r.DueDateTime.After(p.now) && p.s.deliveringTo(userID) {
			// Its instant came and it waits for a delivery (see
			// refreshRunDue): it happened, as on time; it is not undone.
			return
		}
		why := reason
		if why == "" {
			why = moved
		}
		p.cancelRun(id, why)
	}
	if reason == "" && due.After(p.now) {
		p.scheduleRun(w, userID, TriggerTimeBasedAttribute, attr, due)
	}
}

// userChange says what a directory command changed about a user, for the
// automatic assignment policies and workflows that depend on users.
type userChange struct {
	// attrs are the attributes whose value changed.
	attrs []string
	// all evaluates every automatic assignment policy and workflow: a new
	// user, one unblocked (who may be assigned again), or one deleted.
	all bool
}

// userChanged does what a change to a user calls for: assignments made or
// removals scheduled by automatic assignment policies, runs of lifecycle
// workflows scheduled or canceled. Only the policies and workflows that
// read a changed attribute are evaluated.
func (p *plan) userChanged(userID string, ch userChange) {
	keys := ch.keys()
	for _, id := range union(&p.s.ix.autoPolicies, keys) {
		p.reconcileAuto(id, userID)
	}
	u, active := p.s.activeUser(userID)
	if !active {
		for _, id := range collect(&p.s.ix.runsBySubject, userID) {
			p.cancelRun(id, "the user was deleted")
		}
		return
	}
	for _, id := range union(&p.s.ix.workflowsByAttribute, keys) {
		e, _ := p.s.workflows.Get(id)
		w := &e.Workflow
		if w.timeAttribute() != "" {
			p.evaluateTimeRun(id, userID, w.timeAttribute()+" changed")
			continue
		}
		// A mover workflow runs when a trigger attribute changed and the
		// user is in its scope after the change.
		for _, attr := range w.changeAttributes() {
			if slices.Contains(ch.attrs, attr) && w.scheduled() && w.inScope(u) {
				p.scheduleRun(w, userID, TriggerAttributeChange, attr, p.now)
				break
			}
		}
	}
}

// union returns the members of the keys of sets, sorted, each once.
func union(sets *pmap.Sets, keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, collect(sets, k)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readsChange reports whether an automatic assignment policy or a
// workflow reads what a change to a user changed, so that it has to be
// evaluated: a cost of two index lookups per changed attribute otherwise.
func (s *State) readsChange(ch userChange) bool {
	for _, k := range ch.keys() {
		if s.ix.autoPolicies.Len(k) > 0 || s.ix.workflowsByAttribute.Len(k) > 0 {
			return true
		}
	}
	return false
}

// keys returns the keys of ix.autoPolicies and ix.workflowsByAttribute
// whose members the change concerns.
func (ch userChange) keys() []string {
	if ch.all {
		return []string{everyReader}
	}
	return ch.attrs
}

// dueWorkflowRun runs a scheduled run whose time has come.
// runsDue records, as ProcessDue would, in time order and as of when
// they fell due, those of the scheduled runs given (a user's, or a
// workflow's) that fell due by now, so that a command that changes what a
// run reads (the user, the workflow, the user's assignments) decides
// after them whenever ProcessDue last ran.
func (p *plan) runsDue(runIDs []string) {
	p.recordDue(p.dueRunsOf(runIDs))
}

// dueRunsOf returns those of the scheduled runs given that fell due.
func (p *plan) dueRunsOf(runIDs []string) []dueAt {
	var due []dueAt
	for _, id := range runIDs {
		if r, ok := p.s.scheduledRuns.Get(id); ok && !r.DueDateTime.After(p.now) && !p.s.deliveringTo(r.SubjectID) {
			due = append(due, dueAt{id, r.DueDateTime, func() {
				if _, ok := p.s.scheduledRuns.Get(id); ok { // an earlier run may have canceled it
					p.dueWorkflowRun(id)
				}
			}})
		}
	}
	return due
}

// hasDueRuns reports whether a scheduled run of the user fell due by now.
func (s *State) hasDueRuns(userID string, now time.Time) bool {
	if s.deliveringTo(userID) {
		return false // the runs wait (see refreshRunDue)
	}
	for id := range s.ix.runsBySubject.Members(userID) {
		if r, ok := s.scheduledRuns.Get(id); ok && !r.DueDateTime.After(now) {
			return true
		}
	}
	return false
}

func (p *plan) dueWorkflowRun(id string) {
	r, _ := p.s.scheduledRuns.Get(id)
	e, ok := p.s.workflows.Get(r.WorkflowID)
	u, active := p.s.activeUser(r.SubjectID)
	switch {
	case !ok:
		p.cancelRun(id, "the workflow was deleted")
	case !e.Workflow.scheduled():
		p.cancelRun(id, "the workflow's schedule is off")
	case !active:
		p.cancelRun(id, "the user was deleted")
	case !e.Workflow.inScope(u):
		p.cancelRun(id, "the user is not in the workflow's scope")
	default:
		p.runWorkflow(r.WorkflowID, r.SubjectID, WorkflowExecutionScheduled, id)
	}
}

// runWorkflow runs the current version of a workflow for one user: each
// enabled task in order, a failure stopping the rest unless the task
// continues on error; then the user's result.
func (p *plan) runWorkflow(workflowID, userID, executionType, scheduledRunID string) {
	e, _ := p.s.workflows.Get(workflowID)
	w := e.Workflow.Clone() // the version this run keeps, whatever its tasks change
	resultID := p.s.newID(p.ids)
	var results []TaskProcessingResult
	failed, stopped := 0, false
	for i := range w.Tasks {
		t := &w.Tasks[i]
		if !t.IsEnabled {
			continue
		}
		r := TaskProcessingResult{
			ID: p.s.newID(p.ids), UserProcessingResultID: resultID, WorkflowID: w.ID, WorkflowVersion: w.Version,
			SubjectID: userID, TaskID: t.ID, TaskDefinitionID: t.TaskDefinitionID, TaskDisplayName: t.DisplayName,
			ProcessingStatus: ProcessingCompleted, StartedDateTime: p.now, CompletedDateTime: p.now,
		}
		if stopped {
			r.ProcessingStatus, r.FailureReason = ProcessingCanceled, "an earlier task failed"
		} else {
			var err error
			r.RequestIDs, err = p.runTask(w, t, userID)
			if err != nil {
				r.ProcessingStatus, r.FailureReason = ProcessingFailed, err.Error()
				failed++
				stopped = !t.ContinueOnError
			}
		}
		results = append(results, r)
	}
	for i := range results {
		p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowTaskProcessed, Data: &results[i]})
	}
	status := ProcessingCompleted
	switch {
	case stopped:
		status = ProcessingFailed
	case failed > 0:
		status = ProcessingCompletedWithErrors
	}
	p.emitEvent(Event{Stream: workflowStream(w.ID), Type: EventWorkflowUserProcessed, Data: &UserProcessingResult{
		ID: resultID, WorkflowID: w.ID, WorkflowVersion: w.Version, SubjectID: userID, WorkflowExecutionType: executionType,
		ScheduledRunID: scheduledRunID, ProcessingStatus: status, TotalTasksCount: len(results), FailedTasksCount: failed,
		StartedDateTime: p.now, CompletedDateTime: p.now}})
}

// errTask is the failure of a task, its reason the text.
type errTask string

func (e errTask) Error() string { return string(e) }

// runTask runs one task for a user and returns the requests it created or
// canceled.
func (p *plan) runTask(w *Workflow, t *WorkflowTask, userID string) ([]string, error) {
	justification := "Lifecycle workflow " + strconv.Quote(w.DisplayName) + ", task " + strconv.Quote(t.DisplayName)
	switch t.TaskDefinitionID {
	case TaskRequestAccessPackageAssignment:
		pkgID, _ := t.argument("accessPackageId")
		polID, _ := t.argument("assignmentPolicyId")
		pkg, ok := p.s.accessPackages.Get(pkgID)
		if !ok {
			return nil, errTask("the access package no longer exists")
		}
		pol, ok := p.s.policies.Get(polID)
		if !ok || pol.Policy.AccessPackageID != pkgID {
			return nil, errTask("the assignment policy no longer exists")
		}
		c := CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkgID, AssignmentPolicyID: polID,
			TargetID: userID, Justification: justification}
		if err := checkRequestBody(p.s, "RequestAccessPackageAssignment", c, kindAdd, pkg, pol, nil, userID, p.now); err != nil {
			return nil, errTask(reasonText(err))
		}
		return []string{p.newRequest(AssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkgID,
			AssignmentPolicyID: polID, PolicyVersion: pol.Version, TargetID: userID, RequestorID: SystemActor().ID,
			Justification: justification})}, nil
	case TaskRemoveAccessPackageAssignment:
		pkgID, _ := t.argument("accessPackageId")
		id, ok := p.s.liveAssignmentOf(userID, pkgID)
		if !ok {
			return nil, nil // nothing to remove
		}
		a, _ := p.s.assignments.Get(id)
		rid, err := p.removeAssignment(a, justification)
		if err != nil {
			return nil, err
		}
		return []string{rid}, nil
	case TaskRemoveAllAccessPackageAssignments:
		return p.removeAllAssignments(t, userID, justification)
	case TaskCancelPendingAccessPackageRequests:
		return p.cancelPendingRequests(userID), nil
	}
	return nil, errTask("unknown task definition " + t.TaskDefinitionID)
}

// removeAssignment ends an assignment through an adminRemove request.
func (p *plan) removeAssignment(a *Assignment, justification string) (string, error) {
	pol, ok := p.s.policies.Get(a.AssignmentPolicyID)
	switch {
	case !ok:
		return "", errTask("the assignment's policy no longer exists")
	case pol.Policy.IsAutoAssignment():
		return "", errTask("assignment " + a.ID + " was made by an automatic assignment policy: it ends when the user stops matching the policy's rule")
	case a.State == AssignmentStateDelivering:
		return "", errTask("assignment " + a.ID + " is being delivered")
	}
	return p.removalRequest(RequestTypeAdminRemove, pol, a, justification), nil
}

// cancelPendingRequests cancels the requests targeting the user that may
// still be canceled, and returns their ids.
func (p *plan) cancelPendingRequests(userID string) []string {
	var out []string
	for _, id := range collect(&p.s.ix.requestsByTarget, userID) {
		// A removal is never left pending: one submitted now is being
		// fulfilled, and may be what ended the user's access.
		if r, _ := p.s.requests.Get(id); r.cancelable() && requestTypeKind(r.RequestType) != kindRemove {
			p.requestChanged(EventAssignmentRequestCanceled, id, "", p.now)
			out = append(out, id)
		}
	}
	return out
}

// removeAllAssignments removes every assignment of the user that an
// automatic assignment policy did not make, or, with daysUntilExpiration,
// moves the end of each that ends later than that forward to it.
func (p *plan) removeAllAssignments(t *WorkflowTask, userID, justification string) ([]string, error) {
	var days int
	if v, ok := t.argument("daysUntilExpiration"); ok {
		days, _ = strconv.Atoi(v)
	}
	var out []string
	var errs []string
	for _, id := range collect(&p.s.ix.liveByTarget, userID) {
		a, _ := p.s.assignments.Get(id)
		pol, ok := p.s.policies.Get(a.AssignmentPolicyID)
		if ok && pol.Policy.IsAutoAssignment() {
			continue // ends with the user's match of the rule
		}
		if days == 0 {
			rid, err := p.removeAssignment(a, justification)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			out = append(out, rid)
			continue
		}
		end := p.now.AddDate(0, 0, days)
		if cur, ok := a.End(); ok && !cur.After(end) {
			continue // it ends sooner anyway
		}
		if !ok {
			errs = append(errs, "assignment "+a.ID+": its policy no longer exists")
			continue
		}
		pkg, _ := p.s.accessPackages.Get(a.AccessPackageID)
		sc := EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: end}}
		c := CreateAssignmentRequest{RequestType: RequestTypeAdminUpdate, AssignmentID: a.ID, Schedule: sc, Justification: justification}
		if err := checkRequestBody(p.s, "RemoveAllAccessPackageAssignments", c, kindUpdate, pkg, pol, a, userID, p.now); err != nil {
			errs = append(errs, "assignment "+a.ID+": "+reasonText(err))
			continue
		}
		out = append(out, p.newRequest(AssignmentRequest{RequestType: RequestTypeAdminUpdate, AccessPackageID: a.AccessPackageID,
			AssignmentPolicyID: a.AssignmentPolicyID, PolicyVersion: pol.Version, TargetID: userID, RequestorID: SystemActor().ID,
			AssignmentID: a.ID, Schedule: sc, Justification: justification}))
	}
	if len(errs) > 0 {
		return out, errTask(strings.Join(errs, "; "))
	}
	return out, nil
}

// reasonText returns why a check failed, without the operation's name.
func reasonText(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Reason != "" {
		return e.Reason
	}
	return err.Error()
}
