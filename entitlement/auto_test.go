package entitlement

import (
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement/rule"

	"github.com/stretchr/testify/require"
)

// autoWorld is accessWorld with members in departments, the catalog's
// group G1 on package P3, and an Identity Governance Administrator.
func autoWorld(t *testing.T) (*world, *fakeDeliverer) {
	w, fd := accessWorld(t)
	for name, dept := range map[string]string{"alice": "Sales", "bob": "Sales", "carol": "Marketing", "erin": "", "frank": "Sales"} {
		if dept != "" {
			w.do(sys, SetUserAttribute{UserID: w.uid[name], Name: "department", Value: dept})
		}
	}
	w.id["RS-P3"] = w.do(w.actors["GA"], AddResourceRoleScope{AccessPackageID: w.id["P3"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]}).ID
	return w, fd
}

// salesPolicy is an automatic assignment policy on pkg for the Sales
// department, removing access after grace.
func salesPolicy(pkg string, grace Duration) AssignmentPolicy {
	p := autoPolicy(pkg, "Sales department")
	p.AutomaticRequestSettings.RemoveAccessWhenTargetLeavesAllowedTargets = true
	p.AutomaticRequestSettings.GracePeriodBeforeAccessRemoval = grace
	return p
}

// autoHolder returns the user's live assignment of pkg, or nil.
func (w *world) autoHolder(user, pkg string) *Assignment {
	w.t.Helper()
	var out *Assignment
	w.m.Read(func(s *State) {
		if id, ok := s.liveAssignmentOf(w.uid[user], w.id[pkg]); ok {
			a := at(&s.assignments, id).copy()
			out = a
		}
	})
	return out
}

// TestScenarioAssignEmployeesAccessAutomatically walks the seed scenario
// "Administrator: Assign employees access automatically" as an Identity
// Governance Administrator, then lives with the policy: joiners, movers,
// a grace period, a rule change and the policy's deletion.
func TestScenarioAssignEmployeesAccessAutomatically(t *testing.T) {
	w, fd := accessWorld(t)
	iga := w.actors["IGA"]
	for name, dept := range map[string]string{"alice": "Sales", "bob": "Sales", "carol": "Marketing"} {
		w.do(sys, SetUserAttribute{UserID: w.uid[name], Name: "department", Value: dept})
	}

	// 1. Create a new access package.
	pkg := w.do(iga, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Sales tools"}).ID
	w.id["Sales tools"] = pkg
	// 2. Add a group to the access package.
	rs := w.do(iga, AddResourceRoleScope{AccessPackageID: pkg, RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]}).ID
	// 3. Add an automatic assignment policy: everyone in Sales, removed
	// two days after leaving it.
	res := w.do(iga, CreateAssignmentPolicy{Policy: salesPolicy(pkg, DurationDays(2))})
	pol := res.ID
	// The policy is the administrator's; the requests, approvals and
	// assignments it sets off are entitlement management's own work, as
	// the requests' requestor says (found by the projection's property
	// test: why named the administrator as the requestor).
	require.Equal(t, iga.ID, res.Events[0].Metadata.ActorID)
	for _, e := range res.Events[1:] {
		require.Equal(t, string(ActorSystem), e.Metadata.ActorKind, e.Type)
	}

	// Alice and Bob are assigned at once through systemAdd requests, and
	// the deliverer adds them to the group; Carol is not.
	for _, n := range []string{"alice", "bob"} {
		a := w.autoHolder(n, "Sales tools")
		require.NotNil(t, a, n)
		require.Equal(t, pol, a.AssignmentPolicyID)
		require.Equal(t, AssignmentStateDelivered, a.State)
		require.Equal(t, RequestTypeSystemAdd, w.getRequest(a.RequestID).RequestType)
		require.Equal(t, SystemActor().ID, w.getRequest(a.RequestID).RequestorID)
		require.Contains(t, fd.heldBy(w.uid[n]), rs)
	}
	require.Nil(t, w.autoHolder("carol", "Sales tools"))
	require.Empty(t, fd.heldBy(w.uid["carol"]))

	// A joiner created in Sales is assigned; so is Carol on moving there.
	dan := nameID("user/dan")
	w.uid["dan"] = dan
	w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", Department: "Sales", AccountEnabled: true}})
	require.NotNil(t, w.autoHolder("dan", "Sales tools"))
	w.do(sys, SetUserAttribute{UserID: w.uid["carol"], Name: "department", Value: "Sales"})
	require.NotNil(t, w.autoHolder("carol", "Sales tools"))

	// Alice moves to Marketing: she keeps the package for the grace
	// period, and keeps it for good on coming back within it.
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Marketing"})
	a := w.autoHolder("alice", "Sales tools")
	require.NotNil(t, a)
	require.Equal(t, w.clock.t.Add(48*time.Hour), *a.AutomaticRemovalDateTime)
	w.clock.t = w.clock.t.Add(24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.NotNil(t, w.autoHolder("alice", "Sales tools"))
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	require.Nil(t, w.autoHolder("alice", "Sales tools").AutomaticRemovalDateTime)
	w.clock.t = w.clock.t.Add(72 * time.Hour)
	_, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.NotNil(t, w.autoHolder("alice", "Sales tools"))

	// Bob leaves Sales for good: removed when the grace period ends (a
	// systemRemove request), at that instant, however late ProcessDue runs.
	left := w.clock.t
	w.do(sys, SetUserAttribute{UserID: w.uid["bob"], Name: "department", Value: "Finance"})
	bobs := w.autoHolder("bob", "Sales tools")
	w.clock.t = w.clock.t.Add(10 * 24 * time.Hour)
	_, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Nil(t, w.autoHolder("bob", "Sales tools"))
	ended := w.getAssignment(bobs.ID)
	require.Equal(t, left.Add(48*time.Hour), *ended.ExpiredDateTime)
	require.NotContains(t, fd.heldBy(w.uid["bob"]), rs)

	// Changing an attribute no rule reads evaluates nothing.
	r := w.do(sys, SetUserAttribute{UserID: w.uid["carol"], Name: "jobTitle", Value: "Lead"})
	require.Len(t, r.Events, 1)

	// Changing the rule re-evaluates everyone: Finance now, with no
	// grace period.
	p := salesPolicy(pkg, Duration{})
	p.SpecificAllowedTargets[0].MembershipRule = `(user.department -eq "Finance")`
	p.DisplayName = "Finance department"
	w.do(iga, ReplaceAssignmentPolicy{PolicyID: pol, Policy: p})
	require.NotNil(t, w.autoHolder("bob", "Sales tools"))
	for _, n := range []string{"alice", "carol", "dan"} {
		require.Nil(t, w.autoHolder(n, "Sales tools"), n)
	}

	// Nobody can remove an automatic assignment by hand…
	_, err = w.try(iga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolder("bob", "Sales tools").ID})
	requireKind(t, err, ErrInvalid)
	// …but deleting the policy removes the assignments it made.
	w.do(iga, DeleteAssignmentPolicy{PolicyID: pol})
	require.Nil(t, w.autoHolder("bob", "Sales tools"))
	require.Empty(t, fd.heldBy(w.uid["bob"]))
	requireSameState(t, w.state(), w.replayed())
}

func TestAutomaticAssignmentRefusals(t *testing.T) {
	w, _ := autoWorld(t)
	iga := w.actors["IGA"]
	// Only Global and Identity Governance Administrators (§2.7).
	for _, n := range []string{"owner", "apManager"} {
		_, err := w.try(w.actors[n], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
		requireKind(t, err, ErrForbidden)
	}
	// Assignments last while the user matches: no expiration.
	p := salesPolicy(w.id["P3"], Duration{})
	p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	_, err := w.try(iga, CreateAssignmentPolicy{Policy: p})
	requireField(t, err, "expiration.type")
	// A rule that does not parse says where.
	p = salesPolicy(w.id["P3"], Duration{})
	p.SpecificAllowedTargets[0].MembershipRule = `(user.department -eq "Sales"`
	_, err = w.try(iga, CreateAssignmentPolicy{Policy: p})
	requireKind(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "offset 28")
	// An automatic policy takes no requests.
	id := w.do(iga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})}).ID
	_, err = w.try(w.actors["carol"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P3"], AssignmentPolicyID: id})
	requireKind(t, err, ErrInvalid)
}

// TestAutomaticAssignmentLeavesOutWhoCannotBeAssigned: a matching user
// who is blocked, or holds an incompatible package, is not assigned, and is
// on the change that makes them assignable.
func TestAutomaticAssignmentLeavesOutWhoCannotBeAssigned(t *testing.T) {
	w, _ := autoWorld(t)
	iga := w.actors["IGA"]
	w.do(sys, BlockUser{UserID: w.uid["bob"]})
	// P1 lists P3 as incompatible, which is directional: holding P1 does
	// not bar P3. Make P3 list P2 and give frank P2.
	w.do(iga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P3"], IncompatibleAccessPackageID: w.id["P2"]})
	w.request("frank", "P2", "Pol2")
	w.do(iga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	require.NotNil(t, w.autoHolder("alice", "P3"))
	require.Nil(t, w.autoHolder("bob", "P3"))
	require.Nil(t, w.autoHolder("frank", "P3"))
	w.do(sys, UnblockUser{UserID: w.uid["bob"]})
	require.NotNil(t, w.autoHolder("bob", "P3"))
	// Blocking keeps the assignment: bob still matches.
	w.do(sys, BlockUser{UserID: w.uid["bob"]})
	require.NotNil(t, w.autoHolder("bob", "P3"))
	// Deleting a user is leaving the rule.
	w.do(sys, DeleteUser{UserID: w.uid["alice"]})
	require.Nil(t, w.autoHolder("alice", "P3"))
	requireSameState(t, w.state(), w.replayed())
}

// TestAutomaticAssignmentSettings: requestAccessForAllowedTargets false
// assigns nobody; removal off keeps the assignment of who leaves, and
// turning removal off cancels a removal already scheduled.
func TestAutomaticAssignmentSettings(t *testing.T) {
	w, _ := autoWorld(t)
	iga := w.actors["IGA"]
	off := salesPolicy(w.id["P3"], DurationDays(1))
	off.AutomaticRequestSettings.RequestAccessForAllowedTargets = false
	id := w.do(iga, CreateAssignmentPolicy{Policy: off}).ID
	require.Nil(t, w.autoHolder("alice", "P3"))
	w.do(iga, ReplaceAssignmentPolicy{PolicyID: id, Policy: salesPolicy(w.id["P3"], DurationDays(1))})
	require.NotNil(t, w.autoHolder("alice", "P3"))
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	require.NotNil(t, w.autoHolder("alice", "P3").AutomaticRemovalDateTime)
	keep := salesPolicy(w.id["P3"], DurationDays(1))
	keep.AutomaticRequestSettings.RemoveAccessWhenTargetLeavesAllowedTargets = false
	w.do(iga, ReplaceAssignmentPolicy{PolicyID: id, Policy: keep})
	require.Nil(t, w.autoHolder("alice", "P3").AutomaticRemovalDateTime)
	w.clock.t = w.clock.t.Add(5 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.NotNil(t, w.autoHolder("alice", "P3"))
}

// TestAutomaticAssignmentLimit: a rule matching more than
// MaxAutoAssignmentUsers users is refused when it is set.
func TestAutomaticAssignmentLimit(t *testing.T) {
	w, _ := autoWorld(t)
	s := w.state().Clone()
	for i := range MaxAutoAssignmentUsers {
		id := nameID("user/many-" + itoa(i))
		require.NoError(t, s.Apply(Event{Stream: userStream(id), Type: EventUserCreated,
			Data: &UserPayload{User: User{ID: id, UserType: UserTypeMember, Department: "Sales", AccountEnabled: true}}}))
	}
	_, err := Decide(s, w.actors["IGA"], w.clock.t, SeededIDs(3), CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	requireKind(t, err, ErrLimit)

	// A rule set while it matched fewer: users who come to match it later
	// are assigned, and the policy stays editable (found by a review: it
	// could no longer be renamed); a new rule is checked again.
	s = w.state().Clone()
	d, err := decide(s, w.actors["IGA"], w.clock.t, SeededIDs(3), CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	require.NoError(t, err)
	s = d.state
	for i := range MaxAutoAssignmentUsers {
		id := nameID("user/many-" + itoa(i))
		d, err := decide(s, sys, w.clock.t, SeededIDs(uint64(10+i)), PutUser{User: User{ID: id, UserType: UserTypeMember, Department: "Sales", AccountEnabled: true}})
		require.NoError(t, err)
		s = d.state
	}
	pol, ok := s.policies.Get(d.id)
	require.True(t, ok)
	renamed := pol.Policy
	renamed.DisplayName = "Sales, renamed"
	_, err = Decide(s, w.actors["IGA"], w.clock.t, SeededIDs(4), ReplaceAssignmentPolicy{PolicyID: renamed.ID, Policy: renamed})
	require.NoError(t, err)
	widened := renamed
	widened.SpecificAllowedTargets = []SubjectSet{{Kind: AttributeRuleMembers, MembershipRule: `(user.department -ne "Nowhere")`}}
	_, err = Decide(s, w.actors["IGA"], w.clock.t, SeededIDs(5), ReplaceAssignmentPolicy{PolicyID: widened.ID, Policy: widened})
	requireKind(t, err, ErrLimit)
	// A rule that matches fewer, though still more than the limit,
	// narrows the scope step by step.
	narrowed := renamed
	narrowed.SpecificAllowedTargets = []SubjectSet{{Kind: AttributeRuleMembers, MembershipRule: `(user.department -eq "Sales") -and (user.displayName -ne "alice")`}}
	_, err = Decide(s, w.actors["IGA"], w.clock.t, SeededIDs(6), ReplaceAssignmentPolicy{PolicyID: narrowed.ID, Policy: narrowed})
	require.NoError(t, err)
}

// TestAutomaticAssignmentWhenAssignableAgain: users left out because the
// package's catalog was unpublished or they held an incompatible package
// are assigned when that changes.
func TestAutomaticAssignmentWhenAssignableAgain(t *testing.T) {
	w, _ := autoWorld(t)
	iga := w.actors["IGA"]
	w.do(iga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P3"], IncompatibleAccessPackageID: w.id["P2"]})
	w.request("frank", "P2", "Pol2")
	w.do(iga, UpdateCatalog{CatalogID: w.id["C"], State: ptr(CatalogStateUnpublished)})
	w.do(iga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	for _, n := range []string{"alice", "bob", "frank"} {
		require.Nil(t, w.autoHolder(n, "P3"), n)
	}
	w.do(iga, UpdateCatalog{CatalogID: w.id["C"], State: ptr(CatalogStatePublished)})
	require.NotNil(t, w.autoHolder("alice", "P3"))
	require.NotNil(t, w.autoHolder("bob", "P3"))
	require.Nil(t, w.autoHolder("frank", "P3"), "frank holds P2, which P3 lists as incompatible")
	w.do(iga, RemoveIncompatibleAccessPackage{AccessPackageID: w.id["P3"], IncompatibleAccessPackageID: w.id["P2"]})
	require.NotNil(t, w.autoHolder("frank", "P3"))
	requireSameState(t, w.state(), w.replayed())
}

// TestRuleAttributesAreTracked: every attribute a membership rule may read
// is one a change event can change (SetUserAttribute's list) or one
// ruleAttribute reads by itself; otherwise a policy reading it would never
// be evaluated again when it changes.
func TestRuleAttributesAreTracked(t *testing.T) {
	u := &User{ID: "u", ManagerID: "m", AccountEnabled: true}
	for _, name := range rule.KnownAttributes() {
		if slices.Contains(userAttributes, name) {
			continue
		}
		_, set := ruleAttribute(u, name)
		require.True(t, set, "%s is neither a SetUserAttribute attribute nor read by ruleAttribute", name)
	}
}

// TestAutomaticAssignmentAfterAnotherEnds: a matching user left out
// because they held the package through another policy, or held a package
// it lists as incompatible, is assigned when that assignment ends, by a
// removal or by an expiry recorded late, as of its end.
func TestAutomaticAssignmentAfterAnotherEnds(t *testing.T) {
	w, _ := autoWorld(t)
	iga := w.actors["IGA"]
	open := requestPolicy(w.id["P3"], "Two days")
	open.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(2)}
	w.id["Pol3"] = w.do(iga, CreateAssignmentPolicy{Policy: open}).ID
	w.request("alice", "P3", "Pol3")
	w.request("bob", "P3", "Pol3")
	w.do(iga, AddIncompatibleAccessPackage{AccessPackageID: w.id["P3"], IncompatibleAccessPackageID: w.id["P2"]})
	w.request("frank", "P2", "Pol2")
	auto := w.do(iga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})}).ID
	for _, n := range []string{"alice", "bob"} {
		require.Equal(t, w.id["Pol3"], w.autoHolder(n, "P3").AssignmentPolicyID, n)
	}
	require.Nil(t, w.autoHolder("frank", "P3"))

	// Removed: assigned through the automatic policy in the same decision.
	w.do(iga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolder("alice", "P3").ID})
	require.Equal(t, auto, w.autoHolder("alice", "P3").AssignmentPolicyID)
	w.do(iga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolder("frank", "P2").ID})
	require.Equal(t, auto, w.autoHolder("frank", "P3").AssignmentPolicyID)

	// Expired, recorded days later: assigned as of the end.
	end, _ := w.autoHolder("bob", "P3").End()
	w.clock.t = w.clock.t.Add(5 * 24 * time.Hour)
	_, err := w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	a := w.autoHolder("bob", "P3")
	require.Equal(t, auto, a.AssignmentPolicyID)
	require.Equal(t, end, a.CreatedDateTime)
	requireSameState(t, w.state(), w.replayed())
}

// TestAutomaticRemovalDueBeforeMatchingAgain: a user who left the rule
// and matches again after the grace period, before ProcessDue ran, lost
// the assignment when the grace period ended and gets a new one: the
// outcome does not depend on when ProcessDue last ran.
func TestAutomaticRemovalDueBeforeMatchingAgain(t *testing.T) {
	w, _ := autoWorld(t)
	w.do(w.actors["IGA"], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], DurationDays(1))})
	first := w.autoHolder("alice", "P3")
	left := w.clock.t
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	w.clock.t = w.clock.t.Add(3 * 24 * time.Hour)
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	ended := w.getAssignment(first.ID)
	require.True(t, ended.IsEnded())
	require.Equal(t, left.Add(24*time.Hour), *ended.ExpiredDateTime)
	again := w.autoHolder("alice", "P3")
	require.NotEqual(t, first.ID, again.ID)
	require.Equal(t, w.clock.t, again.CreatedDateTime)
	requireSameState(t, w.state(), w.replayed())
}

// TestAutomaticRemovalDueAtTheInstantOfMatchingAgain: matching again at
// exactly the end of the grace period is after the removal fell due, as
// ProcessDue would have recorded it then: the user gets a new assignment.
func TestAutomaticRemovalDueAtTheInstantOfMatchingAgain(t *testing.T) {
	w, _ := autoWorld(t)
	w.do(w.actors["IGA"], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], DurationDays(1))})
	first := w.autoHolder("alice", "P3")
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Legal"})
	w.clock.t = w.clock.t.Add(24 * time.Hour)
	w.do(sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Sales"})
	ended := w.getAssignment(first.ID)
	require.True(t, ended.IsEnded())
	again := w.autoHolder("alice", "P3")
	require.NotEqual(t, first.ID, again.ID)
	requireSameState(t, w.state(), w.replayed())
}
