package entitlement

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/accessledger/accessledger/internal/pmap"
)

// The put and drop functions below are the only way objects enter or leave
// the State's maps: each keeps the indexes of its kind of object, changing
// only the entries that differ between the old object and the new one.
// Objects in the maps are never changed in place.

func (s *State) putUser(u *User) {
	old, _ := s.users.Get(u.ID)
	moveMember(&s.ix.guestsByEmail, guestEmailKeys(old), guestEmailKeys(u), u.ID)
	if old == nil && u.Mail != "" {
		// The guest a request of someone not in the directory named.
		s.ix.pendingByEmail.Remove(normalizeEmail(u.Mail), u.ID)
	}
	if u.Lifecycle != nil && u.Lifecycle.PendingChange != "" {
		s.ix.pendingDirectory.Set(u.ID, struct{}{})
	} else {
		s.ix.pendingDirectory.Delete(u.ID)
	}
	s.moveDue(guestDue(old), guestDue(u))
	if old == nil || old.ConnectedOrganizationID != u.ConnectedOrganizationID {
		if old != nil && old.ConnectedOrganizationID != "" {
			s.ix.usersByOrg.Remove(old.ConnectedOrganizationID, u.ID)
		}
		if u.ConnectedOrganizationID != "" {
			s.ix.usersByOrg.Add(u.ConnectedOrganizationID, u.ID)
		}
	}
	s.users.Set(u.ID, u)
}

// putGroup stores a group's properties; its members live in ix.members.
func (s *State) putGroup(g *Group) {
	g.Members = nil
	s.groups.Set(g.ID, g)
}

func (s *State) addMember(groupID, memberID string) {
	s.ix.members.Add(groupID, memberID)
	s.ix.memberOf.Add(memberID, groupID)
}

func (s *State) removeMember(groupID, memberID string) {
	s.ix.members.Remove(groupID, memberID)
	s.ix.memberOf.Remove(memberID, groupID)
}

// dropMember removes a deleted directory object from every group it is
// in, and, for a group, drops its own members.
func (s *State) dropMember(id string) {
	for _, g := range collect(&s.ix.memberOf, id) {
		s.removeMember(g, id)
	}
	for _, m := range collect(&s.ix.members, id) {
		s.removeMember(id, m)
	}
}

func (s *State) putCatalog(c *Catalog) { s.catalogs.Set(c.ID, c) }

func (s *State) putResource(r *Resource) {
	if old, ok := s.resources.Get(r.ID); ok {
		s.unindexResource(old)
	}
	s.resources.Set(r.ID, r)
	s.ix.resourcesByCatalog.Add(r.CatalogID, r.ID)
	s.ix.resourceByOrigin.Set(originKey(r.CatalogID, r.OriginSystem, r.OriginID), r.ID)
	for _, x := range r.Roles {
		s.ix.roleResource.Set(x.ID, r.ID)
	}
	for _, x := range r.Scopes {
		s.ix.scopeResource.Set(x.ID, r.ID)
	}
}

func (s *State) unindexResource(r *Resource) {
	s.ix.resourcesByCatalog.Remove(r.CatalogID, r.ID)
	s.ix.resourceByOrigin.Delete(originKey(r.CatalogID, r.OriginSystem, r.OriginID))
	for _, x := range r.Roles {
		s.ix.roleResource.Delete(x.ID)
	}
	for _, x := range r.Scopes {
		s.ix.scopeResource.Delete(x.ID)
	}
}

func (s *State) dropResource(id string) {
	if r, ok := s.resources.Delete(id); ok {
		s.unindexResource(r)
	}
}

func (s *State) putPackage(p *AccessPackage) {
	old, _ := s.accessPackages.Get(p.ID)
	if old == nil {
		s.ix.packagesByCatalog.Add(p.CatalogID, p.ID)
	}
	var was []string
	var wasScopes []ResourceRoleScope
	if old != nil {
		was, wasScopes = old.IncompatibleAccessPackages, old.ResourceRoleScopes
	}
	for _, o := range was {
		if !slices.Contains(p.IncompatibleAccessPackages, o) {
			s.ix.incompatibleWith.Remove(o, p.ID)
		}
	}
	for _, o := range p.IncompatibleAccessPackages {
		s.ix.incompatibleWith.Add(o, p.ID)
	}
	for _, rs := range wasScopes {
		s.ix.roleScopeUses.Remove(rs.ResourceID, p.ID+"\x00"+rs.ID)
	}
	for _, rs := range p.ResourceRoleScopes {
		s.ix.roleScopeUses.Add(rs.ResourceID, p.ID+"\x00"+rs.ID)
	}
	s.accessPackages.Set(p.ID, p)
}

func (s *State) dropPackage(id string) {
	p, ok := s.accessPackages.Delete(id)
	if !ok {
		return
	}
	s.ix.packagesByCatalog.Remove(p.CatalogID, id)
	for _, o := range p.IncompatibleAccessPackages {
		s.ix.incompatibleWith.Remove(o, id)
	}
	for _, rs := range p.ResourceRoleScopes {
		s.ix.roleScopeUses.Remove(rs.ResourceID, id+"\x00"+rs.ID)
	}
}

func (s *State) putPolicy(e *policyEntry) {
	if old, ok := s.policies.Get(e.Policy.ID); ok {
		s.unindexPolicy(old)
	}
	s.policies.Set(e.Policy.ID, e)
	s.ix.policiesByPackage.Add(e.Policy.AccessPackageID, e.Policy.ID)
	for _, org := range policyOrgs(&e.Policy) {
		s.ix.policiesByOrg.Add(org, e.Policy.ID)
	}
	for _, q := range e.Policy.Questions {
		s.ix.nestedIDs.Set(q.ID, struct{}{})
	}
	for _, k := range autoKeys(&e.Policy) {
		s.ix.autoPolicies.Add(k, e.Policy.ID)
	}
	s.refreshReviewDue(e.Policy.ID)
}

func (s *State) unindexPolicy(e *policyEntry) {
	s.ix.policiesByPackage.Remove(e.Policy.AccessPackageID, e.Policy.ID)
	for _, org := range policyOrgs(&e.Policy) {
		s.ix.policiesByOrg.Remove(org, e.Policy.ID)
	}
	for _, k := range autoKeys(&e.Policy) {
		s.ix.autoPolicies.Remove(k, e.Policy.ID)
	}
}

func (s *State) dropPolicy(id string) {
	if e, ok := s.policies.Delete(id); ok {
		s.unindexPolicy(e)
		s.refreshReviewDue(id)
	}
}

// policyOrgs returns the connected organizations a policy's subject sets name.
func policyOrgs(p *AssignmentPolicy) []string {
	var out []string
	for _, r := range policySubjectSets(p) {
		if r.set.Kind == ConnectedOrganizationMembers && !slices.Contains(out, r.set.ConnectedOrganizationID) {
			out = append(out, r.set.ConnectedOrganizationID)
		}
	}
	return out
}

func (s *State) putRoleAssignment(ra *RoleAssignment) {
	s.roleAssignments.Set(ra.ID, ra)
	s.ix.rolesByPrincipal.Add(ra.PrincipalID, ra.ID)
	s.ix.rolesByScope.Add(ra.AppScopeID, ra.ID)
}

func (s *State) dropRoleAssignment(id string) {
	if ra, ok := s.roleAssignments.Delete(id); ok {
		s.ix.rolesByPrincipal.Remove(ra.PrincipalID, id)
		s.ix.rolesByScope.Remove(ra.AppScopeID, id)
	}
}

// putRequest stores a request, keeping the request indexes.
func (s *State) putRequest(r *AssignmentRequest) {
	old, _ := s.requests.Get(r.ID)
	s.indexRequest(old, r)
	s.requests.Set(r.ID, r)
}

func (s *State) dropRequest(id string) {
	if old, ok := s.requests.Delete(id); ok {
		s.indexRequest(old, nil)
	}
}

// indexRequest moves the index entries of request old (nil if new) to
// those of r (nil if dropped).
func (s *State) indexRequest(old, r *AssignmentRequest) {
	x := &s.ix
	switch {
	case old == nil:
		if t := r.TargetSubject; t != nil && !s.users.Has(t.ObjectID) {
			x.pendingByEmail.Add(t.Email, t.ObjectID)
		}
		x.requestsByTarget.Add(r.TargetID, r.ID)
		x.requestsByRequestor.Add(r.RequestorID, r.ID)
		x.requestsByPackage.Add(r.AccessPackageID, r.ID)
		x.created.Set(timeKey(r.CreatedDateTime)+r.ID, struct{}{})
	case r == nil:
		x.requestsByTarget.Remove(old.TargetID, old.ID)
		x.requestsByRequestor.Remove(old.RequestorID, old.ID)
		x.requestsByPackage.Remove(old.AccessPackageID, old.ID)
		x.created.Delete(timeKey(old.CreatedDateTime) + old.ID)
	}
	wasOpen, isOpen := old != nil && old.isOpen(), r != nil && r.isOpen()
	if wasOpen != isOpen {
		if isOpen {
			x.openByPackage.Add(r.AccessPackageID, r.ID)
			addCount(&x.openByPolicy, r.AssignmentPolicyID, 1)
		} else {
			x.openByPackage.Remove(old.AccessPackageID, old.ID)
			addCount(&x.openByPolicy, old.AssignmentPolicyID, -1)
		}
	}
	if k, ok := openAddKey(old); ok {
		if k2, ok2 := openAddKey(r); !ok2 || k2 != k {
			x.openAdds.Delete(k)
		}
	}
	if k, ok := openAddKey(r); ok {
		x.openAdds.Set(k, r.ID)
	}
	if k, ok := openUpdateKey(old); ok {
		if k2, ok2 := openUpdateKey(r); !ok2 || k2 != k {
			x.openUpdates.Delete(k)
		}
	}
	if k, ok := openUpdateKey(r); ok {
		x.openUpdates.Set(k, r.ID)
	}
	id := ""
	if r != nil {
		id = r.ID
	} else {
		id = old.ID
	}
	moveMember(&x.approvals, deciders(old), deciders(r), id)
	if r != nil {
		for _, st := range r.Stages {
			x.nestedIDs.Set(st.ID, struct{}{})
		}
	}
	s.moveDue(requestDue(old), requestDue(r))
}

func openAddKey(r *AssignmentRequest) (string, bool) {
	if r == nil || !r.isOpen() || requestTypeKind(r.RequestType) != kindAdd {
		return "", false
	}
	return r.TargetID + "\x00" + r.AccessPackageID, true
}

func openUpdateKey(r *AssignmentRequest) (string, bool) {
	if r == nil || !r.isOpen() || requestTypeKind(r.RequestType) != kindUpdate {
		return "", false
	}
	return r.AssignmentID, true
}

// deciders returns who may decide a request's open stage now.
func deciders(r *AssignmentRequest) []string {
	if r == nil {
		return nil
	}
	st := r.currentStage()
	if st == nil {
		return nil
	}
	if !st.Escalated {
		return st.Approvers
	}
	return append(slices.Clip(st.Approvers), st.EscalationApprovers...)
}

// moveMember takes member out of the sets of the keys in was and puts it
// in those of the keys in is, touching only the keys that differ.
func moveMember(sets *pmap.Sets, was, is []string, member string) {
	for _, k := range was {
		if !slices.Contains(is, k) {
			sets.Remove(k, member)
		}
	}
	for _, k := range is {
		if !slices.Contains(was, k) {
			sets.Add(k, member)
		}
	}
}

func addCount(m *pmap.Map[int], k string, d int) {
	n, _ := m.Get(k)
	if n += d; n == 0 {
		m.Delete(k)
	} else {
		m.Set(k, n)
	}
}

// putAssignment stores an assignment, keeping the assignment indexes.
func (s *State) putAssignment(a *Assignment) {
	old, _ := s.assignments.Get(a.ID)
	x := &s.ix
	if old == nil {
		x.assignmentsByTarget.Add(a.TargetID, a.ID)
		x.assignmentsByPackage.Add(a.AccessPackageID, a.ID)
		if a.RequestID != "" {
			x.assignmentOfRequest.Set(a.RequestID, a.ID)
		}
	}
	wasLive, isLive := old != nil && !old.IsEnded(), !a.IsEnded()
	if wasLive != isLive {
		d := 1
		if wasLive {
			d = -1
			x.liveByPackage.Remove(a.AccessPackageID, a.ID)
			x.liveByTarget.Remove(a.TargetID, a.ID)
		} else {
			x.liveByPackage.Add(a.AccessPackageID, a.ID)
			x.liveByTarget.Add(a.TargetID, a.ID)
		}
		addCount(&x.liveByPolicy, a.AssignmentPolicyID, d)
		x.live += d
	}
	moveMember(&x.holders, fulfilled(old), fulfilled(a), a.ID)
	if a.hasDeliveryWork() {
		if old == nil || !old.hasDeliveryWork() {
			x.deliveries.Set(a.ID, struct{}{})
		}
	} else if old != nil && old.hasDeliveryWork() {
		x.deliveries.Delete(a.ID)
	}
	s.moveDue(assignmentDue(old), assignmentDue(a))
	s.assignments.Set(a.ID, a)
	if delivering := a.State == AssignmentStateDelivering; delivering != (old != nil && old.State == AssignmentStateDelivering) {
		for id := range x.runsBySubject.Members(a.TargetID) {
			if r, ok := s.scheduledRuns.Get(id); ok {
				s.refreshRunDue(r)
			}
		}
	}
}

// fulfilled returns the role scopes an assignment that has not ended
// granted successfully.
func fulfilled(a *Assignment) []string {
	if a == nil || a.IsEnded() {
		return nil
	}
	var out []string
	for _, r := range a.Resources {
		if r.Status == DeliveryFulfilled {
			out = append(out, r.ResourceRoleScopeID)
		}
	}
	return out
}

// hasDeliveryWork reports whether the Deliverer or a RecordDelivery has
// something to do for the assignment: a pending grant or removal, or a
// delivery to complete.
func (a *Assignment) hasDeliveryWork() bool {
	return a.State == AssignmentStateDelivering || a.hasPending()
}

// moveDue replaces an object's due entry old ("" for none) with k.
func (s *State) moveDue(old, k string) {
	if old == k {
		return
	}
	if old != "" {
		s.ix.due.Delete(old)
	}
	if k != "" {
		s.ix.due.Set(k, struct{}{})
	}
}

// timeKey encodes t so that byte order is time order: the Unix seconds
// with the sign bit flipped, then the nanoseconds, big-endian.
func timeKey(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return string(b[:])
}

func parseTimeKey(k string) time.Time {
	sec := int64(binary.BigEndian.Uint64([]byte(k[:8])) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32([]byte(k[8:12])))).UTC()
}

// dueKey is the due queue's key of one piece of work: its time, its kind
// (which orders work due at the same instant) and the request or
// assignment.
func dueKey(d dueItem) string {
	return timeKey(d.at) + string(rune('a'+d.kind)) + d.id
}

func parseDueKey(k string) dueItem {
	return dueItem{at: parseTimeKey(k), kind: int(k[12] - 'a'), id: k[13:]}
}

// requestDue returns the due key of a request's next time-driven work.
func requestDue(r *AssignmentRequest) string {
	if r == nil {
		return ""
	}
	switch r.State {
	case RequestStatePendingApproval:
		st := r.currentStage()
		if st == nil || st.Stage > len(r.Policy.RequestApprovalSettings.Stages) {
			return ""
		}
		def := r.Policy.RequestApprovalSettings.Stages[st.Stage-1]
		deny := dueItem{def.DurationBeforeAutomaticDenial.AddTo(st.OpenedDateTime), dueDenial, r.ID}
		if def.IsEscalationEnabled && !st.Escalated && !def.DurationBeforeEscalation.IsZero() {
			if esc := (dueItem{def.DurationBeforeEscalation.AddTo(st.OpenedDateTime), dueEscalation, r.ID}); esc.less(deny) < 0 {
				return dueKey(esc)
			}
		}
		return dueKey(deny)
	case RequestStateScheduled:
		return dueKey(dueItem{r.Schedule.StartDateTime, dueStart, r.ID})
	}
	return ""
}

// assignmentDue returns the due key of an assignment's next time-driven
// work: its automatic removal, an expiry notice or the expiry.
func assignmentDue(a *Assignment) string {
	if a == nil || a.IsEnded() || a.State == AssignmentStateDelivering {
		// An assignment being delivered waits for its delivery to end.
		return ""
	}
	if a.AutomaticRemovalDateTime != nil {
		// Automatic assignment policies set no expiration: the removal is
		// the only time-driven work.
		return dueKey(dueItem{*a.AutomaticRemovalDateTime, dueAutomaticRemoval, a.ID})
	}
	end, ok := a.End()
	if !ok {
		return ""
	}
	start := a.Schedule.StartDateTime
	if n := end.Add(-14 * 24 * time.Hour); !a.FourteenDayNoticeSent && !n.Before(start) {
		return dueKey(dueItem{n, dueNotice14, a.ID})
	}
	if n := end.Add(-24 * time.Hour); !a.OneDayNoticeSent && !n.Before(start) {
		return dueKey(dueItem{n, dueNotice1, a.ID})
	}
	return dueKey(dueItem{end, dueExpiry, a.ID})
}

// recentRequests returns how many requests were created at or after since.
func (s *State) recentRequests(since time.Time) int {
	return s.ix.created.Len() - s.ix.created.Rank(timeKey(since))
}

// idInUse reports whether any object of s has the id.
func (s *State) idInUse(id string) bool {
	return s.users.Has(id) || s.groups.Has(id) || s.servicePrincipals.Has(id) ||
		s.catalogs.Has(id) || s.resources.Has(id) || s.resourceRequests.Has(id) ||
		s.accessPackages.Has(id) || s.policies.Has(id) || s.connectedOrganizations.Has(id) ||
		s.roleAssignments.Has(id) || s.requests.Has(id) || s.assignments.Has(id) ||
		s.ix.roleResource.Has(id) || s.ix.scopeResource.Has(id) || s.ix.nestedIDs.Has(id)
}

// insertSorted adds v to the sorted slice s if absent, returning a new slice.
func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(slices.Clip(s), i, v)
}

// removeString returns s without v, as a new slice.
func removeString(s []string, v string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(x string) bool { return x == v })
}
