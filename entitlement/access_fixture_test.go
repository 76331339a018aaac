package entitlement

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeDeliverer records grants and fails those of chosen resources.
type fakeDeliverer struct {
	mu     sync.Mutex
	held   map[[2]string]bool // subject, role scope
	failOn map[string]bool    // resource origin ids whose grants fail
	calls  []string
}

func newFakeDeliverer() *fakeDeliverer {
	return &fakeDeliverer{held: map[[2]string]bool{}, failOn: map[string]bool{}}
}

func (f *fakeDeliverer) Grant(_ context.Context, g Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "grant "+g.SubjectID+" "+g.ResourceRoleScopeID)
	if f.failOn[g.OriginID] {
		return errFakeDelivery
	}
	f.held[[2]string{g.SubjectID, g.ResourceRoleScopeID}] = true
	return nil
}

func (f *fakeDeliverer) Revoke(_ context.Context, g Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "revoke "+g.SubjectID+" "+g.ResourceRoleScopeID)
	delete(f.held, [2]string{g.SubjectID, g.ResourceRoleScopeID})
	return nil
}

// heldBy returns the role scopes the fake holds for a subject, sorted.
func (f *fakeDeliverer) heldBy(subject string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.held {
		if k[0] == subject {
			out = append(out, k[1])
		}
	}
	sort.Strings(out)
	return out
}

type fakeErr string

func (e fakeErr) Error() string { return string(e) }

const errFakeDelivery = fakeErr("the resource refused the grant")

// accessWorld is adminWorld with a fake deliverer, requestors and a
// request policy with one approval stage on P1:
//
//   - alice and erin are members whose manager is bob; bob's manager is
//     carol; frank has no manager.
//   - Pol1 (on P1, catalog C) lets members ask, needs bob-style approval by
//     the requestor's manager (fallback carol) and lasts 30 days.
//   - P2 in C grants G3 and has a policy Pol2 without approval.
func accessWorld(t testing.TB) (*world, *fakeDeliverer) {
	t.Helper()
	return accessWorldOn(newWorld(t))
}

// accessWorldOn builds accessWorld's objects in w, with a new manager on
// w's store that delivers through a fake.
func accessWorldOn(w *world) (*world, *fakeDeliverer) {
	t := w.t
	t.Helper()
	fd := newFakeDeliverer()
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(2), EventIDs: seededEventIDs(2), Deliverer: fd,
		NewCommandID: func() string { w.n++; return "acmd-" + itoa(w.n) }})
	require.NoError(t, err)
	w.m = m
	buildAdminWorld(w)
	ga := w.actors["GA"]
	for _, n := range []string{"alice", "bob", "carol", "erin", "frank"} {
		w.user(n)
	}
	w.do(sys, SetManager{UserID: w.uid["alice"], ManagerID: w.uid["bob"]})
	w.do(sys, SetManager{UserID: w.uid["erin"], ManagerID: w.uid["bob"]})
	w.do(sys, SetManager{UserID: w.uid["bob"], ManagerID: w.uid["carol"]})
	pol := approvalPolicy(w.id["P1"], "Employees with approval", w.uid["carol"])
	w.id["PolA"] = w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	res := w.resourceByOrigin(w.id["C"], w.id["G3"])
	w.id["RS-P2"] = w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P2"], RoleID: res.Roles[0].ID, ScopeID: res.Scopes[0].ID}).ID
	p2 := requestPolicy(w.id["P2"], "Open")
	p2.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
	p2.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	p2.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	w.id["Pol2"] = w.do(ga, CreateAssignmentPolicy{Policy: p2}).ID
	return w, fd
}

// approvalPolicy is a member request policy with one stage approved by the
// requestor's manager (fallback: the given user), lasting 30 days.
func approvalPolicy(pkgID, name, fallback string) AssignmentPolicy {
	p := requestPolicy(pkgID, name)
	p.RequestorSettings.EnableTargetsToSelfUpdateAccess = true
	p.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
	p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(30)}
	p.RequestApprovalSettings = ApprovalSettings{
		IsApprovalRequiredForAdd: true, IsApprovalRequiredForUpdate: true,
		Stages: []ApprovalStage{{
			DurationBeforeAutomaticDenial: DurationDays(14),
			PrimaryApprovers:              []SubjectSet{{Kind: RequestorManager, ManagerLevel: 1}},
			FallbackPrimaryApprovers:      []SubjectSet{{Kind: SingleUser, UserID: fallback}},
		}},
	}
	return p
}

// request makes a userAdd request for a as the target.
func (w *world) request(who, pkg, pol string) string {
	w.t.Helper()
	return w.do(w.actors[who], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id[pkg], AssignmentPolicyID: w.id[pol]}).ID
}

// getRequest reads a request as the system's view of the state.
func (w *world) getRequest(id string) AssignmentRequest {
	w.t.Helper()
	var r AssignmentRequest
	w.m.Read(func(s *State) { r = cloneRequest(*at(&s.requests, id)) })
	return r
}

func (w *world) getAssignment(id string) Assignment {
	w.t.Helper()
	var a Assignment
	w.m.Read(func(s *State) {
		x, ok := s.assignments.Get(id)
		require.True(w.t, ok, "no assignment %s", id)
		a = cloneAssignment(*x)
	})
	return a
}

// approve approves the open stage of a request as who.
func (w *world) approve(who, requestID string) Result {
	w.t.Helper()
	r := w.getRequest(requestID)
	return w.do(w.actors[who], UpdateApprovalStage{ApprovalID: requestID, StageID: r.Stages[len(r.Stages)-1].ID,
		ReviewResult: DecisionApprove, Justification: "ok"})
}
