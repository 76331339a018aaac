// Package entitlementtest provides what property tests of entitlement
// management and of the read models built on its log share: a settable
// clock, a Deliverer that fails on demand, and World, a small tenant that
// random steps drive through requests, approvals, denials, cancellations,
// extensions, removals, role scope and policy changes, and time passing
// with and without due work being processed on time.
//
// It uses only the public API of package entitlement.
package entitlementtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/google/uuid"
	"pgregory.net/rapid"
)

// T0 is when a World starts.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when told. It is safe for concurrent
// use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ErrDelivery is the error of a grant the Deliverer was told to fail.
var ErrDelivery = errors.New("entitlementtest: delivery failed")

// Deliverer records the roles it holds per subject and fails the grants of
// resources it is told to fail. It is safe for concurrent use.
type Deliverer struct {
	mu     sync.Mutex
	held   map[[2]string]bool // subject, role scope
	failOn map[string]bool    // resource origin ids whose grants fail
}

// NewDeliverer returns a Deliverer that holds nothing and fails nothing.
func NewDeliverer() *Deliverer {
	return &Deliverer{held: map[[2]string]bool{}, failOn: map[string]bool{}}
}

// Grant records g, or fails if its resource's origin is set to fail.
func (d *Deliverer) Grant(_ context.Context, g entitlement.Grant) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failOn[g.OriginID] {
		return ErrDelivery
	}
	d.held[[2]string{g.SubjectID, g.ResourceRoleScopeID}] = true
	return nil
}

// Revoke forgets g.
func (d *Deliverer) Revoke(_ context.Context, g entitlement.Grant) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.held, [2]string{g.SubjectID, g.ResourceRoleScopeID})
	return nil
}

// SetFailing sets whether grants of the resource with the given origin id
// fail.
func (d *Deliverer) SetFailing(originID string, fail bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failOn[originID] = fail
}

// Holds reports whether the Deliverer holds a role scope for a subject.
func (d *Deliverer) Holds(subjectID, roleScopeID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.held[[2]string{subjectID, roleScopeID}]
}

// NameID returns the id a World gives the object it calls name: a UUID
// derived from the name.
func NameID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

// World is a small tenant: a directory of members with managers and
// groups, a catalog with two group resources, two or three access packages
// with random role scopes and random request policies, an administrator
// and an access package assignment manager of the catalog.
type World struct {
	Ctx       context.Context
	Store     eventstore.Store
	M         *entitlement.Manager
	Clock     *Clock
	Deliverer *Deliverer
	Admin     entitlement.Actor
	// AssignmentManager is an access package assignment manager of the
	// catalog.
	AssignmentManager entitlement.Actor
	Users             []string
	Groups            []string // resources G0 and G1, and a plain group G2
	Catalog           string
	Packages          []string
	Roles             [][2]string // role and scope ids role scopes are drawn from
	// Due is the instant up to which due work was last processed.
	Due time.Time
}

// NewWorld draws a World on an empty store, with a Manager whose ids come
// from a drawn seed.
func NewWorld(t *rapid.T, st eventstore.Store) *World {
	ctx := context.Background()
	clock := NewClock(T0)
	d := NewDeliverer()
	m, err := entitlement.NewManager(ctx, st, entitlement.Options{Clock: clock,
		IDs: entitlement.SeededIDs(rapid.Uint64().Draw(t, "seed")), Deliverer: d, NoSnapshot: true})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	w := &World{Ctx: ctx, Store: st, M: m, Clock: clock, Deliverer: d, Due: T0}
	admin := NameID("ap/admin")
	w.must(t, entitlement.SystemActor(), entitlement.PutUser{User: entitlement.User{ID: admin, DisplayName: "admin", AccountEnabled: true}})
	w.Admin = entitlement.UserActor(admin, entitlement.GlobalAdministrator)
	for i := range rapid.IntRange(3, 6).Draw(t, "users") {
		id := NameID(fmt.Sprintf("ap/user/%d", i))
		u := entitlement.User{ID: id, DisplayName: fmt.Sprintf("u%d", i), AccountEnabled: true, UserType: entitlement.UserTypeMember}
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "hasManager") > 0 {
			u.ManagerID = w.Users[rapid.IntRange(0, i-1).Draw(t, "manager")]
		}
		if rapid.IntRange(0, 5).Draw(t, "guest") == 0 {
			u.UserType = entitlement.UserTypeGuest
		}
		w.must(t, entitlement.SystemActor(), entitlement.PutUser{User: u})
		w.Users = append(w.Users, id)
	}
	for i := range 3 {
		id := NameID(fmt.Sprintf("ap/group/%d", i))
		w.must(t, entitlement.SystemActor(), entitlement.PutGroup{Group: entitlement.Group{ID: id, DisplayName: fmt.Sprintf("g%d", i), SecurityEnabled: true}})
		for _, u := range w.Users {
			if rapid.IntRange(0, 2).Draw(t, "member") == 0 {
				w.must(t, entitlement.SystemActor(), entitlement.AddGroupMember{GroupID: id, MemberID: u})
			}
		}
		w.Groups = append(w.Groups, id)
	}
	w.Catalog = w.must(t, w.Admin, entitlement.CreateCatalog{DisplayName: "C"})
	amgr := NameID("ap/amgr")
	w.must(t, entitlement.SystemActor(), entitlement.PutUser{User: entitlement.User{ID: amgr, DisplayName: "amgr", AccountEnabled: true}})
	w.AssignmentManager = entitlement.UserActor(amgr)
	w.must(t, w.Admin, entitlement.CreateRoleAssignment{PrincipalID: amgr,
		RoleDefinitionID: entitlement.RoleAccessPackageAssignmentManager, AppScopeID: entitlement.CatalogScope(w.Catalog)})
	for _, g := range w.Groups[:2] {
		w.must(t, w.Admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: w.Catalog,
			Resource: entitlement.ResourceSpec{OriginID: g, OriginSystem: entitlement.OriginSystemAadGroup}})
	}
	res, err := w.M.State().ResourcesOfCatalog(w.Admin, w.Catalog)
	if err != nil {
		t.Fatalf("ResourcesOfCatalog: %v", err)
	}
	for _, r := range res {
		for _, role := range r.Roles {
			w.Roles = append(w.Roles, [2]string{role.ID, r.Scopes[0].ID})
		}
	}
	for i := range rapid.IntRange(2, 3).Draw(t, "packages") {
		pkg := w.must(t, w.Admin, entitlement.CreateAccessPackage{CatalogID: w.Catalog, DisplayName: fmt.Sprintf("P%d", i)})
		w.Packages = append(w.Packages, pkg)
		for _, rs := range w.Roles {
			if rapid.IntRange(0, 2).Draw(t, "roleScope") == 0 {
				w.must(t, w.Admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: rs[0], ScopeID: rs[1]})
			}
		}
		for range rapid.IntRange(1, 2).Draw(t, "policies") {
			w.must(t, w.Admin, entitlement.CreateAssignmentPolicy{Policy: w.DrawPolicy(t, pkg)})
		}
	}
	if rapid.Bool().Draw(t, "incompatible") {
		w.must(t, w.Admin, entitlement.AddIncompatibleAccessPackage{AccessPackageID: w.Packages[0], IncompatibleAccessPackageID: w.Packages[1]})
	}
	// People outside the organization may ask for the first package.
	if rapid.Bool().Draw(t, "partners") {
		w.must(t, w.Admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
			DisplayName: "Partners", AccessPackageID: w.Packages[0], AllowedTargetScope: entitlement.ScopeAllExternalUsers,
			RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
			Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration,
				Duration: entitlement.DurationDays(rapid.IntRange(1, 20).Draw(t, "partnerDays"))}}})
	}
	// Sales gets the second package by rule.
	if rapid.Bool().Draw(t, "auto") {
		w.must(t, w.Admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
			DisplayName: "Sales", AccessPackageID: w.Packages[1], AllowedTargetScope: entitlement.ScopeSpecificDirectoryUsers,
			SpecificAllowedTargets: []entitlement.SubjectSet{{Kind: entitlement.AttributeRuleMembers, MembershipRule: `(user.department -eq "Sales")`}},
			AutomaticRequestSettings: &entitlement.AutomaticRequestSettings{RequestAccessForAllowedTargets: true,
				RemoveAccessWhenTargetLeavesAllowedTargets: true, GracePeriodBeforeAccessRemoval: entitlement.DurationDays(rapid.IntRange(0, 3).Draw(t, "grace"))},
		}})
	}
	// Joiners of Sales ask for the first package on their hire date.
	if rapid.Bool().Draw(t, "joiners") {
		pols, _ := w.M.State().PoliciesOfPackage(w.Admin, w.Packages[0])
		w.must(t, w.Admin, entitlement.CreateWorkflow{Workflow: entitlement.Workflow{
			DisplayName: "Joiners", Category: entitlement.WorkflowCategoryJoiner, IsEnabled: true, IsSchedulingEnabled: true,
			ExecutionConditions: entitlement.WorkflowExecutionConditions{ODataType: entitlement.ConditionsTriggerAndScopeBased,
				Scope: &entitlement.RuleBasedSubjectSet{Rule: `(user.department -eq "Sales")`},
				Trigger: &entitlement.WorkflowTrigger{ODataType: entitlement.TriggerTimeBasedAttribute, TimeBasedAttribute: "employeeHireDate",
					OffsetInDays: rapid.IntRange(-2, 2).Draw(t, "offset")}},
			Tasks: []entitlement.WorkflowTask{{DisplayName: "Request", TaskDefinitionID: entitlement.TaskRequestAccessPackageAssignment, IsEnabled: true,
				Arguments: []entitlement.KeyValuePair{{Name: "accessPackageId", Value: w.Packages[0]}, {Name: "assignmentPolicyId", Value: pols[0].ID}}}},
		}})
	}
	return w
}

// must executes a command that must succeed and returns the id it made.
func (w *World) must(t *rapid.T, a entitlement.Actor, cmd entitlement.Command) string {
	r, err := w.M.Execute(w.Ctx, a, cmd)
	if err != nil {
		t.Fatalf("%s: %v", entitlement.CommandName(cmd), err)
	}
	return r.ID
}

// DrawPolicy draws a request policy for pkg: target scope, self-service
// settings, expiration, and zero to two approval stages with time-outs,
// fallbacks and escalation.
func (w *World) DrawPolicy(t *rapid.T, pkg string) entitlement.AssignmentPolicy {
	p := entitlement.AssignmentPolicy{DisplayName: "random", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true}}
	switch rapid.IntRange(0, 2).Draw(t, "scope") {
	case 1:
		p.AllowedTargetScope = entitlement.ScopeAllDirectoryUsers
	case 2:
		p.AllowedTargetScope = entitlement.ScopeSpecificDirectoryUsers
		p.SpecificAllowedTargets = []entitlement.SubjectSet{{Kind: entitlement.GroupMembers, GroupID: w.Groups[2]}}
	}
	rs := &p.RequestorSettings
	rs.EnableTargetsToSelfUpdateAccess = rapid.Bool().Draw(t, "selfUpdate")
	rs.EnableTargetsToSelfRemoveAccess = rapid.Bool().Draw(t, "selfRemove")
	rs.AllowCustomAssignmentSchedule = rapid.Bool().Draw(t, "custom")
	switch rapid.IntRange(0, 2).Draw(t, "expiration") {
	case 1:
		p.Expiration = entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration,
			Duration: entitlement.DurationDays(rapid.IntRange(1, 40).Draw(t, "days"))}
	case 2:
		p.Expiration = entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDateTime,
			EndDateTime: w.Clock.Now().Add(time.Duration(rapid.IntRange(2, 60).Draw(t, "endDays")) * 24 * time.Hour)}
	}
	as := &p.RequestApprovalSettings
	as.IsRequestorJustificationRequired = rapid.Bool().Draw(t, "justify")
	for range rapid.IntRange(0, 2).Draw(t, "stages") {
		st := entitlement.ApprovalStage{
			DurationBeforeAutomaticDenial:   entitlement.DurationDays(rapid.IntRange(4, 14).Draw(t, "timeout")),
			IsApproverJustificationRequired: rapid.Bool().Draw(t, "approverJustify"),
			FallbackPrimaryApprovers:        []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: rapid.SampledFrom(w.Users).Draw(t, "fallback")}},
		}
		switch rapid.IntRange(0, 2).Draw(t, "primary") {
		case 0:
			st.PrimaryApprovers = []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: rapid.IntRange(1, 2).Draw(t, "level")}}
		case 1:
			st.PrimaryApprovers = []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: rapid.SampledFrom(w.Users).Draw(t, "approver")}}
		default:
			st.PrimaryApprovers = []entitlement.SubjectSet{{Kind: entitlement.GroupMembers, GroupID: w.Groups[2]}}
		}
		if rapid.Bool().Draw(t, "escalate") {
			st.IsEscalationEnabled = true
			st.DurationBeforeEscalation = entitlement.DurationDays(rapid.IntRange(1, 3).Draw(t, "escDays"))
			st.EscalationApprovers = []entitlement.SubjectSet{{Kind: entitlement.TargetManager, ManagerLevel: 2}}
			st.FallbackEscalationApprovers = []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: rapid.SampledFrom(w.Users).Draw(t, "escFallback")}}
		}
		as.Stages = append(as.Stages, st)
	}
	if len(as.Stages) > 0 {
		as.IsApprovalRequiredForAdd = rapid.IntRange(0, 3).Draw(t, "approveAdd") > 0
		as.IsApprovalRequiredForUpdate = rapid.Bool().Draw(t, "approveUpdate")
		if !as.IsApprovalRequiredForAdd && !as.IsApprovalRequiredForUpdate {
			as.Stages = nil // nothing would ask them: refused
		}
	}
	if rapid.IntRange(0, 3).Draw(t, "reviews") == 0 {
		p.ReviewSettings = entitlement.ReviewSettings{IsEnabled: true, IsSelfReview: rapid.Bool().Draw(t, "selfReview"),
			ExpirationBehavior: rapid.SampledFrom([]entitlement.ReviewExpirationBehavior{entitlement.ReviewKeepAccess, entitlement.ReviewRemoveAccess}).Draw(t, "reviewBehavior"),
			Schedule: entitlement.EntitlementManagementSchedule{StartDateTime: T0.Add(24 * time.Hour),
				Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(6)},
				Recurrence: entitlement.PatternedRecurrence{Pattern: entitlement.RecurrencePattern{Type: entitlement.RecurrenceWeekly, Interval: 1}}},
			PrimaryReviewers:  []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
			FallbackReviewers: []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: rapid.SampledFrom(w.Users).Draw(t, "fallbackReviewer")}},
		}
		if p.ReviewSettings.IsSelfReview {
			p.ReviewSettings.PrimaryReviewers, p.ReviewSettings.FallbackReviewers = nil, nil
		}
	}
	return p
}

// view lists what steps pick from.
type view struct {
	policies    [][2]string // package, policy
	requests    []entitlement.AssignmentRequest
	pending     []entitlement.PendingApproval
	assignments []entitlement.Assignment
	reviewItems []entitlement.ReviewDecisionItem // of reviews in progress
	// What steps aim at most of the time, so that most commands are
	// accepted and runs reach deep states: the users each policy lets
	// request, open, failed and deletable requests, non-ended assignments
	// and their packages, each package's role scopes.
	inScope   map[string][]string // policy -> users who may request through it
	open      []entitlement.AssignmentRequest
	failed    []entitlement.AssignmentRequest
	deletable []entitlement.AssignmentRequest
	live      []entitlement.Assignment
	livePkgs  []string
	pkgScopes map[string][]string // package -> its role scope ids
}

func (w *World) view(t *rapid.T) view {
	var v view
	s := w.M.State()
	for _, pkg := range w.Packages {
		pols, err := s.PoliciesOfPackage(w.Admin, pkg)
		if errors.Is(err, entitlement.ErrNotFound) {
			continue // deleted
		}
		if err != nil {
			t.Fatalf("PoliciesOfPackage: %v", err)
		}
		for _, pol := range pols {
			v.policies = append(v.policies, [2]string{pkg, pol.ID})
			reviews, err := s.AccessReviewsOfPolicy(w.Admin, pol.ID)
			if err != nil {
				t.Fatalf("AccessReviewsOfPolicy: %v", err)
			}
			for _, r := range reviews {
				if r.Status != entitlement.ReviewStatusInProgress {
					continue
				}
				items, err := s.ReviewDecisionItems(w.Admin, r.ID)
				if err != nil {
					t.Fatalf("ReviewDecisionItems: %v", err)
				}
				v.reviewItems = append(v.reviewItems, items...)
			}
		}
		rs, err := s.ListAssignmentRequests(w.Admin, pkg)
		if err != nil {
			t.Fatalf("ListAssignmentRequests: %v", err)
		}
		v.requests = append(v.requests, rs...)
	}
	for _, r := range v.requests {
		if n := len(r.Stages); r.State == entitlement.RequestStatePendingApproval && n > 0 && r.Stages[n-1].Status == entitlement.StageStatusInProgress {
			v.pending = append(v.pending, entitlement.PendingApproval{Request: r, Stage: r.Stages[n-1]})
		}
	}
	as, err := s.ListAssignments(w.Admin, entitlement.AssignmentFilter{IncludeEnded: true})
	if err != nil {
		t.Fatalf("ListAssignments: %v", err)
	}
	v.assignments = as
	v.inScope, v.pkgScopes = map[string][]string{}, map[string][]string{}
	for _, u := range w.Users {
		for _, p := range s.AccessPackagesForRequestor(entitlement.UserActor(u)) {
			for _, r := range p.Requirements {
				v.inScope[r.PolicyID] = append(v.inScope[r.PolicyID], u)
			}
		}
	}
	for _, r := range v.requests {
		switch r.State {
		case entitlement.RequestStateSubmitted, entitlement.RequestStatePendingApproval, entitlement.RequestStateScheduled:
			v.open = append(v.open, r)
		case entitlement.RequestStateDeliveryFailed, entitlement.RequestStatePartiallyDelivered:
			v.failed = append(v.failed, r)
		case entitlement.RequestStateDenied, entitlement.RequestStateCanceled:
			if r.AssignmentID == "" {
				v.deletable = append(v.deletable, r)
			}
		}
	}
	for _, a := range as {
		if a.State != entitlement.AssignmentStateExpired {
			v.live = append(v.live, a)
			if !slices.Contains(v.livePkgs, a.AccessPackageID) {
				v.livePkgs = append(v.livePkgs, a.AccessPackageID)
			}
		}
	}
	for _, pkg := range w.Packages {
		if p, err := s.GetAccessPackage(w.Admin, pkg); err == nil {
			for _, rs := range p.ResourceRoleScopes {
				v.pkgScopes[pkg] = append(v.pkgScopes[pkg], rs.ID)
			}
		}
	}
	return v
}

// aim draws from good most of the time (when it is not empty), else from
// all: refusals stay reachable, acceptances are the rule.
func aim[T any](t *rapid.T, good, all []T, label string) (T, bool) {
	if len(good) > 0 && rapid.IntRange(0, 3).Draw(t, label+"Aimed") > 0 {
		return rapid.SampledFrom(good).Draw(t, label), true
	}
	return pick(t, all, label)
}

func pick[T any](t *rapid.T, xs []T, label string) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	return rapid.SampledFrom(xs).Draw(t, label), true
}

// DrawCommand draws a command and the actor who issues it, or reports
// false for a step that is not a command (the caller lets time pass). Some
// draws change the Deliverer (a resource starts or stops failing) and
// report false.
func (w *World) DrawCommand(t *rapid.T) (entitlement.Actor, entitlement.Command, bool) {
	v := w.view(t)
	user := func(label string) entitlement.Actor {
		return entitlement.UserActor(rapid.SampledFrom(w.Users).Draw(t, label))
	}
	kind := rapid.IntRange(0, 17*16-1).Draw(t, "step") % 17
	switch kind {
	case 0, 1, 2:
		var requestable [][2]string
		for _, pp := range v.policies {
			if len(v.inScope[pp[1]]) > 0 {
				requestable = append(requestable, pp)
			}
		}
		pp, ok := aim(t, requestable, v.policies, "policy")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		who, _ := aim(t, v.inScope[pp[1]], w.Users, "requestor")
		a := entitlement.UserActor(who)
		cmd := entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd, AccessPackageID: pp[0], AssignmentPolicyID: pp[1]}
		if kind == 2 {
			a = rapid.SampledFrom([]entitlement.Actor{w.Admin, w.AssignmentManager, w.Admin, w.AssignmentManager, user("notAdmin")}).Draw(t, "admin")
			cmd.RequestType = entitlement.RequestTypeAdminAdd
			cmd.TargetID, _ = aim(t, v.inScope[pp[1]], w.Users, "target")
		}
		if rapid.IntRange(0, 3).Draw(t, "justification") > 0 {
			cmd.Justification = "because"
		}
		if rapid.IntRange(0, 3).Draw(t, "withSchedule") == 0 {
			cmd.Schedule = entitlement.EntitlementManagementSchedule{
				StartDateTime: w.Clock.Now().Add(time.Duration(rapid.IntRange(0, 72).Draw(t, "startHours")) * time.Hour),
				Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration,
					Duration: entitlement.DurationDays(rapid.IntRange(1, 50).Draw(t, "reqDays"))}}
		}
		return a, cmd, true
	case 3, 4:
		// Escalated and later stages are few and soon time out: they go
		// first.
		var escalated []entitlement.PendingApproval
		for _, pa := range v.pending {
			if pa.Stage.Escalated || pa.Stage.Stage > 1 {
				escalated = append(escalated, pa)
			}
		}
		pa, ok := aim(t, escalated, v.pending, "pending")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		cands := append(append(slices.Clone(pa.Stage.Approvers), pa.Stage.EscalationApprovers...), pa.Request.RequestorID,
			rapid.SampledFrom(w.Users).Draw(t, "anyone"))
		var deciders []string
		for _, x := range cands {
			if _, ok := pa.Request.WaitsFor(x); ok {
				deciders = append(deciders, x)
			}
		}
		who, _ := aim(t, deciders, cands, "approver")
		a := entitlement.UserActor(who)
		res := entitlement.DecisionApprove
		if rapid.IntRange(0, 3).Draw(t, "deny") == 0 {
			res = entitlement.DecisionDeny
		}
		j := ""
		if rapid.IntRange(0, 4).Draw(t, "approverJustification") > 0 {
			j = "fine"
		}
		return a, entitlement.UpdateApprovalStage{ApprovalID: pa.Request.ID, StageID: pa.Stage.ID, ReviewResult: res, Justification: j}, true
	case 5:
		r, ok := aim(t, v.open, v.requests, "request")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		a := entitlement.UserActor(r.RequestorID)
		if rapid.Bool().Draw(t, "byManager") {
			a = w.AssignmentManager
		}
		return a, entitlement.CancelAssignmentRequest{RequestID: r.ID}, true
	case 6, 7:
		x, ok := aim(t, v.live, v.assignments, "assignment")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		types := []string{entitlement.RequestTypeUserUpdate, entitlement.RequestTypeUserRemove, entitlement.RequestTypeAdminUpdate, entitlement.RequestTypeAdminRemove}
		rt := rapid.SampledFrom(types).Draw(t, "type")
		a := entitlement.UserActor(x.TargetID)
		admin := rt == entitlement.RequestTypeAdminUpdate || rt == entitlement.RequestTypeAdminRemove
		if admin {
			a = rapid.SampledFrom([]entitlement.Actor{w.Admin, w.AssignmentManager}).Draw(t, "admin")
		}
		cmd := entitlement.CreateAssignmentRequest{RequestType: rt, AssignmentID: x.ID, Justification: "because"}
		update := rt == entitlement.RequestTypeUserUpdate || rt == entitlement.RequestTypeAdminUpdate
		if update && rapid.IntRange(0, 3).Draw(t, "extendSchedule") == 0 {
			cmd.Schedule = entitlement.EntitlementManagementSchedule{Expiration: entitlement.ExpirationPattern{
				Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(rapid.IntRange(1, 60).Draw(t, "extDays"))}}
		}
		return a, cmd, true
	case 8:
		return entitlement.Actor{}, nil, false
	case 9:
		pkg, _ := aim(t, v.livePkgs, w.Packages, "package")
		rs := rapid.SampledFrom(w.Roles).Draw(t, "role")
		var cmd entitlement.Command = entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: rs[0], ScopeID: rs[1]}
		if rapid.Bool().Draw(t, "removeRoleScope") {
			id, _ := aim(t, v.pkgScopes[pkg], []string{rs[0] + "_" + rs[1]}, "roleScope")
			cmd = entitlement.RemoveResourceRoleScope{AccessPackageID: pkg, ResourceRoleScopeID: id}
		}
		return w.Admin, cmd, true
	case 10:
		r, ok := pick(t, v.requests, "request")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		switch rapid.IntRange(0, 2).Draw(t, "maintenance") {
		case 0:
			r, _ = aim(t, v.failed, v.requests, "failedRequest")
			return w.AssignmentManager, entitlement.ReprocessAssignmentRequest{RequestID: r.ID}, true
		case 1:
			r, _ = aim(t, v.deletable, v.requests, "deletableRequest")
			return w.Admin, entitlement.DeleteAssignmentRequest{RequestID: r.ID}, true
		}
		if x, ok := pick(t, v.assignments, "assignment"); ok {
			return w.AssignmentManager, entitlement.ReprocessAssignment{AssignmentID: x.ID}, true
		}
		return entitlement.Actor{}, nil, false
	case 11:
		if rapid.IntRange(0, 3).Draw(t, "incompatibility") == 0 {
			a := rapid.SampledFrom(w.Packages).Draw(t, "package")
			b := rapid.SampledFrom(w.Packages).Draw(t, "other")
			return w.Admin, entitlement.AddIncompatibleAccessPackage{AccessPackageID: a, IncompatibleAccessPackageID: b}, true
		}
		g := w.Groups[rapid.IntRange(0, 2).Draw(t, "group")]
		u := rapid.SampledFrom(w.Users).Draw(t, "member")
		if rapid.Bool().Draw(t, "leave") {
			return entitlement.SystemActor(), entitlement.RemoveGroupMember{GroupID: g, MemberID: u}, true
		}
		return entitlement.SystemActor(), entitlement.AddGroupMember{GroupID: g, MemberID: u}, true
	case 13:
		return w.Admin, w.drawAdministration(t, v), true
	case 14:
		// Someone outside the organization asks, by email.
		email := rapid.SampledFrom([]string{"kim@partner.example", "lee@partner.example", "max@other.example"}).Draw(t, "email")
		pp, ok := pick(t, v.policies, "policy")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		return entitlement.ExternalActor(email, ""), entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: pp[0], AssignmentPolicyID: pp[1]}, true
	case 15:
		// The directory changes what rules and workflows read, or the
		// external user lifecycle settings change.
		u := rapid.SampledFrom(w.Users).Draw(t, "user")
		switch rapid.IntRange(0, 2).Draw(t, "hr") {
		case 0:
			return entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: u, Name: "department",
				Value: rapid.SampledFrom([]string{"Sales", "Legal", ""}).Draw(t, "department")}, true
		case 1:
			return entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: u, Name: "employeeHireDate",
				Value: w.Clock.Now().Add(time.Duration(rapid.IntRange(-48, 240).Draw(t, "hireHours")) * time.Hour).Format(time.RFC3339)}, true
		}
		action := rapid.SampledFrom([]string{entitlement.ExternalUserLifecycleNone, entitlement.ExternalUserLifecycleBlockSignIn,
			entitlement.ExternalUserLifecycleBlockSignInAndDelete}).Draw(t, "lifecycleAction")
		after := entitlement.DurationDays(rapid.IntRange(0, 5).Draw(t, "deleteAfter"))
		return w.Admin, entitlement.UpdateSettings{ExternalUserLifecycleAction: &action, DurationUntilExternalUserDeletedAfterBlocked: &after}, true
	case 16:
		// A reviewer (or someone else) decides an item of an open review.
		it, ok := pick(t, v.reviewItems, "reviewItem")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		who := rapid.SampledFrom(append(slices.Clone(it.Reviewers), rapid.SampledFrom(w.Users).Draw(t, "anyReviewer"))).Draw(t, "reviewer")
		return entitlement.UserActor(who), entitlement.RecordReviewDecision{AccessReviewID: it.AccessReviewID, AssignmentID: it.AssignmentID,
			Decision: rapid.SampledFrom([]string{entitlement.ReviewDecisionApprove, entitlement.ReviewDecisionDeny, entitlement.ReviewDecisionDontKnow}).Draw(t, "reviewDecision")}, true
	default:
		pp, ok := pick(t, v.policies, "policy")
		if !ok {
			return entitlement.Actor{}, nil, false
		}
		if rapid.Bool().Draw(t, "toggleFailure") {
			g := rapid.SampledFrom(w.Groups[:2]).Draw(t, "failing")
			w.Deliverer.SetFailing(g, rapid.Bool().Draw(t, "fail"))
			return entitlement.Actor{}, nil, false
		}
		return w.Admin, entitlement.ReplaceAssignmentPolicy{PolicyID: pp[1], Policy: w.DrawPolicy(t, "")}, true
	}
}

// drawAdministration draws a change an administrator makes now and then:
// a package renamed or deleted, a policy deleted, a connected
// organization created, renamed or deleted, a sponsor added or removed.
// Deletions of what is in use are refused.
func (w *World) drawAdministration(t *rapid.T, v view) entitlement.Command {
	orgs, _ := w.M.State().ListConnectedOrganizations(w.Admin)
	switch rapid.IntRange(0, 6).Draw(t, "administration") {
	case 0:
		name := rapid.SampledFrom([]string{"Sales", "Sales tools", "Tools"}).Draw(t, "packageName")
		return entitlement.UpdateAccessPackage{AccessPackageID: rapid.SampledFrom(w.Packages).Draw(t, "package"), DisplayName: &name}
	case 1:
		return entitlement.DeleteAccessPackage{AccessPackageID: rapid.SampledFrom(w.Packages).Draw(t, "package")}
	case 2:
		if pp, ok := pick(t, v.policies, "policy"); ok {
			return entitlement.DeleteAssignmentPolicy{PolicyID: pp[1]}
		}
	case 3:
		if o, ok := pick(t, orgs, "org"); ok {
			return entitlement.DeleteConnectedOrganization{ConnectedOrganizationID: o.ID}
		}
	case 4, 5:
		if o, ok := pick(t, orgs, "org"); ok {
			if rapid.Bool().Draw(t, "removeSponsor") {
				return entitlement.RemoveConnectedOrganizationSponsor{ConnectedOrganizationID: o.ID,
					DirectoryObjectID: rapid.SampledFrom(w.Users).Draw(t, "sponsor")}
			}
			return entitlement.AddConnectedOrganizationSponsor{ConnectedOrganizationID: o.ID,
				DirectoryObjectID: rapid.SampledFrom(w.Users).Draw(t, "sponsor")}
		}
	}
	n := rapid.IntRange(0, 2).Draw(t, "orgName")
	return entitlement.CreateConnectedOrganization{DisplayName: fmt.Sprintf("Partner %d", n), IdentitySources: []entitlement.IdentitySource{
		{ODataType: entitlement.IdentitySourceAzureAD, TenantID: NameID(fmt.Sprintf("tenant/%d", n)), DisplayName: "Partner"}}}
}

// Step draws and takes one step: a command (first processing what fell
// due, unless the draw leaves due work to be processed late), or time
// passing by up to twelve days, with due work processed at once, later,
// or not yet. It returns what it did and the command's error: refusals
// are part of the game (a refused command appends nothing).
func (w *World) Step(t *rapid.T) (string, error) {
	a, cmd, ok := w.DrawCommand(t)
	if !ok {
		if rapid.IntRange(0, 2).Draw(t, "advance") == 0 {
			return "Nothing", nil
		}
		w.Clock.Advance(time.Duration(rapid.IntRange(1, 24*12).Draw(t, "hours")) * time.Hour)
		switch rapid.IntRange(0, 3).Draw(t, "processDue") {
		case 0, 1:
			return "Advance", nil // due work is processed late, by a later step
		case 2:
			// Due work processed up to an instant before now: ProcessDue
			// stamps it then.
			w.processDue(t, w.Due.Add(time.Duration(rapid.Int64Range(0, int64(w.Clock.Now().Sub(w.Due))).Draw(t, "until"))))
			return "ProcessDue", nil
		}
		w.processDue(t, w.Clock.Now())
		return "ProcessDue", nil
	}
	w.Clock.Advance(time.Minute)
	if rapid.Bool().Draw(t, "onTime") {
		w.processDue(t, w.Clock.Now())
	}
	_, err := w.M.Execute(w.Ctx, a, cmd)
	return entitlement.CommandName(cmd), err
}

// processDue processes the work due until an instant no earlier than the
// last one processed.
func (w *World) processDue(t *rapid.T, until time.Time) {
	if until.Before(w.Due) {
		until = w.Due
	}
	if _, err := w.M.ProcessDue(w.Ctx, until); err != nil {
		t.Fatalf("ProcessDue: %v", err)
	}
	w.Due = until
}
