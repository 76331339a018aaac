package entitlement

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestRecurrenceOccurrences(t *testing.T) {
	first := func(r PatternedRecurrence, start time.Time, n int) []string {
		var out []string
		for o := range r.occurrences(start) {
			out = append(out, o.Format("Mon 2006-01-02 15:04"))
			if len(out) == n {
				break
			}
		}
		return out
	}
	wed := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	require.Equal(t, []string{"Fri 2026-03-06 10:00", "Mon 2026-03-16 10:00", "Fri 2026-03-20 10:00", "Mon 2026-03-30 10:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceWeekly, Interval: 2, DaysOfWeek: []DayOfWeek{"monday", "friday"}}}, wed, 4))
	require.Equal(t, []string{"Sat 2026-01-31 08:00", "Thu 2026-04-30 08:00", "Fri 2026-07-31 08:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceAbsoluteMonthly, Interval: 3}}, time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC), 3))
	require.Equal(t, []string{"Fri 2026-03-27 10:00", "Fri 2026-04-24 10:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceRelativeMonthly, Interval: 1, Index: "last", DaysOfWeek: []DayOfWeek{"friday"}}}, wed, 2))
	require.Equal(t, []string{"Wed 2026-03-04 10:00", "Thu 2026-03-05 10:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceDaily, Interval: 1}, Range: RecurrenceRange{Type: RangeNumbered, NumberOfOccurrences: 2}}, wed, 10))
	require.Equal(t, []string{"Wed 2026-03-04 10:00", "Wed 2026-03-11 10:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceDaily, Interval: 7}, Range: RecurrenceRange{Type: RangeEndDate, EndDate: "2026-03-17"}}, wed, 10))
	require.Equal(t, []string{"Mon 2027-02-01 10:00"},
		first(PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceRelativeYearly, Interval: 1, Month: 2, Index: "first", DaysOfWeek: []DayOfWeek{"monday"}}}, wed, 1))
}

// reviewedPolicy is Pol2 of accessWorld (P2, open to members) with
// weekly reviews by the user's manager (fallback carol), each open three
// days, starting a day after t0.
func reviewedPolicy(pkg, fallback string, behavior ReviewExpirationBehavior) AssignmentPolicy {
	p := requestPolicy(pkg, "Reviewed")
	p.ReviewSettings = ReviewSettings{IsEnabled: true, ExpirationBehavior: behavior, IsRecommendationEnabled: true,
		Schedule: EntitlementManagementSchedule{StartDateTime: t0.Add(24 * time.Hour),
			Expiration: ExpirationPattern{Type: ExpirationAfterDuration, Duration: DurationDays(3)},
			Recurrence: PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceWeekly, Interval: 1}}},
		PrimaryReviewers:  []SubjectSet{{Kind: RequestorManager, ManagerLevel: 1}},
		FallbackReviewers: []SubjectSet{{Kind: SingleUser, UserID: fallback}},
	}
	return p
}

func (w *world) reviews(policyID string) []AccessReview {
	w.t.Helper()
	var out []AccessReview
	w.m.Read(func(s *State) {
		var err error
		out, err = s.AccessReviewsOfPolicy(SystemActor(), policyID)
		require.NoError(w.t, err)
	})
	return out
}

// TestAccessReviewOfAssignments: reviews start on schedule with one item
// per assignment, managers (or the fallback) decide, the last decision
// counts, a deny takes effect only when the review closes, and nobody's
// decision under removeAccess removes too.
func TestAccessReviewOfAssignments(t *testing.T) {
	w, fd := accessWorld(t)
	ga := w.actors["GA"]
	pol := w.do(ga, CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)}).ID
	w.id["Rev"] = pol
	for _, n := range []string{"alice", "erin", "frank"} {
		w.request(n, "P2", "Rev")
	}
	require.Empty(t, w.reviews(pol))
	w.advance(24 * time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	rev := revs[0]
	require.Equal(t, t0.Add(24*time.Hour), rev.StartDateTime)
	require.Equal(t, t0.Add(4*24*time.Hour), rev.EndDateTime)
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(ga, rev.ID) })
	require.Len(t, items, 3)
	byUser := map[string]ReviewDecisionItem{}
	for _, it := range items {
		byUser[it.PrincipalID] = it
		require.Equal(t, "NotAvailable", it.Recommendation)
		require.Equal(t, ApplyResultNew, it.ApplyResult, "Graph's applyResult until applied")
	}
	require.Equal(t, []string{w.uid["bob"]}, byUser[w.uid["alice"]].Reviewers, "alice's manager")
	require.Equal(t, []string{w.uid["carol"]}, byUser[w.uid["frank"]].Reviewers, "frank has no manager: the fallback")
	var mine []ReviewDecisionItem
	w.m.Read(func(s *State) { mine = s.MyPendingReviews(w.actors["bob"]) })
	require.Len(t, mine, 2)

	decide := func(who, user, d string) error {
		_, err := w.try(w.actors[who], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: byUser[w.uid[user]].AssignmentID, Decision: d})
		return err
	}
	requireKind(t, decide("carol", "alice", ReviewDecisionDeny), ErrForbidden)
	require.NoError(t, decide("bob", "alice", ReviewDecisionDeny))
	require.NoError(t, decide("bob", "alice", ReviewDecisionApprove)) // changed: the last counts
	require.NoError(t, decide("bob", "erin", ReviewDecisionDeny))
	requireKind(t, decide("bob", "erin", "Maybe"), ErrInvalid)
	w.advance(48 * time.Hour)
	require.NotNil(t, w.autoHolderByID(w.uid["erin"], w.id["P2"]), "a deny waits for the review to close")

	w.advance(24 * time.Hour)
	rev = w.reviews(pol)[0]
	require.Equal(t, ReviewStatusApplied, rev.Status)
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(ga, rev.ID) })
	for _, it := range items {
		switch it.PrincipalID {
		case w.uid["alice"]:
			require.Equal(t, ReviewDecisionApprove, it.Decision)
			require.Empty(t, it.RemovalRequestID)
		case w.uid["erin"]:
			require.Equal(t, ReviewDecisionDeny, it.Decision)
			require.Equal(t, RequestTypeSystemRemove, w.getRequest(it.RemovalRequestID).RequestType)
		case w.uid["frank"]:
			require.Equal(t, ReviewDecisionNotReviewed, it.Decision)
			require.NotEmpty(t, it.RemovalRequestID, "removeAccess for nobody's decision")
			require.Contains(t, w.getRequest(it.RemovalRequestID).Justification, "Not reviewed")
		}
		require.Equal(t, ApplyResultAppliedSuccessfully, it.ApplyResult)
	}
	w.autoHolderByID(w.uid["alice"], w.id["P2"])
	require.Empty(t, fd.heldBy(w.uid["erin"]))
	requireKind(t, decide("bob", "alice", ReviewDecisionDeny), ErrConflict)

	// The next review starts a week after the first; an owner may stop it
	// early, which applies it at once.
	w.advance(4 * 24 * time.Hour)
	revs = w.reviews(pol)
	require.Len(t, revs, 2)
	require.Equal(t, t0.Add(8*24*time.Hour), revs[1].StartDateTime)
	_, err := w.try(w.actors["plain"], StopAccessReview{AccessReviewID: revs[1].ID})
	requireKind(t, err, ErrForbidden)
	w.do(w.actors["owner"], StopAccessReview{AccessReviewID: revs[1].ID})
	require.True(t, w.reviews(pol)[1].Stopped)
	_, ok := w.state().liveAssignmentOf(w.uid["alice"], w.id["P2"])
	require.False(t, ok, "nobody decided alice's second review: removeAccess")
	requireSameState(t, w.state(), w.replayed())
}

// TestPropertyReviewDecisions (invariant 43): under random decisions by
// random people, changes of mind, clock advances and early stops, a deny
// ends an assignment only when the review's results are applied, the last
// decision of a reviewer counts, DontKnow and Approve keep access, and
// nobody's decision follows expirationBehavior.
func TestPropertyReviewDecisions(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w, _ := accessWorld(t) // the fixture, built with t: its failures are not the property's
		ga := w.actors["GA"]
		behavior := rapid.SampledFrom([]ReviewExpirationBehavior{ReviewKeepAccess, ReviewRemoveAccess, ReviewAcceptAccessRecommendation}).Draw(rt, "behavior")
		r, err := w.m.Execute(w.ctx, ga, CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], behavior)})
		require.NoError(rt, err)
		pol := r.ID
		people := []string{"alice", "bob", "carol", "erin", "frank"}
		for _, n := range people {
			_, err := w.m.Execute(w.ctx, w.actors[n], CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: pol})
			require.NoError(rt, err)
		}
		last := map[string]string{} // review item key -> the last decision accepted
		for step := range rapid.IntRange(1, 40).Draw(rt, "steps") {
			s := w.state()
			switch k := rapid.IntRange(0, 9).Draw(rt, "kind"); {
			case k <= 5:
				var open []*ReviewDecisionItem
				for _, it := range s.reviewItems.All() {
					if rv, _ := s.reviews.Get(it.AccessReviewID); rv.Status == ReviewStatusInProgress {
						open = append(open, it)
					}
				}
				if len(open) == 0 {
					break
				}
				it := open[rapid.IntRange(0, len(open)-1).Draw(rt, "item")]
				who := rapid.SampledFrom(people).Draw(rt, "reviewer")
				d := rapid.SampledFrom([]string{ReviewDecisionApprove, ReviewDecisionDeny, ReviewDecisionDontKnow}).Draw(rt, "decision")
				_, err := w.m.Execute(w.ctx, w.actors[who], RecordReviewDecision{AccessReviewID: it.AccessReviewID, AssignmentID: it.AssignmentID, Decision: d})
				if slices.Contains(it.Reviewers, w.uid[who]) {
					require.NoError(rt, err, "step %d: a reviewer decides", step)
					last[reviewItemKey(it.AccessReviewID, it.AssignmentID)] = d
				} else {
					require.ErrorIs(rt, err, ErrForbidden, "step %d: only reviewers decide", step)
				}
			case k == 6:
				for id, rv := range s.reviews.All() {
					if rv.Status == ReviewStatusInProgress {
						_, err := w.m.Execute(w.ctx, ga, StopAccessReview{AccessReviewID: id})
						require.NoError(rt, err)
						break
					}
				}
			default:
				w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(0, 48).Draw(rt, "hours")) * time.Hour)
			}
			_, err := w.m.ProcessDue(w.ctx, w.clock.t)
			require.NoError(rt, err)

			s = w.state()
			require.NoError(rt, checkInvariants(s), "step %d", step)
			require.NoError(rt, checkAccessInvariants(s, w.clock.t), "step %d", step)
			for key, it := range s.reviewItems.All() {
				rv, _ := s.reviews.Get(it.AccessReviewID)
				want := last[key]
				if want == "" {
					want = ReviewDecisionNotReviewed
				}
				require.Equal(rt, want, it.Decision, "step %d: the last decision counts", step)
				a, _ := s.assignments.Get(it.AssignmentID)
				removedByReview := a.IsEnded() && it.RemovalRequestID != ""
				if rv.Status == ReviewStatusInProgress {
					require.False(rt, a.IsEnded(), "step %d: an assignment under review ended before the review closed", step)
					require.Empty(t, it.ApplyResult)
					continue
				}
				remove := want == ReviewDecisionDeny || want == ReviewDecisionNotReviewed && behavior == ReviewRemoveAccess
				if it.ApplyResult == ApplyResultAppliedSuccessfully {
					require.Equal(rt, remove, removedByReview, "step %d: %s under %s", step, want, behavior)
					if remove {
						require.Equal(rt, *rv.AppliedDateTime, *a.ExpiredDateTime, "step %d: removed when the results were applied", step)
					}
				}
			}
		}
		requireSameState(rt, w.state(), w.replayed())
	})
}

// TestReviewerListsOnce: a group of reviewers is listed once in the
// review, and every item names the list; the State's reads fill each
// item's reviewers in; the log's event, rewritten as schema version 1
// wrote it (each item listing its reviewers), replays into the same state.
func TestReviewerListsOnce(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	panel := nameID("group/panel")
	w.do(sys, PutGroup{Group: Group{ID: panel, DisplayName: "Review panel", SecurityEnabled: true}})
	for _, n := range []string{"bob", "carol"} {
		w.do(sys, AddGroupMember{GroupID: panel, MemberID: w.uid[n]})
	}
	p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)
	p.ReviewSettings.PrimaryReviewers = []SubjectSet{{Kind: GroupMembers, GroupID: panel}}
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	for _, n := range []string{"alice", "erin", "frank"} {
		w.request(n, "P2", "Rev")
	}
	w.advance(24 * time.Hour)
	rev := w.reviews(pol)[0]
	panelists := []string{w.uid["bob"], w.uid["carol"]}
	slices.Sort(panelists)
	require.Equal(t, [][]string{panelists}, rev.ReviewerSets)

	var items, mine []ReviewDecisionItem
	w.m.Read(func(s *State) {
		items, _ = s.ReviewDecisionItems(ga, rev.ID)
		mine = s.MyPendingReviews(w.actors["bob"])
	})
	require.Len(t, items, 3)
	for _, it := range items {
		require.Equal(t, 1, it.ReviewerSet)
		require.Equal(t, panelists, it.Reviewers)
	}
	require.Equal(t, items, mine)
	// What reads return is the caller's: changing it changes no other item.
	items[0].Reviewers[0], mine[1].Reviewers[1] = "someone else", "someone else"
	w.m.Read(func(s *State) {
		again, _ := s.ReviewDecisionItems(ga, rev.ID)
		for _, it := range again {
			require.Equal(t, panelists, it.Reviewers)
		}
		require.Equal(t, [][]string{panelists}, w.reviews(pol)[0].ReviewerSets)
	})
	items[0].Reviewers, mine[1].Reviewers = slices.Clone(panelists), slices.Clone(panelists)

	// The event lists the panel once; as version 1 wrote it, each item
	// listed it, and it replays the same.
	var started *AccessReviewStarted
	var v1 []Event
	for e, err := range w.store.ReadAll(w.ctx, 0) {
		require.NoError(t, err)
		de, err := DecodeEvent(e)
		require.NoError(t, err)
		if d, ok := de.Data.(*AccessReviewStarted); ok {
			require.Equal(t, 2, e.SchemaVersion)
			started = d
			old := &AccessReviewStarted{Review: d.Review, Items: slices.Clone(d.Items)}
			old.Review.ReviewerSets = nil
			for i := range old.Items {
				require.Empty(t, old.Items[i].Reviewers, "the event lists reviewers per item")
				old.Items[i].Reviewers, old.Items[i].ReviewerSet = panelists, 0
			}
			de.Data = old
		}
		v1 = append(v1, de)
	}
	require.NotNil(t, started)
	require.Equal(t, [][]string{panelists}, started.Review.ReviewerSets)
	s := NewState()
	for _, e := range v1 {
		require.NoError(t, s.Apply(e))
	}
	requireSameState(t, w.state(), s)
	requireConsistentIndexes(t, s)

	// A manager started from a snapshot has the same reviewers.
	snap := filepath.Join(t.TempDir(), "snapshot")
	_, err := w.m.WriteSnapshot(w.ctx, snap)
	require.NoError(t, err)
	restarted, err := NewManager(w.ctx, w.store, Options{Clock: w.clock, SnapshotPath: snap})
	require.NoError(t, err)
	require.NotZero(t, restarted.Started().Snapshot.Position)
	written, err := os.ReadFile(snap)
	require.NoError(t, err)
	require.NotContains(t, string(written), `"reviewers"`, "the snapshot lists reviewers per item")
	restarted.Read(func(s *State) {
		again, err := s.ReviewDecisionItems(ga, rev.ID)
		require.NoError(t, err)
		require.Equal(t, items, again)
		require.Equal(t, items, s.MyPendingReviews(w.actors["carol"]))
	})

	// Deciding still takes a reviewer of the item.
	_, err = w.try(w.actors["erin"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: items[0].AssignmentID, Decision: ReviewDecisionDeny})
	requireKind(t, err, ErrForbidden)
	w.do(w.actors["carol"], RecordReviewDecision{AccessReviewID: rev.ID, AssignmentID: items[0].AssignmentID, Decision: ReviewDecisionDeny})
	requireSameState(t, w.state(), w.replayed())
}

// TestReviewDueWorkBeforeCommands (found by a review as a new user): what
// a review covers does not depend on how lately ProcessDue ran. A command
// that changes what a due review covers records the review first, as of
// its start: an assignment removed after the start is reviewed, one made
// after it is not, and a policy edited after it does not skip it. A review
// whose end has passed can no longer be stopped.
func TestReviewDueWorkBeforeCommands(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	reviewed := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	pol := w.do(ga, CreateAssignmentPolicy{Policy: reviewed}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.request("erin", "P2", "Rev")
	start := t0.Add(24 * time.Hour)

	// Two days on, no ProcessDue: erin is removed, frank is assigned.
	w.clock.t = t0.Add(48 * time.Hour)
	w.do(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: w.autoHolderByID(w.uid["erin"], w.id["P2"]).ID})
	w.request("frank", "P2", "Rev")
	revs := w.reviews(pol)
	require.Len(t, revs, 1)
	require.Equal(t, start, revs[0].StartDateTime)
	var items []ReviewDecisionItem
	w.m.Read(func(s *State) { items, _ = s.ReviewDecisionItems(ga, revs[0].ID) })
	var reviewed2 []string
	for _, it := range items {
		reviewed2 = append(reviewed2, it.PrincipalID)
	}
	require.ElementsMatch(t, []string{w.uid["alice"], w.uid["erin"]}, reviewed2)

	// Past its end, no ProcessDue: stopping it is a conflict, and a policy
	// edit records its results first, as of its end, then the next review
	// when it falls due.
	w.clock.t = start.Add(8 * 24 * time.Hour)
	head := w.m.Head()
	_, err := w.try(ga, StopAccessReview{AccessReviewID: revs[0].ID})
	requireKind(t, err, ErrConflict)
	require.Equal(t, head, w.m.Head())
	reviewed.Description = "edited"
	w.do(ga, ReplaceAssignmentPolicy{PolicyID: pol, Policy: reviewed})
	revs = w.reviews(pol)
	require.Len(t, revs, 2)
	require.Equal(t, ReviewStatusApplied, revs[0].Status)
	require.Equal(t, start.Add(3*24*time.Hour), *revs[0].AppliedDateTime)
	require.Equal(t, start.Add(7*24*time.Hour), revs[1].StartDateTime)
	require.Equal(t, 2, revs[1].Occurrence)
	requireSameState(t, w.state(), w.replayed())
}

// TestDueReviewThenRemoval (found by a code review): a review that
// removes access has ended, unrecorded, when an administrator removes an
// assignment it covers: its results, recorded first, end the assignment,
// once, and the removal then finds it ended.
func TestDueReviewThenRemoval(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	pol := w.do(ga, CreateAssignmentPolicy{Policy: reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	a := w.autoHolderByID(w.uid["alice"], w.id["P2"])
	w.advance(24 * time.Hour) // the review starts; nobody decides
	w.clock.t = w.clock.t.Add(5 * 24 * time.Hour)
	_, err := w.try(ga, CreateAssignmentRequest{RequestType: RequestTypeAdminRemove, AssignmentID: a.ID})
	requireKind(t, err, ErrConflict) // the review's results ended it first
	w.advance(0)
	expired := 0
	for e, err := range w.store.ReadAll(w.ctx, 0) {
		require.NoError(t, err)
		if e.Type == EventAssignmentExpired && strings.Contains(string(e.Payload), a.ID) {
			expired++
		}
	}
	require.Equal(t, 1, expired)
	require.Equal(t, t0.Add(4*24*time.Hour), *w.getAssignment(a.ID).ExpiredDateTime, "at the review's end")
}
