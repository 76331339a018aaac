package entitlement

import (
	"sync"
	"time"

	"github.com/accessledger/accessledger/entitlement/rule"
)

// Automatic assignment (domain §2.7). A policy with automaticRequestSettings
// assigns its package to every user its attributeRuleMembers rule matches,
// through systemAdd requests delivered like any other, and takes it away
// through systemRemove requests. The work happens in the decision that
// changes what the rule says, so that the State never shows a matching
// user without their assignment:
//   - creating the policy, or replacing it, evaluates every user once;
//   - creating or replacing a user, unblocking or deleting one evaluates
//     the automatic policies for that user;
//   - changing one attribute evaluates only the rules that read it;
//   - a user who stops matching, where the policy removes access, is
//     removed after gracePeriodBeforeAccessRemoval through the due queue,
//     and keeps the assignment on matching again before then;
//   - deleting the policy removes the assignments it made.
//
// A matching user the package cannot be assigned to (blocked from signing
// in, holding an incompatible package, a catalog that is not published, a
// limit reached) is left out, and evaluated again at their next change,
// when the catalog is published again, when an incompatibility of the
// package is removed, or when the assignment that kept them out ends (of
// the package through another policy, or of an incompatible package).
//
// A removal that fell due is recorded, as of when it fell due, by the
// next change that evaluates the user if ProcessDue has not recorded it
// yet: a user who matches again after the grace period gets a new
// assignment, whenever ProcessDue last ran.

// Event types of automatic removal.
const (
	// EventAutomaticRemovalScheduled: the target of an assignment made by
	// an automatic assignment policy stopped matching its rule, and the
	// assignment is removed at RemovalDateTime unless they match again.
	EventAutomaticRemovalScheduled = "assignmentAutomaticRemovalScheduled"
	// EventAutomaticRemovalCanceled: the scheduled removal will not happen,
	// because the target matches the rule again or the policy no longer
	// removes access.
	EventAutomaticRemovalCanceled = "assignmentAutomaticRemovalCanceled"
)

// AutomaticRemoval records a removal of an automatic assignment being
// scheduled or canceled. DateTime is when the target stopped (or started
// again) matching; RemovalDateTime is when the removal is, or was, due.
type AutomaticRemoval struct {
	AssignmentID       string    `json:"assignmentId"`
	AssignmentPolicyID string    `json:"assignmentPolicyId"`
	TargetID           string    `json:"targetId"`
	DateTime           time.Time `json:"dateTime"`
	RemovalDateTime    time.Time `json:"removalDateTime"`
}

func init() {
	for _, t := range []string{EventAutomaticRemovalScheduled, EventAutomaticRemovalCanceled} {
		registry[t] = func() any { return new(AutomaticRemoval) }
	}
	activities[EventAutomaticRemovalScheduled] = "Schedule removal of access package assignment for user leaving automatic assignment scope"
	activities[EventAutomaticRemovalCanceled] = "Cancel scheduled removal of access package assignment"
}

// rules caches parsed membership rules by their text: policies and subject
// sets keep the text, and parsing it again for each of 100,000 users would
// cost more than matching.
var rules struct {
	sync.Mutex
	m map[string]*rule.Rule
}

// parsedRule returns the parsed rule of text, or nil if it does not parse
// (policies are validated before they are stored, so it does not happen
// for rules in the State).
func parsedRule(text string) *rule.Rule {
	rules.Lock()
	defer rules.Unlock()
	if r, ok := rules.m[text]; ok {
		return r
	}
	r, err := rule.Parse(text)
	if err != nil {
		r = nil
	}
	if rules.m == nil || len(rules.m) >= 1024 {
		rules.m = map[string]*rule.Rule{}
	}
	rules.m[text] = r
	return r
}

// matchesRule reports whether the user matches a membership rule.
func matchesRule(text string, u *User) bool {
	r := parsedRule(text)
	return r != nil && r.Match(func(name string) (string, bool) { return ruleAttribute(u, name) })
}

// autoRule returns the membership rule of an automatic assignment policy.
func autoRule(p *AssignmentPolicy) string {
	for _, t := range p.SpecificAllowedTargets {
		if t.Kind == AttributeRuleMembers {
			return t.MembershipRule
		}
	}
	return ""
}

// everyReader is the key of ix.autoPolicies and ix.workflowsByAttribute
// under which every automatic assignment policy and every workflow is
// listed; their other keys are attribute names, listing the policies and
// workflows that read the attribute.
const everyReader = ""

// autoKeys returns the ix.autoPolicies keys of a policy.
func autoKeys(p *AssignmentPolicy) []string {
	if !p.IsAutoAssignment() {
		return nil
	}
	keys := []string{everyReader}
	if r := parsedRule(autoRule(p)); r != nil {
		keys = append(keys, r.Attributes()...)
	}
	return keys
}

// autoMatches reports whether the user is in the scope of the automatic
// assignment policy: active, and matching its rule.
func autoMatches(s *State, p *AssignmentPolicy, userID string) bool {
	u, ok := s.activeUser(userID)
	return ok && matchesRule(autoRule(p), u)
}

// autoAssignment returns the user's assignment of the package that has not
// ended, and whether it was made through the policy (false also when
// another policy of the package made it).
func (s *State) autoAssignment(policyID, packageID, userID string) (*Assignment, bool) {
	id, ok := s.liveAssignmentOf(userID, packageID)
	if !ok {
		return nil, false
	}
	a, _ := s.assignments.Get(id)
	return a, a.AssignmentPolicyID == policyID
}

// reconcileAuto brings one user's assignment through an automatic
// assignment policy in line with the policy's rule now: assigned if they
// match, removal scheduled (or done, with no grace period) if they no
// longer match and the policy removes access, a scheduled removal
// canceled if they match again or the policy no longer removes access.
// That is entitlement management's own work, whoever's command (a policy
// created, an attribute changed) set it off: its events are the system's,
// as its requests' requestor is.
func (p *plan) reconcileAuto(policyID, userID string) {
	if p.err != nil {
		return
	}
	defer p.system()()
	e, ok := p.s.policies.Get(policyID)
	if !ok || !e.Policy.IsAutoAssignment() {
		return
	}
	pol := &e.Policy
	set := pol.AutomaticRequestSettings
	match := autoMatches(p.s, pol, userID)
	a, ours := p.s.autoAssignment(pol.ID, pol.AccessPackageID, userID)
	switch {
	case a != nil && !ours:
		// Assigned through another policy of the package: one assignment
		// per target and package, and not this policy's to remove.
	case a != nil && a.AutomaticRemovalDateTime != nil && !a.AutomaticRemovalDateTime.After(p.now) && a.State != AssignmentStateDelivering:
		// The removal fell due before this change: it is recorded as
		// ProcessDue would have, as of then, and the user is evaluated
		// afresh (matching again, they get a new assignment).
		now := p.now
		p.now = *a.AutomaticRemovalDateTime
		p.bySystem(func() { p.dueAutomaticRemoval(a.ID) })
		p.now = now
		p.reconcileAuto(policyID, userID)
	case a != nil && a.AutomaticRemovalDateTime != nil:
		if match || !set.RemoveAccessWhenTargetLeavesAllowedTargets {
			p.automaticRemoval(EventAutomaticRemovalCanceled, a, *a.AutomaticRemovalDateTime)
		}
	case a != nil:
		if match || !set.RemoveAccessWhenTargetLeavesAllowedTargets {
			return
		}
		at := set.GracePeriodBeforeAccessRemoval.AddTo(p.now)
		if !at.After(p.now) && a.State != AssignmentStateDelivering {
			p.removalRequest(RequestTypeSystemRemove, e, a, "")
			return
		}
		// An assignment still being delivered is removed once it is, as
		// of the instant scheduled (its due entry waits, as an expiry's
		// does): ended now, its request would never complete.
		p.automaticRemoval(EventAutomaticRemovalScheduled, a, at)
	case match && set.RequestAccessForAllowedTargets:
		pkg, ok := p.s.accessPackages.Get(pol.AccessPackageID)
		if !ok {
			return
		}
		c := CreateAssignmentRequest{RequestType: RequestTypeSystemAdd, AccessPackageID: pkg.ID, AssignmentPolicyID: pol.ID, TargetID: userID}
		if checkRequestBody(p.s, "AutomaticAssignment", c, kindAdd, pkg, e, nil, userID, p.now) != nil {
			return // left out until the user's next change; see above
		}
		p.newRequest(AssignmentRequest{RequestType: RequestTypeSystemAdd, AccessPackageID: pkg.ID,
			AssignmentPolicyID: pol.ID, PolicyVersion: e.Version, TargetID: userID, RequestorID: SystemActor().ID})
	}
}

// reassignAuto evaluates, for the target of assignment a that just
// ended, the automatic assignment policies a held them out of: the other
// policies of a's package (one assignment per target and package) and
// those of the packages that list a's package as incompatible.
func (p *plan) reassignAuto(a *Assignment) {
	reconcile := func(pkg string) {
		for pid := range p.s.ix.policiesByPackage.Members(pkg) {
			if pid != a.AssignmentPolicyID {
				p.reconcileAuto(pid, a.TargetID) // which skips policies without automatic assignment
			}
		}
	}
	reconcile(a.AccessPackageID)
	for pkg := range p.s.ix.incompatibleWith.Members(a.AccessPackageID) {
		reconcile(pkg)
	}
}

// automaticRemoval records an automatic assignment's removal scheduled at
// removalAt, or (EventAutomaticRemovalCanceled) the one scheduled then
// canceled.
func (p *plan) automaticRemoval(typ string, a *Assignment, removalAt time.Time) {
	p.emitEvent(Event{Stream: assignmentStream(a.ID), Type: typ, Data: &AutomaticRemoval{AssignmentID: a.ID,
		AssignmentPolicyID: a.AssignmentPolicyID, TargetID: a.TargetID, DateTime: p.now, RemovalDateTime: removalAt}})
}

// removalRequest ends an assignment through a removal request entitlement
// management makes by itself (systemRemove, or adminRemove for a
// workflow's task) under the assignment's policy e, and returns its id.
func (p *plan) removalRequest(typ string, e *policyEntry, a *Assignment, justification string) string {
	return p.newRequest(AssignmentRequest{RequestType: typ, AccessPackageID: a.AccessPackageID,
		AssignmentPolicyID: a.AssignmentPolicyID, PolicyVersion: e.Version, TargetID: a.TargetID,
		RequestorID: SystemActor().ID, AssignmentID: a.ID, Justification: justification})
}

// newRequest records a request created now, with a new id and the state
// of a request just submitted, and moves it on (see submit). It returns
// the request's id.
//
// A request follows the version of its policy that stands when it is
// made. Due work that fell due before the policy last changed, and that
// ProcessDue records only after (a removal, a review's results, a
// workflow's request), is recorded at the change, so that no request
// precedes the policy version it names.
func (p *plan) newRequest(r AssignmentRequest) string {
	if e, ok := p.s.policies.Get(r.AssignmentPolicyID); ok && e.Policy.ModifiedDateTime.After(p.now) {
		now := p.now
		p.now = e.Policy.ModifiedDateTime
		defer func() { p.now = now }()
	}
	r.ID = p.s.newID(p.ids)
	r.State, r.Status, r.CreatedDateTime = RequestStateSubmitted, RequestStatusAccepted, p.now
	record := func() {
		p.emitEvent(Event{Stream: requestStream(r.ID), Type: requestCreatedType(r.RequestType), Data: &AssignmentRequestPayload{Request: r}})
		p.submit(r.ID)
	}
	if r.RequestorID == SystemActor().ID {
		// The system's request, whoever's command set it off (a policy
		// deleted, a workflow's task): its events are the system's.
		p.bySystem(record)
	} else {
		record()
	}
	return r.ID
}

// reconcilePolicy evaluates an automatic assignment policy for the users
// its rule matches and for the holders of its assignments, after it was created
// or replaced. It refuses a rule that matches more than
// MaxAutoAssignmentUsers users and more than prev, the number the rule it
// replaces matched.
func (p *plan) reconcilePolicy(op, policyID string, prev int) error {
	e, _ := p.s.policies.Get(policyID)
	users := p.s.matchingUsers(&e.Policy)
	if len(users) > MaxAutoAssignmentUsers && len(users) > prev {
		return fail(op, ErrLimit, subject("assignmentPolicy", policyID),
			"the rule matches %d users; an automatic assignment policy covers at most %d", len(users), MaxAutoAssignmentUsers)
	}
	p.reconcileUsers(e, users)
	return p.err
}

// reconcileUsers evaluates an automatic assignment policy for the holders
// of its assignments who no longer match and for the matching users.
func (p *plan) reconcileUsers(e *policyEntry, users []string) {
	policyID := e.Policy.ID
	// Holders who no longer match: their package's live assignments made
	// through this policy.
	for _, id := range collect(&p.s.ix.liveByPackage, e.Policy.AccessPackageID) {
		if a, _ := p.s.assignments.Get(id); a.AssignmentPolicyID == policyID && !autoMatches(p.s, &e.Policy, a.TargetID) {
			p.reconcileAuto(policyID, a.TargetID)
		}
	}
	for _, id := range users {
		p.reconcileAuto(policyID, id)
	}
}

// decideMadeAssignable decides a change that may make matching users of
// the packages' automatic assignment policies assignable where they were
// not (the catalog published again, an incompatibility removed): the
// event, then every user evaluated for each of those policies.
func decideMadeAssignable(s *State, ids IDSource, now time.Time, id string, e Event, packages []string) (decision, error) {
	var pols []*policyEntry
	for _, pkg := range packages {
		for _, pid := range s.policiesOfPackage(pkg) {
			if pe, _ := s.policies.Get(pid); pe.Policy.IsAutoAssignment() {
				pols = append(pols, pe)
			}
		}
	}
	if len(pols) == 0 {
		return one(id, e)
	}
	p := newPlan(s, ids, now)
	p.emitEvent(e)
	for _, pe := range pols {
		p.reconcileUsers(pe, p.s.matchingUsers(&pe.Policy))
	}
	return p.decision(id)
}

// matchingUsers returns the users, not deleted, an automatic assignment
// policy's rule matches.
func (s *State) matchingUsers(pol *AssignmentPolicy) []string {
	r := parsedRule(autoRule(pol))
	if r == nil {
		return nil
	}
	var users []string
	for id, u := range s.users.All() {
		if u.DeletedDateTime == nil && r.Match(func(name string) (string, bool) { return ruleAttribute(u, name) }) {
			users = append(users, id)
		}
	}
	return users
}

// removeAutoAssignments ends every assignment an automatic assignment
// policy made, before the policy is deleted.
func (p *plan) removeAutoAssignments(policyID string) {
	e, _ := p.s.policies.Get(policyID)
	for _, id := range collect(&p.s.ix.liveByPackage, e.Policy.AccessPackageID) {
		if a, _ := p.s.assignments.Get(id); a.AssignmentPolicyID == policyID {
			p.removalRequest(RequestTypeSystemRemove, e, a, "")
		}
	}
}

// dueAutomaticRemoval removes an assignment whose target stopped matching
// its automatic assignment policy a grace period ago.
func (p *plan) dueAutomaticRemoval(assignmentID string) {
	a, _ := p.s.assignments.Get(assignmentID)
	e, ok := p.s.policies.Get(a.AssignmentPolicyID)
	if !ok {
		// Deleting a policy removes its assignments first; this is only a
		// guard against a due entry that would never leave the queue.
		p.automaticRemoval(EventAutomaticRemovalCanceled, a, *a.AutomaticRemovalDateTime)
		return
	}
	p.removalRequest(RequestTypeSystemRemove, e, a, "")
}
