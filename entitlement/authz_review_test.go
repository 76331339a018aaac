package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests of this file come from a review of delegation and
// authorization (1 Dec 2026); each but the controls failed before its fix.

// reviewPackageInD creates package PD in catalog D (owned by otherOwner)
// with an open member policy, and gives alice an assignment to it.
func reviewPackageInD(w *world) {
	w.t.Helper()
	ga := w.actors["GA"]
	w.id["PD"] = w.do(ga, CreateAccessPackage{CatalogID: w.id["D"], DisplayName: "Secret D"}).ID
	w.id["PolD"] = w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["PD"], "D open")}).ID
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["PD"],
		AssignmentPolicyID: w.id["PolD"], TargetID: w.uid["alice"]})
}

// The separation-of-duties report tells who holds package B as much as
// who holds A: it needs the right to view the assignments of both.
func TestAdditionalAccessNeedsBothCatalogs(t *testing.T) {
	w, _ := accessWorld(t)
	reviewPackageInD(w)
	w.request("alice", "P2", "Pol2") // alice: P2 in C
	am := w.actors["apAssignmentManager"]
	s := w.state()
	// The assignment manager of C may not view PD's assignments:
	_, err := s.ListAssignments(am, AssignmentFilter{AccessPackageID: w.id["PD"]})
	requireKind(t, err, ErrForbidden)
	_, err = s.AdditionalAccess(am, w.id["P2"], w.id["PD"])
	requireKind(t, err, ErrForbidden)
	got, err := s.AdditionalAccess(w.actors["GA"], w.id["P2"], w.id["PD"])
	require.NoError(t, err)
	require.Len(t, got, 1, "alice holds both")
}

// A principal deleted from the directory loses its role assignments, each
// recorded as removed: a deleted application kept acting as catalog owner.
func TestDeletedPrincipalLosesItsRoles(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	robot := w.app("robot")
	w.do(ga, CreateRoleAssignment{PrincipalID: w.uid["robot"], RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])})
	gid := w.group("Owners")
	w.do(ga, CreateRoleAssignment{PrincipalID: gid, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])})
	before := w.head().Position
	w.do(sys, DeleteServicePrincipal{ServicePrincipalID: w.uid["robot"]})
	w.do(sys, DeleteGroup{GroupID: gid})
	var types []string
	for e, err := range w.store.ReadAll(w.ctx, before) {
		require.NoError(t, err)
		types = append(types, e.Type)
	}
	require.Equal(t, []string{EventRoleAssignmentDeleted, EventServicePrincipalDeleted, EventRoleAssignmentDeleted, EventGroupDeleted}, types)
	_, err := w.try(robot, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "by a deleted app"})
	requireKind(t, err, ErrForbidden)
	for _, ra := range w.state().ListRoleAssignments(ga, RoleAssignmentFilter{}) {
		require.NotContains(t, []string{w.uid["robot"], gid}, ra.PrincipalID)
	}
	requireSameState(t, w.state(), w.replayed())
}

// A deleted user's roles no longer count, for commands and reads.
func TestDeletedUserLosesCatalogRole(t *testing.T) {
	w := adminWorld(t)
	w.do(sys, DeleteUser{UserID: w.uid["owner"]})
	_, err := w.try(w.actors["owner"], CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "x"})
	requireKind(t, err, ErrForbidden)
	_, err = w.state().ListAccessPackages(w.actors["owner"], w.id["C"])
	requireKind(t, err, ErrForbidden)
}

// A user blocked from signing in may not act at all, and reads only what
// anyone may about themselves: their roles no longer count for reads.
func TestBlockedUserReadsNoMore(t *testing.T) {
	w, _ := accessWorld(t)
	w.request("alice", "P2", "Pol2")
	w.do(sys, BlockUser{UserID: w.uid["apAssignmentManager"]})
	am := w.actors["apAssignmentManager"]
	_, err := w.try(am, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P2"],
		AssignmentPolicyID: w.id["Pol2"], TargetID: w.uid["erin"]})
	requireKind(t, err, ErrForbidden) // commands: refused
	_, err = w.state().ListAssignments(am, AssignmentFilter{AccessPackageID: w.id["P2"]})
	requireKind(t, err, ErrForbidden)
	require.Empty(t, w.state().ListCatalogs(am))
	w.do(sys, UnblockUser{UserID: w.uid["apAssignmentManager"]})
	got, err := w.state().ListAssignments(am, AssignmentFilter{AccessPackageID: w.id["P2"]})
	require.NoError(t, err)
	require.Len(t, got, 1)
}

// A review's items name assignments and their holders: a catalog reader,
// who may not view assignments, may not read them either.
func TestReviewItemsNeedTheRightToViewAssignments(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := w.do(ga, CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)}).ID
	w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: pol})
	w.advance(25 * time.Hour)
	reader := w.actors["reader"]
	s := w.state()
	_, err := s.ListAssignments(reader, AssignmentFilter{AccessPackageID: w.id["P2"]})
	requireKind(t, err, ErrForbidden)
	revs, err := s.AccessReviewsOfPolicy(reader, pol)
	require.NoError(t, err)
	require.NotEmpty(t, revs)
	_, err = s.ReviewDecisionItems(reader, revs[0].ID)
	requireKind(t, err, ErrForbidden)
	items, err := s.ReviewDecisionItems(w.actors["apAssignmentManager"], revs[0].ID)
	require.NoError(t, err)
	require.Len(t, items, 1)
}

// An administrator's request is theirs to cancel only while they hold the
// role to make it: without a role, users cancel end users' requests only.
func TestFormerManagerCannotCancelAdminRequest(t *testing.T) {
	w, _ := accessWorld(t)
	ga, mgr := w.actors["GA"], w.actors["delegate2"] // AP manager of C via RA-delegate2
	req := w.do(mgr, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: w.id["P1"],
		AssignmentPolicyID: w.id["PolA"], TargetID: w.uid["frank"]}).ID
	require.Equal(t, RequestStatePendingApproval, w.getRequest(req).State)
	w.do(ga, DeleteRoleAssignment{RoleAssignmentID: w.id["RA-delegate2"]})
	// The role is gone: no other admin task is allowed any more.
	_, err := w.try(mgr, ReprocessAssignmentRequest{RequestID: req})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(mgr, CancelAssignmentRequest{RequestID: req})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["frank"], CancelAssignmentRequest{RequestID: req})
	requireKind(t, err, ErrForbidden) // the target did not ask
	w.do(ga, CancelAssignmentRequest{RequestID: req})
}

// A guest who signs in by email acts as the guest: the log names the user
// whose rights were used, not the email.
func TestExternalActorRecordedAsTheGuest(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	gid := nameID("user/ext-owner")
	w.do(sys, PutUser{User: User{ID: gid, UserType: UserTypeGuest, DisplayName: "ext", Mail: "bob@fabrikam.com", AccountEnabled: true}})
	w.do(ga, CreateRoleAssignment{PrincipalID: gid, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])})
	before := w.head().Position
	w.do(ExternalActor("bob@fabrikam.com", ""), CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "by guest"})
	for e, err := range w.store.ReadAll(w.ctx, before) {
		require.NoError(t, err)
		require.Equal(t, gid, e.Metadata.ActorID, "event %s: audit actor %q (%s), but the rights used were those of guest %s",
			e.Type, e.Metadata.ActorID, e.Metadata.ActorKind, gid)
	}
}

// Reads, as commands, take an ExternalActor as its guest.
func TestExternalActorReadsAsTheGuest(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	gid := nameID("user/ext-approver")
	w.do(sys, PutUser{User: User{ID: gid, UserType: UserTypeGuest, DisplayName: "ext", Mail: "bob@fabrikam.com", AccountEnabled: true}})
	w.do(ga, CreateRoleAssignment{PrincipalID: gid, RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["C"])})
	pol := approvalPolicy(w.id["P2"], "guest approves", gid)
	pol.RequestApprovalSettings.Stages[0].PrimaryApprovers = []SubjectSet{{Kind: SingleUser, UserID: gid}}
	polID := w.do(ga, CreateAssignmentPolicy{Policy: pol}).ID
	req := w.do(w.actors["alice"], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: polID}).ID
	ext := ExternalActor("bob@fabrikam.com", "")
	s := w.state()
	require.Len(t, s.ApprovalsForApprover(UserActor(gid)), 1) // as the guest's id
	require.Len(t, s.ListCatalogs(UserActor(gid)), 1)
	// Commands take the ExternalActor as the guest: it may decide ...
	_, err := w.try(ext, UpdateApprovalStage{ApprovalID: req, StageID: w.getRequest(req).Stages[0].ID, ReviewResult: DecisionDeny, Justification: "no"})
	require.NoError(t, err)
	// ... and read as the guest.
	_, err = s.ListAccessPackages(ext, w.id["C"])
	require.NoError(t, err, "ListAccessPackages(ExternalActor of the guest owner)")
	require.Len(t, s.ListCatalogs(ext), 1, "ListCatalogs(ExternalActor of the guest owner)")
	require.Len(t, s.ApprovalsForApprover(ext), 1, "ApprovalsForApprover(ExternalActor of the guest approver)")
}

// Controls of the review that held before it: other catalogs' objects
// named by id, escalation, roles through groups, resource rights.
func TestAuthzAcrossCatalogs(t *testing.T) {
	w, _ := accessWorld(t)
	reviewPackageInD(w)
	ga := w.actors["GA"]
	// Assignment manager of C cannot remove alice's assignment of PD (catalog D).
	var pdAsg string
	w.m.Read(func(s *State) {
		for id := range s.ix.liveByPackage.Members(w.id["PD"]) {
			pdAsg = id
		}
	})
	require.NotEmpty(t, pdAsg)
	_, err := w.try(w.actors["apAssignmentManager"], CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: pdAsg})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["apAssignmentManager"], ReprocessAssignment{AssignmentID: pdAsg})
	requireKind(t, err, ErrForbidden)
	// adminAdd naming a package of C and a policy of D.
	_, err = w.try(w.actors["apAssignmentManager"], CreateAssignmentRequest{RequestType: RequestTypeAdminAdd,
		AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["PolD"], TargetID: w.uid["erin"]})
	requireKind(t, err, ErrInvalid)
	// otherOwner (D) puts a role of C's resource into PD.
	_, err = w.try(w.actors["otherOwner"], AddResourceRoleScope{AccessPackageID: w.id["PD"], RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]})
	requireKind(t, err, ErrInvalid)
	// owner of C makes themselves owner of D; AP manager delegates.
	_, err = w.try(w.actors["owner"], CreateRoleAssignment{PrincipalID: w.uid["owner"], RoleDefinitionID: RoleCatalogOwner, AppScopeID: CatalogScope(w.id["D"])})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["apManager"], CreateRoleAssignment{PrincipalID: w.uid["plain"], RoleDefinitionID: RoleAccessPackageManager, AppScopeID: CatalogScope(w.id["C"])})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["owner"], CreateRoleAssignment{PrincipalID: w.uid["owner"], RoleDefinitionID: RoleCatalogCreator, AppScopeID: TenantScope})
	requireKind(t, err, ErrForbidden)
	// Creator sees no catalog it does not own.
	require.Empty(t, w.state().ListCatalogs(w.actors["creator"]))
	// Role through a group, lost when the member leaves the group.
	gid := w.group("Delegates")
	w.do(sys, AddGroupMember{GroupID: gid, MemberID: w.uid["plain"]})
	w.do(ga, CreateRoleAssignment{PrincipalID: gid, RoleDefinitionID: RoleAccessPackageManager, AppScopeID: CatalogScope(w.id["C"])})
	w.do(w.actors["plain"], UpdateAccessPackage{AccessPackageID: w.id["P3"], Description: ptr("by group member")})
	w.do(sys, RemoveGroupMember{GroupID: gid, MemberID: w.uid["plain"]})
	_, err = w.try(w.actors["plain"], UpdateAccessPackage{AccessPackageID: w.id["P3"], Description: ptr("again")})
	requireKind(t, err, ErrForbidden)
	// Resource without rights: owner of C adds a group it does not own.
	nog := nameID("group/notmine")
	w.do(sys, PutGroup{Group: Group{ID: nog, DisplayName: "notmine", SecurityEnabled: true}})
	_, err = w.try(w.actors["owner"], CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
		Resource: ResourceSpec{OriginID: nog, OriginSystem: OriginSystemAadGroup}})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["IGA"], CreateResourceRequest{RequestType: RequestTypeAdminAdd, CatalogID: w.id["C"],
		Resource: ResourceSpec{OriginID: nog, OriginSystem: OriginSystemAadGroup}})
	requireKind(t, err, ErrForbidden)
}

// Deleting a package deletes its policies: an auto-assignment one only by
// whoever may delete it on its own.
func TestManagerCannotDeleteAutoPolicyWithItsPackage(t *testing.T) {
	w := adminWorld(t)
	auto := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: autoPolicy(w.id["P3"], "Sales")}).ID
	mgr := w.actors["apManager"]
	_, err := w.try(mgr, DeleteAssignmentPolicy{PolicyID: auto})
	requireKind(t, err, ErrForbidden) // the direct way is refused
	_, err = w.try(mgr, DeleteAccessPackage{AccessPackageID: w.id["P3"]})
	requireKind(t, err, ErrForbidden)
	w.do(w.actors["GA"], DeleteAccessPackage{AccessPackageID: w.id["P3"]})
}
