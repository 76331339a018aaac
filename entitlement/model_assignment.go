package entitlement

import (
	"slices"
	"time"
)

// Assignment states (Graph accessPackageAssignmentState).
const (
	AssignmentStateDelivering         = "delivering"
	AssignmentStatePartiallyDelivered = "partiallyDelivered"
	AssignmentStateDelivered          = "delivered"
	AssignmentStateExpired            = "expired"
	AssignmentStateDeliveryFailed     = "deliveryFailed"
)

// IsAssignmentState reports whether s is one of the AssignmentState
// constants.
func IsAssignmentState(s string) bool {
	switch s {
	case AssignmentStateDelivering, AssignmentStatePartiallyDelivered, AssignmentStateDelivered, AssignmentStateExpired, AssignmentStateDeliveryFailed:
		return true
	}
	return false
}

// Assignment statuses (Graph accessPackageAssignment.status).
const (
	AssignmentStatusDelivering                            = "Delivering"
	AssignmentStatusDelivered                             = "Delivered"
	AssignmentStatusPartiallyDelivered                    = "PartiallyDelivered"
	AssignmentStatusDeliveryFailed                        = "DeliveryFailed"
	AssignmentStatusNearExpiry14DaysNotificationTriggered = "NearExpiry14DaysNotificationTriggered"
	AssignmentStatusNearExpiry1DayNotificationTriggered   = "NearExpiry1DayNotificationTriggered"
	AssignmentStatusExpired                               = "Expired"
)

// Delivery statuses of one resource role of an assignment.
const (
	// DeliveryPendingGrant: the role is to be granted to the target.
	DeliveryPendingGrant = "pendingGrant"
	// DeliveryFulfilled: the role was granted.
	DeliveryFulfilled = "fulfilled"
	// DeliveryFailed: granting the role failed; Reason says why.
	DeliveryFailed = "failed"
	// DeliveryPendingRemoval: the role is to be taken away (the assignment
	// ended or the package no longer grants it).
	DeliveryPendingRemoval = "pendingRemoval"
	// DeliveryRemoved: the role was taken away, or kept because another
	// assignment of the same target still grants it (Reason says so).
	DeliveryRemoved = "removed"
	// DeliveryRemovalFailed: taking the role away failed; Reason says why.
	DeliveryRemovalFailed = "removalFailed"
)

// Assignment is an accessPackageAssignment: an access package granted to a
// target through a policy, created by an add request, with the delivery
// outcome of each resource role the package grants. As on
// AssignmentRequest, Graph's relationships are flattened into ids. Every
// end, by expiry or removal, is state expired with ExpiredDateTime; an
// ended assignment never comes back (renewal creates a new one).
type Assignment struct {
	ID                 string                        `json:"id"`
	State              string                        `json:"state"`
	Status             string                        `json:"status"`
	Schedule           EntitlementManagementSchedule `json:"schedule"`
	ExpiredDateTime    *time.Time                    `json:"expiredDateTime,omitempty"`
	CreatedDateTime    time.Time                     `json:"createdDateTime"`
	AccessPackageID    string                        `json:"accessPackageId"`
	AssignmentPolicyID string                        `json:"assignmentPolicyId"`
	TargetID           string                        `json:"targetId"`
	// RequestID is the add request that created the assignment.
	RequestID string `json:"requestId"`
	// Resources are the resource roles the assignment grants, with their
	// delivery outcome, in role scope id order.
	Resources []ResourceDelivery `json:"resources,omitempty"`
	// ExtendedDateTime is when an update request last changed the
	// schedule, if one did.
	ExtendedDateTime *time.Time `json:"extendedDateTime,omitempty"`
	// FourteenDayNoticeSent and OneDayNoticeSent record the expiry notices
	// for the current end; extending the assignment clears them.
	FourteenDayNoticeSent bool `json:"fourteenDayNoticeSent,omitempty"`
	OneDayNoticeSent      bool `json:"oneDayNoticeSent,omitempty"`
	// AutomaticRemovalDateTime is set while the target of an assignment
	// made by an automatic assignment policy no longer matches its rule:
	// the assignment is removed then, unless they match again before.
	AutomaticRemovalDateTime *time.Time `json:"automaticRemovalDateTime,omitempty"`
}

// IsEnded reports whether the assignment ended (state expired).
func (a *Assignment) IsEnded() bool { return a.State == AssignmentStateExpired }

// endedBy reports whether the assignment had ended by t: recorded as
// ended, or past an end whose expiry ProcessDue has not recorded yet (it
// will, as of the end). Commands decide with it, so that no decision
// depends on how lately the embedding program ran ProcessDue.
func (a *Assignment) endedBy(t time.Time) bool {
	if a.IsEnded() {
		return true
	}
	end, ok := a.End()
	return ok && !end.After(t)
}

// expiryDue reports whether the assignment's expiry is due by t and not
// recorded yet: what ProcessDue would expire, as of the end (not one still
// being delivered, which expires once delivered).
func (a *Assignment) expiryDue(t time.Time) bool {
	return !a.IsEnded() && a.State != AssignmentStateDelivering && a.endedBy(t)
}

// End returns when the assignment ends by its schedule, and false if it
// does not expire.
func (a Assignment) End() (time.Time, bool) {
	if a.Schedule.Expiration.Type != ExpirationAfterDateTime {
		return time.Time{}, false
	}
	return a.Schedule.Expiration.EndDateTime, true
}

// resource returns the delivery record of a role scope.
func (a *Assignment) resource(roleScopeID string) *ResourceDelivery {
	for i := range a.Resources {
		if a.Resources[i].ResourceRoleScopeID == roleScopeID {
			return &a.Resources[i]
		}
	}
	return nil
}

// hasPending reports whether a grant or removal of the assignment awaits
// the Deliverer.
func (a *Assignment) hasPending() bool {
	for _, r := range a.Resources {
		if r.Status == DeliveryPendingGrant || r.Status == DeliveryPendingRemoval {
			return true
		}
	}
	return false
}

// ResourceDelivery is one resource role an assignment grants: the role
// scope, where the role lives (enough to grant and revoke it even after the
// package changed) and the outcome.
type ResourceDelivery struct {
	ResourceRoleScopeID string `json:"resourceRoleScopeId"`
	ResourceID          string `json:"resourceId"`
	OriginSystem        string `json:"originSystem"`
	OriginID            string `json:"originId"`
	RoleID              string `json:"roleId"`
	RoleOriginID        string `json:"roleOriginId"`
	ScopeID             string `json:"scopeId"`
	ScopeOriginID       string `json:"scopeOriginId"`
	Status              string `json:"status"`
	Reason              string `json:"reason,omitempty"`
}

// copy returns a copy of an assignment of the State for an event to
// change: the parts events change in place are the resources.
func (a *Assignment) copy() *Assignment {
	c := *a
	c.Resources = slices.Clone(a.Resources)
	return &c
}

func cloneAssignment(a Assignment) Assignment {
	a.Schedule = cloneSchedule(a.Schedule)
	a.ExpiredDateTime = clonePtr(a.ExpiredDateTime)
	a.AutomaticRemovalDateTime = clonePtr(a.AutomaticRemovalDateTime)
	a.ExtendedDateTime = clonePtr(a.ExtendedDateTime)
	a.Resources = cloneNonEmpty(a.Resources)
	return a
}
