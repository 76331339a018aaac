package canonjson

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canon is Canonicalize for tests: it fails t on error and returns a string.
func canon(t *testing.T, in string) string {
	t.Helper()
	out, err := Canonicalize([]byte(in))
	require.NoError(t, err, "input %q", in)
	return string(out)
}

// TestRFC8785Sorting is the example of RFC 8785 §3.2.3: members are sorted by
// the UTF-16 code units of their names, so U+1F600 (a surrogate pair,
// 0xD83D 0xDE00) sorts before U+FB33 although its UTF-8 bytes sort after.
func TestRFC8785Sorting(t *testing.T) {
	in := `{
	  "\u20ac": "Euro Sign",
	  "\r": "Carriage Return",
	  "\ufb33": "Hebrew Letter Dalet With Dagesh",
	  "1": "One",
	  "\ud83d\ude00": "Emoji: Grinning Face",
	  "\u0080": "Control",
	  "\u00f6": "Latin Small Letter O With Diaeresis"
	}`
	want := `{"\r":"Carriage Return","1":"One",` +
		"\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
		"\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\"," +
		"\"\uFB33\":\"Hebrew Letter Dalet With Dagesh\"}"
	assert.Equal(t, want, canon(t, in))
}

func TestSortingNonBMP(t *testing.T) {
	// U+10000 is 0xD800 0xDC00 in UTF-16 and U+FFFF is 0xFFFF: UTF-16 order
	// puts the non-BMP key first, byte order (F0… vs EF…) would put it last.
	assert.Equal(t, `{"𐀀":2,"`+"\uffff"+`":1}`, canon(t, `{"\uffff":1,"\ud800\udc00":2}`))
	// Nested objects are sorted too, and arrays keep their order.
	assert.Equal(t, `{"a":{"x":[3,1,2],"y":null},"b":[{"c":1,"d":2}]}`,
		canon(t, `{"b":[{"d":2,"c":1}],"a":{"y":null,"x":[3,1,2]}}`))
	// A prefix sorts before the longer name.
	assert.Equal(t, `{"a":1,"aa":2,"ab":3,"b":4}`, canon(t, `{"b":4,"ab":3,"aa":2,"a":1}`))
}

// TestRFC8785Example is the example of RFC 8785 §3.2.2 with its numbers,
// string escapes and literals.
func TestRFC8785Example(t *testing.T) {
	in := `{
	  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
	  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
	  "literals": [null, true, false]
	}`
	want := `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],` +
		`"string":"€$\u000f\nA'B\"\\\\\"/"}`
	assert.Equal(t, want, canon(t, in))
}

// TestRFC8785Numbers is the table of RFC 8785 Appendix B, IEEE 754 bit
// patterns and the text ECMAScript writes for them, plus the cases around
// the switches between plain and exponent notation.
func TestRFC8785Numbers(t *testing.T) {
	for _, tc := range []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"}, // -0
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	} {
		f := math.Float64frombits(tc.bits)
		assert.Equal(t, tc.want, string(AppendFloat(nil, f)), "AppendFloat(%#016x)", tc.bits)
		// The same value written as JSON text canonicalizes to the same.
		text := strconv.FormatFloat(f, 'g', -1, 64)
		assert.Equal(t, tc.want, canon(t, text), "Canonicalize(%s)", text)
	}
}

func TestNumberText(t *testing.T) {
	for in, want := range map[string]string{
		"1e21":                   "1e+21",
		"1e20":                   "100000000000000000000",
		"1e-7":                   "1e-7",
		"1.5e-7":                 "1.5e-7",
		"0.000001":               "0.000001",
		"0.0000012":              "0.0000012",
		"-0":                     "0",
		"-0.0":                   "0",
		"0e10":                   "0",
		"123456789012345680000":  "123456789012345680000",
		"123456789012345678901":  "123456789012345680000",
		"1.0":                    "1",
		"1E2":                    "100",
		"1e+2":                   "100",
		"100":                    "100",
		"-1.5":                   "-1.5",
		"0.1":                    "0.1",
		"12.50":                  "12.5",
		"9007199254740993":       "9007199254740992", // nearest double
		"1.7976931348623157e308": "1.7976931348623157e+308",
	} {
		assert.Equal(t, want, canon(t, in), "input %s", in)
	}
	// Beyond the range of a double there is nothing to write.
	for _, in := range []string{"1e400", "-1e400", "[1e309]"} {
		_, err := Canonicalize([]byte(in))
		assert.ErrorIs(t, err, ErrInvalid, "input %s", in)
	}
	// Underflow rounds to zero, as ECMAScript does.
	assert.Equal(t, "0", canon(t, "1e-400"))
}

func TestStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`"\u0000\u0001\u001f"`: `"\u0000\u0001\u001f"`,
		`"\b\f\n\r\t"`:         `"\b\f\n\r\t"`,
		`"\u0008\u000C\u000A"`: `"\b\f\n"`,
		`"\u007f"`:             "\"\u007f\"", // DEL is not a control character to JSON
		`"\/"`:                 `"/"`,
		`"\u0041\u00e9"`:       `"Aé"`,
		`"\u2028\u2029"`:       "\"\u2028\u2029\"", // not escaped, unlike encoding/json
		`"<>&"`:                `"<>&"`,            // not HTML-escaped either
		`"\"\\"`:               `"\"\\"`,
		`"\\u0041"`:            `"\\u0041"`, // an escaped backslash, then text
		`"\ud83d\ude00"`:       `"😀"`,
		`"😀"`:                  `"😀"`,
	} {
		assert.Equal(t, want, canon(t, in), "input %s", in)
	}
	for i := range 0x20 {
		in := `"\u00` + strconv.FormatInt(int64(i>>4), 16) + strconv.FormatInt(int64(i&0xf), 16) + `"`
		out := canon(t, in)
		short := map[int]string{8: `\b`, 9: `\t`, 10: `\n`, 12: `\f`, 13: `\r`}
		if s, ok := short[i]; ok {
			assert.Equal(t, `"`+s+`"`, out)
		} else {
			assert.Equal(t, in, out) // lower-case hex, as in the input
		}
	}
}

func TestAppendString(t *testing.T) {
	assert.Equal(t, `x"a\"b\\c\n\u0001é"`, string(AppendString([]byte("x"), "a\"b\\c\n\x01é")))
	// Invalid UTF-8 in a Go string becomes U+FFFD, as in encoding/json.
	assert.Equal(t, "\"a\uFFFDb\"", string(AppendString(nil, "a\xffb")))
	assert.Equal(t, `""`, string(AppendString(nil, "")))
}

func TestLiteralsAndWhitespace(t *testing.T) {
	assert.Equal(t, `[true,false,null,"",{},[]]`, canon(t, " \t\r\n[ true , false , null , \"\" , { } , [ ] ] \n"))
	assert.Equal(t, `"x"`, canon(t, `"x"`))
	assert.Equal(t, `0`, canon(t, `0`))
}

func TestInvalid(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                  ``,
		"blank":                  "  \n",
		"duplicate member":       `{"a":1,"a":2}`,
		"duplicate nested":       `{"x":{"b":1,"c":0,"b":2}}`,
		"duplicate after escape": `{"a":1,"\u0061":2}`,
		"two values":             `{} {}`,
		"two numbers":            `1 2`,
		"trailing text":          `{}x`,
		"trailing bracket":       `{"a":1}}`,
		"trailing after string":  `"a"x`,
		"trailing after number":  `1x`,
		"trailing close":         `[] ]`,
		"unterminated":           `{"a":`,
		"unterminated array":     `[1,2`,
		"trailing comma":         `[1,]`,
		"trailing comma object":  `{"a":1,}`,
		"missing colon":          `{"a" 1}`,
		"bare word":              `nul`,
		"non-string key":         `{1:2}`,
		"single quotes":          `{'a':1}`,
		"leading zero":           `01`,
		"NaN":                    `NaN`,
		"infinity":               `Infinity`,
		"comment":                `{} // x`,
		"not UTF-8":              "\"a\xffb\"",
		"encoded surrogate":      "\"\xed\xa0\x80\"",
		"lone high surrogate":    `"\ud800"`,
		"lone low surrogate":     `"\udc00"`,
		"high then text":         `"\ud83dx"`,
		"high then high":         `"\ud83d\ud83d"`,
		"reversed pair":          `"\ude00\ud83d"`,
		"surrogate in key":       `{"\udead":1}`,
		"high at end of input":   `"\ud83d`,
		"raw control character":  "\"a\x01\"",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := Canonicalize([]byte(in))
			require.ErrorIs(t, err, ErrInvalid, "input %q gave %q", in, out)
			assert.Nil(t, out)
		})
	}
}

func TestDepthLimit(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	// The top-level value is at depth 0, so maxDepth+1 arrays nest fine…
	assert.Equal(t, nested(maxDepth+1), canon(t, nested(maxDepth+1)))
	// …and one more is refused.
	_, err := Canonicalize([]byte(nested(maxDepth + 2)))
	require.ErrorIs(t, err, ErrInvalid)
	// Objects count the same way.
	obj := strings.Repeat(`{"a":`, maxDepth+2) + "1" + strings.Repeat("}", maxDepth+2)
	_, err = Canonicalize([]byte(obj))
	require.ErrorIs(t, err, ErrInvalid)
	// Very deep input fails quickly instead of exhausting the stack.
	_, err = Canonicalize([]byte(nested(1_000_000)))
	require.ErrorIs(t, err, ErrInvalid)
}

func TestMarshal(t *testing.T) {
	type inner struct {
		Z int     `json:"z"`
		A float64 `json:"a"`
	}
	b, err := Marshal(struct {
		Name  string `json:"name"`
		Inner inner  `json:"inner"`
		List  []int  `json:"list"`
	}{"<Ada>", inner{Z: 1, A: 2.50}, []int{3, 1}})
	require.NoError(t, err)
	assert.Equal(t, `{"inner":{"a":2.5,"z":1},"list":[3,1],"name":"<Ada>"}`, string(b))

	_, err = Marshal(math.Inf(1)) // encoding/json refuses it
	require.Error(t, err)
}

// FuzzCanonicalize checks, for any input, that Canonicalize does not panic;
// that it fails only with ErrInvalid; and that when it succeeds the input
// was valid JSON, the output is valid JSON with the same meaning, and
// canonicalizing the output again changes nothing.
func FuzzCanonicalize(f *testing.F) {
	for _, seed := range []string{
		`{"b":1,"a":2}`, `[1e21,1e-7,0.000001,-0,123456789012345680000]`,
		`{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`,
		`"\u0000\b\f\n\r\t\"\\\/\u007f"`, `{"a":1,"a":2}`, `{}x`, `[[[[]]]]`,
		`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}`,
		`"\ud800"`, "\"\xff\"", `null`, `true`, `1e400`, ` {"a" : [ 1 , "x" ] } `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			require.Nil(t, out)
			if json.Valid(in) {
				// Only what RFC 8785 adds to JSON may be refused.
				require.Regexp(t, `duplicate|surrogate|UTF-8|out of range|nested`, err.Error(), "refused valid JSON %q", in)
			}
			return
		}
		require.True(t, json.Valid(in), "accepted invalid JSON %q", in)
		require.True(t, json.Valid(out), "produced invalid JSON %q from %q", out, in)

		again, err := Canonicalize(out)
		require.NoError(t, err, "output %q", out)
		require.Equal(t, string(out), string(again), "not a fixed point")

		var vin, vout any
		require.NoError(t, json.Unmarshal(in, &vin))
		require.NoError(t, json.Unmarshal(out, &vout))
		require.Equal(t, vin, vout, "meaning changed: %q -> %q", in, out)
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	// A typical domain payload: a struct encoded by encoding/json, members
	// in field order rather than sorted.
	in := []byte(`{"id":"6f1c1f2e-8a51-4c37-9b7e-0d2f7c9f3a10","displayName":"Campaign tools","description":"Everything the spring campaign needs","catalogId":"0b9e6a52-3f7d-4a7c-8f0e-5c2b1d3e4f50","isHidden":false,"createdDateTime":"2026-03-03T09:00:00Z","resourceRoleScopes":[{"roleId":"Member_1","scopeId":"root"}],"count":42}`)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Canonicalize(in); err != nil {
			b.Fatal(err)
		}
	}
}
