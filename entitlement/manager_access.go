package entitlement

import (
	"context"
	"slices"
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

// maxDeliveryRounds bounds the RecordDelivery commands one call executes.
// A round settles everything pending, so two rounds suffice unless other
// writers keep adding work.
const maxDeliveryRounds = 8

// deliverAfter delivers what a command's events started or ended: the
// pending grants and removals of the assignments they touched, and no
// other, so that a slow Deliverer delays only the commands whose work it
// is doing. decided are the command's domain events (nil for a repeat,
// whose stored events are decoded).
func (m *Manager) deliverAfter(ctx context.Context, res Result, decided []Event) ([]eventstore.Event, error) {
	if decided == nil {
		for _, e := range res.Events {
			de, err := m.decode(e)
			if err != nil {
				return nil, err
			}
			decided = append(decided, de)
		}
	}
	ids := touchedAssignments(m.State(), decided)
	var out []eventstore.Event
	if len(ids) > 0 {
		evs, err := m.deliver(ctx, ids, res.CommandID)
		out = append(out, evs...)
		if err != nil {
			return out, err
		}
	}
	if users := touchedGuests(decided); len(users) > 0 {
		evs, err := m.deliverDirectory(ctx, users, res.CommandID)
		out = append(out, evs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// touchedGuests returns the guests whose directory change events may have
// left pending.
func touchedGuests(events []Event) []string {
	var ids []string
	for _, e := range events {
		if d, ok := e.Data.(*GuestLifecycleChanged); ok {
			ids = append(ids, d.UserID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// deliverDirectory calls the DirectoryDeliverer for the pending directory
// changes of the users and records the outcomes with RecordDelivery,
// caused by the command causation.
func (m *Manager) deliverDirectory(ctx context.Context, users []string, causation string) ([]eventstore.Event, error) {
	results := m.State().deliverDirectory(ctx, m.opts.Deliverer, users)
	if len(results) == 0 {
		return nil, nil
	}
	res, _, err := m.run(ctx, SystemActor(), RecordDelivery{Directory: results}, time.Time{}, execOptions{causationID: causation})
	return res.Events, err
}

// touchedAssignments returns the assignments whose resource roles events
// may have left pending: those they create, end, reprocess or whose
// package's role scopes they change.
func touchedAssignments(s *State, events []Event) []string {
	var ids []string
	for _, e := range events {
		switch d := e.Data.(type) {
		case *AssignmentDelivering:
			ids = append(ids, d.Assignment.ID)
		case *AssignmentExpired:
			ids = append(ids, d.AssignmentID)
		case *AssignmentRef:
			ids = append(ids, d.AssignmentID)
		case *RequestChanged:
			if d.AssignmentID != "" {
				ids = append(ids, d.AssignmentID)
			}
		case *ResourceRoleScopeChanged:
			ids = append(ids, collect(&s.ix.liveByPackage, d.AccessPackageID)...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// deliveryStripes is how many locks the subjects of deliveries are spread
// over.
const deliveryStripes = 64

// deliveringKey marks the context a Deliverer is called with, so that a
// Deliverer that executes commands with it does not wait for the subject
// locks its own delivery holds.
type deliveringKey struct{}

// deliver calls the Deliverer for the pending grants and removals of the
// assignments ids and records the outcomes with RecordDelivery, caused by
// the command causation.
//
// The manager's lock is not held while the Deliverer works: it may take
// its time, and call the Manager. Deliveries to the same subject are
// serialised (by striped locks on the subject): a role is revoked only when
// no other assignment of the subject holds it, and that is decided on the
// state read once the subject's earlier deliveries are recorded, so that a
// revocation never undoes a grant made in between. Deliveries to other
// subjects go on at the same time. Two processes delivering to one subject
// at once are not serialised: run delivery in one of them (see
// DeliverPending) if their Deliverer cannot tell.
func (m *Manager) deliver(ctx context.Context, ids []string, causation string) ([]eventstore.Event, error) {
	if ctx.Value(deliveringKey{}) == nil {
		var stripes []int
		s := m.State()
		for _, id := range ids {
			if a, ok := s.assignments.Get(id); ok {
				stripes = append(stripes, int(stableHash(a.TargetID)%deliveryStripes))
			}
		}
		slices.Sort(stripes)
		for _, i := range slices.Compact(stripes) {
			m.deliveries[i].Lock()
			defer m.deliveries[i].Unlock()
		}
		ctx = context.WithValue(ctx, deliveringKey{}, true)
	}
	var out []eventstore.Event
	for range maxDeliveryRounds {
		s := m.State()
		work, complete := s.pendingDeliveryOf(ids)
		if len(work) == 0 && len(complete) == 0 {
			break
		}
		outcomes := s.deliver(ctx, m.opts.Deliverer, work)
		res, _, err := m.run(ctx, SystemActor(), RecordDelivery{Outcomes: outcomes, Complete: complete}, time.Time{},
			execOptions{causationID: causation})
		if err != nil {
			return out, err
		}
		if len(res.Events) == 0 {
			break
		}
		out = append(out, res.Events...)
	}
	return out, nil
}

// DeliverPending calls the Deliverer for every grant and removal still
// pending (after a crash between a command and its delivery, say, or a
// delivery whose recording failed) and records the outcomes. Execute and
// ProcessDue deliver what their own events start or end by themselves. A
// delivery that failed (the Deliverer returned an error, recorded as
// deliveryFailed) is not pending: ReprocessAssignmentRequest retries it,
// as Graph's reprocess of a request does. An assignment whose expiry is
// due and not recorded yet is left to ProcessDue, which expires it and
// revokes what it holds: nothing more is granted to it (one still being
// delivered is delivered: it expires once delivered).
func (m *Manager) DeliverPending(ctx context.Context) (Result, error) {
	if err := m.CatchUp(ctx); err != nil {
		return Result{}, err
	}
	s := m.State()
	now := m.opts.Clock.Now()
	ids := slices.DeleteFunc(slices.Collect(s.ix.deliveries.Keys()), func(id string) bool {
		a, ok := s.assignments.Get(id)
		return ok && a.expiryDue(now)
	})
	evs, err := m.deliver(ctx, ids, "")
	if err != nil {
		return Result{Delivery: evs}, err
	}
	more, err := m.deliverDirectory(ctx, slices.Collect(s.ix.pendingDirectory.Keys()), "")
	return Result{Delivery: append(evs, more...)}, err
}

// ProcessDue processes everything due up to until, in time order: approval
// stages escalating, requests timing out, scheduled requests starting,
// expiry notices 14 days and 1 day ahead, assignments expiring, automatic
// assignments removed after their grace period, lifecycle workflow runs,
// access reviews starting and closing, and blocked guests' deletions; then
// it delivers what that started or ended (grants, revocations, and the
// directory changes of the external user lifecycle). Its events carry until as their
// time; the times inside them (expiredDateTime, completedDateTime …) are
// the instants the work fell due. Nothing time-driven happens on its own
// without this call, though every command first records what fell due by
// its time (see the package documentation), so that calling it often
// keeps that work off the commands' path. until may not be after the
// clock's now. The due work is found
// in a queue ordered by time: with nothing due, ProcessDue costs a look at
// its first entry.
func (m *Manager) ProcessDue(ctx context.Context, until time.Time, opts ...ExecOption) (Result, error) {
	var xo execOptions
	for _, o := range opts {
		o(&xo)
	}
	if now := m.opts.Clock.Now(); until.After(now) {
		return Result{}, invalid("ProcessDue", "until", "%s is after the clock's now (%s)", until.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	// Delivery can finish work that then falls due (an assignment that
	// started and ended within the interval expires once delivered), so
	// process again until nothing is due.
	var res Result
	for round := range maxDeliveryRounds {
		if round > 0 {
			xo.commandID = ""
		}
		r, decided, err := m.run(ctx, SystemActor(), AdvanceTime{}, until, xo)
		if err != nil {
			return res, err
		}
		if round == 0 {
			res.ID, res.CommandID, res.Duplicate = r.ID, r.CommandID, r.Duplicate
		}
		res.Events = append(res.Events, r.Events...)
		evs, err := m.deliverAfter(ctx, r, decided)
		res.Delivery = append(res.Delivery, evs...)
		if err != nil {
			res.DeliveryError = err
			return res, nil
		}
		if len(r.Events) == 0 || r.Duplicate || len(evs) == 0 {
			return res, nil
		}
	}
	return res, nil
}
