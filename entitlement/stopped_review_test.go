package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A review stopped early frees the next at the first occurrence after the
// stop, not after the stopped review's planned end.
func TestStoppedReviewFreesNextEarly(t *testing.T) {
	w, _ := accessWorld(t)
	ga := w.actors["GA"]
	p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewKeepAccess)
	pol := w.do(ga, CreateAssignmentPolicy{Policy: p}).ID
	w.id["Rev"] = pol
	w.request("alice", "P2", "Rev")
	w.advance(25 * time.Hour)
	first := w.reviews(pol)[0]
	require.Equal(t, ReviewStatusInProgress, first.Status)
	p.ReviewSettings.Schedule.StartDateTime = w.clock.t.Add(time.Hour)
	p.ReviewSettings.Schedule.Recurrence = PatternedRecurrence{Pattern: RecurrencePattern{Type: RecurrenceDaily, Interval: 1}}
	p.ReviewSettings.Schedule.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: MustParseDuration("PT12H")}
	w.do(ga, ReplaceAssignmentPolicy{PolicyID: pol, Policy: p})
	w.do(ga, StopAccessReview{AccessReviewID: first.ID})
	stopAt := w.clock.t
	w.advance(2 * time.Hour)
	revs := w.reviews(pol)
	require.Len(t, revs, 2, "the next starts an hour after the stop: %+v", revs)
	require.Equal(t, stopAt.Add(time.Hour), revs[1].StartDateTime)

	// Stopped at its very start: the next is the following occurrence.
	w.advance(23 * time.Hour) // exactly the third occurrence
	revs = w.reviews(pol)
	require.Len(t, revs, 3)
	require.Equal(t, w.clock.t, revs[2].StartDateTime)
	w.do(ga, StopAccessReview{AccessReviewID: revs[2].ID})
	w.advance(24 * time.Hour)
	revs = w.reviews(pol)
	require.Len(t, revs, 4, "%+v", revs)
	require.Equal(t, revs[2].StartDateTime.Add(24*time.Hour), revs[3].StartDateTime)
	requireSameState(t, w.state(), w.replayed())
}
