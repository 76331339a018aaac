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
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) { EvolveRequest(r, e) })
	case *ApprovalDecision:
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) { EvolveRequest(r, e) })
	case *RequestChanged:
		if !s.requests.Has(d.RequestID) {
			break
		}
		if e.Type == EventAssignmentRequestDeleted {
			s.dropRequest(d.RequestID)
			break
		}
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) { EvolveRequest(r, e) })
		if a, ok := s.assignments.Get(d.AssignmentID); ok {
			if c := a.copy(); EvolveAssignment(c, e, nil) {
				s.putAssignment(c)
			}
		}
	case *AssignmentDelivering:
		a := cloneAssignment(d.Assignment)
		s.putAssignment(&a)
		s.changeRequest(d.RequestID, func(r *AssignmentRequest) { EvolveRequest(r, e) })
	case *ResourceDeliveryPayload:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
	case *AssignmentExtended:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
	case *AssignmentExpired:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
	case *AssignmentNotice:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
	case *AssignmentRef:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
	case *AutomaticRemoval:
		s.changeAssignment(d.AssignmentID, func(a *Assignment) { EvolveAssignment(a, e, nil) })
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

// deliveryRecord describes a role scope for delivery, pending a grant,
// with where the role lives as res says (nil: unknown).
func deliveryRecord(rs ResourceRoleScope, res *Resource) ResourceDelivery {
	rec := ResourceDelivery{ResourceRoleScopeID: rs.ID, ResourceID: rs.ResourceID, RoleID: rs.RoleID,
		ScopeID: rs.ScopeID, Status: DeliveryPendingGrant}
	if res != nil {
		rec.OriginSystem, rec.OriginID = res.OriginSystem, res.OriginID
		for _, x := range res.Roles {
			if x.ID == rs.RoleID {
				rec.RoleOriginID = x.OriginID
			}
		}
		for _, x := range res.Scopes {
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
		res, _ := s.resources.Get(rs.ResourceID)
		out = append(out, deliveryRecord(rs, res))
	}
	slices.SortFunc(out, func(a, b ResourceDelivery) int { return strings.Compare(a.ResourceRoleScopeID, b.ResourceRoleScopeID) })
	return out
}

// fanOutRoleScope applies a role scope added to or removed from a package
// to the package's assignments that have not ended: an added one is
// pending a grant on each, a removed one pending removal from those that
// hold it.
func (s *State) fanOutRoleScope(e Event, d *ResourceRoleScopeChanged) {
	for _, id := range collect(&s.ix.liveByPackage, d.AccessPackageID) {
		if e.Type != EventResourceRoleScopeAdded {
			if a, _ := s.assignments.Get(id); a.resource(d.ResourceRoleScope.ID) == nil {
				continue
			}
		}
		s.changeAssignment(id, func(a *Assignment) { EvolveAssignment(a, e, s.resources.Get) })
	}
}

// timePtr returns a pointer to a copy of t.
func timePtr(t time.Time) *time.Time { return &t }
