package entitlement

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tests of three waits of the pipeline that the mutation review of the
// Manager found unpinned: CatchUp waiting for the commands in flight, the
// per-subject delivery locks, and the mark that lets a Deliverer call back
// into the Manager for the subject it is delivering to. Each waits a
// moment for what the wait forbids; correct code never does it, so the
// moment only decides how surely a broken wait is caught.

// forbiddenMoment is how long a test gives a broken wait to show itself.
const forbiddenMoment = 50 * time.Millisecond

// TestCatchUpWaitsForTheCommandsInFlight: CatchUp called while a command's
// append is held does not return before the command has settled, and then
// applies what another writer appended meanwhile.
func TestCatchUpWaitsForTheCommandsInFlight(t *testing.T) {
	h := heldBesideAnother(t)
	caught := make(chan error, 1)
	go func() { caught <- h.m.CatchUp(h.w.ctx) }()
	select {
	case err := <-caught:
		t.Fatalf("CatchUp returned (%v) while a command was in flight", err)
	case <-time.After(forbiddenMoment):
	}
	close(h.release)
	require.NoError(t, <-h.held)
	require.NoError(t, <-caught)
	_, err := h.m.State().GetCatalog(h.ga, h.theirs.ID)
	require.NoError(t, err, "CatchUp applied the other writer's catalog")
	requireReplayEqual(t, h.w)
}

// openP3 gives accessWorld's package P3 the member role of G1 and a
// policy any member may request through without approval, Pol3, and
// returns a Manager on w's log delivering through d.
func openP3(t *testing.T, w *world, d Deliverer) *Manager {
	t.Helper()
	ga := w.actors["GA"]
	w.do(ga, AddResourceRoleScope{AccessPackageID: w.id["P3"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	w.id["Pol3"] = w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "Open P3")}).ID
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, Deliverer: d})
	require.NoError(t, err)
	return m
}

// requestAs executes who's userAdd request of pkg through pol on m.
func requestAs(ctx context.Context, m *Manager, w *world, who, pkg, pol string) (Result, error) {
	return m.Execute(ctx, w.actors[who], CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
		AccessPackageID: w.id[pkg], AssignmentPolicyID: w.id[pol]})
}

// overlapDeliverer is a blockingDeliverer that reports a grant to a
// subject begun while another to the same subject is under way.
type overlapDeliverer struct {
	*blockingDeliverer
	mu      sync.Mutex
	active  map[string]int
	overlap chan string
}

func (d *overlapDeliverer) Grant(ctx context.Context, g Grant) error {
	d.mu.Lock()
	d.active[g.SubjectID]++
	if d.active[g.SubjectID] > 1 {
		select {
		case d.overlap <- g.SubjectID:
		default:
		}
	}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.active[g.SubjectID]--
		d.mu.Unlock()
	}()
	return d.blockingDeliverer.Grant(ctx, g)
}

// TestDeliveriesToOneSubjectAreSerialised: while the Deliverer works on
// alice's grant of P2, her request of P3 is decided and written, and its
// grant waits until the first delivery is recorded.
func TestDeliveriesToOneSubjectAreSerialised(t *testing.T) {
	w, _ := accessWorld(t)
	d := &overlapDeliverer{
		blockingDeliverer: &blockingDeliverer{subject: w.uid["alice"], entered: make(chan struct{}), release: make(chan struct{})},
		active:            map[string]int{},
		overlap:           make(chan string, 1),
	}
	m := openP3(t, w, d)
	first := make(chan error, 1)
	go func() {
		_, err := requestAs(w.ctx, m, w, "alice", "P2", "Pol2")
		first <- err
	}()
	<-d.entered
	decided := m.Head()
	second := make(chan error, 1)
	go func() {
		_, err := requestAs(w.ctx, m, w, "alice", "P3", "Pol3")
		second <- err
	}()
	for m.Head() == decided { // the second request is written; its delivery is next
		time.Sleep(100 * time.Microsecond)
	}
	select {
	case s := <-d.overlap:
		t.Fatalf("a second grant to %s began while the first was under way", s)
	case <-time.After(forbiddenMoment):
	}
	close(d.release)
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	require.Empty(t, d.overlap, "no grant to alice overlapped another")
	held := m.State().MyAssignments(w.actors["alice"])
	require.Len(t, held, 2)
	for _, a := range held {
		require.Equal(t, AssignmentStateDelivered, a.State)
	}
}

// callbackDeliverer requests P3 for alice, with the context it is given,
// while it grants her P2's role.
type callbackDeliverer struct {
	m    *Manager
	w    *world
	once sync.Once
	res  Result
	err  error
}

func (d *callbackDeliverer) Grant(ctx context.Context, g Grant) error {
	if g.AccessPackageID == d.w.id["P2"] {
		d.once.Do(func() { d.res, d.err = requestAs(ctx, d.m, d.w, "alice", "P3", "Pol3") })
	}
	return nil
}

func (d *callbackDeliverer) Revoke(context.Context, Grant) error { return nil }

// TestDelivererCallsBackForItsSubject: a Deliverer that executes a command
// for the subject it is delivering to, with its context, does not wait
// for the delivery it is part of: the command's own delivery is made at
// once, and both assignments are delivered.
func TestDelivererCallsBackForItsSubject(t *testing.T) {
	w, _ := accessWorld(t)
	d := &callbackDeliverer{w: w}
	m := openP3(t, w, d)
	d.m = m
	done := make(chan error, 1)
	go func() {
		_, err := requestAs(w.ctx, m, w, "alice", "P2", "Pol2")
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock: the Deliverer's command waits for the delivery that made it")
	}
	require.NoError(t, d.err)
	require.NotEmpty(t, d.res.Delivery, "the command the Deliverer made was delivered at once")
	held := m.State().MyAssignments(w.actors["alice"])
	require.Len(t, held, 2)
	for _, a := range held {
		require.Equal(t, AssignmentStateDelivered, a.State)
	}
}
