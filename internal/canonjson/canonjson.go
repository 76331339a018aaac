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
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
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
func Canonicalize(b []byte) ([]byte, error) {
	if err := checkUnicode(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	out := make([]byte, 0, len(b))
	out, err := appendValue(out, dec, 0)
	if err != nil {
		return nil, err
	}
	// Anything but a clean end of input is trailing data, including text
	// that is not a JSON token at all ("{}x").
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the value", ErrInvalid)
	}
	return out, nil
}

// checkUnicode rejects what encoding/json would silently replace by U+FFFD
// and RFC 8785 §3.2.2.2 says must be an error: bytes that are not UTF-8, and
// \u escapes of surrogates that do not form a pair. Backslashes appear only
// inside strings in valid JSON; anything else is left to the decoder.
func checkUnicode(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalid)
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character; skipping it also skips an escaped backslash
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r, ok := hex4(b[i+1:])
		if !ok || !utf16.IsSurrogate(r) {
			continue
		}
		i += 4
		if r >= 0xDC00 {
			return fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrInvalid, r)
		}
		if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
			if lo, ok := hex4(b[i+3:]); ok && 0xDC00 <= lo && lo <= 0xDFFF {
				i += 6
				continue
			}
		}
		return fmt.Errorf("%w: unpaired surrogate \\u%04x", ErrInvalid, r)
	}
	return nil
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Marshal encodes v with encoding/json and returns its canonical form.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(b)
}

func appendValue(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrInvalid, maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return appendObject(out, dec, depth)
		case '[':
			return appendArray(out, dec, depth)
		}
		return nil, fmt.Errorf("%w: unexpected %q", ErrInvalid, t)
	case string:
		return AppendString(out, t), nil
	case json.Number:
		return appendNumber(out, t)
	case bool:
		return strconv.AppendBool(out, t), nil
	case nil:
		return append(out, "null"...), nil
	}
	return nil, fmt.Errorf("%w: unexpected token %v", ErrInvalid, tok)
}

type member struct {
	key   string
	value []byte
}

func appendObject(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: object key is not a string", ErrInvalid)
		}
		v, err := appendValue(nil, dec, depth+1)
		if err != nil {
			return nil, err
		}
		members = append(members, member{key, v})
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	slices.SortFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			if m.key == members[i-1].key {
				return nil, fmt.Errorf("%w: duplicate member %q", ErrInvalid, m.key)
			}
			out = append(out, ',')
		}
		out = AppendString(out, m.key)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), nil
}

func appendArray(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	out = append(out, '[')
	first := true
	for dec.More() {
		if !first {
			out = append(out, ',')
		}
		first = false
		var err error
		if out, err = appendValue(out, dec, depth+1); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // closing ']'
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return append(out, ']'), nil
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

// appendNumber writes n as ECMAScript writes the nearest double (RFC 8785 §3.2.2.3).
func appendNumber(out []byte, n json.Number) ([]byte, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%w: number %s out of range", ErrInvalid, n)
	}
	return AppendFloat(out, f), nil
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
