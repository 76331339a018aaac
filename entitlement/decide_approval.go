package entitlement

import (
	"strings"
	"time"
)

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
		return decision{}, fail(op, ErrForbidden, sub, "approval decisions are made by users, not with application permissions")
	}
	if a.ID == r.RequestorID || a.ID == r.TargetID {
		return decision{}, fail(op, ErrForbidden, sub, "nobody approves their own request")
	}
	if !st.mayDecide(a.ID) {
		return decision{}, fail(op, ErrForbidden, sub, "the actor is not an approver of this stage")
	}
	if cur := r.currentStage(); cur == nil || cur.ID != st.ID {
		return decision{}, fail(op, ErrConflict, sub, "the stage was already decided")
	}
	var typ string
	switch c.ReviewResult {
	case DecisionApprove, ReviewApproved:
		typ = EventAssignmentRequestApproved
	case DecisionDeny, ReviewDenied:
		typ = EventAssignmentRequestDenied
	default:
		return decision{}, invalid(op, "reviewResult", "must be %q or %q", DecisionApprove, DecisionDeny)
	}
	def := r.Policy.RequestApprovalSettings.Stages[st.Stage-1]
	if def.IsApproverJustificationRequired && strings.TrimSpace(c.Justification) == "" {
		return decision{}, invalid(op, "justification", "the stage requires the approver's justification")
	}
	p := newPlan(s, ids, now)
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
