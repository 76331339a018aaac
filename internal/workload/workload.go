// Package workload generates synthetic tenants and their histories for
// benchmarks and load tests, deterministically from a seed, through the
// public API of package entitlement: a directory of users with departments
// and managers, catalogs of group resources, access packages with role
// scopes, request policies with one to three approval stages; then weeks of
// requests approved, denied, timed out and canceled, extensions, removals,
// expiries through ProcessDue and role-scope changes.
//
// With one worker the log a seed gives is always the same (up to the ids
// the store gives events); with more workers the same commands run
// concurrently, so the order of one day's commands varies.
package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/google/uuid"
)

// Start is when every generated tenant's clock starts.
var Start = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Config says what tenant to generate. Zero fields take defaults scaled to
// Users.
type Config struct {
	Seed  uint64
	Users int
	// Departments default to one per 500 users (at least 4).
	Departments int
	// Catalogs default to one per 5 departments (at least 2); every
	// department requests the packages of one catalog.
	Catalogs int
	// PackagesPerCatalog defaults to 5; GroupsPerCatalog (the catalog's
	// resources) to 8.
	PackagesPerCatalog, GroupsPerCatalog int
	// OpenPackages are packages of a catalog of their own whose policy
	// needs no approval and lasts a year: the benchmarks' request →
	// delivered loop. Default: enough for every user to hold one (a
	// package takes at most entitlement.MaxAssignmentsPerPackage).
	OpenPackages int
	// Workers run the commands of a batch at once; default 1.
	Workers int
}

func (c Config) withDefaults() Config {
	if c.Users <= 0 {
		c.Users = 1000
	}
	if c.Departments <= 0 {
		c.Departments = max(4, c.Users/500)
	}
	if c.Catalogs <= 0 {
		c.Catalogs = max(2, c.Departments/5)
	}
	if c.PackagesPerCatalog <= 0 {
		c.PackagesPerCatalog = 5
	}
	if c.GroupsPerCatalog <= 0 {
		c.GroupsPerCatalog = 8
	}
	if c.OpenPackages <= 0 {
		c.OpenPackages = c.Users/entitlement.MaxAssignmentsPerPackage + 2
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	return c
}

// User is a generated user.
type User struct {
	ID         string
	Department int
	ManagerID  string
	Actor      entitlement.Actor
}

// Package is a generated access package with its request policy.
type Package struct {
	ID, CatalogID, PolicyID string
	// Stages is how many approval stages its policy has (0 to 3).
	Stages int
}

// Tenant is what Build made.
type Tenant struct {
	Config  Config
	Clock   *Clock
	Admin   entitlement.Actor
	Users   []User
	Catalog []string // catalog ids, by index
	// Packages are the packages of each catalog, by catalog index.
	Packages [][]Package
	// Open are the open packages (no approval), one catalog of their own.
	Open []Package
	// Groups are the group resources of each catalog, by catalog index.
	Groups [][]string
	// ResourceRoles are the (role, scope) pairs of each catalog's
	// resources, by catalog index: what role-scope changes pick from.
	ResourceRoles [][][2]string

	m   *entitlement.Manager
	rnd *rand.Rand
}

// id returns a deterministic UUID for the tenant's n-th object of a kind.
func (t *Tenant) id(kind string, n int) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d/%s/%d", t.Config.Seed, kind, n)).String()
}

// Progress reports how far a long operation got.
type Progress struct {
	Phase       string
	Done, Total int
}

// ProgressFunc receives Progress now and then; it may be nil.
type ProgressFunc func(Progress)

func (f ProgressFunc) report(phase string, done, total int) {
	if f != nil {
		f(Progress{Phase: phase, Done: done, Total: total})
	}
}

// run executes fns on w workers and returns the first error.
func run(ctx context.Context, workers int, fns []func(context.Context) error) error {
	if workers <= 1 {
		for _, f := range fns {
			if err := f(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		once    sync.Once
		first   error
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	for range workers {
		wg.Go(func() {
			for !stopped.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(fns) {
					return
				}
				if err := fns[i](ctx); err != nil {
					once.Do(func() { first = err; stopped.Store(true); cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// in runs fns in chunks, reporting progress after each.
func in(ctx context.Context, workers int, phase string, progress ProgressFunc, fns []func(context.Context) error) error {
	const chunk = 2000
	for i := 0; i < len(fns); i += chunk {
		if err := run(ctx, workers, fns[i:min(i+chunk, len(fns))]); err != nil {
			return err
		}
		progress.report(phase, min(i+chunk, len(fns)), len(fns))
	}
	return nil
}

// Build generates a tenant through m: the directory, catalogs with group
// resources delegated to an owner, packages with role scopes and request
// policies, and the open packages. The manager's clock must be clock.
func Build(ctx context.Context, m *entitlement.Manager, clock *Clock, cfg Config, progress ProgressFunc) (*Tenant, error) {
	cfg = cfg.withDefaults()
	t := &Tenant{Config: cfg, Clock: clock, m: m, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))}
	exec := func(ctx context.Context, a entitlement.Actor, cmd entitlement.Command) (string, error) {
		r, err := m.Execute(ctx, a, cmd)
		if err != nil {
			return "", fmt.Errorf("workload: %s: %w", entitlement.CommandName(cmd), err)
		}
		return r.ID, nil
	}
	sys := entitlement.SystemActor()
	adminID := t.id("admin", 0)
	if _, err := exec(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: adminID, DisplayName: "Administrator", AccountEnabled: true}}); err != nil {
		return nil, err
	}
	t.Admin = entitlement.UserActor(adminID, entitlement.GlobalAdministrator)

	// Users: per department a head, team leads reporting to the head, and
	// members reporting to a lead.
	t.Users = make([]User, cfg.Users)
	perDept := make([][]int, cfg.Departments)
	for i := range t.Users {
		d := i % cfg.Departments
		perDept[d] = append(perDept[d], i)
	}
	for _, idx := range perDept {
		for k, i := range idx {
			u := User{ID: t.id("user", i), Department: i % cfg.Departments}
			switch {
			case k == 0:
			case k%10 == 1:
				u.ManagerID = t.Users[idx[0]].ID
			default:
				u.ManagerID = t.Users[idx[(k-1)/10*10+1]].ID
			}
			u.Actor = entitlement.UserActor(u.ID)
			t.Users[i] = u
		}
	}
	var fns []func(context.Context) error
	for i, u := range t.Users {
		user := entitlement.User{
			ID: u.ID, DisplayName: fmt.Sprintf("User %d", i), UserType: entitlement.UserTypeMember,
			Mail: fmt.Sprintf("user%d@contoso.example", i), UserPrincipalName: fmt.Sprintf("user%d@contoso.example", i),
			Department: fmt.Sprintf("Department %d", u.Department), JobTitle: []string{"Engineer", "Analyst", "Sales", "Support"}[i%4],
			CompanyName: "Contoso", Country: "NL", ManagerID: u.ManagerID, AccountEnabled: true,
		}
		fns = append(fns, func(ctx context.Context) error {
			_, err := exec(ctx, sys, entitlement.PutUser{User: user})
			return err
		})
	}
	if err := in(ctx, cfg.Workers, "directory", progress, fns); err != nil {
		return nil, err
	}

	// Catalogs with group resources, an owner and approver groups.
	t.Catalog = make([]string, cfg.Catalogs)
	t.Groups = make([][]string, cfg.Catalogs)
	t.ResourceRoles = make([][][2]string, cfg.Catalogs)
	t.Packages = make([][]Package, cfg.Catalogs)
	for c := range cfg.Catalogs {
		cat, err := exec(ctx, t.Admin, entitlement.CreateCatalog{DisplayName: fmt.Sprintf("Catalog %d", c)})
		if err != nil {
			return nil, err
		}
		t.Catalog[c] = cat
		if err := t.addGroups(ctx, exec, c, cfg.GroupsPerCatalog); err != nil {
			return nil, err
		}
		owner := t.Users[t.rnd.IntN(len(t.Users))].ID
		if _, err := exec(ctx, t.Admin, entitlement.CreateRoleAssignment{PrincipalID: owner,
			RoleDefinitionID: entitlement.RoleCatalogOwner, AppScopeID: entitlement.CatalogScope(cat)}); err != nil {
			return nil, err
		}
		approvers := t.id("approvers", c)
		if _, err := exec(ctx, sys, entitlement.PutGroup{Group: entitlement.Group{ID: approvers,
			DisplayName: fmt.Sprintf("Approvers %d", c), SecurityEnabled: true}}); err != nil {
			return nil, err
		}
		for range 5 {
			member := t.Users[t.rnd.IntN(len(t.Users))].ID
			if _, err := m.Execute(ctx, sys, entitlement.AddGroupMember{GroupID: approvers, MemberID: member}); err != nil &&
				!entitleConflict(err) {
				return nil, fmt.Errorf("workload: AddGroupMember: %w", err)
			}
		}
		for p := range cfg.PackagesPerCatalog {
			stages := t.rnd.IntN(4)
			pkg, err := t.addPackage(ctx, exec, c, fmt.Sprintf("Package %d.%d", c, p), stages, approvers)
			if err != nil {
				return nil, err
			}
			t.Packages[c] = append(t.Packages[c], pkg)
		}
		progress.report("catalogs", c+1, cfg.Catalogs)
	}

	// The open packages, in a catalog of their own.
	openCat, err := exec(ctx, t.Admin, entitlement.CreateCatalog{DisplayName: "Open"})
	if err != nil {
		return nil, err
	}
	t.Catalog = append(t.Catalog, openCat)
	t.Groups = append(t.Groups, nil)
	t.ResourceRoles = append(t.ResourceRoles, nil)
	oc := len(t.Catalog) - 1
	if err := t.addGroups(ctx, exec, oc, 2); err != nil {
		return nil, err
	}
	for p := range cfg.OpenPackages {
		pkg, err := t.addPackage(ctx, exec, oc, fmt.Sprintf("Open %d", p), -1, "")
		if err != nil {
			return nil, err
		}
		t.Open = append(t.Open, pkg)
	}
	return t, nil
}

func entitleConflict(err error) bool {
	return errors.Is(err, entitlement.ErrConflict)
}

type execFunc func(ctx context.Context, a entitlement.Actor, cmd entitlement.Command) (string, error)

// addGroups adds n groups to catalog c as resources.
func (t *Tenant) addGroups(ctx context.Context, exec execFunc, c, n int) error {
	for g := range n {
		gid := t.id("group", c*1000+g)
		if _, err := exec(ctx, entitlement.SystemActor(), entitlement.PutGroup{Group: entitlement.Group{ID: gid,
			DisplayName: fmt.Sprintf("Group %d.%d", c, g), SecurityEnabled: true}}); err != nil {
			return err
		}
		if _, err := exec(ctx, t.Admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd,
			CatalogID: t.Catalog[c], Resource: entitlement.ResourceSpec{OriginID: gid, OriginSystem: entitlement.OriginSystemAadGroup}}); err != nil {
			return err
		}
		t.Groups[c] = append(t.Groups[c], gid)
	}
	res, err := t.m.State().ResourcesOfCatalog(t.Admin, t.Catalog[c])
	if err != nil {
		return err
	}
	for _, r := range res {
		for _, role := range r.Roles {
			t.ResourceRoles[c] = append(t.ResourceRoles[c], [2]string{role.ID, r.Scopes[0].ID})
		}
	}
	return nil
}

// addPackage creates a package in catalog c granting one to three of its
// resource roles, with a request policy of the given number of approval
// stages; stages -1 makes an open package (no approval, a year).
func (t *Tenant) addPackage(ctx context.Context, exec execFunc, c int, name string, stages int, approvers string) (Package, error) {
	pkg, err := exec(ctx, t.Admin, entitlement.CreateAccessPackage{CatalogID: t.Catalog[c], DisplayName: name})
	if err != nil {
		return Package{}, err
	}
	roles := t.ResourceRoles[c]
	if roles == nil {
		return Package{}, fmt.Errorf("workload: catalog %d has no resource roles", c)
	}
	n := 1 + t.rnd.IntN(3)
	for _, k := range t.rnd.Perm(len(roles))[:min(n, len(roles))] {
		if _, err := exec(ctx, t.Admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: roles[k][0], ScopeID: roles[k][1]}); err != nil {
			return Package{}, err
		}
	}
	pol := entitlement.AssignmentPolicy{
		DisplayName: name + " requests", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true,
			EnableTargetsToSelfUpdateAccess: true, EnableTargetsToSelfRemoveAccess: true},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30 + 30*t.rnd.IntN(6))},
	}
	if stages < 0 {
		pol.Expiration.Duration = entitlement.DurationDays(365)
		stages = 0
	}
	kinds := []entitlement.SubjectSet{
		{Kind: entitlement.RequestorManager, ManagerLevel: 1},
		{Kind: entitlement.RequestorManager, ManagerLevel: 2},
		{Kind: entitlement.GroupMembers, GroupID: approvers},
	}
	for s := range stages {
		pol.RequestApprovalSettings.IsApprovalRequiredForAdd = true
		pol.RequestApprovalSettings.IsApprovalRequiredForUpdate = s == 0 && t.rnd.IntN(2) == 0
		st := entitlement.ApprovalStage{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(14),
			PrimaryApprovers:              []entitlement.SubjectSet{kinds[s]},
			FallbackPrimaryApprovers:      []entitlement.SubjectSet{{Kind: entitlement.GroupMembers, GroupID: approvers}},
		}
		if s == 0 && t.rnd.IntN(2) == 0 {
			st.IsEscalationEnabled = true
			st.DurationBeforeEscalation = entitlement.DurationDays(3)
			st.EscalationApprovers = []entitlement.SubjectSet{{Kind: entitlement.GroupMembers, GroupID: approvers}}
		}
		pol.RequestApprovalSettings.Stages = append(pol.RequestApprovalSettings.Stages, st)
	}
	polID, err := exec(ctx, t.Admin, entitlement.CreateAssignmentPolicy{Policy: pol})
	if err != nil {
		return Package{}, err
	}
	return Package{ID: pkg, CatalogID: t.Catalog[c], PolicyID: polID, Stages: stages}, nil
}
