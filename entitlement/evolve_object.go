package entitlement

import (
	"slices"
	"strings"
)

// The Evolve functions are the parts of Apply that change one object on
// its own: State.Apply calls them, and read models that keep objects of
// their own (package projection keeps every version of every object) call
// them to change those objects exactly as the State does. Each changes its
// object in place, slices included (pass a copy of an object shared with
// anything else), and reports whether the event changed it; an event about
// another object, or of a type the function does not handle, leaves it
// alone and reports false.
//
// Creation and replacement (an event whose payload is the whole object)
// and deletion are not evolution and are left to the caller, as are the
// changes one event makes to many objects (which assignments a role scope
// newly in a package reaches is the caller's to find; EvolveAssignment
// then changes each).

// EvolveUser applies a change of attributes, manager, sign-in block,
// deletion or lifecycle to a user, and the external user lifecycle's
// steps and their directory outcomes to a guest.
func EvolveUser(u *User, e Event) bool {
	switch d := e.Data.(type) {
	case *UserAttributeChanged:
		if d.UserID != u.ID {
			return false
		}
		setUserAttribute(u, d.Name, d.NewValue)
	case *UserManagerChanged:
		if d.UserID != u.ID {
			return false
		}
		u.ManagerID = d.ManagerID
	case *UserRef:
		if d.UserID != u.ID {
			return false
		}
		u.AccountEnabled = e.Type == EventUserUnblocked
	case *UserDeleted:
		if d.UserID != u.ID {
			return false
		}
		u.DeletedDateTime = timePtr(d.DeletedDateTime)
	case *SubjectLifecycleChanged:
		if d.ObjectID != u.ID {
			return false
		}
		u.SubjectLifecycle = d.SubjectLifecycle
	default:
		return evolveGuest(u, e)
	}
	return true
}

// EvolveAccessPackage applies an update, a role scope added or removed, a
// change of incompatibilities, or the deletion of another package it
// names as incompatible, to an access package.
func EvolveAccessPackage(p *AccessPackage, e Event) bool {
	switch d := e.Data.(type) {
	case *AccessPackageUpdated:
		if d.ID != p.ID {
			return false
		}
		p.DisplayName, p.Description, p.IsHidden = d.DisplayName, d.Description, d.IsHidden
		p.ModifiedDateTime = d.ModifiedDateTime
	case *ResourceRoleScopeChanged:
		if d.AccessPackageID != p.ID {
			return false
		}
		if e.Type == EventResourceRoleScopeAdded {
			p.ResourceRoleScopes = append(p.ResourceRoleScopes, d.ResourceRoleScope)
		} else {
			p.ResourceRoleScopes = slices.DeleteFunc(p.ResourceRoleScopes, func(rs ResourceRoleScope) bool {
				return rs.ID == d.ResourceRoleScope.ID
			})
		}
	case *IncompatibilityChanged:
		if d.AccessPackageID != p.ID {
			return false
		}
		switch e.Type {
		case EventIncompatibleAccessPackageAdded:
			p.IncompatibleAccessPackages = insertSorted(p.IncompatibleAccessPackages, d.OtherID)
		case EventIncompatibleAccessPackageRemoved:
			p.IncompatibleAccessPackages = removeString(p.IncompatibleAccessPackages, d.OtherID)
		case EventIncompatibleGroupAdded:
			p.IncompatibleGroups = insertSorted(p.IncompatibleGroups, d.OtherID)
		case EventIncompatibleGroupRemoved:
			p.IncompatibleGroups = removeString(p.IncompatibleGroups, d.OtherID)
		}
	case *ObjectRef:
		if e.Type != EventAccessPackageDeleted || d.ID == p.ID || !slices.Contains(p.IncompatibleAccessPackages, d.ID) {
			return false
		}
		p.IncompatibleAccessPackages = removeString(p.IncompatibleAccessPackages, d.ID)
	default:
		return false
	}
	return true
}

// EvolveConnectedOrganization applies a sponsor added or removed to a
// connected organization.
func EvolveConnectedOrganization(o *ConnectedOrganization, e Event) bool {
	d, ok := e.Data.(*SponsorChanged)
	if !ok || d.ConnectedOrganizationID != o.ID {
		return false
	}
	switch e.Type {
	case EventInternalSponsorAdded:
		o.InternalSponsors = insertSorted(o.InternalSponsors, d.DirectoryObjectID)
	case EventInternalSponsorRemoved:
		o.InternalSponsors = removeString(o.InternalSponsors, d.DirectoryObjectID)
	case EventExternalSponsorAdded:
		o.ExternalSponsors = insertSorted(o.ExternalSponsors, d.DirectoryObjectID)
	case EventExternalSponsorRemoved:
		o.ExternalSponsors = removeString(o.ExternalSponsors, d.DirectoryObjectID)
	default:
		return false
	}
	return true
}

// EvolveRequest applies an approval stage opened or escalated, a decision,
// a change of state (time-out, schedule, cancelation, delivery outcome,
// reprocessing) or the start of delivery to an assignment request.
// EventAssignmentRequestDeleted removes the request: it is the caller's to
// apply, and EvolveRequest reports false for it.
func EvolveRequest(r *AssignmentRequest, e Event) bool {
	switch d := e.Data.(type) {
	case *ApprovalStagePayload:
		if d.RequestID != r.ID {
			return false
		}
		st := cloneStage(d.Stage)
		if e.Type == EventApprovalStageOpened {
			r.Stages = append(r.Stages, st)
			r.State, r.Status = RequestStatePendingApproval, RequestStatusPendingApproval
		} else if n := len(r.Stages); n > 0 {
			r.Stages[n-1] = st
			r.Status = RequestStatusPendingApprovalEscalated
		}
	case *ApprovalDecision:
		if d.RequestID != r.ID {
			return false
		}
		applyDecision(r, e.Type, d)
	case *RequestChanged:
		if d.RequestID != r.ID || e.Type == EventAssignmentRequestDeleted {
			return false
		}
		applyRequestChange(r, e.Type, d)
	case *AssignmentDelivering:
		if d.RequestID != r.ID {
			return false
		}
		r.State, r.Status, r.AssignmentID = RequestStateDelivering, RequestStatusDelivering, d.Assignment.ID
	default:
		return false
	}
	return true
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

func applyRequestChange(r *AssignmentRequest, eventType string, d *RequestChanged) {
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
	case EventAssignmentRequestReprocessed:
		r.State, r.Status, r.CompletedDateTime = RequestStateDelivering, RequestStatusDelivering, nil
	}
}

// EvolveAssignment applies a delivery outcome, an extension, an expiry, a
// notice, an automatic removal scheduled or canceled, re-enforcement, the outcome or reprocessing of the request that
// delivers it, or a role scope added to or removed from its package, to an
// assignment. For a role scope added, resource looks up the resource the
// role scope names (the delivery record keeps where the role lives); it
// may be nil when the event is of another kind. Which assignments a role
// scope reaches is the caller's to find: the package's assignments that
// have not ended.
func EvolveAssignment(a *Assignment, e Event, resource func(id string) (*Resource, bool)) bool {
	switch d := e.Data.(type) {
	case *ResourceDeliveryPayload:
		if d.AssignmentID != a.ID {
			return false
		}
		applyResourceDelivery(a, e.Type, d)
	case *AssignmentExtended:
		if d.AssignmentID != a.ID {
			return false
		}
		a.Schedule = cloneSchedule(d.Schedule)
		a.ExtendedDateTime = timePtr(d.DateTime)
		a.FourteenDayNoticeSent, a.OneDayNoticeSent = false, false
		a.Status = assignmentStatus(a.State)
	case *AssignmentExpired:
		if d.AssignmentID != a.ID {
			return false
		}
		a.State, a.Status, a.ExpiredDateTime = AssignmentStateExpired, AssignmentStatusExpired, timePtr(d.ExpiredDateTime)
		a.AutomaticRemovalDateTime = nil
		for i := range a.Resources {
			r := &a.Resources[i]
			// A failed or pending grant may have reached the resource in
			// part; revoking what is absent does no harm.
			switch r.Status {
			case DeliveryFulfilled, DeliveryRemovalFailed, DeliveryPendingGrant, DeliveryFailed:
				r.Status, r.Reason = DeliveryPendingRemoval, ""
			}
		}
	case *AssignmentNotice:
		if d.AssignmentID != a.ID {
			return false
		}
		if e.Type == EventAssignmentFourteenDaysBeforeExpiration {
			a.FourteenDayNoticeSent = true
			a.Status = AssignmentStatusNearExpiry14DaysNotificationTriggered
		} else {
			a.OneDayNoticeSent = true
			a.Status = AssignmentStatusNearExpiry1DayNotificationTriggered
		}
	case *AssignmentRef:
		if d.AssignmentID != a.ID {
			return false
		}
		a.reenforce()
	case *AutomaticRemoval:
		if d.AssignmentID != a.ID || a.IsEnded() {
			return false
		}
		if e.Type == EventAutomaticRemovalScheduled {
			a.AutomaticRemovalDateTime = timePtr(d.RemovalDateTime)
		} else {
			a.AutomaticRemovalDateTime = nil
		}
	case *RequestChanged:
		if d.AssignmentID != a.ID || a.IsEnded() {
			return false
		}
		switch e.Type {
		case EventAssignmentRequestFulfilled, EventAssignmentRequestPartiallyFulfilled, EventAssignmentRequestFailed:
			if a.RequestID != d.RequestID {
				return false
			}
			a.State = assignmentStateOf(outcomeState(e.Type))
			a.Status = assignmentStatus(a.State)
		case EventAssignmentRequestReprocessed:
			a.State, a.Status = AssignmentStateDelivering, AssignmentStatusDelivering
			a.reenforce()
		default:
			return false
		}
	case *ResourceRoleScopeChanged:
		if d.AccessPackageID != a.AccessPackageID || a.IsEnded() {
			return false
		}
		rs := d.ResourceRoleScope
		rec := a.resource(rs.ID)
		if e.Type == EventResourceRoleScopeAdded {
			if rec != nil {
				rec.Status, rec.Reason = DeliveryPendingGrant, ""
				return true
			}
			var res *Resource
			if resource != nil {
				res, _ = resource(rs.ResourceID)
			}
			a.Resources = append(a.Resources, deliveryRecord(rs, res))
			slices.SortFunc(a.Resources, func(x, y ResourceDelivery) int {
				return strings.Compare(x.ResourceRoleScopeID, y.ResourceRoleScopeID)
			})
			return true
		}
		if rec == nil {
			return false
		}
		switch rec.Status {
		case DeliveryFulfilled, DeliveryRemovalFailed, DeliveryPendingGrant, DeliveryFailed:
			// A pending or failed grant may have reached the resource in
			// part; remove it to be sure.
			rec.Status, rec.Reason = DeliveryPendingRemoval, ""
		}
		a.settle()
	default:
		return false
	}
	return true
}
