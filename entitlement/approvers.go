package entitlement

import (
	"slices"
	"sort"
	"time"
)

// Subject-set resolution against the directory in the State: who the
// approvers of a stage are, who may request on behalf of a target, and
// whether a target is in a policy's allowed targets.

// resolveContext is the request a subject set is resolved for.
type resolveContext struct {
	requestorID, targetID string
	// orgID is the connected organization of a target not yet in the
	// directory (a request by ExternalActor).
	orgID string
}

// requestContext is the resolveContext of a request's approvers.
func requestContext(r *AssignmentRequest) resolveContext {
	rc := resolveContext{requestorID: r.RequestorID, targetID: r.TargetID}
	if r.TargetSubject != nil {
		rc.orgID = r.TargetSubject.ConnectedOrganizationID
	}
	return rc
}

// resolveSubjectSets returns the enabled users (and service principals)
// the subject sets stand for, sorted and without duplicates, leaving out
// the ids in exclude.
func (s *State) resolveSubjectSets(sets []SubjectSet, rc resolveContext, exclude ...string) []string {
	seen := map[string]bool{}
	for _, set := range sets {
		for _, id := range s.resolveSubjectSet(set, rc) {
			seen[id] = true
		}
	}
	for _, x := range exclude {
		delete(seen, x)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (s *State) resolveSubjectSet(set SubjectSet, rc resolveContext) []string {
	switch set.Kind {
	case SingleUser:
		if s.enabledUser(set.UserID) {
			return []string{set.UserID}
		}
	case SingleServicePrincipal:
		if _, ok := s.servicePrincipals.Get(set.ServicePrincipalID); ok {
			return []string{set.ServicePrincipalID}
		}
	case GroupMembers:
		return s.expandMembers([]string{set.GroupID})
	case RequestorManager:
		return s.managerAt(rc.requestorID, set.ManagerLevel)
	case TargetManager:
		return s.managerAt(rc.targetID, set.ManagerLevel)
	case InternalSponsors, ExternalSponsors:
		org := rc.orgID
		if u, ok := s.activeUser(rc.targetID); ok {
			org = u.ConnectedOrganizationID
		}
		o, ok := s.connectedOrganizations.Get(org)
		if !ok {
			return nil
		}
		if set.Kind == InternalSponsors {
			return s.expandMembers(o.InternalSponsors)
		}
		return s.expandMembers(o.ExternalSponsors)
	case TargetUserSponsors:
		if u, ok := s.activeUser(rc.targetID); ok {
			return s.expandMembers(u.Sponsors)
		}
	case TargetApplicationOwners:
		if sp, ok := s.servicePrincipals.Get(rc.targetID); ok {
			return s.expandMembers(sp.Owners)
		}
	case ConnectedOrganizationMembers:
		var out []string
		for id := range s.ix.usersByOrg.Members(set.ConnectedOrganizationID) {
			if s.enabledUser(id) {
				out = append(out, id)
			}
		}
		return out
	}
	return nil
}

// managerAt returns the manager of id at level (1 = manager, 2 = the
// manager's manager), if there is one.
func (s *State) managerAt(id string, level int) []string {
	if level < 1 {
		level = 1
	}
	cur := id
	for range level {
		u, ok := s.activeUser(cur)
		if !ok || u.ManagerID == "" {
			return nil
		}
		cur = u.ManagerID
	}
	if !s.enabledUser(cur) {
		return nil
	}
	return []string{cur}
}

// enabledUser reports whether id is a user who exists and may sign in:
// blocked and deleted users resolve to nobody, so that fallbacks apply.
func (s *State) enabledUser(id string) bool {
	u, ok := s.activeUser(id)
	return ok && u.AccountEnabled
}

// expandMembers returns the active users and service principals among ids,
// with groups replaced by their members, transitively.
func (s *State) expandMembers(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		if s.groups.Has(id) {
			for m := range s.ix.members.Members(id) {
				walk(m)
			}
			return
		}
		if s.enabledUser(id) {
			out = append(out, id)
		} else if _, ok := s.servicePrincipals.Get(id); ok {
			out = append(out, id)
		}
	}
	for _, id := range ids {
		walk(id)
	}
	sort.Strings(out)
	return out
}

// resolveStage opens stage k (0-based) of the policy for a request: the
// primary approvers, or the fallback primary approvers, if the stage
// names any, when the primaries resolve to nobody once the requestor and
// the target are left out.
func (s *State) resolveStage(st ApprovalStage, r *AssignmentRequest) (approvers []string, fallback bool) {
	rc := requestContext(r)
	approvers = s.deciders(s.resolveSubjectSets(st.PrimaryApprovers, rc, r.RequestorID, r.TargetID))
	if len(approvers) == 0 && len(st.FallbackPrimaryApprovers) > 0 {
		return s.deciders(s.resolveSubjectSets(st.FallbackPrimaryApprovers, rc, r.RequestorID, r.TargetID)), true
	}
	return approvers, false
}

// deciders keeps of the subjects given those who can decide an approval:
// users (a group's applications are among its members, and approval
// decisions are made by users), so that a set of none falls back.
func (s *State) deciders(ids []string) []string {
	ids = slices.DeleteFunc(ids, func(id string) bool { return !s.enabledUser(id) })
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// escalated returns stage st of r escalated at at: its escalation
// approvers resolved now, as def names them.
func (s *State) escalated(r *AssignmentRequest, st *ApprovalStageState, def ApprovalStage, at time.Time) ApprovalStageState {
	esc := cloneStage(*st)
	esc.Escalated, esc.EscalatedDateTime = true, timePtr(at)
	esc.EscalationApprovers, esc.EscalationFallbackUsed = s.resolveEscalation(def, r)
	return esc
}

// resolveEscalation resolves a stage's escalation approvers, or the
// fallback escalation approvers if those resolve to nobody.
func (s *State) resolveEscalation(st ApprovalStage, r *AssignmentRequest) (approvers []string, fallback bool) {
	rc := requestContext(r)
	approvers = s.deciders(s.resolveSubjectSets(st.EscalationApprovers, rc, r.RequestorID, r.TargetID))
	if len(approvers) == 0 && len(st.FallbackEscalationApprovers) > 0 {
		return s.deciders(s.resolveSubjectSets(st.FallbackEscalationApprovers, rc, r.RequestorID, r.TargetID)), true
	}
	return approvers, false
}

// inSubjectSets reports whether id is one of the subjects the sets stand
// for, with attributeRuleMembers evaluated against the user's attributes.
func (s *State) inSubjectSets(sets []SubjectSet, id string, rc resolveContext) bool {
	for _, set := range sets {
		if set.Kind == AttributeRuleMembers {
			if u, ok := s.activeUser(id); ok && matchesRule(set.MembershipRule, u) {
				return true
			}
			continue
		}
		if slices.Contains(s.resolveSubjectSet(set, rc), id) {
			return true
		}
	}
	return false
}

// targetInScope reports whether target may be assigned through the policy
// now (allowedTargetScope and specificAllowedTargets).
func (s *State) targetInScope(p *AssignmentPolicy, target string) bool {
	u, isUser := s.activeUser(target)
	_, isSP := s.servicePrincipals.Get(target)
	rc := resolveContext{requestorID: target, targetID: target}
	switch p.AllowedTargetScope {
	case ScopeNotSpecified:
		// Only administrators assign; anyone in the directory qualifies.
		return isUser || isSP
	case ScopeSpecificDirectoryUsers:
		return isUser && s.inSubjectSets(p.SpecificAllowedTargets, target, rc)
	case ScopeSpecificConnectedOrganizationUsers:
		return isUser && u.IsGuest() && s.externalInScope(p, u.ConnectedOrganizationID)
	case ScopeSpecificDirectoryServicePrincipals:
		return isSP && s.inSubjectSets(p.SpecificAllowedTargets, target, rc)
	case ScopeAllMemberUsers:
		return isUser && !u.IsGuest()
	case ScopeAllDirectoryUsers:
		return isUser
	case ScopeAllDirectoryServicePrincipals:
		return isSP
	case ScopeAllConfiguredConnectedOrganizationUsers, ScopeAllExternalUsers:
		return isUser && u.IsGuest() && s.externalInScope(p, u.ConnectedOrganizationID)
	}
	return false
}

// isOnBehalfRequestor reports whether requestor may request on behalf of
// target under the policy.
func (s *State) isOnBehalfRequestor(p *AssignmentPolicy, requestor, target string) bool {
	return s.inSubjectSets(p.RequestorSettings.OnBehalfRequestors, requestor, resolveContext{requestorID: requestor, targetID: target})
}
