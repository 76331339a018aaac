package entitlement

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/accessledger/accessledger/entitlement/rule"
)

// SubjectSetKind names a concrete subtype of Graph's abstract subjectSet; its
// value is the type name without the "#microsoft.graph." prefix, as it
// appears in "@odata.type".
type SubjectSetKind string

// The subjectSet subtypes of Graph v1.0 that entitlement management uses.
const (
	// SingleUser is singleUser{userId}: one user.
	SingleUser SubjectSetKind = "singleUser"
	// GroupMembers is groupMembers{groupId}: the members of a group.
	GroupMembers SubjectSetKind = "groupMembers"
	// ConnectedOrganizationMembers is
	// connectedOrganizationMembers{connectedOrganizationId}: the users of a
	// connected organization.
	ConnectedOrganizationMembers SubjectSetKind = "connectedOrganizationMembers"
	// SingleServicePrincipal is singleServicePrincipal{servicePrincipalId}.
	SingleServicePrincipal SubjectSetKind = "singleServicePrincipal"
	// AttributeRuleMembers is attributeRuleMembers{membershipRule}: the users
	// matching a dynamic-group rule (auto-assignment policies).
	AttributeRuleMembers SubjectSetKind = "attributeRuleMembers"
	// RequestorManager is requestorManager{managerLevel}: the requestor's
	// manager (1) or second-level manager (2).
	RequestorManager SubjectSetKind = "requestorManager"
	// TargetManager is targetManager{managerLevel}: the target's manager (1)
	// or second-level manager (2).
	TargetManager SubjectSetKind = "targetManager"
	// InternalSponsors is internalSponsors: the internal sponsors of the
	// requestor's connected organization.
	InternalSponsors SubjectSetKind = "internalSponsors"
	// ExternalSponsors is externalSponsors: the external sponsors of the
	// requestor's connected organization.
	ExternalSponsors SubjectSetKind = "externalSponsors"
	// TargetUserSponsors is targetUserSponsors: the sponsors of the target
	// user.
	TargetUserSponsors SubjectSetKind = "targetUserSponsors"
	// TargetApplicationOwners is targetApplicationOwners: the owners of the
	// target service principal (ServicePrincipal.Owners), as approvers of
	// its requests.
	TargetApplicationOwners SubjectSetKind = "targetApplicationOwners"
	// TargetAgentIdentitySponsorsOrOwners is
	// targetAgentIdentitySponsorsOrOwners: the sponsors or owners of the
	// target agent identity. There are no agent identities in the
	// directory the library keeps (a policy cannot target them: see
	// ScopeAllDirectoryAgentIdentities), so it resolves to nobody, as for
	// a target without sponsors: the stage's other approvers, or its
	// fallback approvers, decide.
	TargetAgentIdentitySponsorsOrOwners SubjectSetKind = "targetAgentIdentitySponsorsOrOwners"
)

// SubjectSetKinds returns every SubjectSetKind, in declaration order.
func SubjectSetKinds() []SubjectSetKind {
	return []SubjectSetKind{
		SingleUser, GroupMembers, ConnectedOrganizationMembers, SingleServicePrincipal,
		AttributeRuleMembers, RequestorManager, TargetManager, InternalSponsors,
		ExternalSponsors, TargetUserSponsors, TargetApplicationOwners,
		TargetAgentIdentitySponsorsOrOwners,
	}
}

// Known reports whether k is one of the SubjectSetKind constants.
func (k SubjectSetKind) Known() bool { return slices.Contains(SubjectSetKinds(), k) }

// ODataType returns "#microsoft.graph." + k.
func (k SubjectSetKind) ODataType() string { return "#microsoft.graph." + string(k) }

// field returns the JSON name of the one property specific to kind k, or ""
// for the kinds without one.
func (k SubjectSetKind) field() string {
	switch k {
	case SingleUser:
		return "userId"
	case GroupMembers:
		return "groupId"
	case ConnectedOrganizationMembers:
		return "connectedOrganizationId"
	case SingleServicePrincipal:
		return "servicePrincipalId"
	case AttributeRuleMembers:
		return "membershipRule"
	case RequestorManager, TargetManager:
		return "managerLevel"
	}
	return ""
}

// SubjectSet mirrors Graph's subjectSet and all its subtypes in one
// comparable struct: Kind says which subtype it is and only the field that
// belongs to that kind is set (Validate checks this). It encodes as Graph
// does, {"@odata.type": "#microsoft.graph.singleUser", "userId": "…"}.
//
// One struct rather than an interface keeps state deep-equality, JSON round
// trips and clones trivial, and a switch on Kind can be checked for
// exhaustiveness.
type SubjectSet struct {
	// Kind is the subtype, the JSON "@odata.type" without
	// "#microsoft.graph.".
	Kind SubjectSetKind
	// Description is the optional description (singleUser.description …).
	Description string
	// UserID is singleUser.userId.
	UserID string
	// GroupID is groupMembers.groupId.
	GroupID string
	// ConnectedOrganizationID is
	// connectedOrganizationMembers.connectedOrganizationId.
	ConnectedOrganizationID string
	// ServicePrincipalID is singleServicePrincipal.servicePrincipalId.
	ServicePrincipalID string
	// MembershipRule is attributeRuleMembers.membershipRule, e.g.
	// (user.department -eq "Sales"); see ParseMembershipRule.
	MembershipRule string
	// ManagerLevel is requestorManager.managerLevel and
	// targetManager.managerLevel: 1 = manager, 2 = second-level manager.
	ManagerLevel int
}

// subjectSetWire is the JSON shape of every subjectSet subtype; which keys
// are allowed depends on "@odata.type".
type subjectSetWire struct {
	ODataType               string `json:"@odata.type"`
	Description             string `json:"description,omitempty"`
	UserID                  string `json:"userId,omitempty"`
	GroupID                 string `json:"groupId,omitempty"`
	ConnectedOrganizationID string `json:"connectedOrganizationId,omitempty"`
	ServicePrincipalID      string `json:"servicePrincipalId,omitempty"`
	MembershipRule          string `json:"membershipRule,omitempty"`
	ManagerLevel            *int   `json:"managerLevel,omitempty"`
}

// MarshalJSON encodes s in Graph's shape, with "@odata.type" and the
// properties of its kind only.
func (s SubjectSet) MarshalJSON() ([]byte, error) {
	w := subjectSetWire{ODataType: s.Kind.ODataType(), Description: s.Description}
	switch s.Kind.field() {
	case "userId":
		w.UserID = s.UserID
	case "groupId":
		w.GroupID = s.GroupID
	case "connectedOrganizationId":
		w.ConnectedOrganizationID = s.ConnectedOrganizationID
	case "servicePrincipalId":
		w.ServicePrincipalID = s.ServicePrincipalID
	case "membershipRule":
		w.MembershipRule = s.MembershipRule
	case "managerLevel":
		lvl := s.ManagerLevel
		w.ManagerLevel = &lvl
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a subjectSet strictly: "@odata.type" is required and
// must name a known subtype ("#microsoft.graph.singleUser" or without the
// "#"), and only that subtype's properties may appear. Errors match
// ErrInvalid and carry the JSON path relative to the subject set. null is
// a no-op.
func (s *SubjectSet) UnmarshalJSON(b []byte) error {
	if isJSONNull(b) {
		return nil
	}
	v, err := decodeGeneric(b)
	if err != nil {
		return invalid("DecodeSubjectSet", "", "malformed JSON: %v", err)
	}
	if ie := subjectSetShape(v, ""); ie != nil {
		return wrapInvalid("DecodeSubjectSet", ie)
	}
	var w subjectSetWire
	if err := json.Unmarshal(b, &w); err != nil {
		return invalid("DecodeSubjectSet", "", "%v", err)
	}
	kind, _ := parseSubjectSetODataType(w.ODataType)
	*s = SubjectSet{
		Kind:                    kind,
		Description:             w.Description,
		UserID:                  w.UserID,
		GroupID:                 w.GroupID,
		ConnectedOrganizationID: w.ConnectedOrganizationID,
		ServicePrincipalID:      w.ServicePrincipalID,
		MembershipRule:          w.MembershipRule,
	}
	if w.ManagerLevel != nil {
		s.ManagerLevel = *w.ManagerLevel
	}
	return nil
}

// parseSubjectSetODataType maps "#microsoft.graph.X" or "microsoft.graph.X"
// to kind X.
func parseSubjectSetODataType(t string) (SubjectSetKind, bool) {
	name, ok := graphTypeName(t)
	if !ok {
		return "", false
	}
	k := SubjectSetKind(name)
	return k, k.Known()
}

// subjectSetShape checks the generic JSON value v against the subjectSet
// shape of its "@odata.type".
func subjectSetShape(v any, path string) *InvalidError {
	m, ok := v.(map[string]any)
	if !ok {
		return &InvalidError{Field: path, Reason: "must be a JSON object (a subjectSet)"}
	}
	tpath := joinPath(path, "@odata.type")
	raw, present := m["@odata.type"]
	if !present {
		return &InvalidError{Field: tpath, Reason: "is required on a subjectSet (e.g. \"#microsoft.graph.singleUser\")"}
	}
	ts, ok := raw.(string)
	if !ok {
		return &InvalidError{Field: tpath, Reason: "must be a string"}
	}
	kind, ok := parseSubjectSetODataType(ts)
	if !ok {
		return &InvalidError{Field: tpath, Reason: fmt.Sprintf("%q is not a supported subjectSet type", ts)}
	}
	own := kind.field()
	return shapeObject(m, subjectSetWireType, path, func(key string) bool {
		return key == "@odata.type" || key == "description" || (own != "" && key == own)
	})
}

// validateSubjectSet checks that s is a well-formed subject set of a known
// kind: its identifying field is set, the fields of other kinds are empty,
// a manager level is 1 or 2, and a membership rule parses.
func validateSubjectSet(s SubjectSet, path string) *InvalidError {
	if !s.Kind.Known() {
		return &InvalidError{Field: joinPath(path, "@odata.type"), Reason: fmt.Sprintf("unknown subjectSet type %q", s.Kind)}
	}
	own := s.Kind.field()
	fields := []struct {
		name string
		set  bool
	}{
		{"userId", s.UserID != ""},
		{"groupId", s.GroupID != ""},
		{"connectedOrganizationId", s.ConnectedOrganizationID != ""},
		{"servicePrincipalId", s.ServicePrincipalID != ""},
		{"membershipRule", s.MembershipRule != ""},
		{"managerLevel", s.ManagerLevel != 0},
	}
	for _, f := range fields {
		if f.name == own {
			if !f.set {
				return &InvalidError{Field: joinPath(path, f.name), Reason: fmt.Sprintf("is required for %s", s.Kind)}
			}
		} else if f.set {
			return &InvalidError{Field: joinPath(path, f.name), Reason: fmt.Sprintf("is not a property of %s", s.Kind)}
		}
	}
	switch s.Kind {
	case RequestorManager, TargetManager:
		if s.ManagerLevel != 1 && s.ManagerLevel != 2 {
			return &InvalidError{Field: joinPath(path, "managerLevel"), Reason: "must be 1 (manager) or 2 (second-level manager)"}
		}
	case AttributeRuleMembers:
		if _, err := ParseMembershipRule(s.MembershipRule); err != nil {
			return &InvalidError{Field: joinPath(path, "membershipRule"), Reason: invalidReason(err)}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Membership rules (attributeRuleMembers.membershipRule)

// MaxMembershipRuleLength is the longest membership rule accepted, as for
// Entra dynamic groups (3,072 characters).
const MaxMembershipRuleLength = rule.MaxLength

// MembershipRuleAttributes returns the user attribute names a membership
// rule may use, in the spelling MembershipRule.Match passes to its accessor
// (for example "department", "accountEnabled").
func MembershipRuleAttributes() []string { return rule.KnownAttributes() }

// MembershipRule is a parsed attributeRuleMembers.membershipRule. The
// language (its grammar, tree, evaluation and errors) is package rule's.
type MembershipRule = rule.Rule

// ParseMembershipRule parses a membership rule such as
// (user.department -eq "Sales") -and (user.country -in ["US","CA"]).
// Errors are ErrInvalid *Error values wrapping an *InvalidError whose Field
// is "membershipRule" and whose Reason gives the byte offset (the rule's
// length when it ends too soon).
func ParseMembershipRule(s string) (*MembershipRule, error) {
	r, err := rule.Parse(s)
	if err != nil {
		return nil, invalid("ParseMembershipRule", "membershipRule", "%v", err)
	}
	return r, nil
}
