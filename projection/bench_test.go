package projection_test

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/projection"
)

// BenchmarkCatchUpOneCommand measures bringing a projection up to a
// command just executed (read-your-writes): a manager's approval of a
// request, with the delivery that follows it (five events). The figures at tenant scale
// are accessledger bench's.
func BenchmarkCatchUpOneCommand(b *testing.B) {
	s, err := newSales(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.log.Close()
	p, err := projection.Open(s.ctx, s.log, projection.DefaultPath(s.log.Path()), projection.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	sys := entitlement.SystemActor()
	var ds []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := fmt.Sprintf("e0e0e0e0-0000-4000-8000-%012d", i)
		if _, err := s.run(sys, entitlement.PutUser{User: entitlement.User{ID: id, DisplayName: "x", AccountEnabled: true, ManagerID: markID}}); err != nil {
			b.Fatal(err)
		}
		if _, err := p.CatchUp(s.ctx); err != nil {
			b.Fatal(err)
		}
		req, err := s.run(entitlement.UserActor(id), entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: s.pkg, AssignmentPolicyID: s.policy})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.CatchUpTo(s.ctx, req.LastPosition()); err != nil {
			b.Fatal(err)
		}
		*s.now = s.now.Add(time.Minute)
		pending := s.m.State().ApprovalsForApprover(s.mark)
		res, err := s.run(s.mark, entitlement.UpdateApprovalStage{ApprovalID: req.ID, StageID: pending[0].Stage.ID,
			ReviewResult: entitlement.DecisionApprove})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		pprof.Do(s.ctx, pprof.Labels("timed", "1"), func(ctx context.Context) {
			if _, err := p.CatchUpTo(ctx, res.LastPosition()); err != nil {
				b.Fatal(err)
			}
		})
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}
