package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolveSubjectSets(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	// A nested group: G2 holds erin and G1; G1 holds frank.
	w.do(sys, AddGroupMember{GroupID: w.id["G1"], MemberID: w.uid["frank"]})
	w.do(sys, AddGroupMember{GroupID: w.id["G2"], MemberID: w.uid["erin"]})
	w.do(sys, AddGroupMember{GroupID: w.id["G2"], MemberID: w.id["G1"]})
	// A guest of Fabrikam (O1, internal sponsor "sponsor") with her own
	// sponsor bob and an external sponsor.
	ext := nameID("user/ext-sponsor")
	w.do(sys, PutUser{User: User{ID: ext, UserType: UserTypeGuest, AccountEnabled: true, ConnectedOrganizationID: w.id["O1"]}})
	w.do(ga, AddConnectedOrganizationSponsor{ConnectedOrganizationID: w.id["O1"], DirectoryObjectID: ext, External: true})
	guest := nameID("user/fabrikam-guest")
	w.do(sys, PutUser{User: User{ID: guest, UserType: UserTypeGuest, AccountEnabled: true,
		ConnectedOrganizationID: w.id["O1"], Sponsors: []string{w.uid["bob"]}}})

	s := w.state()
	rc := resolveContext{requestorID: w.uid["alice"], targetID: w.uid["alice"]}
	require.Equal(t, []string{w.uid["bob"]}, s.resolveSubjectSets([]SubjectSet{{Kind: RequestorManager, ManagerLevel: 1}}, rc))
	require.Equal(t, []string{w.uid["carol"]}, s.resolveSubjectSets([]SubjectSet{{Kind: TargetManager, ManagerLevel: 2}}, rc))
	require.Nil(t, s.resolveSubjectSets([]SubjectSet{{Kind: RequestorManager, ManagerLevel: 2}},
		resolveContext{requestorID: w.uid["bob"], targetID: w.uid["bob"]}))
	members := s.resolveSubjectSets([]SubjectSet{{Kind: GroupMembers, GroupID: w.id["G2"]}}, rc)
	require.ElementsMatch(t, []string{w.uid["erin"], w.uid["frank"]}, members)
	require.Equal(t, []string{w.uid["erin"]}, s.resolveSubjectSets([]SubjectSet{{Kind: GroupMembers, GroupID: w.id["G2"]}}, rc, w.uid["frank"]))

	grc := resolveContext{requestorID: guest, targetID: guest}
	require.Equal(t, []string{w.uid["sponsor"]}, s.resolveSubjectSets([]SubjectSet{{Kind: InternalSponsors}}, grc))
	require.Equal(t, []string{ext}, s.resolveSubjectSets([]SubjectSet{{Kind: ExternalSponsors}}, grc))
	require.Equal(t, []string{w.uid["bob"]}, s.resolveSubjectSets([]SubjectSet{{Kind: TargetUserSponsors}}, grc))
	require.Nil(t, s.resolveSubjectSets([]SubjectSet{{Kind: TargetAgentIdentitySponsorsOrOwners}}, grc), "no agent identities")

	// A blocked approver resolves to nobody, so the fallback applies.
	w.do(sys, BlockUser{UserID: w.uid["bob"]})
	s = w.state()
	require.Nil(t, s.resolveSubjectSets([]SubjectSet{{Kind: RequestorManager, ManagerLevel: 1}}, rc))
	id := w.request("alice", "P1", "PolA")
	r := w.getRequest(id)
	require.True(t, r.Stages[0].FallbackUsed)
	require.Equal(t, []string{w.uid["carol"]}, r.Stages[0].Approvers)
}

func TestTargetInScope(t *testing.T) {
	w, _ := accessWorld(t)
	s := w.state()
	p := &AssignmentPolicy{AllowedTargetScope: ScopeAllMemberUsers}
	require.True(t, s.targetInScope(p, w.uid["alice"]))
	require.False(t, s.targetInScope(p, w.uid["guest"]))
	p.AllowedTargetScope = ScopeAllDirectoryUsers
	require.True(t, s.targetInScope(p, w.uid["guest"]))
	require.False(t, s.targetInScope(p, w.id["appRes"]))
	p.AllowedTargetScope = ScopeAllDirectoryServicePrincipals
	require.True(t, s.targetInScope(p, w.id["appRes"]))
	p.AllowedTargetScope = ScopeSpecificDirectoryUsers
	p.SpecificAllowedTargets = []SubjectSet{{Kind: SingleUser, UserID: w.uid["erin"]}}
	require.True(t, s.targetInScope(p, w.uid["erin"]))
	require.False(t, s.targetInScope(p, w.uid["alice"]))
	p.SpecificAllowedTargets = []SubjectSet{{Kind: AttributeRuleMembers, MembershipRule: `(user.displayName -eq "alice")`}}
	require.True(t, s.targetInScope(p, w.uid["alice"]))
	require.False(t, s.targetInScope(p, w.uid["erin"]))
}

// TestTargetApplicationOwnersApprove (found by a review: they resolved to
// nobody): a request for a service principal, approved by its owners.
func TestTargetApplicationOwnersApprove(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	sp := nameID("sp/reporting-app")
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: sp, DisplayName: "Reporting app",
		Owners: []string{w.uid["carol"], w.id["G1"]}}})
	w.do(sys, AddGroupMember{GroupID: w.id["G1"], MemberID: w.uid["frank"]})
	pol := approvalPolicy(w.id["P1"], "apps, approved by their owners", w.uid["bob"])
	pol.AllowedTargetScope = ScopeAllDirectoryServicePrincipals
	pol.SpecificAllowedTargets = nil
	pol.RequestorSettings = RequestorSettings{}
	pol.RequestApprovalSettings.Stages[0].PrimaryApprovers = []SubjectSet{{Kind: TargetApplicationOwners}}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	id := w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: polID, TargetID: sp}).ID
	st := w.getRequest(id).Stages[0]
	require.ElementsMatch(t, []string{w.uid["carol"], w.uid["frank"]}, st.Approvers, "the owners, groups expanded")
	require.False(t, st.FallbackUsed)
	w.approve("frank", id)
	require.Equal(t, RequestStateDelivered, w.getRequest(id).State)
}
