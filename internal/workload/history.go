package workload

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessledger/accessledger/entitlement"
)

// Stats counts what Play did.
type Stats struct {
	Days, Requests, Approvals, Denials, Cancels, Extensions, Removals int
	RoleScopeChanges, AttributeChanges                                int
	// Refused counts commands the domain refused (a request for a package
	// the user already holds, a decision on a request that timed out …):
	// the generator draws without looking, as people do.
	Refused int
}

// decision is an approver's planned answer to a request.
type decision struct {
	request string
	outcome int // 0 approve, 1 deny, 2 the requestor cancels, 3 nobody answers
}

// Play plays days of activity on the tenant, one day at a time: each day
// perDay users request a package of their department's catalog (whose
// approvers answer within three days: approve, deny, cancel or let it time
// out), some users extend assignments about to end or remove one, a few
// change department, once a week a package gains or loses a role scope;
// then the clock moves a day on and ProcessDue runs. perDay 0 takes a
// tenth of the users, at most 500 (the tenant limit is 50,000 requests in
// 90 days).
func (t *Tenant) Play(ctx context.Context, days, perDay int, progress ProgressFunc) (Stats, error) {
	if perDay <= 0 {
		perDay = min(500, max(1, len(t.Users)/10))
	}
	var (
		st        Stats
		mu        sync.Mutex
		refused   atomic.Int64
		decisions = map[int][]decision{}
	)
	m := t.m
	exec := func(ctx context.Context, a entitlement.Actor, cmd entitlement.Command) (entitlement.Result, error) {
		r, err := m.Execute(ctx, a, cmd)
		var e *entitlement.Error
		if errors.As(err, &e) {
			refused.Add(1)
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("workload: %s: %w", entitlement.CommandName(cmd), err)
		}
		return r, nil
	}
	later := func(day int, d decision) {
		mu.Lock()
		decisions[day] = append(decisions[day], d)
		mu.Unlock()
	}
	plan := func(day int, r entitlement.Result, stages int) {
		if r.ID == "" || len(r.Events) == 0 || stages == 0 {
			return
		}
		later(day, decision{request: r.ID})
	}
	for day := range days {
		var tasks []func(context.Context) error
		// Approvers answer what was planned for today.
		for _, d := range decisions[day] {
			d.outcome = t.pick(75, 10, 5, 10)
			delay := 1 + t.rnd.IntN(2)
			tasks = append(tasks, func(ctx context.Context) error {
				r, err := m.State().GetAssignmentRequest(t.Admin, d.request)
				if err != nil || len(r.Stages) == 0 || r.State != entitlement.RequestStatePendingApproval {
					return nil
				}
				stage := r.Stages[len(r.Stages)-1]
				approvers := append(stage.Approvers, stage.EscalationApprovers...)
				switch {
				case d.outcome == 3 || len(approvers) == 0:
					return nil // it times out
				case d.outcome == 2:
					_, err := exec(ctx, entitlement.UserActor(r.RequestorID), entitlement.CancelAssignmentRequest{RequestID: r.ID})
					mu.Lock()
					st.Cancels++
					mu.Unlock()
					return err
				}
				result := entitlement.DecisionApprove
				if d.outcome == 1 {
					result = entitlement.DecisionDeny
				}
				_, err = exec(ctx, entitlement.UserActor(approvers[0]), entitlement.UpdateApprovalStage{
					ApprovalID: r.ID, StageID: stage.ID, ReviewResult: result, Justification: "reviewed"})
				if err != nil {
					return err
				}
				mu.Lock()
				if d.outcome == 1 {
					st.Denials++
				} else {
					st.Approvals++
				}
				mu.Unlock()
				if d.outcome == 0 && stage.Stage < 3 {
					later(day+delay, decision{request: r.ID}) // the next stage, if there is one
				}
				return nil
			})
		}
		delete(decisions, day)
		// New requests.
		for range perDay {
			u := t.Users[t.rnd.IntN(len(t.Users))]
			c := u.Department % len(t.Packages)
			p := t.Packages[c][t.rnd.IntN(len(t.Packages[c]))]
			when := day + t.rnd.IntN(3)
			tasks = append(tasks, func(ctx context.Context) error {
				r, err := exec(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
					AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID, Justification: "needed for work"})
				if err == nil && len(r.Events) > 0 {
					mu.Lock()
					st.Requests++
					mu.Unlock()
					if p.Stages > 0 {
						later(when, decision{request: r.ID})
					}
				}
				return err
			})
		}
		// Extensions of assignments about to end, and removals.
		for i := range perDay / 10 {
			u := t.Users[t.rnd.IntN(len(t.Users))]
			remove := i%3 == 0
			when := day + 1
			tasks = append(tasks, func(ctx context.Context) error {
				now := t.Clock.Now()
				for _, a := range m.State().MyAssignments(u.Actor) {
					end, ok := a.End()
					switch {
					case remove:
						_, err := exec(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserRemove, AssignmentID: a.ID})
						mu.Lock()
						st.Removals++
						mu.Unlock()
						return err
					case ok && end.Sub(now) < 14*24*time.Hour && a.State == entitlement.AssignmentStateDelivered:
						r, err := exec(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserUpdate,
							AssignmentID: a.ID, Justification: "still needed"})
						if err == nil && len(r.Events) > 0 {
							mu.Lock()
							st.Extensions++
							mu.Unlock()
							plan(when, r, 1)
						}
						return err
					}
				}
				return nil
			})
		}
		// People move.
		for range max(1, perDay/50) {
			u := t.Users[t.rnd.IntN(len(t.Users))]
			title := []string{"Engineer", "Analyst", "Sales", "Support", "Manager"}[t.rnd.IntN(5)]
			tasks = append(tasks, func(ctx context.Context) error {
				_, err := exec(ctx, entitlement.SystemActor(), entitlement.SetUserAttribute{UserID: u.ID, Name: "jobTitle", Value: title})
				mu.Lock()
				st.AttributeChanges++
				mu.Unlock()
				return err
			})
		}
		if err := run(ctx, t.Config.Workers, tasks); err != nil {
			return st, err
		}
		// Once a week a package gains or loses a role scope.
		if day%7 == 6 {
			if err := t.changeRoleScope(ctx, exec); err != nil {
				return st, err
			}
			st.RoleScopeChanges++
		}
		t.Clock.Advance(24 * time.Hour)
		if _, err := m.ProcessDue(ctx, t.Clock.Now()); err != nil {
			return st, fmt.Errorf("workload: ProcessDue: %w", err)
		}
		st.Days++
		progress.report("history", day+1, days)
	}
	st.Refused = int(refused.Load())
	return st, nil
}

// pick draws an index with the given weights.
func (t *Tenant) pick(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := t.rnd.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// changeRoleScope adds a role scope to a random package, or removes one
// from it if it has more than one.
func (t *Tenant) changeRoleScope(ctx context.Context, exec func(context.Context, entitlement.Actor, entitlement.Command) (entitlement.Result, error)) error {
	c := t.rnd.IntN(len(t.Packages))
	p := t.Packages[c][t.rnd.IntN(len(t.Packages[c]))]
	pkg, err := t.m.State().GetAccessPackage(t.Admin, p.ID)
	if err != nil {
		return err
	}
	if len(pkg.ResourceRoleScopes) > 1 {
		rs := pkg.ResourceRoleScopes[t.rnd.IntN(len(pkg.ResourceRoleScopes))]
		_, err := exec(ctx, t.Admin, entitlement.RemoveResourceRoleScope{AccessPackageID: p.ID, ResourceRoleScopeID: rs.ID})
		return err
	}
	role := t.ResourceRoles[c][t.rnd.IntN(len(t.ResourceRoles[c]))]
	_, err = exec(ctx, t.Admin, entitlement.AddResourceRoleScope{AccessPackageID: p.ID, RoleID: role[0], ScopeID: role[1]})
	return err
}
