package entitlement_test

import (
	"context"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// directory is a Deliverer: it adds subjects to groups in a directory of
// its own. The first grant hangs until its context ends, as a call to a
// system that does not answer would.
type directory struct {
	members map[string]bool // group origin id + "/" + subject id
	hang    bool
}

func (d *directory) Grant(ctx context.Context, g entitlement.Grant) error {
	if d.hang {
		d.hang = false
		<-ctx.Done()
		return ctx.Err()
	}
	d.members[g.OriginID+"/"+g.SubjectID] = true
	return nil
}

func (d *directory) Revoke(ctx context.Context, g entitlement.Grant) error {
	delete(d.members, g.OriginID+"/"+g.SubjectID)
	return nil
}

// ExampleManager_DeliverPending delivers access to a system of the
// program's own through a Deliverer. A delivery cut short (here the
// caller's context ends while the Deliverer waits; after a crash it is the
// same) stays pending: Execute answers with the command done and a
// DeliveryError, and DeliverPending, which the program calls at start-up
// and on the ticker that runs ProcessDue, finishes it.
func ExampleManager_DeliverPending() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dir := &directory{members: map[string]bool{}, hang: true}
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: settableClock{&now}, IDs: entitlement.SeededIDs(3), Deliverer: dir,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	run := func(ctx context.Context, a entitlement.Actor, cmd entitlement.Command) entitlement.Result {
		r, err := m.Execute(ctx, a, cmd)
		if err != nil {
			fmt.Println(err)
		}
		return r
	}
	const (
		adminID = "e0e0e0e0-0000-4000-8000-000000000001"
		annaID  = "e0e0e0e0-0000-4000-8000-000000000002"
		groupID = "f0f0f0f0-0000-4000-8000-000000000001"
	)
	sys := entitlement.SystemActor()
	run(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: adminID, DisplayName: "Admin", AccountEnabled: true}})
	run(ctx, sys, entitlement.PutUser{User: entitlement.User{ID: annaID, DisplayName: "Anna", AccountEnabled: true}})
	run(ctx, sys, entitlement.PutGroup{Group: entitlement.Group{ID: groupID, DisplayName: "Sales tools", SecurityEnabled: true}})
	admin := entitlement.UserActor(adminID, entitlement.GlobalAdministrator)
	catalog := run(ctx, admin, entitlement.CreateCatalog{DisplayName: "Sales"}).ID
	run(ctx, admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginID: groupID, OriginSystem: entitlement.OriginSystemAadGroup}})
	pkg := run(ctx, admin, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Sales tools"}).ID
	res, _ := m.State().ResourcesOfCatalog(admin, catalog)
	for _, r := range res[0].Roles {
		if r.DisplayName == "Member" {
			run(ctx, admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: r.ID, ScopeID: res[0].Scopes[0].ID})
		}
	}
	policy := run(ctx, admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Assigned by the admins", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeNotSpecified,
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationNoExpiration},
	}}).ID

	// The admin assigns the package to Anna; the directory does not
	// answer before the caller's deadline.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	r := run(short, admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminAdd,
		AccessPackageID: pkg, AssignmentPolicyID: policy, TargetID: annaID})
	cancel()
	fmt.Println("assigned:", r.ID != "", "delivery finished:", r.DeliveryError == nil)
	fmt.Println("assignment:", m.State().MyAssignments(entitlement.UserActor(annaID))[0].State)

	// Later, on the program's ticker:
	now = now.Add(time.Minute)
	if _, err := m.ProcessDue(ctx, now); err != nil {
		fmt.Println(err)
	}
	d, err := m.DeliverPending(ctx)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("recorded:", len(d.Delivery) > 0, "in the group:", dir.members[groupID+"/"+annaID])
	fmt.Println("assignment:", m.State().MyAssignments(entitlement.UserActor(annaID))[0].State)
	// Output:
	// assigned: true delivery finished: false
	// assignment: delivering
	// recorded: true in the group: true
	// assignment: delivered
}
