package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Found by a mutation review: a leaver run that fell due while the user's joiner assignment is being
// delivered (delivery not yet recorded, pure Decide API) waits; a change
// to the user's leave date (or a new workflow version, or a deletion)
// decided meanwhile then cancels the due run instead of recording it
// first, and the leaver never runs.
func TestWaitingRunKeptOnChange(t *testing.T) {
	for _, mode := range []string{"version", "attr"} {
		w, _ := workflowWorld(t)
		lcw := w.actors["lcw"]
		pkg := w.id["Sales tools"]
		w.do(lcw, CreateWorkflow{Workflow: joinerWorkflow(pkg, w.id["Direct"], 0)})
		leaver := w.do(lcw, CreateWorkflow{Workflow: leaverWorkflow(pkg)}).ID
		hire, leave := w.clock.t.Add(24*time.Hour), w.clock.t.Add(48*time.Hour)
		dan := nameID("user/dan")
		w.do(sys, PutUser{User: User{ID: dan, DisplayName: "dan", Department: "Sales", AccountEnabled: true, UserType: UserTypeMember,
			EmployeeHireDate: &hire, EmployeeLeaveDateTime: &leave}})
		s := w.state().Clone()
		now := w.clock.t.Add(72 * time.Hour)
		apply := func(cmd Command, a Actor) []Event {
			evs, err := Decide(s, a, now, nil, cmd)
			require.NoError(t, err)
			for _, e := range evs {
				require.NoError(t, s.Apply(e))
			}
			return evs
		}
		apply(AdvanceTime{}, SystemActor())
		require.True(t, s.deliveringTo(dan))
		var evs []Event
		if mode == "attr" {
			evs = apply(SetUserAttribute{UserID: dan, Name: "employeeLeaveDateTime", Value: leave.Add(time.Minute).Format(time.RFC3339)}, sys)
		} else {
			v2 := leaverWorkflow(pkg)
			v2.ExecutionConditions.Trigger.OffsetInDays = -1
			evs = apply(CreateWorkflowVersion{WorkflowID: leaver, Workflow: v2}, lcw)
		}
		for _, e := range evs {
			t.Logf("%s: %s %+v", mode, e.Type, e.Data)
		}
		ran := false
		for _, e := range evs {
			if e.Type == EventWorkflowUserProcessed || e.Type == "lifecycleWorkflowUserProcessed" {
				ran = true
			}
		}
		_, still := s.ix.timeRuns.Get(leaver + "\x00" + dan)
		require.True(t, ran || still, "%s: the leaver run that fell due at %s was neither run nor kept", mode, leave)
	}
}
