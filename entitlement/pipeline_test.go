package entitlement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// hookStore wraps a store that queues appends and lets a test change the
// Ticket of chosen appends.
type hookStore struct {
	*memstore.Store
	mu sync.Mutex
	// ticket, if set, makes the Ticket of the append with the command id
	// from the one the memory store gave (write is that append, not yet
	// made: call it to write).
	ticket func(cmd string, write func() eventstore.Ticket) eventstore.Ticket
}

func (h *hookStore) Enqueue(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) eventstore.Ticket {
	h.mu.Lock()
	f := h.ticket
	h.mu.Unlock()
	write := func() eventstore.Ticket { return h.Store.Enqueue(ctx, cond, events...) }
	if f == nil || len(events) == 0 {
		return write()
	}
	return f(events[0].Metadata.CommandID, write)
}

func (h *hookStore) setTicket(f func(cmd string, write func() eventstore.Ticket) eventstore.Ticket) {
	h.mu.Lock()
	h.ticket = f
	h.mu.Unlock()
}

func newHookWorld(t *testing.T) (*world, *hookStore) {
	hs := &hookStore{Store: memstore.New(memstore.Options{Now: func() time.Time { return t0 }})}
	return newWorldOn(t, hs), hs
}

// countCommand returns how many events of the log the command id wrote.
func countCommand(t require.TestingT, st eventstore.Reader, cmd string) int {
	n := 0
	for e, err := range st.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		if e.Metadata.CommandID == cmd {
			n++
		}
	}
	return n
}

// requireReplayEqual checks that a fresh manager on the log has the state
// the manager shows, and that the log verifies.
func requireReplayEqual(t *testing.T, w *world) {
	t.Helper()
	_, err := eventstore.Verify(w.ctx, w.store.ReadAll(w.ctx, 0))
	require.NoError(t, err)
	requireSameState(t, w.replayed(), w.m.State())
	requireConsistentIndexes(t, w.m.State())
}

// TestContextEndingAfterCommitIsSuccess: the caller's context ends right
// after the events are written; Execute reports the truth, success.
func TestContextEndingAfterCommitIsSuccess(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		tk := write()
		return func(c context.Context) (eventstore.AppendResult, error) {
			res, err := tk(c)
			cancel()
			return res, err
		}
	})
	res, err := w.m.Execute(ctx, ga, CreateCatalog{DisplayName: "Payroll"})
	require.NoError(t, err)
	require.Len(t, res.Events, 1)
	require.Error(t, ctx.Err())
	_, err = w.m.State().GetCatalog(ga, res.ID)
	require.NoError(t, err, "the state shows what was written")
	requireReplayEqual(t, w)
}

// TestOutcomeUnknownAndSafeRetry: the caller stops waiting while the
// events are being written. Execute says the outcome is unknown, with the
// command id; repeating the command with that id appends nothing twice,
// whether the first append was written or not.
func TestOutcomeUnknownAndSafeRetry(t *testing.T) {
	for _, written := range []bool{true, false} {
		t.Run(fmt.Sprintf("written=%v", written), func(t *testing.T) {
			w, hs := newHookWorld(t)
			ga := w.user("ga", GlobalAdministrator)
			ctx, cancel := context.WithCancel(w.ctx)
			defer cancel()
			hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
				var tk eventstore.Ticket
				if written {
					tk = write()
				}
				calls := 0
				return func(c context.Context) (eventstore.AppendResult, error) {
					calls++
					if calls == 1 {
						// The caller stops waiting while it is written.
						cancel()
						return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrOutcomeUnknown, context.Canceled)
					}
					if tk == nil {
						return eventstore.AppendResult{}, errors.New("the store lost the append")
					}
					return tk(c)
				}
			})
			_, err := w.m.Execute(ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
			var ue *OutcomeUnknownError
			require.ErrorAs(t, err, &ue)
			require.Equal(t, "payroll-1", ue.CommandID)
			require.ErrorIs(t, err, eventstore.ErrOutcomeUnknown)
			require.ErrorIs(t, err, context.Canceled)
			hs.setTicket(nil)

			res, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
			require.NoError(t, err)
			require.Equal(t, written, res.Duplicate, "the retry is a duplicate exactly when the first append was written")
			require.Equal(t, 1, countCommand(t, w.store, "payroll-1"), "one Payroll catalog")
			cats := 0
			for _, c := range w.m.State().ListCatalogs(ga) {
				if c.DisplayName == "Payroll" {
					cats++
				}
			}
			require.Equal(t, 1, cats)
			requireReplayEqual(t, w)
		})
	}
}

// TestFailedCommitInDoubt: the store's commit fails in a way that may have
// reached the disk (its answer matches eventstore.ErrOutcomeUnknown while
// the caller still waits). The Manager reads the log again: if the events
// are there, Execute reports success; if not, an *OutcomeUnknownError
// with the command id, and a retry with that id writes the command once.
func TestFailedCommitInDoubt(t *testing.T) {
	for _, written := range []bool{true, false} {
		t.Run(fmt.Sprintf("written=%v", written), func(t *testing.T) {
			w, hs := newHookWorld(t)
			ga := w.user("ga", GlobalAdministrator)
			errIO := fmt.Errorf("commit: %w: disk I/O error", eventstore.ErrOutcomeUnknown)
			hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
				if written {
					write()
				}
				return func(context.Context) (eventstore.AppendResult, error) { return eventstore.AppendResult{}, errIO }
			})
			res, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
			hs.setTicket(nil)
			if written {
				require.NoError(t, err, "the log shows the events: success")
				require.Len(t, res.Events, 1)
				require.Equal(t, "payroll-1", res.CommandID)
				_, err = w.m.State().GetCatalog(ga, res.ID)
				require.NoError(t, err, "the state shows what was written")
			} else {
				var ue *OutcomeUnknownError
				require.ErrorAs(t, err, &ue)
				require.Equal(t, "payroll-1", ue.CommandID)
				require.ErrorIs(t, err, eventstore.ErrOutcomeUnknown)
				for _, c := range w.m.State().ListCatalogs(ga) {
					require.NotEqual(t, "Payroll", c.DisplayName, "the state shows only what the log shows")
				}
				res, err = w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
				require.NoError(t, err)
				require.False(t, res.Duplicate)
			}
			require.Equal(t, 1, countCommand(t, w.store, "payroll-1"), "one Payroll catalog")
			// The Manager goes on deciding on the log's state.
			w.do(ga, CreateAccessPackage{CatalogID: res.ID, DisplayName: "P"})
			requireReplayEqual(t, w)
		})
	}
}

// waitInflight waits until m has n batches in flight: decided and queued.
func waitInflight(m *Manager, n int) {
	for {
		m.mu.Lock()
		k := len(m.inflight)
		m.mu.Unlock()
		if k == n {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestFailedAppendMidPipeline fails one append while the commands decided
// after it are already queued: they fail their chained conditions, are
// decided again on the state without it, and land; the failed command
// reports its error; the State is the log's.
func TestFailedAppendMidPipeline(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	errBoom := errors.New("disk on fire")
	release := make(chan struct{})
	queued := make(chan struct{})
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		if cmd != "doomed" {
			return write()
		}
		// Not written; the answer comes once the others have queued.
		close(queued)
		return func(context.Context) (eventstore.AppendResult, error) {
			<-release
			return eventstore.AppendResult{}, errBoom
		}
	})
	var wg sync.WaitGroup
	var doomedErr error
	wg.Go(func() {
		_, doomedErr = w.m.Execute(w.ctx, ga, CreateAccessPackage{CatalogID: cat, DisplayName: "doomed"}, WithCommandID("doomed"))
	})
	<-queued
	const n = 8
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			r, err := w.m.Execute(w.ctx, ga, CreateAccessPackage{CatalogID: cat, DisplayName: fmt.Sprint("after ", i)}, WithCommandID(fmt.Sprint("after-", i)))
			assert.NoError(t, err)
			ids[i] = r.ID
		})
	}
	waitInflight(w.m, n+1) // the others decided on the doomed package and queued
	close(release)
	wg.Wait()
	require.ErrorIs(t, doomedErr, errBoom)
	require.Equal(t, 0, countCommand(t, w.store, "doomed"))
	pkgs, err := w.m.State().ListAccessPackages(ga, cat)
	require.NoError(t, err)
	require.Len(t, pkgs, n, "every package decided after the failed one landed, once")
	for i := range n {
		require.Equal(t, 1, countCommand(t, w.store, fmt.Sprint("after-", i)))
		_, err := w.m.State().GetAccessPackage(ga, ids[i])
		require.NoError(t, err)
	}
	requireReplayEqual(t, w)
}

// TestConcurrentCommandsOnSQLite runs many goroutines' commands through one
// manager on a SQLite log: every success is in the log once, the State is
// the log's, and the commands shared commits.
func TestConcurrentCommandsOnSQLite(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "log.db"), sqlitestore.Options{})
	require.NoError(t, err)
	defer st.Close()
	w := newWorldOn(t, st)
	w, _ = accessWorldOn(w)
	goroutines, each := 16, 12
	if testing.Short() {
		goroutines, each = 8, 4
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				u := nameID(fmt.Sprintf("conc/%d/%d", g, i))
				if _, err := w.m.Execute(w.ctx, SystemActor(), PutUser{User: User{ID: u, DisplayName: "c", AccountEnabled: true}}); !assert.NoError(t, err) {
					return
				}
				_, err := w.m.Execute(w.ctx, UserActor(u), CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
					AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	s := w.m.State()
	for g := range goroutines {
		for i := range each {
			u := nameID(fmt.Sprintf("conc/%d/%d", g, i))
			mine := s.MyAssignments(UserActor(u))
			require.Len(t, mine, 1)
			require.Equal(t, AssignmentStateDelivered, mine[0].State)
		}
	}
	requireReplayEqual(t, w)
	stats := st.Stats()
	t.Logf("%d appends in %d commits", stats.Appends, stats.Commits)
}

var errInjected = errors.New("injected store failure")

// busyDeliverer delivers through a fakeDeliverer, now and then slowly or
// after calling back into the Manager with the context it was given.
type busyDeliverer struct {
	*fakeDeliverer
	m        func() *Manager
	callback string // a user the callbacks update
	mu       sync.Mutex
	n        int
}

func (d *busyDeliverer) act(ctx context.Context) error {
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	switch n % 4 {
	case 1:
		time.Sleep(200 * time.Microsecond)
	case 2:
		m := d.m()
		_ = m.State().MyAssignments(UserActor(d.callback))
		_, err := m.Execute(ctx, SystemActor(), PutUser{User: User{ID: d.callback, DisplayName: fmt.Sprint("called back ", n), AccountEnabled: true}})
		return err
	}
	return nil
}

func (d *busyDeliverer) Grant(ctx context.Context, g Grant) error {
	if err := d.act(ctx); err != nil {
		return err
	}
	return d.fakeDeliverer.Grant(ctx, g)
}

func (d *busyDeliverer) Revoke(ctx context.Context, g Grant) error {
	if err := d.act(ctx); err != nil {
		return err
	}
	return d.fakeDeliverer.Revoke(ctx, g)
}

// TestPropertyConcurrentAccess runs rounds of random commands at once:
// from several goroutines on one manager, and in some rounds from a second
// manager on the same log too, with a Deliverer that is slow, calls back
// into the Manager, and fails for chosen resources; the store fails some
// appends, some of them in doubt (written or not), and each command whose
// outcome is unknown is retried with its id. After every round:
// every invariant holds, every refusal is typed, both managers and a
// replay agree, the indexes are consistent, and (when one manager
// delivered) the roles the Deliverer holds are those the State says.
func TestPropertyConcurrentAccess(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newAccessProp(rt)
		cb := nameID("ap/callback")
		w.exec(rt, SystemActor(), PutUser{User: User{ID: cb, DisplayName: "callback", AccountEnabled: true}})
		bd := &busyDeliverer{fakeDeliverer: w.fd, callback: cb}
		// The store answers late, so that commands pile up in flight, and
		// now and then fails an append without writing it.
		hs := &hookStore{Store: w.store}
		rnd := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "storeSeed"), 1))
		var rndMu sync.Mutex
		failing := rapid.Bool().Draw(rt, "failingStore")
		// inDoubt are the appends answered "outcome unknown", by command
		// id, and whether they were written.
		inDoubt := map[string]bool{}
		slow := func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
			rndMu.Lock()
			fail, delay := failing && rnd.IntN(8) == 0, time.Duration(rnd.IntN(300))*time.Microsecond
			doubt, write2 := fail && rnd.IntN(2) == 0, rnd.IntN(2) == 0
			rndMu.Unlock()
			var tk eventstore.Ticket
			if !fail || doubt && write2 {
				tk = write()
			}
			if doubt {
				written := false
				if tk != nil { // the memory store has written it, or refused it
					res, err := tk(context.Background())
					written = err == nil && !res.Duplicate
				}
				rndMu.Lock()
				inDoubt[cmd] = written
				rndMu.Unlock()
			}
			return func(c context.Context) (eventstore.AppendResult, error) {
				time.Sleep(delay)
				if doubt {
					// A commit that failed in a way that may have reached
					// the disk.
					return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrOutcomeUnknown, errInjected)
				}
				if fail {
					return eventstore.AppendResult{}, errInjected
				}
				return tk(c)
			}
		}
		hs.setTicket(slow)
		var err error
		w.m, err = NewManager(w.ctx, hs, Options{Clock: w.clock, IDs: SeededIDs(rapid.Uint64().Draw(rt, "seed2")), Deliverer: bd})
		require.NoError(rt, err)
		w.other, err = NewManager(w.ctx, hs, Options{Clock: w.clock, IDs: SeededIDs(12), Deliverer: bd})
		require.NoError(rt, err)
		bd.m = func() *Manager { return w.m }
		for range rapid.IntRange(1, 6).Draw(rt, "rounds") {
			w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(1, 24*5).Draw(rt, "hours")) * time.Hour)
			if _, err := w.m.ProcessDue(w.ctx, w.clock.t); !errors.Is(err, errInjected) {
				require.NoError(rt, err)
			}
			type step struct {
				a     Actor
				cmd   Command
				other bool
			}
			var steps []step
			both := rapid.IntRange(0, 2).Draw(rt, "secondWriter") == 0
			for range rapid.IntRange(2, 10).Draw(rt, "concurrent") {
				if a, cmd, ok := w.drawStep(rt); ok {
					steps = append(steps, step{a, cmd, both && rapid.Bool().Draw(rt, "onOther")})
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, len(steps))
			for i, s := range steps {
				wg.Go(func() {
					m := w.m
					if s.other {
						m = w.other
					}
					_, errs[i] = m.Execute(w.ctx, s.a, s.cmd)
				})
			}
			wg.Wait()
			unknown := map[int]string{} // step -> command id of an outcome unknown
			for i, err := range errs {
				var e *Error
				var ue *OutcomeUnknownError
				if errors.As(err, &ue) {
					rndMu.Lock()
					written, ok := inDoubt[ue.CommandID]
					rndMu.Unlock()
					require.True(rt, ok && !written, "%s: outcome unknown, but the append %s was written (%v) or not in doubt (%v)",
						CommandName(steps[i].cmd), ue.CommandID, written, ok)
					unknown[i] = ue.CommandID
					continue
				}
				require.True(rt, err == nil || errors.As(err, &e) || errors.Is(err, errInjected),
					"%s: untyped error %v", CommandName(steps[i].cmd), err)
			}
			require.NoError(rt, w.m.CatchUp(w.ctx))
			require.NoError(rt, w.other.CatchUp(w.ctx))
			// A failed append can leave delivery unrecorded, and deliveries
			// of two processes to one subject are not serialised: settle
			// what is left, with a store that no longer fails.
			hs.setTicket(nil)
			// The safe retry of a command in doubt: with its id, it is
			// written once, or refused on the state as it now is.
			for i, id := range unknown {
				m := w.m
				if steps[i].other {
					m = w.other
				}
				res, err := m.Execute(w.ctx, steps[i].a, steps[i].cmd, WithCommandID(id))
				var e *Error
				if err != nil {
					require.True(rt, errors.As(err, &e), "retry of %s: untyped error %v", CommandName(steps[i].cmd), err)
					require.Zero(rt, countCommand(rt, w.store, id), "a refused retry of %s", CommandName(steps[i].cmd))
					continue
				}
				require.False(rt, res.Duplicate, "the append in doubt was not written")
				require.Equal(rt, len(res.Events), countCommand(rt, w.store, id), "retry of %s written once", CommandName(steps[i].cmd))
			}
			_, err := w.m.DeliverPending(w.ctx)
			require.NoError(rt, err)
			_, err = w.m.ProcessDue(w.ctx, w.clock.t) // in case the round's failed
			require.NoError(rt, err)
			s := w.m.State()
			require.NoError(rt, checkInvariants(s))
			require.NoError(rt, checkAccessInvariants(s, w.clock.t))
			if both {
				// The real system may now differ from the State where both
				// delivered to one subject at once: make it the State's
				// again, as a reconciliation would, before the next round.
				w.fd.resync(s)
			} else {
				w.checkConvergence(rt, s)
			}
			hs.setTicket(slow)
			fresh, err := NewManager(w.ctx, w.store, Options{Clock: w.clock})
			require.NoError(rt, err)
			requireSameState(rt, s, fresh.State(), "replay differs")
			require.NoError(rt, w.other.CatchUp(w.ctx))
			requireSameState(rt, s, w.other.State(), "the second writer differs")
			requireConsistentIndexes(rt, s)
		}
	})
}

// resync makes the fake hold exactly the roles the State says are
// delivered.
func (f *fakeDeliverer) resync(s *State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.held)
	for _, a := range s.assignments.All() {
		for _, r := range fulfilled(a) {
			f.held[[2]string{a.TargetID, r}] = true
		}
	}
}

// blockingDeliverer blocks grants to one subject until released, and
// honours its context.
type blockingDeliverer struct {
	subject string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (d *blockingDeliverer) Grant(ctx context.Context, g Grant) error {
	if g.SubjectID != d.subject {
		return nil
	}
	d.once.Do(func() { close(d.entered) })
	select {
	case <-d.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *blockingDeliverer) Revoke(context.Context, Grant) error { return nil }

// TestSlowDeliveryDelaysOnlyItsCommand: while the Deliverer blocks on one
// user's grant, other users' requests are decided, written and delivered,
// and readers read; the blocked command finishes once released.
func TestSlowDeliveryDelaysOnlyItsCommand(t *testing.T) {
	w, _ := accessWorld(t)
	bd := &blockingDeliverer{subject: w.uid["alice"], entered: make(chan struct{}), release: make(chan struct{})}
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, Deliverer: bd})
	require.NoError(t, err)
	request := func(who string) (Result, error) { return requestAs(w.ctx, m, w, who, "P2", "Pol2") }
	done := make(chan error, 1)
	go func() {
		_, err := request("alice")
		done <- err
	}()
	<-bd.entered
	for _, who := range []string{"bob", "carol", "erin"} {
		res, err := request(who)
		require.NoError(t, err, who)
		require.NotEmpty(t, res.Delivery, "%s's request was delivered while alice's delivery blocks", who)
	}
	s := m.State()
	require.Len(t, s.MyAssignments(w.actors["bob"]), 1)
	require.Equal(t, AssignmentStateDelivering, s.MyAssignments(w.actors["alice"])[0].State)
	close(bd.release)
	require.NoError(t, <-done)
	require.Equal(t, AssignmentStateDelivered, m.State().MyAssignments(w.actors["alice"])[0].State)
}

// aliceDelivering has alice request P2 through a Manager whose Deliverer
// blocks on her grants until released, with a deadline of d: the command
// is written (Execute succeeds), its delivery is cut off by the deadline.
func aliceDelivering(t *testing.T, w *world, d time.Duration) (*Manager, *blockingDeliverer, Result) {
	t.Helper()
	bd := &blockingDeliverer{subject: w.uid["alice"], entered: make(chan struct{}), release: make(chan struct{})}
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, Deliverer: bd})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(w.ctx, d)
	defer cancel()
	res, err := requestAs(ctx, m, w, "alice", "P2", "Pol2")
	require.NoError(t, err, "the command was written")
	return m, bd, res
}

// TestDelivererDeadline: a Deliverer that waits for its context is
// stopped by the caller's deadline. The command is in the log and Execute
// says so; the delivery that could not be recorded is reported apart, and
// DeliverPending finishes it.
func TestDelivererDeadline(t *testing.T) {
	w, _ := accessWorld(t)
	m, bd, res := aliceDelivering(t, w, 50*time.Millisecond)
	require.NotEmpty(t, res.Events)
	require.ErrorIs(t, res.DeliveryError, context.DeadlineExceeded)
	require.Equal(t, AssignmentStateDelivering, m.State().MyAssignments(w.actors["alice"])[0].State)
	close(bd.release)
	_, err := m.DeliverPending(w.ctx)
	require.NoError(t, err)
	require.Equal(t, AssignmentStateDelivered, m.State().MyAssignments(w.actors["alice"])[0].State)
}

// TestReadersDoNotWaitForWrites: while a command's append is held up in
// the store, State answers at once, without the held command's events.
func TestReadersDoNotWaitForWrites(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	queued, release := make(chan struct{}), make(chan struct{})
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		tk := write()
		close(queued)
		return func(c context.Context) (eventstore.AppendResult, error) {
			<-release
			return tk(c)
		}
	})
	done := make(chan Result, 1)
	go func() {
		r, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Held"})
		assert.NoError(t, err)
		done <- r
	}()
	<-queued
	before := len(w.m.State().ListCatalogs(ga))
	w.m.Read(func(s *State) { require.Len(t, s.ListCatalogs(ga), before) })
	close(release)
	r := <-done
	_, err := w.m.State().GetCatalog(ga, r.ID)
	require.NoError(t, err)
	require.Len(t, w.m.State().ListCatalogs(ga), before+1)
}

// TestTwoManagersTwoStoresOneFile: two managers, each with a store of its
// own on one SQLite file (as two processes would be), execute commands at
// once; every success is in the log once and both converge on the log's
// state.
func TestTwoManagersTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *sqlitestore.Store {
		st, err := sqlitestore.Open(path, sqlitestore.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
	w, _ := accessWorldOn(newWorldOn(t, open()))
	other, err := NewManager(w.ctx, open(), Options{Clock: w.clock, IDs: SeededIDs(99)})
	require.NoError(t, err)
	n := 24
	if testing.Short() {
		n = 8
	}
	var wg sync.WaitGroup
	ids := make([]string, 2*n)
	for i := range 2 * n {
		wg.Go(func() {
			m := w.m
			if i%2 == 1 {
				m = other
			}
			u := nameID(fmt.Sprint("two/", i))
			_, err := m.Execute(w.ctx, SystemActor(), PutUser{User: User{ID: u, DisplayName: "t", AccountEnabled: true}})
			if !assert.NoError(t, err) {
				return
			}
			r, err := m.Execute(w.ctx, UserActor(u), CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
				AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]})
			assert.NoError(t, err)
			ids[i] = r.ID
		})
	}
	wg.Wait()
	require.NoError(t, w.m.CatchUp(w.ctx))
	require.NoError(t, other.CatchUp(w.ctx))
	for i, id := range ids {
		require.NotEmpty(t, id, "request %d", i)
		_, err := w.m.State().GetAssignmentRequest(SystemActor(), id)
		require.NoError(t, err)
	}
	requireSameState(t, w.m.State(), other.State())
	requireReplayEqual(t, w)
}

// TestDeadlineWhileAnotherProcessHoldsTheLog: another process holds the
// log's write lock when a command's caller gives up. Execute returns the
// context's error, having written nothing (the Manager queues its appends
// with a context that does not end, so the store must heed the context
// the caller waits with); once the lock is free, a retry with the same
// command id appends the command once.
func TestDeadlineWhileAnotherProcessHoldsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	st, err := sqlitestore.Open(path, sqlitestore.Options{BusyTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	w := newWorldOn(t, st)
	ga := w.user("ga", GlobalAdministrator)
	head := w.m.Head()

	other, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(w.ctx)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.ExecContext(w.ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(w.ctx, 50*time.Millisecond)
	defer cancel()
	_, err = w.m.Execute(ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var unknown *OutcomeUnknownError
	require.False(t, errors.As(err, &unknown), "the append was never being written: %v", err)
	_, err = conn.ExecContext(w.ctx, "ROLLBACK")
	require.NoError(t, err)
	require.Equal(t, 0, countCommand(t, st, "payroll-1"), "nothing was written")
	require.Equal(t, head, w.m.Head())

	res, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.NoError(t, err)
	require.False(t, res.Duplicate)
	require.Equal(t, 1, countCommand(t, st, "payroll-1"))
	requireReplayEqual(t, w)
}
