package entitlement

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/accessledger/accessledger/internal/pmap"
	"github.com/stretchr/testify/require"
)

// stateJSON returns the document of s as indented JSON, for comparing
// States and showing their differences.
func stateJSON(t require.TestingT, s *State) string {
	b, err := json.MarshalIndent(s.document(), "", " ")
	require.NoError(t, err)
	return string(b)
}

// requireSameState fails unless want and got hold the same objects.
func requireSameState(t require.TestingT, want, got *State, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.Equal(t, stateJSON(t, want), stateJSON(t, got), msgAndArgs...)
}

// dumpIndexes lists the content of every index, by index name.
func dumpIndexes(x *indexes) map[string][]string {
	out := map[string][]string{}
	sets := map[string]*pmap.Sets{
		"members": &x.members, "memberOf": &x.memberOf, "usersByOrg": &x.usersByOrg,
		"packagesByCatalog": &x.packagesByCatalog, "resourcesByCatalog": &x.resourcesByCatalog,
		"roleScopeUses": &x.roleScopeUses, "policiesByPackage": &x.policiesByPackage, "policiesByOrg": &x.policiesByOrg, "autoPolicies": &x.autoPolicies,
		"incompatibleWith": &x.incompatibleWith, "rolesByPrincipal": &x.rolesByPrincipal, "rolesByScope": &x.rolesByScope,
		"requestsByTarget": &x.requestsByTarget, "requestsByRequestor": &x.requestsByRequestor,
		"requestsByPackage": &x.requestsByPackage, "openByPackage": &x.openByPackage, "approvals": &x.approvals,
		"assignmentsByTarget": &x.assignmentsByTarget, "assignmentsByPackage": &x.assignmentsByPackage,
		"liveByPackage": &x.liveByPackage, "liveByTarget": &x.liveByTarget, "holders": &x.holders,
		"workflowsByAttribute": &x.workflowsByAttribute, "runsByWorkflow": &x.runsByWorkflow,
		"runsBySubject": &x.runsBySubject, "resultsByWorkflow": &x.resultsByWorkflow,
		"reviewsByPolicy": &x.reviewsByPolicy, "openReviews": &x.openReviews, "reviewerSets": &x.reviewerSets, "pendingByReviewerSet": &x.pendingByReviewerSet,
		"guestsByEmail": &x.guestsByEmail, "pendingByEmail": &x.pendingByEmail, "orgsByIdentity": &x.orgsByIdentity,
	}
	for name, m := range sets {
		out[name] = []string{}
		for k := range m.Keys() {
			for v := range m.Members(k) {
				out[name] = append(out[name], k+" = "+v)
			}
		}
	}
	strs := map[string]*pmap.Map[string]{
		"resourceByOrigin": &x.resourceByOrigin, "roleResource": &x.roleResource, "scopeResource": &x.scopeResource,
		"openAdds": &x.openAdds, "openUpdates": &x.openUpdates, "assignmentOfRequest": &x.assignmentOfRequest,
		"timeRuns": &x.timeRuns, "reviewDue": &x.reviewDue,
	}
	for name, m := range strs {
		out[name] = []string{}
		for k, v := range m.All() {
			out[name] = append(out[name], k+" = "+v)
		}
	}
	ints := map[string]*pmap.Map[int]{"openByPolicy": &x.openByPolicy, "liveByPolicy": &x.liveByPolicy}
	for name, m := range ints {
		out[name] = []string{}
		for k, v := range m.All() {
			out[name] = append(out[name], fmt.Sprintf("%s = %d", k, v))
		}
	}
	keys := map[string]*pmap.Map[struct{}]{"created": &x.created, "deliveries": &x.deliveries, "due": &x.due, "pendingDirectory": &x.pendingDirectory}
	for name, m := range keys {
		out[name] = []string{}
		for k := range m.Keys() {
			out[name] = append(out[name], fmt.Sprintf("%q", k))
		}
	}
	out["live"] = []string{fmt.Sprint(x.live)}
	// nestedIDs is never shrunk (an id once handed out stays in use), so a
	// State rebuilt from a document may know fewer of them.
	if n := reflect.TypeOf(*x).NumField(); n != len(out)+1 {
		for name := range out {
			delete(out, name)
		}
		out["dumpIndexes is out of date"] = []string{fmt.Sprintf("indexes has %d fields, the dump lists %d", n, len(out)+1)}
	}
	return out
}

// requireConsistentIndexes fails unless the indexes s keeps as events
// apply are those that building them afresh from its objects gives.
func requireConsistentIndexes(t require.TestingT, s *State, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	fresh, err := stateOf(s.Clone().document())
	require.NoError(t, err)
	require.Equal(t, dumpIndexes(&fresh.ix), dumpIndexes(&s.ix), msgAndArgs...)
}

func TestDumpIndexesListsEveryIndex(t *testing.T) {
	s := NewState()
	_, listed := dumpIndexes(&s.ix)["dumpIndexes is out of date"]
	require.False(t, listed, "%v", dumpIndexes(&s.ix))
}
