package entitlement

import (
	"slices"
	"sort"
)

// State is the fold of the event log: everything entitlement management
// knows. It changes only through Apply. Reads are methods that take the
// Actor asking, authorize it like a command and return copies.
//
// A State is not safe for concurrent use; the Manager guards its own.
type State struct {
	users             map[string]*User
	groups            map[string]*Group
	servicePrincipals map[string]*ServicePrincipal

	catalogs               map[string]*Catalog
	resources              map[string]*Resource
	resourceRequests       map[string]*ResourceRequest
	accessPackages         map[string]*AccessPackage
	policies               map[string]*AssignmentPolicyPayload
	connectedOrganizations map[string]*ConnectedOrganization
	roleAssignments        map[string]*RoleAssignment
	settings               *Settings

	// policyVersions counts, per policy, its creation and replacements.
	policyVersions map[string]int
	requests       map[string]*AssignmentRequest
	assignments    map[string]*Assignment
}

// NewState returns an empty State.
func NewState() *State {
	return &State{
		users:                  map[string]*User{},
		groups:                 map[string]*Group{},
		servicePrincipals:      map[string]*ServicePrincipal{},
		catalogs:               map[string]*Catalog{},
		resources:              map[string]*Resource{},
		resourceRequests:       map[string]*ResourceRequest{},
		accessPackages:         map[string]*AccessPackage{},
		policies:               map[string]*AssignmentPolicyPayload{},
		connectedOrganizations: map[string]*ConnectedOrganization{},
		roleAssignments:        map[string]*RoleAssignment{},
		policyVersions:         map[string]int{},
		requests:               map[string]*AssignmentRequest{},
		assignments:            map[string]*Assignment{},
	}
}

// init makes the maps of a zero State.
func (s *State) init() {
	if s.users == nil {
		*s = *NewState()
	}
}

// nonEndedAssignments returns how many assignments of the access package
// have not ended.
func (s *State) nonEndedAssignments(accessPackageID string) int {
	n := 0
	for _, a := range s.assignments {
		if a.AccessPackageID == accessPackageID && !a.IsEnded() {
			n++
		}
	}
	return n
}

// nonEndedPolicyAssignments returns how many assignments made through the
// policy have not ended.
func (s *State) nonEndedPolicyAssignments(policyID string) int {
	n := 0
	for _, a := range s.assignments {
		if a.AssignmentPolicyID == policyID && !a.IsEnded() {
			n++
		}
	}
	return n
}

// openRequests returns how many requests through the policy (or, with
// policyID empty, for the package) are still being processed.
func (s *State) openRequests(accessPackageID, policyID string) int {
	n := 0
	for _, r := range s.requests {
		if r.isOpen() && (policyID == "" && r.AccessPackageID == accessPackageID || policyID != "" && r.AssignmentPolicyID == policyID) {
			n++
		}
	}
	return n
}

// activeUser returns the user with id if it exists and is not deleted.
func (s *State) activeUser(id string) (*User, bool) {
	u, ok := s.users[id]
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
	if _, ok := s.groups[id]; ok {
		return true
	}
	_, ok := s.servicePrincipals[id]
	return ok
}

// isMemberOf reports whether principal is a member of group, directly or
// through nested groups.
func (s *State) isMemberOf(principal, group string) bool {
	seen := map[string]bool{}
	var walk func(g string) bool
	walk = func(g string) bool {
		if seen[g] {
			return false
		}
		seen[g] = true
		grp, ok := s.groups[g]
		if !ok {
			return false
		}
		for _, m := range grp.Members {
			if m == principal {
				return true
			}
			if _, isGroup := s.groups[m]; isGroup && walk(m) {
				return true
			}
		}
		return false
	}
	return walk(group)
}

// packagesOfCatalog returns the ids of the catalog's packages, sorted.
func (s *State) packagesOfCatalog(catalogID string) []string {
	var ids []string
	for id, p := range s.accessPackages {
		if p.CatalogID == catalogID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// resourcesOfCatalog returns the ids of the catalog's resources, sorted.
func (s *State) resourcesOfCatalog(catalogID string) []string {
	var ids []string
	for id, r := range s.resources {
		if r.CatalogID == catalogID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// policiesOfPackage returns the ids of the package's policies, sorted.
func (s *State) policiesOfPackage(packageID string) []string {
	var ids []string
	for id, p := range s.policies {
		if p.Policy.AccessPackageID == packageID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// resourceInUse reports whether any package has a role scope on the resource.
func (s *State) resourceInUse(resourceID string) (packageID string, used bool) {
	for _, id := range sortedKeys(s.accessPackages) {
		for _, rs := range s.accessPackages[id].ResourceRoleScopes {
			if rs.ResourceID == resourceID {
				return id, true
			}
		}
	}
	return "", false
}

// resourceByOrigin finds a catalog's resource by its origin.
func (s *State) resourceByOrigin(catalogID, originSystem, originID string) (*Resource, bool) {
	for _, id := range s.resourcesOfCatalog(catalogID) {
		r := s.resources[id]
		if r.OriginSystem == originSystem && r.OriginID == originID {
			return r, true
		}
	}
	return nil, false
}

// delegatedPrincipals returns the distinct principals holding a role
// assignment scoped to the catalog.
func (s *State) delegatedPrincipals(catalogID string) map[string]bool {
	ps := map[string]bool{}
	for _, ra := range s.roleAssignments {
		if ra.CatalogID() == catalogID {
			ps[ra.PrincipalID] = true
		}
	}
	return ps
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// insertSorted adds v to the sorted slice s if absent.
func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

// removeString removes v from s.
func removeString(s []string, v string) []string {
	return slices.DeleteFunc(s, func(x string) bool { return x == v })
}
