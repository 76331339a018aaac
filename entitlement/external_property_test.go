package entitlement

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPropertyExternalUsers: under random requests from people outside
// the organization (of a configured connected organization and of
// unknown ones), approvals, removals, direct assignments, expiries,
// settings changes, organizations configured and clock advances:
//   - invariant 38/39: a governed guest with no assignment is untouched,
//     blocked, or blocked and then deleted, exactly as the settings in
//     force when they lost their last assignment said, and one with an
//     assignment is neither;
//   - invariant 40: a blocked guest's requests are refused;
//   - invariant 41: exactly one proposed organization per unknown domain
//     whose people were approved, none for others, and a policy for
//     configured organizations never admits the users of a proposed one;
//
// the invariants hold after every step; replay gives the same State.
func TestPropertyExternalUsers(t *testing.T) {
	emails := []string{"kim@fabrikam.com", "ola@fabrikam.com", "lee@tailwind.io", "max@tailwind.io", "ann@tailwind.io",
		"bo@contoso.org", "cy@contoso.org"}
	rapid.Check(t, func(rt *rapid.T) {
		w, _ := accessWorld(t) // the fixture, built with t: its failures are not the property's
		ga, sponsor := w.actors["GA"], w.actors["sponsor"]
		try := func(a Actor, c Command) (Result, error) { return w.m.Execute(w.ctx, a, c) }
		do := func(a Actor, c Command) Result {
			r, err := try(a, c)
			require.NoError(rt, err, "%s", CommandName(c))
			return r
		}
		days := rapid.IntRange(1, 3).Draw(rt, "days")
		pkgs := map[string]string{}
		for _, n := range []string{"ext", "conf", "spec", "direct"} {
			pkgs[n] = do(ga, CreateAccessPackage{CatalogID: w.id["C"], DisplayName: n}).ID
		}
		// Requests under allExternalUsers wait for the sponsor's approval
		// in some runs, so that people of an unknown domain are pending at
		// the same time.
		extPolicy := openPolicy(pkgs["ext"], ScopeAllExternalUsers, days)
		if rapid.Bool().Draw(rt, "extApproval") {
			extPolicy.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []ApprovalStage{{
				DurationBeforeAutomaticDenial: DurationDays(7),
				PrimaryApprovers:              []SubjectSet{{Kind: SingleUser, UserID: w.uid["sponsor"]}},
			}}}
		}
		pols := map[string]string{
			"ext":    do(ga, CreateAssignmentPolicy{Policy: extPolicy}).ID,
			"conf":   do(ga, CreateAssignmentPolicy{Policy: openPolicy(pkgs["conf"], ScopeAllConfiguredConnectedOrganizationUsers, days)}).ID,
			"spec":   do(ga, CreateAssignmentPolicy{Policy: partnerPolicy(pkgs["spec"], days, w.id["O1"])}).ID,
			"direct": do(ga, CreateAssignmentPolicy{Policy: directPolicy(pkgs["direct"])}).ID,
		}
		// current are the settings in force; lossSettings, those in force
		// in the step each governed guest lost their last assignment (a
		// step that changes the settings ends no assignment).
		current := DefaultSettings()
		lossSettings := map[string]Settings{}
		hadLive := map[string]bool{}

		for step := range rapid.IntRange(1, 40).Draw(rt, "steps") {
			s := w.state()
			start, err := w.store.Head(w.ctx)
			require.NoError(rt, err)
			switch k := rapid.IntRange(0, 9).Draw(rt, "kind"); {
			case k <= 2:
				email := rapid.SampledFrom(emails).Draw(rt, "email")
				which := rapid.SampledFrom([]string{"ext", "conf", "spec"}).Draw(rt, "package")
				_, err := try(ExternalActor(email, ""), CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
					AccessPackageID: pkgs[which], AssignmentPolicyID: pols[which]})
				var guest *User
				guest, _ = userByMail(s, email)
				if guest != nil && guest.DeletedDateTime == nil && !guest.AccountEnabled {
					require.ErrorIs(rt, err, ErrForbidden, "step %d: invariant 40: %s is blocked", step, email)
				}
				if which == "conf" {
					org, _ := s.organizationOf(email, "")
					if guest != nil && guest.DeletedDateTime == nil {
						org = guest.ConnectedOrganizationID
					}
					o, ok := s.connectedOrganizations.Get(org)
					if !ok || o.State != ConnectedOrganizationConfigured {
						require.ErrorIs(rt, err, ErrForbidden, "step %d: invariant 41: configured-only policy and %s", step, email)
					}
				}
				if err != nil {
					var e *Error
					require.True(rt, errors.As(err, &e), "untyped error %v", err)
				}
			case k == 3:
				if ps := s.ApprovalsForApprover(sponsor); len(ps) > 0 {
					pa := ps[rapid.IntRange(0, len(ps)-1).Draw(rt, "approval")]
					do(sponsor, UpdateApprovalStage{ApprovalID: pa.Request.ID, StageID: pa.Stage.ID,
						ReviewResult: rapid.SampledFrom([]string{DecisionApprove, DecisionDeny}).Draw(rt, "decision")})
				}
			case k == 4:
				var live []string
				for id, a := range s.assignments.All() {
					if u, ok := s.users.Get(a.TargetID); ok && u.IsGuest() && !a.IsEnded() && a.State != AssignmentStateDelivering {
						live = append(live, id)
					}
				}
				if len(live) > 0 {
					slices.Sort(live)
					do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: rapid.SampledFrom(live).Draw(rt, "assignment")})
				}
			case k == 5:
				var guests []string
				for id, u := range s.users.All() {
					if u.isGoverned() {
						guests = append(guests, id)
					}
				}
				if len(guests) > 0 {
					slices.Sort(guests)
					g := rapid.SampledFrom(guests).Draw(rt, "guest")
					_, err := try(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminAdd, AccessPackageID: pkgs["direct"],
						AssignmentPolicyID: pols["direct"], TargetID: g})
					if err != nil {
						require.ErrorIs(rt, err, ErrConflict, "step %d: an administrator assigns a governed guest, blocked or not", step)
					}
				}
			case k == 6:
				st := Settings{
					ExternalUserLifecycleAction: rapid.SampledFrom([]string{ExternalUserLifecycleNone, ExternalUserLifecycleBlockSignIn,
						ExternalUserLifecycleBlockSignInAndDelete}).Draw(rt, "action"),
					DurationUntilExternalUserDeletedAfterBlocked: rapid.SampledFrom([]Duration{MustParseDuration("PT0S"), DurationDays(1), DurationDays(3)}).Draw(rt, "deleteAfter"),
				}
				do(ga, UpdateSettings{ExternalUserLifecycleAction: &st.ExternalUserLifecycleAction,
					DurationUntilExternalUserDeletedAfterBlocked: &st.DurationUntilExternalUserDeletedAfterBlocked})
				current = st
			case k == 7:
				for id, o := range s.connectedOrganizations.All() {
					if o.State == ConnectedOrganizationProposed && rapid.Bool().Draw(rt, "configure") {
						do(ga, UpdateConnectedOrganization{ConnectedOrganizationID: id, State: ptr(ConnectedOrganizationConfigured)})
						break
					}
				}
			default:
				w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(0, 96).Draw(rt, "hours")) * time.Hour)
			}
			_, err = w.m.ProcessDue(w.ctx, w.clock.t)
			require.NoError(rt, err)

			checkTerminalEventByEvent(rt, w.ctx, w.store, s, start.Position)
			s = w.state()
			now := w.clock.t
			require.NoError(rt, checkInvariants(s), "step %d", step)
			require.NoError(rt, checkAccessInvariants(s, w.clock.t), "step %d", step)
			// Invariant 41: one organization per domain, proposed only for
			// domains whose people were approved.
			domains := map[string]int{}
			for _, o := range s.connectedOrganizations.All() {
				for _, k := range identityKeys(o) {
					domains[k]++
				}
			}
			for k, n := range domains {
				require.Equal(rt, 1, n, "step %d: %d organizations for %s", step, n, k)
			}
			for _, o := range s.connectedOrganizations.All() {
				if o.State != ConnectedOrganizationProposed {
					continue
				}
				found := false
				for _, u := range s.users.All() {
					found = found || u.ConnectedOrganizationID == o.ID && strings.HasSuffix(u.Mail, "@"+o.DisplayName)
				}
				require.True(rt, found, "step %d: proposed organization %s without an approved user", step, o.DisplayName)
			}
			// Invariants 38 and 39.
			for _, u := range s.users.All() {
				if !u.IsGuest() || u.SubjectLifecycle != SubjectLifecycleGoverned {
					continue
				}
				live, lost := 0, time.Time{}
				for id := range s.ix.assignmentsByTarget.Members(u.ID) {
					a, _ := s.assignments.Get(id)
					if !a.IsEnded() {
						live++
					} else if a.ExpiredDateTime.After(lost) {
						lost = *a.ExpiredDateTime
					}
				}
				had, seen := hadLive[u.ID]
				hadLive[u.ID] = live > 0
				if live > 0 {
					require.True(rt, u.AccountEnabled, "step %d: %s has an assignment yet is blocked", step, u.Mail)
					require.Nil(rt, u.DeletedDateTime)
					require.True(rt, u.Lifecycle == nil || u.Lifecycle.BlockedDateTime == nil && u.Lifecycle.DeletionDateTime == nil)
					continue
				}
				require.False(rt, lost.IsZero(), "step %d: governed guest %s never had an assignment", step, u.Mail)
				if !seen || had {
					lossSettings[u.ID] = current
				}
				st := lossSettings[u.ID]
				switch st.ExternalUserLifecycleAction {
				case ExternalUserLifecycleNone:
					require.True(rt, u.AccountEnabled, "step %d: %s, action none", step, u.Mail)
					require.Nil(rt, u.DeletedDateTime)
				case ExternalUserLifecycleBlockSignIn:
					require.False(rt, u.AccountEnabled, "step %d: %s, action blockSignIn", step, u.Mail)
					require.Equal(rt, lost, *u.Lifecycle.BlockedDateTime)
					require.Nil(rt, u.Lifecycle.DeletionDateTime)
					require.Nil(rt, u.DeletedDateTime)
				default:
					del := st.DurationUntilExternalUserDeletedAfterBlocked.AddTo(lost)
					require.False(rt, u.AccountEnabled, "step %d: %s, action blockSignInAndDelete", step, u.Mail)
					require.Equal(rt, lost, *u.Lifecycle.BlockedDateTime)
					if del.After(now) {
						require.Nil(rt, u.DeletedDateTime, "step %d: %s deleted before %s", step, u.Mail, del)
						require.Equal(rt, del, *u.Lifecycle.DeletionDateTime)
					} else {
						require.NotNil(rt, u.DeletedDateTime, "step %d: %s not deleted at %s", step, u.Mail, del)
						require.Equal(rt, del, *u.DeletedDateTime)
					}
				}
			}
		}
		requireSameState(rt, w.state(), w.replayed())
	})
}
