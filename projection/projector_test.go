package projection

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/entitlement/entitlementtest"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/stretchr/testify/require"
)

// buildLog writes a history to a SQLite log in dir: users with managers,
// a catalog with a group resource, a package whose policy wants the
// manager's approval and lasts five days, then days on which users
// request it, managers approve or deny, and due work (notices, expiries)
// is processed.
func buildLog(t testing.TB, dir string, users, days int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, "ledger.db")
	now := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	st, err := sqlitestore.Open(path, sqlitestore.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	defer st.Close()
	m, err := entitlement.NewManager(ctx, st, entitlement.Options{Clock: clockFunc(func() time.Time { return now }),
		IDs: entitlement.SeededIDs(uint64(users)), NoSnapshot: true})
	require.NoError(t, err)
	run := func(a entitlement.Actor, cmd entitlement.Command) entitlement.Result {
		r, err := m.Execute(ctx, a, cmd)
		var refused *entitlement.Error
		if !errors.As(err, &refused) {
			require.NoError(t, err)
		}
		return r
	}
	sys := entitlement.SystemActor()
	admin := entitlement.UserActor(entitlementtest.NameID("admin"), entitlement.GlobalAdministrator)
	run(sys, entitlement.PutUser{User: entitlement.User{ID: admin.ID, DisplayName: "admin", AccountEnabled: true}})
	ids := make([]string, users)
	for i := range ids {
		ids[i] = entitlementtest.NameID(fmt.Sprintf("user/%d", i))
		u := entitlement.User{ID: ids[i], DisplayName: fmt.Sprintf("u%d", i), AccountEnabled: true}
		if i > 0 {
			u.ManagerID = ids[(i-1)/4]
		}
		run(sys, entitlement.PutUser{User: u})
	}
	group := entitlementtest.NameID("group")
	run(sys, entitlement.PutGroup{Group: entitlement.Group{ID: group, DisplayName: "Sales", SecurityEnabled: true}})
	catalog := run(admin, entitlement.CreateCatalog{DisplayName: "Sales"}).ID
	run(admin, entitlement.CreateResourceRequest{RequestType: entitlement.RequestTypeAdminAdd, CatalogID: catalog,
		Resource: entitlement.ResourceSpec{OriginID: group, OriginSystem: entitlement.OriginSystemAadGroup}})
	res, err := m.State().ResourcesOfCatalog(admin, catalog)
	require.NoError(t, err)
	pkg := run(admin, entitlement.CreateAccessPackage{CatalogID: catalog, DisplayName: "Sales tools"}).ID
	run(admin, entitlement.AddResourceRoleScope{AccessPackageID: pkg, RoleID: res[0].Roles[0].ID, ScopeID: res[0].Scopes[0].ID})
	policy := run(admin, entitlement.CreateAssignmentPolicy{Policy: entitlement.AssignmentPolicy{
		DisplayName: "Employees", AccessPackageID: pkg, AllowedTargetScope: entitlement.ScopeAllMemberUsers,
		RequestorSettings: entitlement.RequestorSettings{EnableTargetsToSelfAddAccess: true},
		RequestApprovalSettings: entitlement.ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []entitlement.ApprovalStage{{
			DurationBeforeAutomaticDenial: entitlement.DurationDays(3),
			PrimaryApprovers:              []entitlement.SubjectSet{{Kind: entitlement.RequestorManager, ManagerLevel: 1}},
			FallbackPrimaryApprovers:      []entitlement.SubjectSet{{Kind: entitlement.SingleUser, UserID: admin.ID}},
		}}},
		Expiration: entitlement.ExpirationPattern{Type: entitlement.ExpirationAfterDuration, Duration: entitlement.DurationDays(5)},
	}}).ID
	for day := range days {
		for i, id := range ids {
			if (i+day)%3 != 0 {
				continue
			}
			run(entitlement.UserActor(id), entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
				AccessPackageID: pkg, AssignmentPolicyID: policy, Justification: fmt.Sprint("day ", day)})
		}
		now = now.Add(2 * time.Hour)
		for _, id := range append([]string{admin.ID}, ids...) {
			for k, pa := range m.State().ApprovalsForApprover(entitlement.UserActor(id)) {
				decision := entitlement.DecisionApprove
				if k%5 == 4 {
					decision = entitlement.DecisionDeny
				}
				run(entitlement.UserActor(id), entitlement.UpdateApprovalStage{ApprovalID: pa.Request.ID, StageID: pa.Stage.ID,
					ReviewResult: decision, Justification: "ok"})
			}
		}
		now = now.Add(22 * time.Hour)
		_, err := m.ProcessDue(ctx, now)
		require.NoError(t, err)
	}
	return path
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

func openLog(t testing.TB, path string) *sqlitestore.Store {
	t.Helper()
	st, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func openProjection(t testing.TB, log Log, path string, opts Options) *Projector {
	t.Helper()
	p, err := Open(context.Background(), log, path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// caughtUp returns a projection, caught up, of a log buildLog writes in a
// directory of the test's.
func caughtUp(t testing.TB, users, days int) *Projector {
	t.Helper()
	dir := t.TempDir()
	p := openProjection(t, openLog(t, buildLog(t, dir, users, days)), filepath.Join(dir, "p.projection"), Options{})
	_, err := p.CatchUp(context.Background())
	require.NoError(t, err)
	return p
}

// TestHelperKilledCatchUp is not a test: TestKilledCatchUpResumes runs the
// test binary with it, to be killed in the middle of a catch-up.
func TestHelperKilledCatchUp(t *testing.T) {
	logPath, projPath := os.Getenv("PROJECTION_KILL_LOG"), os.Getenv("PROJECTION_KILL_PROJECTION")
	if logPath == "" {
		t.Skip("run by TestKilledCatchUpResumes")
	}
	st := openLog(t, logPath)
	p := openProjection(t, st, projPath, Options{BatchSize: 50})
	batches := 0
	_, err := catchUp(context.Background(), st, p.w, Checkpoint{}, p.opts, func(pr Progress) {
		if batches++; batches == 3 {
			os.Stdout.WriteString("applied " + strconv.FormatUint(uint64(pr.Applied), 10) + "\n")
		}
	})
	require.NoError(t, err)
}

// TestKilledCatchUpResumes kills a process (SIGKILL) in the middle of a
// catch-up; the next CatchUp resumes from the checkpoint its last
// committed batch wrote and ends equal, table by table, to a rebuild.
func TestKilledCatchUpResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs without -short")
	}
	dir := t.TempDir()
	logPath := buildLog(t, dir, 200, 20)
	projPath := filepath.Join(dir, "killed.projection")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledCatchUp$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROJECTION_KILL_LOG="+logPath, "PROJECTION_KILL_PROJECTION="+projPath)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the helper printed %q", line)
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()

	st := openLog(t, logPath)
	head, err := st.Head(context.Background())
	require.NoError(t, err)
	killed := openProjection(t, st, projPath, Options{BatchSize: 50})
	cp, err := killed.Checkpoint(context.Background())
	require.NoError(t, err)
	require.Greater(t, cp.Position, eventstore.Position(0), "no batch committed before the kill")
	require.Less(t, cp.Position, head.Position, "the catch-up finished before the kill")
	t.Logf("killed at checkpoint %d of %d (%s)", cp.Position, head.Position, line)

	cp, err = killed.CatchUp(context.Background())
	require.NoError(t, err)
	require.Equal(t, head.Position, cp.Position)
	rebuilt := openProjection(t, st, filepath.Join(dir, "rebuilt.projection"), Options{})
	_, err = rebuilt.Rebuild(context.Background(), nil)
	require.NoError(t, err)
	requireSameTables(t, killed, rebuilt)
}

// TestCheckpointMismatch: a projection whose log was replaced by another
// or truncated refuses to catch up, and Rebuild repairs it.
func TestCheckpointMismatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logPath := buildLog(t, dir, 100, 5)
	projPath := filepath.Join(dir, "p.projection")
	p, err := Open(ctx, openLog(t, logPath), projPath, Options{})
	require.NoError(t, err)
	cp, err := p.CatchUp(ctx)
	require.NoError(t, err)
	require.NoError(t, p.Close())

	// Another log about as long: other events at the same positions.
	otherLog := openLog(t, buildLog(t, t.TempDir(), 101, 5))
	head, err := otherLog.Head(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, head.Position, cp.Position/2)

	p = openProjection(t, otherLog, projPath, Options{})
	_, err = p.CatchUp(ctx)
	require.ErrorIs(t, err, ErrCheckpointMismatch)
	got, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, cp, got, "a refused catch-up changed the checkpoint")

	// Rebuild starts from the log it has.
	cp2, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, head.Position, cp2.Position)
	require.Equal(t, head.Hash, cp2.Hash)
	_, err = p.CatchUp(ctx)
	require.NoError(t, err)

	// A truncated log: the checkpoint's position is beyond its end.
	shortLog := openLog(t, buildLog(t, t.TempDir(), 10, 1))
	q := openProjection(t, shortLog, projPath+".copy", Options{})
	require.NoError(t, copyCheckpoint(ctx, q, cp2))
	_, err = q.CatchUp(ctx)
	require.ErrorIs(t, err, ErrCheckpointMismatch)
}

// TestDamagedProjection (found by an adversarial review): a checkpoint
// set back to an earlier event of the log, with its true hash, made the
// next catch-up fail on the rows already there with SQLite's bare error.
// It is ErrDamaged, and Rebuild repairs it.
func TestDamagedProjection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := openLog(t, buildLog(t, dir, 20, 3))
	p := openProjection(t, log, filepath.Join(dir, "p.projection"), Options{})
	cp, err := p.CatchUp(ctx)
	require.NoError(t, err)
	var earlier Checkpoint
	for e, err := range log.ReadAll(ctx, cp.Position/2-1) {
		require.NoError(t, err)
		earlier = Checkpoint{Position: e.Position, Hash: e.Hash}
		break
	}
	require.NoError(t, copyCheckpoint(ctx, p, earlier))
	_, err = p.CatchUp(ctx)
	require.ErrorIs(t, err, ErrDamaged)
	got, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, earlier, got, "a refused catch-up changed the checkpoint")
	rebuilt, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, cp, rebuilt)
}

// TestChainBrokenInTheLog: an event changed in place in the log (its
// stored hash kept) stops a catch-up and a rebuild at that event, with the
// chain's error; nothing after the last good batch is applied.
func TestChainBrokenInTheLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logPath := buildLog(t, dir, 60, 3)
	db, err := sql.Open("sqlite", logPath)
	require.NoError(t, err)
	_, err = db.Exec("DROP TRIGGER events_no_update")
	require.NoError(t, err)
	_, err = db.Exec("UPDATE events SET payload = payload || ' ' WHERE position = 30")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	p := openProjection(t, openLog(t, logPath), filepath.Join(dir, "p.projection"), Options{BatchSize: 10})
	cp, err := p.CatchUp(ctx)
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(30), ce.Position)
	require.Contains(t, err.Error(), "the log does not verify")
	require.Equal(t, eventstore.Position(20), cp.Position, "the batches before the broken event are kept")
	_, err = p.Rebuild(ctx, nil)
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(30), ce.Position)
}

// copyCheckpoint writes a checkpoint into a projection, as if it had
// caught up to it.
func copyCheckpoint(ctx context.Context, p *Projector, cp Checkpoint) error {
	b, err := begin(ctx, p.w)
	if err != nil {
		return err
	}
	return b.commit(cp)
}

// TestAutoCheckpoint: the projection in use checkpoints its WAL at
// autoCheckpoint pages, not SQLite's default.
func TestAutoCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := openProjection(t, openLog(t, buildLog(t, dir, 5, 1)), filepath.Join(dir, "p.projection"), Options{})
	ck, err := sqlitex.Pragma(ctx, p.db.Write, "wal_autocheckpoint")
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(autoCheckpoint), ck)
}

// TestSchemaVersion: a projection of another schema version is deleted
// and rebuilt from the log, once no other process has it open; a file
// that is no projection is refused.
func TestSchemaVersion(t *testing.T) {
	defer func(w time.Duration) { replaceWait = w }(replaceWait)
	replaceWait = 200 * time.Millisecond // the wait for the holder that never lets go
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 50, 2))
	path := filepath.Join(dir, "p.projection")
	p, err := Open(ctx, st, path, Options{})
	require.NoError(t, err)
	cp, err := p.CatchUp(ctx)
	require.NoError(t, err)
	setOtherSchemaVersion(t, p)
	// Another process (an older program) has it open: it is not deleted
	// from under it.
	_, err = Open(ctx, st, path, Options{})
	require.ErrorIs(t, err, ErrProjectionInUse)
	require.Contains(t, err.Error(), `schema version "0"`)
	require.NoError(t, p.Close())
	require.Equal(t, "0", schemaVersionOf(t, path), "deleted from under the process that had it open")

	p = openProjection(t, st, path, Options{})
	empty, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, Checkpoint{}, empty, "the old projection was kept")
	again, err := p.CatchUp(ctx)
	require.NoError(t, err)
	require.Equal(t, cp, again)

	foreign := filepath.Join(dir, "foreign.db")
	f, err := sqlitestore.Open(foreign, sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Open(ctx, st, foreign, Options{})
	require.ErrorIs(t, err, ErrNotProjection)

	// Another program's database with a table named meta and a schema
	// version in it (found by a review: it was deleted and replaced by a
	// projection) is left alone, whatever its name; a projection made
	// before projections were marked is rebuilt under its default name.
	for _, name := range []string{"app.db", "app.projection"} {
		other := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", other)
		require.NoError(t, err)
		_, err = db.Exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '7');
			CREATE TABLE important (x); INSERT INTO important VALUES (42)`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		before, err := os.ReadFile(other)
		require.NoError(t, err)
		p, err := Open(ctx, st, other, Options{})
		if name == "app.db" {
			require.ErrorIs(t, err, ErrNotProjection)
			after, err := os.ReadFile(other)
			require.NoError(t, err)
			require.Equal(t, before, after, "left alone, byte for byte (review: opened read-write, it was switched to WAL)")
			continue
		}
		require.NoError(t, err)
		require.NoError(t, p.Close())
		require.Equal(t, schemaVersion, schemaVersionOf(t, other))
	}
}

// schemaVersionOf reads the schema version of the projection file at path
// on a connection of its own.
func schemaVersionOf(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open(sqlitex.DriverName, "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	v, err := readSchemaVersion(context.Background(), db)
	require.NoError(t, err)
	return v
}

// setOtherSchemaVersion makes p's file one of another schema version, as
// an older program would have written it.
func setOtherSchemaVersion(t *testing.T, p *Projector) {
	t.Helper()
	_, err := p.db.Write.Exec("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
	require.NoError(t, err)
}

// openAtOnce opens n projectors of path at once, as n processes would,
// and catches each up.
func openAtOnce(t *testing.T, st *sqlitestore.Store, path string, n int) []*Projector {
	t.Helper()
	ps := make([]*Projector, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range ps {
		wg.Go(func() {
			if ps[i], errs[i] = Open(context.Background(), st, path, Options{}); errs[i] == nil {
				_, errs[i] = ps[i].CatchUp(context.Background())
			}
		})
	}
	wg.Wait()
	for i := range ps {
		require.NoError(t, errs[i], "projector %d", i)
	}
	return ps
}

// TestOpenOtherSchemaVersionAtOnce: processes that open a projection of
// another schema version at once all open it: one recreates it, the others
// wait for it and read the new file (found by a review: one of them used
// to fail).
func TestOpenOtherSchemaVersionAtOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 5, 1))
	for round := range 10 {
		path := filepath.Join(dir, fmt.Sprintf("p%d.db", round)) // marked as a projection, whatever its name
		p, err := Open(ctx, st, path, Options{})
		require.NoError(t, err)
		setOtherSchemaVersion(t, p)
		require.NoError(t, p.Close())

		for _, p := range openAtOnce(t, st, path, 3) {
			require.NoError(t, p.Close())
		}
		require.Equal(t, schemaVersion, schemaVersionOf(t, path))
	}
}

// TestRebuildWhileReading: Rebuild swaps in a projection equal to one
// caught up incrementally, and queries answer before and after it.
func TestRebuildWhileReading(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 100, 10))
	p := openProjection(t, st, filepath.Join(dir, "p.projection"), Options{BatchSize: 7})
	_, err := p.CatchUp(ctx)
	require.NoError(t, err)
	before, err := p.AuditLog(ctx, AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, before, 10)

	inc := dump(t, p)
	var progress []eventstore.Position
	_, err = p.Rebuild(ctx, func(pr Progress) { progress = append(progress, pr.Applied) })
	require.NoError(t, err)
	require.NotEmpty(t, progress)
	require.Equal(t, inc, dump(t, p))
	// The file was loaded without a journal; in use, it is in WAL mode.
	db, err := p.readPool()
	require.NoError(t, err)
	var mode string
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	after, err := p.AuditLog(ctx, AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, before, after)
	left, err := filepath.Glob(filepath.Join(dir, "p.projection.rebuild*"))
	require.NoError(t, err)
	require.Empty(t, left, "the rebuild file was left behind")
}

// TestConcurrentReadsCatchUpRebuild: queries run while CatchUp and Rebuild
// do; they see a consistent projection (an error only at the moment of
// the swap), and the result equals a projection caught up alone.
func TestConcurrentReadsCatchUpRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 60, 6))
	p := openProjection(t, st, filepath.Join(dir, "p.projection"), Options{BatchSize: 5})
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 2 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				query := func() error {
					if _, err := p.AuditLog(ctx, AuditFilter{Limit: 5}); err != nil {
						return err
					}
					_, err := p.Checkpoint(ctx)
					return err
				}
				if first := query(); first != nil {
					// Failed at the swap: asked again, it waits for the
					// swap to end and succeeds.
					if !failedDuringSwap(first) {
						errs <- fmt.Errorf("query: %w", first)
						return
					}
					if err := query(); err != nil {
						errs <- fmt.Errorf("asked again after %v: %w", first, err)
						return
					}
				}
			}
		}()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := p.CatchUp(ctx); err != nil {
			errs <- fmt.Errorf("catch up: %w", err)
			return
		}
		errs <- nil
	}()
	go func() {
		defer wg.Done()
		if _, err := p.Rebuild(ctx, nil); err != nil {
			errs <- fmt.Errorf("rebuild: %w", err)
			return
		}
		errs <- nil
	}()
	wg.Wait()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	close(done)
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	_, err := p.CatchUp(ctx)
	require.NoError(t, err)
	alone := openProjection(t, st, filepath.Join(dir, "alone.projection"), Options{})
	_, err = alone.CatchUp(ctx)
	require.NoError(t, err)
	requireSameTables(t, p, alone)
}

// failedDuringSwap reports whether a query failed because Rebuild closed
// the old file under it: its pool was closed, or its connection read the
// old file's WAL as it went (SQLite's I/O error).
func failedDuringSwap(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "database is closed") || strings.Contains(err.Error(), "disk I/O error"))
}

// TestViews: the views show each kind of object as it is now.
func TestViews(t *testing.T) {
	ctx := context.Background()
	p := caughtUp(t, 9, 2)
	db, err := p.readPool()
	require.NoError(t, err)
	for view, want := range map[string]int{
		"users": 10, "groups": 1, "catalogs": 2, // and General
		"resources": 1, "resource_roles": 2, "resource_scopes": 1,
		"access_packages": 1, "role_scopes": 1, "assignment_policies": 1, "connected_organizations": 0, "role_assignments": 1,
	} {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM "+view).Scan(&n), view)
		require.Equal(t, want, n, view)
	}
	var upn, manager string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT display_name, manager_id FROM users WHERE id = ?",
		entitlementtest.NameID("user/4")).Scan(&upn, &manager))
	require.Equal(t, "u4", upn)
	require.Equal(t, entitlementtest.NameID("user/0"), manager)
	var version int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT version FROM assignment_policies").Scan(&version))
	require.Equal(t, 1, version)
}

// TestTwoProcessesOpenAndRebuild (found by a review as a new user): two
// projectors, as two processes would, create one new projection at once:
// both open it. Rebuild swaps a file in only when no other process has
// the projection open: otherwise it is ErrProjectionInUse before any
// replay, and nothing changes; once the other is closed, it succeeds.
func TestTwoProcessesOpenAndRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 20, 5))
	for round := range 4 {
		path := filepath.Join(dir, fmt.Sprintf("p%d.db", round)) // marked as a projection, whatever its name
		ps := openAtOnce(t, st, path, 2)
		before, err := ps[0].Checkpoint(ctx)
		require.NoError(t, err)
		_, err = ps[1].Rebuild(ctx, func(Progress) { t.Error("replayed a rebuild it could not swap in") })
		require.ErrorIs(t, err, ErrProjectionInUse)
		left, err := filepath.Glob(path + ".rebuild*")
		require.NoError(t, err)
		require.Empty(t, left)
		require.NoError(t, ps[0].Close())
		after, err := ps[1].Rebuild(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, before, after)
		require.NoError(t, ps[1].Close())
	}
}

// queryInFlight returns a projection caught up with a small log in a
// directory of the test's, its checkpoint, and a query left running on it:
// the query's pool, and its rows, which hold a connection to the file in
// use until closed.
func queryInFlight(t *testing.T) (dir string, st *sqlitestore.Store, p *Projector, cp Checkpoint, db *sql.DB, rows *sql.Rows) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	st = openLog(t, buildLog(t, dir, 20, 2))
	p = openProjection(t, st, filepath.Join(dir, "p.projection"), Options{})
	cp, err := p.CatchUp(ctx)
	require.NoError(t, err)
	db, err = p.readPool()
	require.NoError(t, err)
	rows, err = db.QueryContext(ctx, "SELECT position FROM audit ORDER BY position")
	require.NoError(t, err)
	require.True(t, rows.Next())
	return dir, st, p, cp, db, rows
}

// TestSwapWaitsForQueries: a query still running when Rebuild swaps the
// file in has a connection to the old file of its own; the swap waits for
// it to end. sql.DB.Close does not wait, and the last connection to the
// old file, closing after the rename, would checkpoint and delete the WAL
// by its path, by then the new file's.
func TestSwapWaitsForQueries(t *testing.T) {
	ctx := context.Background()
	dir, st, p, _, db, rows := queryInFlight(t)
	var ended atomic.Bool
	go func() {
		for db.PingContext(ctx) == nil { // until the swap closed the pool
			time.Sleep(time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // the query goes on a while
		ended.Store(true)
		rows.Close()
	}()
	_, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.True(t, ended.Load(), "the rebuild swapped the file in under a query")

	putLateUser(t, st)
	_, err = p.CatchUp(ctx)
	require.NoError(t, err)
	alone := openProjection(t, st, filepath.Join(dir, "alone.projection"), Options{})
	_, err = alone.CatchUp(ctx)
	require.NoError(t, err)
	requireSameTables(t, p, alone)
}

// TestSwapCanceledWhileWaiting: a rebuild whose context ends while its
// swap waits for a query leaves the projection in use, open (found by a
// review: the reopen used the ended context, and every query said the
// projection was closed).
func TestSwapCanceledWhileWaiting(t *testing.T) {
	ctx := context.Background()
	_, _, p, before, db, rows := queryInFlight(t)
	rctx, cancel := context.WithCancel(ctx)
	go func() {
		for db.PingContext(ctx) == nil { // until the swap closed the pool
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := p.Rebuild(rctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, rows.Close())
	cp, err := p.Checkpoint(ctx)
	require.NoError(t, err, "the projection in use is open again")
	require.Equal(t, before, cp)
}

// TestCloseWaitsForQueries: Close lets go of the lock that keeps other
// processes from swapping the file only once the queries still running
// have ended (or after closeWait), as a swap waits for them.
func TestCloseWaitsForQueries(t *testing.T) {
	ctx := context.Background()
	_, _, p, _, db, rows := queryInFlight(t)
	var ended atomic.Bool
	go func() {
		for db.PingContext(ctx) == nil { // until Close closed the pool
			time.Sleep(time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // the query goes on a while
		ended.Store(true)
		rows.Close()
	}()
	require.NoError(t, p.Close())
	require.True(t, ended.Load(), "Close let go under a query")

	defer func(w time.Duration) { closeWait = w }(closeWait)
	closeWait = 50 * time.Millisecond
	_, _, p, _, _, rows = queryInFlight(t)
	defer rows.Close()
	require.NoError(t, p.Close(), "a query never closed is not an error of Close, nor waited for past closeWait")
}

// readPool returns the pool queries read from, for tests that look at the
// file itself.
func (p *Projector) readPool() (*sql.DB, error) {
	p.dbMu.RLock()
	defer p.dbMu.RUnlock()
	if p.db == nil {
		return nil, errClosed
	}
	return p.db.Read, nil
}
