package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Found by a review of access reviews: replacing a policy while one of
// its reviews was open (a new schedule, or the same moved) started a
// second review of the same assignments before the first closed. One
// review of a policy is open at a time: the next starts once the open
// one has closed, or once it is stopped.
func TestOneReviewOpenAcrossAnEdit(t *testing.T) {
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
	open := func() (n int) {
		for _, r := range w.reviews(pol) {
			if r.Status == ReviewStatusInProgress {
				n++
			}
		}
		return n
	}
	for range 8 {
		w.advance(12 * time.Hour)
		require.LessOrEqual(t, open(), 1, "%+v", w.reviews(pol))
	}
	revs := w.reviews(pol)
	require.Greater(t, len(revs), 1, "the new schedule's reviews start once the first closed")
	for _, r := range revs {
		if r.ID != first.ID {
			require.False(t, r.StartDateTime.Before(first.EndDateTime), "%+v starts before %+v ends", r, first)
		}
	}

	// Stopped, an open review no longer holds the next back.
	w.advance(2 * time.Hour)
	last := w.reviews(pol)[len(w.reviews(pol))-1]
	if last.Status == ReviewStatusInProgress {
		w.do(ga, StopAccessReview{AccessReviewID: last.ID})
	}
	n := len(w.reviews(pol))
	w.advance(24 * time.Hour)
	require.Greater(t, len(w.reviews(pol)), n)
	requireSameState(t, w.state(), w.replayed())
}
