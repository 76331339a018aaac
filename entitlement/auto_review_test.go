package entitlement

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A user who stops matching an automatic assignment policy (no grace
// period) while their assignment is still being delivered: removed at
// once, the assignment left its systemAdd request in delivering for good,
// which blocked deleting the policy. The removal now waits for the
// delivery, as an expiry does, and keeps its instant. (Found by a review of
// automatic assignment.)
func TestAutoRemovalWaitsForDelivery(t *testing.T) {
	w, _ := autoWorld(t)
	bd := &blockingDeliverer{subject: w.uid["alice"], entered: make(chan struct{}), release: make(chan struct{})}
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, Deliverer: bd})
	require.NoError(t, err)
	iga := w.actors["IGA"]
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Millisecond)
	res, err := m.Execute(ctx, iga, CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	cancel()
	require.NoError(t, err)
	pol := res.ID
	var addReq, asg string
	m.Read(func(s *State) {
		id, ok := s.liveAssignmentOf(w.uid["alice"], w.id["P3"])
		require.True(t, ok)
		a, _ := s.assignments.Get(id)
		require.Equal(t, AssignmentStateDelivering, a.State)
		asg, addReq = id, a.RequestID
	})
	w.clock.t = w.clock.t.Add(time.Minute)
	left := w.clock.t
	_, err = m.Execute(w.ctx, sys, SetUserAttribute{UserID: w.uid["alice"], Name: "department", Value: "Marketing"})
	require.NoError(t, err)
	read := func() (a Assignment, r AssignmentRequest) {
		m.Read(func(s *State) {
			a = cloneAssignment(*at(&s.assignments, asg))
			r = cloneRequest(*at(&s.requests, addReq))
		})
		return a, r
	}
	a, _ := read()
	require.Equal(t, AssignmentStateDelivering, a.State, "not removed while being delivered")
	require.Equal(t, left, *a.AutomaticRemovalDateTime)

	close(bd.release)
	w.clock.t = w.clock.t.Add(time.Minute)
	_, err = m.DeliverPending(w.ctx)
	require.NoError(t, err)
	a, r := read()
	require.Equal(t, RequestStateDelivered, r.State, "the add request completes")
	require.Equal(t, AssignmentStateDelivered, a.State)
	_, err = m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	a, _ = read()
	require.Equal(t, AssignmentStateExpired, a.State)
	require.Equal(t, left, *a.ExpiredDateTime, "removed as of the instant it was due")
	w.clock.t = w.clock.t.Add(time.Minute)
	_, err = m.Execute(w.ctx, iga, DeleteAssignmentPolicy{PolicyID: pol})
	require.NoError(t, err, "deleting the automatic assignment policy")
	m2, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, NoSnapshot: true})
	require.NoError(t, err)
	requireSameState(t, m.State(), m2.State())
}

// Group G1 is a resource of catalog C (package P3) and of catalog E
// (package PE), with ids of its own in each. Alice holds both packages;
// ending PE took her out of G1, which P3 still grants (§2.5, invariant
// 35): roles are kept by their origin, not their catalog's ids. (Found by
// a review of catalog resources.)
func TestSameGroupInTwoCatalogsKeptWhileGranted(t *testing.T) {
	w, fd := autoWorld(t)
	ga := w.actors["GA"]
	w.do(ga, CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["E"],
		Resource: ResourceSpec{OriginID: w.id["G1"], OriginSystem: OriginSystemAadGroup}})
	resE := w.resourceByOrigin(w.id["E"], w.id["G1"])
	w.id["PE"] = w.do(ga, CreateAccessPackage{CatalogID: w.id["E"], DisplayName: "PE"}).ID
	w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["PE"], RoleID: resE.Roles[0].ID, ScopeID: resE.Scopes[0].ID})
	pe := requestPolicy(w.id["PE"], "Open E")
	pe.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
	w.id["PolE"] = w.do(ga, CreateAssignmentPolicy{Policy: pe}).ID

	w.do(w.actors["IGA"], CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], Duration{})})
	require.NotNil(t, w.autoHolder("alice", "P3"))
	w.request("alice", "PE", "PolE")
	asgE := w.autoHolder("alice", "PE")
	require.NotNil(t, asgE)
	require.Equal(t, AssignmentStateDelivered, asgE.State)

	fd.calls = nil
	w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asgE.ID})
	// Both role scopes name the same group membership (Member_<G1>).
	for _, c := range fd.calls {
		require.NotContains(t, c, "revoke", "alice taken out of group G1 although P3 still grants its Member role: %v", fd.calls)
	}
	requireSameState(t, w.state(), w.replayed())
}
