package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

var (
	benchAssignments = flag.Int("report.assignments", 2000, "assignments of the one package BenchmarkAssignmentsReport reports on")
	benchEvents      = flag.Int("report.events", 100_000, "events BenchmarkArchive archives and BenchmarkVerifyArchive verifies")
)

// BenchmarkAssignmentsReport reports on one access package with
// -report.assignments assignments over its history, in each format. A
// package holds at most 10,000 assignments at a time (Entra's limit), so
// they come in waves of at most 10,000 users, each wave expiring before the
// next, and the report asks for the whole history (a range from the start).
// The figure is at 100,000:
// go test ./report -run '^$' -bench AssignmentsReport -benchtime 3x -args -report.assignments=100000
func BenchmarkAssignmentsReport(b *testing.B) {
	ctx := context.Background()
	n := *benchAssignments
	log := memstore.New(memstore.Options{})
	clock := &fixedClock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock, IDs: entitlement.SeededIDs(1)})
	if err != nil {
		b.Fatal(err)
	}
	admin := entitlement.UserActor("a0000000-0000-4000-8000-000000000000", entitlement.GlobalAdministrator)
	do := func(a entitlement.Actor, cmd entitlement.Command) string {
		r, err := m.Execute(ctx, a, cmd)
		if err != nil {
			b.Fatal(err)
		}
		return r.ID
	}
	sys := entitlement.SystemActor()
	do(sys, entitlement.PutUser{User: entitlement.User{ID: admin.ID, DisplayName: "Admin", AccountEnabled: true}})
	group := "b0000000-0000-4000-8000-000000000000"
	do(sys, entitlement.PutGroup{Group: entitlement.Group{ID: group, DisplayName: "Everyone's group", SecurityEnabled: true}})
	do(admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: entitlement.GeneralCatalogID,
		Resource: entitlement.ResourceSpec{OriginID: group, OriginSystem: entitlement.OriginSystemAadGroup}})
	res, err := m.State().ResourcesOfCatalog(admin, entitlement.GeneralCatalogID)
	if err != nil {
		b.Fatal(err)
	}
	pkg := do(admin, entitlement.CreateAccessPackage{CatalogID: entitlement.GeneralCatalogID, DisplayName: "Everyone"})
	do(admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: res[0].Roles[0].ID, ScopeID: res[0].Scopes[0].ID})
	policy := do(admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{DisplayName: "Self", AccessPackageID: pkg,
		AllowedTargetScope: entitlement.ScopeAllMemberUsers, RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(1)}}})
	users := min(n, entitlement.MaxAssignmentsPerPackage)
	for i := range users {
		id := fmt.Sprintf("c0000000-0000-4000-8000-%012d", i)
		do(sys, entitlement.PutUser{User: entitlement.User{ID: id, DisplayName: fmt.Sprintf("User %d", i), AccountEnabled: true}})
	}
	start := clock.t
	for made := 0; made < n; {
		for i := 0; i < users && made < n; i++ {
			do(entitlement.UserActor(fmt.Sprintf("c0000000-0000-4000-8000-%012d", i)), entitlement.CreateAssignmentRequest{
				RequestType: entitlement.RequestTypeUserAdd, AccessPackageID: pkg, AssignmentPolicyID: policy})
			made++
		}
		// 25 days apart, so that no 90 days hold more than the tenant's
		// 50,000 requests.
		clock.t = clock.t.Add(25 * 24 * time.Hour)
		if _, err := m.ProcessDue(ctx, clock.t); err != nil {
			b.Fatal(err)
		}
	}
	p, err := projection.Open(ctx, log, filepath.Join(b.TempDir(), "p.db"), projection.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if _, err := p.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	for _, f := range report.Formats {
		b.Run(string(f), func(b *testing.B) {
			runtime.GC() // the setup's garbage is not the report's to collect
			b.ResetTimer()
			var size int
			for range b.N {
				r, err := report.Build(ctx, p, report.Assignments, report.Query{PackageID: pkg, Since: start})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Rows) != n {
					b.Fatalf("%d rows, want %d", len(r.Rows), n)
				}
				var c countingWriter
				if err := r.Write(&c, f); err != nil {
					b.Fatal(err)
				}
				size = int(c)
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB")
			b.ReportMetric(float64(n), "rows")
		})
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// syntheticLog appends n events of about the size of the domain's to a
// SQLite log, in appends of a thousand.
func syntheticLog(b *testing.B, n int) *sqlitestore.Store {
	b.Helper()
	ctx := context.Background()
	log, err := sqlitestore.Open(filepath.Join(b.TempDir(), "ledger.db"), sqlitestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"assignment":{"accessPackageId":"070684c2-f7cf-4e2e-8683-83bec7b5e9ea","assignmentPolicyId":"19606a78-780c-4482-8497-725ad8738cc0","createdDateTime":"2026-04-11T15:00:00Z","id":"%s","requestId":"946b0abd-6db4-4663-ab87-6f5c087e4ace","state":"delivering","status":"Delivering","targetId":"a0000000-0000-4000-8000-000000000006"}}`)
	for done := 0; done < n; {
		batch := make([]eventstore.NewEvent, 0, 1000)
		for i := 0; i < 1000 && done < n; i++ {
			id := fmt.Sprintf("e0000000-0000-4000-8000-%012d", done)
			batch = append(batch, eventstore.NewEvent{Stream: eventstore.StreamID("assignment/" + id), Type: "assignmentDelivering",
				OccurredAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Metadata: eventstore.Metadata{ActorID: "system", ActorKind: "system",
					CommandID: fmt.Sprintf("cmd-%d", done/1000)}, Payload: fmt.Appendf(nil, string(payload), id)})
			done++
		}
		if _, err := log.Append(ctx, eventstore.AnyCondition, batch...); err != nil {
			b.Fatal(err)
		}
	}
	return log
}

// BenchmarkArchive archives -report.events events (the events alone; the
// reports' cost is BenchmarkAssignmentsReport's).
func BenchmarkArchive(b *testing.B) {
	ctx := context.Background()
	log := syntheticLog(b, *benchEvents)
	defer log.Close()
	b.ResetTimer()
	var size countingWriter
	for range b.N {
		size = 0
		if _, err := report.WriteArchive(ctx, &size, log, nil, report.ArchiveOptions{Reports: []report.Kind{}, TempDir: b.TempDir()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(*benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}

// BenchmarkVerifyArchive verifies an archive of -report.events events.
func BenchmarkVerifyArchive(b *testing.B) {
	ctx := context.Background()
	log := syntheticLog(b, *benchEvents)
	defer log.Close()
	var buf bytes.Buffer
	if _, err := report.WriteArchive(ctx, &buf, log, nil, report.ArchiveOptions{Reports: []report.Kind{}, TempDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := report.VerifyArchive(ctx, bytes.NewReader(buf.Bytes()), report.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(*benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
