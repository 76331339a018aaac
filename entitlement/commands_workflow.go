package entitlement

// CreateWorkflow creates a lifecycle workflow (Graph POST
// identityGovernance/lifecycleWorkflows/workflows) at version 1. The
// workflow's and its tasks' ids are assigned; ExecutionSequence follows the
// order of Tasks. A scheduled workflow with a time-based trigger schedules
// a run for every user in scope whose trigger instant is still ahead.
type CreateWorkflow struct {
	Workflow Workflow
}

// UpdateWorkflow sets a workflow's basic properties (Graph PATCH), which
// make no new version. It sets all four, as given: unlike a PATCH, a
// property left zero is set to its zero value (an empty description,
// false), and the display name is required. Enabling scheduling schedules
// the runs whose trigger instant is still ahead; disabling it cancels the
// scheduled runs.
type UpdateWorkflow struct {
	WorkflowID          string
	DisplayName         string
	Description         string
	IsEnabled           bool
	IsSchedulingEnabled bool
}

// CreateWorkflowVersion replaces a workflow's execution conditions and
// tasks (and basic properties) with a new version (Graph POST
// workflows/{id}/createNewVersion). Runs that fell due run first, with
// the version they fell due under, as of their instants, as ProcessDue
// would have. Runs still ahead run with the new version if it schedules
// them too (a time-based run whose instant is the same under the new
// version); the others are canceled, and the new version's instants
// ahead are scheduled.
type CreateWorkflowVersion struct {
	WorkflowID string
	Workflow   Workflow
}

// DeleteWorkflow deletes a workflow and cancels its scheduled runs. Its
// processing results stay readable.
type DeleteWorkflow struct {
	WorkflowID string
}

// ActivateWorkflow runs an enabled workflow now for up to
// MaxUsersPerOnDemandRun users (Graph POST workflows/{id}/activate),
// whether or not they are in its scope.
type ActivateWorkflow struct {
	WorkflowID string
	Subjects   []string
}

func (CreateWorkflow) commandName() string        { return "CreateWorkflow" }
func (UpdateWorkflow) commandName() string        { return "UpdateWorkflow" }
func (CreateWorkflowVersion) commandName() string { return "CreateWorkflowVersion" }
func (DeleteWorkflow) commandName() string        { return "DeleteWorkflow" }
func (ActivateWorkflow) commandName() string      { return "ActivateWorkflow" }
