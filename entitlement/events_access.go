package entitlement

import (
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

func requestStream(id string) eventstore.StreamID {
	return eventstore.StreamID("assignmentRequest/" + id)
}
func assignmentStream(id string) eventstore.StreamID {
	return eventstore.StreamID("assignment/" + id)
}

// Event types of requests, approvals and assignments. A new request is
// recorded under the type of its request type's family, so that each has
// its own audit activity.
const (
	EventAssignmentRequestCreated               = "assignmentRequestCreated"             // userAdd, onBehalfAdd
	EventAssignmentExtendRequestCreated         = "assignmentExtendRequestCreated"       // userUpdate
	EventAssignmentRemoveRequestCreated         = "assignmentRemoveRequestCreated"       // userRemove
	EventAdminAssignmentRequestCreated          = "assignmentAdminAddRequestCreated"     // adminAdd
	EventAdminUpdateRequestCreated              = "assignmentAdminUpdateRequestCreated"  // adminUpdate
	EventAdminRemoveRequestCreated              = "assignmentAdminRemoveRequestCreated"  // adminRemove
	EventSystemAssignmentRequestCreated         = "assignmentSystemRequestCreated"       // systemAdd, systemUpdate
	EventSystemRemoveRequestCreated             = "assignmentSystemRemoveRequestCreated" // systemRemove
	EventApprovalStageOpened                    = "assignmentRequestApprovalStageOpened"
	EventApprovalStageEscalated                 = "assignmentRequestApprovalStageEscalated"
	EventAssignmentRequestApproved              = "assignmentRequestApproved"
	EventAssignmentRequestDenied                = "assignmentRequestDenied"
	EventAssignmentRequestTimedOut              = "assignmentRequestTimedOut"
	EventAssignmentRequestAutoApproved          = "assignmentRequestAutoApproved"
	EventAssignmentRequestScheduled             = "assignmentRequestScheduled"
	EventAssignmentDelivering                   = "assignmentDelivering"
	EventResourceAssignmentFulfilled            = "accessPackageResourceAssignmentFulfilled"
	EventResourceAssignmentFailed               = "accessPackageResourceAssignmentFailed"
	EventResourceAssignmentRemoved              = "accessPackageResourceAssignmentRemoved"
	EventResourceAssignmentRemovalFailed        = "accessPackageResourceAssignmentRemovalFailed"
	EventAssignmentRequestFulfilled             = "assignmentRequestFulfilled"
	EventAssignmentRequestPartiallyFulfilled    = "assignmentRequestPartiallyFulfilled"
	EventAssignmentRequestFailed                = "assignmentRequestFailed"
	EventAssignmentExtended                     = "assignmentExtended"
	EventAssignmentExpired                      = "assignmentExpired"
	EventAssignmentFourteenDaysBeforeExpiration = "assignmentFourteenDaysBeforeExpiration"
	EventAssignmentOneDayBeforeExpiration       = "assignmentOneDayBeforeExpiration"
	EventAssignmentRequestCanceled              = "assignmentRequestCanceled"
	EventAssignmentRequestDeleted               = "assignmentRequestDeleted"
	EventAssignmentRequestReprocessed           = "assignmentRequestReprocessed"
	EventAssignmentReprocessed                  = "assignmentReprocessed"
)

// requestCreatedType returns the event type recording a new request of type t.
func requestCreatedType(t string) string {
	switch t {
	case RequestTypeUserUpdate:
		return EventAssignmentExtendRequestCreated
	case RequestTypeUserRemove:
		return EventAssignmentRemoveRequestCreated
	case RequestTypeAdminAdd:
		return EventAdminAssignmentRequestCreated
	case RequestTypeAdminUpdate:
		return EventAdminUpdateRequestCreated
	case RequestTypeAdminRemove:
		return EventAdminRemoveRequestCreated
	case RequestTypeSystemAdd, RequestTypeSystemUpdate:
		return EventSystemAssignmentRequestCreated
	case RequestTypeSystemRemove:
		return EventSystemRemoveRequestCreated
	}
	return EventAssignmentRequestCreated
}

// AssignmentRequestPayload carries a new request as submitted (status
// Accepted). Its Policy is nil: the request names its policy and the
// policy's version, whose content the log holds in the policy's own events
// (schema version 2). Payloads of schema version 1 carried a copy of the
// policy; it is read, and used if the State no longer has that version.
type AssignmentRequestPayload struct {
	Request AssignmentRequest `json:"request"`
}

// requestCreatedTypes are the event types of new requests.
var requestCreatedTypes = map[string]bool{
	EventAssignmentRequestCreated: true, EventAssignmentExtendRequestCreated: true, EventAssignmentRemoveRequestCreated: true,
	EventAdminAssignmentRequestCreated: true, EventAdminUpdateRequestCreated: true, EventAdminRemoveRequestCreated: true,
	EventSystemAssignmentRequestCreated: true, EventSystemRemoveRequestCreated: true,
}

// ApprovalStagePayload records a stage opening or escalating, with the
// approvers resolved at that moment.
type ApprovalStagePayload struct {
	RequestID string             `json:"requestId"`
	Stage     ApprovalStageState `json:"stage"`
}

// ApprovalDecision records an approver's decision on the open stage.
type ApprovalDecision struct {
	RequestID        string    `json:"requestId"`
	StageID          string    `json:"stageId"`
	ReviewedBy       string    `json:"reviewedBy"`
	Justification    string    `json:"justification,omitempty"`
	ReviewedDateTime time.Time `json:"reviewedDateTime"`
}

// RequestChanged records a request moving on: auto-approval, scheduling,
// time-out, cancellation, deletion, reprocessing or the outcome of its
// delivery. DateTime is when it happened (for outcomes, completedDateTime).
type RequestChanged struct {
	RequestID    string    `json:"requestId"`
	AssignmentID string    `json:"assignmentId,omitempty"`
	DateTime     time.Time `json:"dateTime"`
}

// AssignmentDelivering records an approved add request starting delivery:
// the new assignment, in state delivering, with every resource role
// pending.
type AssignmentDelivering struct {
	RequestID  string     `json:"requestId"`
	Assignment Assignment `json:"assignment"`
}

// ResourceDeliveryPayload records the outcome of granting or removing one
// resource role of an assignment.
type ResourceDeliveryPayload struct {
	AssignmentID string           `json:"assignmentId"`
	TargetID     string           `json:"targetId"`
	Resource     ResourceDelivery `json:"resource"`
}

// AssignmentExtended records an update request changing an assignment's
// schedule.
type AssignmentExtended struct {
	AssignmentID string                        `json:"assignmentId"`
	RequestID    string                        `json:"requestId"`
	Schedule     EntitlementManagementSchedule `json:"schedule"`
	DateTime     time.Time                     `json:"dateTime"`
}

// AssignmentExpired records an assignment ending, by expiry (RequestID
// empty) or through a remove request. ExpiredDateTime is when it ended.
type AssignmentExpired struct {
	AssignmentID    string    `json:"assignmentId"`
	RequestID       string    `json:"requestId,omitempty"`
	ExpiredDateTime time.Time `json:"expiredDateTime"`
}

// AssignmentNotice records an expiry notice: the assignment ends at
// EndDateTime. The embedding program may notify the target or run a custom
// extension on it, unless NotificationDisabled: the assignment's policy
// turns notifications off (isAssignmentNotificationDisabled).
type AssignmentNotice struct {
	AssignmentID         string    `json:"assignmentId"`
	TargetID             string    `json:"targetId"`
	EndDateTime          time.Time `json:"endDateTime"`
	NotificationDisabled bool      `json:"notificationDisabled,omitempty"`
}

// AssignmentRef names an assignment (EventAssignmentReprocessed).
type AssignmentRef struct {
	AssignmentID string `json:"assignmentId"`
}

var accessRegistry = map[string]func() any{
	EventAssignmentRequestCreated:               func() any { return new(AssignmentRequestPayload) },
	EventAssignmentExtendRequestCreated:         func() any { return new(AssignmentRequestPayload) },
	EventAssignmentRemoveRequestCreated:         func() any { return new(AssignmentRequestPayload) },
	EventAdminAssignmentRequestCreated:          func() any { return new(AssignmentRequestPayload) },
	EventAdminUpdateRequestCreated:              func() any { return new(AssignmentRequestPayload) },
	EventAdminRemoveRequestCreated:              func() any { return new(AssignmentRequestPayload) },
	EventSystemAssignmentRequestCreated:         func() any { return new(AssignmentRequestPayload) },
	EventSystemRemoveRequestCreated:             func() any { return new(AssignmentRequestPayload) },
	EventApprovalStageOpened:                    func() any { return new(ApprovalStagePayload) },
	EventApprovalStageEscalated:                 func() any { return new(ApprovalStagePayload) },
	EventAssignmentRequestApproved:              func() any { return new(ApprovalDecision) },
	EventAssignmentRequestDenied:                func() any { return new(ApprovalDecision) },
	EventAssignmentRequestTimedOut:              func() any { return new(RequestChanged) },
	EventAssignmentRequestAutoApproved:          func() any { return new(RequestChanged) },
	EventAssignmentRequestScheduled:             func() any { return new(RequestChanged) },
	EventAssignmentDelivering:                   func() any { return new(AssignmentDelivering) },
	EventResourceAssignmentFulfilled:            func() any { return new(ResourceDeliveryPayload) },
	EventResourceAssignmentFailed:               func() any { return new(ResourceDeliveryPayload) },
	EventResourceAssignmentRemoved:              func() any { return new(ResourceDeliveryPayload) },
	EventResourceAssignmentRemovalFailed:        func() any { return new(ResourceDeliveryPayload) },
	EventAssignmentRequestFulfilled:             func() any { return new(RequestChanged) },
	EventAssignmentRequestPartiallyFulfilled:    func() any { return new(RequestChanged) },
	EventAssignmentRequestFailed:                func() any { return new(RequestChanged) },
	EventAssignmentExtended:                     func() any { return new(AssignmentExtended) },
	EventAssignmentExpired:                      func() any { return new(AssignmentExpired) },
	EventAssignmentFourteenDaysBeforeExpiration: func() any { return new(AssignmentNotice) },
	EventAssignmentOneDayBeforeExpiration:       func() any { return new(AssignmentNotice) },
	EventAssignmentRequestCanceled:              func() any { return new(RequestChanged) },
	EventAssignmentRequestDeleted:               func() any { return new(RequestChanged) },
	EventAssignmentRequestReprocessed:           func() any { return new(RequestChanged) },
	EventAssignmentReprocessed:                  func() any { return new(AssignmentRef) },
}

var accessActivities = map[string]string{
	EventAssignmentRequestCreated:               "User requests access package assignment",
	EventAssignmentExtendRequestCreated:         "User requests to extend access package assignment",
	EventAssignmentRemoveRequestCreated:         "User requests to remove access package assignment",
	EventAdminAssignmentRequestCreated:          "Administrator directly assigns user to access package",
	EventAdminUpdateRequestCreated:              "Create access package assignment user update request",
	EventAdminRemoveRequestCreated:              "Administrator directly removes user access package assignment",
	EventSystemAssignmentRequestCreated:         "Entitlement Management creates access package assignment request for user",
	EventSystemRemoveRequestCreated:             "Entitlement Management removes access package assignment request for user",
	EventApprovalStageOpened:                    "Create request approval",
	EventApprovalStageEscalated:                 "Add approver to request approval",
	EventAssignmentRequestApproved:              "Approve access package assignment request",
	EventAssignmentRequestDenied:                "Deny access package assignment request",
	EventAssignmentRequestTimedOut:              "Access package assignment request timed out (no approver action taken)",
	EventAssignmentRequestAutoApproved:          "Auto approve access package assignment request",
	EventAssignmentRequestScheduled:             "Schedule a future access package assignment",
	EventAssignmentDelivering:                   "Ready to fulfill access package assignment request",
	EventResourceAssignmentFulfilled:            "Fulfill access package resource assignment",
	EventResourceAssignmentFailed:               "Fulfill access package resource assignment",
	EventResourceAssignmentRemoved:              "Remove access package resource assignment",
	EventResourceAssignmentRemovalFailed:        "Remove access package resource assignment",
	EventAssignmentRequestFulfilled:             "Fulfill access package assignment request",
	EventAssignmentRequestPartiallyFulfilled:    "Partially fulfill access package assignment request",
	EventAssignmentRequestFailed:                "Failed access package assignment request",
	EventAssignmentExtended:                     "Extend access package assignment",
	EventAssignmentExpired:                      "Remove access package assignment",
	EventAssignmentFourteenDaysBeforeExpiration: "Access package assignment expires in 14 days",
	EventAssignmentOneDayBeforeExpiration:       "Access package assignment expires in 1 day",
	EventAssignmentRequestCanceled:              "Cancel access package assignment request",
	EventAssignmentRequestDeleted:               "Delete access package assignment request",
	EventAssignmentRequestReprocessed:           "Update access package assignment request",
	EventAssignmentReprocessed:                  "Reprocess access package assignment",
}

func init() {
	for t, mk := range accessRegistry {
		registry[t] = mk
	}
	for t, n := range accessActivities {
		activities[t] = n
	}
}
