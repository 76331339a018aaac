package entitlement_test

import (
	"context"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

type settableClock struct{ t *time.Time }

func (c settableClock) Now() time.Time { return *c.t }

// Example_employeeAccess walks the employee-access scenario: an access
// package manager creates a package granting a group's Member role and a
// request policy with one approval stage (the requestor's manager) and a
// 30-day expiration; an employee requests it in My Access; her manager
// approves; the assignment is delivered; past its end, ProcessDue expires
// it and the role is taken away again.
func Example_employeeAccess() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: settableClock{&now}, IDs: entitlement.SeededIDs(7),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	run := func(a entitlement.Actor, cmd entitlement.Command) entitlement.Result {
		r, err := m.Execute(ctx, a, cmd)
		if err != nil {
			fmt.Println(err)
		}
		return r
	}
	const (
		adminID = "c0c0c0c0-0000-4000-8000-000000000001"
		peteID  = "c0c0c0c0-0000-4000-8000-000000000002" // access package manager
		annaID  = "c0c0c0c0-0000-4000-8000-000000000003" // employee
		markID  = "c0c0c0c0-0000-4000-8000-000000000004" // Anna's manager
		groupID = "d0d0d0d0-0000-4000-8000-000000000001"
	)
	sys := entitlement.SystemActor()
	for _, u := range []entitlement.User{
		{ID: adminID, DisplayName: "Admin", AccountEnabled: true},
		{ID: peteID, DisplayName: "Pete", AccountEnabled: true},
		{ID: markID, DisplayName: "Mark", AccountEnabled: true},
		{ID: annaID, DisplayName: "Anna", AccountEnabled: true, ManagerID: markID},
	} {
		run(sys, entitlement.PutUser{User: u})
	}
	run(sys, entitlement.PutGroup{Group: entitlement.Group{ID: groupID, DisplayName: "Sales tools", SecurityEnabled: true}})
	admin := entitlement.UserActor(adminID, entitlement.GlobalAdministrator)
	pete, anna, mark := entitlement.UserActor(peteID), entitlement.UserActor(annaID), entitlement.UserActor(markID)

	catalog := run(admin, entitlement.CreateCatalog{DisplayName: "Sales"}).ID
	run(admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginID: groupID, OriginSystem: entitlement.OriginSystemAadGroup}})
	run(admin, entitlement.CreateRoleAssignment{PrincipalID: peteID, RoleDefinitionID: entitlement.RoleAccessPackageManager,
		AppScopeID: entitlement.CatalogScope(catalog)})

	// 1. Pete creates the package and gives it the group's Member role.
	pkg := run(pete, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Sales tools"}).ID
	var roleID, scopeID string
	m.Read(func(s *entitlement.State) {
		res, _ := s.ResourcesOfCatalog(pete, catalog)
		for _, r := range res[0].Roles {
			if r.DisplayName == "Member" {
				roleID = r.ID
			}
		}
		scopeID = res[0].Scopes[0].ID
	})
	run(pete, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: roleID, ScopeID: scopeID})
	// 2. A request policy: members ask, their manager approves, 30 days.
	run(pete, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Employees", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(14),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
		}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30)},
	}})

	// 3. Anna finds the package in My Access and requests it.
	st := m.State()
	offer := st.AccessPackagesForRequestor(anna)
	fmt.Println("Anna can request:", offer[0].AccessPackage.DisplayName, "approval:", offer[0].Requirements[0].IsApprovalRequiredForAdd)
	req := run(anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: pkg, AssignmentPolicyID: offer[0].Requirements[0].PolicyID, Justification: "New in sales"}).ID

	// 4. Mark sees it among his approvals and approves.
	pending := m.State().ApprovalsForApprover(mark)
	fmt.Println("Mark has", len(pending), "request to approve")
	now = now.Add(2 * time.Hour)
	run(mark, entitlement.UpdateApprovalStage{ApprovalID: req, StageID: pending[0].Stage.ID,
		ReviewResult: entitlement.DecisionApprove, Justification: "Welcome"})
	mine := m.State().MyAssignments(anna)
	end, _ := mine[0].End()
	fmt.Println("assignment:", mine[0].State, "until", end.Format(time.DateOnly))
	fmt.Println("resource roles held:", len(m.State().EffectiveAccess(anna, annaID)))

	// 5. Time passes; the embedding program processes what fell due, once
	// a day here: the expiry notices, then the expiry.
	for now.Before(end.Add(24 * time.Hour)) {
		now = now.Add(24 * time.Hour)
		res, err := m.ProcessDue(ctx, now)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range append(res.Events, res.Delivery...) {
			fmt.Println(entitlement.ActivityName(e.Type))
		}
	}
	fmt.Println("active assignments:", len(m.State().MyAssignments(anna)))
	// Output:
	// Anna can request: Sales tools approval: true
	// Mark has 1 request to approve
	// assignment: delivered until 2026-04-01
	// resource roles held: 1
	// Access package assignment expires in 14 days
	// Access package assignment expires in 1 day
	// Remove access package assignment
	// Remove access package resource assignment
	// active assignments: 0
}
