package entitlement

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
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
	// target service principal's application.
	TargetApplicationOwners SubjectSetKind = "targetApplicationOwners"
	// TargetAgentIdentitySponsorsOrOwners is
	// targetAgentIdentitySponsorsOrOwners: the sponsors or owners of the
	// target agent identity.
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
const MaxMembershipRuleLength = 3072

// maxRuleDepth bounds the nesting of parentheses and -not.
const maxRuleDepth = 64

// membershipRuleAttributes are the user properties a rule may test, in
// their canonical spelling (the name passed to the accessor of Match).
var membershipRuleAttributes = []string{
	"accountEnabled", "city", "companyName", "country", "department",
	"displayName", "employeeId", "employeeType", "givenName", "jobTitle",
	"mail", "mailNickname", "officeLocation", "postalCode", "state",
	"surname", "usageLocation", "userPrincipalName", "userType",
}

// MembershipRuleAttributes returns the user attribute names a membership
// rule may use, in the spelling Match passes to its accessor (for example
// "department", "accountEnabled"). accountEnabled is boolean and its
// accessor value is "true" or "false"; the others are strings.
func MembershipRuleAttributes() []string { return slices.Clone(membershipRuleAttributes) }

// MembershipRule is a parsed attributeRuleMembers.membershipRule, the subset
// of Entra's dynamic membership rule syntax used by auto-assignment policies:
//
//	rule       = or
//	or         = and { "-or" and }
//	and        = not { "-and" not }
//	not        = "-not" not | "(" rule ")" | comparison
//	comparison = "user." attribute operator value
//	operator   = -eq | -ne | -startsWith | -notStartsWith | -contains |
//	             -notContains | -match | -notMatch | -in | -notIn
//	value      = "string" | true | false | null | [ "string", … ]
//
// Operators, keywords and attribute names are case-insensitive, and so are
// comparisons of values, as in Entra. Strings are in double quotes; a
// backtick escapes a double quote or a backtick inside them. -in and -notIn
// take a bracketed list; -match takes a Go (RE2) regular expression.
// accountEnabled takes true or false with -eq and -ne only.
type MembershipRule struct {
	text string
	root *ruleNode
}

type ruleNodeKind int

const (
	ruleAnd ruleNodeKind = iota
	ruleOr
	ruleNot
	ruleCmp
)

type ruleNode struct {
	kind   ruleNodeKind
	kids   []*ruleNode
	attr   string   // canonical attribute name
	op     string   // lower-case operator, e.g. "-startswith"
	vals   []string // the value, or the list of -in / -notIn
	isNull bool     // the value is null
	re     *regexp.Regexp
}

// ParseMembershipRule parses a membership rule such as
// (user.department -eq "Sales") -and (user.country -in ["US","CA"]).
// Errors are ErrInvalid *Error values wrapping an *InvalidError whose Field
// is "membershipRule" and whose Reason gives the byte offset.
func ParseMembershipRule(s string) (*MembershipRule, error) {
	const op = "ParseMembershipRule"
	if strings.TrimSpace(s) == "" {
		return nil, invalid(op, "membershipRule", "is empty")
	}
	if len(s) > MaxMembershipRuleLength {
		return nil, invalid(op, "membershipRule", "is longer than %d characters", MaxMembershipRuleLength)
	}
	toks, err := lexRule(s)
	if err != nil {
		return nil, invalid(op, "membershipRule", "%v", err)
	}
	p := &ruleParser{toks: toks}
	root, err := p.parseOr(0)
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("at offset %d: unexpected %q", p.toks[p.pos].off, p.toks[p.pos].text)
	}
	if err != nil {
		return nil, invalid(op, "membershipRule", "%v", err)
	}
	return &MembershipRule{text: s, root: root}, nil
}

// String returns the rule's text as parsed.
func (r *MembershipRule) String() string { return r.text }

// Attributes returns the canonical names of the attributes r tests, sorted
// and without duplicates.
func (r *MembershipRule) Attributes() []string {
	var out []string
	var walk func(n *ruleNode)
	walk = func(n *ruleNode) {
		if n.kind == ruleCmp {
			out = append(out, n.attr)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(r.root)
	slices.Sort(out)
	return slices.Compact(out)
}

// Match reports whether the user whose attributes attrs returns matches r.
// attrs is called with canonical names (see MembershipRuleAttributes) and
// returns the value and whether it is set; an unset attribute behaves as
// the empty string and equals null.
func (r *MembershipRule) Match(attrs func(name string) (string, bool)) bool {
	return r.root.eval(attrs)
}

func (n *ruleNode) eval(attrs func(string) (string, bool)) bool {
	switch n.kind {
	case ruleAnd:
		for _, k := range n.kids {
			if !k.eval(attrs) {
				return false
			}
		}
		return true
	case ruleOr:
		for _, k := range n.kids {
			if k.eval(attrs) {
				return true
			}
		}
		return false
	case ruleNot:
		return !n.kids[0].eval(attrs)
	}
	v, ok := attrs(n.attr)
	if !ok {
		v = ""
	}
	if n.isNull {
		isNull := v == ""
		if n.op == "-eq" {
			return isNull
		}
		return !isNull // -ne
	}
	lv := strings.ToLower(v)
	switch n.op {
	case "-eq":
		return strings.EqualFold(v, n.vals[0])
	case "-ne":
		return !strings.EqualFold(v, n.vals[0])
	case "-startswith":
		return ok && strings.HasPrefix(lv, strings.ToLower(n.vals[0]))
	case "-notstartswith":
		return !(ok && strings.HasPrefix(lv, strings.ToLower(n.vals[0])))
	case "-contains":
		return ok && strings.Contains(lv, strings.ToLower(n.vals[0]))
	case "-notcontains":
		return !(ok && strings.Contains(lv, strings.ToLower(n.vals[0])))
	case "-match":
		return ok && n.re.MatchString(v)
	case "-notmatch":
		return !(ok && n.re.MatchString(v))
	case "-in", "-notin":
		in := false
		for _, x := range n.vals {
			if strings.EqualFold(v, x) {
				in = true
				break
			}
		}
		return in == (n.op == "-in")
	}
	return false
}

type ruleTokKind int

const (
	tokLParen ruleTokKind = iota
	tokRParen
	tokLBracket
	tokRBracket
	tokComma
	tokString
	tokOp    // -eq, -and …
	tokIdent // user.department, true, false, null
)

type ruleTok struct {
	kind ruleTokKind
	text string // for tokString the unescaped value; for tokOp lower case
	off  int
}

func lexRule(s string) ([]ruleTok, error) {
	var toks []ruleTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, ruleTok{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, ruleTok{tokRParen, ")", i})
			i++
		case c == '[':
			toks = append(toks, ruleTok{tokLBracket, "[", i})
			i++
		case c == ']':
			toks = append(toks, ruleTok{tokRBracket, "]", i})
			i++
		case c == ',':
			toks = append(toks, ruleTok{tokComma, ",", i})
			i++
		case c == '"':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				if s[i] == '`' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '`') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("at offset %d: unterminated string", start)
			}
			toks = append(toks, ruleTok{tokString, b.String(), start})
		case c == '-' || isRuleWordByte(c):
			start := i
			i++
			for i < len(s) && (isRuleWordByte(s[i]) || s[i] == '.') {
				i++
			}
			w := s[start:i]
			if c == '-' {
				if len(w) == 1 {
					return nil, fmt.Errorf("at offset %d: '-' without an operator", start)
				}
				toks = append(toks, ruleTok{tokOp, strings.ToLower(w), start})
			} else {
				toks = append(toks, ruleTok{tokIdent, w, start})
			}
		default:
			return nil, fmt.Errorf("at offset %d: unexpected character %q", i, c)
		}
	}
	return toks, nil
}

func isRuleWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

type ruleParser struct {
	toks []ruleTok
	pos  int
}

func (p *ruleParser) peek() *ruleTok {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *ruleParser) errEnd(what string) error {
	return fmt.Errorf("unexpected end of rule, expected %s", what)
}

func (p *ruleParser) parseOr(depth int) (*ruleNode, error) {
	first, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	kids := []*ruleNode{first}
	for t := p.peek(); t != nil && t.kind == tokOp && t.text == "-or"; t = p.peek() {
		p.pos++
		k, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &ruleNode{kind: ruleOr, kids: kids}, nil
}

func (p *ruleParser) parseAnd(depth int) (*ruleNode, error) {
	first, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	kids := []*ruleNode{first}
	for t := p.peek(); t != nil && t.kind == tokOp && t.text == "-and"; t = p.peek() {
		p.pos++
		k, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &ruleNode{kind: ruleAnd, kids: kids}, nil
}

func (p *ruleParser) parseUnary(depth int) (*ruleNode, error) {
	if depth > maxRuleDepth {
		return nil, fmt.Errorf("nested more than %d levels deep", maxRuleDepth)
	}
	t := p.peek()
	if t == nil {
		return nil, p.errEnd("a comparison")
	}
	switch {
	case t.kind == tokOp && t.text == "-not":
		p.pos++
		k, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &ruleNode{kind: ruleNot, kids: []*ruleNode{k}}, nil
	case t.kind == tokLParen:
		p.pos++
		n, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		c := p.peek()
		if c == nil {
			return nil, p.errEnd("')'")
		}
		if c.kind != tokRParen {
			return nil, fmt.Errorf("at offset %d: expected ')', found %q", c.off, c.text)
		}
		p.pos++
		return n, nil
	case t.kind == tokIdent:
		return p.parseComparison()
	}
	return nil, fmt.Errorf("at offset %d: expected a comparison, found %q", t.off, t.text)
}

func canonicalRuleAttribute(name string) (string, bool) {
	for _, a := range membershipRuleAttributes {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return "", false
}

func (p *ruleParser) parseComparison() (*ruleNode, error) {
	t := p.toks[p.pos]
	p.pos++
	prefix, name, ok := strings.Cut(t.text, ".")
	if !ok || !strings.EqualFold(prefix, "user") || strings.Contains(name, ".") {
		return nil, fmt.Errorf("at offset %d: expected user.<attribute>, found %q", t.off, t.text)
	}
	attr, ok := canonicalRuleAttribute(name)
	if !ok {
		return nil, fmt.Errorf("at offset %d: unsupported attribute %q", t.off, t.text)
	}
	o := p.peek()
	if o == nil {
		return nil, p.errEnd("an operator")
	}
	if o.kind != tokOp {
		return nil, fmt.Errorf("at offset %d: expected an operator, found %q", o.off, o.text)
	}
	p.pos++
	n := &ruleNode{kind: ruleCmp, attr: attr, op: o.text}
	switch o.text {
	case "-eq", "-ne", "-startswith", "-notstartswith", "-contains", "-notcontains", "-match", "-notmatch", "-in", "-notin":
	default:
		return nil, fmt.Errorf("at offset %d: unsupported operator %q", o.off, o.text)
	}
	v := p.peek()
	if v == nil {
		return nil, p.errEnd("a value")
	}
	boolean := attr == "accountEnabled"
	if boolean && n.op != "-eq" && n.op != "-ne" {
		return nil, fmt.Errorf("at offset %d: accountEnabled supports only -eq and -ne", o.off)
	}
	if n.op == "-in" || n.op == "-notin" {
		if v.kind != tokLBracket {
			return nil, fmt.Errorf("at offset %d: %s needs a list such as [\"a\",\"b\"]", v.off, o.text)
		}
		p.pos++
		for {
			e := p.peek()
			if e == nil {
				return nil, p.errEnd("a string or ']'")
			}
			if e.kind == tokRBracket && len(n.vals) == 0 {
				return nil, fmt.Errorf("at offset %d: empty list", e.off)
			}
			if e.kind != tokString {
				return nil, fmt.Errorf("at offset %d: expected a string in the list, found %q", e.off, e.text)
			}
			p.pos++
			n.vals = append(n.vals, e.text)
			sep := p.peek()
			if sep == nil {
				return nil, p.errEnd("',' or ']'")
			}
			p.pos++
			if sep.kind == tokRBracket {
				break
			}
			if sep.kind != tokComma {
				return nil, fmt.Errorf("at offset %d: expected ',' or ']', found %q", sep.off, sep.text)
			}
		}
		if boolean {
			return nil, fmt.Errorf("at offset %d: accountEnabled supports only -eq and -ne", o.off)
		}
		return n, nil
	}
	p.pos++
	switch {
	case v.kind == tokIdent && strings.EqualFold(v.text, "null"):
		if n.op != "-eq" && n.op != "-ne" {
			return nil, fmt.Errorf("at offset %d: null works only with -eq and -ne", v.off)
		}
		n.isNull = true
	case v.kind == tokIdent && boolean && (strings.EqualFold(v.text, "true") || strings.EqualFold(v.text, "false")):
		n.vals = []string{strings.ToLower(v.text)}
	case v.kind == tokString && !boolean:
		n.vals = []string{v.text}
	case boolean:
		return nil, fmt.Errorf("at offset %d: accountEnabled takes true or false, found %q", v.off, v.text)
	default:
		return nil, fmt.Errorf("at offset %d: expected a quoted string, found %q", v.off, v.text)
	}
	if n.op == "-match" || n.op == "-notmatch" {
		re, err := regexp.Compile("(?i)" + n.vals[0])
		if err != nil {
			return nil, fmt.Errorf("at offset %d: bad regular expression: %v", v.off, err)
		}
		n.re = re
	}
	return n, nil
}
