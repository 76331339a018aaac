package entitlement

import (
	"slices"
	"time"
)

// Request types (Graph accessPackageRequestType) of assignment requests.
// RequestTypeAdminAdd, RequestTypeAdminUpdate and RequestTypeAdminRemove
// are declared with the resource requests, which share them.
const (
	RequestTypeUserAdd      = "userAdd"
	RequestTypeUserUpdate   = "userUpdate"
	RequestTypeUserRemove   = "userRemove"
	RequestTypeSystemAdd    = "systemAdd"
	RequestTypeSystemUpdate = "systemUpdate"
	RequestTypeSystemRemove = "systemRemove"
	RequestTypeOnBehalfAdd  = "onBehalfAdd"
)

// Request states (Graph accessPackageRequestState).
const (
	RequestStateSubmitted          = "submitted"
	RequestStatePendingApproval    = "pendingApproval"
	RequestStateScheduled          = "scheduled"
	RequestStateDelivering         = "delivering"
	RequestStatePartiallyDelivered = "partiallyDelivered"
	RequestStateDeliveryFailed     = "deliveryFailed"
	RequestStateDenied             = "denied"
	RequestStateCanceled           = "canceled"
	// RequestStateDelivered ("delivered") is declared with the resource requests.
)

// IsRequestState reports whether s is one of the RequestState constants.
func IsRequestState(s string) bool {
	switch s {
	case RequestStateSubmitted, RequestStatePendingApproval, RequestStateScheduled, RequestStateDelivering,
		RequestStatePartiallyDelivered, RequestStateDeliveryFailed, RequestStateDenied, RequestStateCanceled, RequestStateDelivered:
		return true
	}
	return false
}

// Request statuses: the finer-grained status string of §2.1.
const (
	RequestStatusAccepted                 = "Accepted"
	RequestStatusPendingApproval          = "PendingApproval"
	RequestStatusPendingApprovalEscalated = "PendingApprovalEscalated"
	RequestStatusPendingNotBefore         = "PendingNotBefore"
	RequestStatusDelivering               = "Delivering"
	RequestStatusDelivered                = "Delivered"
	RequestStatusPartiallyDelivered       = "PartiallyDelivered"
	RequestStatusDeliveryFailed           = "DeliveryFailed"
	RequestStatusDenied                   = "Denied"
	RequestStatusTimedOut                 = "TimedOut"
	RequestStatusCanceled                 = "Canceled"
)

// Approval stage statuses and review results (Graph approvalStage).
const (
	StageStatusInProgress = "InProgress"
	StageStatusCompleted  = "Completed"
	StageStatusExpired    = "Expired"

	ReviewNotReviewed = "NotReviewed"
	ReviewApproved    = "Approved"
	ReviewDenied      = "Denied"
)

// Decisions an approver writes into a stage (Graph approvalStage.reviewResult
// in a PATCH).
const (
	DecisionApprove = "Approve"
	DecisionDeny    = "Deny"
)

// ReprocessWindow is how long after completion a request whose delivery
// failed, fully or partly, may be reprocessed (the API's 14 days; the
// portal documentation says 7).
const ReprocessWindow = 14 * 24 * time.Hour

// AssignmentRequest is an accessPackageAssignmentRequest, with its approval
// (Graph's approval object shares the request's id) and the policy it was
// submitted under.
//
// Graph's navigation properties (accessPackage, assignment, requestor) are
// flattened into ids: AccessPackageID, AssignmentPolicyID, AssignmentID,
// TargetID and RequestorID.
//
// Policy is the assignment policy as it was when the request was
// submitted, and PolicyVersion its version (1 when created, one more with
// every replacement). The request follows that version's approval stages
// and expiration to the end, whatever happens to the policy afterwards.
// The requests the State holds share one copy of each policy version;
// reads return requests with a copy of their own.
type AssignmentRequest struct {
	ID                 string                        `json:"id"`
	RequestType        string                        `json:"requestType"`
	State              string                        `json:"state"`
	Status             string                        `json:"status"`
	Schedule           EntitlementManagementSchedule `json:"schedule,omitzero"`
	Justification      string                        `json:"justification,omitempty"`
	Answers            []Answer                      `json:"answers,omitempty"`
	CreatedDateTime    time.Time                     `json:"createdDateTime"`
	CompletedDateTime  *time.Time                    `json:"completedDateTime,omitempty"`
	AccessPackageID    string                        `json:"accessPackageId"`
	AssignmentPolicyID string                        `json:"assignmentPolicyId"`
	PolicyVersion      int                           `json:"policyVersion"`
	Policy             *AssignmentPolicy             `json:"policy,omitempty"`
	// AssignmentID is the assignment the request created (add) or acts on
	// (update, remove); empty until an add request starts delivering.
	AssignmentID string `json:"assignmentId,omitempty"`
	TargetID     string `json:"targetId"`
	RequestorID  string `json:"requestorId"`
	// TargetSubject is who asked, for a requestor who was not in the
	// directory (ExternalActor): TargetID and RequestorID are the id the
	// guest gets on approval.
	TargetSubject *AccessPackageSubject `json:"targetSubject,omitempty"`
	// Stages are the approval stages opened so far, in order.
	Stages []ApprovalStageState `json:"stages,omitempty"`
}

// IsTerminal reports whether the request reached a state no event leaves:
// denied, canceled or delivered.
func (r *AssignmentRequest) IsTerminal() bool {
	switch r.State {
	case RequestStateDenied, RequestStateCanceled, RequestStateDelivered:
		return true
	}
	return false
}

// cancelable reports whether the request may still be canceled: submitted,
// pending approval or scheduled.
func (r *AssignmentRequest) cancelable() bool {
	switch r.State {
	case RequestStateSubmitted, RequestStatePendingApproval, RequestStateScheduled:
		return true
	}
	return false
}

// isOpen reports whether the request is still being processed: not
// terminal and not failed (fully or partly).
func (r *AssignmentRequest) isOpen() bool {
	switch r.State {
	case RequestStateSubmitted, RequestStatePendingApproval, RequestStateScheduled, RequestStateDelivering:
		return true
	}
	return false
}

// currentStage returns the open stage of a request pending approval.
func (r *AssignmentRequest) currentStage() *ApprovalStageState {
	if r.State != RequestStatePendingApproval || len(r.Stages) == 0 {
		return nil
	}
	st := &r.Stages[len(r.Stages)-1]
	if st.Status != StageStatusInProgress {
		return nil
	}
	return st
}

// WaitsFor returns the stage of r that waits for approverID's decision: the
// open stage of a request pending approval, if approverID is among the
// approvers who may decide it now (the escalation approvers once it
// escalated) and neither made nor is the target of the request.
func (r *AssignmentRequest) WaitsFor(approverID string) (ApprovalStageState, bool) {
	st := r.currentStage()
	if st == nil || r.RequestorID == approverID || r.TargetID == approverID || !st.mayDecide(approverID) {
		return ApprovalStageState{}, false
	}
	return cloneStage(*st), true
}

// ApprovalStageState is one stage of a request's approval (Graph
// approvalStage) with the approvers resolved when it opened.
type ApprovalStageState struct {
	ID string `json:"id"`
	// Stage is the 1-based index of the stage in the policy's stages.
	Stage            int        `json:"stage"`
	Status           string     `json:"status"`
	ReviewResult     string     `json:"reviewResult"`
	ReviewedBy       string     `json:"reviewedBy,omitempty"`
	ReviewedDateTime *time.Time `json:"reviewedDateTime,omitempty"`
	Justification    string     `json:"justification,omitempty"`
	OpenedDateTime   time.Time  `json:"openedDateTime"`
	// Approvers are the primary approvers resolved when the stage opened,
	// or the fallback primary approvers if the primaries resolved to
	// nobody (FallbackUsed). The requestor and the target are never among
	// them.
	Approvers    []string `json:"approvers,omitempty"`
	FallbackUsed bool     `json:"fallbackUsed,omitempty"`
	// Escalated is set once durationBeforeEscalation passed without a
	// decision; EscalationApprovers are then resolved (or the fallback
	// escalation approvers) and may decide beside the primaries.
	Escalated              bool       `json:"escalated,omitempty"`
	EscalatedDateTime      *time.Time `json:"escalatedDateTime,omitempty"`
	EscalationApprovers    []string   `json:"escalationApprovers,omitempty"`
	EscalationFallbackUsed bool       `json:"escalationFallbackUsed,omitempty"`
}

// mayDecide reports whether id is an approver of the stage now.
func (st *ApprovalStageState) mayDecide(id string) bool {
	for _, x := range st.Approvers {
		if x == id {
			return true
		}
	}
	if st.Escalated {
		for _, x := range st.EscalationApprovers {
			if x == id {
				return true
			}
		}
	}
	return false
}

// requestKind is the family of a request type.
type requestKind int

const (
	kindAdd requestKind = iota + 1
	kindUpdate
	kindRemove
)

// requestTypeKind returns the family of a request type, or 0 if it is not
// an assignment request type this package accepts.
func requestTypeKind(t string) requestKind {
	switch t {
	case RequestTypeUserAdd, RequestTypeAdminAdd, RequestTypeSystemAdd, RequestTypeOnBehalfAdd:
		return kindAdd
	case RequestTypeUserUpdate, RequestTypeAdminUpdate, RequestTypeSystemUpdate:
		return kindUpdate
	case RequestTypeUserRemove, RequestTypeAdminRemove, RequestTypeSystemRemove:
		return kindRemove
	}
	return 0
}

// cloneRequest returns a deep copy of r, its policy included.
func cloneRequest(r AssignmentRequest) AssignmentRequest {
	r = cloneRequestData(r)
	r.Policy = r.Policy.Clone()
	return r
}

// cloneRequestData returns a deep copy of r that shares r's policy.
func cloneRequestData(r AssignmentRequest) AssignmentRequest {
	r.Answers = cloneNonEmpty(r.Answers)
	r.CompletedDateTime = clonePtr(r.CompletedDateTime)
	r.Schedule = cloneSchedule(r.Schedule)
	if r.Stages != nil {
		st := make([]ApprovalStageState, len(r.Stages))
		for i, s := range r.Stages {
			st[i] = cloneStage(s)
		}
		r.Stages = st
	}
	return r
}

// copy returns a copy of a request of the State for an event to change:
// the State's objects are never changed in place, and the parts of a
// request that events change in place are the stages.
func (r *AssignmentRequest) copy() *AssignmentRequest {
	c := *r
	c.Stages = slices.Clone(r.Stages)
	return &c
}

// cloneRequests returns deep copies of rs, copying each policy version
// once.
func cloneRequests(rs []*AssignmentRequest) []AssignmentRequest {
	out := make([]AssignmentRequest, len(rs))
	pols := map[*AssignmentPolicy]*AssignmentPolicy{}
	for i, r := range rs {
		out[i] = cloneRequestData(*r)
		p, ok := pols[r.Policy]
		if !ok {
			p = r.Policy.Clone()
			pols[r.Policy] = p
		}
		out[i].Policy = p
	}
	return out
}

func cloneStage(s ApprovalStageState) ApprovalStageState {
	s.ReviewedDateTime = clonePtr(s.ReviewedDateTime)
	s.EscalatedDateTime = clonePtr(s.EscalatedDateTime)
	s.Approvers = cloneNonEmpty(s.Approvers)
	s.EscalationApprovers = cloneNonEmpty(s.EscalationApprovers)
	return s
}

func cloneSchedule(s EntitlementManagementSchedule) EntitlementManagementSchedule {
	s.StartDateTime = canonicalTime(s.StartDateTime)
	s.Expiration = cloneExpiration(s.Expiration)
	s.Recurrence.Pattern.DaysOfWeek = cloneNonEmpty(s.Recurrence.Pattern.DaysOfWeek)
	return s
}
