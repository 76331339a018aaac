package entitlement

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// accessProp is the world of the access property test: a directory of
// members with managers, groups, a catalog with two group resources,
// packages with random role scopes and random request policies.
type accessProp struct {
	ctx     context.Context
	store   *memstore.Store
	m       *Manager
	other   *Manager // a second writer on the same log and Deliverer
	clock   *testClock
	fd      *fakeDeliverer
	admin   Actor
	amgr    Actor // access package assignment manager of the catalog
	users   []string
	groups  []string // resources G0, G1 and a plain group G2
	catalog string
	pkgs    []string
	roles   [][2]string // role, scope candidates for role scopes
}

func (w *accessProp) exec(t *rapid.T, a Actor, cmd Command) string {
	r, err := w.m.Execute(w.ctx, a, cmd)
	require.NoError(t, err, "%s", CommandName(cmd))
	return r.ID
}

// drawPolicy draws a request policy for pkg.
func (w *accessProp) drawPolicy(t *rapid.T, pkg string) AssignmentPolicy {
	p := requestPolicy(pkg, "random")
	switch rapid.IntRange(0, 2).Draw(t, "scope") {
	case 1:
		p.AllowedTargetScope = ScopeAllDirectoryUsers
	case 2:
		p.AllowedTargetScope = ScopeSpecificDirectoryUsers
		p.SpecificAllowedTargets = []SubjectSet{{Kind: GroupMembers, GroupID: w.groups[2]}}
	}
	rs := &p.RequestorSettings
	rs.EnableTargetsToSelfUpdateAccess = rapid.Bool().Draw(t, "selfUpdate")
	rs.EnableTargetsToSelfRemoveAccess = rapid.Bool().Draw(t, "selfRemove")
	rs.AllowCustomAssignmentSchedule = rapid.Bool().Draw(t, "custom")
	switch rapid.IntRange(0, 2).Draw(t, "expiration") {
	case 1:
		p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(rapid.IntRange(1, 40).Draw(t, "days"))}
	case 2:
		p.Expiration = ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: w.clock.t.Add(time.Duration(rapid.IntRange(2, 60).Draw(t, "endDays")) * 24 * time.Hour)}
	}
	as := &p.RequestApprovalSettings
	as.IsRequestorJustificationRequired = rapid.Bool().Draw(t, "justify")
	for i := range rapid.IntRange(0, 2).Draw(t, "stages") {
		st := ApprovalStage{
			DurationBeforeAutomaticDenial:   DurationDays(rapid.IntRange(4, 14).Draw(t, "timeout")),
			IsApproverJustificationRequired: rapid.Bool().Draw(t, "approverJustify"),
			FallbackPrimaryApprovers:        []SubjectSet{{Kind: SingleUser, UserID: rapid.SampledFrom(w.users).Draw(t, "fallback")}},
		}
		switch rapid.IntRange(0, 2).Draw(t, "primary") {
		case 0:
			st.PrimaryApprovers = []SubjectSet{{Kind: RequestorManager, ManagerLevel: rapid.IntRange(1, 2).Draw(t, "level")}}
		case 1:
			st.PrimaryApprovers = []SubjectSet{{Kind: SingleUser, UserID: rapid.SampledFrom(w.users).Draw(t, "approver")}}
		default:
			st.PrimaryApprovers = []SubjectSet{{Kind: GroupMembers, GroupID: w.groups[2]}}
		}
		if rapid.Bool().Draw(t, "escalate") {
			st.IsEscalationEnabled = true
			st.DurationBeforeEscalation = DurationDays(rapid.IntRange(1, 3).Draw(t, "escDays"))
			st.EscalationApprovers = []SubjectSet{{Kind: TargetManager, ManagerLevel: 2}}
			st.FallbackEscalationApprovers = []SubjectSet{{Kind: SingleUser, UserID: rapid.SampledFrom(w.users).Draw(t, "escFallback")}}
		}
		_ = i
		as.Stages = append(as.Stages, st)
	}
	if len(as.Stages) > 0 {
		as.IsApprovalRequiredForAdd = rapid.IntRange(0, 3).Draw(t, "approveAdd") > 0
		as.IsApprovalRequiredForUpdate = rapid.Bool().Draw(t, "approveUpdate")
		if !as.IsApprovalRequiredForAdd && !as.IsApprovalRequiredForUpdate {
			as.Stages = nil // nothing would ask them: refused
		}
	}
	return p
}

func newAccessProp(t *rapid.T) *accessProp {
	ctx := context.Background()
	st := memstore.New(memstore.Options{Now: func() time.Time { return t0 }})
	clock := &testClock{t: t0}
	fd := newFakeDeliverer()
	m, err := NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(rapid.Uint64().Draw(t, "seed")), Deliverer: fd})
	require.NoError(t, err)
	w := &accessProp{ctx: ctx, store: st, m: m, clock: clock, fd: fd}
	admin := nameID("ap/admin")
	w.exec(t, SystemActor(), PutUser{User: User{ID: admin, DisplayName: "admin", AccountEnabled: true}})
	w.admin = UserActor(admin, GlobalAdministrator)
	for i := range rapid.IntRange(3, 6).Draw(t, "users") {
		id := nameID(fmt.Sprintf("ap/user/%d", i))
		u := User{ID: id, DisplayName: fmt.Sprintf("u%d", i), AccountEnabled: true, UserType: UserTypeMember}
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "hasManager") > 0 {
			u.ManagerID = w.users[rapid.IntRange(0, i-1).Draw(t, "manager")]
		}
		if rapid.IntRange(0, 5).Draw(t, "guest") == 0 {
			u.UserType = UserTypeGuest
		}
		w.exec(t, SystemActor(), PutUser{User: u})
		w.users = append(w.users, id)
	}
	for i := range 3 {
		id := nameID(fmt.Sprintf("ap/group/%d", i))
		w.exec(t, SystemActor(), PutGroup{Group: Group{ID: id, DisplayName: fmt.Sprintf("g%d", i), SecurityEnabled: true}})
		for _, u := range w.users {
			if rapid.IntRange(0, 2).Draw(t, "member") == 0 {
				w.exec(t, SystemActor(), AddGroupMember{GroupID: id, MemberID: u})
			}
		}
		w.groups = append(w.groups, id)
	}
	w.catalog = w.exec(t, w.admin, CreateCatalog{DisplayName: "C"})
	amgr := nameID("ap/amgr")
	w.exec(t, SystemActor(), PutUser{User: User{ID: amgr, DisplayName: "amgr", AccountEnabled: true}})
	w.amgr = UserActor(amgr)
	w.exec(t, w.admin, CreateRoleAssignment{PrincipalID: amgr, RoleDefinitionID: RoleAccessPackageAssignmentManager, AppScopeID: CatalogScope(w.catalog)})
	for _, g := range w.groups[:2] {
		w.exec(t, w.admin, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.catalog,
			Resource: ResourceSpec{OriginID: g, OriginSystem: OriginSystemAadGroup}})
	}
	w.m.Read(func(s *State) {
		for _, rid := range s.resourcesOfCatalog(w.catalog) {
			r := at(&s.resources, rid)
			for _, role := range r.Roles {
				w.roles = append(w.roles, [2]string{role.ID, r.Scopes[0].ID})
			}
		}
	})
	for i := range rapid.IntRange(2, 3).Draw(t, "packages") {
		pkg := w.exec(t, w.admin, CreateAccessPackage{CatalogID: w.catalog, DisplayName: fmt.Sprintf("P%d", i)})
		w.pkgs = append(w.pkgs, pkg)
		for _, rs := range w.roles {
			if rapid.IntRange(0, 2).Draw(t, "roleScope") == 0 {
				w.exec(t, w.admin, AddResourceRoleScope{AccessPackageID: pkg, RoleID: rs[0], ScopeID: rs[1]})
			}
		}
		for range rapid.IntRange(1, 2).Draw(t, "policies") {
			w.exec(t, w.admin, CreateAssignmentPolicy{Policy: w.drawPolicy(t, pkg)})
		}
	}
	if rapid.Bool().Draw(t, "incompatible") {
		w.exec(t, w.admin, AddIncompatibleAccessPackage{AccessPackageID: w.pkgs[0], IncompatibleAccessPackageID: w.pkgs[1]})
	}
	w.other, err = NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(11), Deliverer: fd})
	require.NoError(t, err)
	return w
}

// accessView lists what the steps pick from.
type accessView struct {
	policies    [][2]string // package, policy
	requests    []string
	pending     []PendingApproval
	assignments []string
	// What the steps aim at most of the time, so that commands are mostly
	// accepted and reach deep states: the users a policy admits, open,
	// failed and deletable requests, non-ended assignments and their
	// packages, the role scopes of each package.
	inScope   map[string][]string // policy -> users in its scope
	open      []string
	failed    []string
	deletable []string
	live      []string
	livePkgs  []string
	pkgScopes map[string][]string // package -> its role scope ids
}

func (w *accessProp) view() accessView {
	var v accessView
	w.m.Read(func(s *State) {
		for _, pkg := range w.pkgs {
			for _, pol := range s.policiesOfPackage(pkg) {
				v.policies = append(v.policies, [2]string{pkg, pol})
			}
		}
		v.requests = slices.Collect(s.requests.Keys())
		v.assignments = slices.Collect(s.assignments.Keys())
		for _, id := range v.requests {
			if st := at(&s.requests, id).currentStage(); st != nil {
				v.pending = append(v.pending, PendingApproval{Request: cloneRequest(*at(&s.requests, id)), Stage: cloneStage(*st)})
			}
		}
		v.inScope, v.pkgScopes = map[string][]string{}, map[string][]string{}
		for _, pp := range v.policies {
			pol := &at(&s.policies, pp[1]).Policy
			for _, u := range w.users {
				if s.targetInScope(pol, u) {
					v.inScope[pp[1]] = append(v.inScope[pp[1]], u)
				}
			}
		}
		for _, id := range v.requests {
			r := at(&s.requests, id)
			switch {
			case r.isOpen():
				v.open = append(v.open, id)
			case r.State == RequestStateDeliveryFailed || r.State == RequestStatePartiallyDelivered:
				v.failed = append(v.failed, id)
			}
			if r.IsTerminal() && r.AssignmentID == "" {
				v.deletable = append(v.deletable, id) // invariant 45
			}
		}
		for _, id := range v.assignments {
			if a := at(&s.assignments, id); !a.IsEnded() {
				v.live = append(v.live, id)
				if !slices.Contains(v.livePkgs, a.AccessPackageID) {
					v.livePkgs = append(v.livePkgs, a.AccessPackageID)
				}
			}
		}
		for _, pkg := range w.pkgs {
			for _, rs := range at(&s.accessPackages, pkg).ResourceRoleScopes {
				v.pkgScopes[pkg] = append(v.pkgScopes[pkg], rs.ID)
			}
		}
	})
	return v
}

// aim draws from good most of the time (when it is not empty), else from
// all: the refusals stay reachable, the acceptances are the rule.
func aim[T any](t *rapid.T, good, all []T, label string) (T, bool) {
	if len(good) > 0 && rapid.IntRange(0, 3).Draw(t, label+"Aimed") > 0 {
		return rapid.SampledFrom(good).Draw(t, label), true
	}
	return pickPair(t, all, label)
}

func (w *accessProp) drawStep(t *rapid.T) (Actor, Command, bool) {
	v := w.view()
	user := func(label string) Actor { return UserActor(rapid.SampledFrom(w.users).Draw(t, label)) }
	kind := rapid.IntRange(0, 13*16-1).Draw(t, "step") % 13
	switch kind {
	case 0, 1, 2:
		pp, ok := pickPair(t, v.policies, "policy")
		if !ok {
			return Actor{}, nil, false
		}
		who, _ := aim(t, v.inScope[pp[1]], w.users, "requestor")
		a := UserActor(who)
		cmd := CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pp[0], AssignmentPolicyID: pp[1]}
		if kind == 2 {
			a = rapid.SampledFrom([]Actor{w.admin, w.amgr, w.admin, w.amgr, user("notAdmin")}).Draw(t, "admin")
			cmd.RequestType = RequestTypeAdminAdd
			cmd.TargetID, _ = aim(t, v.inScope[pp[1]], w.users, "target")
		}
		if rapid.IntRange(0, 3).Draw(t, "justification") > 0 {
			cmd.Justification = "because"
		}
		if rapid.IntRange(0, 3).Draw(t, "withSchedule") == 0 {
			cmd.Schedule = EntitlementManagementSchedule{StartDateTime: w.clock.t.Add(time.Duration(rapid.IntRange(0, 72).Draw(t, "startHours")) * time.Hour),
				Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(rapid.IntRange(1, 50).Draw(t, "reqDays"))}}
		}
		return a, cmd, true
	case 3, 4:
		// Escalated and later stages are few and soon time out: they go
		// first.
		var escalated []PendingApproval
		for _, pa := range v.pending {
			if pa.Stage.Escalated || pa.Stage.Stage > 1 {
				escalated = append(escalated, pa)
			}
		}
		pa, ok := aim(t, escalated, v.pending, "pending")
		if !ok {
			return Actor{}, nil, false
		}
		cands := append(append(slices.Clone(pa.Stage.Approvers), pa.Stage.EscalationApprovers...), pa.Request.RequestorID,
			rapid.SampledFrom(w.users).Draw(t, "anyone"))
		var deciders []string
		for _, x := range cands {
			if x != pa.Request.RequestorID && x != pa.Request.TargetID && pa.Stage.mayDecide(x) {
				deciders = append(deciders, x)
			}
		}
		if pa.Stage.Escalated && rapid.Bool().Draw(t, "byEscalationApprover") {
			// Once escalated, the escalation approvers decide too (22, 25).
			deciders = slices.DeleteFunc(deciders, func(x string) bool { return !slices.Contains(pa.Stage.EscalationApprovers, x) })
		}
		who, _ := aim(t, deciders, cands, "approver")
		a := UserActor(who)
		res := DecisionApprove
		if rapid.IntRange(0, 3).Draw(t, "deny") == 0 {
			res = DecisionDeny
		}
		j := ""
		if rapid.IntRange(0, 4).Draw(t, "approverJustification") > 0 {
			j = "fine"
		}
		return a, UpdateApprovalStage{ApprovalID: pa.Request.ID, StageID: pa.Stage.ID, ReviewResult: res, Justification: j}, true
	case 5:
		if len(v.requests) == 0 {
			return Actor{}, nil, false
		}
		id, _ := aim(t, v.open, v.requests, "request")
		var a Actor
		w.m.Read(func(s *State) { a = UserActor(at(&s.requests, id).RequestorID) })
		if rapid.Bool().Draw(t, "byManager") {
			a = w.amgr
		}
		return a, CancelAssignmentRequest{RequestID: id}, true
	case 6, 7:
		if len(v.assignments) == 0 {
			return Actor{}, nil, false
		}
		id, _ := aim(t, v.live, v.assignments, "assignment")
		var target string
		w.m.Read(func(s *State) { target = at(&s.assignments, id).TargetID })
		types := []string{RequestTypeUserUpdate, RequestTypeUserRemove, RequestTypeAdminUpdate, RequestTypeAdminRemove}
		rt := rapid.SampledFrom(types).Draw(t, "type")
		a := UserActor(target)
		if rt == RequestTypeAdminUpdate || rt == RequestTypeAdminRemove {
			a = rapid.SampledFrom([]Actor{w.admin, w.amgr}).Draw(t, "admin")
		}
		cmd := CreateAssignmentRequest{RequestType: rt, AssignmentID: id, Justification: "because"}
		if rapid.IntRange(0, 3).Draw(t, "extendSchedule") == 0 && (rt == RequestTypeUserUpdate || rt == RequestTypeAdminUpdate) {
			cmd.Schedule = EntitlementManagementSchedule{Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(rapid.IntRange(1, 60).Draw(t, "extDays"))}}
		}
		return a, cmd, true
	case 8:
		return Actor{}, nil, false // clock advance, handled by the caller
	case 9:
		pkg, _ := aim(t, v.livePkgs, w.pkgs, "package")
		rs := rapid.SampledFrom(w.roles).Draw(t, "role")
		var cmd Command = AddResourceRoleScope{AccessPackageID: pkg, RoleID: rs[0], ScopeID: rs[1]}
		if rapid.Bool().Draw(t, "removeRoleScope") {
			id, _ := aim(t, v.pkgScopes[pkg], []string{rs[0] + "_" + rs[1]}, "roleScope")
			cmd = RemoveResourceRoleScope{AccessPackageID: pkg, ResourceRoleScopeID: id}
		}
		return w.admin, cmd, true
	case 10:
		if len(v.requests) == 0 {
			return Actor{}, nil, false
		}
		switch rapid.IntRange(0, 2).Draw(t, "maintenance") {
		case 0:
			id, _ := aim(t, v.failed, v.requests, "request")
			return w.amgr, ReprocessAssignmentRequest{RequestID: id}, true
		case 1:
			id, _ := aim(t, v.deletable, v.requests, "request")
			return w.admin, DeleteAssignmentRequest{RequestID: id}, true
		}
		if len(v.assignments) > 0 {
			return w.amgr, ReprocessAssignment{AssignmentID: rapid.SampledFrom(v.assignments).Draw(t, "assignment")}, true
		}
		return Actor{}, nil, false
	case 11:
		if rapid.IntRange(0, 5).Draw(t, "catalogChange") == 0 {
			// Unpublished or hidden from outsiders now and then, and back
			// (invariant 44).
			var cat Catalog
			w.m.Read(func(s *State) { cat = *at(&s.catalogs, w.catalog) })
			cmd := UpdateCatalog{CatalogID: w.catalog}
			if rapid.Bool().Draw(t, "publication") {
				state := CatalogStateUnpublished
				if cat.State == CatalogStateUnpublished {
					state = CatalogStatePublished
				}
				cmd.State = &state
			} else {
				visible := !cat.IsExternallyVisible
				cmd.IsExternallyVisible = &visible
			}
			return w.admin, cmd, true
		}
		if rapid.IntRange(0, 3).Draw(t, "incompatibility") == 0 {
			a := rapid.SampledFrom(w.pkgs).Draw(t, "package")
			b := rapid.SampledFrom(w.pkgs).Draw(t, "other")
			return w.admin, AddIncompatibleAccessPackage{AccessPackageID: a, IncompatibleAccessPackageID: b}, true
		}
		g := w.groups[rapid.IntRange(0, 2).Draw(t, "group")]
		u := rapid.SampledFrom(w.users).Draw(t, "member")
		if rapid.Bool().Draw(t, "leave") {
			return SystemActor(), RemoveGroupMember{GroupID: g, MemberID: u}, true
		}
		return SystemActor(), AddGroupMember{GroupID: g, MemberID: u}, true
	default:
		pp, ok := pickPair(t, v.policies, "policy")
		if !ok {
			return Actor{}, nil, false
		}
		if rapid.Bool().Draw(t, "toggleFailure") {
			g := rapid.SampledFrom(w.groups[:2]).Draw(t, "failing")
			w.fd.mu.Lock()
			w.fd.failOn[g] = !w.fd.failOn[g]
			w.fd.mu.Unlock()
			return Actor{}, nil, false
		}
		return w.admin, ReplaceAssignmentPolicy{PolicyID: pp[1], Policy: w.drawPolicy(t, "")}, true
	}
}

// TestPropertyAccess runs random interleavings of requests, approvals,
// denials, cancels, extensions, removals, clock advances, role-scope,
// policy and catalog changes with a Deliverer that fails for chosen
// resources. After every step invariants 9–37 hold (44 for each accepted
// request), refused commands appended nothing, the
// resources the Deliverer holds are the union of the delivered roles of
// non-ended assignments, and replaying the log gives an equal State.
func TestPropertyAccess(t *testing.T) {
	accepted, refused := map[string]int{}, map[string]int{}
	recordedDue := 0 // accepted commands that recorded due work first
	defer func() { t.Logf("accepted %v; refused %v; %d recorded due work first", accepted, refused, recordedDue) }()
	dir := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		w := newAccessProp(rt)
		processed := w.clock.t
		snapPath := filepath.Join(dir, "prop.snapshot")
		os.Remove(snapPath)
		var snap SnapshotInfo
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			var pre *State
			var from *State // what the step's transitions are checked from, if not pre
			w.m.Read(func(s *State) { pre = s.Clone() })
			start, err := w.store.Head(w.ctx)
			require.NoError(rt, err)
			a, cmd, ok := w.drawStep(rt)
			name := "ProcessDue"
			if !ok {
				// Time passes at most draws that are no command: escalations,
				// time-outs and expiries fall due within a run.
				if rapid.IntRange(0, 2).Draw(rt, "advance") == 0 {
					continue
				}
				w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(1, 24*12).Draw(rt, "hours")) * time.Hour)
				if rapid.Bool().Draw(rt, "processLate") {
					continue // the next command records what fell due
				}
				_, err := w.m.ProcessDue(w.ctx, w.clock.t)
				require.NoError(rt, err)
				processed = w.clock.t
				accepted[name]++
			} else {
				name = CommandName(cmd)
				w.clock.t = w.clock.t.Add(time.Minute)
				// Commands move the clock by a minute. Mostly what fell due
				// is processed first, so that "now" below is exact; else the
				// command records it first, and pre for its preconditions
				// is the state after that work.
				late := rapid.Bool().Draw(rt, "late")
				if !late {
					_, err := w.m.ProcessDue(w.ctx, w.clock.t)
					require.NoError(rt, err)
					processed = w.clock.t
				}
				w.m.Read(func(s *State) { pre = s.Clone() })
				before, err := w.store.Head(w.ctx)
				require.NoError(rt, err)
				start = before // the events after pre, which ProcessDue may have moved
				// Now and then a second, lagging writer executes: it catches
				// up, decides, and delivers through the same Deliverer.
				exec := w.m
				if rapid.IntRange(0, 3).Draw(rt, "otherWriter") == 0 {
					exec = w.other
				}
				var res Result
				res, err = exec.Execute(w.ctx, a, cmd)
				require.NoError(rt, w.m.CatchUp(w.ctx))
				if err != nil {
					refused[name]++
					after, herr := w.store.Head(w.ctx)
					require.NoError(rt, herr)
					require.Equal(rt, before, after, "refused %s appended events: %v", name, err)
					var e *Error
					require.True(rt, errors.As(err, &e), "%s: untyped error %v", name, err)
				} else {
					accepted[name]++
					// What the command was decided on: pre, with the due work
					// it recorded first when ProcessDue ran late.
					base := pre
					if late {
						if a.Kind != ActorSystem && res.Events[0].Metadata.ActorKind == string(ActorSystem) {
							recordedDue++
						}
						base = afterDue(rt, pre, w.clock.t)
						from = base
					}
					w.checkTransition(rt, base, a, cmd)
					// Invariant 48: one audited event for the command, plus
					// audited sub-events and delivery records.
					require.NotEmpty(rt, res.Events, "%s appended nothing", name)
					for _, e := range append(slices.Clone(res.Events), res.Delivery...) {
						require.NotEmpty(rt, ActivityName(e.Type), "%s has no activity name", e.Type)
					}
					if _, ok := cmd.(AddIncompatibleAccessPackage); ok {
						w.m.Read(func(s *State) {
							for id, x := range base.assignments.All() {
								if y, ok := s.assignments.Get(id); ok { // due work's own are under other ids in base
									require.Equal(rt, x.IsEnded(), y.IsEnded(), "invariant 15: an incompatibility ended an assignment")
								}
							}
						})
					}
					if late {
						// What one round leaves due (an assignment delivered
						// after its end) is ProcessDue's.
						_, err := w.m.ProcessDue(w.ctx, w.clock.t)
						require.NoError(rt, err)
						processed = w.clock.t
					}
				}
			}
			var live *State
			w.m.Read(func(s *State) {
				require.NoError(rt, checkInvariants(s), "after %s", name)
				require.NoError(rt, checkAccessInvariants(s, processed), "after %s", name)
				if from == nil {
					from = pre
				}
				checkTransitions(rt, from, s, pre)
				checkTerminalEventByEvent(rt, w.ctx, w.store, pre, start.Position)
				w.checkConvergence(rt, s)
				live = s.Clone()
			})
			fresh, err := NewManager(w.ctx, w.store, Options{Clock: w.clock})
			require.NoError(rt, err)
			requireSameState(rt, live, fresh.State(), "replay differs after %s", name)
			requireConsistentIndexes(rt, live, "after %s", name)
			// Live = replayed = snapshot plus tail.
			if rapid.IntRange(0, 3).Draw(rt, "snapshot") == 0 {
				snap, err = w.m.WriteSnapshot(w.ctx, snapPath)
				require.NoError(rt, err)
			}
			if snap.Path != "" {
				fromSnap, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, SnapshotPath: snapPath})
				require.NoError(rt, err)
				require.Equal(rt, snap.Position, fromSnap.Started().Snapshot.Position)
				requireSameState(rt, live, fromSnap.State(), "snapshot plus tail differs after %s", name)
			}
		}
	})
}

// afterDue returns s with the work that fell due by now decided on it, as
// a command decides it first (new objects get ids of their own).
func afterDue(t *rapid.T, s *State, now time.Time) *State {
	evs, err := Decide(s, SystemActor(), now, SeededIDs(1), AdvanceTime{})
	require.NoError(t, err)
	next := s.Clone()
	for _, e := range evs {
		require.NoError(t, next.Apply(e))
	}
	return next
}

// checkTransition checks the invariants about what an accepted command
// required of the state before it (12, 13, 14, 28, 29, 44).
func (w *accessProp) checkTransition(t *rapid.T, pre *State, a Actor, cmd Command) {
	switch c := cmd.(type) {
	case CreateAssignmentRequest:
		if requestTypeKind(c.RequestType) == kindRemove {
			return
		}
		var pol *AssignmentPolicy
		target := c.TargetID
		if c.AssignmentID != "" {
			x := at(&pre.assignments, c.AssignmentID)
			pol, target = &at(&pre.policies, x.AssignmentPolicyID).Policy, x.TargetID
			if c.RequestType != RequestTypeAdminUpdate || !shortens(x, c.Schedule) {
				require.Equal(t, AssignmentStateDelivered, x.State, "§2.2: only a delivered assignment is extended")
			}
		} else {
			pol = &at(&pre.policies, c.AssignmentPolicyID).Policy
			if target == "" {
				target = a.ID
			}
		}
		require.True(t, pre.targetInScope(pol, target), "invariant 12: target out of scope")
		cat := at(&pre.catalogs, at(&pre.accessPackages, pol.AccessPackageID).CatalogID)
		require.Equal(t, CatalogStatePublished, cat.State, "invariant 44: a request in an unpublished catalog")
		if u, ok := pre.users.Get(target); ok && u.IsGuest() &&
			(c.RequestType == RequestTypeUserAdd || c.RequestType == RequestTypeUserUpdate) {
			require.True(t, cat.IsExternallyVisible, "invariant 44: an outsider's request in a catalog not visible to them")
		}
		if c.RequestType == RequestTypeUserAdd {
			require.True(t, a.ID == target && pol.RequestorSettings.EnableTargetsToSelfAddAccess, "invariant 13")
		}
		if c.RequestType == RequestTypeAdminAdd {
			require.True(t, canAssign(pre, a, at(&pre.accessPackages, c.AccessPackageID).CatalogID), "invariant 13")
		}
		if requestTypeKind(c.RequestType) == kindAdd {
			pkg := at(&pre.accessPackages, c.AccessPackageID)
			for _, x := range pre.assignments.All() {
				require.False(t, x.TargetID == target && !x.IsEnded() && slices.Contains(pkg.IncompatibleAccessPackages, x.AccessPackageID), "invariant 14")
			}
			for _, g := range pkg.IncompatibleGroups {
				require.False(t, pre.isMemberOf(target, g), "invariant 14")
			}
		}
	case CancelAssignmentRequest:
		st := at(&pre.requests, c.RequestID).State
		require.Contains(t, []string{RequestStateSubmitted, RequestStatePendingApproval, RequestStateScheduled}, st, "invariant 28")
	case ReprocessAssignmentRequest:
		r := at(&pre.requests, c.RequestID)
		require.Contains(t, []string{RequestStateDeliveryFailed, RequestStatePartiallyDelivered}, r.State, "invariant 29")
		require.LessOrEqual(t, w.clock.t.Sub(*r.CompletedDateTime), ReprocessWindow, "invariant 29")
	case ReprocessAssignment:
		// Invariant 29, and a grant that failed after the request was
		// delivered, which only the assignment's reprocess can retry.
		x := at(&pre.assignments, c.AssignmentID)
		if x.State != AssignmentStateDelivered {
			require.Contains(t, []string{AssignmentStateDeliveryFailed, AssignmentStatePartiallyDelivered}, x.State, "invariant 29")
			require.Equal(t, RequestStateDelivered, at(&pre.requests, x.RequestID).State, "invariant 29")
		}
	}
}

// checkTerminalEventByEvent applies the events a step appended after
// position after, one by one, to the state before the step: no event but
// its deletion is recorded for a request that was terminal before it
// (invariant 27), even one that became terminal within the step.
func checkTerminalEventByEvent(t require.TestingT, ctx context.Context, log eventstore.Reader, pre *State, after eventstore.Position) {
	s := pre.Clone()
	for e, err := range log.ReadAll(ctx, after) {
		require.NoError(t, err)
		if id, ok := strings.CutPrefix(string(e.Stream), string(requestStream(""))); ok && e.Type != EventAssignmentRequestDeleted {
			if r, ok := s.requests.Get(id); ok && r.IsTerminal() {
				require.Fail(t, "invariant 27", "%s recorded for request %s, %s already", e.Type, id, r.State)
			}
		}
		de, err := DecodeEvent(e)
		require.NoError(t, err)
		require.NoError(t, s.Apply(de))
	}
}

// checkTransitions checks what no step may change: terminal requests stay
// as they are (27), type and schedule of a request never change (31), only
// terminal requests are deleted (45), and an ended assignment never
// reactivates (37). Only the objects known holds are checked.
func checkTransitions(t *rapid.T, pre, post, known *State) {
	for id, r := range pre.requests.All() {
		if !known.requests.Has(id) {
			continue // made by due work decided apart (afterDue), under an id of its own
		}
		q, ok := post.requests.Get(id)
		if !ok {
			require.True(t, r.IsTerminal(), "invariant 45: request %s in state %s deleted", id, r.State)
			require.False(t, r.State == RequestStateDelivered && r.AssignmentID != "" && pre.assignments.Has(r.AssignmentID),
				"invariant 45: request %s deleted while linked to assignment %s", id, r.AssignmentID)
			continue
		}
		require.Equal(t, r.RequestType, q.RequestType, "invariant 31")
		require.Equal(t, r.Schedule, q.Schedule, "invariant 31")
		require.Equal(t, r.Policy, q.Policy, "a request keeps its policy copy")
		if r.IsTerminal() {
			require.Equal(t, r, q, "invariant 27: terminal request %s changed", id)
		}
	}
	for id, a := range pre.assignments.All() {
		if !known.assignments.Has(id) {
			continue
		}
		b := at(&post.assignments, id)
		require.NotNil(t, b, "assignment %s vanished", id)
		if a.IsEnded() {
			require.True(t, b.IsEnded(), "invariant 37: assignment %s reactivated", id)
			require.Equal(t, a.ExpiredDateTime, b.ExpiredDateTime)
		}
	}
}

// checkConvergence checks invariants 35 and 36 against the Deliverer: it
// holds every role some non-ended assignment of the subject delivered, and
// beyond those only roles whose grant failed on a non-ended assignment
// (a failed re-grant leaves the resource as it was: uncertain, reported as
// failed, revoked when the assignment ends).
func (w *accessProp) checkConvergence(t *rapid.T, s *State) {
	want, uncertain := map[[2]string]bool{}, map[[2]string]bool{}
	for _, a := range s.assignments.All() {
		require.False(t, a.hasPending(), "assignment %s has undelivered work after the step", a.ID)
		if a.IsEnded() {
			// A removal that failed may have left the role in place.
			for _, r := range a.Resources {
				if r.Status == DeliveryRemovalFailed {
					uncertain[[2]string{a.TargetID, r.ResourceRoleScopeID}] = true
				}
			}
			continue
		}
		for _, r := range a.Resources {
			k := [2]string{a.TargetID, r.ResourceRoleScopeID}
			switch r.Status {
			case DeliveryFulfilled:
				want[k] = true
			case DeliveryFailed, DeliveryRemovalFailed:
				uncertain[k] = true
			}
		}
	}
	w.fd.mu.Lock()
	defer w.fd.mu.Unlock()
	for k := range want {
		require.True(t, w.fd.held[k], "invariant 35: delivered role %v not held", k)
	}
	for k := range w.fd.held {
		require.True(t, want[k] || uncertain[k], "invariant 36: role %v held without a non-ended assignment granting it", k)
	}
}
