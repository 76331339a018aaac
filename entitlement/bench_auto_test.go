package entitlement

import (
	"fmt"
	"testing"
	"time"
)

// autoBenchState returns adminWorld's State with n more users, one in a
// hundred in Sales and the rest spread over 99 other departments.
func autoBenchState(b *testing.B, n int) (*State, *world) {
	w := adminWorld(b)
	s := w.state().Clone()
	for i := range n {
		id := nameID(fmt.Sprintf("user/bench-%d", i))
		d := fmt.Sprintf("Dept %d", i%100)
		if i%100 == 0 {
			d = "Sales"
		}
		if err := s.Apply(Event{Stream: userStream(id), Type: EventUserCreated,
			Data: &UserPayload{User: User{ID: id, UserType: UserTypeMember, Department: d, AccountEnabled: true}}}); err != nil {
			b.Fatal(err)
		}
	}
	return s, w
}

// BenchmarkAutomaticAssignment measures the work of automatic assignment
// at 1,000 and 100,000 users: creating a policy (every user evaluated
// once, one in a hundred assigned), and a user's attribute change with the
// policy in place, for an attribute the rule reads and for one it does
// not. Decide is pure, so these are the domain's costs without I/O.
func BenchmarkAutomaticAssignment(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		s, w := autoBenchState(b, n)
		iga := w.actors["IGA"]
		create := CreateAssignmentPolicy{Policy: salesPolicy(w.id["P3"], DurationDays(1))}
		b.Run(fmt.Sprintf("create-policy/users=%d", n), func(b *testing.B) {
			for b.Loop() {
				evs, err := Decide(s, iga, t0, SeededIDs(1), create)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(evs)), "events/op")
			}
		})
		d, err := decide(s, iga, t0, SeededIDs(1), create)
		if err != nil {
			b.Fatal(err)
		}
		with := d.state
		user := nameID("user/bench-0") // in Sales, assigned
		for _, attr := range []string{"department", "jobTitle"} {
			b.Run(fmt.Sprintf("change-%s/users=%d", attr, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := Decide(with, sys, t0, SeededIDs(1), SetUserAttribute{UserID: user, Name: attr, Value: "Legal"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLifecycleWorkflows measures lifecycle workflows at 1,000 and
// 100,000 users, one in a hundred in Sales with a hire date ahead:
// creating a joiner workflow (every user evaluated once, a run scheduled
// for each of them), one user's hire date moving (the run moves), and an
// attribute no workflow reads changing.
func BenchmarkLifecycleWorkflows(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		s, w := autoBenchState(b, n)
		hire := t0.AddDate(0, 0, 10)
		for i := 0; i < n; i += 100 {
			id := nameID(fmt.Sprintf("user/bench-%d", i))
			if err := s.Apply(Event{Stream: userStream(id), Type: EventUserAttributeChanged,
				Data: &UserAttributeChanged{UserID: id, Name: "employeeHireDate", NewValue: hire.Format(time.RFC3339)}}); err != nil {
				b.Fatal(err)
			}
		}
		pol, err := decide(s, sys, t0, SeededIDs(1), CreateAssignmentPolicy{Policy: directPolicy(w.id["P3"])})
		if err != nil {
			b.Fatal(err)
		}
		s = s.Clone()
		for _, e := range pol.events {
			if err := s.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
		create := CreateWorkflow{Workflow: joinerWorkflow(w.id["P3"], pol.id, 0)}
		b.Run(fmt.Sprintf("create-workflow/users=%d", n), func(b *testing.B) {
			for b.Loop() {
				evs, err := Decide(s, sys, t0, SeededIDs(1), create)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(evs)), "events/op")
			}
		})
		d, err := decide(s, sys, t0, SeededIDs(1), create)
		if err != nil {
			b.Fatal(err)
		}
		with := d.state
		user := nameID("user/bench-0")
		for _, c := range []SetUserAttribute{
			{UserID: user, Name: "employeeHireDate", Value: hire.AddDate(0, 0, 1).Format(time.RFC3339)},
			{UserID: user, Name: "jobTitle", Value: "Lead"},
		} {
			b.Run(fmt.Sprintf("change-%s/users=%d", c.Name, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := Decide(with, sys, t0, SeededIDs(1), c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
