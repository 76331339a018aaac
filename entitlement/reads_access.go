package entitlement

import (
	"cmp"
	"iter"
	"slices"
	"time"
)

// Reads of the access side: what My Access shows a requestor and an
// approver, the assignments of a package, separation-of-duties reports and
// effective access. Like every read they take the Actor asking.

// AssignmentRequestRequirements mirrors Graph's
// accessPackageAssignmentRequestRequirements: what a request through one
// policy must carry.
type AssignmentRequestRequirements struct {
	PolicyID                         string `json:"policyId"`
	PolicyDisplayName                string `json:"policyDisplayName"`
	PolicyDescription                string `json:"policyDescription,omitempty"`
	IsApprovalRequiredForAdd         bool   `json:"isApprovalRequiredForAdd"`
	IsApprovalRequiredForUpdate      bool   `json:"isApprovalRequiredForUpdate"`
	IsRequestorJustificationRequired bool   `json:"isRequestorJustificationRequired"`
	AllowCustomAssignmentSchedule    bool   `json:"allowCustomAssignmentSchedule"`
	// Schedule is the schedule the policy enforces, in Graph's
	// entitlementManagementSchedule shape: its expiration.
	Schedule  EntitlementManagementSchedule `json:"schedule"`
	Questions []Question                    `json:"questions,omitempty"`
}

// RequestableAccessPackage is an access package the actor may request,
// with the requirements of each policy that lets them.
type RequestableAccessPackage struct {
	AccessPackage AccessPackage
	Requirements  []AssignmentRequestRequirements
}

func requirementsOf(p *AssignmentPolicy) AssignmentRequestRequirements {
	c := p.Clone()
	return AssignmentRequestRequirements{
		PolicyID: c.ID, PolicyDisplayName: c.DisplayName, PolicyDescription: c.Description,
		IsApprovalRequiredForAdd:         c.RequestApprovalSettings.IsApprovalRequiredForAdd,
		IsApprovalRequiredForUpdate:      c.RequestApprovalSettings.IsApprovalRequiredForUpdate,
		IsRequestorJustificationRequired: c.RequestApprovalSettings.IsRequestorJustificationRequired,
		AllowCustomAssignmentSchedule:    c.RequestorSettings.AllowCustomAssignmentSchedule,
		Schedule:                         EntitlementManagementSchedule{Expiration: c.Expiration}, Questions: c.Questions,
	}
}

// requestablePolicies returns the policies of the package through which a
// may request for themselves: self-add enabled and a in scope.
func (s *State) requestablePolicies(a Actor, packageID string) []AssignmentRequestRequirements {
	if u, ok := s.users.Get(a.ID); ok && u.IsGuest() {
		pkg, _ := s.accessPackages.Get(packageID)
		if c, ok := s.catalogs.Get(pkg.CatalogID); !ok || !c.IsExternallyVisible {
			return nil // not visible to users outside the organization
		}
	}
	var out []AssignmentRequestRequirements
	for _, id := range s.policiesOfPackage(packageID) {
		e, _ := s.policies.Get(id)
		p := &e.Policy
		if p.IsAutoAssignment() || !p.RequestorSettings.EnableTargetsToSelfAddAccess || !s.targetInScope(p, a.ID) {
			continue
		}
		out = append(out, requirementsOf(p))
	}
	return out
}

// AccessPackagesForRequestor returns the packages a may request for
// themselves (Graph's accessPackages/filterByCurrentUser(on='allowedRequestor')),
// with the requirements of the applicable policies: packages in published
// catalogs, not hidden, with a request policy whose allowed targets include
// a. Only users request.
func (s *State) AccessPackagesForRequestor(a Actor) []RequestableAccessPackage {
	a = s.reader(a)
	if a.Kind != ActorUser || actorBarred(s, a) != "" {
		return nil
	}
	var out []RequestableAccessPackage
	for id, pkg := range s.accessPackages.All() {
		if c, ok := s.catalogs.Get(pkg.CatalogID); !ok || c.State != CatalogStatePublished || pkg.IsHidden {
			continue
		}
		if reqs := s.requestablePolicies(a, id); len(reqs) > 0 {
			out = append(out, RequestableAccessPackage{AccessPackage: clonePackage(*pkg), Requirements: reqs})
		}
	}
	slices.SortFunc(out, func(x, y RequestableAccessPackage) int {
		return cmp.Or(cmp.Compare(x.AccessPackage.DisplayName, y.AccessPackage.DisplayName), cmp.Compare(x.AccessPackage.ID, y.AccessPackage.ID))
	})
	return out
}

// ApplicablePolicyRequirements returns the requirements of the policies
// through which a may request the package for themselves (Graph's
// getApplicablePolicyRequirements), hidden packages included. Application
// permissions are not supported.
func (s *State) ApplicablePolicyRequirements(a Actor, packageID string) ([]AssignmentRequestRequirements, error) {
	a = s.reader(a)
	const op = "ApplicablePolicyRequirements"
	if a.Kind != ActorUser {
		return nil, fail(op, ErrForbidden, subject("accessPackage", packageID), "only users have applicable policies")
	}
	if _, ok := s.accessPackages.Get(packageID); !ok {
		return nil, notFound(op, subject("accessPackage", packageID))
	}
	return s.requestablePolicies(a, packageID), nil
}

// requestsOf returns copies of the requests with the given ids, oldest
// first.
func (s *State) requestsOf(ids iter.Seq[string]) []AssignmentRequest {
	var rs []*AssignmentRequest
	for id := range ids {
		r, _ := s.requests.Get(id)
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(x, y *AssignmentRequest) int {
		return cmp.Or(x.CreatedDateTime.Compare(y.CreatedDateTime), cmp.Compare(x.ID, y.ID))
	})
	return cloneRequests(rs)
}

func sortAssignments(as []Assignment) {
	slices.SortFunc(as, func(x, y Assignment) int { return compareCreated(&x, &y) })
}

// MyRequests returns the requests a made or that target a (Graph's
// assignmentRequests/filterByCurrentUser), oldest first, without the
// approvers of stages that keep them from requestors
// (approverInformationVisibility notVisible).
func (s *State) MyRequests(a Actor) []AssignmentRequest {
	a = s.reader(a)
	if a.ID == "" {
		return nil
	}
	rs := s.requestsOf(func(yield func(string) bool) {
		for id := range s.ix.requestsByTarget.Members(a.ID) {
			if !yield(id) {
				return
			}
		}
		for id := range s.ix.requestsByRequestor.Members(a.ID) {
			if r, _ := s.requests.Get(id); r.TargetID != a.ID && !yield(id) {
				return
			}
		}
	})
	for i := range rs {
		s.forRequestor(a, &rs[i])
	}
	return rs
}

// MyAssignments returns a's assignments that have not ended.
func (s *State) MyAssignments(a Actor) []Assignment {
	a = s.reader(a)
	var out []Assignment
	for id := range s.ix.liveByTarget.Members(a.ID) {
		x, _ := s.assignments.Get(id)
		out = append(out, cloneAssignment(*x))
	}
	sortAssignments(out)
	return out
}

// PendingApproval is a request waiting for an approver, with its open stage.
type PendingApproval struct {
	Request AssignmentRequest
	Stage   ApprovalStageState
}

// ApprovalsForApprover returns the requests whose open stage a may decide
// (as a primary or fallback approver, or as an escalation approver once the
// stage escalated), leaving out a's own requests, oldest first. Like every
// read of the State, it shows what is recorded: a stage past its automatic
// denial is listed until ProcessDue records the time-out (a decision on it
// is refused), and an escalation approver finds a stage once its
// escalation is recorded (by ProcessDue, or by a decision on it, which an
// escalation approver may already make).
func (s *State) ApprovalsForApprover(a Actor) []PendingApproval {
	a = s.reader(a)
	if a.Kind != ActorUser {
		return nil
	}
	var out []PendingApproval
	for id := range s.ix.approvals.Members(a.ID) {
		r, _ := s.requests.Get(id)
		if st, ok := r.WaitsFor(a.ID); ok {
			out = append(out, PendingApproval{Request: cloneRequest(*r), Stage: st})
		}
	}
	slices.SortFunc(out, func(x, y PendingApproval) int {
		return cmp.Or(x.Request.CreatedDateTime.Compare(y.Request.CreatedDateTime), cmp.Compare(x.Request.ID, y.Request.ID))
	})
	return out
}

// AssignmentFilter narrows ListAssignments; empty fields match everything.
// State, if set, must be an assignment state (IsAssignmentState).
// IncludeEnded also returns expired assignments.
type AssignmentFilter struct {
	AccessPackageID    string
	AssignmentPolicyID string
	TargetID           string
	State              string
	IncludeEnded       bool

	// Top bounds the answer to that many assignments: a page (Graph's
	// $top); 0 is all of them, a negative Top is refused. After continues
	// the listing after the assignment with that id, the last of the
	// previous page, in the listing's order (createdDateTime, then id); it
	// need not match the filter any more, but an id no assignment has is
	// refused.
	Top   int
	After string
}

// ListAssignments returns assignments (Graph's GET /assignments with
// $filter). Administrators and tenant readers see all; catalog owners,
// access package managers and access package assignment managers see those
// of their catalogs' packages and, holding only catalog-scoped roles, must
// filter by access package (§8 row 31): without AccessPackageID the read
// fails with ErrInvalid on field "accessPackage/id".
func (s *State) ListAssignments(a Actor, f AssignmentFilter) ([]Assignment, error) {
	a = s.reader(a)
	const op = "ListAssignments"
	if !isTenantReader(a) {
		if !holdsAnyEMRole(s, a) {
			return nil, forbidden(op, "assignments")
		}
		if f.AccessPackageID == "" {
			return nil, invalid(op, "accessPackage/id", "principals with only catalog-scoped roles must filter by access package")
		}
		pkg, ok := s.accessPackages.Get(f.AccessPackageID)
		if !ok {
			return nil, notFound(op, subject("accessPackage", f.AccessPackageID))
		}
		if !canViewAssignments(s, a, pkg.CatalogID) {
			return nil, forbidden(op, subject("accessPackage", pkg.ID))
		}
	}
	if f.Top < 0 {
		return nil, invalid(op, "top", "must not be negative")
	}
	if f.State != "" && !IsAssignmentState(f.State) {
		return nil, invalid(op, "state", "%q is not an assignment state", f.State)
	}
	var after *Assignment
	if f.After != "" {
		x, ok := s.assignments.Get(f.After)
		if !ok {
			return nil, invalid(op, "after", "no assignment has the id %s", f.After)
		}
		after = x
	}
	var xs []*Assignment
	for _, x := range s.assignmentsFor(f) {
		switch {
		case f.AccessPackageID != "" && x.AccessPackageID != f.AccessPackageID,
			f.AssignmentPolicyID != "" && x.AssignmentPolicyID != f.AssignmentPolicyID,
			f.TargetID != "" && x.TargetID != f.TargetID,
			f.State != "" && x.State != f.State,
			!f.IncludeEnded && f.State != AssignmentStateExpired && x.IsEnded(),
			after != nil && compareCreated(x, after) <= 0:
			continue
		}
		xs = append(xs, x)
	}
	slices.SortFunc(xs, compareCreated)
	if f.Top > 0 && len(xs) > f.Top {
		xs = xs[:f.Top]
	}
	var out []Assignment
	for _, x := range xs {
		out = append(out, cloneAssignment(*x))
	}
	return out, nil
}

// compareCreated orders assignments as listings do: by createdDateTime,
// then id.
func compareCreated(x, y *Assignment) int {
	return cmp.Or(x.CreatedDateTime.Compare(y.CreatedDateTime), cmp.Compare(x.ID, y.ID))
}

// assignmentsFor returns the assignments f may select, through the
// narrowest index f allows.
func (s *State) assignmentsFor(f AssignmentFilter) []*Assignment {
	var ids iter.Seq[string]
	switch {
	case f.TargetID != "" && !f.IncludeEnded && f.State != AssignmentStateExpired:
		ids = s.ix.liveByTarget.Members(f.TargetID)
	case f.TargetID != "":
		ids = s.ix.assignmentsByTarget.Members(f.TargetID)
	case f.AccessPackageID != "" && !f.IncludeEnded && f.State != AssignmentStateExpired:
		ids = s.ix.liveByPackage.Members(f.AccessPackageID)
	case f.AccessPackageID != "":
		ids = s.ix.assignmentsByPackage.Members(f.AccessPackageID)
	default:
		return values(&s.assignments)
	}
	var out []*Assignment
	for id := range ids {
		x, _ := s.assignments.Get(id)
		out = append(out, x)
	}
	return out
}

// AssignmentsOfPackage returns the non-ended assignments of a package.
func (s *State) AssignmentsOfPackage(a Actor, packageID string) ([]Assignment, error) {
	a = s.reader(a)
	return s.ListAssignments(a, AssignmentFilter{AccessPackageID: packageID})
}

// GetAssignment returns one assignment, to its target or to those who may
// view the assignments of its package.
func (s *State) GetAssignment(a Actor, id string) (Assignment, error) {
	a = s.reader(a)
	const op = "GetAssignment"
	x, ok := s.assignments.Get(id)
	if !ok {
		return Assignment{}, notFound(op, subject("assignment", id))
	}
	if !s.mayViewAccessOf(a, x.AccessPackageID, x.TargetID) {
		return Assignment{}, forbidden(op, subject("assignment", id))
	}
	return cloneAssignment(*x), nil
}

// GetAssignmentRequest returns one request, to its requestor, its target,
// the approvers of its stages and those who may view the package's
// requests.
func (s *State) GetAssignmentRequest(a Actor, id string) (AssignmentRequest, error) {
	a = s.reader(a)
	const op = "GetAssignmentRequest"
	r, ok := s.requests.Get(id)
	if !ok {
		return AssignmentRequest{}, notFound(op, subject("assignmentRequest", id))
	}
	allowed := s.mayViewAccessOf(a, r.AccessPackageID, r.TargetID) || a.ID == r.RequestorID
	for i := range r.Stages {
		allowed = allowed || r.Stages[i].mayDecide(a.ID)
	}
	if !allowed {
		return AssignmentRequest{}, forbidden(op, subject("assignmentRequest", id))
	}
	c := cloneRequest(*r)
	s.forRequestor(a, &c)
	return c, nil
}

// forRequestor hides from a requestor or target, who may see the request
// only as theirs, the approvers of the stages whose policy says
// notVisible (approverInformationVisibility): who the approvers are and
// who decided; the decision and its justification stay. Approvers and
// those who may view the package's requests see everything.
func (s *State) forRequestor(a Actor, r *AssignmentRequest) {
	if r.Policy == nil {
		return
	}
	stages := r.Policy.RequestApprovalSettings.Stages
	notVisible := func(st ApprovalStage) bool { return st.ApproverInformationVisibility == ApproverInformationNotVisible }
	hidden := func(stage int) bool { return stage >= 1 && stage <= len(stages) && notVisible(stages[stage-1]) }
	if !slices.ContainsFunc(stages, notVisible) || isTenantReader(a) {
		return
	}
	if pkg, ok := s.accessPackages.Get(r.AccessPackageID); ok && canViewAssignments(s, a, pkg.CatalogID) {
		return
	}
	for _, st := range r.Stages {
		if slices.Contains(st.Approvers, a.ID) || slices.Contains(st.EscalationApprovers, a.ID) {
			return
		}
	}
	for i := range r.Stages {
		if st := &r.Stages[i]; hidden(st.Stage) {
			st.Approvers, st.EscalationApprovers, st.ReviewedBy = nil, nil, ""
			st.FallbackUsed, st.EscalationFallbackUsed = false, false
		}
	}
	r.Policy = r.Policy.Clone() // the copies of the requests of one policy version may share one
	stages = r.Policy.RequestApprovalSettings.Stages
	for i := range stages {
		if st := &stages[i]; hidden(i + 1) {
			st.PrimaryApprovers, st.FallbackPrimaryApprovers, st.EscalationApprovers, st.FallbackEscalationApprovers = nil, nil, nil, nil
		}
	}
}

// ListAssignmentRequests returns the requests for a package, oldest first,
// to those who may view its assignments.
func (s *State) ListAssignmentRequests(a Actor, packageID string) ([]AssignmentRequest, error) {
	a = s.reader(a)
	const op = "ListAssignmentRequests"
	pkg, ok := s.accessPackages.Get(packageID)
	if !ok {
		return nil, notFound(op, subject("accessPackage", packageID))
	}
	if !canViewAssignments(s, a, pkg.CatalogID) {
		return nil, forbidden(op, subject("accessPackage", packageID))
	}
	return s.requestsOf(s.ix.requestsByPackage.Members(packageID)), nil
}

// mayViewAccessOf reports whether a may see the access of target through
// the package: target itself, or who may view the package's assignments.
func (s *State) mayViewAccessOf(a Actor, packageID, target string) bool {
	if a.Kind != ActorSystem && a.ID != "" && a.ID == target {
		return true
	}
	if isTenantReader(a) {
		return true
	}
	pkg, ok := s.accessPackages.Get(packageID)
	return ok && canViewAssignments(s, a, pkg.CatalogID)
}

// AdditionalAccess returns the non-ended assignments to package A whose
// targets also hold a non-ended assignment to package B (Graph's
// assignments/additionalAccess, invariant 16): the separation-of-duties
// report. A and B must differ, and the actor must be allowed to view the
// assignments of both; application permissions are not supported.
func (s *State) AdditionalAccess(a Actor, packageA, packageB string) ([]Assignment, error) {
	a = s.reader(a)
	const op = "AdditionalAccess"
	switch {
	case packageA == "":
		return nil, invalid(op, "accessPackageId", "is required")
	case packageB == "":
		return nil, invalid(op, "incompatibleAccessPackageId", "is required")
	case packageA == packageB:
		return nil, invalid(op, "incompatibleAccessPackageId", "must be distinct from accessPackageId")
	}
	if a.Kind == ActorServicePrincipal {
		return nil, fail(op, ErrForbidden, "", "application permissions are not supported")
	}
	pa, ok := s.accessPackages.Get(packageA)
	if !ok {
		return nil, notFound(op, subject("accessPackage", packageA))
	}
	pb, ok := s.accessPackages.Get(packageB)
	if !ok {
		return nil, notFound(op, subject("accessPackage", packageB))
	}
	// The answer tells who holds B as much as who holds A.
	for _, p := range []*AccessPackage{pa, pb} {
		if !canViewAssignments(s, a, p.CatalogID) {
			return nil, forbidden(op, subject("accessPackage", p.ID))
		}
	}
	var out []Assignment
	for id := range s.ix.liveByPackage.Members(packageA) {
		x, _ := s.assignments.Get(id)
		if _, holdsB := s.liveAssignmentOf(x.TargetID, packageB); holdsB {
			out = append(out, cloneAssignment(*x))
		}
	}
	sortAssignments(out)
	return out, nil
}

// ResourceAccess is one resource role a subject holds through one
// assignment: the per-user resource report, one row per granting package.
type ResourceAccess struct {
	SubjectID           string
	AccessPackageID     string
	AssignmentID        string
	AssignmentPolicyID  string
	ResourceRoleScopeID string
	ResourceID          string
	OriginSystem        string
	OriginID            string
	RoleID              string
	ScopeID             string
	StartDateTime       time.Time
	EndDateTime         *time.Time
}

// EffectiveAccess returns the resource roles subjectID holds through
// non-ended assignments whose delivery of the role succeeded, sorted by
// role scope and package. The subject sees its own; others see the rows of
// packages whose assignments they may view.
func (s *State) EffectiveAccess(a Actor, subjectID string) []ResourceAccess {
	a = s.reader(a)
	var out []ResourceAccess
	for id := range s.ix.liveByTarget.Members(subjectID) {
		x, _ := s.assignments.Get(id)
		if !s.mayViewAccessOf(a, x.AccessPackageID, subjectID) {
			continue
		}
		var end *time.Time
		if e, ok := x.End(); ok {
			end = &e
		}
		for _, r := range x.Resources {
			if r.Status != DeliveryFulfilled {
				continue
			}
			out = append(out, ResourceAccess{
				SubjectID: subjectID, AccessPackageID: x.AccessPackageID, AssignmentID: x.ID,
				AssignmentPolicyID: x.AssignmentPolicyID, ResourceRoleScopeID: r.ResourceRoleScopeID,
				ResourceID: r.ResourceID, OriginSystem: r.OriginSystem, OriginID: r.OriginID,
				RoleID: r.RoleID, ScopeID: r.ScopeID, StartDateTime: x.Schedule.StartDateTime, EndDateTime: clonePtr(end),
			})
		}
	}
	slices.SortFunc(out, func(x, y ResourceAccess) int {
		return cmp.Or(cmp.Compare(x.ResourceRoleScopeID, y.ResourceRoleScopeID), cmp.Compare(x.AccessPackageID, y.AccessPackageID),
			cmp.Compare(x.AssignmentID, y.AssignmentID))
	})
	return out
}
