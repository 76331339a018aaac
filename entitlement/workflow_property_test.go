package entitlement

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPropertyWorkflowRunsOncePerTrigger: under random hire dates set,
// moved and cleared, departments (the scope) changed, users replaced and
// deleted, the schedule turned off and on, new versions with other offsets
// and scopes, and clock advances, a joiner workflow
//   - has a run scheduled for exactly the users in scope whose trigger
//     instant is ahead, at that instant, after every step;
//   - runs each scheduled run exactly once, at its instant, or cancels it
//     (only a change cancels: ProcessDue runs what is due);
//   - never runs twice for the same user and instant;
//
// the invariants hold after every step, and replay gives the same State.
func TestPropertyWorkflowRunsOncePerTrigger(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w, _ := workflowWorld(t) // the fixture, built with t: its failures are not the property's
		lcw := w.actors["lcw"]
		pkg, pol := w.id["Sales tools"], w.id["Direct"]
		do := func(a Actor, c Command) Result {
			r, err := w.m.Execute(w.ctx, a, c)
			require.NoError(rt, err, "%s", CommandName(c))
			return r
		}
		scopes := []string{`(user.department -eq "Sales")`, `(user.department -in ["Sales","Legal"])`}
		drawWorkflow := func() Workflow {
			x := joinerWorkflow(pkg, pol, rapid.IntRange(-2, 2).Draw(rt, "offset"))
			x.ExecutionConditions.Scope.Rule = rapid.SampledFrom(scopes).Draw(rt, "scope")
			return x
		}
		id := do(lcw, CreateWorkflow{Workflow: drawWorkflow()}).ID
		var users []string
		for i := range 4 {
			u := nameID(fmt.Sprintf("user/wp%d", i))
			do(sys, PutUser{User: User{ID: u, Department: "Sales", AccountEnabled: true}})
			users = append(users, u)
		}
		deleted := map[string]bool{}
		scheduling := true

		type trigger struct {
			user string
			at   time.Time
		}
		open := map[string]trigger{} // scheduled runs not yet run or canceled
		ran := map[trigger]bool{}
		follow := func(evs []Event, inProcessDue bool) {
			for _, e := range evs {
				switch d := e.Data.(type) {
				case *ScheduledRun:
					open[d.ID] = trigger{d.SubjectID, d.DueDateTime}
				case *WorkflowRunCanceled:
					require.False(rt, inProcessDue, "ProcessDue canceled run %s: %s", d.ScheduledRunID, d.Reason)
					_, ok := open[d.ScheduledRunID]
					require.True(rt, ok, "run %s canceled twice or never scheduled", d.ScheduledRunID)
					delete(open, d.ScheduledRunID)
				case *UserProcessingResult:
					tr, ok := open[d.ScheduledRunID]
					require.True(rt, ok, "run %s ran twice or was never scheduled", d.ScheduledRunID)
					delete(open, d.ScheduledRunID)
					require.Equal(rt, tr.at, d.StartedDateTime, "a run starts at its instant")
					require.False(rt, ran[tr], "%s ran twice for the instant %s", tr.user, tr.at)
					ran[tr] = true
				}
			}
		}
		decoded := func(r Result) []Event {
			var out []Event
			for _, e := range r.Events {
				de, err := DecodeEvent(e)
				require.NoError(rt, err)
				out = append(out, de)
			}
			return out
		}
		exec := func(a Actor, c Command) { follow(decoded(do(a, c)), false) }
		for _, r := range w.runs(id) {
			open[r.ID] = trigger{r.SubjectID, r.DueDateTime}
		}

		for step := range rapid.IntRange(1, 40).Draw(rt, "steps") {
			u := rapid.SampledFrom(users).Draw(rt, "user")
			switch k := rapid.IntRange(0, 9).Draw(rt, "kind"); {
			case k <= 2 && !deleted[u]:
				v := ""
				if rapid.IntRange(0, 5).Draw(rt, "clear") > 0 {
					v = w.clock.t.Add(time.Duration(rapid.IntRange(-48, 240).Draw(rt, "hours")) * time.Hour).Format(time.RFC3339)
				}
				exec(sys, SetUserAttribute{UserID: u, Name: "employeeHireDate", Value: v})
			case k == 3 && !deleted[u]:
				exec(sys, SetUserAttribute{UserID: u, Name: "department", Value: rapid.SampledFrom([]string{"Sales", "Legal", ""}).Draw(rt, "dept")})
			case k == 4 && !deleted[u]:
				hire := w.clock.t.Add(time.Duration(rapid.IntRange(-48, 240).Draw(rt, "hours")) * time.Hour)
				exec(sys, PutUser{User: User{ID: u, Department: rapid.SampledFrom([]string{"Sales", "Legal"}).Draw(rt, "dept"),
					EmployeeHireDate: &hire, AccountEnabled: true}})
			case k == 5 && !deleted[u] && rapid.IntRange(0, 3).Draw(rt, "reallyDelete") == 0:
				exec(sys, DeleteUser{UserID: u})
				deleted[u] = true
			case k == 6:
				scheduling = !scheduling
				exec(lcw, UpdateWorkflow{WorkflowID: id, DisplayName: "Onboard", IsEnabled: true, IsSchedulingEnabled: scheduling})
			case k == 7:
				x := drawWorkflow()
				x.IsSchedulingEnabled = scheduling
				exec(lcw, CreateWorkflowVersion{WorkflowID: id, Workflow: x})
			default:
				w.clock.t = w.clock.t.Add(time.Duration(rapid.IntRange(0, 72).Draw(rt, "advance")) * time.Hour)
			}
			res, err := w.m.ProcessDue(w.ctx, w.clock.t)
			require.NoError(rt, err)
			follow(decoded(res), true)

			s := w.state()
			require.NoError(rt, checkInvariants(s), "step %d", step)
			require.NoError(rt, checkAccessInvariants(s, w.clock.t), "step %d", step)
			e, _ := s.workflows.Get(id)
			wf := &e.Workflow
			pending := map[string]ScheduledRun{}
			for _, r := range s.scheduledRuns.All() {
				pending[r.SubjectID] = *r
				_, ok := open[r.ID]
				require.True(rt, ok, "step %d: run %s pending in the State, not in the log", step, r.ID)
			}
			require.Len(rt, open, len(pending), "step %d", step)
			for _, u := range users {
				uu, active := s.activeUser(u)
				var want time.Time
				if active && wf.scheduled() && wf.inScope(uu) {
					if t, ok := wf.triggerInstant(uu); ok && t.After(w.clock.t) {
						want = t
					}
				}
				r, ok := pending[u]
				require.Equal(rt, !want.IsZero(), ok, "step %d: is a run scheduled for %s?", step, u)
				if ok {
					require.Equal(rt, want, r.DueDateTime, "step %d: when does %s's run start?", step, u)
				}
			}
		}
		requireSameState(rt, w.state(), w.replayed())
	})
}
