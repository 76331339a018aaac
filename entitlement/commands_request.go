package entitlement

// CreateAssignmentRequest creates an assignment request (POST
// /assignmentRequests).
//
// For an add request (userAdd, adminAdd, systemAdd, onBehalfAdd) set
// AccessPackageID, AssignmentPolicyID and TargetID (for userAdd TargetID
// may be left empty: it is the actor). For an update (extension) or a
// removal set AssignmentID (AccessPackageID and AssignmentPolicyID, if
// set, must be the assignment's). Schedule is the requested schedule; the
// zero value means none, which a policy without
// allowCustomAssignmentSchedule requires. An update keeps the assignment's
// start: its schedule's expiration counts from when the update is granted,
// and a startDateTime after now is refused. A requested end after the
// policy's, or no end where the policy sets one, is refused, and so is a
// recurrence (Graph uses it for access reviews, not in requests). A
// removal takes neither a schedule nor answers.
type CreateAssignmentRequest struct {
	RequestType        string
	AccessPackageID    string
	AssignmentPolicyID string
	TargetID           string
	AssignmentID       string
	Schedule           EntitlementManagementSchedule
	Justification      string
	Answers            []Answer
}

// UpdateApprovalStage records an approver's decision on the open stage of
// a request's approval (PATCH /approvals/{id}/stages/{id}). ApprovalID is
// the request's id; ReviewResult is DecisionApprove or DecisionDeny. The
// last stage of an add request cannot be approved (ErrConflict) if its
// target has since been deleted, blocked by the directory, or given a
// package or group the requested package lists as incompatible: deny it.
type UpdateApprovalStage struct {
	ApprovalID    string
	StageID       string
	ReviewResult  string
	Justification string
}

// CancelAssignmentRequest cancels a request that is submitted, pending
// approval or scheduled (POST /assignmentRequests/{id}/cancel).
type CancelAssignmentRequest struct {
	RequestID string
}

// ReprocessAssignmentRequest delivers again a request whose delivery failed
// fully or partly, within ReprocessWindow of its completion (POST
// /assignmentRequests/{id}/reprocess).
type ReprocessAssignmentRequest struct {
	RequestID string
}

// DeleteAssignmentRequest deletes a request that is denied, canceled or
// delivered and has no assignment: it created none, and, delivered, is not
// an update or removal of one.
type DeleteAssignmentRequest struct {
	RequestID string
}

// ReprocessAssignment grants again every resource role of a delivered
// assignment (POST /assignments/{id}/reprocess). It also retries the
// grants of an assignment whose delivery failed after its request was
// delivered (partiallyDelivered or deliveryFailed since a reprocess or a
// role scope added to the package), which its request, terminal, cannot;
// a failed first delivery is retried by ReprocessAssignmentRequest.
type ReprocessAssignment struct {
	AssignmentID string
}

// RecordDelivery records what the Deliverer did with pending grants and
// removals, and completes the requests whose delivery thereby ended: those
// of the assignments named in Outcomes or Complete that are delivering and
// have nothing pending left. The Manager executes it by itself after every
// command that leaves delivery work; only the system may.
type RecordDelivery struct {
	Outcomes []DeliveryOutcome
	// Complete names assignments being delivered with nothing to grant
	// (their package has no resource roles), whose requests are complete.
	Complete []string
	// Directory records what the DirectoryDeliverer did with the changes
	// the external user lifecycle asked of the directory.
	Directory []DirectoryChangeResult `json:",omitempty"`
}

// DirectoryChangeResult is the outcome of one directory change for a
// governed guest (blockSignIn, unblockSignIn or delete). Error is empty on
// success.
type DirectoryChangeResult struct {
	UserID string
	Change string
	Error  string
}

// Delivery actions of a DeliveryOutcome.
const (
	DeliveryActionGrant  = "grant"
	DeliveryActionRevoke = "revoke"
)

// DeliveryOutcome is the outcome of granting or revoking one resource role
// of an assignment. Error is empty on success. Note explains a success
// that needed no call (a role kept because another assignment grants it).
type DeliveryOutcome struct {
	AssignmentID        string
	ResourceRoleScopeID string
	Action              string
	Error               string
	Note                string
}

// AdvanceTime processes everything due up to the decision time: approval
// stages escalating or timing out, scheduled requests starting, expiry
// notices and assignments expiring, in time order. Only the system may;
// Manager.ProcessDue executes it with the decision time set to its until.
type AdvanceTime struct{}

func (CreateAssignmentRequest) commandName() string    { return "CreateAssignmentRequest" }
func (UpdateApprovalStage) commandName() string        { return "UpdateApprovalStage" }
func (CancelAssignmentRequest) commandName() string    { return "CancelAssignmentRequest" }
func (ReprocessAssignmentRequest) commandName() string { return "ReprocessAssignmentRequest" }
func (DeleteAssignmentRequest) commandName() string    { return "DeleteAssignmentRequest" }
func (ReprocessAssignment) commandName() string        { return "ReprocessAssignment" }
func (RecordDelivery) commandName() string             { return "RecordDelivery" }
func (AdvanceTime) commandName() string                { return "AdvanceTime" }
