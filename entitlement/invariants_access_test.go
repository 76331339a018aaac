package entitlement

import (
	"fmt"
	"slices"
	"time"
)

// accessInvariant is a named check of one invariant of §7 (9–37) against a
// State at an instant; the transition invariants (12–15, 27–29, 31, 36,
// 37's "never reactivates") are checked by the property test around each
// step.
type accessInvariant struct {
	name  string
	check func(s *State, now time.Time) error
}

var accessInvariants = []accessInvariant{
	{"9 assignment references package, policy, target and its add request", checkInvariant9},
	{"10 at most one non-ended assignment per target and package", checkInvariant10},
	{"11 at most one open add request per target and package", checkInvariant11},
	{"16 additionalAccess is the intersection", checkInvariant16},
	{"17 approval iff required; removals never", checkInvariant17},
	{"18 stages strictly sequential", checkInvariant18},
	{"19 one approval closes a stage, a deny ends the request", checkInvariant19},
	{"20 at most one decision per stage", checkInvariant20},
	{"21 requestor and target never approve", checkInvariant21},
	{"22 decisions only by the stage's approvers", checkInvariant22},
	{"23 justifications where required", checkInvariant23},
	{"24 timed-out requests end without assignment", checkInvariant24},
	{"25 escalation before automatic denial", checkInvariant25},
	{"26 fallback approvers only when primaries resolve to nobody", checkInvariant26},
	{"27 terminal states hold their shape", checkInvariant27},
	{"31 completedDateTime set exactly when out of progress", checkInvariant31},
	{"32 custom schedule only if allowed", checkInvariant32},
	{"33 assignment end within the policy cap", checkInvariant33},
	{"34 scheduled requests grant nothing", checkInvariant34},
	{"35 delivered assignments hold the package's roles; expired none", checkInvariant35},
	{"37 ended assignments are expired, in the past", checkInvariant37},
}

func checkAccessInvariants(s *State, now time.Time) error {
	for _, inv := range accessInvariants {
		if err := inv.check(s, now); err != nil {
			return fmt.Errorf("invariant %s: %w", inv.name, err)
		}
	}
	return nil
}

func checkInvariant9(s *State, _ time.Time) error {
	for id, a := range s.assignments.All() {
		r, ok := s.requests.Get(a.RequestID)
		if !ok {
			return fmt.Errorf("assignment %s: originating request %s missing", id, a.RequestID)
		}
		if requestTypeKind(r.RequestType) != kindAdd || r.AssignmentID != id || r.TargetID != a.TargetID {
			return fmt.Errorf("assignment %s: request %s (%s) is not its add request", id, r.ID, r.RequestType)
		}
		if a.IsEnded() {
			continue
		}
		pol, ok := s.policies.Get(a.AssignmentPolicyID)
		if pok := s.accessPackages.Has(a.AccessPackageID); !pok || !ok || pol.Policy.AccessPackageID != a.AccessPackageID {
			return fmt.Errorf("assignment %s: package %s / policy %s missing or mismatched", id, a.AccessPackageID, a.AssignmentPolicyID)
		}
	}
	return nil
}

func checkInvariant10(s *State, _ time.Time) error {
	seen := map[[2]string]string{}
	for id, a := range s.assignments.All() {
		if a.IsEnded() {
			continue
		}
		k := [2]string{a.TargetID, a.AccessPackageID}
		if other, ok := seen[k]; ok {
			return fmt.Errorf("assignments %s and %s for the same target and package", id, other)
		}
		seen[k] = id
	}
	return nil
}

func checkInvariant11(s *State, _ time.Time) error {
	seen := map[[2]string]string{}
	for id, r := range s.requests.All() {
		if requestTypeKind(r.RequestType) != kindAdd || !r.isOpen() {
			continue
		}
		k := [2]string{r.TargetID, r.AccessPackageID}
		if other, ok := seen[k]; ok {
			return fmt.Errorf("open add requests %s and %s for the same target and package", id, other)
		}
		seen[k] = id
	}
	return nil
}

func checkInvariant16(s *State, _ time.Time) error {
	pkgs := slices.Collect(s.accessPackages.Keys())
	for _, a := range pkgs {
		for _, b := range pkgs {
			if a == b {
				continue
			}
			got, err := s.AdditionalAccess(SystemActor(), a, b)
			if err != nil {
				return err
			}
			var want []string
			for id, x := range s.assignments.All() {
				if x.AccessPackageID != a || x.IsEnded() {
					continue
				}
				for _, y := range s.assignments.All() {
					if y.AccessPackageID == b && !y.IsEnded() && y.TargetID == x.TargetID {
						want = append(want, id)
						break
					}
				}
			}
			var ids []string
			for _, x := range got {
				ids = append(ids, x.ID)
			}
			slices.Sort(ids)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				return fmt.Errorf("additionalAccess(%s, %s) = %v, want %v", a, b, ids, want)
			}
		}
	}
	return nil
}

func approvalRequired(r *AssignmentRequest) bool {
	as := r.Policy.RequestApprovalSettings
	switch requestTypeKind(r.RequestType) {
	case kindAdd:
		return as.IsApprovalRequiredForAdd && len(as.Stages) > 0
	case kindUpdate:
		return as.IsApprovalRequiredForUpdate && len(as.Stages) > 0
	}
	return false
}

func checkInvariant17(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		req := approvalRequired(r)
		if !req && len(r.Stages) > 0 {
			return fmt.Errorf("request %s (%s) went through approval it does not need", id, r.RequestType)
		}
		if req && len(r.Stages) == 0 && r.State != RequestStateCanceled && r.State != RequestStateSubmitted {
			return fmt.Errorf("request %s (%s) skipped its approval: state %s", id, r.RequestType, r.State)
		}
	}
	return nil
}

func checkInvariant18(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for i, st := range r.Stages {
			if st.Stage != i+1 {
				return fmt.Errorf("request %s: stage %d at position %d", id, st.Stage, i)
			}
			if i < len(r.Stages)-1 && (st.Status != StageStatusCompleted || st.ReviewResult != ReviewApproved) {
				return fmt.Errorf("request %s: stage %d opened before stage %d was approved", id, i+2, i+1)
			}
		}
		if len(r.Stages) > len(r.Policy.RequestApprovalSettings.Stages) {
			return fmt.Errorf("request %s: more stages than its policy", id)
		}
	}
	return nil
}

func checkInvariant19(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			if st.ReviewResult == ReviewDenied && r.State != RequestStateDenied {
				return fmt.Errorf("request %s: denied stage but state %s", id, r.State)
			}
			if st.Status == StageStatusInProgress && r.State != RequestStatePendingApproval {
				return fmt.Errorf("request %s: stage in progress but state %s", id, r.State)
			}
		}
		if r.State == RequestStateDenied && requestTypeKind(r.RequestType) == kindAdd && r.AssignmentID != "" {
			return fmt.Errorf("denied request %s has assignment %s", id, r.AssignmentID)
		}
		if r.State == RequestStatePendingApproval && r.currentStage() == nil {
			return fmt.Errorf("request %s pending approval without an open stage", id)
		}
	}
	return nil
}

func checkInvariant20(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			decided := st.ReviewResult != ReviewNotReviewed
			if decided != (st.ReviewedBy != "") || decided != (st.ReviewedDateTime != nil) {
				return fmt.Errorf("request %s stage %d: result %s reviewed by %q", id, st.Stage, st.ReviewResult, st.ReviewedBy)
			}
			if decided && st.Status != StageStatusCompleted {
				return fmt.Errorf("request %s stage %d decided but %s", id, st.Stage, st.Status)
			}
		}
	}
	return nil
}

func checkInvariant21(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			for _, x := range []string{r.RequestorID, r.TargetID} {
				if slices.Contains(st.Approvers, x) || slices.Contains(st.EscalationApprovers, x) || st.ReviewedBy == x {
					return fmt.Errorf("request %s: %s approves their own request", id, x)
				}
			}
		}
	}
	return nil
}

func checkInvariant22(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			if st.ReviewedBy != "" && !st.mayDecide(st.ReviewedBy) {
				return fmt.Errorf("request %s stage %d decided by %s, not an approver", id, st.Stage, st.ReviewedBy)
			}
		}
	}
	return nil
}

func checkInvariant23(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			if st.ReviewedBy != "" && r.Policy.RequestApprovalSettings.Stages[st.Stage-1].IsApproverJustificationRequired && st.Justification == "" {
				return fmt.Errorf("request %s stage %d decided without justification", id, st.Stage)
			}
		}
		if r.Policy.RequestApprovalSettings.IsRequestorJustificationRequired && requestTypeKind(r.RequestType) != kindRemove &&
			r.RequestorID != SystemActor().ID && r.Justification == "" {
			return fmt.Errorf("request %s without the required justification", id)
		}
	}
	return nil
}

func checkInvariant24(s *State, now time.Time) error {
	for id, r := range s.requests.All() {
		if r.Status == RequestStatusTimedOut {
			if r.AssignmentID != "" && requestTypeKind(r.RequestType) == kindAdd || r.State != RequestStateDenied {
				return fmt.Errorf("timed-out request %s: state %s, assignment %q", id, r.State, r.AssignmentID)
			}
			st := r.Stages[len(r.Stages)-1]
			due := r.Policy.RequestApprovalSettings.Stages[st.Stage-1].DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime)
			if !r.CompletedDateTime.Equal(due) {
				return fmt.Errorf("request %s timed out at %s, due %s", id, r.CompletedDateTime, due)
			}
		}
		if st := r.currentStage(); st != nil {
			due := r.Policy.RequestApprovalSettings.Stages[st.Stage-1].DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime)
			if !due.After(now) {
				return fmt.Errorf("request %s still pending at %s, past its automatic denial at %s", id, now, due)
			}
		}
	}
	return nil
}

func checkInvariant25(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			def := r.Policy.RequestApprovalSettings.Stages[st.Stage-1]
			if !st.Escalated {
				continue
			}
			if !def.IsEscalationEnabled || st.EscalatedDateTime == nil ||
				!st.EscalatedDateTime.Before(def.DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime)) {
				return fmt.Errorf("request %s stage %d escalated wrongly", id, st.Stage)
			}
		}
	}
	return nil
}

func checkInvariant26(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		for _, st := range r.Stages {
			if !st.FallbackUsed && len(st.Approvers) == 0 {
				return fmt.Errorf("request %s stage %d: primaries resolved to nobody but no fallback", id, st.Stage)
			}
		}
	}
	return nil
}

func checkInvariant27(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		if r.IsTerminal() && r.CompletedDateTime == nil {
			return fmt.Errorf("terminal request %s without completedDateTime", id)
		}
	}
	return nil
}

func checkInvariant31(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		if (r.CompletedDateTime != nil) == r.isOpen() {
			return fmt.Errorf("request %s in state %s: completedDateTime %v", id, r.State, r.CompletedDateTime)
		}
	}
	return nil
}

func checkInvariant32(s *State, _ time.Time) error {
	for id, r := range s.requests.All() {
		if hasSchedule(r.Schedule) && !r.Policy.RequestorSettings.AllowCustomAssignmentSchedule {
			return fmt.Errorf("request %s carries a schedule its policy prevents", id)
		}
	}
	return nil
}

func checkInvariant33(s *State, _ time.Time) error {
	for id, a := range s.assignments.All() {
		end, ok := a.End()
		// The add request set the end, or the latest update request; a
		// deleted update request takes its policy copy with it. Several
		// updates may complete at the same instant (one after the other,
		// the policy replaced between them): the end must be within the
		// cap of one of them, the last.
		srcs, base := []*AssignmentRequest{at(&s.requests, a.RequestID)}, a.Schedule.StartDateTime
		if a.ExtendedDateTime != nil {
			srcs, base = nil, *a.ExtendedDateTime
			for _, r := range s.requests.All() {
				if r.AssignmentID == id && requestTypeKind(r.RequestType) == kindUpdate && r.State == RequestStateDelivered &&
					r.CompletedDateTime.Equal(base) {
					srcs = append(srcs, r)
				}
			}
		}
		var violation error
		for _, src := range srcs {
			if src == nil {
				violation = nil
				break
			}
			capEnd, hasCap := src.Policy.Expiration.EndFor(base)
			if !hasCap || ok && !end.After(capEnd) {
				violation = nil
				break
			}
			violation = fmt.Errorf("assignment %s ends %v (%v), after the cap %s", id, end, ok, capEnd)
		}
		if violation != nil && a.ExtendedDateTime != nil {
			// The update that set the end may have been deleted since,
			// taking its policy copy with it; the State keeps no trace of
			// it. Decided at base, it was decided under the policy then
			// (or an earlier version): the current one is accepted too.
			if pe, found := s.policies.Get(a.AssignmentPolicyID); found {
				if capEnd, hasCap := pe.Policy.Expiration.EndFor(base); !hasCap || ok && !end.After(capEnd) {
					violation = nil
				}
			}
		}
		if violation != nil {
			return violation
		}
	}
	return nil
}

func checkInvariant34(s *State, now time.Time) error {
	for id, r := range s.requests.All() {
		if r.State == RequestStateScheduled && !r.Schedule.StartDateTime.After(now) {
			return fmt.Errorf("scheduled request %s did not start at %s", id, r.Schedule.StartDateTime)
		}
		if r.State == RequestStateScheduled && r.AssignmentID != "" {
			return fmt.Errorf("scheduled request %s has assignment %s", id, r.AssignmentID)
		}
		if requestTypeKind(r.RequestType) == kindAdd && r.AssignmentID != "" && !r.Schedule.StartDateTime.IsZero() {
			if a, ok := s.assignments.Get(r.AssignmentID); ok && a.Schedule.StartDateTime.Before(r.Schedule.StartDateTime) {
				return fmt.Errorf("assignment %s starts before its request's start", a.ID)
			}
		}
	}
	return nil
}

func checkInvariant35(s *State, _ time.Time) error {
	for id, a := range s.assignments.All() {
		if a.hasPending() {
			continue
		}
		if a.IsEnded() {
			for _, r := range a.Resources {
				if r.Status == DeliveryFulfilled || r.Status == DeliveryPendingGrant {
					return fmt.Errorf("expired assignment %s still grants %s", id, r.ResourceRoleScopeID)
				}
			}
			continue
		}
		pkg := at(&s.accessPackages, a.AccessPackageID)
		var want, got []string
		for _, rs := range pkg.ResourceRoleScopes {
			want = append(want, rs.ID)
		}
		for _, r := range a.Resources {
			if r.Status != DeliveryRemovalFailed {
				got = append(got, r.ResourceRoleScopeID)
			}
			if a.State == AssignmentStateDelivered && r.Status != DeliveryFulfilled && r.Status != DeliveryRemovalFailed {
				return fmt.Errorf("delivered assignment %s: role %s is %s", id, r.ResourceRoleScopeID, r.Status)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return fmt.Errorf("assignment %s covers %v, the package grants %v", id, got, want)
		}
	}
	return nil
}

func checkInvariant37(s *State, now time.Time) error {
	for id, a := range s.assignments.All() {
		if a.IsEnded() != (a.ExpiredDateTime != nil) {
			return fmt.Errorf("assignment %s in state %s, expiredDateTime %v", id, a.State, a.ExpiredDateTime)
		}
		if a.ExpiredDateTime != nil && a.ExpiredDateTime.After(now) {
			return fmt.Errorf("assignment %s expired in the future (%s > %s)", id, a.ExpiredDateTime, now)
		}
		// now is the instant time was last processed up to: nothing due
		// by then is left undone.
		if end, ok := a.End(); ok && !a.IsEnded() && !end.After(now) && a.State != AssignmentStateDelivering {
			return fmt.Errorf("assignment %s ended at %s but is %s at %s", id, end, a.State, now)
		}
	}
	return nil
}
