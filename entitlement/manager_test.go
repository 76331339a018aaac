package entitlement

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestExecuteIdempotentWithCommandID(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	r1, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Once"}, WithCommandID("create-once"), WithCorrelationID("corr-1"))
	require.NoError(t, err)
	require.False(t, r1.Duplicate)
	require.Equal(t, "corr-1", r1.Events[0].Metadata.CorrelationID)
	require.Equal(t, "create-once", r1.Events[0].Metadata.CommandID)
	h := w.head()
	r2, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Once"}, WithCommandID("create-once"))
	require.NoError(t, err)
	require.True(t, r2.Duplicate)
	require.Equal(t, r1.Events, r2.Events)
	require.Equal(t, r1.ID, r2.ID)
	require.Equal(t, h, w.head())
	// Also after a restart.
	m2, err := NewManager(w.ctx, w.store, Options{Clock: w.clock})
	require.NoError(t, err)
	r3, err := m2.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Once"}, WithCommandID("create-once"))
	require.NoError(t, err)
	require.True(t, r3.Duplicate)
	require.Equal(t, r1.ID, r3.ID)
	require.Len(t, m2.State().ListCatalogs(ga), 2)
}

func TestExecuteRetriesOnConflict(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	clock := &testClock{t: t0}
	a, err := NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(1)})
	require.NoError(t, err)
	b, err := NewManager(ctx, st, Options{Clock: clock, IDs: SeededIDs(2)})
	require.NoError(t, err)
	ga := UserActor(nameID("user/ga"), GlobalAdministrator)
	_, err = a.Execute(ctx, ga, CreateCatalog{DisplayName: "From A"})
	require.NoError(t, err)
	// b has not seen a's catalog; its append conflicts, it catches up and retries.
	r, err := b.Execute(ctx, ga, CreateCatalog{DisplayName: "From B"})
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(3), r.Events[0].Position)
	require.Len(t, b.State().ListCatalogs(ga), 3)
	require.NoError(t, a.CatchUp(ctx))
	requireSameState(t, b.State(), a.State())
	require.Equal(t, a.Head(), b.Head())
}

func TestExecuteConcurrently(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "c" + itoa(i)})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Len(t, w.m.State().ListCatalogs(ga), 9)
	requireSameState(t, w.replayed(), w.m.State())
}

func TestRefusedCommandAppendsNothing(t *testing.T) {
	w := newWorld(t)
	h := w.head()
	_, err := w.m.Execute(w.ctx, w.user("bob"), CreateCatalog{DisplayName: "x"})
	requireKind(t, err, ErrForbidden)
	require.Equal(t, h.Position+1, w.head().Position) // only bob's PutUser
	_, err = w.m.Execute(w.ctx, sys, nil)
	requireKind(t, err, ErrInvalid)
}

func TestEveryEventTypeHasActivityAndPayload(t *testing.T) {
	for _, typ := range EventTypes() {
		require.NotEmpty(t, ActivityName(typ), typ)
	}
	require.Empty(t, ActivityName("noSuchEvent"))
	_, err := DecodeEvent(eventstore.Event{Type: "noSuchEvent"})
	require.Error(t, err)
}

// TestDecodeEventIsStrict holds DecodeEvent to what its doc comment says
// of JSON v2: exact member names, no name twice.
func TestDecodeEventIsStrict(t *testing.T) {
	decode := func(payload string) (Event, error) {
		return DecodeEvent(eventstore.Event{Type: EventCatalogDeleted, Position: 7, Payload: []byte(payload)})
	}
	e, err := decode(`{"id":"c1"}`)
	require.NoError(t, err)
	require.Equal(t, &ObjectRef{ID: "c1"}, e.Data)
	e, err = decode(`{"ID":"c1"}`)
	require.NoError(t, err)
	require.Equal(t, &ObjectRef{}, e.Data, "a member named in another case is not the field")
	_, err = decode(`{"id":"c1","id":"c2"}`)
	require.ErrorContains(t, err, "position 7")
}

func TestDecideIsPure(t *testing.T) {
	w := adminWorld(t)
	s := w.state()
	before := s.Clone()
	evs, err := Decide(s, w.actors["GA"], t0, SeededIDs(9), DeleteAccessPackage{AccessPackageID: w.id["P2"]})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	requireSameState(t, before, s)
}

// TestProgrammaticAdministration follows the seed scenario: an application
// with application permissions manages catalogs, packages and policies but
// not resources; an application scoped to one catalog through the catalog
// owner or reader role works within that catalog only.
func TestProgrammaticAdministration(t *testing.T) {
	w := adminWorld(t)
	rw := w.actors["appReadWrite"]
	cat := w.do(rw, CreateCatalog{DisplayName: "Automated"}).ID
	pkg := w.do(rw, CreateAccessPackage{CatalogID: cat, DisplayName: "Automated package"}).ID
	w.do(rw, CreateAssignmentPolicy{Policy: requestPolicy(pkg, "Automated policy")})
	_, err := w.try(rw, addGroup(w.id["C"], w.id["G2"]))
	requireKind(t, err, ErrForbidden)
	// As creator it owns its own catalog, and with rights over the group
	// it may add it there.
	w.do(rw, addGroup(cat, w.id["G2"]))

	ga := w.actors["GA"]
	scoped := w.app("scopedOwner")
	scopedReader := w.app("scopedReader")
	w.do(ga, CreateRoleAssignment{PrincipalID: scoped.ID, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["D"])})
	w.do(ga, CreateRoleAssignment{PrincipalID: scopedReader.ID, RoleDefinitionID: RoleCatalogReader, AppScopeID: CatalogScope(w.id["D"])})
	w.do(scoped, CreateAccessPackage{CatalogID: w.id["D"], DisplayName: "In D"})
	_, err = w.try(scoped, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "In C"})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(scopedReader, CreateAccessPackage{CatalogID: w.id["D"], DisplayName: "Reader"})
	requireKind(t, err, ErrForbidden)
	pkgs, err := w.state().ListAccessPackages(scopedReader, w.id["D"])
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	_, err = w.state().ListAccessPackages(scopedReader, w.id["C"])
	requireKind(t, err, ErrForbidden)
}

func TestApplyRejectsBadPayloads(t *testing.T) {
	s := NewState()
	require.Error(t, s.Apply(Event{Type: EventCatalogCreated}))
	require.Error(t, s.Apply(Event{Type: EventCatalogCreated, Data: (*CatalogCreated)(nil)}))
	require.Error(t, s.Apply(Event{Type: EventCatalogCreated, Data: CatalogCreated{}}))
	require.Error(t, s.Apply(Event{Type: "x", Data: new(int)}))
	require.Error(t, s.Apply(Event{Type: EventCatalogCreated, Data: &UserPayload{}}))
	requireSameState(t, NewState(), s)
}

// TestRepeatedIDsAreSkipped: two managers on one log whose id sources
// share a seed would hand out the same ids; deciding skips ids in use.
func TestRepeatedIDsAreSkipped(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	a, err := NewManager(ctx, st, Options{IDs: SeededIDs(5)})
	require.NoError(t, err)
	b, err := NewManager(ctx, st, Options{IDs: SeededIDs(5)})
	require.NoError(t, err)
	ga := UserActor(nameID("user/ga"), GlobalAdministrator)
	r1, err := a.Execute(ctx, ga, CreateCatalog{DisplayName: "A"})
	require.NoError(t, err)
	r2, err := b.Execute(ctx, ga, CreateCatalog{DisplayName: "B"})
	require.NoError(t, err)
	require.NotEqual(t, r1.ID, r2.ID)
	require.Len(t, b.State().ListCatalogs(ga), 3)

	// A source stuck on one id still yields fresh ones.
	stuck := IDFunc(func() uuid.UUID { return uuid.MustParse(r1.ID) })
	evs, err := Decide(b.State(), ga, t0, stuck, CreateCatalog{DisplayName: "C"})
	require.NoError(t, err)
	require.NotEqual(t, r1.ID, evs[0].Data.(*CatalogCreated).Catalog.ID)
}

// TestCommandDigestOfARetry: a retry is the same command when its actor
// lists its roles in another order or its instants are in another zone
// (found by a review: both were refused as another command); ProcessDue
// under a used id with another until is another command (it returned the
// first call's result, processing nothing); and a log written before the
// digest took those forms still recognises a retry of its commands.
func TestCommandDigestOfARetry(t *testing.T) {
	w := newWorld(t)
	roles := UserActor(w.user("ga", GlobalAdministrator).ID, GlobalAdministrator, IdentityGovernanceAdministrator)
	swapped := roles
	swapped.DirectoryRoles = []DirectoryRole{IdentityGovernanceAdministrator, GlobalAdministrator}
	first, err := w.m.Execute(w.ctx, roles, CreateCatalog{DisplayName: "R"}, WithCommandID("r"))
	require.NoError(t, err)
	again, err := w.m.Execute(w.ctx, swapped, CreateCatalog{DisplayName: "R"}, WithCommandID("r"))
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, first.ID, again.ID)

	end := w.clock.Now().Add(30 * 24 * time.Hour).UTC()
	pkg := w.do(roles, CreateAccessPackage{CatalogID: first.ID, DisplayName: "P"}).ID
	policy := func(end time.Time) CreateAssignmentPolicy {
		return CreateAssignmentPolicy{Policy: AssignmentPolicy{AccessPackageID: pkg, DisplayName: "Until the end",
			AllowedTargetScope: ScopeAllMemberUsers, RequestorSettings: RequestorSettings{EnableTargetsToSelfAddAccess: true},
			Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: end}}}
	}
	p1, err := w.m.Execute(w.ctx, roles, policy(end), WithCommandID("policy"))
	require.NoError(t, err)
	p2, err := w.m.Execute(w.ctx, roles, policy(end.In(time.FixedZone("CET", 3600))), WithCommandID("policy"))
	require.NoError(t, err)
	require.True(t, p2.Duplicate)
	require.Equal(t, p1.ID, p2.ID)

	w.do(w.user("u"), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: p1.ID})
	// Text that looks like an instant is not an instant (found by a
	// review: these names were one command).
	_, err = w.m.Execute(w.ctx, roles, CreateCatalog{DisplayName: "2026-01-01T00:00:00+01:00"}, WithCommandID("named"))
	require.NoError(t, err)
	_, err = w.m.Execute(w.ctx, roles, CreateCatalog{DisplayName: "2025-12-31T23:00:00Z"}, WithCommandID("named"))
	requireKind(t, err, ErrConflict)
	// Roles named twice are the same roles.
	twice := roles
	twice.DirectoryRoles = []DirectoryRole{GlobalAdministrator, GlobalAdministrator, IdentityGovernanceAdministrator}
	require.True(t, slices.IsSorted(twice.DirectoryRoles), "sorted, with a duplicate (the case the earlier digest missed)")
	again, err = w.m.Execute(w.ctx, twice, CreateCatalog{DisplayName: "R"}, WithCommandID("r"))
	require.NoError(t, err)
	require.True(t, again.Duplicate)

	w.clock.t = end.Add(time.Hour)
	now := w.clock.Now()
	due, err := w.m.ProcessDue(w.ctx, now, WithCommandID("tick"))
	require.NoError(t, err)
	require.NotEmpty(t, due.Events, "the assignment expired")
	h := w.head()
	_, err = w.m.ProcessDue(w.ctx, now.Add(-time.Hour), WithCommandID("tick"))
	requireKind(t, err, ErrConflict)
	require.Equal(t, h, w.head())
	repeat, err := w.m.ProcessDue(w.ctx, now.In(time.FixedZone("CET", 3600)), WithCommandID("tick"))
	require.NoError(t, err)
	require.True(t, repeat.Duplicate)

	// A log whose commands carry the earlier digest.
	legacy := memstore.New(memstore.Options{})
	for e, err := range w.store.ReadAll(w.ctx, 0) {
		require.NoError(t, err)
		md := e.Metadata
		switch md.CommandID {
		case "r":
			md.CommandDigest = legacyDigest(CreateCatalog{DisplayName: "R"}, swapped)
			require.NotEqual(t, e.Metadata.CommandDigest, md.CommandDigest)
		case "tick":
			md.CommandDigest = legacyDigest(AdvanceTime{}, SystemActor())
		}
		_, err = legacy.Append(w.ctx, eventstore.Condition{}, eventstore.NewEvent{ID: e.ID, Stream: e.Stream, Type: e.Type,
			SchemaVersion: e.SchemaVersion, OccurredAt: e.OccurredAt, Metadata: md, Payload: e.Payload})
		require.NoError(t, err)
	}
	m, err := NewManager(w.ctx, legacy, Options{Clock: w.clock})
	require.NoError(t, err)
	old, err := m.Execute(w.ctx, swapped, CreateCatalog{DisplayName: "R"}, WithCommandID("r"))
	require.NoError(t, err)
	require.True(t, old.Duplicate)
	_, err = m.Execute(w.ctx, roles, CreateCatalog{DisplayName: "S"}, WithCommandID("r"))
	requireKind(t, err, ErrConflict)
	// Its ProcessDue, whose digest did not hold until: told apart by the
	// time its events carry.
	_, err = m.ProcessDue(w.ctx, now.Add(-time.Hour), WithCommandID("tick"))
	requireKind(t, err, ErrConflict)
	repeat, err = m.ProcessDue(w.ctx, now, WithCommandID("tick"))
	require.NoError(t, err)
	require.True(t, repeat.Duplicate)
}
