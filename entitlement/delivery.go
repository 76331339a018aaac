package entitlement

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Deliverer grants and revokes the resource roles of access packages in
// the systems that hold them: adding a subject to a group, assigning an
// application role, sharing a site. The embedding program implements it;
// the Manager calls it after appending the events that start a delivery
// or end an assignment, and records each outcome as an event.
//
// Both methods should be idempotent: a grant of a role the subject has, or
// a revocation of one it lacks, succeeds. An error records the role as
// failed (deliveryFailed), with the error's text as the reason; such a
// grant is not retried by itself: ReprocessAssignmentRequest retries it
// (within the tenant's reprocess window, as Graph's reprocess does). A
// delivery that did not finish (a context that ended, a crash) stays
// pending, and Manager.DeliverPending finishes it.
type Deliverer interface {
	Grant(ctx context.Context, g Grant) error
	Revoke(ctx context.Context, g Grant) error
}

// Grant is one resource role for one subject, as granted through one
// assignment.
type Grant struct {
	SubjectID           string
	AssignmentID        string
	AccessPackageID     string
	ResourceRoleScopeID string
	ResourceID          string
	OriginSystem        string
	OriginID            string
	RoleID              string
	RoleOriginID        string
	ScopeID             string
	ScopeOriginID       string
}

// RecordOnlyDeliverer is the default Deliverer: it touches no system and
// always succeeds, so the log records what should be granted.
type RecordOnlyDeliverer struct{}

// Grant does nothing and succeeds.
func (RecordOnlyDeliverer) Grant(context.Context, Grant) error { return nil }

// Revoke does nothing and succeeds.
func (RecordOnlyDeliverer) Revoke(context.Context, Grant) error { return nil }

// deliveryWork is one pending grant or removal.
type deliveryWork struct {
	grant  Grant
	action string
}

// pendingDeliveryOf lists the pending grants and removals of the
// assignments ids, sorted by assignment and role scope, and those of them
// in delivering with nothing pending, whose requests await completion.
func (s *State) pendingDeliveryOf(ids []string) (work []deliveryWork, complete []string) {
	for _, id := range ids {
		a, ok := s.assignments.Get(id)
		if !ok || !a.hasDeliveryWork() {
			continue
		}
		pending := false
		for _, r := range a.Resources {
			var action string
			switch r.Status {
			case DeliveryPendingGrant:
				action = DeliveryActionGrant
			case DeliveryPendingRemoval:
				action = DeliveryActionRevoke
			default:
				continue
			}
			pending = true
			work = append(work, deliveryWork{action: action, grant: Grant{
				SubjectID: a.TargetID, AssignmentID: a.ID, AccessPackageID: a.AccessPackageID,
				ResourceRoleScopeID: r.ResourceRoleScopeID, ResourceID: r.ResourceID, OriginSystem: r.OriginSystem,
				OriginID: r.OriginID, RoleID: r.RoleID, RoleOriginID: r.RoleOriginID, ScopeID: r.ScopeID,
				ScopeOriginID: r.ScopeOriginID,
			}})
		}
		if !pending && a.State == AssignmentStateDelivering {
			complete = append(complete, a.ID)
		}
	}
	return work, complete
}

// deliver calls d for the pending work: grants first, then removals. A
// role is not revoked while another non-ended assignment of the same
// subject grants it (effective access is the union of assignments).
func (s *State) deliver(ctx context.Context, d Deliverer, work []deliveryWork) []DeliveryOutcome {
	var out []DeliveryOutcome
	granted := map[[2]string]bool{} // assignment, role scope: granted in this round
	failed := map[[2]string]bool{}
	for _, w := range work {
		if w.action != DeliveryActionGrant {
			continue
		}
		o := DeliveryOutcome{AssignmentID: w.grant.AssignmentID, ResourceRoleScopeID: w.grant.ResourceRoleScopeID, Action: w.action}
		k := [2]string{w.grant.AssignmentID, w.grant.ResourceRoleScopeID}
		if err := callSafely(ctx, d.Grant, w.grant); err != nil {
			o.Error = err.Error()
			failed[k] = true
		} else {
			granted[k] = true
		}
		out = append(out, o)
	}
	for _, w := range work {
		if w.action != DeliveryActionRevoke {
			continue
		}
		o := DeliveryOutcome{AssignmentID: w.grant.AssignmentID, ResourceRoleScopeID: w.grant.ResourceRoleScopeID, Action: w.action}
		if keeper := s.keeperOf(w.grant, granted, failed); keeper != "" {
			o.Note = "kept: assignment " + keeper + " also grants this role"
		} else if err := callSafely(ctx, d.Revoke, w.grant); err != nil {
			o.Error = err.Error()
		}
		out = append(out, o)
	}
	return out
}

// keeperOf returns another non-ended assignment of the subject that holds
// the role at the scope of the same origin object (granted before or in
// this round), or "".
func (s *State) keeperOf(g Grant, granted, failed map[[2]string]bool) string {
	var ids []string
	for id := range s.ix.liveByTarget.Members(g.SubjectID) {
		a, _ := s.assignments.Get(id)
		if id == g.AssignmentID {
			continue
		}
		// The same role of the same origin object (a group, an app) may
		// come through another catalog's resource, with ids of its own.
		for _, r := range a.Resources {
			if r.OriginSystem != g.OriginSystem || r.OriginID != g.OriginID || r.RoleOriginID != g.RoleOriginID || r.ScopeOriginID != g.ScopeOriginID {
				continue
			}
			if k := [2]string{id, r.ResourceRoleScopeID}; granted[k] || r.Status == DeliveryFulfilled && !failed[k] {
				ids = append(ids, id)
				break
			}
		}
	}
	if len(ids) == 0 {
		return ""
	}
	sort.Strings(ids)
	return ids[0]
}

// callSafely calls f, turning a panic in the embedding program's code into
// an error so that the outcome is still recorded.
func callSafely(ctx context.Context, f func(context.Context, Grant) error, g Grant) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return f(ctx, g)
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("deliverer panicked: %v", p.v) }

func (c RecordDelivery) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if a.Kind != ActorSystem {
		return decision{}, fail(op, ErrForbidden, "", "only the system records delivery outcomes")
	}
	p := newPlan(s, ids, now)
	for i, o := range c.Outcomes {
		x, ok := p.s.assignments.Get(o.AssignmentID)
		if !ok {
			return decision{}, notFound(op, subject("assignment", o.AssignmentID))
		}
		rec := x.resource(o.ResourceRoleScopeID)
		var typ string
		switch {
		case rec == nil:
			continue // stale: the package changed since
		case o.Action == DeliveryActionGrant && rec.Status == DeliveryPendingGrant:
			typ = EventResourceAssignmentFulfilled
			if o.Error != "" {
				typ = EventResourceAssignmentFailed
			}
		case o.Action == DeliveryActionRevoke && rec.Status == DeliveryPendingRemoval:
			typ = EventResourceAssignmentRemoved
			if o.Error != "" {
				typ = EventResourceAssignmentRemovalFailed
			}
		case o.Action != DeliveryActionGrant && o.Action != DeliveryActionRevoke:
			return decision{}, invalid(op, "outcomes["+itoa(i)+"].action", "must be %q or %q", DeliveryActionGrant, DeliveryActionRevoke)
		default:
			continue // stale: no longer pending
		}
		r := *rec
		r.Reason = o.Error
		if o.Error == "" {
			r.Reason = o.Note
		}
		p.emitEvent(Event{Stream: assignmentStream(x.ID), Type: typ,
			Data: &ResourceDeliveryPayload{AssignmentID: x.ID, TargetID: x.TargetID, Resource: r}})
	}
	// Complete the requests of the assignments whose delivery this ended.
	done := map[string]bool{}
	for _, id := range append(slices.Collect(func(yield func(string) bool) {
		for _, o := range c.Outcomes {
			if !yield(o.AssignmentID) {
				return
			}
		}
	}), c.Complete...) {
		x, ok := p.s.assignments.Get(id)
		if !ok || done[id] || x.State != AssignmentStateDelivering || x.hasPending() {
			continue
		}
		done[id] = true
		outcome := deliveryOutcome(x.Resources)
		p.requestChanged(outcomeEventType(outcome), x.RequestID, x.ID, now)
	}
	for i, d := range c.Directory {
		u, ok := p.s.users.Get(d.UserID)
		if !ok {
			return decision{}, notFound(op, subject("user", d.UserID))
		}
		if u.Lifecycle == nil || u.Lifecycle.PendingChange != d.Change {
			if d.Change != DirectoryChangeBlockSignIn && d.Change != DirectoryChangeUnblockSignIn && d.Change != DirectoryChangeDelete {
				return decision{}, invalid(op, "directory["+itoa(i)+"].change", "unknown change %q", d.Change)
			}
			continue // stale: no longer pending
		}
		typ := EventGuestChangeDelivered
		if d.Error != "" {
			typ = EventGuestChangeFailed
		}
		p.emitEvent(Event{Stream: userStream(u.ID), Type: typ, Data: &DirectoryChangeOutcome{UserID: u.ID, Change: d.Change, Reason: d.Error}})
	}
	return p.decision("")
}

// DirectoryDeliverer carries out in the embedding program's directory
// what the external user lifecycle decides for a governed guest: block
// their sign-in when they lose their last assignment, allow it again when
// they get a new one before their deletion, delete them when it comes. A
// Deliverer that also implements DirectoryDeliverer gets these calls, and
// their outcomes are recorded like those of grants; with one that does
// not, they are recorded as done. A failed change is recorded
// (externalUserChangeFailed, with the reason, in the guest's Lifecycle)
// and not tried again by itself.
type DirectoryDeliverer interface {
	BlockSignIn(ctx context.Context, userID string) error
	UnblockSignIn(ctx context.Context, userID string) error
	DeleteUser(ctx context.Context, userID string) error
}

// deliverDirectory calls d for the pending directory change of each user.
func (s *State) deliverDirectory(ctx context.Context, d Deliverer, users []string) []DirectoryChangeResult {
	dd, _ := d.(DirectoryDeliverer)
	var out []DirectoryChangeResult
	for _, id := range users {
		u, ok := s.users.Get(id)
		if !ok || u.Lifecycle == nil || u.Lifecycle.PendingChange == "" {
			continue
		}
		r := DirectoryChangeResult{UserID: id, Change: u.Lifecycle.PendingChange}
		if dd != nil {
			f := map[string]func(context.Context, string) error{
				DirectoryChangeBlockSignIn: dd.BlockSignIn, DirectoryChangeUnblockSignIn: dd.UnblockSignIn, DirectoryChangeDelete: dd.DeleteUser,
			}[r.Change]
			if err := callSafely(ctx, func(ctx context.Context, _ Grant) error { return f(ctx, id) }, Grant{SubjectID: id}); err != nil {
				r.Error = err.Error()
			}
		}
		out = append(out, r)
	}
	return out
}
