package projection_test

import (
	"context"
	"database/sql"
	"iter"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
	"github.com/stretchr/testify/require"
)

// TestAuditLog checks the audit log's rows: Entra's activity names and
// categories, the actor's display name as it was then, targets, modified
// properties with old and new values, the valid time of a late expiry,
// and every filter.
func TestAuditLog(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	granted, err := s.grantAnna()
	require.NoError(t, err)
	renamed := "Sales tools (EMEA)"
	_, err = s.run(s.admin, entitlement.UpdateAccessPackage{AccessPackageID: s.pkg, DisplayName: &renamed})
	require.NoError(t, err)
	_, err = s.run(entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: markID, Name: "displayName", Value: "Mark Smith"})
	require.NoError(t, err)
	tenDays := entitlement.DurationDays(10)
	_, err = s.run(s.admin, entitlement.UpdateSettings{DurationUntilExternalUserDeletedAfterBlocked: &tenDays})
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	_, err = s.m.ProcessDue(s.ctx, *s.now)
	require.NoError(t, err)

	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{BatchSize: 3})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)

	all, err := p.AuditLog(s.ctx, projection.AuditFilter{})
	require.NoError(t, err)
	head, err := s.log.Head(s.ctx)
	require.NoError(t, err)
	require.Len(t, all, int(head.Position), "one entry per event")
	for i, e := range all {
		require.NotEmpty(t, e.Activity, "%s has no activity name", e.EventType)
		require.Equal(t, entitlement.ActivityName(e.EventType), e.Activity)
		if i > 0 {
			require.False(t, e.ActivityDateTime.Before(all[i-1].ActivityDateTime), "not in activity time order")
		}
	}

	// Mark's approval names him as he was called then.
	approvals, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: "Approve access package assignment request"})
	require.NoError(t, err)
	require.Len(t, approvals, 1)
	a := approvals[0]
	require.Equal(t, projection.Initiator{ID: markID, Kind: string(entitlement.ActorUser), DisplayName: "Mark"}, a.InitiatedBy)
	require.Equal(t, projection.CategoryEntitlementManagement, a.Category)
	require.Equal(t, projection.ResultSuccess, a.Result)
	require.Contains(t, a.TargetResources, projection.Target{Type: "User", ID: annaID, DisplayName: "Anna"})
	require.Contains(t, a.TargetResources, projection.Target{Type: "AccessPackage", ID: s.pkg, DisplayName: "Sales tools"})
	require.Contains(t, a.ModifiedProperties, projection.ModifiedProperty{DisplayName: "justification", NewValue: `"Welcome"`})
	// A request's change of state lists its state and status, old and new
	// (review: none were listed).
	fulfilled, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: entitlement.ActivityName(entitlement.EventAssignmentRequestFulfilled)})
	require.NoError(t, err)
	require.NotEmpty(t, fulfilled)
	require.Contains(t, fulfilled[0].ModifiedProperties, projection.ModifiedProperty{DisplayName: "state",
		OldValue: `"delivering"`, NewValue: `"delivered"`})

	// The rename: old and new values; later entries name the new name.
	updates, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: entitlement.ActivityName(entitlement.EventAccessPackageUpdated)})
	require.NoError(t, err)
	require.Len(t, updates, 2, "the role scope added and the rename")
	require.Equal(t, entitlement.EventAccessPackageUpdated, updates[1].EventType)
	require.Contains(t, updates[1].ModifiedProperties, projection.ModifiedProperty{DisplayName: "displayName",
		OldValue: `"Sales tools"`, NewValue: `"Sales tools (EMEA)"`})
	renames, err := p.AuditLog(s.ctx, projection.AuditFilter{ActorID: entitlement.SystemActor().ID, TargetID: markID})
	require.NoError(t, err)
	require.NotEmpty(t, renames)
	last := renames[len(renames)-1]
	require.Equal(t, projection.CategoryUserManagement, last.Category)
	require.Equal(t, []projection.ModifiedProperty{{DisplayName: "displayName", OldValue: `"Mark"`, NewValue: `"Mark Smith"`}}, last.ModifiedProperties)

	// The first change of the settings is a change from the defaults
	// (found by a review: every setting was listed, from "").
	changed, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: entitlement.ActivityName(entitlement.EventSettingsUpdated)})
	require.NoError(t, err)
	require.Len(t, changed, 1)
	require.Equal(t, []projection.ModifiedProperty{{DisplayName: "durationUntilExternalUserDeletedAfterBlocked",
		OldValue: `"P30D"`, NewValue: `"P10D"`}}, changed[0].ModifiedProperties)

	// The expiry held at the assignment's end, recorded three days later.
	expiries, err := p.AuditLog(s.ctx, projection.AuditFilter{Activity: "Remove access package assignment"})
	require.NoError(t, err)
	require.Len(t, expiries, 1)
	end := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	require.Equal(t, end, expiries[0].ActivityDateTime)
	require.Equal(t, *s.now, expiries[0].OccurredAt)
	require.Contains(t, expiries[0].TargetResources, projection.Target{Type: "AccessPackage", ID: s.pkg, DisplayName: "Sales tools (EMEA)"})

	// Filters: time range, target, position, limit.
	before, err := p.AuditLog(s.ctx, projection.AuditFilter{To: end})
	require.NoError(t, err)
	from, err := p.AuditLog(s.ctx, projection.AuditFilter{From: end})
	require.NoError(t, err)
	require.Equal(t, len(all), len(before)+len(from))
	require.Equal(t, expiries[0].Position, from[0].Position)
	anna, err := p.AuditLog(s.ctx, projection.AuditFilter{TargetID: annaID})
	require.NoError(t, err)
	for _, e := range anna {
		found := false
		for _, t := range e.TargetResources {
			found = found || t.ID == annaID
		}
		require.True(t, found, "%s does not name Anna", e.Activity)
	}
	known, err := p.AuditLog(s.ctx, projection.AuditFilter{AsKnownAt: granted.LastPosition()})
	require.NoError(t, err)
	require.Len(t, known, int(granted.LastPosition()))
	limited, err := p.AuditLog(s.ctx, projection.AuditFilter{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, all[:2], limited)
	_, err = p.AuditLog(s.ctx, projection.AuditFilter{Limit: -1})
	require.ErrorIs(t, err, projection.ErrInvalidQuery, "as a negative Top is (review: it meant no bound)")
}

// TestFarInstants (found by a review as a new user): instants Go cannot
// hold as Unix nanoseconds, such as 9999-12-31, a common "end of time",
// are after everything the projection holds (and those before 1678
// before everything), instead of wrapping around into wrong answers.
func TestFarInstants(t *testing.T) {
	s, p := annaGranted(t)
	end := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	before := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	now, err := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, projection.Now)
	require.NoError(t, err)
	require.Len(t, now, 1)
	far, err := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, projection.As{Of: end})
	require.NoError(t, err)
	require.Equal(t, now, far)
	early, err := p.Holders(s.ctx, projection.HoldersFilter{Role: member}, projection.As{Of: before})
	require.NoError(t, err)
	require.Empty(t, early)
	_, err = p.User(s.ctx, annaID, projection.As{Of: end})
	require.NoError(t, err)

	all, err := p.AuditLog(s.ctx, projection.AuditFilter{})
	require.NoError(t, err)
	for _, f := range []projection.AuditFilter{{To: end}, {From: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}} {
		got, err := p.AuditLog(s.ctx, f)
		require.NoError(t, err)
		require.Len(t, got, len(all))
	}
	none, err := p.AuditLog(s.ctx, projection.AuditFilter{From: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Empty(t, none)
}

// TestAuditLogPages (found by a review as a new user): pages of the audit
// log continue after their last entry, even when many entries share one
// instant, and together hold every entry once.
func TestAuditLogPages(t *testing.T) {
	s, p := annaGranted(t)
	all, err := p.AuditLog(s.ctx, projection.AuditFilter{})
	require.NoError(t, err)
	require.Greater(t, len(all), 6)
	require.Equal(t, all, auditInPages(t, p, projection.AuditFilter{Limit: 4}))
	_, err = p.AuditLog(s.ctx, projection.AuditFilter{After: &projection.AuditEntry{Position: 1 << 40}})
	require.ErrorIs(t, err, projection.ErrInvalidQuery)
}

// auditInPages reads the audit log f selects in pages of f.Limit entries.
func auditInPages(t *testing.T, p *projection.Projector, f projection.AuditFilter) []projection.AuditEntry {
	t.Helper()
	var all []projection.AuditEntry
	for {
		page, err := p.AuditLog(context.Background(), f)
		require.NoError(t, err)
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		f.After = &page[len(page)-1]
	}
}

// TestAuditActorAsNamedWhenActing (found by a review as a new user): an
// administrator who renames themselves is the actor of that change under
// the name they had when they made it, as the entry's own modified
// properties say.
func TestAuditActorAsNamedWhenActing(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	before, err := s.m.State().GetUser(s.admin, adminID)
	require.NoError(t, err)
	_, err = s.run(s.admin, entitlement.SetUserAttribute{UserID: adminID, Name: "displayName", Value: "Root"})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	entries, err := p.AuditLog(s.ctx, projection.AuditFilter{ActorID: adminID})
	require.NoError(t, err)
	last := entries[len(entries)-1]
	require.Equal(t, entitlement.EventUserAttributeChanged, last.EventType)
	require.Equal(t, before.DisplayName, last.InitiatedBy.DisplayName)
}

// annaGranted is the sales example with Anna's access granted, and a
// projection of it caught up; both close with the test.
func annaGranted(t *testing.T) (*sales, *projection.Projector) {
	t.Helper()
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.log.Close() })
	_, err = s.grantAnna()
	require.NoError(t, err)
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	return s, p
}

// TestWhyNamesExtensions (found by a review as a new user): held past its
// first end because an update request extended it, an assignment is
// explained with that request, who made it and the event that applied
// it; before the extension, without it.
func TestWhyNamesExtensions(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	_, err = s.grantAnna()
	require.NoError(t, err)
	*s.now = time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	a := s.m.State().MyAssignments(s.anna)[0]
	ext, err := s.run(s.admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminUpdate, AssignmentID: a.ID})
	require.NoError(t, err)
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}

	x, err := p.Why(s.ctx, annaID, member, projection.As{Of: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, x.Causes, 1)
	require.Len(t, x.Causes[0].Extensions, 1)
	e := x.Causes[0].Extensions[0]
	require.Equal(t, ext.ID, e.Request.ID)
	require.Equal(t, entitlement.RequestTypeAdminUpdate, e.Request.RequestType)
	require.Equal(t, adminID, e.Requested.ActorID)
	require.Equal(t, entitlement.EventAssignmentExtended, e.Extended.EventType)
	require.Equal(t, *s.now, e.Extended.ActivityDateTime)
	require.NoError(t, x.Check(s.ctx, s.log, nil))

	before, err := p.Why(s.ctx, annaID, member, projection.As{Of: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, before.Causes, 1)
	require.Empty(t, before.Causes[0].Extensions)
}

// TestCheckCatchesAnEditedProjection (found by a review as a new user):
// the projection is a file anyone could edit; an explanation read from
// one whose decision was rewritten cites the right events, and Check
// still refuses it, because the events do not say what it says.
func TestCheckCatchesAnEditedProjection(t *testing.T) {
	s, p := annaGranted(t)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	as := projection.As{Of: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
	x := checkedCause(t, s, p, member, as)

	db, err := sql.Open("sqlite", projection.DefaultPath(s.log.Path()))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("UPDATE decisions SET justification = 'Forged'")
	require.NoError(t, err)
	forged, err := p.Why(s.ctx, annaID, member, as)
	require.NoError(t, err)
	require.Equal(t, "Forged", forged.Causes[0].Decisions[0].Justification)
	require.ErrorIs(t, forged.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)

	// A cited event changed in place in the log, its stored hash kept, no
	// longer matches its hash: the true explanation does not check either.
	changeInPlace(t, s.log.Path(), x.Causes[0].Decisions[0].Position)
	require.ErrorIs(t, x.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)
}

// TestCheckCatchesAForgedPolicy (found by a review as a new user): Check
// compared only the cited policy event's policy id, so an explanation
// read from a projection whose policy version or content was edited
// passed it. Anna asked under version 2.
func TestCheckCatchesAForgedPolicy(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	v2, err := s.m.State().GetAssignmentPolicy(s.admin, s.policy)
	require.NoError(t, err)
	v2.DisplayName = "Employees, renamed"
	_, err = s.run(s.admin, entitlement.ReplaceAssignmentPolicy{PolicyID: s.policy, Policy: v2})
	require.NoError(t, err)
	_, err = s.grantAnna()
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	why := func() projection.Explanation {
		x, err := p.Why(s.ctx, annaID, member, projection.Now)
		require.NoError(t, err)
		require.Len(t, x.Causes, 1)
		return x
	}
	x := why()
	require.Equal(t, 2, x.Causes[0].PolicyVersion)
	require.NoError(t, x.Check(s.ctx, s.log, nil))

	db, err := sql.Open("sqlite", projection.DefaultPath(s.log.Path()))
	require.NoError(t, err)
	defer db.Close()
	exec := func(stmt string) {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	exec(`UPDATE policy_versions SET data = json_set(data, '$.displayName', 'Forged') WHERE version = 2`)
	forged := why()
	require.Equal(t, "Forged", forged.Causes[0].Policy.DisplayName)
	require.ErrorIs(t, forged.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch, "another content")
	exec(`UPDATE policy_versions SET data = json_set(data, '$.displayName', 'Employees, renamed') WHERE version = 2`)
	require.NoError(t, why().Check(s.ctx, s.log, nil))

	exec(`UPDATE grants SET policy_version = 1`)
	exec(`UPDATE requests SET policy_version = 1`)
	forged = why()
	require.Equal(t, 1, forged.Causes[0].PolicyVersion)
	require.ErrorIs(t, forged.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch, "another version")
}

// TestRequestHistoryOfADeletedRequest (found by a review): the history of
// a request deleted since is its last version with its events, deletion
// included, as Why shows it; before it was made there is none.
func TestRequestHistoryOfADeletedRequest(t *testing.T) {
	s, err := newSales(t.TempDir())
	require.NoError(t, err)
	defer s.log.Close()
	before := *s.now
	head, err := s.log.Head(s.ctx)
	require.NoError(t, err)
	*s.now = s.now.Add(time.Hour)
	req, err := s.run(s.anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: s.pkg, AssignmentPolicyID: s.policy, Justification: "New in sales"})
	require.NoError(t, err)
	_, err = s.run(s.anna, entitlement.CancelAssignmentRequest{RequestID: req.ID})
	require.NoError(t, err)
	_, err = s.run(s.admin, entitlement.DeleteAssignmentRequest{RequestID: req.ID})
	require.NoError(t, err)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()

	h, err := p.RequestHistory(s.ctx, req.ID, projection.Now)
	require.NoError(t, err)
	require.Equal(t, req.ID, h.Request.ID)
	require.Equal(t, entitlement.RequestStateCanceled, h.Request.State)
	require.Equal(t, entitlement.EventAssignmentRequestDeleted, h.Events[len(h.Events)-1].EventType)
	_, err = p.RequestHistory(s.ctx, req.ID, projection.As{Of: before})
	require.ErrorIs(t, err, projection.ErrNotFound)
	_, err = p.RequestHistory(s.ctx, req.ID, projection.As{KnownAt: head.Position})
	require.ErrorIs(t, err, projection.ErrNotFound, "as known before the log recorded the request")
}

// TestCheckCatchesAHiddenEnd (found by an adversarial review): a
// projection edited to forget that an assignment ended said its user
// still held the role, and every event the explanation cited was in the
// log. Check now also reads what the log recorded about the assignment
// and its request by then: the end, and the decisions left out.
func TestCheckCatchesAHiddenEnd(t *testing.T) {
	s, p := annaGranted(t)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	a := s.m.State().MyAssignments(s.anna)[0]
	*s.now = time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)
	_, err := s.run(s.admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminRemove, AssignmentID: a.ID})
	require.NoError(t, err)
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	after := projection.As{Of: time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)}
	x, err := p.Why(s.ctx, annaID, member, after)
	require.NoError(t, err)
	require.Empty(t, x.Causes)
	before := projection.As{Of: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
	x = checkedCause(t, s, p, member, before)

	db, err := sql.Open("sqlite", projection.DefaultPath(s.log.Path()))
	require.NoError(t, err)
	defer db.Close()
	var oid int64
	require.NoError(t, db.QueryRow("SELECT oid FROM assignments WHERE id = ?", a.ID).Scan(&oid))
	for _, q := range []string{
		"DELETE FROM versions WHERE oid = ? AND valid_from >= ?",
		"UPDATE assignments SET ended_at = NULL, ended_known = NULL, state = 'delivered' WHERE oid = ? AND ? > 0",
		"UPDATE grants SET ended_at = NULL, ended_known = NULL WHERE oid = ? AND ? > 0",
	} {
		_, err = db.Exec(q, oid, s.now.UnixNano())
		require.NoError(t, err)
	}
	forged, err := p.Why(s.ctx, annaID, member, after)
	require.NoError(t, err)
	require.Len(t, forged.Causes, 1, "the edited projection says Anna still held the role")
	err = forged.Check(s.ctx, s.log, nil)
	require.ErrorIs(t, err, projection.ErrExplanationMismatch)
	require.ErrorContains(t, err, "records the end of assignment")

	// A decision the projection forgets is missed too.
	_, err = db.Exec("DELETE FROM decisions")
	require.NoError(t, err)
	forged, err = p.Why(s.ctx, annaID, member, before)
	require.NoError(t, err)
	require.Empty(t, forged.Causes[0].Decisions)
	err = forged.Check(s.ctx, s.log, nil)
	require.ErrorIs(t, err, projection.ErrExplanationMismatch)
	require.ErrorContains(t, err, "was decided at positions")

	// And so is a link left out.
	x.Causes[0].Delivered = projection.Link{}
	require.ErrorIs(t, x.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)
}

// TestUnknownRoleIsNotFound (found by a review as an embedder): a role
// named by the group's id, or by an id the projection never knew, was
// answered with nobody, and Check passed that empty explanation. Such a
// query is now ErrNotFound.
func TestUnknownRoleIsNotFound(t *testing.T) {
	s, p := annaGranted(t)
	now := projection.As{}
	for _, role := range []projection.RoleRef{
		{ResourceID: groupID, RoleID: s.member},
		{ResourceID: s.resource, RoleID: "Member_" + groupID},
		{ResourceID: s.resource, RoleID: s.member, ScopeID: "no-such-scope"},
	} {
		_, err := p.Holders(s.ctx, projection.HoldersFilter{Role: role}, now)
		require.ErrorIs(t, err, projection.ErrNotFound, "%+v", role)
		_, err = p.Why(s.ctx, annaID, role, now)
		require.ErrorIs(t, err, projection.ErrNotFound, "%+v", role)
	}
	for _, role := range []projection.RoleRef{{ResourceID: s.resource, RoleID: s.member}, {ResourceID: s.resource, RoleID: s.member, ScopeID: s.scopeID}} {
		hs, err := p.Holders(s.ctx, projection.HoldersFilter{Role: role}, now)
		require.NoError(t, err)
		require.Len(t, hs, 1)
	}
}

// TestCheckTiesTheCauseToItsAssignment (found by a mutation review): an
// explanation of Anna's Member role relabelled as one of the Owner role,
// which nobody held, checked; so did a cause stripped of its request,
// approval and policy, or missing one of its links. The role delivered
// must be the one asked about, and the request and policy those the
// assignment's creation names.
func TestCheckTiesTheCauseToItsAssignment(t *testing.T) {
	s, _, owner := annaAndOwner(t)
	p, err := s.caughtUp()
	require.NoError(t, err)
	defer p.Close()
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	x := checkedCause(t, s, p, member, projection.Now)
	require.NotEmpty(t, x.Causes[0].Decisions)
	forge := func(f func(*projection.Explanation, *projection.Cause)) error {
		y := x
		c := x.Causes[0]
		f(&y, &c)
		y.Causes = []projection.Cause{c}
		return y.Check(s.ctx, s.log, nil)
	}
	for name, f := range map[string]func(*projection.Explanation, *projection.Cause){
		"another role": func(y *projection.Explanation, c *projection.Cause) {
			y.Role.RoleID, c.Grant.RoleID = owner, owner
		},
		"no request, approval or policy": func(_ *projection.Explanation, c *projection.Cause) {
			c.Grant.RequestID, c.Request, c.Requested, c.Decisions = "", entitlement.AssignmentRequest{}, projection.Link{}, nil
			c.PolicyVersion, c.Policy, c.PolicyRecorded = 0, entitlement.AssignmentPolicy{}, projection.Link{}
		},
		"no request link": func(_ *projection.Explanation, c *projection.Cause) { c.Requested = projection.Link{} },
		"no policy link":  func(_ *projection.Explanation, c *projection.Cause) { c.PolicyRecorded = projection.Link{} },
		"no creation":     func(_ *projection.Explanation, c *projection.Cause) { c.Created = projection.Link{} },
	} {
		require.ErrorIs(t, forge(f), projection.ErrExplanationMismatch, name)
	}
}

// onlyReadAll hides a store's ReadStream: Check reads the log instead.
type onlyReadAll struct{ log projection.Log }

func (o onlyReadAll) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	return o.log.ReadAll(ctx, after)
}

// TestCheckAfterTheLogMovedOn (found by a mutation review): an
// explanation of the present is of the log as the projection had read it
// (ReadAt); it still checks once the log has recorded more, with or
// without ReadStream. Without ReadAt, the later removal counts.
func TestCheckAfterTheLogMovedOn(t *testing.T) {
	s, p := annaGranted(t)
	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	x, err := p.Why(s.ctx, annaID, member, projection.Now)
	require.NoError(t, err)
	require.Len(t, x.Causes, 1)
	a := s.m.State().MyAssignments(s.anna)[0]
	*s.now = s.now.Add(time.Hour)
	_, err = s.run(s.admin, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeAdminRemove, AssignmentID: a.ID})
	require.NoError(t, err)
	require.NoError(t, x.Check(s.ctx, s.log, nil))
	require.NoError(t, x.Check(s.ctx, onlyReadAll{s.log}, nil))
	x.ReadAt = 0
	require.ErrorIs(t, x.Check(s.ctx, s.log, nil), projection.ErrExplanationMismatch)
	require.ErrorIs(t, x.Check(s.ctx, onlyReadAll{s.log}, nil), projection.ErrExplanationMismatch)
}

// changeInPlace changes the payload of the log's event at pos behind the
// store's back, its stored hash kept.
func changeInPlace(t *testing.T, logPath string, pos eventstore.Position) {
	t.Helper()
	db, err := sql.Open("sqlite", logPath)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("DROP TRIGGER IF EXISTS events_no_update")
	require.NoError(t, err)
	_, err = db.Exec("UPDATE events SET payload = payload || ' ' WHERE position = ?", int64(pos))
	require.NoError(t, err)
}

// checkedCause asks why Anna held role as of as, and requires one cause
// that checks against the log.
func checkedCause(t *testing.T, s *sales, p *projection.Projector, role projection.RoleRef, as projection.As) projection.Explanation {
	t.Helper()
	x, err := p.Why(s.ctx, annaID, role, as)
	require.NoError(t, err)
	require.Len(t, x.Causes, 1)
	require.NoError(t, x.Check(s.ctx, s.log, nil))
	return x
}
