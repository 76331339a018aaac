package projection

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
)

// The types of the objects a projection holds, as TypeOf and an audit
// entry's Target.Type name them (Graph's).
const (
	TypeUser          = kindUser
	TypeAccessPackage = kindAccessPackage
)

// Kinds of the objects table, named after Graph's types as the audit
// log's target resources are.
const (
	kindUser                  = "User"
	kindGroup                 = "Group"
	kindServicePrincipal      = "ServicePrincipal"
	kindCatalog               = "AccessPackageCatalog"
	kindResource              = "AccessPackageResource"
	kindAccessPackage         = "AccessPackage"
	kindPolicy                = "AccessPackageAssignmentPolicy"
	kindConnectedOrganization = "ConnectedOrganization"
	kindSettings              = "EntitlementManagementSettings"
	kindRoleAssignment        = "UnifiedRoleAssignment"
	kindRequest               = "AccessPackageAssignmentRequest"
	kindAssignment            = "AccessPackageAssignment"
	kindRoleScope             = "AccessPackageResourceRoleScope"
	kindWorkflow              = "Workflow"
	kindAccessReview          = "AccessReviewInstance"
)

// settingsID is the id of the tenant's one settings object.
const settingsID = "tenant"

var (
	users = &kind[entitlement.User]{name: kindUser,
		id: func(u *entitlement.User) string { return u.ID }, title: userName}
	groups = &kind[entitlement.Group]{name: kindGroup,
		id: func(g *entitlement.Group) string { return g.ID }, title: func(g *entitlement.Group) string { return g.DisplayName }}
	servicePrincipals = &kind[entitlement.ServicePrincipal]{name: kindServicePrincipal,
		id:    func(sp *entitlement.ServicePrincipal) string { return sp.ID },
		title: func(sp *entitlement.ServicePrincipal) string { return sp.DisplayName }}
	catalogs = &kind[entitlement.Catalog]{name: kindCatalog,
		id: func(c *entitlement.Catalog) string { return c.ID }, title: func(c *entitlement.Catalog) string { return c.DisplayName }}
	resources = &kind[entitlement.Resource]{name: kindResource,
		id: func(r *entitlement.Resource) string { return r.ID }, title: func(r *entitlement.Resource) string { return r.DisplayName },
		parent: func(r *entitlement.Resource) string { return r.CatalogID }}
	accessPackages = &kind[entitlement.AccessPackage]{name: kindAccessPackage,
		id:     func(p *entitlement.AccessPackage) string { return p.ID },
		title:  func(p *entitlement.AccessPackage) string { return p.DisplayName },
		parent: func(p *entitlement.AccessPackage) string { return p.CatalogID }}
	policies = &kind[entitlement.AssignmentPolicy]{name: kindPolicy,
		id:     func(p *entitlement.AssignmentPolicy) string { return p.ID },
		title:  func(p *entitlement.AssignmentPolicy) string { return p.DisplayName },
		parent: func(p *entitlement.AssignmentPolicy) string { return p.AccessPackageID }}
	connectedOrganizations = &kind[entitlement.ConnectedOrganization]{name: kindConnectedOrganization,
		id:    func(o *entitlement.ConnectedOrganization) string { return o.ID },
		title: func(o *entitlement.ConnectedOrganization) string { return o.DisplayName }}
	workflows = &kind[entitlement.Workflow]{name: kindWorkflow,
		id: func(w *entitlement.Workflow) string { return w.ID }, title: func(w *entitlement.Workflow) string { return w.DisplayName }}
	settings = &kind[entitlement.Settings]{name: kindSettings,
		id: func(*entitlement.Settings) string { return settingsID }, title: func(*entitlement.Settings) string { return "Entitlement management settings" }}
	roleAssignments = &kind[entitlement.RoleAssignment]{name: kindRoleAssignment,
		id: func(ra *entitlement.RoleAssignment) string { return ra.ID },
		title: func(ra *entitlement.RoleAssignment) string {
			return entitlement.RoleDefinitionName(ra.RoleDefinitionID)
		},
		parent: func(ra *entitlement.RoleAssignment) string { return ra.CatalogID() }}
	requests = &kind[entitlement.AssignmentRequest]{name: kindRequest,
		id:     func(r *entitlement.AssignmentRequest) string { return r.ID },
		title:  func(*entitlement.AssignmentRequest) string { return "" },
		parent: func(r *entitlement.AssignmentRequest) string { return r.AccessPackageID },
		index:  indexRequest}
	assignments = &kind[entitlement.Assignment]{name: kindAssignment,
		id:     func(a *entitlement.Assignment) string { return a.ID },
		title:  func(*entitlement.Assignment) string { return "" },
		parent: func(a *entitlement.Assignment) string { return a.AccessPackageID },
		index:  indexAssignment}
)

func userName(u *entitlement.User) string {
	switch {
	case u.DisplayName != "":
		return u.DisplayName
	case u.UserPrincipalName != "":
		return u.UserPrincipalName
	}
	return u.ID
}

// indexRequest keeps the requests table and the approvers every version
// names. A current version that changes neither the state nor the
// approvers writes nothing.
func indexRequest(b *batch, id string, r *entitlement.AssignmentRequest, last bool) error {
	c, err := b.current(kindRequest, id)
	if err != nil {
		return err
	}
	if r == nil {
		if last {
			c.indexed = ""
			_, err := b.tx.ExecContext(b.ctx, "UPDATE requests SET state = '' WHERE id = ?", id)
			return err
		}
		return nil
	}
	var sig strings.Builder
	sig.WriteString(r.State)
	for _, st := range r.Stages {
		fmt.Fprintf(&sig, "|%d/%d", len(st.Approvers), len(st.EscalationApprovers))
	}
	if last && sig.String() == c.indexed {
		return nil
	}
	for _, st := range r.Stages {
		for _, list := range [][]string{st.Approvers, st.EscalationApprovers} {
			for _, a := range list {
				if _, err := b.insertApprover.ExecContext(b.ctx, a, id); err != nil {
					return err
				}
			}
		}
	}
	if !last {
		return nil
	}
	c.indexed = sig.String()
	_, err = b.putRequest.ExecContext(b.ctx, id, c.oid, r.AccessPackageID, r.AssignmentPolicyID, r.PolicyVersion,
		r.TargetID, r.RequestorID, r.State, b.pos, r.CreatedDateTime.UnixNano())
	return err
}

// indexAssignment keeps the assignments table and the grants every
// version lists. A current version that changes neither the state nor the
// roles listed writes nothing.
func indexAssignment(b *batch, id string, a *entitlement.Assignment, last bool) error {
	if a == nil {
		return nil // assignments end; they are not deleted
	}
	c, err := b.current(kindAssignment, id)
	if err != nil {
		return err
	}
	var sig strings.Builder
	sig.WriteString(a.State)
	for _, r := range a.Resources {
		sig.WriteString("|" + r.ResourceRoleScopeID)
	}
	if last && sig.String() == c.indexed {
		return nil
	}
	if last {
		c.indexed = sig.String()
		// The end is valid from the instant of the event that ended it,
		// also when recorded late; it is kept once set (an assignment
		// never comes back once ended).
		var endedAt, endedKnown any
		if a.IsEnded() {
			endedAt, endedKnown = b.valid, b.pos
		}
		if _, err := b.putAssignment.ExecContext(b.ctx, id, c.oid, a.AccessPackageID, a.AssignmentPolicyID, a.TargetID, a.RequestID,
			a.State, b.pos, a.CreatedDateTime.UnixNano(), b.valid, endedAt, endedKnown); err != nil {
			return err
		}
	}
	// A grant copies the assignment's row (written above if it is new),
	// its end included.
	for _, r := range a.Resources {
		if _, err := b.insertGrant.ExecContext(b.ctx, r.ResourceID, r.RoleID, r.ResourceRoleScopeID, r.ScopeID, id); err != nil {
			return err
		}
	}
	if last && a.IsEnded() {
		for _, r := range a.Resources {
			if _, err := b.endGrant.ExecContext(b.ctx, b.valid, b.pos, r.ResourceID, r.RoleID, id, r.ResourceRoleScopeID); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyEvent changes the objects an event changes and fills in its audit
// row: targets, modified properties, result and category.
func (b *batch) applyEvent(e eventstore.Event, de entitlement.Event, r *entry) error {
	var old, new []byte
	var err error
	modified := func() { r.modified = diff(old, new) }
	switch d := de.Data.(type) {
	case *entitlement.UserPayload:
		r.category = CategoryUserManagement
		old, new, err = users.put(b, d.User)
		modified()
		r.target(kindUser, d.User.ID, userName(&d.User))
	case *entitlement.UserAttributeChanged, *entitlement.UserManagerChanged, *entitlement.UserRef,
		*entitlement.UserDeleted, *entitlement.SubjectLifecycleChanged, *entitlement.GuestLifecycleChanged,
		*entitlement.DirectoryChangeOutcome:
		r.category = CategoryUserManagement
		id := userOf(d)
		old, new, err = users.evolve(b, id, func(u *entitlement.User) bool { return entitlement.EvolveUser(u, de) })
		modified()
		if x, ok := d.(*entitlement.UserAttributeChanged); ok {
			r.modified = []ModifiedProperty{{DisplayName: x.Name, OldValue: quote(x.OldValue), NewValue: quote(x.NewValue)}}
		}
		r.target(kindUser, id, b.name(kindUser, id))
		if x, ok := d.(*entitlement.UserManagerChanged); ok {
			r.target(kindUser, x.ManagerID, b.name(kindUser, x.ManagerID))
		}
	case *entitlement.GroupPayload:
		r.category = CategoryGroupManagement
		g := d.Group
		old, new, err = groups.change(b, g.ID, func(x *entitlement.Group, exists bool) (bool, bool) {
			members := x.Members
			*x = g
			x.Members = members // kept by membership events
			return true, true
		})
		modified()
		r.target(kindGroup, g.ID, g.DisplayName)
	case *entitlement.GroupMember:
		r.category = CategoryGroupManagement
		_, _, err = groups.evolve(b, d.GroupID, func(g *entitlement.Group) bool {
			return setMember(g, d.MemberID, e.Type == entitlement.EventGroupMemberAdded)
		})
		r.target(kindGroup, d.GroupID, b.name(kindGroup, d.GroupID))
		k := b.principalKind(d.MemberID)
		r.target(k, d.MemberID, b.name(k, d.MemberID))
	case *entitlement.ServicePrincipalPayload:
		r.category = CategoryApplicationManagement
		sp := d.ServicePrincipal
		old, new, err = servicePrincipals.put(b, sp)
		modified()
		r.target(kindServicePrincipal, sp.ID, sp.DisplayName)
	case *entitlement.ObjectRef:
		err = b.applyDelete(de, d.ID, r)
	case *entitlement.CatalogCreated:
		c := d.Catalog
		old, new, err = catalogs.put(b, c)
		modified()
		r.target(kindCatalog, c.ID, c.DisplayName)
		if ra := d.OwnerRoleAssignment; ra != nil && err == nil {
			_, _, err = roleAssignments.put(b, *ra)
			r.target(kindRoleAssignment, ra.ID, entitlement.RoleDefinitionName(ra.RoleDefinitionID))
			k := b.principalKind(ra.PrincipalID)
			r.target(k, ra.PrincipalID, b.name(k, ra.PrincipalID))
		}
	case *entitlement.CatalogUpdated:
		c := d.Catalog
		old, new, err = catalogs.put(b, c)
		modified()
		r.target(kindCatalog, c.ID, c.DisplayName)
	case *entitlement.ResourceRequestPayload:
		res := d.Request.Resource
		if e.Type == entitlement.EventResourceRemoved {
			old, new, err = resources.remove(b, res.ID)
		} else {
			old, new, err = resources.put(b, res)
		}
		modified()
		r.target(kindResource, res.ID, res.DisplayName)
		r.target(kindCatalog, d.Request.CatalogID, b.name(kindCatalog, d.Request.CatalogID))
	case *entitlement.AccessPackageCreated:
		p := d.AccessPackage
		old, new, err = accessPackages.put(b, p)
		modified()
		r.target(kindAccessPackage, p.ID, p.DisplayName)
		r.target(kindCatalog, p.CatalogID, b.name(kindCatalog, p.CatalogID))
	case *entitlement.AccessPackageUpdated:
		old, new, err = accessPackages.evolve(b, d.ID, func(p *entitlement.AccessPackage) bool { return entitlement.EvolveAccessPackage(p, de) })
		modified()
		r.target(kindAccessPackage, d.ID, b.name(kindAccessPackage, d.ID))
	case *entitlement.ResourceRoleScopeChanged:
		err = b.applyRoleScope(de, d, r)
	case *entitlement.IncompatibilityChanged:
		old, new, err = accessPackages.evolve(b, d.AccessPackageID, func(p *entitlement.AccessPackage) bool { return entitlement.EvolveAccessPackage(p, de) })
		modified()
		otherKind := kindAccessPackage
		if strings.Contains(e.Type, "Group") {
			otherKind = kindGroup
		}
		r.target(kindAccessPackage, d.AccessPackageID, b.name(kindAccessPackage, d.AccessPackageID))
		r.target(otherKind, d.OtherID, b.name(otherKind, d.OtherID))
	case *entitlement.AssignmentPolicyPayload:
		old, new, err = b.putPolicy(d.Policy)
		modified()
		r.target(kindPolicy, d.Policy.ID, d.Policy.DisplayName)
		r.target(kindAccessPackage, d.Policy.AccessPackageID, b.name(kindAccessPackage, d.Policy.AccessPackageID))
	case *entitlement.ConnectedOrganizationPayload:
		o := d.ConnectedOrganization
		old, new, err = connectedOrganizations.put(b, o)
		modified()
		r.target(kindConnectedOrganization, o.ID, o.DisplayName)
	case *entitlement.SponsorChanged:
		old, new, err = connectedOrganizations.evolve(b, d.ConnectedOrganizationID, func(o *entitlement.ConnectedOrganization) bool {
			return entitlement.EvolveConnectedOrganization(o, de)
		})
		modified()
		r.target(kindConnectedOrganization, d.ConnectedOrganizationID, b.name(kindConnectedOrganization, d.ConnectedOrganizationID))
		k := b.principalKind(d.DirectoryObjectID)
		r.target(k, d.DirectoryObjectID, b.name(k, d.DirectoryObjectID))
	case *entitlement.SettingsUpdated:
		old, new, err = settings.put(b, d.Settings)
		if old == nil && err == nil {
			// Before the first change the tenant had the defaults: the
			// modified properties are those that differ from them.
			old, err = json.Marshal(entitlement.DefaultSettings())
		}
		modified()
		r.target(kindSettings, settingsID, "Entitlement management settings")
	case *entitlement.RoleAssignmentPayload:
		ra := d.RoleAssignment
		if e.Type == entitlement.EventRoleAssignmentCreated {
			_, _, err = roleAssignments.put(b, ra)
			r.modified = []ModifiedProperty{{DisplayName: "roleDefinitionId", NewValue: quote(ra.RoleDefinitionID)},
				{DisplayName: "appScopeId", NewValue: quote(ra.AppScopeID)}}
		} else {
			_, _, err = roleAssignments.remove(b, ra.ID)
			r.modified = []ModifiedProperty{{DisplayName: "roleDefinitionId", OldValue: quote(ra.RoleDefinitionID)},
				{DisplayName: "appScopeId", OldValue: quote(ra.AppScopeID)}}
		}
		r.target(kindRoleAssignment, ra.ID, entitlement.RoleDefinitionName(ra.RoleDefinitionID))
		k := b.principalKind(ra.PrincipalID)
		r.target(k, ra.PrincipalID, b.name(k, ra.PrincipalID))
		if cid := ra.CatalogID(); cid != "" {
			r.target(kindCatalog, cid, b.name(kindCatalog, cid))
		}
	default:
		return b.applyAccess(e, de, r)
	}
	return err
}

// userOf returns the user a user event changes.
func userOf(d any) string {
	switch d := d.(type) {
	case *entitlement.UserAttributeChanged:
		return d.UserID
	case *entitlement.UserManagerChanged:
		return d.UserID
	case *entitlement.UserRef:
		return d.UserID
	case *entitlement.UserDeleted:
		return d.UserID
	case *entitlement.SubjectLifecycleChanged:
		return d.ObjectID
	case *entitlement.GuestLifecycleChanged:
		return d.UserID
	case *entitlement.DirectoryChangeOutcome:
		return d.UserID
	}
	return ""
}

// setMember adds or removes a group member, keeping members sorted.
func setMember(g *entitlement.Group, id string, add bool) bool {
	i, found := slices.BinarySearch(g.Members, id)
	switch {
	case add && !found:
		g.Members = append(g.Members[:i:i], append([]string{id}, g.Members[i:]...)...)
	case !add && found:
		g.Members = append(g.Members[:i:i], g.Members[i+1:]...)
	default:
		return false
	}
	return true
}

// putPolicy stores a policy's new version, numbered as the State numbers
// them.
func (b *batch) putPolicy(p entitlement.AssignmentPolicy) (before, after []byte, err error) {
	version := 1
	if b.exists(kindPolicy, p.ID) {
		if err := b.lastPolicyVersion.QueryRowContext(b.ctx, p.ID).Scan(&version); err != nil {
			return nil, nil, err
		}
		version++
	}
	if before, after, err = policies.put(b, p); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, nil, err
	}
	_, err = b.insertPolicyVersion.ExecContext(b.ctx, p.ID, b.pos, version, string(data))
	return before, after, err
}

// applyDelete applies the deletion events whose payload is an ObjectRef,
// with what the deletion takes along.
func (b *batch) applyDelete(e entitlement.Event, id string, r *entry) error {
	var err error
	var old []byte
	switch e.Type {
	case entitlement.EventGroupDeleted, entitlement.EventServicePrincipalDeleted:
		k := groups
		r.category, r.targets = CategoryGroupManagement, []Target{{Type: kindGroup, ID: id, DisplayName: b.name(kindGroup, id)}}
		if e.Type == entitlement.EventServicePrincipalDeleted {
			r.category, r.targets = CategoryApplicationManagement, []Target{{Type: kindServicePrincipal, ID: id, DisplayName: b.name(kindServicePrincipal, id)}}
			_, _, err = servicePrincipals.remove(b, id)
		} else {
			_, _, err = k.remove(b, id)
		}
		if err != nil {
			return err
		}
		ids, err := b.ids(b.groupsWithMember, id)
		if err != nil {
			return err
		}
		for _, g := range ids {
			if _, _, err := groups.evolve(b, g, func(x *entitlement.Group) bool { return setMember(x, id, false) }); err != nil {
				return err
			}
		}
		return nil
	case entitlement.EventCatalogDeleted:
		r.target(kindCatalog, id, b.name(kindCatalog, id))
		old, _, err = catalogs.remove(b, id)
		r.modified = diff(old, nil)
		for _, k := range []string{kindResource, kindRoleAssignment} {
			ids, err := b.ids(b.childrenOf, k, id)
			if err != nil {
				return err
			}
			for _, child := range ids {
				if k == kindResource {
					_, _, err = resources.remove(b, child)
				} else {
					_, _, err = roleAssignments.remove(b, child)
				}
				if err != nil {
					return err
				}
			}
		}
	case entitlement.EventAccessPackageDeleted:
		r.target(kindAccessPackage, id, b.name(kindAccessPackage, id))
		ids, err := b.ids(b.childrenOf, kindPolicy, id)
		if err != nil {
			return err
		}
		for _, p := range ids {
			if _, _, err := policies.remove(b, p); err != nil {
				return err
			}
		}
		others, err := b.ids(b.packagesNaming, id)
		if err != nil {
			return err
		}
		for _, p := range others {
			if _, _, err := accessPackages.evolve(b, p, func(x *entitlement.AccessPackage) bool { return entitlement.EvolveAccessPackage(x, e) }); err != nil {
				return err
			}
		}
		old, _, err := accessPackages.remove(b, id)
		r.modified = diff(old, nil)
		return err
	case entitlement.EventAssignmentPolicyDeleted:
		r.target(kindPolicy, id, b.name(kindPolicy, id))
		// Named as its creation and replacements are, so that the
		// package's audit log has the whole life of its policies.
		if p, ok, err := policies.get(b, id); err != nil {
			return err
		} else if ok {
			r.target(kindAccessPackage, p.AccessPackageID, b.name(kindAccessPackage, p.AccessPackageID))
		}
		old, _, err = policies.remove(b, id)
		r.modified = diff(old, nil)
	case entitlement.EventConnectedOrganizationDeleted:
		r.target(kindConnectedOrganization, id, b.name(kindConnectedOrganization, id))
		old, _, err = connectedOrganizations.remove(b, id)
		r.modified = diff(old, nil)
	case entitlement.EventWorkflowDeleted:
		r.category = CategoryWorkflowManagement
		r.target(kindWorkflow, id, b.name(kindWorkflow, id))
		old, _, err = workflows.remove(b, id)
		r.modified = diff(old, nil)
	}
	return err
}

// applyRoleScope applies a role scope added to or removed from a package:
// the package, and each of its assignments that has not ended.
func (b *batch) applyRoleScope(e entitlement.Event, d *entitlement.ResourceRoleScopeChanged, r *entry) error {
	old, new, err := accessPackages.evolve(b, d.AccessPackageID, func(p *entitlement.AccessPackage) bool { return entitlement.EvolveAccessPackage(p, e) })
	if err != nil {
		return err
	}
	r.modified = diff(old, new)
	r.target(kindAccessPackage, d.AccessPackageID, b.name(kindAccessPackage, d.AccessPackageID))
	r.target(kindRoleScope, d.ResourceRoleScope.ID, "")
	r.target(kindResource, d.ResourceRoleScope.ResourceID, b.name(kindResource, d.ResourceRoleScope.ResourceID))
	if new == nil {
		return nil // no such package
	}
	ids, err := b.ids(b.liveAssignments, d.AccessPackageID)
	if err != nil {
		return err
	}
	lookup := func(id string) (*entitlement.Resource, bool) {
		res, ok, _ := resources.get(b, id)
		return res, ok
	}
	for _, id := range ids {
		if _, _, err := assignments.evolve(b, id, func(a *entitlement.Assignment) bool { return entitlement.EvolveAssignment(a, e, lookup) }); err != nil {
			return err
		}
	}
	return nil
}

// applyAccess applies the events of requests, approvals and assignments.
func (b *batch) applyAccess(e eventstore.Event, de entitlement.Event, r *entry) error {
	var err error
	request := func(id string) {
		r.target(kindRequest, id, "")
		if q, ok, _ := requests.get(b, id); ok {
			r.target(kindAccessPackage, q.AccessPackageID, b.name(kindAccessPackage, q.AccessPackageID))
			r.target(kindUser, q.TargetID, b.name(kindUser, q.TargetID))
		}
	}
	assignment := func(id string) {
		r.target(kindAssignment, id, "")
		if a, ok, _ := assignments.get(b, id); ok {
			r.target(kindAccessPackage, a.AccessPackageID, b.name(kindAccessPackage, a.AccessPackageID))
			r.target(kindUser, a.TargetID, b.name(kindUser, a.TargetID))
		}
	}
	evolveRequest := func(id string) error {
		_, _, err := requests.evolve(b, id, func(q *entitlement.AssignmentRequest) bool { return entitlement.EvolveRequest(q, de) })
		return err
	}
	evolveAssignment := func(id string) error {
		_, _, err := assignments.evolve(b, id, func(a *entitlement.Assignment) bool { return entitlement.EvolveAssignment(a, de, nil) })
		return err
	}
	// evolveAssignmentDiff evolves an assignment and returns the named
	// properties the event changed, old and new.
	evolveAssignmentDiff := func(id string, props ...string) ([]ModifiedProperty, error) {
		before, after, err := assignments.evolve(b, id, func(a *entitlement.Assignment) bool { return entitlement.EvolveAssignment(a, de, nil) })
		return slices.DeleteFunc(diff(before, after), func(m ModifiedProperty) bool { return !slices.Contains(props, m.DisplayName) }), err
	}
	switch d := de.Data.(type) {
	case *entitlement.AssignmentRequestPayload:
		q := d.Request
		q.Policy = nil // kept once per version, in policy_versions
		_, _, err = requests.put(b, q)
		request(q.ID)
		r.modified = []ModifiedProperty{{DisplayName: "requestType", NewValue: quote(q.RequestType)},
			{DisplayName: "policyVersion", NewValue: jsonText(q.PolicyVersion)}}
		if q.Justification != "" {
			r.modified = append(r.modified, ModifiedProperty{DisplayName: "justification", NewValue: quote(q.Justification)})
		}
	case *entitlement.ApprovalStagePayload:
		r.category = CategoryUserManagement
		err = evolveRequest(d.RequestID)
		request(d.RequestID)
		approvers, name := d.Stage.Approvers, "approvers"
		if e.Type == entitlement.EventApprovalStageEscalated {
			approvers, name = d.Stage.EscalationApprovers, "escalationApprovers"
		}
		r.modified = []ModifiedProperty{{DisplayName: "stage", NewValue: jsonText(d.Stage.Stage)},
			{DisplayName: name, NewValue: jsonText(approvers)}}
	case *entitlement.ApprovalDecision:
		stage := 0
		if q, ok, qerr := requests.get(b, d.RequestID); qerr == nil && ok {
			for _, st := range q.Stages {
				if st.ID == d.StageID {
					stage = st.Stage
				}
			}
		}
		result := entitlement.ReviewApproved
		if e.Type == entitlement.EventAssignmentRequestDenied {
			result = entitlement.ReviewDenied
		}
		if err = evolveRequest(d.RequestID); err == nil {
			_, err = b.insertDecision.ExecContext(b.ctx, b.pos, d.RequestID, d.StageID, stage, result, d.ReviewedBy,
				d.ReviewedDateTime.UnixNano(), d.Justification, e.Metadata.ActorID, e.Metadata.OnBehalfOf)
		}
		request(d.RequestID)
		r.modified = []ModifiedProperty{{DisplayName: "reviewedBy", NewValue: quote(d.ReviewedBy)}}
		if d.Justification != "" {
			r.modified = append(r.modified, ModifiedProperty{DisplayName: "justification", NewValue: quote(d.Justification)})
		}
	case *entitlement.RequestChanged:
		request(d.RequestID)
		if e.Type == entitlement.EventAssignmentRequestDeleted {
			_, _, err = requests.remove(b, d.RequestID)
			break
		}
		var before, after []byte
		before, after, err = requests.evolve(b, d.RequestID, func(q *entitlement.AssignmentRequest) bool { return entitlement.EvolveRequest(q, de) })
		if err == nil && d.AssignmentID != "" {
			err = evolveAssignment(d.AssignmentID)
		}
		// The request's state and status, old and new: what the activity
		// (timed out, canceled, fulfilled …) changed.
		r.modified = slices.DeleteFunc(diff(before, after), func(m ModifiedProperty) bool {
			return m.DisplayName != "state" && m.DisplayName != "status"
		})
		r.target(kindAssignment, d.AssignmentID, "")
		if e.Type == entitlement.EventAssignmentRequestFailed {
			r.result = ResultFailure
		}
	case *entitlement.AssignmentDelivering:
		a := d.Assignment
		if _, _, err = assignments.put(b, a); err == nil {
			err = evolveRequest(d.RequestID)
		}
		assignment(a.ID)
		r.target(kindRequest, d.RequestID, "")
		r.modified = []ModifiedProperty{{DisplayName: "schedule", NewValue: jsonText(a.Schedule)}}
	case *entitlement.ResourceDeliveryPayload:
		if err = evolveAssignment(d.AssignmentID); err == nil {
			_, err = b.insertDelivery.ExecContext(b.ctx, d.AssignmentID, d.Resource.ResourceRoleScopeID, b.pos,
				e.Type, d.Resource.Reason, b.valid)
		}
		assignment(d.AssignmentID)
		r.target(kindResource, d.Resource.ResourceID, b.name(kindResource, d.Resource.ResourceID))
		r.target(kindRoleScope, d.Resource.ResourceRoleScopeID, "")
		if d.Resource.Reason != "" {
			r.modified = []ModifiedProperty{{DisplayName: "reason", NewValue: quote(d.Resource.Reason)}}
		}
		if e.Type == entitlement.EventResourceAssignmentFailed || e.Type == entitlement.EventResourceAssignmentRemovalFailed {
			r.result = ResultFailure
		}
	case *entitlement.AssignmentExtended:
		r.modified, err = evolveAssignmentDiff(d.AssignmentID, "schedule", "extendedDateTime", "state", "status")
		assignment(d.AssignmentID)
		r.target(kindRequest, d.RequestID, "")
	case *entitlement.AssignmentExpired:
		r.modified, err = evolveAssignmentDiff(d.AssignmentID, "state", "status", "expiredDateTime")
		assignment(d.AssignmentID)
		r.target(kindRequest, d.RequestID, "")
	case *entitlement.AssignmentNotice:
		err = evolveAssignment(d.AssignmentID)
		assignment(d.AssignmentID)
		r.modified = []ModifiedProperty{{DisplayName: "endDateTime", NewValue: jsonText(d.EndDateTime)}}
	case *entitlement.AssignmentRef:
		err = evolveAssignment(d.AssignmentID)
		assignment(d.AssignmentID)
	case *entitlement.AutomaticRemoval:
		err = evolveAssignment(d.AssignmentID)
		assignment(d.AssignmentID)
		r.modified = []ModifiedProperty{{DisplayName: "automaticRemovalDateTime", NewValue: jsonText(d.RemovalDateTime)}}
	case *entitlement.WorkflowPayload:
		r.category = CategoryWorkflowManagement
		var old, new []byte
		old, new, err = workflows.put(b, d.Workflow)
		r.target(kindWorkflow, d.Workflow.ID, d.Workflow.DisplayName)
		r.modified = diff(old, new)
	case *entitlement.AccessReviewStarted:
		r.category = CategoryAccessReviews
		r.target(kindAccessReview, d.Review.ID, "")
		r.target(kindPolicy, d.Review.AssignmentPolicyID, b.name(kindPolicy, d.Review.AssignmentPolicyID))
		r.target(kindAccessPackage, d.Review.AccessPackageID, b.name(kindAccessPackage, d.Review.AccessPackageID))
		r.modified = []ModifiedProperty{{DisplayName: "endDateTime", NewValue: jsonText(d.Review.EndDateTime)},
			{DisplayName: "items", NewValue: jsonText(len(d.Items))}}
	case *entitlement.AccessReviewDecision:
		r.category = CategoryAccessReviews
		r.target(kindAccessReview, d.AccessReviewID, "")
		assignment(d.AssignmentID)
		r.modified = []ModifiedProperty{{DisplayName: "decision", NewValue: quote(d.Decision)}, {DisplayName: "justification", NewValue: quote(d.Justification)}}
	case *entitlement.AccessReviewApplied:
		r.category = CategoryAccessReviews
		r.target(kindAccessReview, d.AccessReviewID, "")
		// The review's policy and package, as its start names them, are
		// those of its items' assignments (the event names neither).
		if len(d.Results) > 0 {
			var a *entitlement.Assignment
			var ok bool
			if a, ok, err = assignments.get(b, d.Results[0].AssignmentID); err != nil {
				return err
			} else if ok {
				r.target(kindPolicy, a.AssignmentPolicyID, b.name(kindPolicy, a.AssignmentPolicyID))
				r.target(kindAccessPackage, a.AccessPackageID, b.name(kindAccessPackage, a.AccessPackageID))
			}
		}
		for _, o := range d.Results {
			if o.RemovalRequestID != "" {
				assignment(o.AssignmentID)
			}
		}
	case *entitlement.WorkflowActivated:
		r.category = CategoryWorkflowManagement
		r.target(kindWorkflow, d.WorkflowID, b.name(kindWorkflow, d.WorkflowID))
		for _, u := range d.Subjects {
			r.target(kindUser, u, b.name(kindUser, u))
		}
	case *entitlement.ScheduledRun:
		r.category = CategoryWorkflowManagement
		r.target(kindWorkflow, d.WorkflowID, b.name(kindWorkflow, d.WorkflowID))
		r.target(kindUser, d.SubjectID, b.name(kindUser, d.SubjectID))
		r.modified = []ModifiedProperty{{DisplayName: "dueDateTime", NewValue: jsonText(d.DueDateTime)}}
	case *entitlement.WorkflowRunCanceled:
		r.category = CategoryWorkflowManagement
		r.target(kindWorkflow, d.WorkflowID, b.name(kindWorkflow, d.WorkflowID))
		r.target(kindUser, d.SubjectID, b.name(kindUser, d.SubjectID))
		r.modified = []ModifiedProperty{{DisplayName: "reason", NewValue: quote(d.Reason)}}
	case *entitlement.TaskProcessingResult:
		r.category = CategoryTaskManagement
		if d.ProcessingStatus != entitlement.ProcessingCompleted {
			r.result = ResultFailure
		}
		r.target(kindWorkflow, d.WorkflowID, b.name(kindWorkflow, d.WorkflowID))
		r.target(kindUser, d.SubjectID, b.name(kindUser, d.SubjectID))
		for _, id := range d.RequestIDs {
			r.target(kindRequest, id, "")
		}
		r.modified = []ModifiedProperty{{DisplayName: "taskDefinitionId", NewValue: quote(d.TaskDefinitionID)},
			{DisplayName: "processingStatus", NewValue: quote(d.ProcessingStatus)}, {DisplayName: "failureReason", NewValue: quote(d.FailureReason)}}
	case *entitlement.UserProcessingResult:
		r.category = CategoryTaskManagement
		if d.ProcessingStatus != entitlement.ProcessingCompleted {
			r.result = ResultFailure
		}
		r.target(kindWorkflow, d.WorkflowID, b.name(kindWorkflow, d.WorkflowID))
		r.target(kindUser, d.SubjectID, b.name(kindUser, d.SubjectID))
		r.modified = []ModifiedProperty{{DisplayName: "workflowVersion", NewValue: jsonText(d.WorkflowVersion)},
			{DisplayName: "processingStatus", NewValue: quote(d.ProcessingStatus)}}
	}
	return err
}

// principalKind returns whether a directory object (a role's principal, a
// group member, a sponsor) is a user, a group or a service principal, as
// the projection knows them.
func (b *batch) principalKind(id string) string {
	for _, k := range []string{kindUser, kindGroup, kindServicePrincipal} {
		if c, err := b.current(k, id); err == nil && c.oid != 0 {
			return k
		}
	}
	return kindUser
}

func quote(s string) string {
	if s == "" {
		return ""
	}
	return jsonText(s)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
