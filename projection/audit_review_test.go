package projection_test

import (
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/projection"
	"github.com/stretchr/testify/require"
)

// The tests of this file come from a review of the audit log as an
// auditor relies on it (1 Dec 2026).

func activities(t *testing.T, s *sales, p *projection.Projector, f projection.AuditFilter) []string {
	t.Helper()
	es, err := p.AuditLog(s.ctx, f)
	require.NoError(t, err)
	var acts []string
	for _, e := range es {
		acts = append(acts, e.Activity)
	}
	return acts
}

// deletedPolicy creates a second policy of the package, "Contractors",
// deletes it and returns its id.
func (s *sales) deletedPolicy(t *testing.T) string {
	t.Helper()
	pol, err := s.run(s.admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Contractors", AccessPackageID: s.pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		Expiration:        entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(7)},
	}})
	require.NoError(t, err)
	_, err = s.run(s.admin, entitlement.DeleteAssignmentPolicy{PolicyID: pol.ID})
	require.NoError(t, err)
	return pol.ID
}

// Deleting a policy is about its access package, as creating and replacing
// it are: the package's audit log has the policy's whole life.
func TestAuditPolicyDeletionNamesItsPackage(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	s.deletedPolicy(t)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	acts := activities(t, s, p, projection.AuditFilter{TargetID: s.pkg})
	require.Contains(t, acts, "Create access package assignment policy")
	require.Contains(t, acts, "Delete access package assignment policy", "the package's audit log: %q", acts)
}

// An extension and an expiry change the assignment: its entry has the
// values before and after.
func TestAuditExtensionAndExpiryOldValues(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	_, err = s.grantAnna()
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	a := s.m.State().MyAssignments(s.anna)[0]
	_, err = s.run(s.admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminUpdate, AssignmentID: a.ID})
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	props := func(activity string) map[string]projection.ModifiedProperty {
		es, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: activity})
		require.NoError(t, err)
		require.Len(t, es, 1, activity)
		out := map[string]projection.ModifiedProperty{}
		for _, m := range es[0].ModifiedProperties {
			out[m.DisplayName] = m
		}
		return out
	}
	ext := props("Extend access package assignment")
	require.Contains(t, ext["schedule"].OldValue, `"2026-03-09T10:00:00Z"`, "the end before the extension")
	require.Contains(t, ext["schedule"].NewValue, `"2026-03-12T09:00:00Z"`)
	exp := props("Remove access package assignment")
	require.Equal(t, projection.ModifiedProperty{DisplayName: "state", OldValue: `"delivered"`, NewValue: `"expired"`}, exp["state"])
	require.Empty(t, exp["expiredDateTime"].OldValue)
	require.NotEmpty(t, exp["expiredDateTime"].NewValue)
}

// Removing a role assignment says which role at which scope went, as
// adding it does.
func TestAuditRoleAssignmentRemovalOldValues(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	pkg, err := s.m.State().GetAccessPackage(s.admin, s.pkg)
	require.NoError(t, err)
	ra, err := s.run(s.admin, entitlement.CreateRoleAssignment{PrincipalID: markID, RoleDefinitionID: entitlement.RoleCatalogReader,
		AppScopeID: "/AccessPackageCatalog/" + pkg.CatalogID})
	require.NoError(t, err)
	_, err = s.run(s.admin, entitlement.DeleteRoleAssignment{RoleAssignmentID: ra.ID})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	removed, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: "Remove Entitlement Management role assignment"})
	require.NoError(t, err)
	require.Len(t, removed, 1)
	require.Equal(t, []projection.ModifiedProperty{
		{DisplayName: "roleDefinitionId", OldValue: `"` + entitlement.RoleCatalogReader + `"`},
		{DisplayName: "appScopeId", OldValue: `"/AccessPackageCatalog/` + pkg.CatalogID + `"`},
	}, removed[0].ModifiedProperties)
}

// A late expiry at its boundaries: held until its end (exclusive) in any
// time zone, known from the position that recorded it; the audit log's
// From is inclusive and To exclusive; paging by target gives every entry
// once.
func TestAuditLateExpiryBoundaries(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	granted, err := s.grantAnna()
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	head, err := s.log.Head(s.ctx)
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	end := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	exps, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: "Remove access package assignment"})
	require.NoError(t, err)
	require.Len(t, exps, 1)
	require.Equal(t, annaID, func() string {
		for _, tr := range exps[0].TargetResources {
			if tr.ID == annaID {
				return tr.ID
			}
		}
		return ""
	}(), "the expiry names the user")
	require.Equal(t, "system", exps[0].InitiatedBy.ID)
	expPos := exps[0].Position
	cet := time.FixedZone("CET", 3600)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	check := func(as projection.As, want int) {
		t.Helper()
		hs, err := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, as)
		require.NoError(t, err)
		page, err := p.Assignments(s.ctx, entitlement.AssignmentFilter{AccessPackageID: s.pkg, Top: 1}, as)
		require.NoError(t, err)
		rr, err := p.ResourceRolesOf(s.ctx, annaID, as)
		require.NoError(t, err)
		ap, err := p.AccessPackagesOf(s.ctx, annaID, as)
		require.NoError(t, err)
		require.Equal(t, []int{want, want, want, want}, []int{len(hs), len(page), len(rr), len(ap)}, "as %+v", as)
	}
	check(projection.As{Of: end.Add(-time.Nanosecond)}, 1)
	check(projection.As{Of: end.Add(-time.Nanosecond).In(cet)}, 1)
	check(projection.As{Of: end}, 0)
	check(projection.As{Of: end.In(cet)}, 0)
	check(projection.As{Of: end, KnownAt: granted.LastPosition()}, 1)
	check(projection.As{Of: end, KnownAt: expPos - 1}, 1)
	check(projection.As{Of: end, KnownAt: expPos}, 0)
	check(projection.As{Of: end, KnownAt: head.Position + 100}, 0)
	check(projection.As{KnownAt: expPos - 1}, 1)
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	check(projection.As{Of: start}, 1)
	check(projection.As{Of: start.Add(-time.Nanosecond)}, 0)

	es, err := p.AuditLog(s.ctx, projection.AuditFilter{From: end.In(cet), To: end.Add(time.Nanosecond).In(cet)})
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, "Remove access package assignment", es[0].Activity)
	es, err = p.AuditLog(s.ctx, projection.AuditFilter{From: end, To: end})
	require.NoError(t, err)
	require.Empty(t, es, "To is exclusive")

	all, err := p.AuditLog(s.ctx, projection.AuditFilter{TargetID: annaID})
	require.NoError(t, err)
	require.Equal(t, all, auditInPages(t, p, projection.AuditFilter{TargetID: annaID, Limit: 2}))
}

// An access review's entries name the review, and the one applying its
// results names its policy and package also when it removed nobody, so
// that the package's audit log has the review's whole life.
func TestAuditAccessReviewEntries(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	start := s.now.Add(24 * time.Hour)
	pol, err := s.run(s.admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Reviewed", AccessPackageID: s.pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		Expiration:        entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(30)},
		ReviewSettings: entitlement.ReviewSettings{IsEnabled: true, ExpirationBehavior: entitlement.ReviewKeepAccess,
			Schedule: entitlement.EntitlementManagementSchedule{StartDateTime: start,
				Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(3)},
				Recurrence: entitlement.PatternedRecurrence{Pattern: entitlement.RecurrencePattern{Type: entitlement.RecurrenceWeekly, Interval: 1}}},
			PrimaryReviewers: []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: markID}}},
	}})
	require.NoError(t, err)
	_, err = s.run(s.anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: s.pkg, AssignmentPolicyID: pol.ID})
	require.NoError(t, err)
	*s.now = start
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	revs, err := s.m.State().AccessReviewsOfPolicy(s.admin, pol.ID)
	require.NoError(t, err)
	require.Len(t, revs, 1)
	items := s.m.State().MyPendingReviews(s.mark)
	require.Len(t, items, 1)
	_, err = s.run(s.mark, entitlement.RecordReviewDecision{AccessReviewID: revs[0].ID, AssignmentID: items[0].AssignmentID,
		Decision: entitlement.ReviewDecisionApprove})
	require.NoError(t, err)
	*s.now = start.Add(4 * 24 * time.Hour)
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	review := []string{"Access review started", "Submit access review decision", "Apply access review decisions"}
	require.Equal(t, review, activities(t, s, p, projection.AuditFilter{TargetID: revs[0].ID}))
	require.Subset(t, activities(t, s, p, projection.AuditFilter{TargetID: s.pkg}), []string{review[0], review[2]})
	require.Subset(t, activities(t, s, p, projection.AuditFilter{TargetID: pol.ID}), []string{review[0], review[2]})
}
