package workload

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/accessledger/accessledger/projection"
)

// ProjectionReport holds the figures of the projection's benchmark.
type ProjectionReport struct {
	Events int
	// CatchUp is the first catch-up of a new projection, in the process
	// that holds the Manager.
	CatchUp Rate
	// Rebuild is Rebuild after the Managers were dropped, the log read
	// without memory-mapping. BaseRSS is the process's resident set before
	// it and PeakRSS its peak during it (VmHWM, reset before; 0 where
	// /proc does not tell).
	Rebuild          Rate
	BaseRSS, PeakRSS uint64
	// Rows are the rows the rebuild wrote, FileBytes the projection's
	// size, and RawRows SQLite inserting as many rows of the same mean
	// size, nothing of accessledger, in transactions as large.
	Rows      int
	FileBytes int64
	RawRows   Rate
	// CatchUpOne is CatchUpTo the last position of one command (a request
	// delivered at once: about six events) right after Execute.
	CatchUpOne Latency
	// Queries are each query's latency as of now and as of an instant in
	// the middle of the history (names end in "now" or "past").
	Queries map[string]Latency
}

// RowsPerSecond returns the rows the rebuild wrote per second.
func (r *ProjectionReport) RowsPerSecond() float64 {
	if r.Rebuild.Elapsed <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Rebuild.Elapsed.Seconds()
}

// benchProjection measures the projection of the log at path: a first
// catch-up, catching up one command at a time, the queries as of now and
// as of past, and then, with m released and store closed, a Rebuild and
// its memory.
func benchProjection(ctx context.Context, path string, store *sqlitestore.Store, m *entitlement.Manager, t *Tenant,
	slots *openSlots, past time.Time, progress ProgressFunc) (*ProjectionReport, error) {
	rep := &ProjectionReport{Queries: map[string]Latency{}}
	progress.report("projection: catch up", 0, 1)
	p, err := projection.Open(ctx, store, projection.DefaultPath(path), projection.Options{})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	start := time.Now()
	cp, err := p.CatchUp(ctx)
	if err != nil {
		return nil, err
	}
	rep.CatchUp = Rate{N: int(cp.Position), Elapsed: time.Since(start)}

	progress.report("projection: catch up one command", 0, 1)
	var ds []time.Duration
	for range 1000 {
		if len(ds) == 300 {
			break
		}
		u, pkg := slots.next()
		r, err := m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: pkg.ID, AssignmentPolicyID: pkg.PolicyID})
		var refused *entitlement.Error
		if errors.As(err, &refused) {
			continue // a small tenant runs out of pairs that hold nothing yet
		}
		if err != nil {
			return nil, err
		}
		s := time.Now()
		if _, err := p.CatchUpTo(ctx, r.LastPosition()); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(s))
	}
	rep.CatchUpOne = latencyOf(ds)

	progress.report("projection: queries", 0, 1)
	if err := measureQueries(ctx, p, t, past, rep.Queries); err != nil {
		return nil, err
	}
	rep.Events = int(m.Head())

	// The rebuild, alone: the Managers' States released, and the
	// projection queried above and the log the Manager wrote through
	// closed, with their page caches and the log's memory map (256 MiB of
	// the resident set once the catch-up has read the log).
	progress.report("projection: rebuild", 0, rep.Events)
	if err := errors.Join(p.Close(), store.Close()); err != nil {
		return nil, err
	}
	t.m = nil
	m = nil
	runtime.GC()
	debug.FreeOSMemory()
	log, err := sqlitestore.Open(path, sqlitestore.Options{MmapSize: -1})
	if err != nil {
		return nil, err
	}
	defer log.Close()
	rebuilt, err := projection.Open(ctx, log, path+".rebuilt", projection.Options{})
	if err != nil {
		return nil, err
	}
	defer rebuilt.Close()
	resetPeakRSS()
	rep.BaseRSS = procStatus("VmRSS")
	start = time.Now()
	cp, err = rebuilt.Rebuild(ctx, func(pr projection.Progress) { progress.report("projection: rebuild", int(pr.Applied), rep.Events) })
	if err != nil {
		return nil, err
	}
	rep.Rebuild = Rate{N: int(cp.Position), Elapsed: time.Since(start)}
	rep.PeakRSS = PeakRSS()

	if rep.Rows, err = countRows(ctx, path+".rebuilt"); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + ".rebuilt"); err == nil {
		rep.FileBytes = fi.Size()
	}
	progress.report("projection: raw SQLite inserts of as many rows", 0, 1)
	rowBytes := int(rep.FileBytes / int64(max(1, rep.Rows)))
	rowsPerTx := rep.Rows * 10000 / max(1, rep.Rebuild.N)
	if rep.RawRows, err = RawInsertRows(ctx, filepath.Dir(path), rep.Rows, rowBytes, rowsPerTx); err != nil {
		return nil, err
	}
	return rep, nil
}

// measureQueries times every query of the projection on random arguments
// from the tenant, as of now and as of past.
func measureQueries(ctx context.Context, p *projection.Projector, t *Tenant, past time.Time, out map[string]Latency) error {
	rnd := rand.New(rand.NewPCG(t.Config.Seed, 7))
	user := func() User { return t.Users[rnd.IntN(len(t.Users))] }
	pkg := func() Package {
		c := rnd.IntN(len(t.Packages))
		return t.Packages[c][rnd.IntN(len(t.Packages[c]))]
	}
	// Roles, holders and requests to ask about, from users' answers: for
	// each moment, those that exist then, so that "why" and "request
	// history" time answers, not empty ones or not-found errors.
	type moment struct {
		holders   [][2]any // user id, role
		requests  []string
		approvers []string // of the requests waiting for an approval
	}
	var roles []projection.RoleRef
	var now, then moment
	for range 200 {
		u := user()
		gs, err := p.ResourceRolesOf(ctx, u.ID, projection.As{Of: past})
		if err != nil {
			return err
		}
		for _, g := range gs {
			r := projection.RoleRef{ResourceID: g.ResourceID, RoleID: g.RoleID}
			roles = append(roles, r)
			then.holders = append(then.holders, [2]any{u.ID, r})
		}
		for _, m := range []struct {
			as projection.As
			to *moment
		}{{projection.Now, &now}, {projection.As{Of: past}, &then}} {
			rs, err := p.Requests(ctx, projection.RequestFilter{RequestorID: u.ID}, m.as)
			if err != nil {
				return err
			}
			for _, r := range rs {
				m.to.requests = append(m.to.requests, r.ID)
				if r.State == entitlement.RequestStatePendingApproval {
					m.to.approvers = append(m.to.approvers, r.Stages[len(r.Stages)-1].Approvers...)
				}
			}
		}
	}
	// Few hold a role now (the expiry phase ended the history's
	// assignments): look further for them.
	for range 5000 {
		if len(now.holders) >= 50 {
			break
		}
		u := user()
		gs, err := p.ResourceRolesOf(ctx, u.ID, projection.Now)
		if err != nil {
			return err
		}
		for _, g := range gs {
			now.holders = append(now.holders, [2]any{u.ID, projection.RoleRef{ResourceID: g.ResourceID, RoleID: g.RoleID}})
		}
	}
	at := func(as projection.As) moment {
		if as == projection.Now {
			return now
		}
		return then
	}
	day := past.Truncate(24 * time.Hour)
	queries := map[string]func(projection.As) error{
		"assignments of a package, delivered": func(as projection.As) error {
			_, err := p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg().ID, State: entitlement.AssignmentStateDelivered}, as)
			return err
		},
		"assignments of a package, delivered, page of 100": func(as projection.As) error {
			_, err := p.Assignments(ctx, entitlement.AssignmentFilter{AccessPackageID: pkg().ID, State: entitlement.AssignmentStateDelivered, Top: 100}, as)
			return err
		},
		"access packages of a user": func(as projection.As) error { _, err := p.AccessPackagesOf(ctx, user().ID, as); return err },
		"resource roles of a user":  func(as projection.As) error { _, err := p.ResourceRolesOf(ctx, user().ID, as); return err },
		"holders of a role": func(as projection.As) error {
			_, err := p.Holders(ctx, projection.HoldersFilter{Role: roles[rnd.IntN(len(roles))]}, as)
			return err
		},
		"holders of a role, page of 100": func(as projection.As) error {
			_, err := p.Holders(ctx, projection.HoldersFilter{Role: roles[rnd.IntN(len(roles))], Top: 100}, as)
			return err
		},
		"requests of a package": func(as projection.As) error {
			_, err := p.Requests(ctx, projection.RequestFilter{AccessPackageID: pkg().ID}, as)
			return err
		},
		"requests of a package, page of 100": func(as projection.As) error {
			_, err := p.Requests(ctx, projection.RequestFilter{AccessPackageID: pkg().ID, Top: 100}, as)
			return err
		},
		"requests by a requestor": func(as projection.As) error {
			_, err := p.Requests(ctx, projection.RequestFilter{RequestorID: user().ID}, as)
			return err
		},
		"approvals waiting for an approver": func(as projection.As) error {
			ids := at(as).approvers
			_, err := p.PendingApprovals(ctx, ids[rnd.IntN(len(ids))], as)
			return err
		},
		"request history": func(as projection.As) error {
			rs := at(as).requests
			_, err := p.RequestHistory(ctx, rs[rnd.IntN(len(rs))], as)
			return err
		},
		"additional access": func(as projection.As) error {
			c := rnd.IntN(len(t.Packages))
			a, b := t.Packages[c][0], t.Packages[c][1]
			_, err := p.AdditionalAccess(ctx, projection.AdditionalAccessFilter{AccessPackageID: a.ID, IncompatibleAccessPackageID: b.ID}, as)
			return err
		},
		"additional access, page of 100": func(as projection.As) error {
			c := rnd.IntN(len(t.Packages))
			a, b := t.Packages[c][0], t.Packages[c][1]
			_, err := p.AdditionalAccess(ctx, projection.AdditionalAccessFilter{AccessPackageID: a.ID, IncompatibleAccessPackageID: b.ID, Top: 100}, as)
			return err
		},
		"connected organizations": func(as projection.As) error { _, err := p.ConnectedOrganizations(ctx, as); return err },
		"audit log of an actor, 100": func(as projection.As) error {
			_, err := p.AuditLog(ctx, projection.AuditFilter{ActorID: user().ID, AsKnownAt: as.KnownAt, To: as.Of, Limit: 100})
			return err
		},
		"audit log of a target, 100": func(as projection.As) error {
			_, err := p.AuditLog(ctx, projection.AuditFilter{TargetID: user().ID, AsKnownAt: as.KnownAt, To: as.Of, Limit: 100})
			return err
		},
		"audit log of a day, 100": func(as projection.As) error {
			_, err := p.AuditLog(ctx, projection.AuditFilter{From: day, To: day.Add(24 * time.Hour), AsKnownAt: as.KnownAt, Limit: 100})
			return err
		},
		"why": func(as projection.As) error {
			hs := at(as).holders
			h := hs[rnd.IntN(len(hs))]
			x, err := p.Why(ctx, h[0].(string), h[1].(projection.RoleRef), as)
			if err == nil && len(x.Causes) == 0 {
				return fmt.Errorf("no cause for a holder of the role")
			}
			return err
		},
	}
	if len(roles) == 0 {
		delete(queries, "holders of a role")
		delete(queries, "holders of a role, page of 100")
	}
	for name, q := range queries {
		for _, when := range []string{"now", "past"} {
			as := projection.Now
			if when == "past" {
				as = projection.As{Of: past}
			}
			m := at(as)
			if name == "why" && len(m.holders) == 0 || name == "request history" && len(m.requests) == 0 ||
				name == "approvals waiting for an approver" && len(m.approvers) == 0 {
				continue // nothing to ask about then
			}
			var ds []time.Duration
			for range 300 {
				s := time.Now()
				if err := q(as); err != nil {
					return fmt.Errorf("workload: %s: %w", name, err)
				}
				ds = append(ds, time.Since(s))
			}
			out[name+", "+when] = latencyOf(ds)
		}
	}
	return nil
}

// countRows counts the rows of every table of a SQLite file.
func countRows(ctx context.Context, path string) (int, error) {
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path, sqlitex.Options{}, true))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table'")
	if err != nil {
		return 0, err
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, n)
	}
	rows.Close()
	total := 0
	for _, t := range tables {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// RawInsertRows measures SQLite inserting n rows of about size bytes, in
// transactions of perTx rows, into a table with an integer key and one
// index, unsynced as a rebuild writes: what the projection's rebuild is
// compared with.
func RawInsertRows(ctx context.Context, dir string, n, size, perTx int) (Rate, error) {
	path := filepath.Join(dir, "raw-rows.db")
	defer os.Remove(path)
	defer os.Remove(path + "-wal")
	defer os.Remove(path + "-shm")
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path, sqlitex.Options{Synchronous: sqlitex.SyncOff, BusyTimeout: 5 * time.Second, CacheSize: -96 << 10}, false))
	if err != nil {
		return Rate{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL);
		CREATE INDEX IF NOT EXISTS raw_k ON raw (k)`); err != nil {
		return Rate{}, fmt.Errorf("workload: raw rows: %w", err)
	}
	payload := strings.Repeat("x", max(1, size-40))
	perTx = max(1, perTx)
	start := time.Now()
	for i := 0; i < n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return Rate{}, err
		}
		st, err := tx.PrepareContext(ctx, "INSERT INTO raw (id, k, v) VALUES (?, ?, ?)")
		if err != nil {
			tx.Rollback()
			return Rate{}, err
		}
		for j := 0; j < perTx && i < n; j, i = j+1, i+1 {
			if _, err := st.ExecContext(ctx, i+1, strconv.Itoa(i*7919%1000003), payload); err != nil {
				tx.Rollback()
				return Rate{}, fmt.Errorf("workload: raw rows: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return Rate{}, err
		}
	}
	return Rate{N: n, Elapsed: time.Since(start)}, nil
}

// resetPeakRSS resets the process's peak resident set (Linux 4.0 and
// later); elsewhere it does nothing and the peak is the process's.
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM),
// or 0 where /proc does not tell.
func PeakRSS() uint64 { return procStatus("VmHWM") }

// procStatus returns a memory figure of /proc/self/status in bytes, 0 if
// there is none.
func procStatus(field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
