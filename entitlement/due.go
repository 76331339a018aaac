package entitlement

import (
	"cmp"
	"time"
)

// Kinds of due work, in the order they run when due at the same instant.
const (
	dueEscalation = iota
	dueDenial
	dueStart
	dueNotice14
	dueNotice1
	dueExpiry
	dueAutomaticRemoval
	dueWorkflowRun
	dueGuestDeletion
	dueReviewEnd // a review closes before the next of its policy starts
	dueReviewStart
)

// dueItem is one piece of time-driven work.
type dueItem struct {
	at   time.Time
	kind int
	id   string // request or assignment
}

func (d dueItem) less(e dueItem) int {
	return cmp.Or(d.at.Compare(e.at), cmp.Compare(d.kind, e.kind), cmp.Compare(d.id, e.id))
}

// nextDue returns the earliest work due at or before until: the first
// entry of the due queue.
func (s *State) nextDue(until time.Time) (dueItem, bool) {
	k, _, ok := s.ix.due.Min()
	if !ok {
		return dueItem{}, false
	}
	d := parseDueKey(k)
	if d.at.After(until) {
		return dueItem{}, false
	}
	return d, true
}

// maxDueSteps bounds the work one AdvanceTime does; each step changes the
// state so that it is not due again, so the bound is only a safety net.
const maxDueSteps = 1 << 20

func (c AdvanceTime) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	if a.Kind != ActorSystem {
		return decision{}, fail(op, ErrForbidden, "", "only the system processes due work")
	}
	p := newPlan(s, ids, now)
	for range maxDueSteps {
		d, ok := p.s.nextDue(now)
		if !ok || p.err != nil {
			break
		}
		p.now = d.at
		switch d.kind {
		case dueEscalation:
			r, _ := p.s.requests.Get(d.id)
			cur := r.currentStage()
			p.emitEvent(escalation(r.ID, p.s.escalated(r, cur, r.Policy.RequestApprovalSettings.Stages[cur.Stage-1], d.at)))
		case dueDenial:
			p.requestChanged(EventAssignmentRequestTimedOut, d.id, "", d.at)
		case dueStart:
			p.deliver(d.id)
		case dueNotice14, dueNotice1:
			x, _ := p.s.assignments.Get(d.id)
			end, _ := x.End()
			if !end.After(now) {
				// Processed only after the end it announces: the
				// assignment expires instead, at its end, and nobody is
				// told of an end that has passed.
				p.now = end
				p.expire(d.id, "", end)
				continue
			}
			typ := EventAssignmentFourteenDaysBeforeExpiration
			if d.kind == dueNotice1 {
				typ = EventAssignmentOneDayBeforeExpiration
			}
			pol, _ := p.s.policies.Get(x.AssignmentPolicyID)
			p.emitEvent(Event{Stream: assignmentStream(x.ID), Type: typ,
				Data: &AssignmentNotice{AssignmentID: x.ID, TargetID: x.TargetID, EndDateTime: end,
					NotificationDisabled: pol != nil && pol.Policy.NotificationSettings.IsAssignmentNotificationDisabled}})
		case dueExpiry:
			p.expire(d.id, "", d.at)
		case dueAutomaticRemoval:
			p.dueAutomaticRemoval(d.id)
		case dueWorkflowRun:
			p.dueWorkflowRun(d.id)
		case dueGuestDeletion:
			p.deleteGuest(d.id)
		case dueReviewStart:
			p.startReview(d.id)
		case dueReviewEnd:
			p.applyReviewResults(d.id, false)
		}
	}
	return p.decision("")
}
