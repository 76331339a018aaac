package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/story"
	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

// build makes a report of the story's history, failing the test on error.
func build(t *testing.T, p *projection.Projector, k report.Kind, q report.Query) *report.Report {
	t.Helper()
	r, err := report.Build(context.Background(), p, k, q)
	require.NoError(t, err)
	return r
}

// column returns the cells of the named column of r.
func column(t *testing.T, r *report.Report, name string) []string {
	t.Helper()
	i := slices.Index(r.Columns, name)
	require.NotEqual(t, -1, i, "column %q", name)
	var out []string
	for _, row := range r.Rows {
		out = append(out, row[i])
	}
	return out
}

// cell returns the named column of the row whose column key is value.
func cell(t *testing.T, r *report.Report, key, value, name string) string {
	t.Helper()
	i := slices.Index(column(t, r, key), value)
	require.NotEqual(t, -1, i, "no row with %s %q", key, value)
	return r.Rows[i][slices.Index(r.Columns, name)]
}

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return at
}

// TestRangeBounds: a range is Since <= t < Until for every report that
// takes one. An assignment is in it if it was active at some instant of
// it: one created at Until or ended at Since was not; a request created
// at Until is not in it.
func TestRangeBounds(t *testing.T) {
	ten := played(t)
	c := ten.cast
	all := build(t, ten.p, report.Assignments, report.Query{PackageID: c.SalesTools, Since: story.Start})
	dave := cell(t, all, "Target", "Dave Diaz", "Assignment id")
	ben := cell(t, all, "Target", "Ben Brown", "Assignment id")
	created := instant(t, cell(t, all, "Target", "Dave Diaz", "Created"))
	ended := instant(t, cell(t, all, "Target", "Ben Brown", "End"))
	require.Equal(t, "expired", cell(t, all, "Target", "Ben Brown", "State"))

	ids := func(q report.Query) []string {
		q.PackageID = c.SalesTools
		return column(t, build(t, ten.p, report.Assignments, q), "Assignment id")
	}
	require.NotContains(t, ids(report.Query{Since: story.Start, Until: created}), dave, "created at Until")
	require.Contains(t, ids(report.Query{Since: story.Start, Until: created.Add(time.Second)}), dave)
	require.NotContains(t, ids(report.Query{Since: ended, Until: ended.Add(24 * time.Hour)}), ben, "ended at Since")
	require.Contains(t, ids(report.Query{Since: ended.Add(-time.Second), Until: ended.Add(24 * time.Hour)}), ben)

	reqs := build(t, ten.p, report.Requests, report.Query{})
	i := slices.IndexFunc(reqs.Rows, func(row []string) bool { return row[0] != reqs.Rows[0][0] })
	require.Positive(t, i)
	at := instant(t, reqs.Rows[i][0])
	before := column(t, build(t, ten.p, report.Requests, report.Query{Until: at}), "Request id")
	require.NotContains(t, before, reqs.Rows[i][1], "created at Until")
	require.Contains(t, before, reqs.Rows[i-1][1])
}

// TestAuditAsOf: the audit log as of an instant holds what happened up to
// it, that instant included, even with a range that ends later.
func TestAuditAsOf(t *testing.T) {
	ten := played(t)
	full := build(t, ten.p, report.Audit, report.Query{})
	dates := column(t, full, "Date")
	// An instant at which several entries were recorded, and later ones.
	at := dates[len(dates)/2]
	require.Less(t, at, dates[len(dates)-1])
	var then []string
	for i, d := range dates {
		if d <= at {
			then = append(then, full.Rows[i][7])
		}
	}
	asOf := build(t, ten.p, report.Audit, report.Query{As: projection.As{Of: instant(t, at)}})
	require.Equal(t, then, column(t, asOf, "Event id"), "the entries up to the instant, those at it included")

	ranged := build(t, ten.p, report.Audit, report.Query{As: projection.As{Of: instant(t, at)}, Until: instant(t, dates[len(dates)-1])})
	require.Equal(t, then, column(t, ranged, "Event id"), "a range that ends after the instant asked stops at it")
}

// TestAuditAndRequestFilters: the audit log of a user holds only what they
// initiated, the conflicts of a package only its own, and each report
// with a user or a package says so in its subject.
func TestAuditAndRequestFilters(t *testing.T) {
	ten := played(t)
	c := ten.cast
	mark := build(t, ten.p, report.Audit, report.Query{UserID: story.MarkID})
	require.NotEmpty(t, mark.Rows)
	for _, who := range column(t, mark, "Initiated by") {
		require.Equal(t, "Mark Miller", who)
	}
	require.Equal(t, "initiated by Mark Miller", mark.Subject)
	both := build(t, ten.p, report.Requests, report.Query{PackageID: c.SalesTools, UserID: story.AnnaID})
	require.Equal(t, "Sales tools, for Anna Adams", both.Subject)
	require.NotEmpty(t, both.Rows)
	for i := range both.Rows {
		require.Equal(t, "Sales tools", cell(t, both, "Request id", both.Rows[i][1], "Access package"))
		require.Equal(t, "Anna Adams", cell(t, both, "Request id", both.Rows[i][1], "Target"))
	}

	// Payments names Sales tools incompatible: on day 20 Anna holds both,
	// a conflict of Payments's and not of Sales tools's.
	payments := cell(t, build(t, ten.p, report.AccessPackages, report.Query{UserID: story.AnnaID}), "Access package", "Payments", "Assignment id")
	require.NotEmpty(t, payments)
	var pkgID string
	for _, v := range build(t, ten.p, report.AccessPackages, report.Query{UserID: story.AnnaID}).Value {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var a struct {
			ID              string `json:"id"`
			AccessPackageID string `json:"accessPackageId"`
		}
		require.NoError(t, json.Unmarshal(b, &a))
		if a.ID == payments {
			pkgID = a.AccessPackageID
		}
	}
	require.NotEmpty(t, pkgID)
	day20 := projection.As{Of: day(20)}
	require.Equal(t, []string{"Payments"}, column(t, build(t, ten.p, report.Conflicts, report.Query{PackageID: pkgID, As: day20}), "Access package"))
	require.Empty(t, build(t, ten.p, report.Conflicts, report.Query{PackageID: c.SalesTools, As: day20}).Rows,
		"the conflicts of Sales tools, which names no package incompatible")
}

// TestRecordedAfter: the requests report bounded by a log position holds
// the requests recorded after it, and says so in JSON and HTML.
func TestRecordedAfter(t *testing.T) {
	ten := played(t)
	ctx := context.Background()
	cp, err := ten.p.Checkpoint(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, build(t, ten.p, report.Requests, report.Query{}).Rows)
	require.Empty(t, build(t, ten.p, report.Requests, report.Query{RecordedAfter: cp.Position}).Rows,
		"nothing was recorded after the head")

	// After a position halfway through the log: the requests recorded
	// before it are left out, the later ones are there.
	all := column(t, build(t, ten.p, report.Requests, report.Query{}), "Request id")
	mid := cp.Position / 2
	after := build(t, ten.p, report.Requests, report.Query{RecordedAfter: mid})
	require.NotEmpty(t, after.Rows)
	require.Less(t, len(after.Rows), len(all))

	var doc struct {
		RecordedAfter uint64 `json:"recordedAfter"`
	}
	var buf bytes.Buffer
	require.NoError(t, after.WriteJSON(&buf))
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.EqualValues(t, mid, doc.RecordedAfter)
	buf.Reset()
	require.NoError(t, after.WriteHTML(&buf))
	require.Contains(t, buf.String(), "<dt>Recorded after</dt><dd>log position "+strconv.FormatUint(uint64(mid), 10)+"</dd>")
}

// TestAccessPackagesInARange: with a range, the access packages of a user
// include the assignments that ended in it, and the JSON's objects are in
// the table's order (by package name).
func TestAccessPackagesInARange(t *testing.T) {
	ten := played(t)
	r := build(t, ten.p, report.AccessPackages, report.Query{UserID: story.AnnaID, Since: story.Start})
	pkgs := column(t, r, "Access package")
	require.Equal(t, []string{"Payments", "Sales tools", "Sales tools"}, pkgs, "her first Sales tools assignment, expired, too")
	require.Len(t, r.Value, len(r.Rows))
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var doc struct {
		Value []struct {
			ID            string `json:"id"`
			AccessPackage struct {
				DisplayName string `json:"displayName"`
			} `json:"accessPackage"`
		} `json:"value"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	ids := column(t, r, "Assignment id")
	for i, v := range doc.Value {
		require.Equal(t, pkgs[i], v.AccessPackage.DisplayName, i)
		require.Equal(t, ids[i], v.ID, i)
	}
}

// TestAssignmentsChartAtAnExpiry: the chart counts an assignment expired
// from the instant it ended, the last instant of a report as of then
// included.
func TestAssignmentsChartAtAnExpiry(t *testing.T) {
	ten := played(t)
	c := ten.cast
	all := build(t, ten.p, report.Assignments, report.Query{PackageID: c.SalesTools, Since: story.Start})
	ended := instant(t, cell(t, all, "Target", "Ben Brown", "End"))
	last := func(as time.Time) (active, expired int) {
		r := build(t, ten.p, report.Assignments, report.Query{PackageID: c.SalesTools, As: projection.As{Of: as}})
		require.Len(t, r.Charts, 1)
		s := r.Charts[0].Series
		require.Len(t, s, 2)
		require.Equal(t, "expired", s[1].Name)
		return s[0].Values[len(s[0].Values)-1], s[1].Values[len(s[1].Values)-1]
	}
	a0, e0 := last(ended.Add(-time.Second))
	a1, e1 := last(ended)
	require.Equal(t, a0-1, a1, "Ben's assignment is no longer active at the instant it ended")
	require.Equal(t, e0+1, e1, "and counted expired")
}

// TestEmptyRangeAndPackageOfCatalogs: an empty range is refused, as is a
// package given to a report that takes none.
func TestEmptyRangeAndPackageOfCatalogs(t *testing.T) {
	ten := played(t)
	ctx := context.Background()
	_, err := report.Build(ctx, ten.p, report.Audit, report.Query{Since: day(3), Until: day(3)})
	require.ErrorIs(t, err, report.ErrInvalid, "a range that ends where it starts")
	for _, k := range []report.Kind{report.Catalogs, report.Resources, report.ConnectedOrganizations, report.AccessPackages} {
		_, err = report.Build(ctx, ten.p, k, report.Query{PackageID: ten.cast.SalesTools, UserID: story.AnnaID})
		require.ErrorIs(t, err, report.ErrInvalid, k)
		require.ErrorContains(t, err, "takes no access package", k)
	}
}

// TestJSONLargeReport: a report of more objects than are encoded at once
// is still one JSON document, with every object.
func TestJSONLargeReport(t *testing.T) {
	const n = 4096*2 + 3
	r := &report.Report{Kind: report.Catalogs, Title: "Many"}
	for i := range n {
		r.Value = append(r.Value, map[string]int{"i": i})
	}
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var doc struct {
		Value []map[string]int `json:"value"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "valid JSON")
	require.Len(t, doc.Value, n)
	for i, v := range doc.Value {
		require.Equal(t, i, v["i"])
	}
}

// TestExternalSponsorsNamed: the connected organizations report names
// external sponsors, as it names internal ones.
func TestExternalSponsorsNamed(t *testing.T) {
	ctx := context.Background()
	clock := story.NewClock()
	log, err := sqlitestore.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlitestore.Options{Now: clock.Now})
	require.NoError(t, err)
	defer log.Close()
	cast, err := story.Play(ctx, log, clock, io.Discard)
	require.NoError(t, err)
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock, NoSnapshot: true})
	require.NoError(t, err)
	ada := entitlement.UserActor(story.AdaID, entitlement.GlobalAdministrator)
	_, err = m.Execute(ctx, ada, entitlement.AddConnectedOrganizationSponsor{ConnectedOrganizationID: cast.Contoso, External: true,
		DirectoryObjectID: cast.Nina})
	require.NoError(t, err)
	p, err := projection.Open(ctx, log, projection.DefaultPath(log.Path()), projection.Options{})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.CatchUp(ctx)
	require.NoError(t, err)
	orgs := build(t, p, report.ConnectedOrganizations, report.Query{})
	require.Equal(t, "Mark Miller", cell(t, orgs, "Display name", "Contoso", "Internal sponsors"))
	require.Equal(t, story.NinaEmail, cell(t, orgs, "Display name", "Contoso", "External sponsors"), "her display name, not her id")
}
