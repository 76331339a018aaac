package projection_test

import (
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
	"github.com/stretchr/testify/require"
)

// TestRequestsCreatedAfterIsExclusive: CreatedAfter leaves out the request
// whose creation the log recorded at that very position ("at or before").
func TestRequestsCreatedAfterIsExclusive(t *testing.T) {
	s, p := annaGranted(t)
	all, err := p.Requests(s.ctx, projection.RequestFilter{AccessPackageID: s.pkg}, projection.Now)
	require.NoError(t, err)
	require.Len(t, all, 1)
	h, err := p.RequestHistory(s.ctx, all[0].ID, projection.Now)
	require.NoError(t, err)
	require.Equal(t, entitlement.EventAssignmentRequestCreated, h.Events[0].EventType)
	created := h.Events[0].Position

	got, err := p.Requests(s.ctx, projection.RequestFilter{AccessPackageID: s.pkg, CreatedAfter: created - 1}, projection.Now)
	require.NoError(t, err)
	require.Len(t, got, 1, "created after the position before its creation")
	got, err = p.Requests(s.ctx, projection.RequestFilter{AccessPackageID: s.pkg, CreatedAfter: created}, projection.Now)
	require.NoError(t, err)
	require.Empty(t, got, "a request created at the position CreatedAfter names was created at it, not after it")
}

// TestAuditRecordedAfterIsExclusive: RecordedAfter leaves out the events
// at or before its position; with AsKnownAt, the entries between the two
// are exactly the events recorded after the one and up to the other.
func TestAuditRecordedAfterIsExclusive(t *testing.T) {
	s, p := annaGranted(t)
	all, err := p.AuditLog(s.ctx, projection.AuditFilter{})
	require.NoError(t, err)
	require.Greater(t, len(all), 6)
	from, to := eventstore.Position(3), eventstore.Position(6)
	got, err := p.AuditLog(s.ctx, projection.AuditFilter{RecordedAfter: from, AsKnownAt: to})
	require.NoError(t, err)
	var positions []eventstore.Position
	for _, e := range got {
		positions = append(positions, e.Position)
	}
	slices.Sort(positions)
	require.Equal(t, []eventstore.Position{4, 5, 6}, positions)
	got, err = p.AuditLog(s.ctx, projection.AuditFilter{RecordedAfter: from})
	require.NoError(t, err)
	require.Len(t, got, len(all)-int(from))
}

// TestAuditLogOrderedByActivityTime: an expiry recorded late (on the 12th,
// as of the 9th) comes before an entry recorded earlier, on the 10th:
// the audit log is in activity time order, not log order, also by target.
func TestAuditLogOrderedByActivityTime(t *testing.T) {
	s, _, owner := annaAndOwner(t)
	// An older accessledger did not record due expiries before a command.
	*s.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	renamed := appendOwnerRoleScope(t, s, owner)
	*s.now = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	_, err := s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()

	for _, f := range []projection.AuditFilter{{}, {TargetID: s.pkg}} {
		got, err := p.AuditLog(s.ctx, f)
		require.NoError(t, err)
		expiry, added := -1, -1
		for i, e := range got {
			if i > 0 {
				prev := got[i-1]
				require.True(t, prev.ActivityDateTime.Before(e.ActivityDateTime) ||
					prev.ActivityDateTime.Equal(e.ActivityDateTime) && prev.Position < e.Position,
					"filter %+v: %d (%s) listed before %d (%s)", f, prev.Position, prev.ActivityDateTime, e.Position, e.ActivityDateTime)
			}
			switch {
			case e.EventType == entitlement.EventAssignmentExpired:
				expiry = i
			case e.Position == renamed:
				added = i
			}
		}
		require.NotEqual(t, -1, expiry, "filter %+v: no expiry", f)
		require.NotEqual(t, -1, added, "filter %+v: no role scope added", f)
		require.Greater(t, got[expiry].Position, got[added].Position, "the expiry was recorded after the role scope was added")
		require.Less(t, expiry, added, "filter %+v: the expiry held before the role scope was added", f)
	}
}

// TestWhyCitesTheLastDelivery: an assignment reprocessed is granted its
// role again; Why as of after that cites the later grant (the last by
// then), as of before it the first.
func TestWhyCitesTheLastDelivery(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	_, err = s.grantAnna()
	require.NoError(t, err)
	between := s.now.Add(time.Hour)
	*s.now = s.now.Add(2 * time.Hour)
	a := s.m.State().MyAssignments(s.anna)[0]
	_, err = s.run(s.admin, entitlement.ReprocessAssignment{AssignmentID: a.ID})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()

	grants, err := p.AuditLog(s.ctx, projection.AuditFilter{TargetID: a.ID,
		Activity: entitlement.ActivityName(entitlement.EventResourceAssignmentFulfilled)})
	require.NoError(t, err)
	require.Len(t, grants, 2, "granted, then granted again")
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	byAs := map[projection.As]projection.Explanation{}
	for as, want := range map[projection.As]eventstore.Position{
		projection.Now: grants[1].Position,
		{Of: between}:  grants[0].Position,
	} {
		x, err := p.Why(s.ctx, annaID, member, as)
		require.NoError(t, err)
		require.Len(t, x.Causes, 1)
		require.Equal(t, want, x.Causes[0].Delivered.Position, "as of %+v", as)
		require.NoError(t, x.Check(s.ctx, s.log, nil))
		byAs[as] = x
	}
	// Citing the first grant for the present, when the log holds a later
	// one, does not check (found by a mutation review).
	now := byAs[projection.Now]
	now.Causes = []projection.Cause{now.Causes[0]}
	now.Causes[0].Delivered = byAs[projection.As{Of: between}].Causes[0].Delivered
	require.ErrorIs(t, now.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)

	// Nor does the true explanation once an event of the assignment's
	// stream it does not cite (the first grant) is changed in place.
	changeInPlace(t, s.log.Path(), grants[0].Position)
	require.ErrorIs(t, byAs[projection.Now].Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)
}

// TestLateExpiryAtTheInstantOfALaterVersion: as TestLateExpiryRewritesLaterVersions,
// but the Owner role was added at the very instant the assignment ended
// (9 March, 10:00) and delivered on the 10th; the expiry, recorded on the
// 12th, is valid from that same instant. It rewrites the version that
// began then (replaces it) and the later one, and leaves the one before.
func TestLateExpiryAtTheInstantOfALaterVersion(t *testing.T) {
	s, _, owner := annaAndOwner(t)
	end := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	*s.now = end
	appendOwnerRoleScope(t, s, owner)
	*s.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	_, err := s.m.DeliverPending(s.ctx) // reads the event appended
	require.NoError(t, err)
	asg, before := recordOwnerGrantAndExpire(t, s, owner)

	p := caughtUpInPairs(t, s)

	tenth := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	held, err := p.ResourceRolesOf(s.ctx, annaID, projection.As{Of: tenth, KnownAt: before})
	require.NoError(t, err)
	require.Len(t, held, 2, "as believed before the expiry was recorded, Anna held Member and Owner on the 10th")
	for _, of := range []time.Time{end, tenth} {
		a, err := p.Assignment(s.ctx, asg, projection.As{Of: of})
		require.NoError(t, err)
		require.Equal(t, entitlement.AssignmentStateExpired, a.State, "as of %s", of)
		require.Len(t, a.Resources, 2, "as of %s", of)
		held, err := p.ResourceRolesOf(s.ctx, annaID, projection.As{Of: of})
		require.NoError(t, err)
		require.Empty(t, held, "as of %s", of)
	}
	a, err := p.Assignment(s.ctx, asg, projection.As{Of: end.Add(-time.Nanosecond)})
	require.NoError(t, err)
	require.Equal(t, entitlement.AssignmentStateDelivered, a.State)
	require.Len(t, a.Resources, 1, "the Owner role was added at the end, not before")
}

// TestCatchUpToShowsTheCommand: CatchUpTo the last position of a command
// one event past the checkpoint applies that event (read-your-writes).
func TestCatchUpToShowsTheCommand(t *testing.T) {
	s, p := annaGranted(t)
	res, err := s.run(entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: annaID, Name: "displayName", Value: "Anna K"})
	require.NoError(t, err)
	require.Len(t, res.Events, 1)
	cp, err := p.CatchUpTo(s.ctx, res.LastPosition())
	require.NoError(t, err)
	require.Equal(t, res.LastPosition(), cp.Position)
	u, err := p.User(s.ctx, annaID, projection.Now)
	require.NoError(t, err)
	require.Equal(t, "Anna K", u.DisplayName)
}

// TestDisplayNamesKnownAtTheRename: as known at the position that renamed
// a user, the user has the new name; as known just before it, the old.
func TestDisplayNamesKnownAtTheRename(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	*s.now = s.now.Add(time.Hour)
	res, err := s.run(entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: annaID, Name: "displayName", Value: "Anna K"})
	require.NoError(t, err)
	renamed := res.LastPosition()
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	for as, want := range map[projection.As]string{
		{KnownAt: renamed}:                              "Anna K",
		{KnownAt: renamed - 1}:                          "Anna",
		{Of: *s.now, KnownAt: renamed}:                  "Anna K",
		{Of: s.now.Add(-time.Minute), KnownAt: renamed}: "Anna",
	} {
		names, err := p.DisplayNames(s.ctx, []string{annaID}, as)
		require.NoError(t, err)
		require.Equal(t, map[string]string{annaID: want}, names, "as of %+v", as)
	}
}

// TestWhyKnownBeforeTheExtension: as known before the update request that
// extended it was recorded, the assignment is explained without the
// extension, even as of an instant after the extension's.
func TestWhyKnownBeforeTheExtension(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	granted, err := s.grantAnna()
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	a := s.m.State().MyAssignments(s.anna)[0]
	_, err = s.run(s.admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminUpdate, AssignmentID: a.ID})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	sixth := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)

	now, err := p.Why(s.ctx, annaID, member, projection.As{Of: sixth})
	require.NoError(t, err)
	require.Len(t, now.Causes, 1)
	require.Len(t, now.Causes[0].Extensions, 1, "as known now, extended on the 5th")
	then, err := p.Why(s.ctx, annaID, member, projection.As{Of: sixth, KnownAt: granted.LastPosition()})
	require.NoError(t, err)
	require.Len(t, then.Causes, 1)
	require.Empty(t, then.Causes[0].Extensions, "as known before the extension was recorded")
}
