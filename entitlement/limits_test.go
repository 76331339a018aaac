package entitlement

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests of this file come from an audit of the service limits (§1.18)
// against the code (1 Dec 2026): each limit at its boundary, and a limit
// that requests approved later could pass.

// fillerAssignment is the i-th of the delivered assignments that bring a
// state to a limit without commands.
func fillerAssignment(pkg string, i int) *Assignment {
	return &Assignment{ID: nameID(fmt.Sprintf("filler/asg/%s/%d", pkg, i)), State: AssignmentStateDelivered, Status: AssignmentStatusDelivered,
		AccessPackageID: pkg, AssignmentPolicyID: nameID("filler/pol"), TargetID: nameID(fmt.Sprintf("filler/user/%d", i)),
		Schedule: EntitlementManagementSchedule{StartDateTime: t0}}
}

// Requests made under a package's limit of assignments could all be
// approved, and take it past the limit: the last approval is refused.
func TestPackageLimitHoldsAtApproval(t *testing.T) {
	w, _ := accessWorld(t)
	polID := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: approvalPolicy(w.id["P2"], "P2 with approval", w.uid["carol"])}).ID
	s := w.state().Clone()
	now := w.clock.t.Add(time.Hour)
	for i := s.nonEndedAssignments(w.id["P2"]); i < MaxAssignmentsPerPackage-1; i++ {
		s.putAssignment(fillerAssignment(w.id["P2"], i))
	}
	ids := SeededIDs(99)
	apply := func(evs []Event) {
		for _, e := range evs {
			require.NoError(t, s.Apply(e))
		}
	}
	var reqs []string
	for _, who := range []string{"alice", "erin"} {
		evs, err := Decide(s, w.actors[who], now, ids, addReq(w.id["P2"], polID))
		require.NoError(t, err, who)
		apply(evs)
		for _, e := range evs {
			if d, ok := e.Data.(*AssignmentRequestPayload); ok {
				reqs = append(reqs, d.Request.ID)
			}
		}
	}
	require.Len(t, reqs, 2)
	approve := func(id string) error {
		r, _ := s.requests.Get(id)
		evs, err := Decide(s, w.actors["bob"], now, ids, UpdateApprovalStage{ApprovalID: id, StageID: r.Stages[0].ID,
			ReviewResult: DecisionApprove, Justification: "ok"})
		apply(evs)
		return err
	}
	require.NoError(t, approve(reqs[0]))
	require.Equal(t, MaxAssignmentsPerPackage, s.nonEndedAssignments(w.id["P2"]))
	err := approve(reqs[1])
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), "at most 10000 assignments")
	require.Equal(t, MaxAssignmentsPerPackage, s.nonEndedAssignments(w.id["P2"]))
}

func TestTenantAssignmentLimitBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a tenant with 100,000 assignments")
	}
	w, _ := accessWorld(t)
	s := w.state().Clone()
	now := w.clock.t.Add(time.Hour)
	for i := s.ix.live; i < MaxAssignments-1; i++ {
		s.putAssignment(fillerAssignment(nameID(fmt.Sprintf("filler/pkg/%d", i%20)), i))
	}
	_, err := Decide(s, w.actors["erin"], now, SeededIDs(77), addReq(w.id["P2"], w.id["Pol2"]))
	require.NoError(t, err, "one below the limit")
	s.putAssignment(fillerAssignment(nameID("filler/pkg/last"), MaxAssignments))
	_, err = Decide(s, w.actors["erin"], now, SeededIDs(78), addReq(w.id["P2"], w.id["Pol2"]))
	requireKind(t, err, ErrLimit)
}

func TestConnectedOrganizationLimitBoundary(t *testing.T) {
	w := adminWorld(t)
	s := w.state().Clone()
	for i := s.connectedOrganizations.Len(); i < MaxConnectedOrganizations-1; i++ {
		s.putOrganization(&ConnectedOrganization{ID: nameID("filler/org/" + itoa(i)), DisplayName: "Filler", State: ConnectedOrganizationConfigured})
	}
	create := CreateConnectedOrganization{DisplayName: "One more"}
	_, err := Decide(s, w.actors["GA"], t0, SeededIDs(7), create)
	require.NoError(t, err, "one below the limit")
	s.putOrganization(&ConnectedOrganization{ID: nameID("filler/org/last"), DisplayName: "Filler", State: ConnectedOrganizationConfigured})
	_, err = Decide(s, w.actors["GA"], t0, SeededIDs(8), create)
	requireKind(t, err, ErrLimit)
}

func TestTenantAccessPackageLimitBoundary(t *testing.T) {
	w := adminWorld(t)
	s := w.state().Clone()
	for i := s.accessPackages.Len(); i < MaxAccessPackages-1; i++ {
		s.putPackage(&AccessPackage{ID: nameID("filler/pkg/" + itoa(i)), CatalogID: nameID("filler/cat/" + itoa(i%100)), DisplayName: "Filler"})
	}
	create := CreateAccessPackage{CatalogID: w.id["E"], DisplayName: "One more"}
	_, err := Decide(s, w.actors["GA"], t0, SeededIDs(7), create)
	require.NoError(t, err, "one below the limit")
	s.putPackage(&AccessPackage{ID: nameID("filler/pkg/last"), CatalogID: nameID("filler/cat/last"), DisplayName: "Filler"})
	_, err = Decide(s, w.actors["GA"], t0, SeededIDs(8), create)
	requireKind(t, err, ErrLimit)
}
