package entitlement

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// autoModel is what automatic assignment should do, kept without events:
// per user, whether they hold the package and when their removal is due.
type autoModel struct {
	rule    []string // the departments the rule matches
	removes bool
	grace   time.Duration
	holds   map[string]bool
	removal map[string]time.Time
	ended   map[string]time.Time // when the last removal took effect
}

// TestPropertyAutomaticAssignmentConverges: under random attribute
// changes, users created, blocked, unblocked and deleted, policy edits and
// clock advances, a user holds the package through the automatic policy if
// and only if they match (and could be assigned) or are within the grace
// period since they stopped matching; a removal takes effect at the end of
// the grace period in force when they left, however late ProcessDue runs;
// the invariants hold after every step; and replaying the log gives the
// same State.
func TestPropertyAutomaticAssignmentConverges(t *testing.T) {
	depts := []string{"Sales", "Marketing", "Legal", ""}
	graces := []Duration{{}, MustParseDuration("PT1H"), DurationDays(2)}
	rapid.Check(t, func(rt *rapid.T) {
		w, _ := autoWorld(t) // the fixture, built with t: its failures are not the property's
		iga := w.actors["IGA"]
		do := func(a Actor, c Command) Result {
			r, err := w.m.Execute(w.ctx, a, c)
			require.NoError(rt, err, "%s", CommandName(c))
			return r
		}
		var users []string
		enabled := map[string]bool{}
		deleted := map[string]bool{}
		dept := map[string]string{}
		for i := range 5 {
			id := nameID("user/p" + itoa(i))
			d := rapid.SampledFrom(depts).Draw(rt, "dept")
			do(sys, PutUser{User: User{ID: id, Department: d, AccountEnabled: true}})
			users, enabled[id], dept[id] = append(users, id), true, d
		}
		m := autoModel{holds: map[string]bool{}, removal: map[string]time.Time{}, ended: map[string]time.Time{}}
		drawPolicy := func() AssignmentPolicy {
			m.rule = rapid.SliceOfNDistinct(rapid.SampledFrom(depts[:3]), 1, 2, rapid.ID[string]).Draw(rt, "rule")
			m.removes = rapid.Bool().Draw(rt, "removes")
			g := rapid.SampledFrom(graces).Draw(rt, "grace")
			m.grace = g.Approx()
			p := salesPolicy(w.id["P3"], g)
			p.SpecificAllowedTargets[0].MembershipRule = `(user.department -in ["` + m.rule[0] + `","` + m.rule[len(m.rule)-1] + `"])`
			p.AutomaticRequestSettings.RemoveAccessWhenTargetLeavesAllowedTargets = m.removes
			return p
		}
		match := func(u string) bool { return !deleted[u] && slices.Contains(m.rule, dept[u]) }
		// evaluate is the model's answer to a change at now.
		evaluate := func(now time.Time) {
			for _, u := range users {
				switch {
				case m.holds[u] && match(u):
					delete(m.removal, u)
				case m.holds[u] && !m.removes:
					delete(m.removal, u)
				case m.holds[u]:
					if _, ok := m.removal[u]; ok {
						break
					}
					if m.grace == 0 {
						m.holds[u], m.ended[u] = false, now
					} else {
						m.removal[u] = now.Add(m.grace)
					}
				case match(u) && enabled[u]:
					m.holds[u] = true
				}
			}
		}
		due := func(now time.Time) {
			for u, at := range m.removal {
				if !at.After(now) {
					m.holds[u], m.ended[u] = false, at
					delete(m.removal, u)
				}
			}
		}
		pol := do(iga, CreateAssignmentPolicy{Policy: drawPolicy()}).ID
		evaluate(w.clock.t)

		for step := range rapid.IntRange(1, 30).Draw(rt, "steps") {
			u := rapid.SampledFrom(users).Draw(rt, "user")
			switch k := rapid.IntRange(0, 9).Draw(rt, "kind"); {
			case k <= 2 && !deleted[u]:
				d := rapid.SampledFrom(depts).Draw(rt, "dept")
				do(sys, SetUserAttribute{UserID: u, Name: "department", Value: d})
				dept[u] = d
			case k == 3 && !deleted[u]:
				d := rapid.SampledFrom(depts).Draw(rt, "dept")
				do(sys, PutUser{User: User{ID: u, Department: d, AccountEnabled: enabled[u]}})
				dept[u] = d
			case k == 4 && !deleted[u]:
				if enabled[u] {
					do(sys, BlockUser{UserID: u})
				} else {
					do(sys, UnblockUser{UserID: u})
				}
				enabled[u] = !enabled[u]
			case k == 5 && !deleted[u] && rapid.IntRange(0, 3).Draw(rt, "reallyDelete") == 0:
				do(sys, DeleteUser{UserID: u})
				deleted[u] = true
			case k == 6:
				do(iga, ReplaceAssignmentPolicy{PolicyID: pol, Policy: drawPolicy()})
			case k == 7 && !deleted[u]:
				do(sys, SetUserAttribute{UserID: u, Name: "jobTitle", Value: "t" + itoa(step)})
			default:
				w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(0, 72*60).Draw(rt, "minutes")) * time.Minute)
			}
			now := w.clock.t
			evaluate(now)
			_, err := w.m.ProcessDue(w.ctx, now)
			require.NoError(rt, err)
			due(now)

			s := w.state()
			require.NoError(rt, checkInvariants(s), "step %d", step)
			require.NoError(rt, checkAccessInvariants(s, w.clock.t), "step %d", step)
			for _, u := range users {
				a, ours := s.autoAssignment(pol, w.id["P3"], u)
				held := a != nil && ours
				require.Equal(rt, m.holds[u], held, "step %d: does %s hold the package?", step, u)
				if held {
					want, scheduled := m.removal[u]
					require.Equal(rt, scheduled, a.AutomaticRemovalDateTime != nil, "step %d: removal of %s", step, u)
					if scheduled {
						require.Equal(rt, want, *a.AutomaticRemovalDateTime)
						require.True(rt, now.Before(want), "a removal due at %s is still pending at %s", want, now)
					}
					// The statement: holding means matching, or
					// being within the grace period (or removal off).
					require.True(rt, match(u) || scheduled || !m.removes, "step %d: %s holds without matching", step, u)
				} else if match(u) && enabled[u] {
					require.Failf(rt, "matching user not assigned", "step %d: %s", step, u)
				}
				if end, ok := m.ended[u]; ok && !held {
					// The last assignment of u ended when the model says.
					var last *Assignment
					for id := range s.ix.assignmentsByTarget.Members(u) {
						if x := at(&s.assignments, id); x.AccessPackageID == w.id["P3"] && (last == nil || x.CreatedDateTime.After(last.CreatedDateTime) ||
							x.CreatedDateTime.Equal(last.CreatedDateTime) && x.ExpiredDateTime != nil && last.ExpiredDateTime != nil && x.ExpiredDateTime.After(*last.ExpiredDateTime)) {
							last = x
						}
					}
					require.NotNil(rt, last)
					require.Equal(rt, end, *last.ExpiredDateTime, "step %d: end of %s's assignment", step, u)
				}
			}
		}
		requireSameState(rt, w.state(), w.replayed())
	})
}
