package entitlement

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/entitlement/rule"
	"github.com/google/uuid"
)

// Lifecycle workflows (domain §5): joiner, mover and leaver workflows of
// Microsoft Entra ID Governance, with the four built-in tasks that act on
// access packages. A workflow runs its tasks for a user when its execution
// conditions say so, in Manager.ProcessDue, or on demand (ActivateWorkflow).
// Names follow Graph's microsoft.graph.identityGovernance namespace.

// Workflow categories (Graph lifecycleWorkflowCategory).
const (
	WorkflowCategoryJoiner = "joiner"
	WorkflowCategoryMover  = "mover"
	WorkflowCategoryLeaver = "leaver"
)

// The @odata.type values of execution conditions and triggers.
const (
	// ConditionsTriggerAndScopeBased runs the workflow for the users in
	// Scope when Trigger fires.
	ConditionsTriggerAndScopeBased = "#microsoft.graph.identityGovernance.triggerAndScopeBasedConditions"
	// ConditionsOnDemandOnly runs the workflow only through ActivateWorkflow.
	ConditionsOnDemandOnly = "#microsoft.graph.identityGovernance.onDemandExecutionOnly"
	// TriggerTimeBasedAttribute fires OffsetInDays days after (before, if
	// negative) the instant a user's TimeBasedAttribute holds.
	TriggerTimeBasedAttribute = "#microsoft.graph.identityGovernance.timeBasedAttributeTrigger"
	// TriggerAttributeChange fires when one of a user's TriggerAttributes
	// changes.
	TriggerAttributeChange = "#microsoft.graph.identityGovernance.attributeChangeTrigger"
)

// Task definition ids of the built-in tasks that act on access packages
// (domain §5). Other task definitions are refused: this library has
// nothing to run them with.
const (
	// TaskRequestAccessPackageAssignment requests an assignment of
	// accessPackageId for the user under assignmentPolicyId (an adminAdd
	// request that follows the policy, approval included).
	TaskRequestAccessPackageAssignment = "c1ec1e76-f374-4375-aaa6-0bb6bd4c60be"
	// TaskRemoveAccessPackageAssignment removes the user's assignment of
	// accessPackageId (adminRemove).
	TaskRemoveAccessPackageAssignment = "4a0b64f2-c7ec-46ba-b117-18f262946c50"
	// TaskRemoveAllAccessPackageAssignments removes every assignment of the
	// user (adminRemove), or with daysUntilExpiration schedules their end
	// that many days ahead (adminUpdate), which the assignment's policy must
	// allow (allowCustomAssignmentSchedule).
	TaskRemoveAllAccessPackageAssignments = "42ae2956-193d-4f39-be06-691b8ac4fa1d"
	// TaskCancelPendingAccessPackageRequests cancels the user's requests
	// that are still pending (submitted, pending approval or scheduled).
	TaskCancelPendingAccessPackageRequests = "498770d9-bab7-4e4c-b73d-5ded82a1d0b3"
)

// Limits of lifecycle workflows (domain §5).
const (
	MaxWorkflows                 = 50
	MaxTasksPerWorkflow          = 25
	MaxUsersPerOnDemandRun       = 10
	MaxWorkflowOffsetInDays      = 180
	MaxDaysUntilExpirationOfTask = MaxExpirationDays
)

// Workflow execution types (Graph workflowExecutionType).
const (
	WorkflowExecutionScheduled = "scheduled"
	WorkflowExecutionOnDemand  = "onDemand"
)

// Processing statuses of a user's run and of a task (Graph
// lifecycleWorkflowProcessingStatus).
const (
	ProcessingCompleted           = "completed"
	ProcessingCompletedWithErrors = "completedWithErrors"
	ProcessingFailed              = "failed"
	ProcessingCanceled            = "canceled"
)

// Workflow is a lifecycle workflow (Graph
// microsoft.graph.identityGovernance.workflow) in one of its versions.
// UpdateWorkflow changes its basic properties (display name, description,
// isEnabled, isSchedulingEnabled); CreateWorkflowVersion changes the rest
// and makes a new version. A run uses the version current when it starts.
type Workflow struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	// Category is joiner, mover or leaver.
	Category string `json:"category"`
	// IsEnabled lets the workflow run at all, on demand or on schedule.
	IsEnabled bool `json:"isEnabled"`
	// IsSchedulingEnabled lets its triggers run it (in ProcessDue); it
	// needs IsEnabled. Without it the workflow runs only on demand.
	IsSchedulingEnabled bool                        `json:"isSchedulingEnabled"`
	ExecutionConditions WorkflowExecutionConditions `json:"executionConditions"`
	// Tasks run in this order; each ExecutionSequence is its 1-based place.
	Tasks                []WorkflowTask `json:"tasks"`
	Version              int            `json:"version,omitempty"`
	CreatedDateTime      time.Time      `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time      `json:"lastModifiedDateTime,omitzero"`
	CreatedBy            string         `json:"createdBy,omitempty"`
	LastModifiedBy       string         `json:"lastModifiedBy,omitempty"`
}

// WorkflowExecutionConditions is Graph's workflowExecutionConditions:
// ConditionsTriggerAndScopeBased with a Scope and a Trigger, or
// ConditionsOnDemandOnly with neither.
type WorkflowExecutionConditions struct {
	ODataType string `json:"@odata.type"`
	// Scope is ruleBasedSubjectSet: the users a trigger runs the workflow
	// for, as a membership rule (the language of package entitlement/rule).
	Scope *RuleBasedSubjectSet `json:"scope,omitempty"`
	// Trigger says when.
	Trigger *WorkflowTrigger `json:"trigger,omitempty"`
}

// RuleBasedSubjectSet is Graph's ruleBasedSubjectSet. ODataType, if set,
// must be ScopeRuleBased: Graph's groupBasedSubjectSet is not supported
// yet, and is refused rather than read as an empty rule.
type RuleBasedSubjectSet struct {
	ODataType string `json:"@odata.type,omitempty"`
	Rule      string `json:"rule"`
}

// ScopeRuleBased is the @odata.type of a ruleBasedSubjectSet scope.
const ScopeRuleBased = "#microsoft.graph.identityGovernance.ruleBasedSubjectSet"

// WorkflowTrigger is Graph's workflowExecutionTrigger:
// TriggerTimeBasedAttribute (TimeBasedAttribute, OffsetInDays) or
// TriggerAttributeChange (TriggerAttributes). A time-based trigger fires at
// instants still ahead when a run is scheduled (the workflow created,
// versioned or enabled, or the user's attribute or scope changing): a user
// fed with a hire date already passed is not run for; run such users on
// demand (ActivateWorkflow).
type WorkflowTrigger struct {
	ODataType string `json:"@odata.type"`
	// TimeBasedAttribute is employeeHireDate (joiners) or
	// employeeLeaveDateTime (leavers).
	TimeBasedAttribute string `json:"timeBasedAttribute,omitempty"`
	// OffsetInDays moves the instant: -7 runs a week before the date.
	OffsetInDays int `json:"offsetInDays,omitempty"`
	// TriggerAttributes are the attributes whose change runs a mover
	// workflow (any user attribute SetUserAttribute changes, or managerId).
	TriggerAttributes []TriggerAttribute `json:"triggerAttributes,omitempty"`
}

// TriggerAttribute is Graph's triggerAttribute.
type TriggerAttribute struct {
	Name string `json:"name"`
}

// WorkflowTask is a task of a workflow (Graph
// microsoft.graph.identityGovernance.task).
type WorkflowTask struct {
	ID               string `json:"id,omitempty"`
	DisplayName      string `json:"displayName"`
	Description      string `json:"description,omitempty"`
	TaskDefinitionID string `json:"taskDefinitionId"`
	// IsEnabled false skips the task.
	IsEnabled bool `json:"isEnabled"`
	// ContinueOnError lets the tasks after it run when it fails; without
	// it they are canceled.
	ContinueOnError   bool           `json:"continueOnError"`
	ExecutionSequence int            `json:"executionSequence,omitempty"`
	Arguments         []KeyValuePair `json:"arguments,omitempty"`
}

// KeyValuePair is Graph's keyValuePair, a task's argument.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// argument returns the value of a task's argument name.
func (t *WorkflowTask) argument(name string) (string, bool) {
	for _, a := range t.Arguments {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Clone returns a deep copy of w.
func (w *Workflow) Clone() *Workflow {
	c := *w
	if s := w.ExecutionConditions.Scope; s != nil {
		sc := *s
		c.ExecutionConditions.Scope = &sc
	}
	if t := w.ExecutionConditions.Trigger; t != nil {
		tc := *t
		tc.TriggerAttributes = slices.Clone(t.TriggerAttributes)
		c.ExecutionConditions.Trigger = &tc
	}
	c.Tasks = slices.Clone(w.Tasks)
	for i := range c.Tasks {
		c.Tasks[i].Arguments = slices.Clone(c.Tasks[i].Arguments)
	}
	return &c
}

// scheduled reports whether the workflow's triggers run it now.
func (w *Workflow) scheduled() bool {
	return w.IsEnabled && w.IsSchedulingEnabled && w.ExecutionConditions.ODataType == ConditionsTriggerAndScopeBased
}

// timeAttribute returns the attribute of a time-based trigger, or "".
func (w *Workflow) timeAttribute() string {
	if t := w.ExecutionConditions.Trigger; t != nil && t.ODataType == TriggerTimeBasedAttribute {
		return t.TimeBasedAttribute
	}
	return ""
}

// changeAttributes returns the attributes of an attribute-change trigger.
func (w *Workflow) changeAttributes() []string {
	t := w.ExecutionConditions.Trigger
	if t == nil || t.ODataType != TriggerAttributeChange {
		return nil
	}
	var out []string
	for _, a := range t.TriggerAttributes {
		out = append(out, a.Name)
	}
	return out
}

// scopeRule returns the scope's rule, or "" for none.
func (w *Workflow) scopeRule() string {
	if s := w.ExecutionConditions.Scope; s != nil {
		return s.Rule
	}
	return ""
}

// inScope reports whether the user is in the workflow's scope.
func (w *Workflow) inScope(u *User) bool {
	return u.DeletedDateTime == nil && matchesRule(w.scopeRule(), u)
}

// triggerInstant returns when a time-based trigger fires for the user.
func (w *Workflow) triggerInstant(u *User) (time.Time, bool) {
	var v *time.Time
	switch w.timeAttribute() {
	case "employeeHireDate":
		v = u.EmployeeHireDate
	case "employeeLeaveDateTime":
		v = u.EmployeeLeaveDateTime
	}
	if v == nil {
		return time.Time{}, false
	}
	return v.AddDate(0, 0, w.ExecutionConditions.Trigger.OffsetInDays), true
}

// readsAttributes returns the user attributes whose change can change
// what the workflow does for a user: its scope's, and its trigger's.
func (w *Workflow) readsAttributes() []string {
	var out []string
	if r := parsedRule(w.scopeRule()); r != nil {
		out = append(out, r.Attributes()...)
	}
	if a := w.timeAttribute(); a != "" {
		out = append(out, a)
	}
	out = append(out, w.changeAttributes()...)
	slices.Sort(out)
	return slices.Compact(out)
}

// taskCategories are the categories each built-in task may serve in.
var taskCategories = map[string][]string{
	TaskRequestAccessPackageAssignment:     {WorkflowCategoryJoiner, WorkflowCategoryMover},
	TaskRemoveAccessPackageAssignment:      {WorkflowCategoryLeaver, WorkflowCategoryMover},
	TaskRemoveAllAccessPackageAssignments:  {WorkflowCategoryLeaver, WorkflowCategoryMover},
	TaskCancelPendingAccessPackageRequests: {WorkflowCategoryLeaver, WorkflowCategoryMover},
}

// taskArguments are the arguments each built-in task takes, required ones
// first.
var taskArguments = map[string]struct{ required, optional []string }{
	TaskRequestAccessPackageAssignment:     {required: []string{"accessPackageId", "assignmentPolicyId"}},
	TaskRemoveAccessPackageAssignment:      {required: []string{"accessPackageId"}},
	TaskRemoveAllAccessPackageAssignments:  {optional: []string{"daysUntilExpiration"}},
	TaskCancelPendingAccessPackageRequests: {},
}

// validate checks a workflow's own content (not what it refers to).
func (w *Workflow) validate() *InvalidError {
	if strings.TrimSpace(w.DisplayName) == "" {
		return invalidf("displayName", "is required")
	}
	switch w.Category {
	case WorkflowCategoryJoiner, WorkflowCategoryMover, WorkflowCategoryLeaver:
	default:
		return invalidf("category", "must be joiner, mover or leaver, not %q", w.Category)
	}
	if w.IsSchedulingEnabled && !w.IsEnabled {
		return invalidf("isSchedulingEnabled", "cannot be true for a disabled workflow")
	}
	if ie := w.validateConditions(); ie != nil {
		return ie
	}
	if len(w.Tasks) == 0 {
		return invalidf("tasks", "at least one task is required")
	}
	if len(w.Tasks) > MaxTasksPerWorkflow {
		return invalidf("tasks", "a workflow has at most %d tasks", MaxTasksPerWorkflow)
	}
	for i := range w.Tasks {
		if ie := w.validateTask(i); ie != nil {
			return ie
		}
	}
	return nil
}

func (w *Workflow) validateConditions() *InvalidError {
	c := w.ExecutionConditions
	switch c.ODataType {
	case ConditionsOnDemandOnly:
		if c.Scope != nil || c.Trigger != nil {
			return invalidf("executionConditions", "onDemandExecutionOnly takes no scope or trigger")
		}
		if w.IsSchedulingEnabled {
			return invalidf("isSchedulingEnabled", "an on-demand-only workflow has no schedule")
		}
		return nil
	case ConditionsTriggerAndScopeBased:
	default:
		return invalidf("executionConditions.@odata.type", "must be %s or %s", ConditionsTriggerAndScopeBased, ConditionsOnDemandOnly)
	}
	if c.Scope == nil {
		return invalidf("executionConditions.scope", "is required")
	}
	if t := c.Scope.ODataType; t != "" && t != ScopeRuleBased {
		return invalidf("executionConditions.scope.@odata.type", "%q is not supported yet: a scope is a %s (a membership rule)", t, ScopeRuleBased)
	}
	if _, err := rule.Parse(c.Scope.Rule); err != nil {
		return invalidf("executionConditions.scope.rule", "%v", err)
	}
	t := c.Trigger
	if t == nil {
		return invalidf("executionConditions.trigger", "is required")
	}
	switch t.ODataType {
	case TriggerTimeBasedAttribute:
		want := map[string]string{WorkflowCategoryJoiner: "employeeHireDate", WorkflowCategoryLeaver: "employeeLeaveDateTime"}[w.Category]
		if want == "" {
			return invalidf("executionConditions.trigger", "a mover workflow is triggered by an attribute change")
		}
		if t.TimeBasedAttribute != want {
			return invalidf("executionConditions.trigger.timeBasedAttribute", "a %s workflow is triggered by %s, not %q", w.Category, want, t.TimeBasedAttribute)
		}
		if t.OffsetInDays < -MaxWorkflowOffsetInDays || t.OffsetInDays > MaxWorkflowOffsetInDays {
			return invalidf("executionConditions.trigger.offsetInDays", "must be between -%d and %d", MaxWorkflowOffsetInDays, MaxWorkflowOffsetInDays)
		}
		if len(t.TriggerAttributes) > 0 {
			return invalidf("executionConditions.trigger.triggerAttributes", "belong to an attributeChangeTrigger")
		}
	case TriggerAttributeChange:
		if w.Category != WorkflowCategoryMover {
			return invalidf("executionConditions.trigger", "only mover workflows are triggered by an attribute change")
		}
		if len(t.TriggerAttributes) == 0 {
			return invalidf("executionConditions.trigger.triggerAttributes", "at least one attribute is required")
		}
		for i, a := range t.TriggerAttributes {
			if !slices.Contains(userAttributes, a.Name) && a.Name != "managerId" {
				return invalidf(fmt.Sprintf("executionConditions.trigger.triggerAttributes[%d].name", i), "unknown attribute %q", a.Name)
			}
		}
		if t.TimeBasedAttribute != "" || t.OffsetInDays != 0 {
			return invalidf("executionConditions.trigger", "timeBasedAttribute and offsetInDays belong to a timeBasedAttributeTrigger")
		}
	default:
		return invalidf("executionConditions.trigger.@odata.type", "must be %s or %s", TriggerTimeBasedAttribute, TriggerAttributeChange)
	}
	return nil
}

func (w *Workflow) validateTask(i int) *InvalidError {
	t := &w.Tasks[i]
	path := fmt.Sprintf("tasks[%d]", i)
	if strings.TrimSpace(t.DisplayName) == "" {
		return invalidf(path+".displayName", "is required")
	}
	cats, ok := taskCategories[t.TaskDefinitionID]
	if !ok {
		return invalidf(path+".taskDefinitionId", "%q is not one of the access package tasks this library runs", t.TaskDefinitionID)
	}
	if !slices.Contains(cats, w.Category) {
		return invalidf(path+".taskDefinitionId", "the task serves %s workflows, not %s", strings.Join(cats, " and "), w.Category)
	}
	args := taskArguments[t.TaskDefinitionID]
	for j, a := range t.Arguments {
		if !slices.Contains(args.required, a.Name) && !slices.Contains(args.optional, a.Name) {
			return invalidf(fmt.Sprintf("%s.arguments[%d].name", path, j), "the task takes no argument %q", a.Name)
		}
		for k := range j {
			if t.Arguments[k].Name == a.Name {
				return invalidf(fmt.Sprintf("%s.arguments[%d].name", path, j), "%q is given twice", a.Name)
			}
		}
	}
	for _, name := range args.required {
		v, ok := t.argument(name)
		if !ok {
			return invalidf(path+".arguments", "%q is required", name)
		}
		if _, err := uuid.Parse(v); err != nil {
			return invalidf(path+".arguments", "%s %q is not a GUID", name, v)
		}
	}
	if v, ok := t.argument("daysUntilExpiration"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxDaysUntilExpirationOfTask {
			return invalidf(path+".arguments", "daysUntilExpiration must be a whole number of days from 1 to %d", MaxDaysUntilExpirationOfTask)
		}
	}
	return nil
}
