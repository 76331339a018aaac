// Package rule parses and evaluates membership rules: the subset of
// Microsoft Entra's dynamic membership rule syntax that automatic
// assignment policies (attributeRuleMembers.membershipRule) and lifecycle
// workflow scopes use, such as
//
//	(user.department -eq "Sales") -and (user.country -in ["US","CA"])
//
// Parse turns a rule into a tree (Rule.Root), Rule.Match evaluates it
// against a user's attributes, and Rule.Attributes lists the attributes it
// reads, so that a change of one attribute re-evaluates only the rules that
// read it. A rule that does not parse is a *SyntaxError that says where.
// The package knows nothing of the domain, as text/template/parse knows
// nothing of executing templates.
package rule

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SyntaxError is the error of a rule that does not parse: the byte offset
// where it goes wrong (the rule's length when it ends too soon) and why.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

func errAt(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// MaxLength is the longest rule accepted, as for Entra dynamic groups
// (3,072 characters).
const MaxLength = 3072

// maxDepth bounds the nesting of parentheses and -not.
const maxDepth = 64

// attributes are the user properties a rule may test, in their canonical
// spelling (the name passed to the accessor of Match).
var attributes = []string{
	"accountEnabled", "city", "companyName", "country", "department",
	"displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime",
	"employeeType", "givenName", "jobTitle", "mail", "mailNickname",
	"managerId", "objectId", "officeLocation", "postalCode", "state",
	"surname", "usageLocation", "userPrincipalName", "userType",
}

// KnownAttributes returns the user attribute names a rule may use, in the
// spelling Match passes to its accessor (for example "department",
// "accountEnabled"). accountEnabled is boolean and its accessor value is
// "true" or "false"; the others are strings (employeeHireDate and
// employeeLeaveDateTime in RFC 3339, so that -startsWith "2026-03" picks a
// month; objectId and managerId are object ids).
func KnownAttributes() []string { return slices.Clone(attributes) }

// Rule is a parsed membership rule:
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
// accountEnabled takes true or false with -eq and -ne only. A Rule is
// immutable and safe for concurrent use.
type Rule struct {
	text string
	root *Node
}

// Kind says what a Node is.
type Kind int

// The kinds of Node.
const (
	And     Kind = iota // every one of Kids
	Or                  // any one of Kids
	Not                 // not Kids[0]
	Compare             // Attribute Operator Values (or null)
)

// Node is a node of a rule's tree. Read it; do not change it.
type Node struct {
	Kind Kind
	Kids []*Node
	// Attribute, Operator and Values are a comparison's: the canonical
	// attribute name, the operator in lower case ("-startswith") and the
	// value or the list of -in and -notIn; Null is set for a comparison
	// with null.
	Attribute string
	Operator  string
	Values    []string
	Null      bool
	re        *regexp.Regexp
}

// Parse parses a rule. Its errors are *SyntaxError values.
func Parse(s string) (*Rule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errAt(0, "the rule is empty")
	}
	if len(s) > MaxLength {
		return nil, errAt(MaxLength, "the rule is longer than %d characters", MaxLength)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, end: len(s)}
	root, err := p.parseOr(0)
	if err == nil && p.pos < len(p.toks) {
		err = errAt(p.toks[p.pos].off, "unexpected %q", p.toks[p.pos].text)
	}
	if err != nil {
		return nil, err
	}
	return &Rule{text: s, root: root}, nil
}

// Root returns the rule's tree.
func (r *Rule) Root() *Node { return r.root }

// String returns the rule's text as parsed.
func (r *Rule) String() string { return r.text }

// Attributes returns the canonical names of the attributes r tests, sorted
// and without duplicates.
func (r *Rule) Attributes() []string {
	var out []string
	var walk func(n *Node)
	walk = func(n *Node) {
		if n.Kind == Compare {
			out = append(out, n.Attribute)
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(r.root)
	slices.Sort(out)
	return slices.Compact(out)
}

// Match reports whether the user whose attributes attrs returns matches r.
// attrs is called with canonical names (see KnownAttributes) and
// returns the value and whether it is set; an unset attribute behaves as
// the empty string and equals null.
func (r *Rule) Match(attrs func(name string) (string, bool)) bool {
	return r.root.eval(attrs)
}

func (n *Node) eval(attrs func(string) (string, bool)) bool {
	switch n.Kind {
	case And:
		for _, k := range n.Kids {
			if !k.eval(attrs) {
				return false
			}
		}
		return true
	case Or:
		for _, k := range n.Kids {
			if k.eval(attrs) {
				return true
			}
		}
		return false
	case Not:
		return !n.Kids[0].eval(attrs)
	}
	v, ok := attrs(n.Attribute)
	if !ok {
		v = ""
	}
	if n.Null {
		isNull := v == ""
		if n.Operator == "-eq" {
			return isNull
		}
		return !isNull // -ne
	}
	lv := strings.ToLower(v)
	switch n.Operator {
	case "-eq":
		return strings.EqualFold(v, n.Values[0])
	case "-ne":
		return !strings.EqualFold(v, n.Values[0])
	case "-startswith":
		return ok && strings.HasPrefix(lv, strings.ToLower(n.Values[0]))
	case "-notstartswith":
		return !(ok && strings.HasPrefix(lv, strings.ToLower(n.Values[0])))
	case "-contains":
		return ok && strings.Contains(lv, strings.ToLower(n.Values[0]))
	case "-notcontains":
		return !(ok && strings.Contains(lv, strings.ToLower(n.Values[0])))
	case "-match":
		return ok && n.re.MatchString(v)
	case "-notmatch":
		return !(ok && n.re.MatchString(v))
	case "-in", "-notin":
		in := false
		for _, x := range n.Values {
			if strings.EqualFold(v, x) {
				in = true
				break
			}
		}
		return in == (n.Operator == "-in")
	}
	return false
}

type tokKind int

const (
	tokLParen tokKind = iota
	tokRParen
	tokLBracket
	tokRBracket
	tokComma
	tokString
	tokOp    // -eq, -and …
	tokIdent // user.department, true, false, null
)

type token struct {
	kind tokKind
	text string // for tokString the unescaped value; for tokOp lower case
	off  int
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == '[':
			toks = append(toks, token{tokLBracket, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tokRBracket, "]", i})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
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
				return nil, errAt(start, "unterminated string")
			}
			toks = append(toks, token{tokString, b.String(), start})
		case c == '-' || isWordByte(c):
			start := i
			i++
			for i < len(s) && (isWordByte(s[i]) || s[i] == '.') {
				i++
			}
			w := s[start:i]
			if c == '-' {
				if len(w) == 1 {
					return nil, errAt(start, "'-' without an operator")
				}
				toks = append(toks, token{tokOp, strings.ToLower(w), start})
			} else {
				toks = append(toks, token{tokIdent, w, start})
			}
		default:
			return nil, errAt(i, "unexpected character %q", c)
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

type parser struct {
	toks []token
	pos  int
	end  int // the length of the rule's text
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

// errEnd is the error of a rule that ends too soon: at the offset of its
// end.
func (p *parser) errEnd(what string) error {
	return errAt(p.end, "unexpected end of rule, expected %s", what)
}

func (p *parser) parseOr(depth int) (*Node, error) {
	first, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	kids := []*Node{first}
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
	return &Node{Kind: Or, Kids: kids}, nil
}

func (p *parser) parseAnd(depth int) (*Node, error) {
	first, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	kids := []*Node{first}
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
	return &Node{Kind: And, Kids: kids}, nil
}

func (p *parser) parseUnary(depth int) (*Node, error) {
	if depth > maxDepth {
		off := p.end
		if t := p.peek(); t != nil {
			off = t.off
		}
		return nil, errAt(off, "nested more than %d levels deep", maxDepth)
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
		return &Node{Kind: Not, Kids: []*Node{k}}, nil
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
			return nil, errAt(c.off, "expected ')', found %q", c.text)
		}
		p.pos++
		return n, nil
	case t.kind == tokIdent:
		return p.parseComparison()
	}
	return nil, errAt(t.off, "expected a comparison, found %q", t.text)
}

func canonicalAttribute(name string) (string, bool) {
	for _, a := range attributes {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return "", false
}

func (p *parser) parseComparison() (*Node, error) {
	t := p.toks[p.pos]
	p.pos++
	prefix, name, ok := strings.Cut(t.text, ".")
	if !ok || !strings.EqualFold(prefix, "user") || strings.Contains(name, ".") {
		return nil, errAt(t.off, "expected user.<attribute>, found %q", t.text)
	}
	attr, ok := canonicalAttribute(name)
	if !ok {
		return nil, errAt(t.off, "unsupported attribute %q", t.text)
	}
	o := p.peek()
	if o == nil {
		return nil, p.errEnd("an operator")
	}
	if o.kind != tokOp {
		return nil, errAt(o.off, "expected an operator, found %q", o.text)
	}
	p.pos++
	n := &Node{Kind: Compare, Attribute: attr, Operator: o.text}
	switch o.text {
	case "-eq", "-ne", "-startswith", "-notstartswith", "-contains", "-notcontains", "-match", "-notmatch", "-in", "-notin":
	default:
		return nil, errAt(o.off, "unsupported operator %q", o.text)
	}
	v := p.peek()
	if v == nil {
		return nil, p.errEnd("a value")
	}
	boolean := attr == "accountEnabled"
	if boolean && n.Operator != "-eq" && n.Operator != "-ne" {
		return nil, errAt(o.off, "accountEnabled supports only -eq and -ne")
	}
	if n.Operator == "-in" || n.Operator == "-notin" {
		if v.kind != tokLBracket {
			return nil, errAt(v.off, "%s needs a list such as [\"a\",\"b\"]", o.text)
		}
		p.pos++
		for {
			e := p.peek()
			if e == nil {
				return nil, p.errEnd("a string or ']'")
			}
			if e.kind == tokRBracket && len(n.Values) == 0 {
				return nil, errAt(e.off, "empty list")
			}
			if e.kind != tokString {
				return nil, errAt(e.off, "expected a string in the list, found %q", e.text)
			}
			p.pos++
			n.Values = append(n.Values, e.text)
			sep := p.peek()
			if sep == nil {
				return nil, p.errEnd("',' or ']'")
			}
			p.pos++
			if sep.kind == tokRBracket {
				break
			}
			if sep.kind != tokComma {
				return nil, errAt(sep.off, "expected ',' or ']', found %q", sep.text)
			}
		}
		if boolean {
			return nil, errAt(o.off, "accountEnabled supports only -eq and -ne")
		}
		return n, nil
	}
	p.pos++
	switch {
	case v.kind == tokIdent && strings.EqualFold(v.text, "null"):
		if n.Operator != "-eq" && n.Operator != "-ne" {
			return nil, errAt(v.off, "null works only with -eq and -ne")
		}
		n.Null = true
	case v.kind == tokIdent && boolean && (strings.EqualFold(v.text, "true") || strings.EqualFold(v.text, "false")):
		n.Values = []string{strings.ToLower(v.text)}
	case v.kind == tokString && !boolean:
		n.Values = []string{v.text}
	case boolean:
		return nil, errAt(v.off, "accountEnabled takes true or false, found %q", v.text)
	default:
		return nil, errAt(v.off, "expected a quoted string, found %q", v.text)
	}
	if n.Operator == "-match" || n.Operator == "-notmatch" {
		re, err := regexp.Compile("(?i)" + n.Values[0])
		if err != nil {
			return nil, errAt(v.off, "bad regular expression: %v", err)
		}
		n.re = re
	}
	return n, nil
}
