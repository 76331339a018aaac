package entitlement

import (
	"errors"
	"strings"

	"github.com/accessledger/accessledger/internal/pmap"
)

// State is the fold of the event log: everything entitlement management
// knows. It changes only through Apply. Reads are methods that take the
// Actor asking, authorize it like a command and return copies.
//
// A State is built of persistent maps (internal/pmap): Clone costs O(1),
// and the objects in it are never changed in place (an event replaces an
// object with a changed copy), so a clone and its original share
// everything they have not changed since. The State the Manager publishes
// (Manager.State) is read-only and may be read by any number of goroutines
// at once; Clone it to apply events of your own. A State that is being
// changed is not safe for concurrent use.
//
// Every lookup a command or a per-user read makes goes through an index
// (by target, package, policy, approver, role scope, due time …), so their
// cost does not grow with the tenant.
type State struct {
	users             pmap.Map[*User]
	groups            pmap.Map[*Group] // Members are kept in ix.members
	servicePrincipals pmap.Map[*ServicePrincipal]

	catalogs               pmap.Map[*Catalog]
	resources              pmap.Map[*Resource]
	resourceRequests       pmap.Map[*ResourceRequest]
	accessPackages         pmap.Map[*AccessPackage]
	policies               pmap.Map[*policyEntry]
	connectedOrganizations pmap.Map[*ConnectedOrganization]
	roleAssignments        pmap.Map[*RoleAssignment]
	settingsLog            []settingsVersion // every settings change, oldest first; the last is in force

	requests    pmap.Map[*AssignmentRequest]
	assignments pmap.Map[*Assignment]

	reviews     pmap.Map[*AccessReview]
	reviewItems pmap.Map[*ReviewDecisionItem] // review + "\x00" + assignment

	workflows       pmap.Map[*workflowEntry]
	scheduledRuns   pmap.Map[*ScheduledRun]
	workflowResults pmap.Map[*UserProcessingResult]

	ix indexes

	// readOnly marks a State published for concurrent readers.
	readOnly bool
}

// policyEntry is an assignment policy as the State keeps it, with its
// version: 1 when created, one more with every replacement. An entry is
// never changed: a replacement is a new entry, and the requests submitted
// under a version share its Policy.
type policyEntry struct {
	CatalogID string
	Policy    AssignmentPolicy
	Version   int
}

// indexes are what the State derives from its objects so that no lookup
// scans them. Apply keeps them; they are never written to the log or to a
// snapshot file, and loading a snapshot rebuilds them.
type indexes struct {
	// The directory.
	members          pmap.Sets          // group -> its direct members
	memberOf         pmap.Sets          // directory object -> the groups it is directly in
	usersByOrg       pmap.Sets          // connected organization -> its users
	guestsByEmail    pmap.Sets          // email -> the guests, not deleted, with that mail
	pendingByEmail   pmap.Sets          // email -> the ids requests of people not in the directory named, no user yet
	orgsByIdentity   pmap.Sets          // "tenant:<id>" or "domain:<name>" -> connected organizations
	pendingDirectory pmap.Map[struct{}] // users with a directory change to deliver

	// Administration.
	packagesByCatalog  pmap.Sets
	resourcesByCatalog pmap.Sets
	resourceByOrigin   pmap.Map[string] // originKey -> resource id
	roleResource       pmap.Map[string] // resource role id -> resource id
	scopeResource      pmap.Map[string] // resource scope id -> resource id
	roleScopeUses      pmap.Sets        // resource id -> package id + "\x00" + role scope id
	policiesByPackage  pmap.Sets
	policiesByOrg      pmap.Sets // connected organization -> policies whose subject sets name it
	autoPolicies       pmap.Sets // attribute -> automatic assignment policies whose rule reads it ("" -> all)
	incompatibleWith   pmap.Sets // package -> the packages that list it as incompatible
	rolesByPrincipal   pmap.Sets // principal -> its role assignments
	rolesByScope       pmap.Sets // appScopeId -> the role assignments at it
	nestedIDs          pmap.Map[struct{}]

	// Requests.
	requestsByTarget    pmap.Sets
	requestsByRequestor pmap.Sets
	requestsByPackage   pmap.Sets
	openAdds            pmap.Map[string] // target + "\x00" + package -> the open add request
	openUpdates         pmap.Map[string] // assignment -> the open update request on it
	openByPackage       pmap.Sets        // package -> its requests in progress
	openByPolicy        pmap.Map[int]
	approvals           pmap.Sets          // approver -> requests whose open stage they may decide
	created             pmap.Map[struct{}] // sortable creation time + request id

	// Assignments.
	assignmentsByTarget  pmap.Sets
	assignmentsByPackage pmap.Sets
	liveByPackage        pmap.Sets     // package -> its assignments that have not ended
	liveByTarget         pmap.Sets     // subject -> their assignments that have not ended
	liveByPolicy         pmap.Map[int] // how many assignments of each policy have not ended
	live                 int
	assignmentOfRequest  pmap.Map[string] // add request -> the assignment it created
	holders              pmap.Sets        // role scope -> assignments whose grant of it was fulfilled
	deliveries           pmap.Map[struct{}]

	// Access reviews.
	reviewsByPolicy      pmap.Sets        // policy -> its reviews
	openReviews          pmap.Sets        // policy -> its reviews in progress
	reviewerSets         pmap.Sets        // reviewer -> the reviewer lists of open reviews that name them
	pendingByReviewerSet pmap.Sets        // reviewer list -> the items of it not yet applied
	reviewDue            pmap.Map[string] // policy -> the due key of its next review's start

	// Lifecycle workflows.
	workflowsByAttribute pmap.Sets        // attribute -> workflows whose scope or trigger reads it ("" -> all)
	runsByWorkflow       pmap.Sets        // workflow -> its scheduled runs
	runsBySubject        pmap.Sets        // user -> the runs scheduled for them
	timeRuns             pmap.Map[string] // workflow + "\x00" + user -> the run its time-based trigger scheduled
	resultsByWorkflow    pmap.Sets        // workflow -> its users' processing results

	// due holds, for every request and assignment with time-driven work
	// ahead, its next piece of work: see dueKey.
	due pmap.Map[struct{}]
}

// NewState returns an empty State.
func NewState() *State { return &State{} }

// errReadOnly refuses Apply on a State published for concurrent readers.
var errReadOnly = errors.New("entitlement: the State is a read-only snapshot; Clone it to apply events")

// Clone returns a State equal to s that shares s's data until either of
// them changes: O(1), whatever the tenant's size. It is safe to call on a
// read-only State from several goroutines at once.
func (s *State) Clone() *State {
	if s == nil {
		return NewState()
	}
	if !s.readOnly {
		s.freeze()
	}
	c := *s
	c.readOnly = false
	return &c
}

// snapshot returns a read-only copy of s for concurrent readers, and makes
// s copy what it changes from now on.
func (s *State) snapshot() *State {
	s.freeze()
	c := *s
	c.readOnly = true
	return &c
}

// freeze gives up s's ownership of every node of its maps: their next
// writes copy what they change, so copies of s taken now stay as they are.
func (s *State) freeze() {
	s.users.Snapshot()
	s.groups.Snapshot()
	s.servicePrincipals.Snapshot()
	s.catalogs.Snapshot()
	s.resources.Snapshot()
	s.resourceRequests.Snapshot()
	s.accessPackages.Snapshot()
	s.policies.Snapshot()
	s.connectedOrganizations.Snapshot()
	s.roleAssignments.Snapshot()
	s.requests.Snapshot()
	s.assignments.Snapshot()
	s.reviews.Snapshot()
	s.reviewItems.Snapshot()
	s.workflows.Snapshot()
	s.scheduledRuns.Snapshot()
	s.workflowResults.Snapshot()
	x := &s.ix
	for _, m := range []*pmap.Sets{&x.members, &x.memberOf, &x.usersByOrg, &x.packagesByCatalog, &x.resourcesByCatalog,
		&x.roleScopeUses, &x.policiesByPackage, &x.policiesByOrg, &x.autoPolicies, &x.incompatibleWith, &x.rolesByPrincipal, &x.rolesByScope,
		&x.requestsByTarget, &x.requestsByRequestor, &x.requestsByPackage, &x.openByPackage, &x.approvals,
		&x.assignmentsByTarget, &x.assignmentsByPackage, &x.liveByPackage, &x.liveByTarget, &x.holders,
		&x.workflowsByAttribute, &x.runsByWorkflow, &x.runsBySubject, &x.resultsByWorkflow,
		&x.reviewsByPolicy, &x.openReviews, &x.reviewerSets, &x.pendingByReviewerSet, &x.guestsByEmail, &x.pendingByEmail, &x.orgsByIdentity} {
		m.Snapshot()
	}
	for _, m := range []*pmap.Map[string]{&x.resourceByOrigin, &x.roleResource, &x.scopeResource, &x.openAdds,
		&x.openUpdates, &x.assignmentOfRequest, &x.timeRuns, &x.reviewDue} {
		m.Snapshot()
	}
	for _, m := range []*pmap.Map[int]{&x.openByPolicy, &x.liveByPolicy} {
		m.Snapshot()
	}
	for _, m := range []*pmap.Map[struct{}]{&x.nestedIDs, &x.created, &x.deliveries, &x.due, &x.pendingDirectory} {
		m.Snapshot()
	}
}

// Counts says how many objects of each kind a State holds.
type Counts struct {
	Users, Groups, ServicePrincipals                        int
	Catalogs, Resources, AccessPackages, AssignmentPolicies int
	ConnectedOrganizations, RoleAssignments                 int
	Requests, Assignments, LiveAssignments                  int
}

// Counts returns how many objects of each kind s holds, in O(1).
func (s *State) Counts() Counts {
	return Counts{
		Users: s.users.Len(), Groups: s.groups.Len(), ServicePrincipals: s.servicePrincipals.Len(),
		Catalogs: s.catalogs.Len(), Resources: s.resources.Len(), AccessPackages: s.accessPackages.Len(),
		AssignmentPolicies: s.policies.Len(), ConnectedOrganizations: s.connectedOrganizations.Len(),
		RoleAssignments: s.roleAssignments.Len(), Requests: s.requests.Len(), Assignments: s.assignments.Len(),
		LiveAssignments: s.ix.live,
	}
}

// nonEndedAssignments returns how many assignments of the access package
// have not ended.
func (s *State) nonEndedAssignments(accessPackageID string) int {
	return s.ix.liveByPackage.Len(accessPackageID)
}

// nonEndedPolicyAssignments returns how many assignments made through the
// policy have not ended.
func (s *State) nonEndedPolicyAssignments(policyID string) int {
	n, _ := s.ix.liveByPolicy.Get(policyID)
	return n
}

// openRequests returns how many requests through the policy (or, with
// policyID empty, for the package) are still being processed.
func (s *State) openRequests(accessPackageID, policyID string) int {
	if policyID != "" {
		n, _ := s.ix.openByPolicy.Get(policyID)
		return n
	}
	return s.ix.openByPackage.Len(accessPackageID)
}

// activeUser returns the user with id if it exists and is not deleted.
func (s *State) activeUser(id string) (*User, bool) {
	u, ok := s.users.Get(id)
	if !ok || u.DeletedDateTime != nil {
		return nil, false
	}
	return u, true
}

// directoryObjectExists reports whether id is a live user, a group or a
// service principal.
func (s *State) directoryObjectExists(id string) bool {
	if _, ok := s.activeUser(id); ok {
		return true
	}
	return s.groups.Has(id) || s.servicePrincipals.Has(id)
}

// groupsOf returns the groups principal is in, directly or through nested
// groups, walking up from the principal: the cost is the number of its
// groups, not the size of any group.
func (s *State) groupsOf(principal string) map[string]bool {
	var out map[string]bool
	var walk func(id string)
	walk = func(id string) {
		for g := range s.ix.memberOf.Members(id) {
			if out[g] {
				continue
			}
			if out == nil {
				out = map[string]bool{}
			}
			out[g] = true
			walk(g)
		}
	}
	walk(principal)
	return out
}

// isMemberOf reports whether principal is a member of group, directly or
// through nested groups.
func (s *State) isMemberOf(principal, group string) bool {
	if s.ix.members.Has(group, principal) {
		return true
	}
	return s.groupsOf(principal)[group]
}

// groupMembers returns the direct members of a group, sorted.
func (s *State) groupMembers(groupID string) []string {
	var out []string
	for m := range s.ix.members.Members(groupID) {
		out = append(out, m)
	}
	return out
}

// collect returns the members of a Sets key as a slice, sorted.
func collect(sets *pmap.Sets, k string) []string {
	var out []string
	for m := range sets.Members(k) {
		out = append(out, m)
	}
	return out
}

// packagesOfCatalog returns the ids of the catalog's packages, sorted.
func (s *State) packagesOfCatalog(catalogID string) []string {
	return collect(&s.ix.packagesByCatalog, catalogID)
}

// resourcesOfCatalog returns the ids of the catalog's resources, sorted.
func (s *State) resourcesOfCatalog(catalogID string) []string {
	return collect(&s.ix.resourcesByCatalog, catalogID)
}

// policiesOfPackage returns the ids of the package's policies, sorted.
func (s *State) policiesOfPackage(packageID string) []string {
	return collect(&s.ix.policiesByPackage, packageID)
}

// resourceInUse reports whether any package has a role scope on the
// resource, and names the first such package.
func (s *State) resourceInUse(resourceID string) (packageID string, used bool) {
	for use := range s.ix.roleScopeUses.Members(resourceID) {
		pkg, _, _ := strings.Cut(use, "\x00")
		return pkg, true
	}
	return "", false
}

// resourceByOrigin finds a catalog's resource by its origin.
func (s *State) resourceByOrigin(catalogID, originSystem, originID string) (*Resource, bool) {
	id, ok := s.ix.resourceByOrigin.Get(originKey(catalogID, originSystem, originID))
	if !ok {
		return nil, false
	}
	return s.resources.Get(id)
}

func originKey(catalogID, originSystem, originID string) string {
	return catalogID + "\x00" + originSystem + "\x00" + originID
}

// delegatedPrincipals returns the distinct principals holding a role
// assignment scoped to the catalog.
func (s *State) delegatedPrincipals(catalogID string) map[string]bool {
	ps := map[string]bool{}
	for id := range s.ix.rolesByScope.Members(CatalogScope(catalogID)) {
		ra, _ := s.roleAssignments.Get(id)
		ps[ra.PrincipalID] = true
	}
	return ps
}

// values returns the values of m in key order.
func values[V any](m *pmap.Map[V]) []V {
	out := make([]V, 0, m.Len())
	for _, v := range m.All() {
		out = append(out, v)
	}
	return out
}
