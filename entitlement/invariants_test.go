package entitlement

import (
	"fmt"
	"slices"
)

// invariant is a named check of one invariant of domain spec §7 against a
// State. The property tests of later issues reuse them.
type invariant struct {
	name  string
	check func(s *State) error
}

// stateInvariants are the invariants that hold of every State on their own.
var stateInvariants = []invariant{
	{"1 package in one catalog, policy in its package's catalog", checkInvariant1},
	{"2 role scope of one resource in the package's catalog", checkInvariant2},
	{"3 role scope id is roleId_scopeId and unique per package", checkInvariant3},
	{"4 no resource leaves while a package uses it", checkInvariant4},
	{"5 no catalog with packages is deleted", checkInvariant5},
	{"6 no package or policy with non-ended assignments is deleted", checkInvariant6},
	{"7 policy, package and resource caps", checkInvariant7},
	{"8 auto-assignment policy shape", checkInvariant8},
	{"42 automatic assignments follow their rule", checkInvariant42},
	{"47 catalog-scoped role assignments name existing catalogs", checkInvariant47},
}

// checkInvariants runs every state invariant.
func checkInvariants(s *State) error {
	for _, inv := range stateInvariants {
		if err := inv.check(s); err != nil {
			return fmt.Errorf("invariant %s: %w", inv.name, err)
		}
	}
	return nil
}

func checkInvariant1(s *State) error {
	for id, p := range s.accessPackages.All() {
		if _, ok := s.catalogs.Get(p.CatalogID); !ok {
			return fmt.Errorf("package %s in missing catalog %s", id, p.CatalogID)
		}
	}
	for id, p := range s.policies.All() {
		pkg, ok := s.accessPackages.Get(p.Policy.AccessPackageID)
		if !ok {
			return fmt.Errorf("policy %s of missing package %s", id, p.Policy.AccessPackageID)
		}
		if p.CatalogID != pkg.CatalogID {
			return fmt.Errorf("policy %s in catalog %s, its package in %s", id, p.CatalogID, pkg.CatalogID)
		}
		if p.Policy.ID != id {
			return fmt.Errorf("policy keyed %s has id %s", id, p.Policy.ID)
		}
	}
	return nil
}

func checkInvariant2(s *State) error {
	for id, p := range s.accessPackages.All() {
		for _, rs := range p.ResourceRoleScopes {
			r, ok := s.resources.Get(rs.ResourceID)
			if !ok {
				return fmt.Errorf("package %s: role scope %s on missing resource %s", id, rs.ID, rs.ResourceID)
			}
			if r.CatalogID != p.CatalogID {
				return fmt.Errorf("package %s: resource %s is in catalog %s, not %s", id, r.ID, r.CatalogID, p.CatalogID)
			}
			if !slices.ContainsFunc(r.Roles, func(x ResourceRole) bool { return x.ID == rs.RoleID }) {
				return fmt.Errorf("package %s: role %s is not a role of resource %s", id, rs.RoleID, r.ID)
			}
			if !slices.ContainsFunc(r.Scopes, func(x ResourceScope) bool { return x.ID == rs.ScopeID }) {
				return fmt.Errorf("package %s: scope %s is not a scope of resource %s", id, rs.ScopeID, r.ID)
			}
		}
	}
	return nil
}

func checkInvariant3(s *State) error {
	for id, p := range s.accessPackages.All() {
		seen := map[string]bool{}
		for _, rs := range p.ResourceRoleScopes {
			if rs.ID != rs.RoleID+"_"+rs.ScopeID {
				return fmt.Errorf("package %s: role scope id %s is not roleId_scopeId", id, rs.ID)
			}
			if seen[rs.ID] {
				return fmt.Errorf("package %s: role scope %s twice", id, rs.ID)
			}
			seen[rs.ID] = true
		}
	}
	return nil
}

func checkInvariant4(s *State) error {
	for id, p := range s.accessPackages.All() {
		for _, rs := range p.ResourceRoleScopes {
			if r, ok := s.resources.Get(rs.ResourceID); !ok || r.CatalogID != p.CatalogID {
				return fmt.Errorf("package %s uses resource %s, which left its catalog", id, rs.ResourceID)
			}
		}
	}
	return nil
}

func checkInvariant5(s *State) error {
	for id, p := range s.accessPackages.All() {
		if _, ok := s.catalogs.Get(p.CatalogID); !ok {
			return fmt.Errorf("catalog %s was deleted while holding package %s", p.CatalogID, id)
		}
	}
	for id, r := range s.resources.All() {
		if _, ok := s.catalogs.Get(r.CatalogID); !ok {
			return fmt.Errorf("resource %s is in deleted catalog %s", id, r.CatalogID)
		}
	}
	return nil
}

func checkInvariant6(s *State) error {
	// Deleting a package or policy is refused while it has non-ended
	// assignments, so every non-ended assignment's package and policy exist.
	for id, a := range s.assignments.All() {
		if a.IsEnded() {
			continue
		}
		if _, ok := s.accessPackages.Get(a.AccessPackageID); !ok {
			return fmt.Errorf("non-ended assignment %s of deleted package %s", id, a.AccessPackageID)
		}
		if _, ok := s.policies.Get(a.AssignmentPolicyID); !ok {
			return fmt.Errorf("non-ended assignment %s of deleted policy %s", id, a.AssignmentPolicyID)
		}
	}
	return nil
}

func checkInvariant7(s *State) error {
	for id := range s.accessPackages.All() {
		pols := s.policiesOfPackage(id)
		if len(pols) > MaxPoliciesPerPackage {
			return fmt.Errorf("package %s has %d policies", id, len(pols))
		}
		if n := s.autoPoliciesOfPackage(id, ""); n > MaxAutoAssignmentPoliciesPerPackage {
			return fmt.Errorf("package %s has %d auto-assignment policies", id, n)
		}
	}
	for id := range s.catalogs.All() {
		if n := len(s.packagesOfCatalog(id)); n > MaxPackagesPerCatalog {
			return fmt.Errorf("catalog %s has %d packages", id, n)
		}
		if n := len(s.resourcesOfCatalog(id)); n > MaxResourcesPerCatalog {
			return fmt.Errorf("catalog %s has %d resources", id, n)
		}
		if n := len(s.delegatedPrincipals(id)); n > MaxDelegatesPerCatalog {
			return fmt.Errorf("catalog %s has %d delegated principals", id, n)
		}
	}
	return nil
}

func checkInvariant8(s *State) error {
	for id, p := range s.policies.All() {
		if err := checkAutoAssignmentShape("invariant8", &p.Policy); err != nil {
			return fmt.Errorf("policy %s: %w", id, err)
		}
	}
	return nil
}

func checkInvariant47(s *State) error {
	for id, ra := range s.roleAssignments.All() {
		if ra.AppScopeID == TenantScope {
			if ra.RoleDefinitionID != RoleCatalogCreator {
				return fmt.Errorf("role assignment %s: catalog role %s at tenant scope", id, ra.RoleDefinitionID)
			}
			continue
		}
		cid := ra.CatalogID()
		if _, ok := s.catalogs.Get(cid); !ok {
			return fmt.Errorf("role assignment %s scoped to missing catalog %q", id, ra.AppScopeID)
		}
	}
	return nil
}

// checkInvariant42 checks what holds of automatic assignments at every
// instant: a target who matches the rule has no removal scheduled; one who
// does not has a removal scheduled exactly when the policy removes access
// (the removal itself is due work, done by ProcessDue). That a matching
// user who can be assigned is assigned is the property test's to check:
// one made assignable by another change (an incompatibility removed, say)
// is assigned at their own next change.
func checkInvariant42(s *State) error {
	for id, e := range s.policies.All() {
		pol := &e.Policy
		if !pol.IsAutoAssignment() {
			continue
		}
		removes := pol.AutomaticRequestSettings.RemoveAccessWhenTargetLeavesAllowedTargets
		for _, aid := range collect(&s.ix.liveByPackage, pol.AccessPackageID) {
			a, _ := s.assignments.Get(aid)
			if a.AssignmentPolicyID != id {
				continue
			}
			match := autoMatches(s, pol, a.TargetID)
			switch {
			case match && a.AutomaticRemovalDateTime != nil:
				return fmt.Errorf("assignment %s: its target matches the rule of policy %s, yet its removal is scheduled", aid, id)
			case !match && removes && a.AutomaticRemovalDateTime == nil:
				return fmt.Errorf("assignment %s: its target left the rule of policy %s, and no removal is scheduled", aid, id)
			case !match && !removes && a.AutomaticRemovalDateTime != nil:
				return fmt.Errorf("assignment %s: policy %s does not remove access, yet a removal is scheduled", aid, id)
			}
		}
	}
	return nil
}
