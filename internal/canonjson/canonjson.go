// Package canonjson produces the canonical form of JSON used for hashing:
// RFC 8785, the JSON Canonicalization Scheme (JCS). Object members are sorted
// by their names' UTF-16 code units, there is no insignificant whitespace,
// strings use the shortest escapes, and numbers are written as ECMAScript's
// Number.prototype.toString writes an IEEE 754 double.
//
// Any JCS implementation in any language produces the same bytes, which is
// what lets a third party verify an accessledger log with its own tool.
package canonjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrInvalid reports input that is not a single well-formed JSON value, or
// that holds a number JCS cannot represent (NaN, infinities, overflow).
var ErrInvalid = errors.New("canonjson: invalid JSON")

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

// Canonicalize returns the canonical form of the JSON value in b.
// Duplicate object member names, bytes that are not UTF-8 and escaped
// unpaired surrogates are rejected, as RFC 8785 requires.
//
// It scans b once, without encoding/json: appends canonicalize every
// payload, so this is on the log's hot path.
func Canonicalize(b []byte) ([]byte, error) {
	p := parsers.Get().(*parser)
	defer func() {
		p.in, p.out = nil, nil
		parsers.Put(p)
	}()
	p.in, p.i, p.out = b, 0, make([]byte, 0, len(b))
	p.keys, p.names, p.tmp = p.keys[:0], p.names[:0], p.tmp[:0]
	p.skipSpace()
	if err := p.value(0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.in) {
		return nil, fmt.Errorf("%w: data after the value at offset %d", ErrInvalid, p.i)
	}
	return p.out, nil
}

// parsers keeps parsers for reuse: their scratch space (member stacks,
// names, the reordering buffer) would otherwise be allocated anew for
// every payload.
var parsers = sync.Pool{New: func() any { return new(parser) }}

// Marshal encodes v with encoding/json and returns its canonical form.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(b)
}

// parser reads JSON from in and writes its canonical form to out.
type parser struct {
	in    []byte
	i     int
	out   []byte
	keys  []member // scratch stack of object members, shared by nesting levels
	names []byte   // member names of the objects being read, decoded
	tmp   []byte   // scratch for reordering members
}

// member is an object member already written to out[start:end]; its
// decoded name, for sorting and duplicate detection, is names[k0:k1].
// Offsets rather than slices keep sorting free of GC write barriers.
type member struct {
	k0, k1, start, end int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format+" at offset %d", append(append([]any{ErrInvalid}, args...), p.i)...)
}

func (p *parser) skipSpace() {
	for p.i < len(p.in) {
		switch p.in[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) error {
	if depth > maxDepth {
		return p.errorf("nested deeper than %d", maxDepth)
	}
	if p.i >= len(p.in) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.in[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		p.out = appendStringBytes(p.out, s)
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return p.errorf("unexpected character %q", p.in[p.i])
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.in[p.i:], []byte(lit)) {
		return p.errorf("invalid literal")
	}
	p.i += len(lit)
	p.out = append(p.out, lit...)
	return nil
}

func (p *parser) object(depth int) error {
	p.i++ // '{'
	p.out = append(p.out, '{')
	base, nameBase := len(p.keys), len(p.names)
	defer func() { p.keys, p.names = p.keys[:base], p.names[:nameBase] }()
	p.skipSpace()
	if p.i < len(p.in) && p.in[p.i] == '}' {
		p.i++
		p.out = append(p.out, '}')
		return nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.in) || p.in[p.i] != '"' {
			return p.errorf("object member name must be a string")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.in) || p.in[p.i] != ':' {
			return p.errorf("missing ':' after object member name")
		}
		p.i++
		p.skipSpace()
		start := len(p.out)
		p.out = appendStringBytes(p.out, key)
		p.out = append(p.out, ':')
		if err := p.value(depth + 1); err != nil {
			return err
		}
		k0 := len(p.names)
		p.names = append(p.names, key...)
		p.keys = append(p.keys, member{k0, len(p.names), start, len(p.out)})
		p.skipSpace()
		if p.i >= len(p.in) {
			return p.errorf("unexpected end of input in object")
		}
		if p.in[p.i] == '}' {
			p.i++
			break
		}
		if p.in[p.i] != ',' {
			return p.errorf("expected ',' or '}' in object")
		}
		p.i++
		p.out = append(p.out, ',')
	}
	return p.sortMembers(p.keys[base:])
}

// sortMembers reorders the members just written to out by name and closes
// the object. Most objects come from Go structs or maps and need a reorder;
// a sorted object costs one comparison per member.
func (p *parser) sortMembers(ms []member) error {
	name := func(m member) []byte { return p.names[m.k0:m.k1] }
	cmp := func(a, b member) int { return compareUTF16Bytes(name(a), name(b)) }
	sorted := true
	for i := 1; i < len(ms); i++ {
		c := cmp(ms[i-1], ms[i])
		if c == 0 {
			return fmt.Errorf("%w: duplicate member %q", ErrInvalid, name(ms[i]))
		}
		if c > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(ms, cmp)
		for i := 1; i < len(ms); i++ {
			if bytes.Equal(name(ms[i-1]), name(ms[i])) {
				return fmt.Errorf("%w: duplicate member %q", ErrInvalid, name(ms[i]))
			}
		}
		// ms is now in sorted order but its spans still point at the
		// written (unsorted) layout: copy the region out and write it back.
		first := slices.MinFunc(ms, func(a, b member) int { return a.start - b.start }).start
		p.tmp = append(p.tmp[:0], p.out[first:]...)
		p.out = p.out[:first]
		for i, m := range ms {
			if i > 0 {
				p.out = append(p.out, ',')
			}
			p.out = append(p.out, p.tmp[m.start-first:m.end-first]...)
		}
	}
	p.out = append(p.out, '}')
	return nil
}

func (p *parser) array(depth int) error {
	p.i++ // '['
	p.out = append(p.out, '[')
	p.skipSpace()
	if p.i < len(p.in) && p.in[p.i] == ']' {
		p.i++
		p.out = append(p.out, ']')
		return nil
	}
	for {
		p.skipSpace()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.in) {
			return p.errorf("unexpected end of input in array")
		}
		if p.in[p.i] == ']' {
			p.i++
			p.out = append(p.out, ']')
			return nil
		}
		if p.in[p.i] != ',' {
			return p.errorf("expected ',' or ']' in array")
		}
		p.i++
		p.out = append(p.out, ',')
	}
}

// str reads a string literal and returns its decoded value, which aliases
// the input when the literal has no escapes. Bytes that are not UTF-8, raw
// control characters, bad escapes and unpaired surrogates are errors.
func (p *parser) str() ([]byte, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.in) {
		c := p.in[p.i]
		if c == '"' {
			raw := p.in[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return nil, fmt.Errorf("%w: not UTF-8", ErrInvalid)
			}
			return raw, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, p.errorf("control character in string")
		}
		p.i++
	}
	buf := append([]byte(nil), p.in[start:p.i]...)
	for p.i < len(p.in) {
		c := p.in[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return nil, fmt.Errorf("%w: not UTF-8", ErrInvalid)
			}
			return buf, nil
		case c < 0x20:
			return nil, p.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++ // backslash
		if p.i >= len(p.in) {
			break
		}
		e := p.in[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(p.in[p.i:])
			if !ok {
				return nil, p.errorf("bad \\u escape")
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || p.i+6 > len(p.in) || p.in[p.i] != '\\' || p.in[p.i+1] != 'u' {
					return nil, fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrInvalid, r)
				}
				lo, ok := hex4(p.in[p.i+2:])
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrInvalid, r)
				}
				p.i += 6
				r = utf16.DecodeRune(r, lo)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, p.errorf("bad escape \\%c", e)
		}
	}
	return nil, p.errorf("unterminated string")
}

// number reads a JSON number and writes it as ECMAScript would print the
// nearest double. Short integers, the common case, are already canonical.
func (p *parser) number() error {
	start := p.i
	if p.in[p.i] == '-' {
		p.i++
	}
	digits := p.i
	switch {
	case p.i < len(p.in) && p.in[p.i] == '0':
		p.i++
	case p.i < len(p.in) && '1' <= p.in[p.i] && p.in[p.i] <= '9':
		for p.i < len(p.in) && '0' <= p.in[p.i] && p.in[p.i] <= '9' {
			p.i++
		}
	default:
		return p.errorf("bad number")
	}
	integer := true
	if p.i < len(p.in) && p.in[p.i] == '.' {
		integer = false
		p.i++
		if !p.digits() {
			return p.errorf("bad number")
		}
	}
	if p.i < len(p.in) && (p.in[p.i] == 'e' || p.in[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.in) && (p.in[p.i] == '+' || p.in[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return p.errorf("bad number")
		}
	}
	lit := p.in[start:p.i]
	if integer && p.i-digits <= 15 { // below 2^53: exact, and printed as written
		if string(lit) == "-0" {
			lit = lit[1:]
		}
		p.out = append(p.out, lit...)
		return nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("%w: number %s out of range", ErrInvalid, lit)
	}
	p.out = AppendFloat(p.out, f)
	return nil
}

func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.in) && '0' <= p.in[p.i] && p.in[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// hex4 decodes four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// compareUTF16Bytes is compareUTF16 for byte slices, without allocating
// for ASCII names.
func compareUTF16Bytes(a, b []byte) int {
	if isASCIIBytes(a) && isASCIIBytes(b) {
		return bytes.Compare(a, b)
	}
	return compareUTF16(string(a), string(b))
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendStringBytes is AppendString for a decoded string held in bytes.
// Most strings need no escaping and are copied as they are.
func appendStringBytes(out, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return AppendString(out, string(s))
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 §3.2.3
// requires; it differs from byte order only for characters above U+FFFF.
func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AppendString appends s as a JCS string literal: only '"', '\\' and control
// characters are escaped, with the short forms where JSON has them.
// Invalid UTF-8 is replaced by U+FFFD, as encoding/json does.
func AppendString(out []byte, s string) []byte {
	// Fast path: ids, names and types are printable ASCII and copy as they are.
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"', c == '\\':
				out = append(out, '\\', c)
			case c >= 0x20:
				out = append(out, c)
			case c == '\b':
				out = append(out, '\\', 'b')
			case c == '\f':
				out = append(out, '\\', 'f')
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// AppendFloat appends f formatted as ECMAScript's Number.prototype.toString.
func AppendFloat(out []byte, f float64) []byte {
	if f == 0 {
		return append(out, '0') // also for -0
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// Shortest round-tripping digits and decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±xx
	mant, exps, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(exps)
	k := len(digits)
	n := exp + 1 // position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, '0', '.')
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out
}
