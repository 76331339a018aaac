package entitlement

import (
	"fmt"
	"testing"
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
