package entitlement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// consequenceTypes are the events a command may bring about besides its
// own: requests entitlement management makes by itself, and their course.
var consequenceTypes = []string{EventSystemAssignmentRequestCreated, EventSystemRemoveRequestCreated,
	EventAssignmentRequestAutoApproved, EventAssignmentDelivering, EventAssignmentExpired, EventAssignmentRequestFulfilled,
	EventAutomaticRemovalScheduled, EventAutomaticRemovalCanceled,
	// Lifecycle workflows' runs and the requests their tasks make.
	EventWorkflowRunScheduled, EventWorkflowRunCanceled, EventWorkflowTaskProcessed, EventWorkflowUserProcessed,
	EventAdminAssignmentRequestCreated, EventAdminRemoveRequestCreated, EventAdminUpdateRequestCreated,
	EventApprovalStageOpened, EventAssignmentRequestCanceled, EventAssignmentExtended, EventAssignmentRequestScheduled}

// propWorld is the world of the property test: a manager, its store and
// the actors drawn for this run.
type propWorld struct {
	ctx   context.Context
	store *memstore.Store
	// liveBefore is how many assignments had not ended before the command.
	liveBefore int
	m          *Manager
	other      *Manager // a second writer on the same log, usually behind
	clock      *testClock
	actors     []Actor
	admin      Actor
	users      []string
	groups     []string
	sps        []string
}

// snapshot lists the ids of the objects commands can refer to.
type snapshot struct {
	catalogs, packages, resources, policies, orgs, roleAssignments []string
	workflows                                                      []string
	roles, scopes                                                  []string
	roleScopes                                                     [][2]string // package, role scope
	incompatible                                                   [][2]string // package, other package
	incompatibleGroups                                             [][2]string
	sponsors                                                       [][3]string // org, object, "ext" or ""
	resourceOrigins                                                [][3]string // catalog, originSystem, originId
	roleScopeCandidates                                            [][3]string // package, role, scope of a resource in its catalog
	policyPackages                                                 [][2]string // policy, its package
}

func (w *propWorld) snapshot() snapshot {
	var sn snapshot
	w.m.Read(func(s *State) {
		sn.catalogs = slices.Collect(s.catalogs.Keys())
		sn.packages = slices.Collect(s.accessPackages.Keys())
		sn.resources = slices.Collect(s.resources.Keys())
		sn.policies = slices.Collect(s.policies.Keys())
		sn.orgs = slices.Collect(s.connectedOrganizations.Keys())
		sn.roleAssignments = slices.Collect(s.roleAssignments.Keys())
		sn.workflows = slices.Collect(s.workflows.Keys())
		for _, id := range sn.policies {
			sn.policyPackages = append(sn.policyPackages, [2]string{id, at(&s.policies, id).Policy.AccessPackageID})
		}
		for _, id := range sn.resources {
			r := at(&s.resources, id)
			for _, x := range r.Roles {
				sn.roles = append(sn.roles, x.ID)
			}
			for _, x := range r.Scopes {
				sn.scopes = append(sn.scopes, x.ID)
			}
			sn.resourceOrigins = append(sn.resourceOrigins, [3]string{r.CatalogID, r.OriginSystem, r.OriginID})
		}
		for _, id := range sn.packages {
			p := at(&s.accessPackages, id)
			for _, rs := range p.ResourceRoleScopes {
				sn.roleScopes = append(sn.roleScopes, [2]string{id, rs.ID})
			}
			for _, o := range p.IncompatibleAccessPackages {
				sn.incompatible = append(sn.incompatible, [2]string{id, o})
			}
			for _, rid := range s.resourcesOfCatalog(p.CatalogID) {
				r := at(&s.resources, rid)
				for _, role := range r.Roles {
					sn.roleScopeCandidates = append(sn.roleScopeCandidates, [3]string{id, role.ID, r.Scopes[0].ID})
				}
			}
			for _, g := range p.IncompatibleGroups {
				sn.incompatibleGroups = append(sn.incompatibleGroups, [2]string{id, g})
			}
		}
		for _, id := range sn.orgs {
			o := at(&s.connectedOrganizations, id)
			for _, x := range o.InternalSponsors {
				sn.sponsors = append(sn.sponsors, [3]string{id, x, ""})
			}
			for _, x := range o.ExternalSponsors {
				sn.sponsors = append(sn.sponsors, [3]string{id, x, "ext"})
			}
		}
	})
	return sn
}

// pick draws one of ids, or now and then an id that does not exist.
func pick(t *rapid.T, ids []string, label string) string {
	if len(ids) == 0 || rapid.IntRange(0, 9).Draw(t, label+"Missing") == 0 {
		return nameID("missing/" + label)
	}
	return rapid.SampledFrom(ids).Draw(t, label)
}

func pickPair[T any](t *rapid.T, xs []T, label string) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	return rapid.SampledFrom(xs).Draw(t, label), true
}

var directoryRolePool = []DirectoryRole{
	GlobalAdministrator, IdentityGovernanceAdministrator, GlobalReader, SecurityReader,
	GroupsAdministrator, ApplicationAdministrator, SharePointAdministrator, LifecycleWorkflowsAdministrator,
}

// newPropWorld draws a small directory: users with random directory
// roles, groups with random owners and members, and applications.
func newPropWorld(t *rapid.T) *propWorld {
	ctx := context.Background()
	st := memstore.New(memstore.Options{Now: func() time.Time { return t0 }})
	clock := &testClock{t: t0}
	m, err := NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(rapid.Uint64().Draw(t, "seed"))})
	require.NoError(t, err)
	w := &propWorld{ctx: ctx, store: st, m: m, clock: clock}
	do := func(cmd Command) {
		_, err := m.Execute(ctx, SystemActor(), cmd)
		require.NoError(t, err)
	}
	nUsers := rapid.IntRange(2, 6).Draw(t, "users")
	for i := range nUsers {
		id := nameID(fmt.Sprintf("prop/user/%d", i))
		typ := UserTypeMember
		if rapid.IntRange(0, 4).Draw(t, "guest") == 0 {
			typ = UserTypeGuest
		}
		do(PutUser{User: User{ID: id, UserType: typ, DisplayName: fmt.Sprintf("user %d", i), AccountEnabled: true,
			Department: rapid.SampledFrom([]string{"Sales", "IT"}).Draw(t, "department")}})
		w.users = append(w.users, id)
		var roles []DirectoryRole
		for _, r := range directoryRolePool {
			if rapid.IntRange(0, 5).Draw(t, "hasRole") == 0 {
				roles = append(roles, r)
			}
		}
		w.actors = append(w.actors, UserActor(id, roles...))
	}
	nGroups := rapid.IntRange(1, 3).Draw(t, "groups")
	for i := range nGroups {
		id := nameID(fmt.Sprintf("prop/group/%d", i))
		var owners []string
		for _, u := range w.users {
			if rapid.Bool().Draw(t, "owns") {
				owners = append(owners, u)
			}
		}
		do(PutGroup{Group: Group{ID: id, DisplayName: fmt.Sprintf("group %d", i), SecurityEnabled: true, Owners: owners,
			OnPremisesSyncEnabled: rapid.IntRange(0, 5).Draw(t, "synced") == 0}})
		for _, u := range w.users {
			if rapid.IntRange(0, 2).Draw(t, "member") == 0 {
				do(AddGroupMember{GroupID: id, MemberID: u})
			}
		}
		w.groups = append(w.groups, id)
	}
	perms := [][]AppPermission{{EntitlementManagementReadAll}, {EntitlementManagementReadWriteAll}, {GroupReadWriteAll}}
	for i, p := range perms {
		id := nameID(fmt.Sprintf("prop/sp/%d", i))
		do(PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: id, DisplayName: fmt.Sprintf("app %d", i),
			Owners: w.users[:1]}})
		w.sps = append(w.sps, id)
		w.actors = append(w.actors, AppActor(id, p...))
	}
	admin := nameID("prop/user/admin")
	do(PutUser{User: User{ID: admin, DisplayName: "admin", AccountEnabled: true}})
	w.admin = UserActor(admin, GlobalAdministrator)
	w.actors = append(w.actors, SystemActor(), w.admin)
	// A catalog with a resource and a package to start from, so that deep
	// commands (role scopes, policies, incompatibilities) are reachable.
	base := nameID("prop/group/base")
	do(PutGroup{Group: Group{ID: base, DisplayName: "base", SecurityEnabled: true}})
	w.groups = append(w.groups, base)
	exec := func(cmd Command) string {
		r, err := m.Execute(ctx, w.admin, cmd)
		require.NoError(t, err)
		return r.ID
	}
	cat := exec(CreateCatalog{DisplayName: "Base"})
	exec(CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: cat, Resource: ResourceSpec{OriginID: base, OriginSystem: OriginSystemAadGroup}})
	p1 := exec(CreateAccessPackage{CatalogID: cat, DisplayName: "Base 1"})
	p2 := exec(CreateAccessPackage{CatalogID: cat, DisplayName: "Base 2"})
	// Assignments, so that deleting a package or policy in use (invariant
	// 6), removing a resource a package uses (4) or declaring an
	// incompatibility (15) meet live assignments: Base 1 grants the base
	// group and some users hold it directly; Base 2 goes to Sales by rule,
	// and department changes and deletions move people in and out.
	var rs [2]string
	m.Read(func(s *State) {
		r := at(&s.resources, s.resourcesOfCatalog(cat)[0])
		rs = [2]string{r.Roles[0].ID, r.Scopes[0].ID}
	})
	exec(AddResourceRoleScope{AccessPackageID: p1, RoleID: rs[0], ScopeID: rs[1]})
	direct := exec(CreateAssignmentPolicy{Policy: directPolicy(p1)})
	for _, u := range w.users {
		if rapid.Bool().Draw(t, "assigned") {
			exec(CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: p1, AssignmentPolicyID: direct, TargetID: u})
		}
	}
	if rapid.Bool().Draw(t, "autoBase") {
		auto := autoPolicy(p2, "auto")
		auto.AutomaticRequestSettings.RemoveAccessWhenTargetLeavesAllowedTargets = true
		exec(CreateAssignmentPolicy{Policy: auto})
	}
	// Now and then Base 2 is at the cap or one policy short (invariant 7).
	if rapid.IntRange(0, 3).Draw(t, "nearCap") == 0 {
		var n int
		m.Read(func(s *State) { n = len(s.policiesOfPackage(p2)) })
		for range MaxPoliciesPerPackage - rapid.IntRange(0, 1).Draw(t, "short") - n {
			exec(CreateAssignmentPolicy{Policy: requestPolicy(p2, "filler")})
		}
	}
	// A connected organization and a workflow to manage.
	exec(CreateConnectedOrganization{DisplayName: "Seed org"})
	exec(CreateWorkflow{Workflow: joinerWorkflow(p1, direct, 0)})
	w.other, err = NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(7)})
	require.NoError(t, err)
	return w
}

// drawCommand draws an administrative command over the current objects.
func (w *propWorld) drawCommand(t *rapid.T) Command {
	sn := w.snapshot()
	principals := append(append(slices.Clone(w.users), w.groups...), w.sps...)
	roles := []string{RoleCatalogCreator, RoleCatalogOwner, RoleCatalogReader, RoleAccessPackageManager, RoleAccessPackageAssignmentManager}
	// The modulo spreads rapid's bias towards small numbers over all kinds.
	kind := rapid.IntRange(0, 34*64-1).Draw(t, "kind") % 34
	switch kind {
	case 0:
		return CreateCatalog{DisplayName: rapid.SampledFrom([]string{"A", "B", ""}).Draw(t, "name")}
	case 1:
		return UpdateCatalog{CatalogID: pick(t, sn.catalogs, "catalog"), Description: ptr("d"),
			State: ptr(rapid.SampledFrom([]string{CatalogStatePublished, CatalogStateUnpublished, "bad"}).Draw(t, "state"))}
	case 2:
		return DeleteCatalog{CatalogID: pick(t, sn.catalogs, "catalog")}
	case 3, 4:
		spec := ResourceSpec{OriginSystem: OriginSystemAadGroup, OriginID: pick(t, w.groups, "group")}
		if rapid.Bool().Draw(t, "app") {
			spec = ResourceSpec{OriginSystem: OriginSystemAadApplication, OriginID: pick(t, w.sps, "sp")}
		}
		return CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: pick(t, sn.catalogs, "catalog"), Resource: spec}
	case 5:
		if o, ok := pickPair(t, sn.resourceOrigins, "origin"); ok {
			typ := rapid.SampledFrom([]string{RequestTypeAdminRemove, RequestTypeAdminUpdate}).Draw(t, "type")
			return CreateResourceRequest{RequestType: typ, CatalogID: o[0], Resource: ResourceSpec{OriginSystem: o[1], OriginID: o[2]}}
		}
		return CreateCatalog{DisplayName: "fallback"}
	case 6, 7:
		return CreateAccessPackage{CatalogID: pick(t, sn.catalogs, "catalog"), DisplayName: "P"}
	case 8:
		return UpdateAccessPackage{AccessPackageID: pick(t, sn.packages, "package"), IsHidden: ptr(rapid.Bool().Draw(t, "hidden"))}
	case 9:
		return DeleteAccessPackage{AccessPackageID: pick(t, sn.packages, "package")}
	case 10, 11:
		if c, ok := pickPair(t, sn.roleScopeCandidates, "candidate"); ok && rapid.IntRange(0, 4).Draw(t, "wild") > 0 {
			return AddResourceRoleScope{AccessPackageID: c[0], RoleID: c[1], ScopeID: c[2]}
		}
		return AddResourceRoleScope{AccessPackageID: pick(t, sn.packages, "package"), RoleID: pick(t, sn.roles, "role"), ScopeID: pick(t, sn.scopes, "scope")}
	case 12:
		if rs, ok := pickPair(t, sn.roleScopes, "roleScope"); ok {
			return RemoveResourceRoleScope{AccessPackageID: rs[0], ResourceRoleScopeID: rs[1]}
		}
		return RemoveResourceRoleScope{AccessPackageID: pick(t, sn.packages, "package"), ResourceRoleScopeID: "x_y"}
	case 13:
		return AddIncompatibleAccessPackage{AccessPackageID: pick(t, sn.packages, "package"), IncompatibleAccessPackageID: pick(t, sn.packages, "other")}
	case 14:
		if x, ok := pickPair(t, sn.incompatible, "incompatible"); ok {
			return RemoveIncompatibleAccessPackage{AccessPackageID: x[0], IncompatibleAccessPackageID: x[1]}
		}
		return AddIncompatibleGroup{AccessPackageID: pick(t, sn.packages, "package"), GroupID: pick(t, w.groups, "group")}
	case 15:
		if x, ok := pickPair(t, sn.incompatibleGroups, "incompatibleGroup"); ok {
			return RemoveIncompatibleGroup{AccessPackageID: x[0], GroupID: x[1]}
		}
		return AddIncompatibleGroup{AccessPackageID: pick(t, sn.packages, "package"), GroupID: pick(t, w.groups, "group")}
	case 16, 17:
		pkg := pick(t, sn.packages, "package")
		if rapid.IntRange(0, 3).Draw(t, "auto") == 0 {
			return CreateAssignmentPolicy{Policy: autoPolicy(pkg, "auto")}
		}
		p := requestPolicy(pkg, "request")
		if rapid.Bool().Draw(t, "specific") {
			p.AllowedTargetScope = ScopeSpecificDirectoryUsers
			p.SpecificAllowedTargets = []SubjectSet{{Kind: GroupMembers, GroupID: pick(t, w.groups, "group")}}
		}
		return CreateAssignmentPolicy{Policy: p}
	case 18:
		body := requestPolicy("", "replaced")
		if rapid.IntRange(0, 3).Draw(t, "auto") == 0 {
			body = autoPolicy("", "auto")
		}
		return ReplaceAssignmentPolicy{PolicyID: pick(t, sn.policies, "policy"), Policy: body}
	case 19:
		return DeleteAssignmentPolicy{PolicyID: pick(t, sn.policies, "policy")}
	case 20:
		return CreateConnectedOrganization{DisplayName: "Org"}
	case 21:
		return UpdateConnectedOrganization{ConnectedOrganizationID: pick(t, sn.orgs, "org"),
			State: ptr(rapid.SampledFrom([]string{ConnectedOrganizationConfigured, ConnectedOrganizationProposed}).Draw(t, "orgState"))}
	case 22:
		if rapid.Bool().Draw(t, "removeSponsor") {
			if x, ok := pickPair(t, sn.sponsors, "sponsor"); ok {
				return RemoveConnectedOrganizationSponsor{ConnectedOrganizationID: x[0], DirectoryObjectID: x[1], External: x[2] == "ext"}
			}
		}
		return AddConnectedOrganizationSponsor{ConnectedOrganizationID: pick(t, sn.orgs, "org"),
			DirectoryObjectID: pick(t, w.users, "user"), External: rapid.Bool().Draw(t, "external")}
	case 23:
		return DeleteConnectedOrganization{ConnectedOrganizationID: pick(t, sn.orgs, "org")}
	case 24:
		return UpdateSettings{ExternalUserLifecycleAction: ptr(rapid.SampledFrom([]string{
			ExternalUserLifecycleNone, ExternalUserLifecycleBlockSignIn, ExternalUserLifecycleBlockSignInAndDelete}).Draw(t, "action"))}
	case 25:
		role := rapid.SampledFrom(roles).Draw(t, "roleDefinition")
		scope := TenantScope
		if role != RoleCatalogCreator {
			scope = CatalogScope(pick(t, sn.catalogs, "catalog"))
		}
		return CreateRoleAssignment{PrincipalID: pick(t, principals, "principal"), RoleDefinitionID: role, AppScopeID: scope}
	case 26:
		return DeleteRoleAssignment{RoleAssignmentID: pick(t, sn.roleAssignments, "roleAssignment")}
	case 27:
		return AddGroupMember{GroupID: pick(t, w.groups, "group"), MemberID: pick(t, principals, "member")}
	case 28:
		return RemoveGroupMember{GroupID: pick(t, w.groups, "group"), MemberID: pick(t, principals, "member")}
	case 29:
		return SetUserAttribute{UserID: pick(t, w.users, "user"), Name: "department",
			Value: rapid.SampledFrom([]string{"Sales", "IT", ""}).Draw(t, "department")}
	case 30:
		return DeleteUser{UserID: pick(t, w.users, "user")}
	case 31:
		// Mostly a policy with its own package; now and then any two.
		pkg, pol := pick(t, sn.packages, "package"), pick(t, sn.policies, "policy")
		if pp, ok := pickPair(t, sn.policyPackages, "policyPackage"); ok && rapid.IntRange(0, 3).Draw(t, "matched") > 0 {
			pkg, pol = pp[1], pp[0]
		}
		wf := joinerWorkflow(pkg, pol, rapid.IntRange(-3, 3).Draw(t, "offset"))
		if rapid.Bool().Draw(t, "leaver") {
			wf = leaverWorkflow(pick(t, sn.packages, "package"))
		}
		if rapid.Bool().Draw(t, "version") {
			return CreateWorkflowVersion{WorkflowID: pick(t, sn.workflows, "workflow"), Workflow: wf}
		}
		return CreateWorkflow{Workflow: wf}
	case 32:
		return ActivateWorkflow{WorkflowID: pick(t, sn.workflows, "workflow"), Subjects: []string{pick(t, w.users, "user")}}
	default:
		if rapid.Bool().Draw(t, "update") {
			return UpdateWorkflow{WorkflowID: pick(t, sn.workflows, "workflow"), DisplayName: "W", IsEnabled: true,
				IsSchedulingEnabled: rapid.Bool().Draw(t, "scheduling")}
		}
		return DeleteWorkflow{WorkflowID: pick(t, sn.workflows, "workflow")}
	}
}

// TestPropertyAdministration runs random administrative command sequences
// by random actors. After every step the invariants hold, a refused command
// appended nothing, an accepted one appended exactly one audited event, and
// replaying the log gives a state equal to the live one.
func TestPropertyAdministration(t *testing.T) {
	accepted := map[string]int{}
	refused := map[string]int{}
	defer func() { t.Logf("accepted %v; refused %v", accepted, refused) }()
	rapid.Check(t, func(rt *rapid.T) {
		w := newPropWorld(rt)
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			actor := w.admin
			if rapid.Bool().Draw(rt, "randomActor") {
				actor = rapid.SampledFrom(w.actors).Draw(rt, "actor")
			}
			require.NoError(rt, w.m.CatchUp(w.ctx))
			cmd := w.drawCommand(rt)
			before, err := w.store.Head(w.ctx)
			require.NoError(rt, err)
			w.m.Read(func(s *State) { w.liveBefore = s.Counts().LiveAssignments })
			w.clock.t = w.clock.t.Add(time.Minute)
			// Now and then the lagging second writer executes: it catches
			// up before deciding.
			exec := w.m
			if rapid.IntRange(0, 3).Draw(rt, "otherWriter") == 0 {
				exec = w.other
			}
			res, err := exec.Execute(w.ctx, actor, cmd)
			after, herr := w.store.Head(w.ctx)
			require.NoError(rt, herr)
			if err != nil {
				refused[CommandName(cmd)]++
				require.Equal(rt, before, after, "refused %s appended events", CommandName(cmd))
				var e *Error
				require.True(rt, errors.As(err, &e), "%s: untyped error %v", CommandName(cmd), err)
				kinds := []error{ErrForbidden, ErrNotFound, ErrInvalid, ErrConflict, ErrLimit}
				require.True(rt, slices.ContainsFunc(kinds, func(k error) bool { return errors.Is(err, k) }), "%v", err)
			} else {
				accepted[CommandName(cmd)]++
				// Invariant 48: exactly one audited event per accepted
				// command, besides what entitlement management does by
				// itself in consequence (the systemAdd and systemRemove
				// requests of an automatic assignment policy).
				var own []eventstore.Event
				for _, e := range res.Events {
					require.NotEmpty(rt, ActivityName(e.Type))
					if !slices.Contains(consequenceTypes, e.Type) {
						own = append(own, e)
					}
				}
				require.Len(rt, own, 1, "%s", CommandName(cmd))
				// The Deliverer's outcomes follow the command's events.
				require.GreaterOrEqual(rt, after.Position, before.Position+eventstore.Position(len(res.Events)))
				de, err := DecodeEvent(own[0])
				require.NoError(rt, err)
				require.Equal(rt, res.ID, primaryID(de), "Result.ID of %s", CommandName(cmd))
				require.NoError(rt, w.m.CatchUp(w.ctx))
				w.checkAccepted(rt, actor, cmd, res)
			}
			require.NoError(rt, w.m.CatchUp(w.ctx))
			var live *State
			w.m.Read(func(s *State) {
				require.NoError(rt, checkInvariants(s), "after %s by %s", CommandName(cmd), actor.ID)
				require.NoError(rt, checkAccessInvariants(s, w.clock.t), "after %s by %s", CommandName(cmd), actor.ID)
				live = s.Clone()
			})
			fresh, err := NewManager(w.ctx, w.store, Options{Clock: w.clock})
			require.NoError(rt, err)
			requireSameState(rt, live, fresh.State(), "replay differs after %s", CommandName(cmd))
			requireConsistentIndexes(rt, live, "after %s", CommandName(cmd))
			if exec == w.other && err == nil {
				requireSameState(rt, live, w.other.State(), "the second writer's state differs")
			}
		}
	})
}

// checkAccepted checks the invariants about who did what: auto-assignment
// policies come from GA/IGA (invariant 8), a catalog's creator owns it
// (invariant 47), and incompatibility declarations leave assignments
// alone (invariant 15).
func (w *propWorld) checkAccepted(t *rapid.T, a Actor, cmd Command, res Result) {
	switch c := cmd.(type) {
	case CreateAssignmentPolicy:
		if c.Policy.IsAutoAssignment() {
			require.True(t, isDirectoryAdmin(a), "auto-assignment policy created by %+v", a)
		}
	case ReplaceAssignmentPolicy:
		if c.Policy.IsAutoAssignment() {
			require.True(t, isDirectoryAdmin(a), "auto-assignment policy written by %+v", a)
		}
	case CreateWorkflow, CreateWorkflowVersion, UpdateWorkflow, DeleteWorkflow, ActivateWorkflow:
		require.True(t, canManageWorkflows(a), "%s by %+v", CommandName(cmd), a)
	case CreateCatalog:
		if a.Kind != ActorSystem {
			w.m.Read(func(s *State) {
				require.True(t, holdsRole(s, a, RoleCatalogOwner, CatalogScope(res.ID)), "creator does not own catalog %s", res.ID)
			})
		}
	case AddIncompatibleAccessPackage, AddIncompatibleGroup:
		w.m.Read(func(s *State) {
			// Invariant 15: declaring an incompatibility removes nothing.
			require.Equal(t, w.liveBefore, s.Counts().LiveAssignments)
		})
	}
}
