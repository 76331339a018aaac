package entitlement

import (
	"cmp"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"
)

// plan collects the events of one decision and applies each to a private
// clone of the state as it goes, so that later steps see earlier ones.
// Cloning a State costs O(1) and the clone copies only what the events
// change, so deciding stays pure without copying the tenant.
type plan struct {
	s      *State
	ids    IDSource
	now    time.Time
	events []Event
	err    error
	// reviewing is set while the plan applies an access review's results,
	// which end assignments (see reviewsDue).
	reviewing bool
	// due counts the nested recordings of work that fell due (see
	// bySystem): their events are the system's.
	due int
}

// bySystem records, through f, work that fell due and that a command
// records before its own events: the events are marked Event.BySystem.
func (p *plan) bySystem(f func()) {
	defer p.system()()
	f()
}

// system marks the events emitted until the function it returns is
// called as the system's (Event.BySystem).
func (p *plan) system() func() {
	p.due++
	return func() { p.due-- }
}

func newPlan(s *State, ids IDSource, now time.Time) *plan {
	return &plan{s: s.Clone(), ids: ids, now: now}
}

// emitEvent records an event and applies it to the plan's view.
func (p *plan) emitEvent(e Event) {
	if p.err != nil {
		return
	}
	e.BySystem = e.BySystem || p.due > 0
	p.events = append(p.events, e)
	if err := p.s.Apply(e); err != nil {
		p.err = err
	}
}

func (p *plan) decision(id string) (decision, error) {
	if p.err != nil {
		return decision{}, p.err
	}
	return decision{events: p.events, id: id, state: p.s}, nil
}

// requestChanged emits a RequestChanged event on the request's stream.
func (p *plan) requestChanged(typ, requestID, assignmentID string, at time.Time) {
	p.emitEvent(Event{Stream: requestStream(requestID), Type: typ,
		Data: &RequestChanged{RequestID: requestID, AssignmentID: assignmentID, DateTime: at}})
}

// hasSchedule reports whether a request carries a schedule of its own.
func hasSchedule(s EntitlementManagementSchedule) bool {
	return !s.StartDateTime.IsZero() || (s.Expiration.Type != "" && s.Expiration.Type != ExpirationNotSpecified) ||
		!s.Expiration.EndDateTime.IsZero() || !s.Expiration.Duration.IsZero() || !reflect.ValueOf(s.Recurrence).IsZero()
}

// checkRequestSchedule validates a requested schedule.
func checkRequestSchedule(op string, sc EntitlementManagementSchedule) error {
	if !reflect.ValueOf(sc.Recurrence).IsZero() {
		return invalid(op, "schedule.recurrence", "is not supported on assignment requests")
	}
	e := sc.Expiration
	switch e.Type {
	case "", ExpirationNotSpecified, ExpirationNoExpiration:
		if !e.EndDateTime.IsZero() || !e.Duration.IsZero() {
			return invalid(op, "schedule.expiration", "endDateTime and duration need type afterDateTime or afterDuration")
		}
	case ExpirationAfterDateTime:
		if e.EndDateTime.IsZero() {
			return invalid(op, "schedule.expiration.endDateTime", "is required with afterDateTime")
		}
		if !e.Duration.IsZero() {
			return invalid(op, "schedule.expiration.duration", "cannot be combined with endDateTime")
		}
	case ExpirationAfterDuration:
		if e.Duration.IsZero() || e.Duration.Approx() <= 0 {
			return invalid(op, "schedule.expiration.duration", "must be a positive duration with afterDuration")
		}
		if !e.EndDateTime.IsZero() {
			return invalid(op, "schedule.expiration.endDateTime", "cannot be combined with duration")
		}
	default:
		return invalid(op, "schedule.expiration.type", "%q is not a valid expirationPatternType", e.Type)
	}
	return nil
}

// assignmentEnd computes when an assignment starting (or, for an
// extension, extended) at base ends: the requested end if the request sets
// one, else the policy's; capped by the policy's. ok is false for no end.
// tooLong reports a requested end beyond the policy's cap, or a request
// for no end under a policy that sets one.
func assignmentEnd(req EntitlementManagementSchedule, pol *AssignmentPolicy, base time.Time) (end time.Time, ok, tooLong bool) {
	capEnd, hasCap := pol.Expiration.EndFor(base)
	reqEnd, hasReq := req.Expiration.EndFor(base)
	switch {
	case hasReq && hasCap && reqEnd.After(capEnd), req.Expiration.Type == ExpirationNoExpiration && hasCap:
		return capEnd, true, true
	case hasReq:
		return reqEnd, true, false
	case hasCap:
		return capEnd, true, false
	}
	return time.Time{}, false, false
}

// scheduleFor is the schedule of an assignment starting at start and
// ending at end (if ok).
func scheduleFor(start, end time.Time, ok bool) EntitlementManagementSchedule {
	sc := EntitlementManagementSchedule{StartDateTime: canonicalTime(start), Expiration: ExpirationPattern{Type: ExpirationNoExpiration}}
	if ok {
		sc.Expiration = ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: canonicalTime(end)}
	}
	return sc
}

func (c CreateAssignmentRequest) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if a.Kind == ActorExternalUser {
		return c.decideExternal(s, a, now, ids)
	}
	kind := requestTypeKind(c.RequestType)
	if kind == 0 {
		return decision{}, invalid(op, "requestType", "%q is not an assignment request type", c.RequestType)
	}
	var (
		pkg    *AccessPackage
		pol    *policyEntry
		asg    *Assignment
		target = c.TargetID
	)
	if kind == kindAdd {
		if c.AssignmentID != "" {
			return decision{}, invalid(op, "assignment.id", "an add request creates a new assignment")
		}
		var ok bool
		if pkg, ok = s.accessPackages.Get(c.AccessPackageID); !ok {
			return decision{}, notFound(op, subject("accessPackage", c.AccessPackageID))
		}
		if pol, ok = s.policies.Get(c.AssignmentPolicyID); !ok {
			return decision{}, notFound(op, subject("assignmentPolicy", c.AssignmentPolicyID))
		}
		if pol.Policy.AccessPackageID != pkg.ID {
			return decision{}, invalid(op, "assignment.assignmentPolicyId", "the policy does not belong to the access package")
		}
		if target == "" && (c.RequestType == RequestTypeUserAdd) {
			target = a.ID
		}
		if target == "" {
			return decision{}, invalid(op, "assignment.targetId", "is required")
		}
	} else {
		var ok bool
		if asg, ok = s.assignments.Get(c.AssignmentID); !ok {
			if c.AssignmentID == "" {
				return decision{}, invalid(op, "assignment.id", "is required for %s", c.RequestType)
			}
			return decision{}, notFound(op, subject("assignment", c.AssignmentID))
		}
		if target != "" && target != asg.TargetID {
			return decision{}, invalid(op, "assignment.targetId", "does not match the assignment's target")
		}
		// An update or removal acts on the assignment as it is: under its
		// own package and policy, which the body may repeat, not change.
		if c.AccessPackageID != "" && c.AccessPackageID != asg.AccessPackageID {
			return decision{}, invalid(op, "assignment.accessPackageId", "does not match the assignment's access package")
		}
		if c.AssignmentPolicyID != "" && c.AssignmentPolicyID != asg.AssignmentPolicyID {
			return decision{}, invalid(op, "assignment.assignmentPolicyId", "does not match the assignment's policy: "+
				"an update keeps the policy the assignment was granted under")
		}
		target = asg.TargetID
		pkg, _ = s.accessPackages.Get(asg.AccessPackageID)
		pol, _ = s.policies.Get(asg.AssignmentPolicyID)
		if asg.endedBy(now) || pkg == nil || pol == nil {
			return decision{}, fail(op, ErrConflict, subject("assignment", asg.ID), "the assignment has ended")
		}
	}
	if err := authorizeRequest(s, a, op, c.RequestType, kind, pkg, &pol.Policy, target); err != nil {
		return decision{}, err
	}
	// What fell due is recorded first, as of then, and the request is
	// decided on what is left: the target's expiries and workflow runs,
	// the policy's reviews, for an add the automatic denial of the
	// target's open request of the package, and for an update or a
	// removal that of the open update of the assignment.
	p := newPlan(s, ids, now)
	if s.hasUserDue(target, now) {
		p.userDue(target)
	}
	p.reviewsDue(pol.Policy.ID)
	if id, ok := p.s.ix.openAdds.Get(target + "\x00" + pkg.ID); ok && kind == kindAdd {
		p.timeOutDue(id)
	}
	if asg != nil {
		if id, ok := p.s.ix.openUpdates.Get(asg.ID); ok {
			p.timeOutDue(id) // an update waiting on the assignment
		}
	}
	s = p.s
	if asg != nil {
		if asg, _ = s.assignments.Get(asg.ID); asg.endedBy(now) {
			return decision{}, fail(op, ErrConflict, subject("assignment", asg.ID), "the assignment has ended")
		}
	}
	if err := checkRequestBody(s, op, c, kind, pkg, pol, asg, target, now); err != nil {
		return decision{}, err
	}

	req := AssignmentRequest{
		RequestType: c.RequestType, Schedule: cloneSchedule(c.Schedule), Justification: c.Justification,
		Answers: cloneNonEmpty(c.Answers), AccessPackageID: pkg.ID, AssignmentPolicyID: pol.Policy.ID,
		PolicyVersion: pol.Version, TargetID: target, RequestorID: a.ID,
	}
	if asg != nil {
		req.AssignmentID = asg.ID
	}
	return p.decision(p.newRequest(req))
}

// authorizeRequest checks that a may make a request of type t for target.
func authorizeRequest(s *State, a Actor, op, t string, kind requestKind, pkg *AccessPackage, pol *AssignmentPolicy, target string) error {
	sub := subject("accessPackage", pkg.ID)
	if pol.IsAutoAssignment() && !strings.HasPrefix(t, "system") {
		return invalid(op, "assignment.assignmentPolicyId", "an auto-assignment policy takes no requests")
	}
	rs := pol.RequestorSettings
	switch t {
	case RequestTypeUserAdd, RequestTypeUserUpdate, RequestTypeUserRemove:
		if a.Kind != ActorUser || a.ID != target {
			return fail(op, ErrForbidden, sub, "a %s request is made by its target user", t)
		}
		flag := map[requestKind]bool{kindAdd: rs.EnableTargetsToSelfAddAccess, kindUpdate: rs.EnableTargetsToSelfUpdateAccess,
			kindRemove: rs.EnableTargetsToSelfRemoveAccess}[kind]
		if !flag {
			return fail(op, ErrForbidden, sub, "the policy does not let targets make %s requests", t)
		}
	case RequestTypeOnBehalfAdd:
		if a.Kind != ActorUser {
			return fail(op, ErrForbidden, sub, "on-behalf requests are made by users")
		}
		if a.ID == target {
			return invalid(op, "requestType", "a request for oneself is userAdd")
		}
		if !rs.EnableOnBehalfRequestorsToAddAccess || !s.isOnBehalfRequestor(pol, a.ID, target) {
			return fail(op, ErrForbidden, sub, "the actor may not request on behalf of the target under this policy")
		}
	case RequestTypeAdminAdd, RequestTypeAdminUpdate, RequestTypeAdminRemove:
		if !canAssign(s, a, pkg.CatalogID) {
			return forbidden(op, sub)
		}
	default: // system*
		if a.Kind != ActorSystem {
			return fail(op, ErrForbidden, sub, "only entitlement management itself makes %s requests", t)
		}
	}
	return nil
}

// checkTargetAccount refuses a target that may not be given access now:
// not in the directory, deleted (ErrNotFound), or blocked from signing in
// (ErrForbidden; an administrator may bring back a guest the external
// user lifecycle blocked).
func checkTargetAccount(s *State, op, requestType, target string, now time.Time) error {
	u, isUser := s.users.Get(target)
	_, isSP := s.servicePrincipals.Get(target)
	switch {
	case isUser && u.DeletedDateTime != nil, !isUser && !isSP:
		return notFound(op, subject("target", target))
	case isUser && !u.AccountEnabled && !(u.lifecycleBlocked() && strings.HasPrefix(requestType, "admin")):
		return fail(op, ErrForbidden, subject("user", target), "the target is blocked from signing in%s", deletionDue(s, target, now))
	}
	return nil
}

// checkIncompatible refuses (ErrConflict) a target holding a package, or
// in a group, that pkg lists as incompatible.
func checkIncompatible(s *State, op, sub string, pkg *AccessPackage, target string) error {
	for _, other := range pkg.IncompatibleAccessPackages {
		if _, ok := s.liveAssignmentOf(target, other); ok {
			return fail(op, ErrConflict, sub, "the target holds access package %s, which is incompatible", other)
		}
	}
	if len(pkg.IncompatibleGroups) > 0 {
		groups := s.groupsOf(target)
		for _, g := range pkg.IncompatibleGroups {
			if groups[g] {
				return fail(op, ErrConflict, sub, "the target is a member of group %s, which is incompatible", g)
			}
		}
	}
	return nil
}

// checkDeliverable refuses the delivery now of an add request decided
// earlier (approved, or scheduled to start) whose target may no longer
// be given the package: gone from the directory or blocked by it since,
// or holding what the package lists as incompatible. A person not in the
// directory yet, whose guest the delivery creates, passes, and so does a
// guest the external user lifecycle blocked, whom the delivery brings
// back (ensureGuest).
func checkDeliverable(s *State, op string, r *AssignmentRequest, now time.Time) error {
	if requestTypeKind(r.RequestType) != kindAdd || r.TargetSubject != nil && !s.users.Has(r.TargetID) {
		return nil
	}
	if u, ok := s.users.Get(r.TargetID); !ok || !u.lifecycleBlocked() {
		if err := checkTargetAccount(s, op, r.RequestType, r.TargetID, now); err != nil {
			return err
		}
	} else if u.DeletedDateTime != nil {
		return notFound(op, subject("target", r.TargetID))
	}
	if pkg, ok := s.accessPackages.Get(r.AccessPackageID); ok {
		if err := checkIncompatible(s, op, subject("accessPackage", pkg.ID), pkg, r.TargetID); err != nil {
			return err
		}
	}
	// Requests made under the limits may reach them by the time they are
	// approved or start.
	return checkAssignmentLimits(s, op, r.AccessPackageID)
}

// checkAssignmentLimits refuses a new assignment of the package once it or
// the tenant holds as many as it may (§1.18).
func checkAssignmentLimits(s *State, op, packageID string) error {
	if n := s.nonEndedAssignments(packageID); n >= MaxAssignmentsPerPackage {
		return fail(op, ErrLimit, subject("accessPackage", packageID), "a package has at most %d assignments", MaxAssignmentsPerPackage)
	}
	if s.ix.live >= MaxAssignments {
		return fail(op, ErrLimit, "assignments", "a tenant has at most %d assignments", MaxAssignments)
	}
	return nil
}

// checkRequestBody runs the checks of a request against the policy and
// the state, after authorization: its target, then its content.
func checkRequestBody(s *State, op string, c CreateAssignmentRequest, kind requestKind, pkg *AccessPackage,
	pol *policyEntry, asg *Assignment, target string, now time.Time) error {
	if kind != kindRemove {
		cat, err := checkCatalogOpen(s, op, pkg)
		if err != nil {
			return err
		}
		if err := checkTargetAccount(s, op, c.RequestType, target, now); err != nil {
			return err
		}
		if u, isUser := s.users.Get(target); isUser && u.IsGuest() && !cat.IsExternallyVisible &&
			(c.RequestType == RequestTypeUserAdd || c.RequestType == RequestTypeUserUpdate) {
			return fail(op, ErrForbidden, subject("catalog", cat.ID), "the catalog is not visible to users outside the organization")
		}
		if !s.targetInScope(&pol.Policy, target) {
			return fail(op, ErrForbidden, subject("user", target), "the target is not in the policy's allowed targets")
		}
	}
	return checkRequestContent(s, op, c, kind, pkg, pol, asg, target, now)
}

// checkCatalogOpen checks that new requests may be made in the package's
// catalog: it is published.
func checkCatalogOpen(s *State, op string, pkg *AccessPackage) (*Catalog, error) {
	cat, ok := s.catalogs.Get(pkg.CatalogID)
	if !ok || cat.State != CatalogStatePublished {
		return nil, fail(op, ErrConflict, subject("accessPackage", pkg.ID), "the catalog is not published")
	}
	return cat, nil
}

// checkRequestContent checks what a request asks for against the policy
// and the state: its schedule, justification and answers, and that it
// duplicates, conflicts with and exceeds nothing.
func checkRequestContent(s *State, op string, c CreateAssignmentRequest, kind requestKind, pkg *AccessPackage,
	pol *policyEntry, asg *Assignment, target string, now time.Time) error {
	p := &pol.Policy
	sub := subject("accessPackage", pkg.ID)
	system := strings.HasPrefix(c.RequestType, "system")
	if kind == kindRemove && len(c.Answers) > 0 {
		return invalid(op, "answers", "a removal takes no answers")
	}
	if hasSchedule(c.Schedule) {
		if kind == kindRemove {
			return invalid(op, "schedule", "a removal takes no schedule")
		}
		if !p.RequestorSettings.AllowCustomAssignmentSchedule {
			return invalid(op, "schedule", "Custom assignment schedule is prevented by policy")
		}
		if err := checkRequestSchedule(op, c.Schedule); err != nil {
			return err
		}
		if kind == kindUpdate && c.Schedule.StartDateTime.After(now) {
			return invalid(op, "schedule.startDateTime", "an update keeps the assignment's start: its new end, "+
				"which schedule.expiration asks for, counts from when it is granted, and a later start would not be honoured")
		}
	}
	if kind != kindRemove {
		base := now
		if kind == kindAdd && c.Schedule.StartDateTime.After(now) {
			base = c.Schedule.StartDateTime
		}
		end, ok, tooLong := assignmentEnd(c.Schedule, p, base)
		if tooLong {
			return invalid(op, "schedule.expiration", "the requested end is after the end the policy allows (%s)", end.Format(time.RFC3339))
		}
		if ok && !end.After(base) {
			if hasSchedule(c.Schedule) && c.Schedule.Expiration.Type != "" {
				return invalid(op, "schedule.expiration", "the end is not after the start")
			}
			if base.After(now) {
				return invalid(op, "schedule.startDateTime", "starts at or after the policy's expiration date (%s)", end.Format(time.RFC3339))
			}
			return fail(op, ErrConflict, subject("assignmentPolicy", p.ID), "the policy's expiration date has passed")
		}
		if !system {
			if p.RequestApprovalSettings.IsRequestorJustificationRequired && strings.TrimSpace(c.Justification) == "" {
				return invalid(op, "justification", "the policy requires a justification")
			}
			questions := p.Questions
			if kind == kindUpdate {
				var given []Answer
				if add, ok := s.requests.Get(asg.RequestID); ok {
					given = add.Answers
				}
				var err error
				if questions, err = editableAnswers(op, p.Questions, given, c.Answers); err != nil {
					return err
				}
			}
			if err := ValidateAnswers(questions, c.Answers); err != nil {
				var ie *InvalidError
				if errors.As(err, &ie) {
					return wrapInvalid(op, ie)
				}
				return err
			}
		}
	}
	// The tenant's request limit, and the delivered state an update needs,
	// hold for the requests that give or extend access: a removal, or an
	// administrator's update that only brings the end forward (a leaver's
	// workflow makes those), is not refused for them, so that access can
	// be taken away. (The policy's own rules, such as its custom schedules,
	// still hold.)
	reduces := kind == kindRemove || c.RequestType == RequestTypeAdminUpdate && shortens(asg, c.Schedule)
	if !reduces && s.recentRequests(now.Add(-90*24*time.Hour)) >= MaxRequestsPerThreeMonths {
		return fail(op, ErrLimit, "assignmentRequests", "a tenant has at most %d requests within 3 months", MaxRequestsPerThreeMonths)
	}
	switch kind {
	case kindAdd:
		if id, ok := s.ix.openAdds.Get(target + "\x00" + pkg.ID); ok {
			return fail(op, ErrConflict, sub, "the target already has an open request (%s) for the access package", id)
		}
		if id, ok := s.liveAssignmentOf(target, pkg.ID); ok {
			if x, _ := s.assignments.Get(id); x.endedBy(now) {
				end, _ := x.End()
				return fail(op, ErrConflict, sub, "the target's assignment (%s) to the access package ended at %s, "+
					"but its expiry is not recorded yet: ask again once ProcessDue has run", id, end.Format(time.RFC3339))
			}
			return fail(op, ErrConflict, sub, "the target already has an assignment (%s) to the access package", id)
		}
		if err := checkIncompatible(s, op, sub, pkg, target); err != nil {
			return err
		}
		if err := checkAssignmentLimits(s, op, pkg.ID); err != nil {
			return err
		}
	case kindUpdate, kindRemove:
		if asg.State == AssignmentStateDelivering {
			return fail(op, ErrConflict, subject("assignment", asg.ID), "the assignment is being delivered")
		}
		if kind == kindUpdate {
			if asg.State != AssignmentStateDelivered && !reduces {
				// §2.2: an update takes a delivered assignment to a new
				// schedule; a failed delivery is reprocessed first.
				return fail(op, ErrConflict, subject("assignment", asg.ID), "only a delivered assignment can be updated, not one in state %s", asg.State)
			}
			if id, ok := s.ix.openUpdates.Get(asg.ID); ok {
				return fail(op, ErrConflict, subject("assignment", asg.ID), "the assignment already has an open update request (%s)", id)
			}
		}
	}
	return nil
}

// shortens reports whether an update to schedule sc only brings the
// assignment's end forward: it names an end date before the current end,
// or the assignment had none.
func shortens(asg *Assignment, sc EntitlementManagementSchedule) bool {
	if sc.Expiration.Type != ExpirationAfterDateTime {
		return false
	}
	end, ok := asg.End()
	return !ok || sc.Expiration.EndDateTime.Before(end)
}

// liveAssignmentOf returns a non-ended assignment of target to the package.
func (s *State) liveAssignmentOf(target, packageID string) (string, bool) {
	for id := range s.ix.liveByTarget.Members(target) {
		if x, _ := s.assignments.Get(id); x.AccessPackageID == packageID {
			return id, true
		}
	}
	return "", false
}

// submit moves a just-created request on: removals end the assignment at
// once; adds and updates go to approval if the policy copy asks for it, or
// are approved automatically.
func (p *plan) submit(id string) {
	r, _ := p.s.requests.Get(id)
	switch requestTypeKind(r.RequestType) {
	case kindRemove:
		p.expire(r.AssignmentID, r.ID, p.now)
		p.requestChanged(EventAssignmentRequestFulfilled, r.ID, r.AssignmentID, p.now)
		return
	case kindAdd:
		if r.Policy.RequestApprovalSettings.IsApprovalRequiredForAdd && len(r.Policy.RequestApprovalSettings.Stages) > 0 {
			p.openStage(id, 0)
			return
		}
	case kindUpdate:
		if r.Policy.RequestApprovalSettings.IsApprovalRequiredForUpdate && len(r.Policy.RequestApprovalSettings.Stages) > 0 {
			p.openStage(id, 0)
			return
		}
	}
	p.requestChanged(EventAssignmentRequestAutoApproved, id, "", p.now)
	p.approved(id)
}

// openStage opens stage k (0-based) of the request's approval, resolving
// its approvers now.
func (p *plan) openStage(id string, k int) {
	r, _ := p.s.requests.Get(id)
	def := r.Policy.RequestApprovalSettings.Stages[k]
	approvers, fallback := p.s.resolveStage(def, r)
	st := ApprovalStageState{
		ID: p.s.newID(p.ids), Stage: k + 1, Status: StageStatusInProgress, ReviewResult: ReviewNotReviewed,
		OpenedDateTime: p.now, Approvers: approvers, FallbackUsed: fallback,
	}
	p.emitEvent(Event{Stream: requestStream(id), Type: EventApprovalStageOpened, Data: &ApprovalStagePayload{RequestID: id, Stage: st}})
}

// approved continues a request whose approval is complete: a future start
// schedules it, otherwise delivery starts.
func (p *plan) approved(id string) {
	r, _ := p.s.requests.Get(id)
	if requestTypeKind(r.RequestType) == kindAdd && r.Schedule.StartDateTime.After(p.now) {
		p.requestChanged(EventAssignmentRequestScheduled, id, "", p.now)
		return
	}
	p.deliver(id)
}

// deliver creates the assignment of an add request, in state delivering
// with every role of the package pending, or applies an update request's
// new schedule to its assignment.
func (p *plan) deliver(id string) {
	r, _ := p.s.requests.Get(id)
	if requestTypeKind(r.RequestType) == kindUpdate {
		a, ok := p.s.assignments.Get(r.AssignmentID)
		if !ok || a.endedBy(p.now) {
			p.requestChanged(EventAssignmentRequestCanceled, id, r.AssignmentID, p.now)
			return
		}
		end, ok, _ := assignmentEnd(r.Schedule, r.Policy, p.now)
		if ok && !end.After(p.now) {
			// The policy's end date passed while the request waited.
			p.requestChanged(EventAssignmentRequestCanceled, id, a.ID, p.now)
			return
		}
		sc := scheduleFor(a.Schedule.StartDateTime, end, ok)
		p.emitEvent(Event{Stream: assignmentStream(a.ID), Type: EventAssignmentExtended,
			Data: &AssignmentExtended{AssignmentID: a.ID, RequestID: id, Schedule: sc, DateTime: p.now}})
		p.requestChanged(EventAssignmentRequestFulfilled, id, a.ID, p.now)
		return
	}
	if checkDeliverable(p.s, "", r, p.now) != nil {
		// A scheduled start whose target may no longer be given the
		// package (an approval is refused instead).
		p.requestChanged(EventAssignmentRequestCanceled, id, "", p.now)
		return
	}
	p.reviewsDue(r.AssignmentPolicyID)
	start := p.now
	if r.Schedule.StartDateTime.After(start) {
		start = r.Schedule.StartDateTime
	}
	end, ok, _ := assignmentEnd(r.Schedule, r.Policy, start)
	if ok && !end.After(start) {
		// The policy's end date passed while the request waited: there is
		// nothing left to grant.
		p.requestChanged(EventAssignmentRequestCanceled, id, "", p.now)
		return
	}
	p.ensureGuest(r)
	a := Assignment{
		ID: p.s.newID(p.ids), State: AssignmentStateDelivering, Status: AssignmentStatusDelivering,
		Schedule: scheduleFor(start, end, ok), CreatedDateTime: p.now,
		AccessPackageID: r.AccessPackageID, AssignmentPolicyID: r.AssignmentPolicyID, TargetID: r.TargetID,
		RequestID: id, Resources: p.s.deliveryRecords(r.AccessPackageID),
	}
	p.emitEvent(Event{Stream: assignmentStream(a.ID), Type: EventAssignmentDelivering,
		Data: &AssignmentDelivering{RequestID: id, Assignment: a}})
}

// expire ends an assignment at "at": open update requests on it are
// canceled first, then the assignment expires and its roles await removal.
func (p *plan) expire(assignmentID, requestID string, at time.Time) {
	if a, ok := p.s.assignments.Get(assignmentID); ok {
		p.reviewsDue(a.AssignmentPolicyID)
		if a, _ = p.s.assignments.Get(assignmentID); a.IsEnded() {
			return // a review's results, due first, ended it
		}
	}
	if rid, ok := p.s.ix.openUpdates.Get(assignmentID); ok {
		p.requestChanged(EventAssignmentRequestCanceled, rid, assignmentID, p.now)
	}
	p.emitEvent(Event{Stream: assignmentStream(assignmentID), Type: EventAssignmentExpired,
		Data: &AssignmentExpired{AssignmentID: assignmentID, RequestID: requestID, ExpiredDateTime: at}})
	if a, ok := p.s.assignments.Get(assignmentID); ok {
		p.reassignAuto(a)
		p.lostAssignment(a.TargetID)
	}
}

// expireEnded records, as ProcessDue would, the expiry of those of the
// assignments given whose end has passed but whose expiry is not recorded
// yet, each as of its end and in the order of their ends: a command that
// touches them (a change to their package, a new request of their target)
// then decides on what is still held, whenever ProcessDue last ran.
func (p *plan) expireEnded(assignmentIDs []string) {
	p.recordDue(p.endedOf(assignmentIDs))
}

// endedOf returns the expiries due, unrecorded, of the assignments given.
func (p *plan) endedOf(assignmentIDs []string) []dueAt {
	var due []dueAt
	for _, id := range assignmentIDs {
		a, _ := p.s.assignments.Get(id)
		if end, ok := a.End(); ok && a.expiryDue(p.now) {
			due = append(due, dueAt{id, end, func() { p.expire(id, "", end) }})
		}
	}
	return due
}

// userDue records the work that fell due about a user, unrecorded: the
// expiries of their assignments and their workflows' runs, together in
// time order, so that a command about the user decides after them.
func (p *plan) userDue(userID string) {
	p.recordDue(append(p.endedOf(collect(&p.s.ix.liveByTarget, userID)), p.dueRunsOf(collect(&p.s.ix.runsBySubject, userID))...))
}

// editableAnswers returns the questions of a policy an update's answers
// are checked against: those whose answers may be edited, and of the
// others (which keep the answers the add gave) those the update answers
// again, with the answer the add gave (given): another answer is refused.
func editableAnswers(op string, questions []Question, given, answers []Answer) ([]Question, error) {
	var asked []Question
	for _, q := range questions {
		if q.IsAnswerEditable {
			asked = append(asked, q)
			continue
		}
		// Every value the update gives (a multiple-choice question has
		// several) must be the add's, and all of them.
		values := func(as []Answer) []string {
			var out []string
			for _, a := range as {
				if a.QuestionID == q.ID {
					out = append(out, a.Value)
				}
			}
			slices.Sort(out)
			return out
		}
		again := values(answers)
		if len(again) == 0 {
			continue
		}
		if !slices.Equal(again, values(given)) {
			return nil, invalid(op, "answers", "the answer to question %q cannot be edited (isAnswerEditable is false)", q.ID)
		}
		asked = append(asked, q) // checked as any: a second answer to it is refused
	}
	return asked, nil
}

// packageDue records what fell due, unrecorded, about an access package's
// assignments and requests in progress (with policyID set, only those of
// that policy): the expiries, and the time-outs of requests waiting for an
// approval, in time order. A deletion, refused while any of them is live,
// then counts what is still live, whenever ProcessDue last ran.
func (p *plan) packageDue(accessPackageID, policyID string) {
	var live []string
	for _, id := range collect(&p.s.ix.liveByPackage, accessPackageID) {
		if a, _ := p.s.assignments.Get(id); policyID == "" || a.AssignmentPolicyID == policyID {
			live = append(live, id)
		}
	}
	due := p.endedOf(live)
	for _, id := range collect(&p.s.ix.openByPackage, accessPackageID) {
		r, _ := p.s.requests.Get(id)
		if policyID != "" && r.AssignmentPolicyID != policyID {
			continue
		}
		if _, at, ok := deniedAt(r); ok && !at.After(p.now) {
			due = append(due, dueAt{id, at, func() { p.timeOutDue(id) }})
		}
	}
	p.recordDue(due)
}

// hasUserDue reports whether work about a user fell due by now and is
// not recorded (see userDue).
func (s *State) hasUserDue(userID string, now time.Time) bool {
	for id := range s.ix.liveByTarget.Members(userID) {
		if a, _ := s.assignments.Get(id); a.expiryDue(now) {
			return true
		}
	}
	return s.hasDueRuns(userID, now)
}

// dueAt is a piece of work that fell due at an instant, by the id of what
// it concerns, and how to record it.
type dueAt struct {
	id string
	at time.Time
	do func()
}

// recordDue records work that fell due and that a command records before
// its own events: in time order, each as of when it fell due, as the
// system's (bySystem).
func (p *plan) recordDue(due []dueAt) {
	if len(due) == 0 {
		return
	}
	slices.SortFunc(due, func(x, y dueAt) int { return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.id, y.id)) })
	now := p.now
	p.bySystem(func() {
		for _, d := range due {
			p.now = d.at
			d.do()
		}
	})
	p.now = now
}

func (c CancelAssignmentRequest) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.requests.Get(c.RequestID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentRequest", c.RequestID))
	}
	if a.Kind == ActorServicePrincipal {
		return decision{}, fail(op, ErrForbidden, subject("assignmentRequest", r.ID), "application permissions cannot cancel requests")
	}
	// Without a role, users cancel only the requests of end users (their
	// own, or made on their behalf): an administrator's request stays
	// theirs to cancel only while they hold the role to make it.
	endUser := false
	switch r.RequestType {
	case RequestTypeUserAdd, RequestTypeUserUpdate, RequestTypeUserRemove, RequestTypeOnBehalfAdd:
		endUser = true
	}
	self := endUser && (a.Kind == ActorUser && (a.ID == r.RequestorID || a.ID == r.TargetID) ||
		a.Kind == ActorExternalUser && s.asPrincipal(a).ID == r.TargetID)
	if !self && !canAssignPackage(s, a, r.AccessPackageID) {
		return decision{}, forbidden(op, subject("assignmentRequest", r.ID))
	}
	if !r.cancelable() {
		return decision{}, fail(op, ErrConflict, subject("assignmentRequest", r.ID), "a request in state %s (status %s) cannot be canceled", r.State, r.Status)
	}
	// What fell due by now counts, recorded or not.
	if _, at, ok := deniedAt(r); ok && !at.After(now) {
		return decision{}, fail(op, ErrConflict, subject("assignmentRequest", r.ID), "the request timed out at %s without a "+
			"decision (ProcessDue records it): it can no longer be canceled", at.Format(time.RFC3339))
	}
	if r.State == RequestStateScheduled && !r.Schedule.StartDateTime.After(now) {
		return decision{}, fail(op, ErrConflict, subject("assignmentRequest", r.ID), "the request's start came at %s "+
			"(ProcessDue delivers it as of then): it can no longer be canceled; remove the assignment instead",
			r.Schedule.StartDateTime.Format(time.RFC3339))
	}
	p := newPlan(s, ids, now)
	p.requestChanged(EventAssignmentRequestCanceled, r.ID, "", now)
	return p.decision(r.ID)
}

func (c ReprocessAssignmentRequest) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.requests.Get(c.RequestID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentRequest", c.RequestID))
	}
	if !canAssignPackage(s, a, r.AccessPackageID) {
		return decision{}, forbidden(op, subject("assignmentRequest", r.ID))
	}
	sub := subject("assignmentRequest", r.ID)
	if r.State != RequestStateDeliveryFailed && r.State != RequestStatePartiallyDelivered {
		return decision{}, fail(op, ErrConflict, sub, "only a request whose delivery failed can be reprocessed, not one in state %s", r.State)
	}
	if r.CompletedDateTime == nil || now.Sub(*r.CompletedDateTime) > ReprocessWindow {
		return decision{}, fail(op, ErrConflict, sub, "the request completed more than 14 days ago")
	}
	asg, ok := s.assignments.Get(r.AssignmentID)
	if !ok || asg.endedBy(now) {
		return decision{}, fail(op, ErrConflict, sub, "the request's assignment has ended")
	}
	p := newPlan(s, ids, now)
	p.requestChanged(EventAssignmentRequestReprocessed, r.ID, asg.ID, now)
	return p.decision(r.ID)
}

func (c DeleteAssignmentRequest) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.requests.Get(c.RequestID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentRequest", c.RequestID))
	}
	// Admins may also delete requests whose package is gone.
	if !isAdmin(a) && !canAssignPackage(s, a, r.AccessPackageID) {
		return decision{}, forbidden(op, subject("assignmentRequest", r.ID))
	}
	sub := subject("assignmentRequest", r.ID)
	if !r.IsTerminal() {
		return decision{}, fail(op, ErrConflict, sub, "a request in state %s cannot be deleted", r.State)
	}
	if id, ok := s.ix.assignmentOfRequest.Get(r.ID); ok {
		return decision{}, fail(op, ErrConflict, sub, "the request created assignment %s", id)
	}
	if r.State == RequestStateDelivered && r.AssignmentID != "" && s.assignments.Has(r.AssignmentID) {
		// A delivered update or removal is linked to the assignment it
		// acted on (§8 row 25: a request with an assignment cannot be
		// deleted); a denied or canceled one never acted.
		return decision{}, fail(op, ErrConflict, sub, "the request is linked to assignment %s", r.AssignmentID)
	}
	p := newPlan(s, ids, now)
	p.requestChanged(EventAssignmentRequestDeleted, r.ID, "", now)
	return p.decision(r.ID)
}

// failedAfterDelivery reports whether a grant of an assignment failed
// after its request was delivered (a reprocess, or a role scope added to
// the package since): the request, terminal, cannot be reprocessed, so the
// assignment's own reprocess retries it. Graph reprocesses only delivered
// assignments, but there such a failure leaves no state that says so.
func failedAfterDelivery(s *State, x *Assignment) bool {
	if x.State != AssignmentStateDeliveryFailed && x.State != AssignmentStatePartiallyDelivered {
		return false
	}
	r, ok := s.requests.Get(x.RequestID)
	return ok && r.State == RequestStateDelivered
}

func (c ReprocessAssignment) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	x, ok := s.assignments.Get(c.AssignmentID)
	if !ok {
		return decision{}, notFound(op, subject("assignment", c.AssignmentID))
	}
	if !canAssignPackage(s, a, x.AccessPackageID) {
		return decision{}, forbidden(op, subject("assignment", x.ID))
	}
	if x.endedBy(now) {
		return decision{}, fail(op, ErrConflict, subject("assignment", x.ID), "the assignment has ended")
	}
	if x.State != AssignmentStateDelivered && !failedAfterDelivery(s, x) {
		reason := "only a delivered assignment can be reprocessed, not one in state " + x.State
		if x.State == AssignmentStateDeliveryFailed || x.State == AssignmentStatePartiallyDelivered {
			reason += "; to retry its failed delivery, reprocess its request (ReprocessAssignmentRequest " + x.RequestID + ")"
		}
		return decision{}, fail(op, ErrConflict, subject("assignment", x.ID), "%s", reason)
	}
	p := newPlan(s, ids, now)
	p.emitEvent(Event{Stream: assignmentStream(x.ID), Type: EventAssignmentReprocessed, Data: &AssignmentRef{AssignmentID: x.ID}})
	return p.decision(x.ID)
}
