package projection_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
	"github.com/stretchr/testify/require"
)

// TestExpiryRecordedLateByAPackageChange: Anna's assignment ended on 9
// March at 10:00, and ProcessDue had not run when, on the 10th, the
// package gained the Owner role. The command recorded her expiry first,
// as of the 9th at 10:00 (a fact recorded late), so the new role reached
// nobody: as of the 10th, as known now, she held nothing; as believed
// before the 10th's command, she held Member, and never Owner.
func TestExpiryRecordedLateByAPackageChange(t *testing.T) {
	s, granted, owner := annaAndOwner(t)

	*s.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	added, err := s.run(s.admin, entitlement.AddResourceRoleScope{AccessPackageID: s.pkg, RoleID: owner, ScopeID: s.scopeID})
	require.NoError(t, err)
	require.Equal(t, entitlement.EventAssignmentExpired, added.Events[0].Type, "the expiry due is recorded first")
	before := granted.LastPosition()

	p := caughtUpInPairs(t, s)

	ownerRole := projection.RoleRef{ResourceID: s.resource, RoleID: owner}
	memberRole := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	tenth := projection.As{Of: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	believed := projection.As{Of: tenth.Of, KnownAt: before}

	held, err := p.ResourceRolesOf(s.ctx, annaID, believed)
	require.NoError(t, err)
	require.Len(t, held, 1, "as believed before the expiry was recorded, Anna held Member on the 10th")
	require.Equal(t, s.member, held[0].RoleID)
	for _, r := range []projection.RoleRef{ownerRole, memberRole} {
		holders, err := p.Holders(s.ctx, projection.HoldersFilter{Role: r}, tenth)
		require.NoError(t, err)
		require.Empty(t, holders, "as known now, nobody held %s on the 10th", r.RoleID)
		holders, err = p.Holders(s.ctx, projection.HoldersFilter{Role: r}, projection.Now)
		require.NoError(t, err)
		require.Empty(t, holders, "nor holds %s now", r.RoleID)
	}
	a, err := p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg, IncludeEnded: true}, tenth)
	require.NoError(t, err)
	require.Len(t, a, 1)
	require.Equal(t, entitlement.AssignmentStateExpired, a[0].State)
	require.Len(t, a[0].Resources, 1, "the Owner role did not reach the ended assignment")
	// Just before the end, as known now: delivered, Member only.
	ninth := projection.As{Of: time.Date(2026, 3, 9, 9, 59, 0, 0, time.UTC)}
	a, err = p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg}, ninth)
	require.NoError(t, err)
	require.Len(t, a, 1)
	require.Equal(t, entitlement.AssignmentStateDelivered, a[0].State)
	require.Len(t, a[0].Resources, 1)
	// Now: expired, its role removed.
	a, err = p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg, IncludeEnded: true}, projection.Now)
	require.NoError(t, err)
	require.Equal(t, entitlement.AssignmentStateExpired, a[0].State)
	for _, r := range a[0].Resources {
		require.Equal(t, entitlement.DeliveryRemoved, r.Status)
	}
}

// TestLateExpiryRewritesLaterVersions: a log that an older accessledger
// wrote, whose commands did not record due expiries first. Anna's
// assignment ended on 9 March at 10:00; on the 10th the package gained the
// Owner role (the event appended here as that version appended it) and
// it was delivered to her (its outcome recorded); the expiry was recorded
// on the 12th. The
// expiry, recorded late, applies to those later versions too: as of the
// 10th, as known now, she held neither role; as known before the 12th,
// both.
func TestLateExpiryRewritesLaterVersions(t *testing.T) {
	s, _, owner := annaAndOwner(t)

	*s.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	appendOwnerRoleScope(t, s, owner)
	// DeliverPending grants nothing to an assignment past its end; the
	// older version delivered it, and its outcome was recorded.
	pending, err := s.m.DeliverPending(s.ctx)
	require.NoError(t, err)
	require.Empty(t, pending.Delivery)
	_, before := recordOwnerGrantAndExpire(t, s, owner)

	p := caughtUpInPairs(t, s)

	ownerRole := projection.RoleRef{ResourceID: s.resource, RoleID: owner}
	memberRole := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	tenth := projection.As{Of: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	believed := projection.As{Of: tenth.Of, KnownAt: before}

	held, err := p.ResourceRolesOf(s.ctx, annaID, believed)
	require.NoError(t, err)
	require.Len(t, held, 2, "as believed before the expiry was recorded, Anna held Member and Owner on the 10th")
	for _, r := range []projection.RoleRef{ownerRole, memberRole} {
		holders, err := p.Holders(s.ctx, projection.HoldersFilter{Role: r}, believed)
		require.NoError(t, err)
		require.Len(t, holders, 1)
		holders, err = p.Holders(s.ctx, projection.HoldersFilter{Role: r}, tenth)
		require.NoError(t, err)
		require.Empty(t, holders, "as known now, nobody held %s on the 10th", r.RoleID)
	}
	a, err := p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg, IncludeEnded: true}, tenth)
	require.NoError(t, err)
	require.Len(t, a, 1)
	require.Equal(t, entitlement.AssignmentStateExpired, a[0].State)
	require.Len(t, a[0].Resources, 2, "the Owner role reached the assignment on the 10th, before its expiry was known")
	for _, r := range a[0].Resources {
		require.Equal(t, entitlement.DeliveryPendingRemoval, r.Status)
	}
	a, err = p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg, IncludeEnded: true}, projection.Now)
	require.NoError(t, err)
	require.Equal(t, entitlement.AssignmentStateExpired, a[0].State)
	for _, r := range a[0].Resources {
		require.Equal(t, entitlement.DeliveryRemoved, r.Status)
	}
}

// annaAndOwner is the sales world with Anna's assignment granted (until
// the 9th of March, 10:00), the command that granted it, and the id of
// the Sales group's Owner role, which the package does not give.
func annaAndOwner(t *testing.T) (*sales, entitlement.Result, string) {
	t.Helper()
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.log.Close() })
	granted, err := s.grantAnna()
	require.NoError(t, err)
	res, err := s.m.State().ResourcesOfCatalog(s.admin, mustCatalogOf(t, s))
	require.NoError(t, err)
	for _, r := range res[0].Roles {
		if r.DisplayName == "Owner" {
			return s, granted, r.ID
		}
	}
	t.Fatal("the Sales group has no Owner role")
	return nil, entitlement.Result{}, ""
}

// caughtUpInPairs opens the projection beside the log and catches it up
// two events a transaction, so that late facts meet versions written by
// earlier batches.
func caughtUpInPairs(t *testing.T, s *sales) *projection.Projector {
	t.Helper()
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{BatchSize: 2})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	return p
}

func mustCatalogOf(t *testing.T, s *sales) string {
	t.Helper()
	pkg, err := s.m.State().GetAccessPackage(s.admin, s.pkg)
	require.NoError(t, err)
	return pkg.CatalogID
}

// appendOwnerRoleScope appends, as an older accessledger did (without
// recording due expiries first), the Owner role added to the package at
// s.now, and returns its position.
func appendOwnerRoleScope(t *testing.T, s *sales, owner string) eventstore.Position {
	t.Helper()
	payload, err := json.Marshal(entitlement.ResourceRoleScopeChanged{AccessPackageID: s.pkg, ResourceRoleScope: entitlement.ResourceRoleScope{
		ID: owner + "_" + s.scopeID, RoleID: owner, ScopeID: s.scopeID, ResourceID: s.resource, CreatedDateTime: *s.now}})
	require.NoError(t, err)
	res, err := s.log.Append(s.ctx, eventstore.AnyCondition, eventstore.NewEvent{
		Stream: eventstore.StreamID("accessPackage/" + s.pkg), Type: entitlement.EventResourceRoleScopeAdded,
		SchemaVersion: entitlement.SchemaVersion(entitlement.EventResourceRoleScopeAdded), OccurredAt: *s.now,
		Metadata: eventstore.Metadata{ActorID: s.admin.ID, ActorKind: string(s.admin.Kind), CommandID: "older-manager"}, Payload: payload})
	require.NoError(t, err)
	require.False(t, res.Duplicate)
	return res.Head().Position
}

// recordOwnerGrantAndExpire records the Owner role's grant to Anna's one
// assignment (as the older version that delivered it did), then, on the
// 12th, the expiry that fell due on the 9th; it returns the assignment
// and the grant's position.
func recordOwnerGrantAndExpire(t *testing.T, s *sales, owner string) (assignmentID string, granted eventstore.Position) {
	t.Helper()
	mine, err := s.m.State().ListAssignments(s.admin, entitlement.AssignmentFilter{AccessPackageID: s.pkg})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	delivered, err := s.run(entitlement.SystemActor(), entitlement.RecordDelivery{Outcomes: []entitlement.DeliveryOutcome{{
		AssignmentID: mine[0].ID, ResourceRoleScopeID: owner + "_" + s.scopeID, Action: entitlement.DeliveryActionGrant}}})
	require.NoError(t, err)
	require.NotEmpty(t, delivered.Events)
	*s.now = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	return mine[0].ID, delivered.LastPosition()
}
