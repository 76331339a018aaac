package rule_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement/rule"
)

func user(attrs map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := attrs[name]
		return v, ok
	}
}

func TestParseTreeAndMatch(t *testing.T) {
	r, err := rule.Parse(`(user.Department -EQ "Sales") -and (user.country -in ["US","CA"]) -or -not (user.accountEnabled -eq true)`)
	require.NoError(t, err)
	root := r.Root()
	require.Equal(t, rule.Or, root.Kind)
	require.Len(t, root.Kids, 2)
	and := root.Kids[0]
	require.Equal(t, rule.And, and.Kind)
	require.Equal(t, "department", and.Kids[0].Attribute, "attribute names are canonical")
	require.Equal(t, "-eq", and.Kids[0].Operator)
	require.Equal(t, []string{"Sales"}, and.Kids[0].Values)
	require.Equal(t, []string{"US", "CA"}, and.Kids[1].Values)
	require.Equal(t, rule.Not, root.Kids[1].Kind)
	require.Equal(t, []string{"accountEnabled", "country", "department"}, r.Attributes())

	assert.True(t, r.Match(user(map[string]string{"department": "sales", "country": "ca", "accountEnabled": "true"})))
	assert.False(t, r.Match(user(map[string]string{"department": "Sales", "country": "DE", "accountEnabled": "true"})))
	assert.True(t, r.Match(user(map[string]string{"accountEnabled": "false"})), "-not of a disabled account")
}

func TestOperators(t *testing.T) {
	u := user(map[string]string{"department": "Sales EMEA", "mail": "anna@contoso.com", "officeLocation": "B`1"})
	for text, want := range map[string]bool{
		`user.department -eq "sales emea"`:        true,
		`user.department -ne "Sales"`:             true,
		`user.department -startsWith "sales"`:     true,
		`user.department -notStartsWith "sales"`:  false,
		`user.department -contains "EMEA"`:        true,
		`user.department -notContains "APAC"`:     true,
		`user.department -in ["HR","Sales EMEA"]`: true,
		`user.department -notIn ["HR"]`:           true,
		`user.mail -match "^[a-z]+@contoso"`:      true,
		`user.mail -notMatch "fabrikam"`:          true,
		`user.department -match "^SALES"`:         true,
		`user.department -notMatch "emea$"`:       false,
		`user.city -eq null`:                      true,
		`user.department -ne null`:                true,
		`user.city -startsWith ""`:                false,
		"user.officeLocation -eq \"B``1\"":        true, // `` is an escaped backtick
	} {
		r, err := rule.Parse(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, r.Match(u), text)
	}
}

// TestSyntaxErrorsSayWhere checks that every rule that does not parse says
// where, the end of the input included.
func TestSyntaxErrorsSayWhere(t *testing.T) {
	for text, offset := range map[string]int{
		`(user.department -eq "Sales"`:   28,
		`user.department -eq`:            19,
		`user.department -in ["a"`:       24,
		`user.department -eq "a" -and`:   28,
		`-not`:                           4,
		`user.department -eq "Sales`:     20,
		`user.manager -eq "x"`:           0,
		`user.department -like "Sales"`:  16,
		`user.department -eq "a" ; drop`: 24,
		`user.department -eq "a")`:       23,
		"   ":                            0,
		strings.Repeat("(", 70) + "user.city -eq \"x\"" + strings.Repeat(")", 70): 65,
	} {
		_, err := rule.Parse(text)
		var se *rule.SyntaxError
		require.True(t, errors.As(err, &se), "%q: %v", text, err)
		assert.Equal(t, offset, se.Offset, "%q: %v", text, err)
		assert.True(t, strings.HasPrefix(err.Error(), "at offset "), err.Error())
	}
	longest := `user.department -eq "`
	longest += strings.Repeat("x", rule.MaxLength-len(longest)-1) + `"`
	_, err := rule.Parse(longest)
	require.NoError(t, err, "a rule of exactly MaxLength characters")
	_, err = rule.Parse(`user.department -eq "` + strings.Repeat("x", rule.MaxLength) + `"`)
	var se *rule.SyntaxError
	require.ErrorAs(t, err, &se)
}

// FuzzParse checks that the parser never panics, that every refusal is a
// *SyntaxError within the input, and that accepted rules evaluate.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`(user.department -eq "Sales")`,
		`(user.department -eq "Sales") -and (user.country -in ["US","CA"]) -or -not (user.accountEnabled -eq false)`,
		`user.mail -match "^a.*"`, `user.city -eq null`, "user.officeLocation -eq \"B`\"1\"", `(user.department -eq "Sales"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := rule.Parse(s)
		if err != nil {
			var se *rule.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a *SyntaxError: %v", err)
			}
			if se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("offset %d outside the rule of %d bytes", se.Offset, len(s))
			}
			return
		}
		r.Match(func(name string) (string, bool) { return "Sales", name == "department" })
		r.Match(func(string) (string, bool) { return "", false })
		for _, a := range r.Attributes() {
			if !strings.Contains(strings.ToLower(s), strings.ToLower(a)) {
				t.Fatalf("attribute %q is not in the rule", a)
			}
		}
	})
}
