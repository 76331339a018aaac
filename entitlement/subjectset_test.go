package entitlement

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubjectSetJSONRoundTrip(t *testing.T) {
	tests := []struct {
		set  SubjectSet
		json string
	}{
		{SubjectSet{Kind: SingleUser, UserID: "u1", Description: "Alice"}, `{"@odata.type":"#microsoft.graph.singleUser","userId":"u1","description":"Alice"}`},
		{SubjectSet{Kind: GroupMembers, GroupID: "g1"}, `{"@odata.type":"#microsoft.graph.groupMembers","groupId":"g1"}`},
		{SubjectSet{Kind: ConnectedOrganizationMembers, ConnectedOrganizationID: "o1"}, `{"@odata.type":"#microsoft.graph.connectedOrganizationMembers","connectedOrganizationId":"o1"}`},
		{SubjectSet{Kind: SingleServicePrincipal, ServicePrincipalID: "sp1"}, `{"@odata.type":"#microsoft.graph.singleServicePrincipal","servicePrincipalId":"sp1"}`},
		{SubjectSet{Kind: AttributeRuleMembers, MembershipRule: `(user.department -eq "Sales")`}, `{"@odata.type":"#microsoft.graph.attributeRuleMembers","membershipRule":"(user.department -eq \"Sales\")"}`},
		{SubjectSet{Kind: RequestorManager, ManagerLevel: 1}, `{"@odata.type":"#microsoft.graph.requestorManager","managerLevel":1}`},
		{SubjectSet{Kind: TargetManager, ManagerLevel: 2}, `{"@odata.type":"#microsoft.graph.targetManager","managerLevel":2}`},
		{SubjectSet{Kind: InternalSponsors}, `{"@odata.type":"#microsoft.graph.internalSponsors"}`},
		{SubjectSet{Kind: ExternalSponsors}, `{"@odata.type":"#microsoft.graph.externalSponsors"}`},
		{SubjectSet{Kind: TargetUserSponsors}, `{"@odata.type":"#microsoft.graph.targetUserSponsors"}`},
		{SubjectSet{Kind: TargetApplicationOwners}, `{"@odata.type":"#microsoft.graph.targetApplicationOwners"}`},
		{SubjectSet{Kind: TargetAgentIdentitySponsorsOrOwners}, `{"@odata.type":"#microsoft.graph.targetAgentIdentitySponsorsOrOwners"}`},
	}
	covered := map[SubjectSetKind]bool{}
	for _, tt := range tests {
		t.Run(string(tt.set.Kind), func(t *testing.T) {
			covered[tt.set.Kind] = true
			b, err := json.Marshal(tt.set)
			require.NoError(t, err)
			assert.JSONEq(t, tt.json, string(b))
			var got SubjectSet
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, tt.set, got)
			assert.Nil(t, validateSubjectSet(got, "x"))
		})
	}
	for _, k := range SubjectSetKinds() {
		assert.True(t, covered[k], "kind %s not covered", k)
		assert.True(t, k.Known())
	}
	assert.False(t, SubjectSetKind("userSet").Known())

	// Graph also accepts the type without "#".
	var s SubjectSet
	require.NoError(t, json.Unmarshal([]byte(`{"@odata.type":"microsoft.graph.singleUser","userId":"u"}`), &s))
	assert.Equal(t, SubjectSet{Kind: SingleUser, UserID: "u"}, s)
}

func TestSubjectSetStrictDecode(t *testing.T) {
	tests := []struct {
		name, json, field string
	}{
		{"no type", `{"userId":"u"}`, "@odata.type"},
		{"type not string", `{"@odata.type":1}`, "@odata.type"},
		{"unknown type", `{"@odata.type":"#microsoft.graph.userSet"}`, "@odata.type"},
		{"other namespace", `{"@odata.type":"#microsoft.other.singleUser"}`, "@odata.type"},
		{"field of other kind", `{"@odata.type":"#microsoft.graph.singleUser","groupId":"g"}`, "groupId"},
		{"unknown field", `{"@odata.type":"#microsoft.graph.groupMembers","groupId":"g","isBackup":true}`, "isBackup"},
		{"wrong case", `{"@odata.type":"#microsoft.graph.singleUser","UserId":"u"}`, "UserId"},
		{"wrong type", `{"@odata.type":"#microsoft.graph.requestorManager","managerLevel":"1"}`, "managerLevel"},
		{"fraction", `{"@odata.type":"#microsoft.graph.requestorManager","managerLevel":1.5}`, "managerLevel"},
		{"not object", `["x"]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s SubjectSet
			err := json.Unmarshal([]byte(tt.json), &s)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var ie *InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestValidateSubjectSet(t *testing.T) {
	tests := []struct {
		name  string
		set   SubjectSet
		field string
	}{
		{"unknown kind", SubjectSet{Kind: "x"}, "p.@odata.type"},
		{"empty kind", SubjectSet{}, "p.@odata.type"},
		{"singleUser without id", SubjectSet{Kind: SingleUser}, "p.userId"},
		{"groupMembers without id", SubjectSet{Kind: GroupMembers}, "p.groupId"},
		{"connected org without id", SubjectSet{Kind: ConnectedOrganizationMembers}, "p.connectedOrganizationId"},
		{"service principal without id", SubjectSet{Kind: SingleServicePrincipal}, "p.servicePrincipalId"},
		{"rule missing", SubjectSet{Kind: AttributeRuleMembers}, "p.membershipRule"},
		{"rule invalid", SubjectSet{Kind: AttributeRuleMembers, MembershipRule: "user.department -eq"}, "p.membershipRule"},
		{"manager level 0", SubjectSet{Kind: RequestorManager}, "p.managerLevel"},
		{"manager level 3", SubjectSet{Kind: TargetManager, ManagerLevel: 3}, "p.managerLevel"},
		{"foreign field", SubjectSet{Kind: SingleUser, UserID: "u", GroupID: "g"}, "p.groupId"},
		{"sponsors with id", SubjectSet{Kind: InternalSponsors, UserID: "u"}, "p.userId"},
		{"level on user", SubjectSet{Kind: SingleUser, UserID: "u", ManagerLevel: 1}, "p.managerLevel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ie := validateSubjectSet(tt.set, "p")
			require.NotNil(t, ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func userAttrs(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestMembershipRuleMatch(t *testing.T) {
	alice := userAttrs(map[string]string{
		"department": "Sales", "jobTitle": "Account Executive", "country": "US",
		"userType": "Member", "accountEnabled": "true", "city": "Seattle",
		"mail": "alice@contoso.com", "userPrincipalName": "alice@contoso.com",
		"displayName": "Alice Smith", "employeeId": "E1001",
	})
	tests := []struct {
		rule string
		want bool
	}{
		{`(user.department -eq "Sales")`, true},
		{`user.department -eq "sales"`, true}, // values compare case-insensitively
		{`(user.department -ne "Sales")`, false},
		{`(user.department -eq "Marketing")`, false},
		{`(user.jobTitle -startsWith "Account")`, true},
		{`(user.jobTitle -notStartsWith "Account")`, false},
		{`(user.jobTitle -contains "exec")`, true},
		{`(user.jobTitle -notContains "exec")`, false},
		{`(user.country -in ["US","CA"])`, true},
		{`(user.country -in ["DE", "FR"])`, false},
		{`(user.country -notIn ["DE","FR"])`, true},
		{`(user.accountEnabled -eq true)`, true},
		{`(user.accountEnabled -eq false)`, false},
		{`(user.accountEnabled -ne false)`, true},
		{`(user.department -eq "Sales") -and (user.country -eq "CA")`, false},
		{`(user.department -eq "Sales") -or (user.country -eq "CA")`, true},
		{`(user.department -eq "HR") -or (user.country -eq "US") -and (user.city -eq "Seattle")`, true},
		{`((user.department -eq "HR") -or (user.country -eq "US")) -and (user.city -eq "Paris")`, false},
		// -and binds tighter than -or.
		{`user.department -eq "HR" -and user.country -eq "US" -or user.city -eq "Seattle"`, true},
		{`user.department -eq "HR" -and (user.country -eq "US" -or user.city -eq "Seattle")`, false},
		{`-not (user.department -eq "HR")`, true},
		{`-not(user.department -eq "Sales")`, false},
		{`(user.companyName -eq null)`, true}, // unset attribute is null
		{`(user.companyName -ne null)`, false},
		{`(user.department -ne null)`, true},
		{`(user.companyName -ne "Contoso")`, true},
		{`(user.companyName -startsWith "C")`, false},
		{`(user.companyName -notStartsWith "C")`, true},
		{`(user.companyName -notContains "C")`, true},
		{`(user.mail -match "^[a-z]+@contoso\.com$")`, true},
		{`(user.mail -notMatch "fabrikam")`, true},
		{`(USER.DEPARTMENT -EQ "Sales") -AND (User.Country -In ["us"])`, true},
		{`(user.employeeId -startsWith "E1")`, true},
		{`(user.displayName -eq "Alice Smith")`, true},
		{`(user.userPrincipalName -contains "@contoso")`, true},
		{`(user.userType -eq "Guest")`, false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r, err := ParseMembershipRule(tt.rule)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Match(alice))
			assert.Equal(t, tt.rule, r.String())
		})
	}

	r, err := ParseMembershipRule("(user.officeLocation -eq \"B`\"1\")")
	require.NoError(t, err)
	assert.True(t, r.Match(userAttrs(map[string]string{"officeLocation": `B"1`})))

	r, err = ParseMembershipRule(`(user.department -eq "Sales") -and (user.country -in ["US"]) -or (user.department -eq "HR")`)
	require.NoError(t, err)
	assert.Equal(t, []string{"country", "department"}, r.Attributes())
	assert.Contains(t, MembershipRuleAttributes(), "accountEnabled")
}

func TestParseMembershipRuleErrors(t *testing.T) {
	long := `(user.department -eq "` + string(make([]byte, MaxMembershipRuleLength)) + `")`
	deep := ""
	for range 70 { // deeper than the language allows
		deep += "("
	}
	deep += `user.city -eq "x"`
	for range 70 { // deeper than the language allows
		deep += ")"
	}
	for _, rule := range []string{
		"",
		"   ",
		long,
		deep,
		`user.department`,
		`user.department -eq`,
		`user.department "Sales"`,
		`(user.department -eq "Sales"`,
		`user.department -eq "Sales")`,
		`user.department -eq "Sales`,
		`user.manager -eq "x"`,
		`device.deviceOSType -eq "Windows"`,
		`user.department.name -eq "x"`,
		`department -eq "Sales"`,
		`user.department -like "Sales"`,
		`user.department -eq Sales`,
		`user.department -eq ["Sales"]`,
		`user.department -in "Sales"`,
		`user.department -in []`,
		`user.department -in ["a",]`,
		`user.department -in ["a" "b"]`,
		`user.department -in ["a"`,
		`user.accountEnabled -eq "true"`,
		`user.accountEnabled -contains true`,
		`user.accountEnabled -in [true]`,
		`user.department -eq true`,
		`user.department -startsWith null`,
		`user.mail -match "("`,
		`user.department -eq "a" -and`,
		`user.department -eq "a" -or -or user.city -eq "b"`,
		`-and user.department -eq "a"`,
		`user.department - eq "a"`,
		`user.department -eq "a" ; drop`,
		`-not`,
		`()`,
	} {
		t.Run(rule, func(t *testing.T) {
			_, err := ParseMembershipRule(rule)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid))
			var ie *InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "membershipRule", ie.Field)
		})
	}
}
