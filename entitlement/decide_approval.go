package entitlement

import (
	"errors"
	"strings"
	"time"
)

// escalationAt returns when an open stage escalates, if its definition
// escalates it before its automatic denial and it has not escalated yet.
func escalationAt(st *ApprovalStageState, def ApprovalStage) (time.Time, bool) {
	if !def.IsEscalationEnabled || st.Escalated || def.DurationBeforeEscalation.IsZero() {
		return time.Time{}, false
	}
	at := def.DurationBeforeEscalation.AddTo(st.OpenedDateTime)
	return at, at.Before(def.DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime))
}

// deniedAt returns when request r's open stage is denied for want of a
// decision, if it is waiting for one.
func deniedAt(r *AssignmentRequest) (*ApprovalStageState, time.Time, bool) {
	st := r.currentStage()
	if st == nil || st.Stage < 1 || st.Stage > len(r.Policy.RequestApprovalSettings.Stages) {
		return nil, time.Time{}, false
	}
	return st, r.Policy.RequestApprovalSettings.Stages[st.Stage-1].DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime), true
}

// escalation is the event of a request's open stage escalated: st, as
// State.escalated made it.
func escalation(requestID string, st ApprovalStageState) Event {
	return Event{Stream: requestStream(requestID), Type: EventApprovalStageEscalated,
		Data: &ApprovalStagePayload{RequestID: requestID, Stage: st}}
}

// timeOutDue records, as ProcessDue would and as of when they fell due,
// the escalation and then the automatic denial of request id's open stage
// if its denial has come, so that a command decides after them whenever
// ProcessDue last ran.
func (p *plan) timeOutDue(id string) {
	r, ok := p.s.requests.Get(id)
	if !ok {
		return
	}
	st, at, ok := deniedAt(r)
	if !ok || at.After(p.now) {
		return
	}
	now := p.now
	defer func() { p.now = now }()
	def := r.Policy.RequestApprovalSettings.Stages[st.Stage-1]
	p.bySystem(func() {
		if esc, ok := escalationAt(st, def); ok {
			p.now = esc
			p.emitEvent(escalation(r.ID, p.s.escalated(r, st, def, esc)))
		}
		p.now = at
		p.requestChanged(EventAssignmentRequestTimedOut, id, "", at)
	})
}

func (c UpdateApprovalStage) decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error) {
	op := c.commandName()
	r, ok := s.requests.Get(c.ApprovalID)
	if !ok {
		return decision{}, notFound(op, subject("approval", c.ApprovalID))
	}
	sub := subject("approval", r.ID)
	var st *ApprovalStageState
	for i := range r.Stages {
		if r.Stages[i].ID == c.StageID {
			st = &r.Stages[i]
		}
	}
	if st == nil {
		return decision{}, notFound(op, subject("approvalStage", c.StageID))
	}
	if a.Kind != ActorUser {
		why := "approval decisions are made by users, not with application permissions"
		if a.Kind == ActorExternalUser {
			why = "approval decisions are made by users of the directory, not by a person outside it"
		}
		return decision{}, fail(op, ErrForbidden, sub, "%s", why)
	}
	if a.ID == r.RequestorID || a.ID == r.TargetID {
		return decision{}, fail(op, ErrForbidden, sub, "nobody approves their own request")
	}
	if st.Stage < 1 || st.Stage > len(r.Policy.RequestApprovalSettings.Stages) {
		return decision{}, fail(op, ErrConflict, sub, "stage %d is not one of the request's policy", st.Stage)
	}
	def := r.Policy.RequestApprovalSettings.Stages[st.Stage-1]
	// The stage's time-driven work that fell due by now counts even if
	// ProcessDue has not recorded it yet, so that no decision depends on
	// how lately the embedding program ran it: an escalation due is
	// recorded first (its approvers may decide), and a stage past its
	// automatic denial can no longer be decided.
	current := r.currentStage()
	open := current != nil && current.ID == st.ID
	var escalated *ApprovalStageState
	if at, ok := escalationAt(st, def); open && ok && !at.After(now) {
		esc := s.escalated(r, st, def, at)
		escalated = &esc
	}
	if !st.mayDecide(a.ID) && (escalated == nil || !escalated.mayDecide(a.ID)) {
		return decision{}, fail(op, ErrForbidden, sub, "the actor is not an approver of this stage")
	}
	switch {
	case !open && r.State != RequestStatePendingApproval:
		return decision{}, fail(op, ErrConflict, sub, "the request is %s (status %s): its stages can no longer be decided", r.State, r.Status)
	case !open:
		return decision{}, fail(op, ErrConflict, sub, "the stage was already decided")
	}
	if deny := def.DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime); !deny.After(now) {
		return decision{}, fail(op, ErrConflict, sub, "the stage timed out at %s without a decision, and the request with it "+
			"(ProcessDue records it): it can no longer be decided", deny.Format(time.RFC3339))
	}
	if x, ok := s.assignments.Get(r.AssignmentID); ok && requestTypeKind(r.RequestType) == kindUpdate && x.endedBy(now) {
		end, _ := x.End()
		return decision{}, fail(op, ErrConflict, sub, "the assignment ended at %s, before the request was decided, which "+
			"cancels the request (ProcessDue records both): it can no longer be decided", end.Format(time.RFC3339))
	}
	var typ string
	switch c.ReviewResult {
	case DecisionApprove:
		typ = EventAssignmentRequestApproved
	case DecisionDeny:
		typ = EventAssignmentRequestDenied
	default:
		return decision{}, invalid(op, "reviewResult", "must be %q or %q", DecisionApprove, DecisionDeny)
	}
	if def.IsApproverJustificationRequired && strings.TrimSpace(c.Justification) == "" {
		return decision{}, invalid(op, "justification", "the stage requires the approver's justification")
	}
	p := newPlan(s, ids, now)
	if s.hasUserDue(r.TargetID, now) {
		// What fell due about the target (an expiry, a workflow's run) is
		// recorded first, and may have ended the request.
		p.userDue(r.TargetID)
		if cur, _ := p.s.requests.Get(r.ID); cur == nil || cur.currentStage() == nil || cur.currentStage().ID != st.ID {
			return decision{}, fail(op, ErrConflict, sub, "work that fell due about the target, not yet recorded, "+
				"ended the request (ProcessDue records it): it can no longer be decided")
		}
	}
	if typ == EventAssignmentRequestApproved && st.Stage == len(r.Policy.RequestApprovalSettings.Stages) {
		// What held when the request was made may not hold any more.
		if err := checkDeliverable(p.s, op, r, now); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				return decision{}, err
			}
			return decision{}, fail(op, ErrConflict, sub, "the request can no longer be approved: %s (%s); deny it", e.Reason, e.Subject)
		}
	}
	if escalated != nil {
		e := escalation(r.ID, *escalated)
		e.BySystem = true
		p.emitEvent(e)
	}
	p.emitEvent(Event{Stream: requestStream(r.ID), Type: typ, Data: &ApprovalDecision{
		RequestID: r.ID, StageID: st.ID, ReviewedBy: a.ID, Justification: c.Justification, ReviewedDateTime: now}})
	if typ == EventAssignmentRequestApproved {
		if st.Stage < len(r.Policy.RequestApprovalSettings.Stages) {
			p.openStage(r.ID, st.Stage)
		} else {
			p.approved(r.ID)
		}
	}
	return p.decision(r.ID)
}
