package entitlement

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests that pin what a mutation review of the Manager's command pipeline
// (manager.go, manager_access.go, replay.go, snapshot.go) found unpinned.

// signalClock is a testClock that closes the channel arm returned the
// next time it is read: the Manager reads it under its lock when it
// decides a command, before it looks for the command id in flight.
type signalClock struct {
	testClock
	mu    sync.Mutex
	armed chan struct{}
}

func (c *signalClock) Now() time.Time {
	c.mu.Lock()
	if c.armed != nil {
		close(c.armed)
		c.armed = nil
	}
	c.mu.Unlock()
	return c.testClock.Now()
}

func (c *signalClock) arm() <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.armed = ch
	c.mu.Unlock()
	return ch
}

// heldManager is a manager on a hookStore with a signalClock, and a
// global administrator.
func heldManager(t *testing.T, opts Options) (*world, *hookStore, *Manager, *signalClock, Actor) {
	t.Helper()
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	sc := &signalClock{testClock: testClock{t: t0}}
	opts.Clock = sc
	m, err := NewManager(w.ctx, hs, opts)
	require.NoError(t, err)
	w.m = m
	return w, hs, m, sc, ga
}

// hold returns a Ticket hook that holds the first append of the command
// id cmd: queued is closed when it is queued, and its Ticket answers once
// release is closed, with answer (write is the append, made at once when
// write is set). Other appends go through.
func hold(cmd string, write bool, answer func(eventstore.Ticket, context.Context) (eventstore.AppendResult, error)) (
	hook func(string, func() eventstore.Ticket) eventstore.Ticket, queued, release chan struct{},
) {
	queued, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook = func(c string, w func() eventstore.Ticket) eventstore.Ticket {
		first := false
		if c == cmd {
			once.Do(func() { first = true })
		}
		if !first {
			return w()
		}
		var tk eventstore.Ticket
		if write {
			tk = w()
		}
		close(queued)
		return func(ctx context.Context) (eventstore.AppendResult, error) {
			<-release
			return answer(tk, ctx)
		}
	}
	return hook, queued, release
}

// asWritten answers a held append as the store did: hold's answer for an
// append that is written and told so.
func asWritten(tk eventstore.Ticket, ctx context.Context) (eventstore.AppendResult, error) {
	return tk(ctx)
}

// joined runs f on a goroutine once the manager has decided what to do
// with it: f executes a command, the clock's read tells that it is being
// decided, and taking the manager's lock that the decision is made. The
// returned channel delivers f's error.
func joined(t *testing.T, m *Manager, sc *signalClock, f func() error) <-chan error {
	t.Helper()
	deciding := sc.arm()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case <-deciding:
	case err := <-done:
		done <- err
		return done
	}
	// Taking the lock waits for the decision under way.
	m.mu.Lock()
	//lint:ignore SA2001 the critical section is the wait
	m.mu.Unlock()
	return done
}

// TestMaxRetriesBoundsTheAttempts: an append refused for a conflict every
// time is decided again MaxRetries times, then Execute gives up with
// ErrConflict naming the attempts; the default is 8.
func TestMaxRetriesBoundsTheAttempts(t *testing.T) {
	for _, c := range []struct{ opt, attempts int }{{1, 2}, {2, 3}, {0, 9}} {
		w, hs := newHookWorld(t)
		ga := w.user("ga", GlobalAdministrator)
		m, err := NewManager(w.ctx, hs, Options{Clock: w.clock, MaxRetries: c.opt})
		require.NoError(t, err)
		calls := 0
		hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
			if cmd != "contended" {
				return write()
			}
			calls++
			return func(context.Context) (eventstore.AppendResult, error) {
				return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: "catalog/x", Expected: 0, Actual: 1}
			}
		})
		_, err = m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Contended"}, WithCommandID("contended"))
		requireKind(t, err, ErrConflict)
		require.Contains(t, err.Error(), "gave up after "+itoa(c.attempts)+" attempts", "MaxRetries %d", c.opt)
		require.Equal(t, c.attempts, calls, "MaxRetries %d: appends", c.opt)
		require.Zero(t, countCommand(t, w.store, "contended"))
	}
}

// TestDoomedAttemptIsNoRetry: a command whose append failed only because a
// command decided before it failed is decided again without spending one
// of its MaxRetries: with MaxRetries 1, it is doomed once, conflicts once
// with another writer, and lands.
func TestDoomedAttemptIsNoRetry(t *testing.T) {
	w, hs, m, _, ga := heldManager(t, Options{MaxRetries: 1})
	errBoom := errors.New("disk on fire")
	hook, queued, release := hold("first", false, func(eventstore.Ticket, context.Context) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, errBoom
	})
	afters := 0
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		if cmd != "after" {
			return hook(cmd, write)
		}
		afters++
		if afters == 2 { // another writer got in first
			return func(context.Context) (eventstore.AppendResult, error) {
				return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: "catalog/x", Expected: 0, Actual: 1}
			}
		}
		return write()
	})
	var wg sync.WaitGroup
	var firstErr, afterErr error
	wg.Go(func() {
		_, firstErr = m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "First"}, WithCommandID("first"))
	})
	<-queued
	wg.Go(func() {
		_, afterErr = m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "After"}, WithCommandID("after"))
	})
	waitInflight(m, 2) // "after" decided on "first" and queued
	close(release)
	wg.Wait()
	require.ErrorIs(t, firstErr, errBoom)
	require.NoError(t, afterErr, "the doomed attempt spent no retry")
	require.Equal(t, 3, afters)
	require.Equal(t, 1, countCommand(t, w.store, "after"))
	requireReplayEqual(t, w)
}

// payroll is a command executed twice with one id: first, and repeat
// while the first is in flight.
type payroll struct {
	first, repeat   Result
	firstDone, done <-chan error // each execution's error, once it returns
}

// payrollTwice executes CreateCatalog "Payroll" with the id payroll-1 on
// a goroutine, waits until its append is queued, and executes it again
// with the same id, joined (see joined) while the first is in flight.
// Read first and repeat only once their channels have delivered.
func payrollTwice(t *testing.T, w *world, m *Manager, sc *signalClock, ga Actor, queued <-chan struct{}) *payroll {
	t.Helper()
	p := &payroll{}
	cmd := CreateCatalog{DisplayName: "Payroll"}
	firstDone := make(chan error, 1)
	go func() {
		var err error
		p.first, err = m.Execute(w.ctx, ga, cmd, WithCommandID("payroll-1"))
		firstDone <- err
	}()
	<-queued
	p.firstDone = firstDone
	p.done = joined(t, m, sc, func() error {
		var err error
		p.repeat, err = m.Execute(w.ctx, ga, cmd, WithCommandID("payroll-1"))
		return err
	})
	return p
}

// TestJoiningACommandDecidedAgain: a repeat of a command id in flight
// waits for it; when that append is refused for a conflict and decided
// again, the repeat answers with the events the command id wrote, not an
// empty duplicate.
func TestJoiningACommandDecidedAgain(t *testing.T) {
	w, hs, m, sc, ga := heldManager(t, Options{})
	hook, queued, release := hold("payroll-1", false, func(eventstore.Ticket, context.Context) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: "catalog/x", Expected: 0, Actual: 1}
	})
	hs.setTicket(hook)
	p := payrollTwice(t, w, m, sc, ga, queued)
	close(release)
	require.NoError(t, <-p.firstDone)
	require.NoError(t, <-p.done)
	require.False(t, p.first.Duplicate)
	require.True(t, p.repeat.Duplicate)
	require.Len(t, p.first.Events, 1)
	require.Equal(t, p.first.Events, p.repeat.Events, "the events the command id wrote")
	require.Equal(t, p.first.ID, p.repeat.ID)
	require.Equal(t, 1, countCommand(t, w.store, "payroll-1"))
}

// TestRefusalConfirmedOnTheLog: a command refused on what this manager
// has seen of the log is decided again once it has caught up with another
// writer's events, and succeeds if they allow it.
func TestRefusalConfirmedOnTheLog(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	lagging, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(42)})
	require.NoError(t, err)
	cat := w.do(ga, CreateCatalog{DisplayName: "Written by another"}).ID
	res, err := lagging.Execute(w.ctx, ga, CreateAccessPackage{CatalogID: cat, DisplayName: "P"})
	require.NoError(t, err, "the catalog is in the log")
	require.Len(t, res.Events, 1)
	_, err = lagging.State().GetAccessPackage(ga, res.ID)
	require.NoError(t, err)
	requireSameState(t, w.replayed(), lagging.State())
}

// TestDuplicateFromTheStoreDeliversTheLogsEvents: a manager that has not
// seen a command id executes it again; the store answers with the events
// the first execution wrote (here one that crashed before delivering), and
// what those events left pending is delivered: not what this execution
// decided, which was never written.
func TestDuplicateFromTheStoreDeliversTheLogsEvents(t *testing.T) {
	w, _ := accessWorld(t)
	fd := newFakeDeliverer()
	lagging, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(43), Deliverer: fd})
	require.NoError(t, err)
	alice := w.actors["alice"]
	cmd := CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]}
	// The first execution, by another process that died before it
	// delivered.
	evs, err := Decide(w.state(), alice, w.clock.t, SeededIDs(9), cmd)
	require.NoError(t, err)
	var nes []eventstore.NewEvent
	for _, e := range evs {
		ne, err := e.encode(w.clock.t, eventstore.Metadata{ActorID: alice.ID, ActorKind: string(alice.Kind),
			CommandID: "crashed", CommandDigest: commandDigest(cmd, alice, time.Time{})})
		require.NoError(t, err)
		nes = append(nes, ne)
	}
	_, err = w.store.Append(w.ctx, eventstore.AnyCondition, nes...)
	require.NoError(t, err)

	res, err := lagging.Execute(w.ctx, alice, cmd, WithCommandID("crashed"))
	require.NoError(t, err)
	require.True(t, res.Duplicate)
	require.NoError(t, res.DeliveryError)
	require.NotEmpty(t, res.Delivery, "the first execution's grant was delivered")
	require.Equal(t, []string{w.id["RS-P2"]}, fd.heldBy(alice.ID))
	mine := lagging.State().MyAssignments(alice)
	require.Len(t, mine, 1)
	require.Equal(t, AssignmentStateDelivered, mine[0].State)
}

// TestCallerGoneStoreInDoubtOfItsOwn: the caller's context ends while its
// append is written, but the store's answer is a failed commit of its own
// (in doubt, not the context's error): the Manager reads the log again,
// finds the events and reports success, as Execute does whenever the
// events were written.
func TestCallerGoneStoreInDoubtOfItsOwn(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	errIO := fmt.Errorf("commit: %w: disk I/O error", eventstore.ErrOutcomeUnknown)
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		write()
		return func(context.Context) (eventstore.AppendResult, error) {
			cancel()
			return eventstore.AppendResult{}, errIO
		}
	})
	res, err := w.m.Execute(ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	hs.setTicket(nil)
	require.Error(t, ctx.Err())
	require.NoError(t, err, "the log shows the events")
	require.Len(t, res.Events, 1)
	_, err = w.m.State().GetCatalog(ga, res.ID)
	require.NoError(t, err)
	requireReplayEqual(t, w)
}

// TestOutcomeUnknownReturnsAtOnce: when the caller stops waiting while its
// events are being written, Execute returns the *OutcomeUnknownError at
// once: it does not wait for the store's answer (which the next command's
// settling, here the retry's, waits for).
func TestOutcomeUnknownReturnsAtOnce(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	answering, release := make(chan struct{}), make(chan struct{})
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		tk := write()
		calls := 0
		return func(c context.Context) (eventstore.AppendResult, error) {
			calls++
			if calls == 1 {
				cancel()
				return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrOutcomeUnknown, context.Canceled)
			}
			close(answering)
			<-release
			return tk(c)
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := w.m.Execute(ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
		done <- err
	}()
	select {
	case err := <-done:
		var ue *OutcomeUnknownError
		require.ErrorAs(t, err, &ue)
		close(release)
	case <-answering:
		close(release)
		<-done
		t.Fatal("Execute waited for the store's answer after its caller stopped waiting")
	}
	hs.setTicket(nil)
	res, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.NoError(t, err)
	require.True(t, res.Duplicate)
	requireReplayEqual(t, w)
}

// TestRefusalWaitsForTheCommandsInFlight: a refusal is confirmed once the
// commands in flight have settled; if another writer appended meanwhile,
// the command is decided again on the log as it now is.
func TestRefusalWaitsForTheCommandsInFlight(t *testing.T) {
	h := heldBesideAnother(t)
	var res Result
	done := joined(t, h.m, h.sc, func() error {
		var err error
		res, err = h.m.Execute(h.w.ctx, h.ga, CreateAccessPackage{CatalogID: h.theirs.ID, DisplayName: "P"})
		return err
	})
	close(h.release)
	require.NoError(t, <-h.held)
	require.NoError(t, <-done, "decided again once the log was read")
	_, err := h.m.State().GetAccessPackage(h.ga, res.ID)
	require.NoError(t, err)
	requireReplayEqual(t, h.w)
}

// heldAppend is a heldManager's catalog "Held" (command id "held"),
// written but not answered until release is closed, and a catalog another
// Manager on the log created after it.
type heldAppend struct {
	w       *world
	m       *Manager
	sc      *signalClock
	ga      Actor
	theirs  Result        // the other Manager's catalog
	held    <-chan error  // Execute's error for "Held"
	release chan struct{} // lets the held append answer
}

func heldBesideAnother(t *testing.T) heldAppend {
	t.Helper()
	w, hs, m, sc, ga := heldManager(t, Options{})
	other, err := NewManager(w.ctx, hs.Store, Options{Clock: w.clock, IDs: SeededIDs(44)})
	require.NoError(t, err)
	hook, queued, release := hold("held", true, asWritten)
	hs.setTicket(hook)
	held := make(chan error, 1)
	go func() {
		_, err := m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Held"}, WithCommandID("held"))
		held <- err
	}()
	<-queued
	theirs, err := other.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Another writer's"})
	require.NoError(t, err)
	return heldAppend{w: w, m: m, sc: sc, ga: ga, theirs: theirs, held: held, release: release}
}

// countingAppends counts the appends made to a store that does not
// queue them.
type countingAppends struct {
	eventstore.Store
	mu sync.Mutex
	n  int
}

func (c *countingAppends) Append(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Store.Append(ctx, cond, events...)
}

// TestStaleManagerCatchesUpBeforeDeciding: after a catch-up failed, the
// next command catches up before it is decided, rather than spending an
// append sure to conflict.
func TestStaleManagerCatchesUpBeforeDeciding(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	fs := &flakyStore{Store: w.store, failAfter: -1}
	ca := &countingAppends{Store: fs}
	m, err := NewManager(w.ctx, ca, Options{Clock: w.clock, IDs: SeededIDs(45)})
	require.NoError(t, err)
	w.user("another writer's")
	fs.failAfter = 0
	require.ErrorIs(t, m.CatchUp(w.ctx), errRead)
	fs.failAfter = -1
	ca.n = 0
	res, err := m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "C"})
	require.NoError(t, err)
	require.Equal(t, w.head().Position, res.Events[0].Position)
	require.Equal(t, 1, ca.n, "one append: decided on the log as it is")
}

// TestCommandIDReusedWhileInFlight: a command id in flight, executed for
// another command, is refused at once; it is not answered with the first
// command's result.
func TestCommandIDReusedWhileInFlight(t *testing.T) {
	w, hs, m, sc, ga := heldManager(t, Options{})
	hook, queued, release := hold("payroll-1", true, asWritten)
	hs.setTicket(hook)
	first := make(chan error, 1)
	go func() {
		_, err := m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
		first <- err
	}()
	<-queued
	var res Result
	done := joined(t, m, sc, func() error {
		var err error
		res, err = m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Something else"}, WithCommandID("payroll-1"))
		return err
	})
	close(release)
	require.NoError(t, <-first)
	err := <-done
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), "used by a command being written")
	require.False(t, res.Duplicate)
	require.Equal(t, 1, countCommand(t, w.store, "payroll-1"))
}

// TestRepeatWhileInFlightIsNotQueued: a repeat of a command id in flight
// waits for its outcome; it is not decided and queued a second time.
func TestRepeatWhileInFlightIsNotQueued(t *testing.T) {
	w, hs, m, sc, ga := heldManager(t, Options{})
	hook, queued, release := hold("payroll-1", true, asWritten)
	var mu sync.Mutex
	appends := 0
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		if cmd == "payroll-1" {
			mu.Lock()
			appends++
			mu.Unlock()
		}
		return hook(cmd, write)
	})
	p := payrollTwice(t, w, m, sc, ga, queued)
	m.mu.Lock()
	inflight := len(m.inflight)
	m.mu.Unlock()
	close(release)
	require.NoError(t, <-p.firstDone)
	require.NoError(t, <-p.done)
	require.Equal(t, 1, inflight, "the repeat waits for the append in flight")
	require.True(t, p.repeat.Duplicate)
	require.Equal(t, p.first.Events, p.repeat.Events)
	mu.Lock()
	require.Equal(t, 1, appends, "the command id was queued once")
	mu.Unlock()
}

// TestChainedOnAFailedAppendOfTheSameLength: an append fails without being
// written and another writer's append of the same length takes its place;
// the command decided after it (on a user the failed append created) is
// not written on the other writer's events: its condition names the event
// it was decided after, so it is decided again, and refused.
func TestChainedOnAFailedAppendOfTheSameLength(t *testing.T) {
	w, hs, m, _, _ := heldManager(t, Options{})
	other, err := NewManager(w.ctx, hs.Store, Options{Clock: w.clock, IDs: SeededIDs(46)})
	require.NoError(t, err)
	errBoom := errors.New("disk on fire")
	u := nameID("user/doomed")
	hook, queued, release := hold("create-user", false, func(eventstore.Ticket, context.Context) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, errBoom
	})
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		tk := hook(cmd, write)
		if cmd == "create-user" {
			// Another writer's append of one event takes its place.
			_, err := other.Execute(w.ctx, sys, PutUser{User: User{ID: nameID("user/other"), DisplayName: "other", AccountEnabled: true}})
			assert.NoError(t, err)
		}
		return tk
	})
	var wg sync.WaitGroup
	var createErr, setErr error
	var set Result
	wg.Go(func() {
		_, createErr = m.Execute(w.ctx, sys, PutUser{User: User{ID: u, DisplayName: "doomed", AccountEnabled: true}}, WithCommandID("create-user"))
	})
	<-queued
	wg.Go(func() {
		set, setErr = m.Execute(w.ctx, sys, SetUserAttribute{UserID: u, Name: "department", Value: "Sales"}, WithCommandID("set"))
	})
	waitInflight(m, 2) // "set" decided on the user and queued
	close(release)
	wg.Wait()
	require.ErrorIs(t, createErr, errBoom)
	requireKind(t, setErr, ErrNotFound)
	require.Empty(t, set.Events)
	require.Zero(t, countCommand(t, w.store, "set"), "not written on another writer's events")
	requireReplayEqual(t, w)
}

// TestFailedAppendLeavesNoTrace: after an append fails, the next command
// is decided on the log's state, not on one that holds the failed
// command: a package in the catalog a failed command deleted is created.
func TestFailedAppendLeavesNoTrace(t *testing.T) {
	w, hs := newHookWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	errBoom := errors.New("disk on fire")
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		if cmd != "delete" {
			return write()
		}
		return func(context.Context) (eventstore.AppendResult, error) { return eventstore.AppendResult{}, errBoom }
	})
	_, err := w.m.Execute(w.ctx, ga, DeleteCatalog{CatalogID: cat}, WithCommandID("delete"))
	require.ErrorIs(t, err, errBoom)
	res, err := w.m.Execute(w.ctx, ga, CreateAccessPackage{CatalogID: cat, DisplayName: "P"})
	require.NoError(t, err, "the catalog was not deleted")
	_, err = w.m.State().GetAccessPackage(ga, res.ID)
	require.NoError(t, err)
	requireReplayEqual(t, w)
}

// TestDuplicateFromTheStoreIsShown: a manager that has not seen a command
// id executes it again; the store answers with the first execution, and
// the State this manager publishes shows it once Execute returns.
func TestDuplicateFromTheStoreIsShown(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	lagging, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(47)})
	require.NoError(t, err)
	first, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.NoError(t, err)
	res, err := lagging.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.NoError(t, err)
	require.True(t, res.Duplicate)
	require.Equal(t, first.ID, res.ID)
	_, err = lagging.State().GetCatalog(ga, res.ID)
	require.NoError(t, err, "the State shows the command's events")
	require.Equal(t, w.head().Position, lagging.Head())
}

// TestCommandIDReusedByAnotherWriterIsShown: a manager that has not seen
// a command id executes another command under it; the store refuses it,
// and the manager has caught up with the log that refusal came from.
func TestCommandIDReusedByAnotherWriterIsShown(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	lagging, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(48)})
	require.NoError(t, err)
	first, err := w.m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Payroll"}, WithCommandID("payroll-1"))
	require.NoError(t, err)
	_, err = lagging.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Something else"}, WithCommandID("payroll-1"))
	requireKind(t, err, ErrConflict)
	require.Contains(t, err.Error(), "used at position")
	_, err = lagging.State().GetCatalog(ga, first.ID)
	require.NoError(t, err, "the State shows the command the id was used for")
	require.Equal(t, w.head().Position, lagging.Head())
}

// threeManagers returns w's manager, one started afresh from its log and
// one started from a snapshot of it, by name.
func threeManagers(t *testing.T, w *world) map[string]*Manager {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "snap")
	_, err := w.m.WriteSnapshot(w.ctx, snap)
	require.NoError(t, err)
	restarted, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, NoSnapshot: true})
	require.NoError(t, err)
	fromSnapshot, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, SnapshotPath: snap})
	require.NoError(t, err)
	require.NotEmpty(t, fromSnapshot.Started().Snapshot.Path)
	return map[string]*Manager{"same": w.m, "restarted": restarted, "snapshot": fromSnapshot}
}

// TestRepeatOfACommandOfSeveralEvents: a command that appended several
// events, repeated with its id (in the same manager, after a restart and
// from a snapshot), is answered with all of them, first to last.
func TestRepeatOfACommandOfSeveralEvents(t *testing.T) {
	w, _ := accessWorld(t)
	alice := w.actors["alice"]
	cmd := CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]}
	first, err := w.m.Execute(w.ctx, alice, cmd, WithCommandID("several"))
	require.NoError(t, err)
	require.Greater(t, len(first.Events), 1, "a command of several events")
	w.do(w.actors["GA"], CreateCatalog{DisplayName: "After"})
	for name, m := range threeManagers(t, w) {
		h := w.head()
		res, err := m.Execute(w.ctx, alice, cmd, WithCommandID("several"))
		require.NoError(t, err, name)
		require.True(t, res.Duplicate, name)
		require.Equal(t, first.Events, res.Events, name)
		require.Equal(t, first.ID, res.ID, name)
		require.Equal(t, h, w.head(), name)
	}
}

// TestRepeatAfterTheStateMoved: a command repeated with its id once the
// state has moved past it (the catalog it deleted is gone) is answered as
// a duplicate from the log, in the same manager, after a restart and from
// a snapshot: not decided again and refused.
func TestRepeatAfterTheStateMoved(t *testing.T) {
	w := newWorld(t)
	ga := w.user("ga", GlobalAdministrator)
	cat := w.do(ga, CreateCatalog{DisplayName: "C"}).ID
	del, err := w.m.Execute(w.ctx, ga, DeleteCatalog{CatalogID: cat}, WithCommandID("delete"))
	require.NoError(t, err)
	for name, m := range threeManagers(t, w) {
		res, err := m.Execute(w.ctx, ga, DeleteCatalog{CatalogID: cat}, WithCommandID("delete"))
		require.NoError(t, err, name)
		require.True(t, res.Duplicate, name)
		require.Equal(t, del.Events, res.Events, name)
	}
}

// TestSnapshotHeaderMustMatchTheLog: a snapshot whose header names, at its
// position, another hash or another event id than the log holds there
// (edited and resealed) is ignored, and the whole log replayed.
func TestSnapshotHeaderMustMatchTheLog(t *testing.T) {
	w, st, snap, good := snapshotted(t)
	lines := bytes.SplitAfter(good, []byte("\n"))
	var hdr snapshotHeader
	require.NoError(t, json.Unmarshal(lines[1], &hdr))
	for name, edit := range map[string]func(*snapshotHeader){
		"another hash":     func(h *snapshotHeader) { h.Hash[0] ^= 1 },
		"another event id": func(h *snapshotHeader) { h.EventID[15] ^= 1 },
	} {
		h := hdr
		edit(&h)
		b, err := json.Marshal(h)
		require.NoError(t, err)
		file := reseal(t, bytes.Join(append([][]byte{lines[0], append(b, '\n')}, lines[2:]...), nil))
		require.NoError(t, os.WriteFile(snap, file, 0o644))
		m, err := NewManager(w.ctx, st, Options{Clock: w.clock})
		require.NoError(t, err, name)
		require.Empty(t, m.Started().Snapshot.Path, name)
		require.ErrorIs(t, m.Started().SnapshotIgnored, ErrSnapshotMismatch, name)
		require.Equal(t, int(m.Head()), m.Started().Replayed, name)
		requireSameState(t, w.m.State(), m.State())
	}
}

// TestProcessDueRoundsUnderACommandID: an assignment that starts and ends
// within ProcessDue's interval is delivered and then expired by one call,
// also one made with a command id (the id names the call's first round);
// the call's Result carries that id, and repeating it is a duplicate.
func TestProcessDueRoundsUnderACommandID(t *testing.T) {
	w, fd := accessWorld(t)
	polID := customSchedulePolicy(w)
	alice := w.actors["alice"]
	start := w.clock.t.Add(time.Hour)
	req := w.do(alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: polID, Schedule: EntitlementManagementSchedule{StartDateTime: start,
			Expiration: ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: start.Add(time.Hour)}}}).ID
	w.clock.t = start.Add(2 * time.Hour)
	res, err := w.m.ProcessDue(w.ctx, w.clock.t, WithCommandID("tick"))
	require.NoError(t, err)
	require.NoError(t, res.DeliveryError)
	require.Equal(t, "tick", res.CommandID)
	require.False(t, res.Duplicate)
	a := w.getAssignment(w.getRequest(req).AssignmentID)
	require.Equal(t, AssignmentStateExpired, a.State, "delivered, then expired, in one call")
	require.Empty(t, fd.heldBy(alice.ID), "granted and revoked")
	require.Contains(t, fd.calls, "revoke "+alice.ID+" "+w.id["RS-P2"])
	h := w.head()
	again, err := w.m.ProcessDue(w.ctx, w.clock.t, WithCommandID("tick"))
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, h, w.head())
}

// TestDeliverPendingLeavesAnExpiryDueToProcessDue: a grant still pending
// (its command's process died before delivering) to an assignment whose
// end has passed and is not recorded yet is not delivered by
// DeliverPending: ProcessDue expires the assignment, and the role is never
// granted.
func TestDeliverPendingLeavesAnExpiryDueToProcessDue(t *testing.T) {
	w, fd := accessWorld(t)
	alice := w.actors["alice"]
	w.request("alice", "P2", "Pol2")
	require.Equal(t, []string{w.id["RS-P2"]}, fd.heldBy(alice.ID))
	// A role scope added to P2 the day before alice's assignment ends (Pol2's
	// last 30 days), by a process that died before delivering.
	w.clock.t = w.clock.t.Add(29 * 24 * time.Hour)
	ga := w.actors["GA"]
	evs, err := Decide(w.state(), ga, w.clock.t, SeededIDs(9), AddResourceRoleScope{AccessPackageID: w.id["P2"],
		RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	require.NoError(t, err)
	var nes []eventstore.NewEvent
	for _, e := range evs {
		ne, err := e.encode(w.clock.t, eventstore.Metadata{ActorID: ga.ID, ActorKind: string(ga.Kind), CommandID: "crashed"})
		require.NoError(t, err)
		nes = append(nes, ne)
	}
	_, err = w.store.Append(w.ctx, eventstore.AnyCondition, nes...)
	require.NoError(t, err)
	w.clock.t = w.clock.t.Add(2 * 24 * time.Hour)
	grants := func() int {
		n := 0
		for _, c := range fd.calls {
			if strings.HasPrefix(c, "grant "+alice.ID+" ") {
				n++
			}
		}
		return n
	}
	_, err = w.m.DeliverPending(w.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, grants(), "nothing more is granted to an assignment whose end has passed")
	_, err = w.m.ProcessDue(w.ctx, w.clock.t)
	require.NoError(t, err)
	require.Equal(t, 1, grants())
	require.Empty(t, fd.heldBy(alice.ID))
}

// TestPipelineAfterAConflict: once a conflict has been caught up with,
// commands are decided on the commands in flight again: one decided on a
// user whose creation is being written is not refused.
func TestPipelineAfterAConflict(t *testing.T) {
	w, hs, m, sc, ga := heldManager(t, Options{})
	other, err := NewManager(w.ctx, hs.Store, Options{Clock: w.clock, IDs: SeededIDs(49)})
	require.NoError(t, err)
	_, err = other.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Another writer's"})
	require.NoError(t, err)
	_, err = m.Execute(w.ctx, ga, CreateCatalog{DisplayName: "Conflicts once"})
	require.NoError(t, err)
	u := nameID("user/held")
	// The user's creation is written only once released: a catch-up
	// meanwhile does not see it.
	queued, release := make(chan struct{}), make(chan struct{})
	hs.setTicket(func(cmd string, write func() eventstore.Ticket) eventstore.Ticket {
		if cmd != "create-user" {
			return write()
		}
		close(queued)
		return func(c context.Context) (eventstore.AppendResult, error) {
			<-release
			return write()(c)
		}
	})
	created := make(chan error, 1)
	go func() {
		_, err := m.Execute(w.ctx, sys, PutUser{User: User{ID: u, DisplayName: "held", AccountEnabled: true}}, WithCommandID("create-user"))
		created <- err
	}()
	<-queued
	done := joined(t, m, sc, func() error {
		_, err := m.Execute(w.ctx, sys, SetUserAttribute{UserID: u, Name: "department", Value: "Sales"})
		return err
	})
	close(release)
	require.NoError(t, <-created)
	require.NoError(t, <-done, "decided on the user being written")
	requireReplayEqual(t, w)
}

// TestCheckSnapshotComparesCommandIDs: CheckSnapshot finds a snapshot
// whose command ids (edited and resealed) are not the log's.
func TestCheckSnapshotComparesCommandIDs(t *testing.T) {
	w, _, snap, good := snapshotted(t)
	lines := bytes.SplitAfter(good, []byte("\n"))
	var edited [][]byte
	dropped := false
	for _, l := range lines {
		if !dropped && bytes.HasPrefix(l, []byte("command ")) {
			dropped = true
			continue
		}
		edited = append(edited, l)
	}
	require.True(t, dropped)
	require.NoError(t, os.WriteFile(snap, reseal(t, bytes.Join(edited, nil)), 0o644))
	err := w.m.CheckSnapshot(w.ctx, "")
	require.ErrorIs(t, err, ErrSnapshotMismatch)
	require.Contains(t, err.Error(), "command ids differ")
}
