package entitlement

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// partnerPolicy lets users of the given connected organizations ask for
// pkg, approved by the organization's internal sponsors, for days days.
func partnerPolicy(pkg string, days int, orgs ...string) AssignmentPolicy {
	p := AssignmentPolicy{DisplayName: "Partners", AccessPackageID: pkg, AllowedTargetScope: ScopeSpecificConnectedOrganizationUsers,
		RequestorSettings: RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []ApprovalStage{{
			DurationBeforeAutomaticDenial: DurationDays(7),
			PrimaryApprovers:              []SubjectSet{{Kind: InternalSponsors}},
		}}},
		Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(days)},
	}
	for _, o := range orgs {
		p.SpecificAllowedTargets = append(p.SpecificAllowedTargets, SubjectSet{Kind: ConnectedOrganizationMembers, ConnectedOrganizationID: o})
	}
	return p
}

// openPolicy lets anyone outside the organization (allExternalUsers), or
// the users of configured organizations only, ask for pkg without
// approval, for days days.
func openPolicy(pkg string, scope AllowedTargetScope, days int) AssignmentPolicy {
	return AssignmentPolicy{DisplayName: string(scope), AccessPackageID: pkg, AllowedTargetScope: scope,
		RequestorSettings: RequestorSettings{EnableTargetsToSelfAddAccess: true},
		Expiration:        ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(days)}}
}

func (w *world) guestOf(email string) (User, bool) {
	w.t.Helper()
	var u User
	ok := false
	w.m.Read(func(s *State) {
		if x, found := userByMail(s, email); found {
			u, ok = cloneUser(*x), true
		}
	})
	return u, ok
}

// partnerWiki creates, as catalog C's access package manager, the
// package "Partner wiki" and a policy through which any external user may
// request it for 10 days.
func (w *world) partnerWiki() (pkg, pol string) {
	manager := w.actors["apManager"]
	pkg = w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	pol = w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(pkg, ScopeAllExternalUsers, 10)}).ID
	return pkg, pol
}

// userByMail finds a guest by mail, deleted or not (the one not deleted
// if there are both).
func userByMail(s *State, email string) (*User, bool) {
	var out *User
	for _, u := range s.users.All() {
		if u.IsGuest() && normalizeEmail(u.Mail) == normalizeEmail(email) && (out == nil || out.DeletedDateTime != nil) {
			out = u
		}
	}
	return out, out != nil
}

// TestScenarioExternalPartners walks the seed scenarios of "Govern access
// for users outside your organization" and "View the connected
// organizations that are proposed and configured", each as the role it
// names.
func TestScenarioExternalPartners(t *testing.T) {
	w, fd := accessWorld(t)
	ga, manager := w.actors["GA"], w.actors["apManager"]

	// Administrator: 2. review the settings for external users; 3. add a
	// connection to the external organization (Fabrikam, O1, with an
	// internal sponsor, is in the fixture).
	var st Settings
	w.m.Read(func(s *State) { st, _ = s.Settings(ga) })
	require.Equal(t, ExternalUserLifecycleBlockSignInAndDelete, st.ExternalUserLifecycleAction)
	o1 := w.id["O1"]

	// Access package manager: 1. create an access package; 2. add a group;
	// 3. a request policy for users not in the directory; 4. expiration;
	// 5. copy the link.
	pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner portal"}).ID
	rs := w.do(manager, AddResourceRoleScope{AccessPackageID: pkg, RoleID: w.id["G1-member"], ScopeID: w.id["G1-root"]}).ID
	pol := w.do(manager, CreateAssignmentPolicy{Policy: partnerPolicy(pkg, 30, o1)}).ID
	var link RequestLink
	w.m.Read(func(s *State) {
		var err error
		link, err = s.RequestLink(manager, pkg)
		require.NoError(t, err)
		_, err = s.RequestLink(w.actors["plain"], pkg)
		requireKind(t, err, ErrForbidden)
	})
	require.Equal(t, "/access-packages/"+pkg, link.Path)

	// Requestor: 1. follow the link; 2. sign in; 3. request access. Kim
	// is not in the directory; Lee's organization is not connected.
	kim, lee := ExternalActor("Kim@Fabrikam.com", ""), ExternalActor("lee@tailwind.io", "")
	w.m.Read(func(s *State) {
		got, err := s.ResolveRequestLink(kim, "https://access.contoso.com/#"+link.Path)
		require.NoError(t, err)
		require.Equal(t, pkg, got.AccessPackage.ID)
		require.Len(t, got.Requirements, 1)
		require.True(t, got.Requirements[0].IsApprovalRequiredForAdd)
		_, err = s.ResolveRequestLink(lee, link.Path)
		requireKind(t, err, ErrForbidden)
	})
	_, err := w.try(lee, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(kim, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	requireKind(t, err, ErrForbidden)
	req := w.do(kim, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol,
		Justification: "Joint project"}).ID
	r := w.getRequest(req)
	require.Equal(t, RequestStatePendingApproval, r.State)
	require.Equal(t, "kim@fabrikam.com", r.TargetSubject.Email)
	require.Equal(t, o1, r.TargetSubject.ConnectedOrganizationID)
	require.Equal(t, []string{w.uid["sponsor"]}, r.Stages[0].Approvers, "Fabrikam's internal sponsor approves")
	_, ok := w.guestOf("kim@fabrikam.com")
	require.False(t, ok, "no guest before approval")
	_, err = w.try(kim, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	requireKind(t, err, ErrConflict) // one open request per person and package
	// Kim sees her request, and could cancel it; Lee cannot.
	w.m.Read(func(s *State) {
		mine := s.MyRequests(kim)
		require.Len(t, mine, 1)
		require.Equal(t, req, mine[0].ID)
		_, err := s.GetAssignmentRequest(kim, req)
		require.NoError(t, err)
		_, err = s.GetAssignmentRequest(lee, req)
		requireKind(t, err, ErrForbidden)
	})
	_, err = w.try(lee, CancelAssignmentRequest{RequestID: req})
	requireKind(t, err, ErrForbidden)

	// Approver: 1. open the request in My Access; 2. approve it.
	var pending []PendingApproval
	w.m.Read(func(s *State) { pending = s.ApprovalsForApprover(w.actors["sponsor"]) })
	require.Len(t, pending, 1)
	w.do(w.actors["sponsor"], UpdateApprovalStage{ApprovalID: req, StageID: r.Stages[0].ID, ReviewResult: DecisionApprove})
	g, ok := w.guestOf("kim@fabrikam.com")
	require.True(t, ok, "the guest is created on approval")
	require.Equal(t, UserTypeGuest, g.UserType)
	require.Equal(t, SubjectLifecycleGoverned, g.SubjectLifecycle)
	require.Equal(t, o1, g.ConnectedOrganizationID)
	require.Equal(t, r.TargetID, g.ID)
	require.Contains(t, fd.heldBy(g.ID), rs)

	// Requestor: view the resources you already have access to, signed
	// in again: the email now finds the guest.
	guest := UserActor(g.ID)
	w.m.Read(func(s *State) {
		for _, a := range []Actor{guest, kim} {
			as := s.MyAssignments(a)
			require.Len(t, as, 1)
			require.Equal(t, pkg, as[0].AccessPackageID)
			require.Len(t, s.EffectiveAccess(a, g.ID), 1)
		}
	})
	other := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	otherPol := w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(other, ScopeAllExternalUsers, 10)}).ID
	again := w.do(kim, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPol}).ID
	require.Equal(t, g.ID, w.getRequest(again).TargetID, "an external actor the directory knows asks as its guest")

	// A catalog made invisible to external users takes no new requests
	// from them, guests included, though its packages are published.
	files := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner files"}).ID
	filesPol := w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(files, ScopeAllExternalUsers, 10)}).ID
	w.do(ga, UpdateCatalog{CatalogID: w.id["C"], IsExternallyVisible: ptr(false)})
	_, err = w.try(lee, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPol})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(guest, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: files, AssignmentPolicyID: filesPol})
	requireKind(t, err, ErrForbidden)
	w.m.Read(func(s *State) {
		_, err := s.ResolveRequestLink(guest, "/access-packages/"+files)
		requireKind(t, err, ErrForbidden)
		for _, p := range s.AccessPackagesForRequestor(guest) {
			require.NotEqual(t, files, p.AccessPackage.ID)
		}
	})
	w.do(ga, UpdateCatalog{CatalogID: w.id["C"], IsExternallyVisible: ptr(true)})

	// A person whose request waits may cancel it.
	zed := ExternalActor("zed@fabrikam.com", "")
	zreq := w.do(zed, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol}).ID
	w.do(zed, CancelAssignmentRequest{RequestID: zreq})
	require.Equal(t, RequestStateCanceled, w.getRequest(zreq).State)

	// allExternalUsers: Lee, of an unknown organization, is approved at
	// once, and tailwind.io becomes a proposed connected organization,
	// once, however many of its people come.
	for _, email := range []string{"", "@tailwind.io", "lee@", "x@y@tailwind.io"} {
		_, err := w.try(ExternalActor(email, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPol})
		requireField(t, err, "requestor.email")
	}
	w.do(lee, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPol})
	w.do(ExternalActor("max@tailwind.io", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: other, AssignmentPolicyID: otherPol})
	leeUser, _ := w.guestOf("lee@tailwind.io")
	maxUser, _ := w.guestOf("max@tailwind.io")
	require.NotEmpty(t, leeUser.ConnectedOrganizationID)
	require.Equal(t, leeUser.ConnectedOrganizationID, maxUser.ConnectedOrganizationID)
	tailwind := leeUser.ConnectedOrganizationID

	// A policy for configured organizations only does not admit a
	// proposed one's users, until an administrator configures it.
	conf := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Configured partners"}).ID
	confPol := w.do(manager, CreateAssignmentPolicy{Policy: openPolicy(conf, ScopeAllConfiguredConnectedOrganizationUsers, 10)}).ID
	_, err = w.try(UserActor(leeUser.ID), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: conf, AssignmentPolicyID: confPol})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(ExternalActor("ann@tailwind.io", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: conf, AssignmentPolicyID: confPol})
	requireKind(t, err, ErrForbidden)

	// Administrator: view the connected organizations, proposed and
	// configured; configure the proposed one.
	var orgs []ConnectedOrganization
	w.m.Read(func(s *State) { orgs, _ = s.ListConnectedOrganizations(ga) })
	states := map[string]string{}
	for _, o := range orgs {
		states[o.DisplayName] = o.State
	}
	require.Equal(t, map[string]string{"Fabrikam": ConnectedOrganizationConfigured, "Tailspin": ConnectedOrganizationConfigured,
		"tailwind.io": ConnectedOrganizationProposed}, states)
	w.do(ga, UpdateConnectedOrganization{ConnectedOrganizationID: tailwind, State: ptr(ConnectedOrganizationConfigured)})
	w.do(UserActor(leeUser.ID), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: conf, AssignmentPolicyID: confPol})
	requireSameState(t, w.state(), w.replayed())
}

// TestExternalUserLifecycle: a governed guest who loses their last
// assignment is blocked and deleted as the settings in force then say; a
// new assignment before the deletion unblocks them; the directory changes
// go through the DirectoryDeliverer and their outcomes are recorded.
func TestExternalUserLifecycle(t *testing.T) {
	w, _ := accessWorld(t)
	dir := &fakeDirectory{}
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(5), Deliverer: dir,
		NewCommandID: func() string { w.n++; return "xcmd-" + itoa(w.n) }})
	require.NoError(t, err)
	w.m = m
	ga := w.actors["GA"]
	pkg, pol := w.partnerWiki()
	direct := w.do(ga, CreateAssignmentPolicy{Policy: directPolicy(pkg)}).ID
	ask := func(email string) string {
		return w.do(ExternalActor(email, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol}).ID
	}
	ask("kim@fabrikam.com")
	kim, _ := w.guestOf("kim@fabrikam.com")

	// Settings at the end of the assignment decide, even if ProcessDue
	// records the end later: they change after the end, before ProcessDue.
	end := w.clock.t.AddDate(0, 0, 10)
	w.clock.t = end.Add(time.Hour)
	w.do(ga, UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleBlockSignIn)})
	w.advance(0)
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.False(t, kim.AccountEnabled)
	require.Equal(t, end, *kim.Lifecycle.BlockedDateTime)
	require.Equal(t, end.AddDate(0, 0, 30), *kim.Lifecycle.DeletionDateTime, "the default settings stood when the assignment ended")
	require.Equal(t, []string{"blockSignIn " + kim.ID}, dir.calls)
	require.Empty(t, kim.Lifecycle.PendingChange)
	require.Equal(t, "delivered", kim.Lifecycle.LastChangeStatus)

	// Blocked, Kim cannot ask again; an administrator may assign her,
	// which unblocks her and cancels the deletion.
	_, err = w.try(ExternalActor("kim@fabrikam.com", ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol})
	requireKind(t, err, ErrForbidden)
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: direct, TargetID: kim.ID})
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.True(t, kim.AccountEnabled)
	require.Nil(t, kim.Lifecycle.DeletionDateTime)
	require.Equal(t, "unblockSignIn "+kim.ID, dir.calls[1])

	// Removed again under blockSignIn: blocked, never deleted.
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(kim.ID, pkg).ID})
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.False(t, kim.AccountEnabled)
	require.Nil(t, kim.Lifecycle.DeletionDateTime)
	w.advance(400 * 24 * time.Hour)
	kim, _ = w.guestOf("kim@fabrikam.com")
	require.Nil(t, kim.DeletedDateTime)

	// blockSignInAndDelete with zero days deletes at once; the directory's
	// failure is recorded with its reason.
	w.do(ga, UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleBlockSignInAndDelete),
		DurationUntilExternalUserDeletedAfterBlocked: ptr(MustParseDuration("PT0S"))})
	ask("ola@fabrikam.com")
	ola, _ := w.guestOf("ola@fabrikam.com")
	dir.fail = true
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(ola.ID, pkg).ID})
	w.m.Read(func(s *State) {
		u := at(&s.users, ola.ID)
		require.NotNil(t, u.DeletedDateTime)
		require.Equal(t, "failed", u.Lifecycle.LastChangeStatus)
		require.Equal(t, DirectoryChangeDelete, u.Lifecycle.LastChange)
		require.Contains(t, u.Lifecycle.LastChangeReason, "directory unavailable")
	})

	// Guests entitlement management does not govern are never touched.
	lou := nameID("user/lou")
	w.do(sys, PutUser{User: User{ID: lou, UserType: UserTypeGuest, DisplayName: "Lou", Mail: "lou@fabrikam.com", AccountEnabled: true,
		SubjectLifecycle: SubjectLifecycleNotGoverned}})
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkg, AssignmentPolicyID: direct, TargetID: lou})
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(lou, pkg).ID})
	louUser, _ := w.guestOf("lou@fabrikam.com")
	require.True(t, louUser.AccountEnabled)
	require.Nil(t, louUser.Lifecycle)
	requireSameState(t, w.state(), w.replayed())
}

// fakeDirectory is a Deliverer that also carries out directory changes,
// failing them when told.
type fakeDirectory struct {
	RecordOnlyDeliverer
	calls []string
	fail  bool
}

func (d *fakeDirectory) change(what, id string) error {
	d.calls = append(d.calls, what+" "+id)
	if d.fail {
		return fakeErr("directory unavailable")
	}
	return nil
}
func (d *fakeDirectory) BlockSignIn(_ context.Context, id string) error {
	return d.change(DirectoryChangeBlockSignIn, id)
}
func (d *fakeDirectory) UnblockSignIn(_ context.Context, id string) error {
	return d.change(DirectoryChangeUnblockSignIn, id)
}
func (d *fakeDirectory) DeleteUser(_ context.Context, id string) error {
	return d.change(DirectoryChangeDelete, id)
}

// autoHolderByID returns the user's live assignment of a package, by ids.
func (w *world) autoHolderByID(user, pkg string) *Assignment {
	w.t.Helper()
	var out *Assignment
	w.m.Read(func(s *State) {
		if id, ok := s.liveAssignmentOf(user, pkg); ok {
			out = at(&s.assignments, id).copy()
		}
	})
	require.NotNil(w.t, out, "no live assignment of %s for %s", pkg, user)
	return out
}

// TestOneProposedOrganizationUnderConcurrentApprovals: two managers on one
// log (two processes) approve, at the same time, two people of the same
// unknown domain; one proposed organization results, whichever decides
// second catching up on the first.
func TestOneProposedOrganizationUnderConcurrentApprovals(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pkg := w.do(ga, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	p := openPolicy(pkg, ScopeAllExternalUsers, 10)
	p.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []ApprovalStage{{
		DurationBeforeAutomaticDenial: DurationDays(7), PrimaryApprovers: []SubjectSet{{Kind: SingleUser, UserID: w.uid["bob"]}}}}}
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	var reqs []string
	for _, e := range []string{"lee@tailwind.io", "max@tailwind.io"} {
		reqs = append(reqs, w.do(ExternalActor(e, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: pol}).ID)
	}
	other, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, IDs: SeededIDs(99)})
	require.NoError(t, err)
	errs := make(chan error, 2)
	for i, m := range []*Manager{w.m, other} {
		r := w.getRequest(reqs[i])
		go func() {
			_, err := m.Execute(w.ctx, w.actors["bob"], UpdateApprovalStage{ApprovalID: r.ID, StageID: r.Stages[0].ID, ReviewResult: DecisionApprove})
			errs <- err
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	require.NoError(t, w.m.CatchUp(w.ctx))
	var proposed []string
	w.m.Read(func(s *State) {
		for _, o := range s.connectedOrganizations.All() {
			if o.State == ConnectedOrganizationProposed {
				proposed = append(proposed, o.DisplayName)
			}
		}
	})
	require.Equal(t, []string{"tailwind.io"}, proposed)
	lee, _ := w.guestOf("lee@tailwind.io")
	max, _ := w.guestOf("max@tailwind.io")
	require.Equal(t, lee.ConnectedOrganizationID, max.ConnectedOrganizationID)
}

// TestImmediateGuestDeletion: with no time between block and deletion, the
// removal that ends a governed guest's last assignment deletes the guest
// and is fulfilled, not canceled first (found by a review: it was
// canceled, then fulfilled, breaking invariant 27).
func TestImmediateGuestDeletion(t *testing.T) {
	w, _ := accessWorld(t)
	ga, manager := w.actors["GA"], w.actors["apManager"]
	w.do(ga, UpdateSettings{ExternalUserLifecycleAction: ptr(ExternalUserLifecycleBlockSignInAndDelete),
		DurationUntilExternalUserDeletedAfterBlocked: ptr(MustParseDuration("PT0S"))})
	pkg := w.do(manager, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: "Partner wiki"}).ID
	pol := openPolicy(pkg, ScopeAllExternalUsers, 10)
	pol.RequestorSettings.EnableTargetsToSelfRemoveAccess = true
	polID := w.do(manager, CreateAssignmentPolicy{Policy: pol}).ID
	for _, remover := range []string{"admin", "self"} {
		email := remover + "@fabrikam.com"
		w.do(ExternalActor(email, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: polID})
		guest, _ := w.guestOf(email)
		asg := w.autoHolderByID(guest.ID, pkg).ID
		pre := w.state()
		start, err := w.store.Head(w.ctx)
		require.NoError(t, err)
		var res Result
		if remover == "admin" {
			res = w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: asg})
		} else {
			res = w.do(UserActor(guest.ID), CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg})
		}
		checkTerminalEventByEvent(t, w.ctx, w.store, pre, start.Position)
		require.NotContains(t, eventTypes(res), EventAssignmentRequestCanceled, remover)
		require.Contains(t, eventTypes(res), EventGuestDeleted, remover)
		require.Equal(t, RequestStateDelivered, w.getRequest(res.ID).State, remover)
	}
}
