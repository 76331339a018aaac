package entitlement

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// applyAccess applies the events of requests, approvals and assignments.
// It reports false for a payload it does not know.
func (s *State) applyAccess(e Event) bool {
	switch d := e.Data.(type) {
	case *ApprovalStagePayload:
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) {
			st := cloneStage(d.Stage)
			if e.Type == EventApprovalStageOpened {
				r.Stages = append(r.Stages, st)
				r.State, r.Status = RequestStatePendingApproval, RequestStatusPendingApproval
			} else if n := len(r.Stages); n > 0 {
				r.Stages[n-1] = st
				r.Status = RequestStatusPendingApprovalEscalated
			}
		})
	case *ApprovalDecision:
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) { applyDecision(r, e.Type, d) })
	case *RequestChanged:
		s.applyRequestChanged(e.Type, d)
	case *AssignmentDelivering:
		a := cloneAssignment(d.Assignment)
		s.putAssignment(&a)
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) {
			r.State, r.Status, r.AssignmentID = RequestStateDelivering, RequestStatusDelivering, a.ID
		})
	case *ResourceDeliveryPayload:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { applyResourceDelivery(a, e.Type, d) })
	case *AssignmentExtended:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) {
			a.Schedule = cloneSchedule(d.Schedule)
			a.ExtendedDateTime = timePtr(d.DateTime)
			a.FourteenDayNoticeSent, a.OneDayNoticeSent = false, false
			a.Status = assignmentStatus(a.State)
		})
	case *AssignmentExpired:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) {
			a.State, a.Status, a.ExpiredDateTime = AssignmentStateExpired, AssignmentStatusExpired, timePtr(d.ExpiredDateTime)
			for i := range a.Resources {
				r := &a.Resources[i]
				// A failed or pending grant may have reached the resource in
				// part; revoking what is absent does no harm.
				switch r.Status {
				case DeliveryFulfilled, DeliveryRemovalFailed, DeliveryPendingGrant, DeliveryFailed:
					r.Status, r.Reason = DeliveryPendingRemoval, ""
				}
			}
		})
	case *AssignmentNotice:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) {
			if e.Type == EventAssignmentFourteenDaysBeforeExpiration {
				a.FourteenDayNoticeSent = true
				a.Status = AssignmentStatusNearExpiry14DaysNotificationTriggered
			} else {
				a.OneDayNoticeSent = true
				a.Status = AssignmentStatusNearExpiry1DayNotificationTriggered
			}
		})
	case *AssignmentRef:
		s.changeAssignment(d.AssignmentID, (*Assignment).reenforce)
	default:
		return false
	}
	return true
}

// applyNewRequest applies a new request, sharing the State's copy of the
// policy version it names. A payload of schema version 1 carries a copy of
// its own, used when the State no longer has that version (it never
// happens in a log this package wrote: the request is applied right after
// the decision that read the version).
func (s *State) applyNewRequest(d *AssignmentRequestPayload) error {
	r := cloneRequestData(d.Request)
	if e, ok := s.policies.Get(r.AssignmentPolicyID); ok && e.Version == r.PolicyVersion {
		r.Policy = &e.Policy
	} else if r.Policy != nil {
		r.Policy = r.Policy.Clone()
	} else {
		return fmt.Errorf("request %s names version %d of policy %s, which the state does not have", r.ID, r.PolicyVersion, r.AssignmentPolicyID)
	}
	s.putRequest(&r)
	return nil
}

// changeRequest stores a changed copy of a request, if it exists.
func (s *State) changeRequest(id string, f func(*AssignmentRequest)) {
	if r, ok := s.requests.Get(id); ok {
		c := r.copy()
		f(c)
		s.putRequest(c)
	}
}

// changeAssignment stores a changed copy of an assignment, if it exists.
func (s *State) changeAssignment(id string, f func(*Assignment)) {
	if a, ok := s.assignments.Get(id); ok {
		c := a.copy()
		f(c)
		s.putAssignment(c)
	}
}

func applyDecision(r *AssignmentRequest, eventType string, d *ApprovalDecision) {
	for i := range r.Stages {
		st := &r.Stages[i]
		if st.ID != d.StageID {
			continue
		}
		t := d.ReviewedDateTime
		st.Status, st.ReviewedBy, st.ReviewedDateTime, st.Justification = StageStatusCompleted, d.ReviewedBy, &t, d.Justification
		st.ReviewResult = ReviewApproved
		if eventType == EventAssignmentRequestDenied {
			st.ReviewResult = ReviewDenied
			r.State, r.Status, r.CompletedDateTime = RequestStateDenied, RequestStatusDenied, &t
		}
	}
}

func (s *State) applyRequestChanged(eventType string, d *RequestChanged) {
	r, ok := s.requests.Get(d.RequestID)
	if !ok {
		return
	}
	if eventType == EventAssignmentRequestDeleted {
		s.dropRequest(d.RequestID)
		return
	}
	r = r.copy()
	t := d.DateTime
	switch eventType {
	case EventAssignmentRequestTimedOut:
		if n := len(r.Stages); n > 0 {
			r.Stages[n-1].Status = StageStatusExpired
		}
		r.State, r.Status, r.CompletedDateTime = RequestStateDenied, RequestStatusTimedOut, &t
	case EventAssignmentRequestScheduled:
		r.State, r.Status = RequestStateScheduled, RequestStatusPendingNotBefore
	case EventAssignmentRequestCanceled:
		if n := len(r.Stages); n > 0 && r.Stages[n-1].Status == StageStatusInProgress {
			r.Stages[n-1].Status = StageStatusCompleted // closed undecided
		}
		r.State, r.Status, r.CompletedDateTime = RequestStateCanceled, RequestStatusCanceled, &t
	case EventAssignmentRequestFulfilled, EventAssignmentRequestPartiallyFulfilled, EventAssignmentRequestFailed:
		state := outcomeState(eventType)
		r.State, r.Status, r.CompletedDateTime = state, requestStatus(state), &t
		if a, ok := s.assignments.Get(d.AssignmentID); ok && a.RequestID == r.ID && !a.IsEnded() {
			s.changeAssignment(a.ID, func(a *Assignment) {
				a.State = assignmentStateOf(state)
				a.Status = assignmentStatus(a.State)
			})
		}
	case EventAssignmentRequestReprocessed:
		r.State, r.Status, r.CompletedDateTime = RequestStateDelivering, RequestStatusDelivering, nil
		if a, ok := s.assignments.Get(d.AssignmentID); ok && !a.IsEnded() {
			s.changeAssignment(a.ID, func(a *Assignment) {
				a.State, a.Status = AssignmentStateDelivering, AssignmentStatusDelivering
				a.reenforce()
			})
		}
	}
	s.putRequest(r)
}

func applyResourceDelivery(a *Assignment, eventType string, d *ResourceDeliveryPayload) {
	rec := a.resource(d.Resource.ResourceRoleScopeID)
	if rec == nil {
		return
	}
	switch eventType {
	case EventResourceAssignmentFulfilled:
		rec.Status, rec.Reason = DeliveryFulfilled, ""
	case EventResourceAssignmentFailed:
		rec.Status, rec.Reason = DeliveryFailed, d.Resource.Reason
	case EventResourceAssignmentRemoved:
		if a.IsEnded() {
			rec.Status, rec.Reason = DeliveryRemoved, d.Resource.Reason
		} else {
			// The package no longer grants the role.
			a.Resources = slices.DeleteFunc(a.Resources, func(x ResourceDelivery) bool {
				return x.ResourceRoleScopeID == d.Resource.ResourceRoleScopeID
			})
		}
	case EventResourceAssignmentRemovalFailed:
		rec.Status, rec.Reason = DeliveryRemovalFailed, d.Resource.Reason
	}
	a.settle()
}

// reenforce marks every role the assignment grants for granting again.
func (a *Assignment) reenforce() {
	for i := range a.Resources {
		r := &a.Resources[i]
		switch r.Status {
		case DeliveryFulfilled, DeliveryFailed, DeliveryPendingGrant:
			r.Status, r.Reason = DeliveryPendingGrant, ""
		}
	}
}

// settle recomputes the state of an assignment that is neither delivering
// nor ended once no grant or removal is pending: delivered when every role
// was granted, deliveryFailed when none was, partiallyDelivered between.
func (a *Assignment) settle() {
	if a.IsEnded() || a.State == AssignmentStateDelivering || a.hasPending() {
		return
	}
	a.State = assignmentStateOf(deliveryOutcome(a.Resources))
	a.Status = assignmentStatus(a.State)
}

// deliveryOutcome returns the request state that the delivery records
// amount to: delivered, partiallyDelivered or deliveryFailed.
func deliveryOutcome(rs []ResourceDelivery) string {
	ok, failed := 0, 0
	for _, r := range rs {
		switch r.Status {
		case DeliveryFulfilled:
			ok++
		case DeliveryFailed:
			failed++
		}
	}
	switch {
	case failed == 0:
		return RequestStateDelivered
	case ok == 0:
		return RequestStateDeliveryFailed
	}
	return RequestStatePartiallyDelivered
}

func outcomeState(eventType string) string {
	switch eventType {
	case EventAssignmentRequestPartiallyFulfilled:
		return RequestStatePartiallyDelivered
	case EventAssignmentRequestFailed:
		return RequestStateDeliveryFailed
	}
	return RequestStateDelivered
}

func outcomeEventType(state string) string {
	switch state {
	case RequestStatePartiallyDelivered:
		return EventAssignmentRequestPartiallyFulfilled
	case RequestStateDeliveryFailed:
		return EventAssignmentRequestFailed
	}
	return EventAssignmentRequestFulfilled
}

func requestStatus(state string) string {
	switch state {
	case RequestStatePartiallyDelivered:
		return RequestStatusPartiallyDelivered
	case RequestStateDeliveryFailed:
		return RequestStatusDeliveryFailed
	}
	return RequestStatusDelivered
}

// assignmentStateOf maps a delivery outcome (a request state) to the
// assignment state.
func assignmentStateOf(requestState string) string {
	switch requestState {
	case RequestStatePartiallyDelivered:
		return AssignmentStatePartiallyDelivered
	case RequestStateDeliveryFailed:
		return AssignmentStateDeliveryFailed
	}
	return AssignmentStateDelivered
}

func assignmentStatus(state string) string {
	switch state {
	case AssignmentStateDelivering:
		return AssignmentStatusDelivering
	case AssignmentStatePartiallyDelivered:
		return AssignmentStatusPartiallyDelivered
	case AssignmentStateDeliveryFailed:
		return AssignmentStatusDeliveryFailed
	case AssignmentStateExpired:
		return AssignmentStatusExpired
	}
	return AssignmentStatusDelivered
}

// deliveryRecord describes a role scope for delivery, pending a grant.
func (s *State) deliveryRecord(rs ResourceRoleScope) ResourceDelivery {
	rec := ResourceDelivery{ResourceRoleScopeID: rs.ID, ResourceID: rs.ResourceID, RoleID: rs.RoleID,
		ScopeID: rs.ScopeID, Status: DeliveryPendingGrant}
	if r, ok := s.resources.Get(rs.ResourceID); ok {
		rec.OriginSystem, rec.OriginID = r.OriginSystem, r.OriginID
		for _, x := range r.Roles {
			if x.ID == rs.RoleID {
				rec.RoleOriginID = x.OriginID
			}
		}
		for _, x := range r.Scopes {
			if x.ID == rs.ScopeID {
				rec.ScopeOriginID = x.OriginID
			}
		}
	}
	return rec
}

// deliveryRecords describes every role scope of a package, sorted by id.
func (s *State) deliveryRecords(packageID string) []ResourceDelivery {
	p, ok := s.accessPackages.Get(packageID)
	if !ok {
		return nil
	}
	var out []ResourceDelivery
	for _, rs := range p.ResourceRoleScopes {
		out = append(out, s.deliveryRecord(rs))
	}
	slices.SortFunc(out, func(a, b ResourceDelivery) int { return strings.Compare(a.ResourceRoleScopeID, b.ResourceRoleScopeID) })
	return out
}

// grantRoleScopeToAssignees adds a role scope newly in a package to every
// non-ended assignment of the package, pending a grant.
func (s *State) grantRoleScopeToAssignees(packageID string, rs ResourceRoleScope) {
	rec := s.deliveryRecord(rs)
	for _, id := range collect(&s.ix.liveByPackage, packageID) {
		s.changeAssignment(id, func(a *Assignment) {
			if r := a.resource(rs.ID); r != nil {
				r.Status, r.Reason = DeliveryPendingGrant, ""
				return
			}
			a.Resources = append(a.Resources, rec)
			slices.SortFunc(a.Resources, func(x, y ResourceDelivery) int {
				return strings.Compare(x.ResourceRoleScopeID, y.ResourceRoleScopeID)
			})
		})
	}
}

// revokeRoleScopeFromAssignees marks a role scope that left a package for
// removal from every non-ended assignment of the package that holds it.
func (s *State) revokeRoleScopeFromAssignees(packageID, roleScopeID string) {
	for _, id := range collect(&s.ix.liveByPackage, packageID) {
		a, _ := s.assignments.Get(id)
		if a.resource(roleScopeID) == nil {
			continue
		}
		s.changeAssignment(id, func(a *Assignment) {
			rec := a.resource(roleScopeID)
			switch rec.Status {
			case DeliveryFulfilled, DeliveryRemovalFailed, DeliveryPendingGrant, DeliveryFailed:
				// A pending or failed grant may have reached the resource in
				// part; remove it to be sure.
				rec.Status, rec.Reason = DeliveryPendingRemoval, ""
			}
			a.settle()
		})
	}
}

// timePtr returns a pointer to a copy of t.
func timePtr(t time.Time) *time.Time { return &t }
