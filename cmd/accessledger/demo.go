package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--db FILE]", stderr)
	db := fs.String("db", "accessledger-demo.db", "the log to write; removed and started fresh on every run")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := removeLog(*db); err != nil {
		return err
	}
	store, err := sqlitestore.Open(*db, sqlitestore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()

	if err := runScenario(ctx, store, stdout); err != nil {
		return err
	}
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nlog: %s\nverified: head position %d hash %s\n", *db, head.Position, head.Hash)
	return nil
}

// removeLog deletes a log file and its WAL companions.
func removeLog(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// demoClock is the scenario's clock: it moves only when the scenario says.
type demoClock struct{ now time.Time }

func (c *demoClock) Now() time.Time { return c.now }

// runScenario plays the seed scenarios of delegation and employee access
// through the entitlement Manager, printing each step's audit activity.
func runScenario(ctx context.Context, store *sqlitestore.Store, w io.Writer) error {
	clock := &demoClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	m, err := entitlement.NewManager(ctx, store, entitlement.Options{Clock: clock, IDs: entitlement.SeededIDs(1)})
	if err != nil {
		return err
	}
	var failed error
	step := func(who string, a entitlement.Actor, cmd entitlement.Command) string {
		if failed != nil {
			return ""
		}
		r, err := m.Execute(ctx, a, cmd)
		if err != nil {
			failed = fmt.Errorf("%s: %w", who, err)
			return ""
		}
		printActivities(w, clock.now, who, r.Events)
		printActivities(w, clock.now, "system", r.Delivery) // outcomes the Deliverer reported
		return r.ID
	}

	const (
		adminID = "a0000000-0000-4000-8000-000000000001"
		carolID = "a0000000-0000-4000-8000-000000000002" // catalog creator, then owner
		peteID  = "a0000000-0000-4000-8000-000000000003" // access package manager
		annaID  = "a0000000-0000-4000-8000-000000000004" // employee
		markID  = "a0000000-0000-4000-8000-000000000005" // Anna's manager
		groupID = "b0000000-0000-4000-8000-000000000001"
	)
	sys := entitlement.SystemActor()
	fmt.Fprintln(w, "# The directory, as the embedding program feeds it")
	for _, u := range []entitlement.User{
		{ID: adminID, DisplayName: "Ada Admin", AccountEnabled: true},
		{ID: carolID, DisplayName: "Carol", AccountEnabled: true},
		{ID: peteID, DisplayName: "Pete", AccountEnabled: true},
		{ID: markID, DisplayName: "Mark", AccountEnabled: true},
		{ID: annaID, DisplayName: "Anna", AccountEnabled: true, ManagerID: markID},
	} {
		step("system", sys, entitlement.PutUser{User: u})
	}
	step("system", sys, entitlement.PutGroup{Group: entitlement.Group{ID: groupID, DisplayName: "Sales tools",
		SecurityEnabled: true, Owners: []string{carolID}}})

	admin := entitlement.UserActor(adminID, entitlement.GlobalAdministrator)
	carol, pete := entitlement.UserActor(carolID), entitlement.UserActor(peteID)
	anna, mark := entitlement.UserActor(annaID), entitlement.UserActor(markID)

	fmt.Fprintln(w, "\n# Delegate: admin -> catalog creator -> catalog owner -> access package manager")
	step("admin", admin, entitlement.CreateRoleAssignment{PrincipalID: carolID, RoleDefinitionID: entitlement.RoleCatalogCreator,
		AppScopeID: entitlement.TenantScope})
	catalog := step("carol", carol, entitlement.CreateCatalog{DisplayName: "Sales"})
	step("carol", carol, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginID: groupID, OriginSystem: entitlement.OriginSystemAadGroup}})
	step("carol", carol, entitlement.CreateRoleAssignment{PrincipalID: peteID, RoleDefinitionID: entitlement.RoleAccessPackageManager,
		AppScopeID: entitlement.CatalogScope(catalog)})
	if failed != nil {
		return failed
	}

	fmt.Fprintln(w, "\n# Access package manager: a package, its resources, a request policy with approval and expiry")
	pkg := step("pete", pete, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Sales tools"})
	if failed != nil {
		return failed
	}
	var roleID, scopeID string
	m.Read(func(s *entitlement.State) {
		res, err := s.ResourcesOfCatalog(pete, catalog)
		if err != nil || len(res) == 0 {
			return
		}
		for _, r := range res[0].Roles {
			if r.DisplayName == "Member" {
				roleID = r.ID
			}
		}
		scopeID = res[0].Scopes[0].ID
	})
	step("pete", pete, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: roleID, ScopeID: scopeID})
	policy := step("pete", pete, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Employees", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(14),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
		}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30)},
	}})
	if failed != nil {
		return failed
	}

	fmt.Fprintln(w, "\n# Requestor and approver in My Access")
	clock.now = clock.now.Add(24 * time.Hour)
	req := step("anna", anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: pkg, AssignmentPolicyID: policy, Justification: "Joining the sales team"})
	if failed != nil {
		return failed
	}
	pending := m.State().ApprovalsForApprover(mark)
	if len(pending) != 1 {
		return fmt.Errorf("mark should have one request to approve, has %d", len(pending))
	}
	clock.now = clock.now.Add(3 * time.Hour)
	step("mark", mark, entitlement.UpdateApprovalStage{ApprovalID: req, StageID: pending[0].Stage.ID,
		ReviewResult: entitlement.DecisionApprove, Justification: "Welcome aboard"})
	if failed != nil {
		return failed
	}
	mine := m.State().MyAssignments(anna)
	if len(mine) != 1 {
		return fmt.Errorf("anna should have one assignment, has %d", len(mine))
	}
	end, _ := mine[0].End()
	fmt.Fprintf(w, "anna's assignment is %s until %s; resource roles held: %d\n",
		mine[0].State, end.Format(time.DateOnly), len(m.State().EffectiveAccess(anna, annaID)))

	fmt.Fprintln(w, "\n# Time passes: the program processes what fell due")
	clock.now = end.Add(time.Hour)
	res, err := m.ProcessDue(ctx, clock.now)
	if err != nil {
		return err
	}
	printActivities(w, clock.now, "system", append(res.Events, res.Delivery...))
	fmt.Fprintf(w, "anna's active assignments: %d\n", len(m.State().MyAssignments(anna)))
	return failed
}

// printActivities prints one line per event: when, who, and its audit
// activity name.
func printActivities(w io.Writer, at time.Time, who string, events []eventstore.Event) {
	for _, e := range events {
		fmt.Fprintf(w, "%s  %-6s %s\n", at.Format("2006-01-02 15:04"), who, entitlement.ActivityName(e.Type))
	}
}
