package entitlement

import (
	"fmt"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
)

// BenchmarkRequestLifecycle measures a userAdd through a policy without
// approval, delivered by the record-only path, and its removal, in a
// tenant that already holds n assignments: the cost of deciding against a
// copy of the state grows with it.
func BenchmarkRequestLifecycle(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("assignments=%d", n), func(b *testing.B) {
			w, _ := accessWorld(b)
			for i := range n {
				u := w.user(fmt.Sprintf("bench%d", i))
				w.do(u, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]})
			}
			alice := w.actors["alice"]
			b.ResetTimer()
			for range b.N {
				r, err := w.m.Execute(w.ctx, alice, CreateAssignmentRequest{RequestType: RequestTypeUserAdd,
					AccessPackageID: w.id["P2"], AssignmentPolicyID: w.id["Pol2"]})
				if err != nil {
					b.Fatal(err)
				}
				var asg string
				w.m.Read(func(s *State) { asg = at(&s.requests, r.ID).AssignmentID })
				if _, err := w.m.Execute(w.ctx, alice, CreateAssignmentRequest{RequestType: RequestTypeUserRemove, AssignmentID: asg}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStartReview measures deciding the start of a review of n
// assignments whose reviewers are a group of g users, and reports the
// size of the accessReviewStarted event.
func BenchmarkStartReview(b *testing.B) {
	for _, c := range []struct{ n, g int }{{1000, 10}, {1000, 200}} {
		b.Run(fmt.Sprintf("assignments=%d/reviewers=%d", c.n, c.g), func(b *testing.B) {
			w, _ := accessWorld(b)
			panel := nameID("group/panel")
			w.do(sys, PutGroup{Group: Group{ID: panel, DisplayName: "Review panel", SecurityEnabled: true}})
			for i := range c.g {
				w.user(fmt.Sprintf("reviewer%d", i))
				w.do(sys, AddGroupMember{GroupID: panel, MemberID: w.uid[fmt.Sprintf("reviewer%d", i)]})
			}
			p := reviewedPolicy(w.id["P2"], w.uid["carol"], ReviewRemoveAccess)
			p.ReviewSettings.PrimaryReviewers = []SubjectSet{{Kind: GroupMembers, GroupID: panel}}
			pol := w.do(w.actors["GA"], CreateAssignmentPolicy{Policy: p}).ID
			for i := range c.n {
				u := w.user(fmt.Sprintf("bench%d", i))
				w.do(u, CreateAssignmentRequest{RequestType: RequestTypeUserAdd, AccessPackageID: w.id["P2"], AssignmentPolicyID: pol})
			}
			s := w.state()
			start := t0.Add(24 * time.Hour)
			var size int
			for b.Loop() {
				pl := newPlan(s.Clone(), SeededIDs(7), start)
				pl.startReview(pol)
				d, err := pl.decision(pol)
				if err != nil || len(d.events) != 1 {
					b.Fatalf("%v, %d events", err, len(d.events))
				}
				ne, err := d.events[0].encode(start, eventstore.Metadata{})
				if err != nil {
					b.Fatal(err)
				}
				size = len(ne.Payload)
			}
			b.ReportMetric(float64(size), "event-bytes")
		})
	}
}
