package entitlement

import (
	"math"
	"time"
)

// AssignmentPolicyPayload carries a policy as created or replaced, with the
// catalog of its package (EventAssignmentPolicyCreated,
// EventAssignmentPolicyReplaced). It is also how the State keeps policies.
type AssignmentPolicyPayload struct {
	CatalogID string           `json:"catalogId"`
	Policy    AssignmentPolicy `json:"policy"`
}

// subjectRef is a subject set of a policy with its JSON path.
type subjectRef struct {
	path string
	set  SubjectSet
}

// policySubjectSets lists every subject set a policy refers to.
func policySubjectSets(p *AssignmentPolicy) []subjectRef {
	var out []subjectRef
	add := func(path string, sets []SubjectSet) {
		for i, s := range sets {
			out = append(out, subjectRef{path + "[" + itoa(i) + "]", s})
		}
	}
	add("specificAllowedTargets", p.SpecificAllowedTargets)
	add("requestorSettings.onBehalfRequestors", p.RequestorSettings.OnBehalfRequestors)
	for i, st := range p.RequestApprovalSettings.Stages {
		base := "requestApprovalSettings.stages[" + itoa(i) + "]."
		add(base+"primaryApprovers", st.PrimaryApprovers)
		add(base+"fallbackPrimaryApprovers", st.FallbackPrimaryApprovers)
		add(base+"escalationApprovers", st.EscalationApprovers)
		add(base+"fallbackEscalationApprovers", st.FallbackEscalationApprovers)
	}
	add("reviewSettings.primaryReviewers", p.ReviewSettings.PrimaryReviewers)
	add("reviewSettings.fallbackReviewers", p.ReviewSettings.FallbackReviewers)
	return out
}

// checkPolicyReferences checks that the users, groups, service principals
// and connected organizations a policy names exist.
func checkPolicyReferences(s *State, op string, p *AssignmentPolicy) error {
	for _, r := range policySubjectSets(p) {
		switch r.set.Kind {
		case SingleUser:
			if _, ok := s.activeUser(r.set.UserID); !ok {
				return fail(op, ErrNotFound, subject("user", r.set.UserID), "%s names a user that does not exist", r.path)
			}
		case GroupMembers:
			if _, ok := s.groups.Get(r.set.GroupID); !ok {
				return fail(op, ErrNotFound, subject("group", r.set.GroupID), "%s names a group that does not exist", r.path)
			}
		case ConnectedOrganizationMembers:
			if _, ok := s.connectedOrganizations.Get(r.set.ConnectedOrganizationID); !ok {
				return fail(op, ErrNotFound, subject("connectedOrganization", r.set.ConnectedOrganizationID),
					"%s names a connected organization that does not exist", r.path)
			}
		case SingleServicePrincipal:
			if _, ok := s.servicePrincipals.Get(r.set.ServicePrincipalID); !ok {
				return fail(op, ErrNotFound, subject("servicePrincipal", r.set.ServicePrincipalID),
					"%s names a service principal that does not exist", r.path)
			}
		}
	}
	return nil
}

// checkAutoAssignmentShape checks invariant 8's shape: specificDirectoryUsers
// with an attributeRuleMembers target.
func checkAutoAssignmentShape(op string, p *AssignmentPolicy) error {
	if !p.IsAutoAssignment() {
		return nil
	}
	if p.AllowedTargetScope != ScopeSpecificDirectoryUsers {
		return invalid(op, "allowedTargetScope", "an auto-assignment policy must use specificDirectoryUsers")
	}
	for _, t := range p.SpecificAllowedTargets {
		if t.Kind == AttributeRuleMembers {
			return nil
		}
	}
	return invalid(op, "specificAllowedTargets", "an auto-assignment policy needs an attributeRuleMembers target")
}

// policyReferencingOrg returns a policy that names the connected organization.
func (s *State) policyReferencingOrg(orgID string) (string, bool) {
	for id := range s.ix.policiesByOrg.Members(orgID) {
		return id, true
	}
	return "", false
}

// autoPoliciesOfPackage counts the package's auto-assignment policies,
// leaving out the policy except.
func (s *State) autoPoliciesOfPackage(packageID, except string) int {
	n := 0
	for _, id := range s.policiesOfPackage(packageID) {
		if e, _ := s.policies.Get(id); id != except && e.Policy.IsAutoAssignment() {
			n++
		}
	}
	return n
}

// decidePolicyBody runs the checks a created or replaced policy shares.
func decidePolicyBody(s *State, a Actor, op string, pkg *AccessPackage, p *AssignmentPolicy, except string) error {
	if p.IsAutoAssignment() && !canCreateAutoAssignmentPolicy(a) {
		return fail(op, ErrForbidden, subject("accessPackage", pkg.ID),
			"only Global Administrators and Identity Governance Administrators may manage auto-assignment policies")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if e := p.Expiration; e.Type == ExpirationAfterDateTime && !e.EndDateTime.After(p.ModifiedDateTime) {
		return invalid(op, "expiration.endDateTime", "%s has passed: nobody could be assigned through the policy",
			e.EndDateTime.UTC().Format(time.RFC3339))
	}
	if err := checkAutoAssignmentShape(op, p); err != nil {
		return err
	}
	if p.IsAutoAssignment() && s.autoPoliciesOfPackage(pkg.ID, except) >= MaxAutoAssignmentPoliciesPerPackage {
		return fail(op, ErrLimit, subject("accessPackage", pkg.ID), "a package has at most %d auto-assignment policy", MaxAutoAssignmentPoliciesPerPackage)
	}
	return checkPolicyReferences(s, op, p)
}

func (c CreateAssignmentPolicy) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	p := c.Policy.Clone()
	pkg, ok := s.accessPackages.Get(p.AccessPackageID)
	if !ok {
		if p.AccessPackageID == "" {
			return decision{}, invalid(op, "accessPackage.id", "is required")
		}
		return decision{}, notFound(op, subject("accessPackage", p.AccessPackageID))
	}
	if !canManagePackages(s, a, pkg.CatalogID) {
		return decision{}, forbidden(op, subject("accessPackage", pkg.ID))
	}
	if n := len(s.policiesOfPackage(pkg.ID)); n >= MaxPoliciesPerPackage {
		return decision{}, fail(op, ErrLimit, subject("accessPackage", pkg.ID), "a package has at most %d policies", MaxPoliciesPerPackage)
	}
	if s.policies.Len() >= MaxPolicies {
		return decision{}, fail(op, ErrLimit, "assignmentPolicies", "a tenant has at most %d policies", MaxPolicies)
	}
	p.ID = s.newID(ids)
	p.AssignMissingQuestionIDs(func() string { return s.newID(ids) })
	p.CreatedDateTime, p.ModifiedDateTime = now, now
	if err := decidePolicyBody(s, a, op, pkg, p, ""); err != nil {
		return decision{}, err
	}
	return decidePolicyEvent(s, ids, now, op, Event{Stream: policyStream(p.ID), Type: EventAssignmentPolicyCreated,
		Data: &AssignmentPolicyPayload{CatalogID: pkg.CatalogID, Policy: *p}})
}

// decidePolicyEvent decides a policy created or replaced: the event, and
// for an automatic assignment policy the assignments and removals its rule
// calls for.
func decidePolicyEvent(s *State, ids IDSource, now time.Time, op string, e Event) (decision, error) {
	p := &e.Data.(*AssignmentPolicyPayload).Policy
	pl := newPlan(s, ids, now)
	// The policy's reviews that fell due run under the version that stood.
	pl.reviewsDue(p.ID)
	if !p.IsAutoAssignment() && len(pl.events) == 0 {
		return one(p.ID, e)
	}
	old, _ := s.policies.Get(p.ID)
	pl.emitEvent(e)
	if p.IsAutoAssignment() {
		// The limit on the users a rule matches is checked for a new rule
		// that matches more than the one it replaces: more may come to
		// match a rule later, and the policy stays editable, its scope
		// narrowed step by step.
		prev := 0
		if old != nil && old.Policy.IsAutoAssignment() {
			prev = math.MaxInt
			if autoRule(&old.Policy) != autoRule(p) {
				prev = len(s.matchingUsers(&old.Policy))
			}
		}
		if err := pl.reconcilePolicy(op, p.ID, prev); err != nil {
			return decision{}, err
		}
	}
	return pl.decision(p.ID)
}

func (c ReplaceAssignmentPolicy) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	old, ok := s.policies.Get(c.PolicyID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentPolicy", c.PolicyID))
	}
	pkg, _ := s.accessPackages.Get(old.Policy.AccessPackageID)
	if pkg == nil || !canManagePackages(s, a, pkg.CatalogID) {
		return decision{}, forbidden(op, subject("assignmentPolicy", c.PolicyID))
	}
	if old.Policy.IsAutoAssignment() && !canCreateAutoAssignmentPolicy(a) {
		return decision{}, fail(op, ErrForbidden, subject("assignmentPolicy", c.PolicyID),
			"only Global Administrators and Identity Governance Administrators may manage auto-assignment policies")
	}
	p := c.Policy.Clone()
	if p.ID != "" && p.ID != c.PolicyID {
		return decision{}, invalid(op, "id", "does not match the policy being replaced")
	}
	if p.AccessPackageID != "" && p.AccessPackageID != pkg.ID {
		return decision{}, invalid(op, "accessPackage.id", "a policy cannot move to another access package")
	}
	p.ID, p.AccessPackageID = c.PolicyID, pkg.ID
	p.AssignMissingQuestionIDs(func() string { return s.newID(ids) })
	p.CreatedDateTime, p.ModifiedDateTime = old.Policy.CreatedDateTime, now
	if p.IsAutoAssignment() != old.Policy.IsAutoAssignment() {
		return decision{}, invalid(op, "automaticRequestSettings",
			"a policy cannot become, or stop being, an automatic assignment policy; create another policy instead")
	}
	if err := decidePolicyBody(s, a, op, pkg, p, c.PolicyID); err != nil {
		return decision{}, err
	}
	return decidePolicyEvent(s, ids, now, op, Event{Stream: policyStream(p.ID), Type: EventAssignmentPolicyReplaced,
		Data: &AssignmentPolicyPayload{CatalogID: pkg.CatalogID, Policy: *p}})
}

func (c DeleteAssignmentPolicy) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	old, ok := s.policies.Get(c.PolicyID)
	if !ok {
		return decision{}, notFound(op, subject("assignmentPolicy", c.PolicyID))
	}
	if !canManagePackages(s, a, old.CatalogID) {
		return decision{}, forbidden(op, subject("assignmentPolicy", c.PolicyID))
	}
	if old.Policy.IsAutoAssignment() && !canCreateAutoAssignmentPolicy(a) {
		return decision{}, fail(op, ErrForbidden, subject("assignmentPolicy", c.PolicyID),
			"only Global Administrators and Identity Governance Administrators may manage auto-assignment policies")
	}
	auto := old.Policy.IsAutoAssignment()
	pl := newPlan(s, ids, now)
	if s.nonEndedPolicyAssignments(c.PolicyID) > 0 || s.openRequests("", c.PolicyID) > 0 {
		// Only then may due work change the answer; looking for it costs
		// the package's live assignments.
		pl.packageDue(old.Policy.AccessPackageID, c.PolicyID)
	}
	if n := pl.s.nonEndedPolicyAssignments(c.PolicyID); n > 0 && !auto {
		return decision{}, fail(op, ErrConflict, subject("assignmentPolicy", c.PolicyID), "it still has assignments that have not ended (%d)", n)
	}
	if n := pl.s.openRequests("", c.PolicyID); n > 0 {
		return decision{}, fail(op, ErrConflict, subject("assignmentPolicy", c.PolicyID), "there are %d requests in progress", n)
	}
	if auto {
		// Deleting an automatic assignment policy removes the assignments
		// it made.
		pl.removeAutoAssignments(c.PolicyID)
	}
	pl.emitEvent(Event{Stream: policyStream(c.PolicyID), Type: EventAssignmentPolicyDeleted, Data: &ObjectRef{ID: c.PolicyID}})
	return pl.decision(c.PolicyID)
}
