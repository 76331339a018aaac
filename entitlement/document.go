package entitlement

import (
	"fmt"
)

// stateDoc is a State's content as plain data: every object in key order,
// none of the indexes (loading rebuilds them). Snapshot files hold one, and
// two States are equal when their documents are.
//
// A request refers to the policy version it was submitted under by its
// index in PolicyVersions, so that each version is written once however
// many requests share it.
type stateDoc struct {
	Users                  []*User                  `json:"users"`
	Groups                 []*Group                 `json:"groups"` // with their members
	ServicePrincipals      []*ServicePrincipal      `json:"servicePrincipals"`
	Catalogs               []*Catalog               `json:"catalogs"`
	Resources              []*Resource              `json:"resources"`
	ResourceRequests       []*ResourceRequest       `json:"resourceRequests"`
	AccessPackages         []*AccessPackage         `json:"accessPackages"`
	Policies               []*policyEntry           `json:"policies"`
	ConnectedOrganizations []*ConnectedOrganization `json:"connectedOrganizations"`
	RoleAssignments        []*RoleAssignment        `json:"roleAssignments"`
	Settings               *Settings                `json:"settings,omitempty"`
	SettingsHistory        []settingsVersion        `json:"settingsHistory,omitempty"`
	PolicyVersions         []policyVersion          `json:"policyVersions"`
	Requests               []requestDoc             `json:"requests"`
	Assignments            []*Assignment            `json:"assignments"`
	Workflows              []*workflowEntry         `json:"workflows,omitempty"`
	Reviews                []*AccessReview          `json:"reviews,omitempty"`
	ReviewItems            []*ReviewDecisionItem    `json:"reviewItems,omitempty"`
	ScheduledRuns          []*ScheduledRun          `json:"scheduledRuns,omitempty"`
	WorkflowResults        []*UserProcessingResult  `json:"workflowResults,omitempty"`
}

// policyVersion is a version of a policy that requests were submitted under.
type policyVersion struct {
	Version int               `json:"version"`
	Policy  *AssignmentPolicy `json:"policy"`
}

// requestDoc is a request without its policy, which is PolicyVersions[Policy].
type requestDoc struct {
	Request *AssignmentRequest `json:"request"`
	Policy  int                `json:"policyVersion"`
}

// document returns s's content. The objects are shared with s, which never
// changes them; the document must not be changed either.
func (s *State) document() *stateDoc {
	d := &stateDoc{
		Users:                  values(&s.users),
		ServicePrincipals:      values(&s.servicePrincipals),
		Catalogs:               values(&s.catalogs),
		Resources:              values(&s.resources),
		ResourceRequests:       values(&s.resourceRequests),
		AccessPackages:         values(&s.accessPackages),
		Policies:               values(&s.policies),
		ConnectedOrganizations: values(&s.connectedOrganizations),
		RoleAssignments:        values(&s.roleAssignments),
		Settings:               s.lastSettings(),
		SettingsHistory:        s.settingsLog,
		Assignments:            values(&s.assignments),
		Workflows:              values(&s.workflows),
		Reviews:                values(&s.reviews),
		ReviewItems:            reviewItemsOut(values(&s.reviewItems)),
		ScheduledRuns:          values(&s.scheduledRuns),
		WorkflowResults:        values(&s.workflowResults),
	}
	for _, g := range s.groups.All() {
		c := *g
		c.Members = s.groupMembers(g.ID)
		d.Groups = append(d.Groups, &c)
	}
	type key struct {
		id      string
		version int
	}
	versions := map[key]int{}
	d.Requests = make([]requestDoc, 0, s.requests.Len())
	for _, r := range s.requests.All() {
		k := key{r.AssignmentPolicyID, r.PolicyVersion}
		i, ok := versions[k]
		if !ok {
			i = len(d.PolicyVersions)
			versions[k] = i
			d.PolicyVersions = append(d.PolicyVersions, policyVersion{r.PolicyVersion, r.Policy})
		}
		c := *r
		c.Policy = nil
		d.Requests = append(d.Requests, requestDoc{Request: &c, Policy: i})
	}
	return d
}

// stateOf builds a State from a document, rebuilding the indexes. The
// State takes the document's objects over.
func stateOf(d *stateDoc) (*State, error) {
	s := NewState()
	for _, u := range d.Users {
		s.putUser(u)
	}
	for _, g := range d.Groups {
		members := g.Members
		s.putGroup(g)
		for _, m := range members {
			s.addMember(g.ID, m)
		}
	}
	for _, sp := range d.ServicePrincipals {
		s.servicePrincipals.Set(sp.ID, sp)
	}
	for _, c := range d.Catalogs {
		s.putCatalog(c)
	}
	for _, r := range d.Resources {
		s.putResource(r)
	}
	for _, r := range d.ResourceRequests {
		s.resourceRequests.Set(r.ID, r)
	}
	for _, p := range d.AccessPackages {
		s.putPackage(p)
	}
	for _, p := range d.Policies {
		s.putPolicy(p)
	}
	// A request of the current version of its policy shares the policy's
	// entry, as when it was applied.
	shared := make([]*AssignmentPolicy, len(d.PolicyVersions))
	for i, v := range d.PolicyVersions {
		shared[i] = v.Policy
		if e, ok := s.policies.Get(v.Policy.ID); ok && e.Version == v.Version {
			shared[i] = &e.Policy
		}
	}
	for _, o := range d.ConnectedOrganizations {
		s.putOrganization(o)
	}
	for _, ra := range d.RoleAssignments {
		s.putRoleAssignment(ra)
	}
	s.settingsLog = d.SettingsHistory
	if d.Settings != nil && len(d.SettingsHistory) == 0 {
		// A snapshot written before the history was kept: its settings
		// count from the start, as those of events without a time do.
		s.settingsLog = []settingsVersion{{Settings: *d.Settings}}
	}
	for _, rd := range d.Requests {
		if rd.Policy < 0 || rd.Policy >= len(shared) {
			return nil, fmt.Errorf("entitlement: request %s refers to policy version %d of %d", rd.Request.ID, rd.Policy, len(shared))
		}
		rd.Request.Policy = shared[rd.Policy]
		s.putRequest(rd.Request)
	}
	for _, a := range d.Assignments {
		s.putAssignment(a)
	}
	for _, w := range d.Workflows {
		s.putWorkflow(w)
	}
	for _, r := range d.Reviews {
		s.putReview(r)
	}
	for _, it := range d.ReviewItems {
		// The list the item names, from its review (loaded above).
		if r, ok := s.reviews.Get(it.AccessReviewID); ok && it.ReviewerSet > 0 && it.ReviewerSet <= len(r.ReviewerSets) {
			it.Reviewers = r.ReviewerSets[it.ReviewerSet-1]
		}
		s.putReviewItem(it)
	}
	// putPolicy scheduled each policy's next review before its reviews
	// were loaded; those with reviews count them now.
	for id := range s.ix.reviewsByPolicy.Keys() {
		s.refreshReviewDue(id)
	}
	for _, r := range d.ScheduledRuns {
		s.putScheduledRun(r)
	}
	for _, r := range d.WorkflowResults {
		s.putWorkflowResult(r)
	}
	return s, nil
}

// reviewItemsOut returns copies of review items without their Reviewers,
// which their ReviewerSet names: a group of reviewers is written once per
// review, not once per item.
func reviewItemsOut(items []*ReviewDecisionItem) []*ReviewDecisionItem {
	out := make([]*ReviewDecisionItem, len(items))
	for i, it := range items {
		c := *it
		if c.ReviewerSet > 0 {
			c.Reviewers = nil
		}
		out[i] = &c
	}
	return out
}
