package projection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/entitlement/entitlementtest"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// logEvent is an event of the log with its decoded payload and valid time.
type logEvent struct {
	eventstore.Event
	de    entitlement.Event
	valid time.Time
}

func readLog(t require.TestingT, log Log) []logEvent {
	var out []logEvent
	for e, err := range log.ReadAll(context.Background(), 0) {
		require.NoError(t, err)
		de, err := entitlement.DecodeEvent(e)
		require.NoError(t, err)
		out = append(out, logEvent{Event: e, de: de, valid: entitlement.ValidTime(de, e.OccurredAt)})
	}
	return out
}

// oracle is the State the projection must agree with as of as: the fold,
// in log order, of the events up to as.KnownAt whose valid time is at or
// before as.Of.
func oracle(t require.TestingT, events []logEvent, as As) *entitlement.State {
	s := entitlement.NewState()
	for _, e := range events {
		if as.KnownAt != 0 && e.Position > as.KnownAt || !as.Of.IsZero() && e.valid.After(as.Of) {
			continue
		}
		require.NoError(t, s.Apply(e.de), "fold %s at %d as of %v", e.Type, e.Position, as)
	}
	return s
}

// sameJSON compares two values by their JSON, an empty slice equal to
// none.
func sameJSON(t require.TestingT, want, got any, msgAndArgs ...any) {
	enc := func(v any) string {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.Len() == 0 {
			return "[]"
		}
		b, err := json.MarshalIndent(v, "", " ")
		require.NoError(t, err)
		return string(b)
	}
	require.Equal(t, enc(want), enc(got), msgAndArgs...)
}

// checkPages reads a listing in pages of one to three items, each after
// the last of the one before, and requires them to add up to all.
func checkPages[T any](t require.TestingT, all []T, page func(top int, after string) ([]T, error), id func(T) string,
	msgAndArgs ...any) {
	for top := 1; top <= 3; top++ {
		var got []T
		after := ""
		for {
			xs, err := page(top, after)
			require.NoError(t, err, msgAndArgs...)
			require.LessOrEqual(t, len(xs), top, msgAndArgs...)
			got = append(got, xs...)
			if len(xs) < top {
				break
			}
			after = id(xs[len(xs)-1])
		}
		sameJSON(t, all, got, msgAndArgs...)
	}
}

func grantKey(g RoleGrant) string { return g.AssignmentID + " " + g.ResourceRoleScopeID }

// checkQueries compares every query of the projection as of as with the
// State s, which is the oracle for that moment.
func checkQueries(t require.TestingT, p *Projector, w *entitlementtest.World, s *entitlement.State, as As) {
	defer checkWhy(t, p, w, s, as)
	ctx := context.Background()
	admin := w.Admin
	users := append([]string{w.Admin.ID, w.AssignmentManager.ID}, w.Users...)
	// Guests that requests from outside the organization created are not
	// among the World's users: they are the targets of assignments.
	all, err := s.ListAssignments(admin, entitlement.AssignmentFilter{IncludeEnded: true})
	require.NoError(t, err)
	for _, a := range all {
		if !slices.Contains(users, a.TargetID) {
			users = append(users, a.TargetID)
		}
	}
	byID, err := p.Users(ctx, users, as)
	require.NoError(t, err)
	for _, id := range users {
		if want, err := s.GetUser(admin, id); err == nil {
			sameJSON(t, want, byID[id], "user %s as of %+v", id, as)
		}
	}
	var allReqs []entitlement.AssignmentRequest
	for _, pkg := range w.Packages {
		want, err := s.ListAssignments(admin, entitlement.AssignmentFilter{AccessPackageID: pkg, IncludeEnded: true})
		if err != nil {
			want = nil // the package did not exist yet
		}
		got, err := p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg, IncludeEnded: true}, as)
		require.NoError(t, err)
		sameJSON(t, want, got, "assignments of %s as of %+v", pkg, as)
		checkPages(t, got, func(top int, after string) ([]entitlement.Assignment, error) {
			return p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg, IncludeEnded: true, Top: top, After: after}, as)
		}, func(a entitlement.Assignment) string { return a.ID }, "pages of the assignments of %s as of %+v", pkg, as)
		if err == nil {
			checkPages(t, want, func(top int, after string) ([]entitlement.Assignment, error) {
				return s.ListAssignments(admin, entitlement.AssignmentFilter{AccessPackageID: pkg, IncludeEnded: true, Top: top, After: after})
			}, func(a entitlement.Assignment) string { return a.ID }, "the State's pages of the assignments of %s", pkg)
		}
		for _, state := range []string{entitlement.AssignmentStateDelivered, entitlement.AssignmentStateExpired} {
			want, _ := s.ListAssignments(admin, entitlement.AssignmentFilter{AccessPackageID: pkg, State: state})
			got, err := p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg, State: state}, as)
			require.NoError(t, err)
			sameJSON(t, want, got, "%s assignments of %s as of %+v", state, pkg, as)
			checkPages(t, got, func(top int, after string) ([]entitlement.Assignment, error) {
				return p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg, State: state, Top: top, After: after}, as)
			}, func(a entitlement.Assignment) string { return a.ID }, "pages of the %s assignments of %s as of %+v", state, pkg, as)
		}
		gotReqs, err := p.Requests(ctx, RequestFilter{AccessPackageID: pkg}, as)
		require.NoError(t, err)
		wantReqs, err := s.ListAssignmentRequests(admin, pkg)
		if errors.Is(err, entitlement.ErrNotFound) {
			// The State lists no requests of a package that does not exist
			// (yet, or any more); the projection keeps those of a deleted
			// one, as the State keeps them.
			wantReqs = nil
			for _, r := range gotReqs {
				want, err := s.GetAssignmentRequest(admin, r.ID)
				require.NoError(t, err, "request %s of deleted package %s as of %+v", r.ID, pkg, as)
				wantReqs = append(wantReqs, want)
			}
		}
		sameJSON(t, wantReqs, gotReqs, "requests of %s as of %+v", pkg, as)
		allReqs = append(allReqs, wantReqs...)
		checkPages(t, gotReqs, func(top int, after string) ([]entitlement.AssignmentRequest, error) {
			return p.Requests(ctx, RequestFilter{AccessPackageID: pkg, Top: top, After: after}, as)
		}, func(r entitlement.AssignmentRequest) string { return r.ID }, "pages of the requests of %s as of %+v", pkg, as)
		for _, other := range w.Packages {
			if other == pkg {
				continue
			}
			want, err := s.AdditionalAccess(admin, pkg, other)
			if err != nil {
				want = nil
			}
			got, err := p.AdditionalAccess(ctx, AdditionalAccessFilter{AccessPackageID: pkg, IncompatibleAccessPackageID: other}, as)
			require.NoError(t, err)
			sameJSON(t, want, got, "additional access %s/%s as of %+v", pkg, other, as)
			checkPages(t, got, func(top int, after string) ([]entitlement.Assignment, error) {
				return p.AdditionalAccess(ctx, AdditionalAccessFilter{AccessPackageID: pkg, IncompatibleAccessPackageID: other, Top: top, After: after}, as)
			}, func(a entitlement.Assignment) string { return a.ID }, "pages of additional access %s/%s as of %+v", pkg, other, as)
		}
	}
	// Requests by requestor, by target and by state, in pages.
	slices.SortFunc(allReqs, func(x, y entitlement.AssignmentRequest) int {
		return cmp.Or(x.CreatedDateTime.Compare(y.CreatedDateTime), cmp.Compare(x.ID, y.ID))
	})
	reqID := func(r entitlement.AssignmentRequest) string { return r.ID }
	for _, f := range []RequestFilter{{RequestorID: w.Users[0]}, {TargetID: w.Users[0]}, {State: entitlement.RequestStatePendingApproval},
		{State: entitlement.RequestStateDelivered}, {RequestorID: w.Users[0], State: entitlement.RequestStateDelivered}} {
		want := slices.DeleteFunc(slices.Clone(allReqs), func(r entitlement.AssignmentRequest) bool {
			return f.RequestorID != "" && r.RequestorID != f.RequestorID || f.TargetID != "" && r.TargetID != f.TargetID ||
				f.State != "" && r.State != f.State
		})
		got, err := p.Requests(ctx, f, as)
		require.NoError(t, err)
		sameJSON(t, want, got, "requests %+v as of %+v", f, as)
		checkPages(t, got, func(top int, after string) ([]entitlement.AssignmentRequest, error) {
			f.Top, f.After = top, after
			return p.Requests(ctx, f, as)
		}, reqID, "pages of the requests %+v as of %+v", f, as)
	}
	holders := map[RoleRef][]entitlement.ResourceAccess{}
	for _, u := range users {
		want := s.EffectiveAccess(admin, u)
		got, err := p.ResourceRolesOf(ctx, u, as)
		require.NoError(t, err)
		gotAccess := make([]entitlement.ResourceAccess, len(got))
		for i, g := range got {
			gotAccess[i] = g.ResourceAccess
			if r, err := s.GetAssignmentRequest(admin, g.RequestID); err == nil {
				require.Equal(t, r.PolicyVersion, g.PolicyVersion, "policy version of %s", g.RequestID)
			}
		}
		sameJSON(t, want, gotAccess, "resource roles of %s as of %+v", u, as)
		for _, r := range want {
			k := RoleRef{ResourceID: r.ResourceID, RoleID: r.RoleID}
			holders[k] = append(holders[k], r)
		}

		wantPkgs := map[string]bool{}
		live, _ := s.ListAssignments(admin, entitlement.AssignmentFilter{TargetID: u})
		for _, a := range live {
			wantPkgs[a.AccessPackageID] = true
		}
		gotPkgs, err := p.AccessPackagesOf(ctx, u, as)
		require.NoError(t, err)
		require.Len(t, gotPkgs, len(wantPkgs), "access packages of %s as of %+v", u, as)
		for _, pkg := range gotPkgs {
			require.True(t, wantPkgs[pkg.ID], "access packages of %s as of %+v: %s", u, as, pkg.ID)
			want, err := s.GetAccessPackage(admin, pkg.ID)
			require.NoError(t, err)
			sameJSON(t, want, pkg)
		}

		wantPending := s.ApprovalsForApprover(entitlement.UserActor(u))
		gotPending, err := p.PendingApprovals(ctx, u, as)
		require.NoError(t, err)
		sameJSON(t, wantPending, gotPending, "pending approvals of %s as of %+v", u, as)

		wantRoles := s.ListRoleAssignments(admin, entitlement.RoleAssignmentFilter{PrincipalID: u})
		gotRoles, err := p.RoleAssignments(ctx, u, as)
		require.NoError(t, err)
		sameJSON(t, wantRoles, gotRoles, "role assignments of %s as of %+v", u, as)
	}
	res, err := w.M.State().ResourcesOfCatalog(admin, w.Catalog)
	require.NoError(t, err)
	for _, r := range res {
		for _, role := range r.Roles {
			k := RoleRef{ResourceID: r.ID, RoleID: role.ID}
			got, err := p.Holders(ctx, HoldersFilter{Role: k}, as)
			require.NoError(t, err)
			gotAccess := make([]entitlement.ResourceAccess, len(got))
			for i, g := range got {
				gotAccess[i] = g.ResourceAccess
			}
			want := holders[k]
			slices.SortFunc(want, func(x, y entitlement.ResourceAccess) int {
				return cmp.Or(strings.Compare(x.AssignmentID, y.AssignmentID), strings.Compare(x.ResourceRoleScopeID, y.ResourceRoleScopeID))
			})
			sameJSON(t, want, gotAccess, "holders of %v as of %+v", k, as)
			checkPages(t, got, func(top int, after string) ([]RoleGrant, error) {
				f := HoldersFilter{Role: k, Top: top}
				if after != "" {
					last := got[slices.IndexFunc(got, func(g RoleGrant) bool { return grantKey(g) == after })]
					f.After = &last
				}
				return p.Holders(ctx, f, as)
			}, grantKey, "pages of the holders of %v as of %+v", k, as)
		}
	}
	wantOrgs, err := s.ListConnectedOrganizations(admin)
	require.NoError(t, err)
	gotOrgs, err := p.ConnectedOrganizations(ctx, as)
	require.NoError(t, err)
	sameJSON(t, wantOrgs, gotOrgs, "connected organizations as of %+v", as)
}

// TestPropertyProjection drives random command sequences by random actors
// (entitlementtest.World: requests, approvals, denials, time-outs,
// escalations, expiries processed on time, late or not yet, delivery
// failures, role scope and policy changes), catching a projection up at
// random moments in random batch sizes. Then the caught-up projection, a
// projection rebuilt from scratch and the State agree on every query; at
// random past instants and positions, the projection's as-of and
// as-known-at answers agree with the State folded over the events that
// were valid and recorded by then; and the caught-up and rebuilt
// projections are equal table by table.
func TestPropertyProjection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs without -short; goroutines do not meet in it")
	}
	dir := t.TempDir()
	run := 0
	steps := map[string]int{}
	defer func() { t.Logf("steps %v", steps) }()
	rapid.Check(t, func(rt *rapid.T) {
		run++
		ctx := context.Background()
		st := memstore.New(memstore.Options{Now: func() time.Time { return entitlementtest.T0 }})
		w := entitlementtest.NewWorld(rt, st)
		path := filepath.Join(dir, fmt.Sprintf("p%d", run))
		p, err := Open(ctx, st, path, Options{BatchSize: rapid.IntRange(1, 50).Draw(rt, "batch")})
		require.NoError(rt, err)
		defer p.Close()
		// Objects leave the writer's cache after every event, now and then,
		// or never in a world this small.
		p.w.maxCached = rapid.SampledFrom([]int{0, 3, maxCached}).Draw(rt, "maxCached")
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			name, _ := w.Step(rt)
			steps[name]++
			if rapid.IntRange(0, 3).Draw(rt, "catchUp") == 0 {
				_, err := p.CatchUp(ctx)
				require.NoError(rt, err)
				checkBelief(rt, p)
			}
		}
		cp, err := p.CatchUp(ctx)
		require.NoError(rt, err)
		checkBelief(rt, p)
		head, err := st.Head(ctx)
		require.NoError(rt, err)
		require.Equal(rt, head.Position, cp.Position)

		events := readLog(rt, st)
		checkQueries(rt, p, w, w.M.State(), Now)

		// A projection rebuilt from the whole log (Rebuild's load: no
		// journal, indexes and audit targets at the end) holds what the
		// one caught up event by event holds.
		rebuilt, err := Open(ctx, st, path+".fresh", Options{BatchSize: 1000})
		require.NoError(rt, err)
		defer rebuilt.Close()
		_, err = rebuilt.Rebuild(ctx, nil)
		require.NoError(rt, err)
		requireSameTables(rt, p, rebuilt)

		for range 8 {
			as := As{}
			switch rapid.IntRange(0, 3).Draw(rt, "asOf") {
			case 1:
				as.Of = entitlementtest.T0.Add(time.Duration(rapid.Int64Range(0, int64(w.Clock.Now().Sub(entitlementtest.T0))).Draw(rt, "of")))
			case 2, 3:
				// The instants where answers change: an event's valid time,
				// or just before it; most of all those of facts recorded
				// late.
				var late []logEvent
				for _, e := range events {
					if e.valid.Before(e.OccurredAt) {
						late = append(late, e)
					}
				}
				if len(late) == 0 || rapid.Bool().Draw(rt, "anyEvent") {
					late = events
				}
				e := rapid.SampledFrom(late).Draw(rt, "at")
				as.Of = e.valid.Add(-time.Duration(rapid.IntRange(0, 1).Draw(rt, "before")))
			}
			if rapid.Bool().Draw(rt, "knownAt") {
				as.KnownAt = eventstore.Position(rapid.Uint64Range(1, uint64(head.Position)).Draw(rt, "knownAt"))
			}
			checkQueries(rt, p, w, oracle(rt, events, as), as)
		}
	})
}

// checkBelief requires that at every position the projection believed at
// most one version of an object per valid time: a version replaced by a
// fact recorded late is closed where its replacement begins. Queries pick
// the latest valid time among the believed rows and would otherwise
// depend on the order of ties in an index.
func checkBelief(t require.TestingT, p *Projector) {
	db, err := p.readPool()
	require.NoError(t, err)
	rows, err := db.Query(`SELECT a.oid, a.valid_from, a.known_from, a.known_to, b.known_from, b.known_to
		FROM versions a JOIN versions b ON a.oid = b.oid AND a.valid_from = b.valid_from AND a.known_from < b.known_from
		WHERE a.known_to > b.known_from`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var oid, valid, af, at, bf, bt int64
		require.NoError(t, rows.Scan(&oid, &valid, &af, &at, &bf, &bt))
		require.Failf(t, "two versions believed at once", "object %d valid from %d: known [%d, %d) and [%d, %d)", oid, valid, af, at, bf, bt)
	}
	require.NoError(t, rows.Err())
	var empty int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM versions WHERE known_to <= known_from`).Scan(&empty))
	require.Zero(t, empty, "versions never believed")
}

// dump returns every row of every table of a projection, as text, and
// under "schema" its tables, indexes and views.
func dump(t require.TestingT, p *Projector) map[string][]string {
	db, err := p.readPool()
	require.NoError(t, err)
	rows, err := db.Query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Close())
	out := map[string][]string{}
	queries := map[string]string{"schema": "SELECT type, name, tbl_name, sql FROM sqlite_schema"}
	for _, table := range tables {
		queries[table] = "SELECT * FROM " + table
	}
	for table, q := range queries {
		rows, err := db.Query(q)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString("|")
				}
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprint(&b, v)
			}
			out[table] = append(out[table], b.String())
		}
		require.NoError(t, rows.Close())
		slices.Sort(out[table])
	}
	return out
}

// requireSameTables requires two projections to hold the same rows in
// every table.
func requireSameTables(t require.TestingT, a, b *Projector) {
	da, db := dump(t, a), dump(t, b)
	require.Equal(t, slices.Sorted(maps.Keys(da)), slices.Sorted(maps.Keys(db)))
	for table, rows := range da {
		require.Equal(t, rows, db[table], "table %s", table)
	}
}

// checkWhy checks the explanation of every role held as of as against the
// State s and the log.
func checkWhy(t require.TestingT, p *Projector, w *entitlementtest.World, s *entitlement.State, as As) {
	ctx := context.Background()
	for _, u := range w.Users {
		for _, g := range s.EffectiveAccess(w.Admin, u) {
			role := RoleRef{ResourceID: g.ResourceID, RoleID: g.RoleID, ScopeID: g.ScopeID}
			x, err := p.Why(ctx, u, role, as)
			require.NoError(t, err)
			var c *Cause
			for i := range x.Causes {
				if x.Causes[i].Assignment.ID == g.AssignmentID {
					c = &x.Causes[i]
				}
			}
			require.NotNil(t, c, "why %s holds %v as of %+v: no cause through %s", u, role, as, g.AssignmentID)
			require.Equal(t, entitlement.EventAssignmentDelivering, c.Created.EventType)
			require.Equal(t, entitlement.EventResourceAssignmentFulfilled, c.Delivered.EventType)
			require.False(t, c.Delivered.ActivityDateTime.After(as.Of) && !as.Of.IsZero())
			a, err := s.GetAssignment(w.Admin, g.AssignmentID)
			require.NoError(t, err)
			sameJSON(t, a, c.Assignment)
			if r, err := s.GetAssignmentRequest(w.Admin, a.RequestID); err == nil {
				require.Equal(t, r.RequestorID, c.Requested.ActorID)
				require.Equal(t, r.PolicyVersion, c.PolicyVersion)
				decided := 0
				for _, st := range r.Stages {
					if st.ReviewedDateTime != nil {
						decided++
					}
				}
				require.Len(t, c.Decisions, decided, "decisions on %s", r.ID)
				sameJSON(t, r.Policy, c.Policy)
			}
			require.NoError(t, x.Check(ctx, w.Store, nil))
		}
	}
	for _, pkg := range w.Packages {
		rs, err := s.ListAssignmentRequests(w.Admin, pkg)
		if err != nil {
			continue
		}
		for _, r := range rs {
			h, err := p.RequestHistory(ctx, r.ID, as)
			require.NoError(t, err)
			sameJSON(t, r, h.Request, "request history of %s as of %+v", r.ID, as)
			require.NotEmpty(t, h.Events)
			require.True(t, strings.HasSuffix(h.Events[0].EventType, "RequestCreated"), "history of %s begins with %s", r.ID, h.Events[0].EventType)
			decided := 0
			for _, st := range r.Stages {
				if st.ReviewedDateTime != nil {
					decided++
				}
			}
			require.Len(t, h.Decisions, decided, "decisions on %s as of %+v", r.ID, as)
			if h.Assignment == nil {
				continue
			}
			a, err := s.GetAssignment(w.Admin, r.AssignmentID)
			require.NoError(t, err)
			sameJSON(t, a, *h.Assignment)
			for _, rec := range a.Resources {
				if rec.Status != entitlement.DeliveryFulfilled && rec.Status != entitlement.DeliveryFailed {
					continue
				}
				var last *Delivery
				for i := range h.Deliveries {
					if h.Deliveries[i].ResourceRoleScopeID == rec.ResourceRoleScopeID {
						last = &h.Deliveries[i]
					}
				}
				require.NotNil(t, last, "no delivery of %s to %s as of %+v", rec.ResourceRoleScopeID, a.ID, as)
				want := entitlement.EventResourceAssignmentFulfilled
				if rec.Status == entitlement.DeliveryFailed {
					want = entitlement.EventResourceAssignmentFailed
					require.Equal(t, rec.Reason, last.Reason)
				}
				require.Equal(t, want, last.Outcome)
			}
		}
	}
}
