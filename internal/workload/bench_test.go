package workload

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

// benchUsers are the tenant sizes the benchmarks run at: go test -bench .
// -benchusers 1000,100000. Tenants are built once per size and process.
var benchUsers = flag.String("benchusers", "1000", "tenant sizes of the workload benchmarks, comma-separated")

type benchTenant struct {
	m     *entitlement.Manager
	store *sqlitestore.Store
	t     *Tenant
	slots *openSlots
	path  string
}

var (
	tenantsMu sync.Mutex
	tenants   = map[int]*benchTenant{}
)

// tenant returns a tenant of n users on a SQLite log, with its directory,
// catalogs and packages and no history, built on first use.
func tenant(b *testing.B, n int) *benchTenant {
	tenantsMu.Lock()
	defer tenantsMu.Unlock()
	if bt := tenants[n]; bt != nil {
		return bt
	}
	dir, err := osMkdirTemp()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	// Open packages enough for the benchmarks' loops: slots repeat after
	// users × packages.
	open := max(openPackages(n), 41)
	for gcd(open, n) != 1 {
		open++
	}
	store, m, t, err := BuildOn(context.Background(), path, Config{Seed: 1, Users: n, Workers: 16, OpenPackages: open}, nil)
	if err != nil {
		b.Fatal(err)
	}
	bt := &benchTenant{m: m, store: store, t: t, slots: &openSlots{t: t}, path: path}
	tenants[n] = bt
	return bt
}

func sizes(b *testing.B) []int {
	var out []int
	for f := range strings.SplitSeq(*benchUsers, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatalf("-benchusers: %v", err)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkRequestDelivered measures a userAdd request through a policy
// without approval, delivered and recorded: two commits.
func BenchmarkRequestDelivered(b *testing.B) {
	for _, n := range sizes(b) {
		for _, g := range []int{1, 16} {
			b.Run(fmt.Sprintf("users=%d/goroutines=%d", n, g), func(b *testing.B) {
				bt := tenant(b, n)
				ctx := context.Background()
				b.SetParallelism(g)
				if g == 1 {
					for b.Loop() {
						u, p := bt.slots.next()
						if _, err := bt.m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
							AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID}); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				r, err := loop(ctx, g, b.N, func(ctx context.Context) error {
					u, p := bt.slots.next()
					_, err := bt.m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
						AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.PerSecond(), "requests/s")
			})
		}
	}
}

// BenchmarkReads measures the per-user reads; approvals are read by the
// approvers of requests left waiting for them.
func BenchmarkReads(b *testing.B) {
	for _, n := range sizes(b) {
		bt := tenant(b, n)
		approvers, _, err := pendApprovals(context.Background(), bt.m, bt.t, min(2000, max(100, n/10)))
		if err != nil {
			b.Fatal(err)
		}
		if len(approvers) == 0 {
			b.Fatal("no request waits for an approval")
		}
		for name, f := range map[string]func(u User){
			"myAssignments":   func(u User) { bt.m.State().MyAssignments(u.Actor) },
			"myRequests":      func(u User) { bt.m.State().MyRequests(u.Actor) },
			"approvals":       func(u User) { bt.m.State().ApprovalsForApprover(u.Actor) },
			"effectiveAccess": func(u User) { bt.m.State().EffectiveAccess(u.Actor, u.ID) },
		} {
			users := bt.t.Users
			if name == "approvals" {
				users = approvers
			}
			b.Run(fmt.Sprintf("users=%d/%s", n, name), func(b *testing.B) {
				i := 0
				for b.Loop() {
					f(users[i%len(users)])
					i += 7919
				}
			})
		}
	}
}

// BenchmarkProcessDueNothingDue measures ProcessDue when nothing is due.
func BenchmarkProcessDueNothingDue(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			bt := tenant(b, n)
			ctx := context.Background()
			for b.Loop() {
				if _, err := bt.m.ProcessDue(ctx, bt.t.Clock.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReplay measures NewManager on the tenant's log.
func BenchmarkReplay(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			bt := tenant(b, n)
			ctx := context.Background()
			var events int
			start := time.Now()
			for b.Loop() {
				m, err := entitlement.NewManager(ctx, bt.store, entitlement.Options{Clock: bt.t.Clock})
				if err != nil {
					b.Fatal(err)
				}
				events += int(m.Head())
			}
			b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
		})
	}
}

var tempDirs []string

func osMkdirTemp() (string, error) {
	dir, err := os.MkdirTemp("", "workload-bench-")
	if err == nil {
		tempDirs = append(tempDirs, dir)
	}
	return dir, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, bt := range tenants {
		bt.store.Close()
	}
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// BenchmarkProcessDueExpiry fills a tenant with an assignment per user and
// times the one ProcessDue that expires them all, notices and revocations
// included. Each iteration builds its tenant (not timed).
func BenchmarkProcessDueExpiry(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var expired int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				store, m, t, err := BuildOn(ctx, filepath.Join(b.TempDir(), "ledger.db"),
					Config{Seed: 1, Users: n, Workers: 16, OpenPackages: openPackages(n)}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := fill(ctx, m, t, &openSlots{t: t}, 16, nil); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				r, err := expire(ctx, m, t, nil)
				if err != nil {
					b.Fatal(err)
				}
				expired += r.N
				elapsed += r.Elapsed
				store.Close()
			}
			b.ReportMetric(float64(expired)/elapsed.Seconds(), "expiries/s")
		})
	}
}
