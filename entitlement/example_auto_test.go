package entitlement_test

import (
	"context"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// Example_automaticAssignmentAndWorkflows assigns a package to everyone
// in Sales by rule, and has a joiner workflow request another package on a
// new employee's hire date: the two ways employees get access without
// asking.
func Example_automaticAssignmentAndWorkflows() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: settableClock{&now}, IDs: entitlement.SeededIDs(11),
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
		annaID  = "c0c0c0c0-0000-4000-8000-000000000002"
		benID   = "c0c0c0c0-0000-4000-8000-000000000003"
		gusID   = "c0c0c0c0-0000-4000-8000-000000000004"
		groupID = "d0d0d0d0-0000-4000-8000-000000000001"
	)
	sys := entitlement.SystemActor()
	run(sys, entitlement.PutUser{User: entitlement.User{ID: adminID, DisplayName: "Admin", AccountEnabled: true}})
	run(sys, entitlement.PutUser{User: entitlement.User{ID: annaID, DisplayName: "Anna", Department: "Sales", AccountEnabled: true}})
	run(sys, entitlement.PutUser{User: entitlement.User{ID: benID, DisplayName: "Ben", Department: "Legal", AccountEnabled: true}})
	run(sys, entitlement.PutGroup{Group: entitlement.Group{ID: groupID, DisplayName: "Sales tools", SecurityEnabled: true}})
	admin := entitlement.UserActor(adminID, entitlement.GlobalAdministrator)

	catalog := run(admin, entitlement.CreateCatalog{DisplayName: "Sales"}).ID
	run(admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginSystem: entitlement.OriginSystemAadGroup, OriginID: groupID}})
	var role entitlement.ResourceRole
	var scope entitlement.ResourceScope
	m.Read(func(s *entitlement.State) {
		res, _ := s.ResourcesOfCatalog(admin, catalog)
		role, scope = res[0].Roles[0], res[0].Scopes[0]
	})
	pkg := run(admin, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Sales tools"}).ID
	run(admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: role.ID, ScopeID: scope.ID})

	// Everyone in Sales, by rule; removed a day after leaving it.
	run(admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Sales department", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeSpecificDirectoryUsers,
		SpecificAllowedTargets: []entitlement.SubjectSet{{Kind: entitlement.AttributeRuleMembers, MembershipRule: `(user.department -eq "Sales")`}},
		AutomaticRequestSettings: &entitlement.AutomaticRequestSettings{RequestAccessForAllowedTargets: true,
			RemoveAccessWhenTargetLeavesAllowedTargets: true, GracePeriodBeforeAccessRemoval: entitlement.DurationDays(1)},
	}})
	holders := func() {
		m.Read(func(s *entitlement.State) {
			as, _ := s.AssignmentsOfPackage(admin, pkg)
			for _, a := range as {
				if !a.IsEnded() {
					u, _ := s.GetUser(admin, a.TargetID)
					fmt.Printf("  %s holds Sales tools (%s)\n", u.DisplayName, a.State)
				}
			}
		})
	}
	fmt.Println("after the policy:")
	holders()
	run(sys, entitlement.SetUserAttribute{UserID: benID, Name: "department", Value: "Sales"})
	run(sys, entitlement.SetUserAttribute{UserID: annaID, Name: "department", Value: "Legal"})
	fmt.Println("Ben moved to Sales, Anna to Legal:")
	holders()
	now = now.Add(25 * time.Hour)
	if _, err := m.ProcessDue(ctx, now); err != nil {
		fmt.Println(err)
	}
	fmt.Println("a day later:")
	holders()

	// A joiner workflow requests a second package on the hire date, under
	// a direct assignment policy.
	onboarding := run(admin, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Onboarding"}).ID
	direct := run(admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Direct", AccessPackageID: onboarding, AllowedTargetScope: entitlement.ScopeNotSpecified}}).ID
	wf := run(admin, entitlement.CreateWorkflow{Workflow: entitlement.Workflow{
		DisplayName: "Sales joiners", Category: entitlement.WorkflowCategoryJoiner, IsEnabled: true, IsSchedulingEnabled: true,
		ExecutionConditions: entitlement.WorkflowExecutionConditions{ODataType: entitlement.ConditionsTriggerAndScopeBased,
			Scope:   &entitlement.RuleBasedSubjectSet{Rule: `(user.department -eq "Sales")`},
			Trigger: &entitlement.WorkflowTrigger{ODataType: entitlement.TriggerTimeBasedAttribute, TimeBasedAttribute: "employeeHireDate"}},
		Tasks: []entitlement.WorkflowTask{{DisplayName: "Request onboarding", IsEnabled: true,
			TaskDefinitionID: entitlement.TaskRequestAccessPackageAssignment,
			Arguments:        []entitlement.KeyValuePair{{Name: "accessPackageId", Value: onboarding}, {Name: "assignmentPolicyId", Value: direct}}}},
	}}).ID
	hire := now.AddDate(0, 0, 7)
	run(sys, entitlement.PutUser{User: entitlement.User{ID: gusID, DisplayName: "Gus", Department: "Sales",
		EmployeeHireDate: &hire, AccountEnabled: true}})
	now = hire.Add(time.Hour)
	if _, err := m.ProcessDue(ctx, now); err != nil {
		fmt.Println(err)
	}
	m.Read(func(s *entitlement.State) {
		res, _ := s.WorkflowUserProcessingResults(admin, wf)
		for _, r := range res {
			u, _ := s.GetUser(admin, r.SubjectID)
			fmt.Printf("Sales joiners ran for %s on %s: %s\n", u.DisplayName, r.StartedDateTime.Format("2 Jan"), r.ProcessingStatus)
		}
		for _, a := range s.MyAssignments(entitlement.UserActor(gusID)) {
			p, _ := s.GetAccessPackage(admin, a.AccessPackageID)
			fmt.Printf("  Gus holds %s (%s)\n", p.DisplayName, a.State)
		}
	})
	// Output:
	// after the policy:
	//   Anna holds Sales tools (delivered)
	// Ben moved to Sales, Anna to Legal:
	//   Anna holds Sales tools (delivered)
	//   Ben holds Sales tools (delivered)
	// a day later:
	//   Ben holds Sales tools (delivered)
	// Sales joiners ran for Gus on 10 Mar: completed
	//   Gus holds Sales tools (delivered)
	//   Gus holds Onboarding (delivered)
}

// Example_externalPartner lets a partner organization's people ask for a
// package through a request link: one of a connected organization, one of
// an organization nobody connected (which becomes a proposed connected
// organization when she is approved). When a guest loses their last
// assignment, the tenant's settings block them.
func Example_externalPartner() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: settableClock{&now}, IDs: entitlement.SeededIDs(12),
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
	const adminID, sponsorID = "c0c0c0c0-0000-4000-8000-000000000001", "c0c0c0c0-0000-4000-8000-000000000002"
	sys := entitlement.SystemActor()
	run(sys, entitlement.PutUser{User: entitlement.User{ID: adminID, DisplayName: "Admin", AccountEnabled: true}})
	run(sys, entitlement.PutUser{User: entitlement.User{ID: sponsorID, DisplayName: "Sam", AccountEnabled: true}})
	admin, sam := entitlement.UserActor(adminID, entitlement.GlobalAdministrator), entitlement.UserActor(sponsorID)

	run(admin, entitlement.CreateConnectedOrganization{DisplayName: "Contoso", IdentitySources: []entitlement.IdentitySource{
		{ODataType: entitlement.IdentitySourceDomain, DomainName: "contoso.com", DisplayName: "Contoso"}}})
	catalog := run(admin, entitlement.CreateCatalog{DisplayName: "Partners"}).ID
	pkg := run(admin, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Partner portal"}).ID
	pol := run(admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Any partner", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllExternalUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(7),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: sponsorID}}}}},
	}}).ID
	link, _ := m.State().RequestLink(admin, pkg)
	fmt.Println("link:", link.Path[:17]+"…")

	for _, email := range []string{"nina@contoso.com", "raj@fabrikam.com"} {
		person := entitlement.ExternalActor(email, "")
		offer, err := m.State().ResolveRequestLink(person, link.Path)
		if err != nil {
			fmt.Println(err)
			return
		}
		req := run(person, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: offer.AccessPackage.ID, AssignmentPolicyID: pol}).ID
		r, _ := m.State().GetAssignmentRequest(person, req)
		run(sam, entitlement.UpdateApprovalStage{ApprovalID: req, StageID: r.Stages[0].ID, ReviewResult: entitlement.DecisionApprove})
		g, _ := m.State().GuestByEmail(admin, email)
		org, _ := m.State().GetConnectedOrganization(admin, g.ConnectedOrganizationID)
		fmt.Printf("%s: guest %s, %s, of %s (%s)\n", email, g.SubjectLifecycle, g.UserType, org.DisplayName, org.State)
	}

	nina := entitlement.ExternalActor("nina@contoso.com", "")
	a := m.State().MyAssignments(nina)[0]
	run(admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminRemove, AssignmentID: a.ID})
	g, _ := m.State().GuestByEmail(admin, "nina@contoso.com")
	fmt.Printf("nina after her last assignment: sign-in enabled %v, deleted on %s\n", g.AccountEnabled, g.Lifecycle.DeletionDateTime.Format("2 Jan"))
	// Output:
	// link: /access-packages/…
	// nina@contoso.com: guest governed, Guest, of Contoso (configured)
	// raj@fabrikam.com: guest governed, Guest, of fabrikam.com (proposed)
	// nina after her last assignment: sign-in enabled false, deleted on 1 Apr
}
