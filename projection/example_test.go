package projection_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/projection"
)

type settableClock struct{ t *time.Time }

func (c settableClock) Now() time.Time { return *c.t }

// sales is the tenant of the examples: Anna may request the "Sales tools"
// package, which grants the Member role of the Sales group for 7 days
// once her manager Mark approves.
type sales struct {
	ctx                       context.Context
	now                       *time.Time
	log                       *sqlitestore.Store
	m                         *entitlement.Manager
	admin, anna, mark         entitlement.Actor
	pkg, policy               string
	resource, member, scopeID string
}

const (
	annaID  = "c0c0c0c0-0000-4000-8000-000000000003"
	markID  = "c0c0c0c0-0000-4000-8000-000000000004"
	adminID = "c0c0c0c0-0000-4000-8000-000000000001"
	groupID = "d0d0d0d0-0000-4000-8000-000000000001"
)

func newSales(dir string) (*sales, error) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	log, err := sqlitestore.Open(filepath.Join(dir, "ledger.db"), sqlitestore.Options{Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: settableClock{&now}, IDs: entitlement.SeededIDs(7)})
	if err != nil {
		return nil, err
	}
	s := &sales{ctx: ctx, now: &now, log: log, m: m,
		admin: entitlement.UserActor(adminID, entitlement.GlobalAdministrator),
		anna:  entitlement.UserActor(annaID), mark: entitlement.UserActor(markID)}
	sys := entitlement.SystemActor()
	for _, u := range []entitlement.User{
		{ID: adminID, DisplayName: "Admin", AccountEnabled: true},
		{ID: markID, DisplayName: "Mark", AccountEnabled: true},
		{ID: annaID, DisplayName: "Anna", AccountEnabled: true, ManagerID: markID},
	} {
		if _, err := s.run(sys, entitlement.PutUser{User: u}); err != nil {
			return nil, err
		}
	}
	if _, err := s.run(sys, entitlement.PutGroup{Group: entitlement.Group{ID: groupID, DisplayName: "Sales", SecurityEnabled: true}}); err != nil {
		return nil, err
	}
	catalog, err := s.run(s.admin, entitlement.CreateCatalog{DisplayName: "Sales"})
	if err != nil {
		return nil, err
	}
	if _, err := s.run(s.admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog.ID,
		Resource: entitlement.ResourceSpec{OriginID: groupID, OriginSystem: entitlement.OriginSystemAadGroup}}); err != nil {
		return nil, err
	}
	res, err := m.State().ResourcesOfCatalog(s.admin, catalog.ID)
	if err != nil {
		return nil, err
	}
	s.resource, s.scopeID = res[0].ID, res[0].Scopes[0].ID
	for _, r := range res[0].Roles {
		if r.DisplayName == "Member" {
			s.member = r.ID
		}
	}
	pkg, err := s.run(s.admin, entitlement.CreateAccessPackage{CatalogID: catalog.ID, DisplayName: "Sales tools"})
	if err != nil {
		return nil, err
	}
	s.pkg = pkg.ID
	if _, err := s.run(s.admin, entitlement.AddResourceRoleScope{AccessPackageID: s.pkg, RoleID: s.member, ScopeID: s.scopeID}); err != nil {
		return nil, err
	}
	pol, err := s.run(s.admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Employees", AccessPackageID: s.pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(14),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
		}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(7)},
	}})
	if err != nil {
		return nil, err
	}
	s.policy = pol.ID
	return s, nil
}

func (s *sales) run(a entitlement.Actor, cmd entitlement.Command) (entitlement.Result, error) {
	return s.m.Execute(s.ctx, a, cmd)
}

// caughtUp opens the projection beside the log and catches it up.
func (s *sales) caughtUp() (*projection.Projector, error) {
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := p.CatchUp(s.ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// grantAnna has Anna request the package and Mark approve it.
func (s *sales) grantAnna() (entitlement.Result, error) {
	req, err := s.run(s.anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: s.pkg, AssignmentPolicyID: s.policy, Justification: "New in sales"})
	if err != nil {
		return req, err
	}
	*s.now = s.now.Add(time.Hour)
	pending := s.m.State().ApprovalsForApprover(s.mark)
	return s.run(s.mark, entitlement.UpdateApprovalStage{ApprovalID: req.ID, StageID: pending[0].Stage.ID,
		ReviewResult: entitlement.DecisionApprove, Justification: "Welcome"})
}

// ExampleProjector_CatchUpTo keeps a projection current after each
// command: CatchUpTo the position of the command's last event, and the
// projection shows what the command did (read-your-writes).
func ExampleProjector_CatchUpTo() {
	dir, _ := os.MkdirTemp("", "projection-example")
	defer os.RemoveAll(dir)
	s, err := newSales(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.log.Close()
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	res, err := s.grantAnna()
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := p.CatchUpTo(s.ctx, res.LastPosition()); err != nil {
		fmt.Println(err)
		return
	}
	roles, _ := p.ResourceRolesOf(s.ctx, annaID, projection.Now)
	for _, r := range roles {
		fmt.Println("Anna holds", r.RoleID == s.member, "through policy version", r.PolicyVersion)
	}
	// Output:
	// Anna holds true through policy version 1
}

// ExampleProjector_CatchUp_ticker keeps a projection current on a ticker:
// a goroutine calls CatchUp every few milliseconds (seconds, in a real
// program) while commands run; queries see the log as of the last tick.
func ExampleProjector_CatchUp_ticker() {
	dir, _ := os.MkdirTemp("", "projection-example")
	defer os.RemoveAll(dir)
	s, err := newSales(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.log.Close()
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	ctx, stop := context.WithCancel(s.ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(5 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if _, err := p.CatchUp(ctx); err != nil && ctx.Err() == nil {
					fmt.Println(err)
				}
			}
		}
	}()
	res, err := s.grantAnna()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Wait for a tick to bring the command in.
	for {
		cp, _ := p.Checkpoint(s.ctx)
		if cp.Position >= res.LastPosition() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
	as, _ := p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg}, projection.Now)
	fmt.Println(len(as), "assignment,", as[0].State)
	// Output:
	// 1 assignment, delivered
}

// ExampleProjector_CatchUp_otherProcess follows the log from another
// process: it opens the log file itself (it only reads: it never takes
// the log's write lock) and calls CatchUp until it has what it needs, as
// a reporting service would in a loop.
func ExampleProjector_CatchUp_otherProcess() {
	dir, _ := os.MkdirTemp("", "projection-example")
	defer os.RemoveAll(dir)
	s, err := newSales(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.log.Close()
	res, err := s.grantAnna()
	if err != nil {
		fmt.Println(err)
		return
	}

	// The other process.
	log, err := sqlitestore.Open(filepath.Join(dir, "ledger.db"), sqlitestore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	p, err := projection.Open(context.Background(), log, filepath.Join(dir, "reports.projection"), projection.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	for {
		cp, err := p.CatchUp(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		if cp.Position >= res.LastPosition() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, _ := p.AuditLog(context.Background(), projection.AuditFilter{ActorID: markID})
	for _, e := range entries {
		fmt.Println(e.InitiatedBy.DisplayName+":", e.Activity)
	}
	// Output:
	// Mark: Approve access package assignment request
	// Mark: Ready to fulfill access package assignment request
}

// ExampleProjector_Why asks who held the Member role of the Sales group at
// an instant, and why. Anna's 7-day assignment ended on 9 March at 10:00,
// but the program processed due work only on the 12th: as of the 10th,
// as known now, nobody held the role; as known before the 12th, Anna did.
// Why traces her access to the request, Mark's approval, the policy
// version and the delivery, each with the log position that recorded it.
func ExampleProjector_Why() {
	dir, _ := os.MkdirTemp("", "projection-example")
	defer os.RemoveAll(dir)
	s, err := newSales(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.log.Close()
	granted, err := s.grantAnna()
	if err != nil {
		fmt.Println(err)
		return
	}
	*s.now = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	if _, err := s.m.ProcessDue(s.ctx, *s.now); err != nil {
		fmt.Println(err)
		return
	}
	p, err := s.caughtUp()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	tenth := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	now, _ := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, projection.As{Of: tenth})
	then, _ := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, projection.As{Of: tenth, KnownAt: granted.LastPosition()})
	fmt.Println("held on the 10th, as known now:", len(now))
	fmt.Println("held on the 10th, as known on the 2nd:", len(then))

	x, err := p.Why(s.ctx, annaID, member, projection.As{Of: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := x.Causes[0]
	fmt.Println("assignment", c.Assignment.State, "until", c.Assignment.Schedule.Expiration.EndDateTime.Format(time.DateTime))
	fmt.Printf("requested by Anna: %v (position %d), %q\n", c.Requested.ActorID == annaID, c.Requested.Position, c.Request.Justification)
	for _, d := range c.Decisions {
		fmt.Printf("%s by Mark: %v at %s (position %d), %q\n", d.Result, d.ReviewedBy == markID, d.ReviewedDateTime.Format(time.DateTime), d.Position, d.Justification)
	}
	fmt.Printf("under policy %q version %d (position %d)\n", c.Policy.DisplayName, c.PolicyVersion, c.PolicyRecorded.Position)
	fmt.Printf("delivered: %s (position %d)\n", c.Delivered.Activity, c.Delivered.Position)
	fmt.Println("checked against the log:", x.Check(s.ctx, s.log, nil) == nil)

	entries, _ := p.AuditLog(s.ctx, projection.AuditFilter{Activity: "Remove access package assignment"})
	for _, e := range entries {
		fmt.Println(e.Activity, "held at", e.ActivityDateTime.Format(time.DateTime), "recorded at", e.OccurredAt.Format(time.DateTime))
	}
	// Output:
	// held on the 10th, as known now: 0
	// held on the 10th, as known on the 2nd: 1
	// assignment delivered until 2026-03-09 10:00:00
	// requested by Anna: true (position 11), "New in sales"
	// Approved by Mark: true at 2026-03-02 10:00:00 (position 13), "Welcome"
	// under policy "Employees" version 1 (position 10)
	// delivered: Fulfill access package resource assignment (position 15)
	// checked against the log: true
	// Remove access package assignment held at 2026-03-09 10:00:00 recorded at 2026-03-12 09:00:00
}

// ExampleProjector_Requests reads the requests of a package in pages of
// two: each page starts after the last request of the page before, and a
// short page is the last. A page costs its own rows, however many
// requests the package has had.
func ExampleProjector_Requests() {
	dir, _ := os.MkdirTemp("", "projection-example")
	defer os.RemoveAll(dir)
	s, err := newSales(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.log.Close()
	// Anna asks three times and cancels the first two.
	for i := range 3 {
		req, err := s.run(s.anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: s.pkg, AssignmentPolicyID: s.policy, Justification: fmt.Sprintf("attempt %d", i+1)})
		if err != nil {
			fmt.Println(err)
			return
		}
		*s.now = s.now.Add(time.Hour)
		if i < 2 {
			if _, err := s.run(s.anna, entitlement.CancelAssignmentRequest{RequestID: req.ID}); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	p, err := s.caughtUp()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	f := projection.RequestFilter{AccessPackageID: s.pkg, Top: 2}
	for page := 1; ; page++ {
		rs, err := p.Requests(s.ctx, f, projection.Now)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range rs {
			fmt.Printf("page %d: %s, %s\n", page, r.Justification, r.State)
		}
		if len(rs) < f.Top {
			break
		}
		f.After = rs[len(rs)-1].ID
	}
	// Output:
	// page 1: attempt 1, canceled
	// page 1: attempt 2, canceled
	// page 2: attempt 3, pendingApproval
}
