package entitlement_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// Example walks the delegation scenario: an administrator makes a
// department manager a catalog creator; she creates a catalog, adds her
// team's group to it, creates an access package granting the group's
// Member role and delegates the package to an access package manager.
func Example() {
	ctx := context.Background()
	store := memstore.New(memstore.Options{})
	m, err := entitlement.NewManager(ctx, store, entitlement.Options{
		Clock: fixedClock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		IDs:   entitlement.SeededIDs(42),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	must := func(r entitlement.Result, err error) entitlement.Result {
		if err != nil {
			panic(err)
		}
		return r
	}
	const (
		adminID = "a0a0a0a0-0000-4000-8000-000000000001"
		mariaID = "a0a0a0a0-0000-4000-8000-000000000002"
		joeID   = "a0a0a0a0-0000-4000-8000-000000000003"
		teamID  = "b0b0b0b0-0000-4000-8000-000000000001"
	)
	// The embedding program feeds the directory.
	sys := entitlement.SystemActor()
	for id, name := range map[string]string{adminID: "Admin", mariaID: "Maria", joeID: "Joe"} {
		must(m.Execute(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: id, DisplayName: name, AccountEnabled: true}}))
	}
	must(m.Execute(ctx, sys, entitlement.PutGroup{Group: entitlement.Group{
		ID: teamID, DisplayName: "Marketing team", SecurityEnabled: true, Owners: []string{mariaID}}}))

	admin := entitlement.UserActor(adminID, entitlement.IdentityGovernanceAdministrator)
	maria := entitlement.UserActor(mariaID)

	// 1. The administrator delegates the catalog creator role.
	must(m.Execute(ctx, admin, entitlement.CreateRoleAssignment{
		PrincipalID: mariaID, RoleDefinitionID: entitlement.RoleCatalogCreator, AppScopeID: entitlement.TenantScope}))
	// 2. Maria creates a catalog and becomes its owner.
	catalog := must(m.Execute(ctx, maria, entitlement.CreateCatalog{DisplayName: "Marketing"})).ID
	// 3. She adds the group she owns to the catalog.
	must(m.Execute(ctx, maria, entitlement.CreateResourceRequest{
		RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginID: teamID, OriginSystem: entitlement.OriginSystemAadGroup}}))
	// 4. She creates an access package granting the group's Member role.
	pkg := must(m.Execute(ctx, maria, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Campaign tools"})).ID
	state := m.State()
	roles, _ := state.ResourceRolesOfCatalog(maria, catalog, entitlement.OriginSystemAadGroup, "")
	scopes, _ := state.ResourceScopesOfCatalog(maria, catalog)
	var member entitlement.ResourceRole
	for _, r := range roles {
		if r.OriginID == "Member_"+teamID {
			member = r
		}
	}
	must(m.Execute(ctx, maria, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: member.ID, ScopeID: scopes[0].ID}))
	// 5. She delegates the catalog's packages to Joe.
	must(m.Execute(ctx, maria, entitlement.CreateRoleAssignment{
		PrincipalID: joeID, RoleDefinitionID: entitlement.RoleAccessPackageManager, AppScopeID: entitlement.CatalogScope(catalog)}))

	// Joe may now change the package; Maria's catalog is all he sees.
	joe := entitlement.UserActor(joeID)
	must(m.Execute(ctx, joe, entitlement.UpdateAccessPackage{AccessPackageID: pkg, Description: ptr("Tools for the spring campaign")}))
	_, err = m.Execute(ctx, joe, entitlement.CreateCatalog{DisplayName: "Joe's own"})
	fmt.Println("Joe creates a catalog:", err)

	state = m.State()
	for _, c := range state.ListCatalogs(joe) {
		fmt.Println("Joe sees catalog:", c.DisplayName)
	}
	p, _ := state.GetAccessPackage(joe, pkg)
	fmt.Printf("%s: %s (%d role scope)\n", p.DisplayName, p.Description, len(p.ResourceRoleScopes))
	for _, ra := range state.ListRoleAssignments(admin, entitlement.RoleAssignmentFilter{PrincipalID: mariaID}) {
		fmt.Println("Maria is", entitlement.RoleDefinitionName(ra.RoleDefinitionID))
	}
	for e, err := range store.ReadAll(ctx, 0) {
		if err == nil && e.Metadata.ActorKind == "user" {
			fmt.Println(entitlement.ActivityName(e.Type))
		}
	}
	// Output:
	// Joe creates a catalog: CreateCatalog: forbidden (catalogs): the actor lacks the rights for this operation
	// Joe sees catalog: Marketing
	// Campaign tools: Tools for the spring campaign (1 role scope)
	// Maria is Catalog creator
	// Maria is Catalog owner
	// Add Entitlement Management role assignment
	// Create access package catalog
	// Create resource request
	// Create access package
	// Update access package
	// Add Entitlement Management role assignment
	// Update access package
}

func ptr[T any](v T) *T { return &v }

// ExampleManager_Execute_retry shows the safe retry. A command is given a
// command id of the caller's choosing; when Execute fails in a way that
// leaves the outcome open (an *OutcomeUnknownError because the context
// ended while the events were being written, a lost connection, a crash),
// the command is executed again with the same id. If the first execution
// was written, the retry appends nothing and answers with its events
// (Duplicate); if it was not, the retry executes it. Retrying without the
// id would create a second catalog.
func ExampleManager_Execute_retry() {
	ctx := context.Background()
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: fixedClock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, IDs: entitlement.SeededIDs(1),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	admin := entitlement.UserActor("a0a0a0a0-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
	create := entitlement.CreateCatalog{DisplayName: "Payroll"}
	id := entitlement.WithCommandID("create-payroll-2026-03") // chosen once, kept with the intent

	var res entitlement.Result
	for attempt := 1; attempt <= 3; attempt++ {
		res, err = m.Execute(ctx, admin, create, id)
		var unknown *entitlement.OutcomeUnknownError
		if err == nil || !errors.As(err, &unknown) {
			break
		}
		// Unknown outcome: try again with the same command id.
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", !res.Duplicate)

	// A retry after a reply that got lost on the way: the same id.
	again, err := m.Execute(ctx, admin, create, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("retry appended nothing:", again.Duplicate, "same catalog:", again.ID == res.ID)
	n := 0
	for _, c := range m.State().ListCatalogs(admin) {
		if c.DisplayName == "Payroll" {
			n++
		}
	}
	fmt.Println("catalogs named Payroll:", n)
	// Output:
	// created: true
	// retry appended nothing: true same catalog: true
	// catalogs named Payroll: 1
}
