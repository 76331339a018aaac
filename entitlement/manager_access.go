package entitlement

import (
	"context"
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

// maxDeliveryRounds bounds the RecordDelivery commands one call executes.
// A round settles everything pending, so two rounds suffice unless other
// writers keep adding work.
const maxDeliveryRounds = 8

// deliverPending calls the Deliverer for every pending grant and removal
// and records the outcomes with RecordDelivery, caused by the command
// causation. The caller holds m.mu.
//
// The Deliverer is called under the manager's lock, so commands wait while
// it works; a slow Deliverer should queue the work and return.
func (m *Manager) deliverPending(ctx context.Context, causation string) ([]eventstore.Event, error) {
	var out []eventstore.Event
	for range maxDeliveryRounds {
		work, finish := m.state.pendingDelivery()
		if len(work) == 0 && !finish {
			break
		}
		outcomes := m.state.deliver(ctx, m.opts.Deliverer, work)
		res, err := m.execute(ctx, SystemActor(), RecordDelivery{Outcomes: outcomes}, time.Time{},
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

// DeliverPending calls the Deliverer for grants and removals still pending
// (after a crash between a command and its delivery, say) and records the
// outcomes. Execute and ProcessDue do this by themselves.
func (m *Manager) DeliverPending(ctx context.Context) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.catchUp(ctx); err != nil {
		return Result{}, err
	}
	evs, err := m.deliverPending(ctx, "")
	return Result{Delivery: evs}, err
}

// ProcessDue processes everything due up to until, in time order: approval
// stages escalating, requests timing out, scheduled requests starting,
// expiry notices 14 days and 1 day ahead, and assignments expiring; then it
// delivers what that started or ended. Its events carry until as their
// time; the times inside them (expiredDateTime, completedDateTime …) are
// the instants the work fell due. Nothing time-driven happens without
// this call. until may not be after the clock's now.
func (m *Manager) ProcessDue(ctx context.Context, until time.Time, opts ...ExecOption) (Result, error) {
	var xo execOptions
	for _, o := range opts {
		o(&xo)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := m.opts.Clock.Now(); until.After(now) {
		return Result{}, invalid("ProcessDue", "until", "%s is after the clock's now (%s)", until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	// Delivery can finish work that then falls due (an assignment that
	// started and ended within the interval expires once delivered), so
	// process again until nothing is due.
	var res Result
	for round := range maxDeliveryRounds {
		if round > 0 {
			xo.commandID = ""
		}
		r, err := m.execute(ctx, SystemActor(), AdvanceTime{}, until, xo)
		if err != nil {
			return res, err
		}
		if round == 0 {
			res.ID, res.Duplicate = r.ID, r.Duplicate
		}
		res.Events = append(res.Events, r.Events...)
		evs, err := m.deliverPending(ctx, m.lastCommandID)
		res.Delivery = append(res.Delivery, evs...)
		if err != nil || len(r.Events) == 0 || r.Duplicate || len(evs) == 0 {
			return res, err
		}
	}
	return res, nil
}
