package projection

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	jsonv2 "github.com/go-json-experiment/json"
)

// As says which moment a query answers about. The zero As is the latest:
// everything the projection has applied.
//
// Of is the valid-time instant: the answer is what was true then, as the
// projection knows it (an assignment that expired at 09:00 on 3 March was
// no longer held at 10:00 on 3 March, even if the expiry was recorded on
// the 10th). KnownAt is the log position: the answer is what the system
// believed once it had recorded that position, leaving out everything
// recorded later, including facts recorded late about earlier instants.
// It is the fold of the events up to P, literally: a P in the middle of a
// command's events (a command appends several, such as an approval and
// the assignment it delivers) shows the command half applied, which the
// system never believed; ask at a command's last position (its Result's
// LastPosition, a Checkpoint, an archive's head) for what it did. Both
// together answer "what did we believe at P about instant T". A
// KnownAt beyond what the projection has applied is answered with what it
// has applied, as Now is: bring it up to that position first (CatchUpTo).
// The projection holds instants as Unix nanoseconds (1677 to 2262): an Of
// after 2262, such as 9999-12-31, is after everything it holds, and one
// before 1678 before everything.
type As struct {
	Of      time.Time
	KnownAt eventstore.Position
}

// Now is the zero As: the latest of everything.
var Now As

// latest reports whether a is the zero As, which the objects table
// answers directly.
func (a As) latest() bool { return a.Of.IsZero() && a.KnownAt == 0 }

// The instants the tables hold are Unix nanoseconds: those Go can hold as
// such, from 1677-09-21 to 2262-04-11.
var (
	minInstant = time.Unix(0, math.MinInt64)
	maxInstant = time.Unix(0, math.MaxInt64)
)

// nanos returns an instant asked about as Unix nanoseconds. One past 2262
// (such as 9999-12-31, a common "end of time") is after everything the
// tables can hold, and one before 1677 before everything: UnixNano would
// wrap them around instead.
func nanos(t time.Time) int64 {
	switch {
	case t.After(maxInstant):
		return math.MaxInt64
	case t.Before(minInstant):
		return math.MinInt64
	}
	return t.UnixNano()
}

// bounds returns the valid time and position a query reads versions at.
func (a As) bounds() (int64, int64) {
	t, p := int64(math.MaxInt64), int64(math.MaxInt64-1)
	if !a.Of.IsZero() {
		t = nanos(a.Of)
	}
	if a.KnownAt != 0 {
		p = int64(a.KnownAt)
	}
	return t, p
}

// notEnded returns the condition that keeps the rows of assignments, or of
// their grants (under the alias given), that had not ended as of a: the
// tables keep every assignment ever made, and a long history's ended ones
// need not be read. Now, those without an end (ended_at is set with the
// expired state, and only then); in the past, the instant their end was
// valid from and the position it was known from (an assignment never
// comes back once ended).
func (a As) notEnded(alias string) (string, []any) {
	if a.latest() {
		return alias + ".ended_at IS NULL", nil
	}
	t, p := a.bounds()
	return "(" + alias + ".ended_at IS NULL OR " + alias + ".ended_at > ? OR " + alias + ".ended_known > ?)", []any{t, p}
}

// begun returns the condition that keeps the rows of assignments (under
// the alias given) that existed as of a: as of the past, created by an
// event whose valid time (began) is at or before the instant and whose
// position is at or before the one asked. Now every row qualifies, and
// the condition is "1".
func (a As) begun(alias string) (string, []any) {
	if a.latest() {
		return "1", nil
	}
	t, p := a.bounds()
	return alias + ".began <= ? AND " + alias + ".position <= ?", []any{t, p}
}

// held returns the condition that keeps the rows of assignments (under the
// alias given) that had begun and not ended as of a.
func (a As) held(alias string) (string, []any) {
	b, bargs := a.begun(alias)
	e, eargs := a.notEnded(alias)
	return b + " AND " + e, slices.Concat(bargs, eargs)
}

// ErrNotFound matches the error of a query for one object the projection
// does not hold as of the moment asked.
var ErrNotFound = errors.New("projection: not found")

// ErrInvalidQuery matches the error of a query whose arguments cannot be
// answered: a missing id, two ids that must differ, a negative Top, an
// After that names no item of the listing.
var ErrInvalidQuery = errors.New("projection: invalid query")

func invalidQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidQuery, fmt.Sprintf(format, args...))
}

// versionAt is the subquery that reads the version of object x.oid as of
// a valid time and a position: its parameters are the time, the position
// and the position again.
const versionAt = `(SELECT v.data FROM versions v WHERE v.oid = x.oid AND v.valid_from <= ? AND v.known_from <= ?
	AND v.known_to > ? ORDER BY v.valid_from DESC LIMIT 1)`

// objectsAt returns the JSON, as of as, of the objects the rows of from
// (aliased x, with an oid column) that match where select, leaving out
// those that did not exist then.
func objectsAt(ctx context.Context, db *sql.Conn, as As, from, where string, args ...any) ([][]byte, error) {
	var q string
	if as.latest() {
		q = "SELECT CAST(o.data AS BLOB) FROM " + from + " JOIN objects o ON o.oid = x.oid WHERE o.data IS NOT NULL"
	} else {
		t, p := as.bounds()
		q = "SELECT CAST(" + versionAt + " AS BLOB) FROM " + from + " WHERE 1"
		args = append([]any{t, p, p}, args...)
	}
	if where != "" {
		q += " AND " + where
	}
	var out [][]byte
	err := sqlitex.EachBytes(ctx, db, q, args, func(data []byte) {
		if data != nil {
			out = append(out, data)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("projection: query: %w", err)
	}
	return out, nil
}

// decodeAll decodes JSON objects; a list of 128 or more is decoded by as
// many goroutines as there are CPUs (one per 64 objects at most), each
// taking its own stretch, which it waits for before returning. Decoding
// is much of a long query's CPU, and a goroutine costs a microsecond.
func decodeAll[T any](datas [][]byte) ([]T, error) {
	out := make([]T, len(datas))
	decode := func(from, to int) error {
		for i := from; i < to; i++ {
			if err := jsonv2.Unmarshal(datas[i], &out[i]); err != nil {
				return fmt.Errorf("projection: decode: %w", err)
			}
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(datas)/64)
	if workers < 2 {
		return out, decode(0, len(datas))
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		from, to := w*len(datas)/workers, (w+1)*len(datas)/workers
		wg.Go(func() { errs[w] = decode(from, to) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// pages reads the rows of q, a query ordered by its first two columns
// that starts after the key args(after) binds and ends in LIMIT ? (unless
// top is 0), in rounds: the first reads as many rows as the page lacks,
// later ones more each time, since rows may be turned down. round gets
// each round's rows (cols columns) and returns how many results the page
// now holds; reading stops when that is top or the rows run out. A page of
// a long listing costs its own rows, not the listing's.
func pages(ctx context.Context, db *sql.Conn, q string, cols int, args func(after [2]any) []any, after [2]any, top int,
	round func(rows [][]any) (int, error)) error {
	for r, have := 0, 0; ; r++ {
		qargs := args(after)
		want := (top - have) << min(r, 6)
		if top > 0 {
			qargs = append(qargs, int64(want))
		}
		var rows [][]any
		err := sqlitex.EachRow(ctx, db, q, qargs, cols, func(row []driver.Value) error {
			after = [2]any{row[0], row[1]}
			r := make([]any, len(row))
			for i, v := range row {
				r[i] = v
			}
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return fmt.Errorf("projection: query: %w", err)
		}
		if have, err = round(rows); err != nil || top == 0 || have >= top || len(rows) < want {
			return err
		}
	}
}

// pageAt lists for the query op, as of as, the objects of table (aliased
// x, with oid, id and created columns) that where selects, in order of
// creation and id, from the one after the row with id after (from the
// first if after is empty). It keeps those keep returns of each round's
// objects (in their order), up to top of them (all if top is 0).
func pageAt[T any](ctx context.Context, db *sql.Conn, op string, as As, table, where string, args []any, top int, after string,
	keep func([]T) ([]T, error)) ([]T, error) {
	cursor := [2]any{int64(math.MinInt64), ""}
	if after != "" {
		var created int64
		err := db.QueryRowContext(ctx, "SELECT created FROM "+table+" WHERE id = ?", after).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalidQuery("%s: After: no %s has the id %s", op, strings.TrimSuffix(table, "s"), after)
		}
		if err != nil {
			return nil, fmt.Errorf("projection: query: %w", err)
		}
		cursor = [2]any{created, after}
	}
	data := "o.data"
	from := table + " x JOIN objects o ON o.oid = x.oid"
	var asArgs []any
	if !as.latest() {
		t, p := as.bounds()
		data, from, asArgs = versionAt, table+" x", []any{t, p, p}
	}
	q := "SELECT x.created, x.id, CAST(" + data + " AS BLOB) FROM " + from + " WHERE (x.created, x.id) > (?, ?)"
	if where != "" {
		q += " AND " + where
	}
	q += " ORDER BY x.created, x.id"
	if top > 0 {
		q += " LIMIT ?"
	}
	var out []T
	err := pages(ctx, db, q, 3, func(after [2]any) []any { return slices.Concat(asArgs, after[:], args) }, cursor, top,
		func(rows [][]any) (int, error) {
			var datas [][]byte
			for _, row := range rows {
				if b, ok := row[2].([]byte); ok {
					datas = append(datas, b)
				}
			}
			xs, err := decodeAll[T](datas)
			if err == nil {
				xs, err = keep(xs)
			}
			if err != nil {
				return 0, err
			}
			if top > 0 {
				xs = xs[:min(len(xs), top-len(out))]
			}
			out = append(out, xs...)
			return len(out), nil
		})
	return out, err
}

// listAt returns the objects of from/where as of as, decoded.
func listAt[T any](ctx context.Context, db *sql.Conn, as As, from, where string, args ...any) ([]T, error) {
	datas, err := objectsAt(ctx, db, as, from, where, args...)
	if err != nil {
		return nil, err
	}
	return decodeAll[T](datas)
}

// getAt returns one object of a kind as of as.
func getAt[T any](ctx context.Context, db *sql.Conn, as As, k *kind[T], id string) (T, error) {
	var zero T
	if id == "" {
		return zero, invalidQuery("no %s id", k.name)
	}
	xs, err := listAt[T](ctx, db, as, "objects x", "x.kind = ? AND x.id = ?", k.name, id)
	switch {
	case err != nil:
		return zero, err
	case len(xs) == 0:
		return zero, fmt.Errorf("%w: %s %s", ErrNotFound, k.name, id)
	}
	return xs[0], nil
}

// Assignment returns an assignment as of as.
func (p *Projector) Assignment(ctx context.Context, id string, as As) (entitlement.Assignment, error) {
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.Assignment{}, err
	}
	defer endView(db)
	return getAt(ctx, db, as, assignments, id)
}

// AccessPackage returns an access package as of as.
func (p *Projector) AccessPackage(ctx context.Context, id string, as As) (entitlement.AccessPackage, error) {
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.AccessPackage{}, err
	}
	defer endView(db)
	return getAt(ctx, db, as, accessPackages, id)
}

// Request returns an assignment request as of as, with the version of the
// policy it was submitted under.
func (p *Projector) Request(ctx context.Context, id string, as As) (entitlement.AssignmentRequest, error) {
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.AssignmentRequest{}, err
	}
	defer endView(db)
	return requestAt(ctx, db, id, as)
}

// requestAt is Request on db.
func requestAt(ctx context.Context, db *sql.Conn, id string, as As) (entitlement.AssignmentRequest, error) {
	r, err := getAt(ctx, db, as, requests, id)
	if err != nil {
		return r, err
	}
	rs := []entitlement.AssignmentRequest{r}
	err = attachPolicies(ctx, db, rs)
	return rs[0], err
}

// Policy returns the given version of an assignment policy, numbered as
// requests name them (AssignmentRequest.PolicyVersion).
func (p *Projector) Policy(ctx context.Context, id string, version int) (entitlement.AssignmentPolicy, error) {
	db, err := p.view(ctx)
	if err != nil {
		return entitlement.AssignmentPolicy{}, err
	}
	defer endView(db)
	pol, _, err := policyVersion(ctx, db, id, version)
	return pol, err
}

// policyVersion reads a version of a policy and the position that
// recorded it.
func policyVersion(ctx context.Context, db *sql.Conn, id string, version int) (entitlement.AssignmentPolicy, eventstore.Position, error) {
	var pol entitlement.AssignmentPolicy
	if id == "" {
		return pol, 0, invalidQuery("no policy id")
	}
	var data []byte
	var pos int64
	err := db.QueryRowContext(ctx, `SELECT data, position FROM policy_versions WHERE policy_id = ? AND version = ?
		ORDER BY position DESC LIMIT 1`, id, version).Scan(&data, &pos)
	if errors.Is(err, sql.ErrNoRows) {
		return pol, 0, fmt.Errorf("%w: version %d of policy %s", ErrNotFound, version, id)
	}
	if err != nil {
		return pol, 0, fmt.Errorf("projection: read a policy version: %w", err)
	}
	if err := jsonv2.Unmarshal(data, &pol); err != nil {
		return pol, 0, fmt.Errorf("projection: decode a policy version: %w", err)
	}
	return pol, eventstore.Position(pos), nil
}

// attachPolicies sets each request's Policy to the version it names,
// sharing one copy per version as the State does.
func attachPolicies(ctx context.Context, db *sql.Conn, rs []entitlement.AssignmentRequest) error {
	type key struct {
		id      string
		version int
	}
	seen := map[key]*entitlement.AssignmentPolicy{}
	for i := range rs {
		k := key{rs[i].AssignmentPolicyID, rs[i].PolicyVersion}
		pol, ok := seen[k]
		if !ok {
			p, _, err := policyVersion(ctx, db, k.id, k.version)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err == nil {
				pol = &p
			}
			seen[k] = pol
		}
		rs[i].Policy = pol
	}
	return nil
}

// Assignments returns the assignments f selects as of as, oldest first
// (by createdDateTime, then id), as State.ListAssignments does: ended ones
// only with IncludeEnded or a State of expired, a page of them with Top.
// Selecting by access package or target reads only theirs; without either
// it reads every assignment (up to the page's end).
func (p *Projector) Assignments(ctx context.Context, f entitlement.AssignmentFilter, as As) ([]entitlement.Assignment, error) {
	if f.Top < 0 {
		return nil, invalidQuery("Assignments: Top is negative")
	}
	if f.State != "" && !entitlement.IsAssignmentState(f.State) {
		return nil, invalidQuery("Assignments: %q is not an assignment state", f.State)
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	return assignmentsAt(ctx, db, f, as)
}

// assignmentsAt is Assignments on db.
func assignmentsAt(ctx context.Context, db *sql.Conn, f entitlement.AssignmentFilter, as As) ([]entitlement.Assignment, error) {
	var where []string
	var args []any
	if f.AccessPackageID != "" {
		where, args = append(where, "x.access_package_id = ?"), append(args, f.AccessPackageID)
	}
	if f.TargetID != "" {
		where, args = append(where, "x.target_id = ?"), append(args, f.TargetID)
	}
	if f.AssignmentPolicyID != "" {
		where, args = append(where, "x.assignment_policy_id = ?"), append(args, f.AssignmentPolicyID)
	}
	switch {
	case as.latest() && f.State != "":
		// A state other than expired is not ended: the index on the state
		// answers alone.
		where, args = append(where, "x.state = ?"), append(args, f.State)
	case f.State != entitlement.AssignmentStateExpired && (f.State != "" || !f.IncludeEnded):
		cond, cargs := as.held("x")
		where, args = append(where, cond), append(args, cargs...)
	case !as.latest():
		cond, cargs := as.begun("x")
		where, args = append(where, cond), append(args, cargs...)
	}
	return pageAt(ctx, db, "Assignments", as, "assignments", strings.Join(where, " AND "), args, f.Top, f.After,
		func(xs []entitlement.Assignment) ([]entitlement.Assignment, error) {
			return slices.DeleteFunc(xs, func(a entitlement.Assignment) bool {
				return f.State != "" && a.State != f.State || !f.IncludeEnded && f.State != entitlement.AssignmentStateExpired && a.IsEnded()
			}), nil
		})
}

// AccessPackagesOf returns the access packages a subject is assigned as of
// as (through assignments that have not ended), by display name.
func (p *Projector) AccessPackagesOf(ctx context.Context, subjectID string, as As) ([]entitlement.AccessPackage, error) {
	if subjectID == "" {
		return nil, invalidQuery("AccessPackagesOf: no subject id")
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	live, err := assignmentsAt(ctx, db, entitlement.AssignmentFilter{TargetID: subjectID}, as)
	if err != nil {
		return nil, err
	}
	var out []entitlement.AccessPackage
	seen := map[string]bool{}
	for _, a := range live {
		if seen[a.AccessPackageID] {
			continue
		}
		seen[a.AccessPackageID] = true
		pkg, err := getAt(ctx, db, as, accessPackages, a.AccessPackageID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pkg)
	}
	slices.SortFunc(out, func(x, y entitlement.AccessPackage) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// RoleGrant is one resource role a subject holds through one assignment,
// with the request that created the assignment and the version of the
// policy that request was decided under.
type RoleGrant struct {
	entitlement.ResourceAccess
	RequestID     string
	PolicyVersion int
}

// ResourceRolesOf returns the resource roles a subject holds as of as:
// those whose delivery succeeded through assignments that have not ended,
// as State.EffectiveAccess reports them, by role scope and package.
func (p *Projector) ResourceRolesOf(ctx context.Context, subjectID string, as As) ([]RoleGrant, error) {
	if subjectID == "" {
		return nil, invalidQuery("ResourceRolesOf: no subject id")
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	live, err := assignmentsAt(ctx, db, entitlement.AssignmentFilter{TargetID: subjectID}, as)
	if err != nil {
		return nil, err
	}
	out := grantsOf(nil, live, func(entitlement.ResourceDelivery) bool { return true })
	slices.SortFunc(out, func(x, y RoleGrant) int {
		return cmp.Or(cmp.Compare(x.ResourceRoleScopeID, y.ResourceRoleScopeID), cmp.Compare(x.AccessPackageID, y.AccessPackageID),
			cmp.Compare(x.SubjectID, y.SubjectID), cmp.Compare(x.AssignmentID, y.AssignmentID))
	})
	return out, withPolicyVersions(ctx, db, out)
}

// RoleRef names a resource role: the resource and the role, and the scope
// if it matters (empty: any scope). The ids are entitlement management's
// own, as State.ResourcesOfCatalog gives them (a resource's ID, one of its
// Roles' ID, one of its Scopes' ID), not the origin system's: a group
// added to two catalogs is two resources. A query about a role the
// projection never knew is ErrNotFound.
type RoleRef struct {
	ResourceID, RoleID, ScopeID string
}

// knownRole returns ErrNotFound if no version of the resource the
// projection holds has the role (and the scope, if named). An answer with
// holders needs no such look-up.
func knownRole(ctx context.Context, db *sql.Conn, op string, role RoleRef) error {
	var one int
	err := db.QueryRowContext(ctx, `SELECT 1 FROM objects o JOIN versions v ON v.oid = o.oid, json_each(v.data, '$.roles') r
		WHERE o.kind = ? AND o.id = ? AND v.data IS NOT NULL AND json_extract(r.value, '$.id') = ?
		AND (? = '' OR EXISTS (SELECT 1 FROM json_each(v.data, '$.scopes') x WHERE json_extract(x.value, '$.id') = ?)) LIMIT 1`,
		kindResource, role.ResourceID, role.RoleID, role.ScopeID, role.ScopeID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s: resource %q never had role %q%s (the ids are the catalog resource's and its role's, not the origin's)",
			ErrNotFound, op, role.ResourceID, role.RoleID, scopeText(role.ScopeID))
	case err != nil:
		return fmt.Errorf("projection: query: %w", err)
	}
	return nil
}

func scopeText(scopeID string) string {
	if scopeID == "" {
		return ""
	}
	return fmt.Sprintf(" at scope %q", scopeID)
}

// HoldersFilter selects the holders of a resource role. Top bounds the
// answer to that many grants: a page (Graph's $top); 0 is all of them, a
// negative Top is refused. After continues the listing after that grant,
// the last of the previous page (a grant the role never had is refused).
// A page reads its own rows and stops, however many hold the role; it
// also reads, and turns down, the grants it meets of assignments not
// begun or already ended then (from the grants themselves) and of
// assignments that no longer delivered the role (from their version
// then).
type HoldersFilter struct {
	Role  RoleRef
	Top   int
	After *RoleGrant
}

// Holders returns who held a resource role as of as: one grant per
// granting assignment and role scope (a role asked for at any scope may be
// granted at several), by assignment id and role scope id.
func (p *Projector) Holders(ctx context.Context, f HoldersFilter, as As) ([]RoleGrant, error) {
	if f.Top < 0 {
		return nil, invalidQuery("Holders: Top is negative")
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	return holdersAt(ctx, db, "Holders", f, "", as)
}

// holdersAt returns from db, for the query op, the holders of a role, or
// one subject's grants of it.
func holdersAt(ctx context.Context, db *sql.Conn, op string, f HoldersFilter, subjectID string, as As) ([]RoleGrant, error) {
	role := f.Role
	if role.ResourceID == "" || role.RoleID == "" {
		return nil, invalidQuery("%s: a resource id and a role id are required", op)
	}
	cursor := [2]any{"", ""}
	if f.After != nil {
		cursor = [2]any{f.After.AssignmentID, f.After.ResourceRoleScopeID}
		var one int
		err := db.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE resource_id = ? AND role_id = ? AND assignment_id = ?
			AND resource_role_scope_id = ?`, role.ResourceID, role.RoleID, cursor[0], cursor[1]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalidQuery("%s: After: the role was never granted by assignment %q and role scope %q", op, cursor[0], cursor[1])
		}
		if err != nil {
			return nil, fmt.Errorf("projection: query: %w", err)
		}
	}
	// The grants hold what their assignments' rows do (see schema.sql):
	// the rows of a role are read in order and only the versions of the
	// assignments held then are looked up.
	// One subject's grants of a role are read from the subject's index:
	// SQLite would otherwise walk every grant the role ever had (the
	// key's order is the listing's), tens of thousands for a large role.
	grants := "grants x"
	if subjectID != "" {
		grants = "grants x INDEXED BY grants_by_subject"
	}
	data, from := "o.data", grants+" JOIN objects o ON o.oid = x.oid"
	var asArgs []any
	if !as.latest() {
		t, p := as.bounds()
		data, from, asArgs = versionAt, grants, []any{t, p, p}
	}
	where, args := "x.resource_id = ? AND x.role_id = ?", []any{role.ResourceID, role.RoleID}
	if subjectID != "" {
		where, args = where+" AND x.subject_id = ?", append(args, subjectID)
	}
	if role.ScopeID != "" {
		where, args = where+" AND x.scope_id = ?", append(args, role.ScopeID)
	}
	cond, cargs := as.held("x")
	where, args = where+" AND "+cond, append(args, cargs...)
	q := "SELECT x.assignment_id, x.resource_role_scope_id, coalesce(x.policy_version, 0), CAST(" + data + " AS BLOB) FROM " + from +
		" WHERE (x.assignment_id, x.resource_role_scope_id) > (?, ?) AND " + where + " ORDER BY x.assignment_id, x.resource_role_scope_id"
	if f.Top > 0 {
		q += " LIMIT ?"
	}
	var out []RoleGrant
	err := pages(ctx, db, q, 4, func(after [2]any) []any { return slices.Concat(asArgs, after[:], args) }, cursor, f.Top,
		func(rows [][]any) (int, error) {
			for _, row := range rows {
				b, ok := row[3].([]byte)
				if !ok {
					continue // the assignment did not exist then
				}
				var a entitlement.Assignment
				if err := jsonv2.Unmarshal(b, &a); err != nil {
					return 0, fmt.Errorf("projection: decode: %w", err)
				}
				if a.IsEnded() {
					continue
				}
				rrs := row[1].(string)
				n := len(out)
				out = grantsOf(out, []entitlement.Assignment{a}, func(r entitlement.ResourceDelivery) bool {
					return r.ResourceRoleScopeID == rrs && r.ResourceID == role.ResourceID && r.RoleID == role.RoleID &&
						(role.ScopeID == "" || r.ScopeID == role.ScopeID)
				})
				for i := n; i < len(out); i++ {
					out[i].PolicyVersion = int(row[2].(int64))
				}
				if f.Top > 0 && len(out) == f.Top {
					break
				}
			}
			return len(out), nil
		})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && f.After == nil {
		// Nobody, or a role it never knew (an After names a grant of it).
		if err := knownRole(ctx, db, op, role); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// grantsOf appends to gs the roles the given assignments deliver that keep
// selects.
func grantsOf(gs []RoleGrant, live []entitlement.Assignment, keep func(entitlement.ResourceDelivery) bool) []RoleGrant {
	for _, a := range live {
		var end *time.Time
		if e, ok := a.End(); ok {
			end = &e
		}
		for _, r := range a.Resources {
			if r.Status != entitlement.DeliveryFulfilled || !keep(r) {
				continue
			}
			gs = append(gs, RoleGrant{ResourceAccess: entitlement.ResourceAccess{
				SubjectID: a.TargetID, AccessPackageID: a.AccessPackageID, AssignmentID: a.ID,
				AssignmentPolicyID: a.AssignmentPolicyID, ResourceRoleScopeID: r.ResourceRoleScopeID,
				ResourceID: r.ResourceID, OriginSystem: r.OriginSystem, OriginID: r.OriginID,
				RoleID: r.RoleID, ScopeID: r.ScopeID, StartDateTime: a.Schedule.StartDateTime, EndDateTime: end,
			}, RequestID: a.RequestID})
		}
	}
	return gs
}

// withPolicyVersions sets the policy version of each grant's request, in
// one query: a role everyone holds would otherwise cost a query per
// holder.
func withPolicyVersions(ctx context.Context, db *sql.Conn, gs []RoleGrant) error {
	ids := make([]string, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.RequestID)
	}
	versions, err := policyVersionsOf(ctx, db, ids)
	if err != nil {
		return err
	}
	for i := range gs {
		gs[i].PolicyVersion = versions[gs[i].RequestID]
	}
	return nil
}

// policyVersionsOf returns the version of the policy each of the requests
// was submitted under, by request id (requests it does not know are left
// out).
func policyVersionsOf(ctx context.Context, db *sql.Conn, requestIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(requestIDs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(requestIDs)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT id, policy_version FROM requests WHERE id IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return nil, fmt.Errorf("projection: read the requests' policy versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("projection: read the requests' policy versions: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projection: read the requests' policy versions: %w", err)
	}
	return out, nil
}

// RequestFilter narrows Requests; empty fields match everything. State,
// if set, must be a request state (entitlement.IsRequestState).
type RequestFilter struct {
	AccessPackageID string
	RequestorID     string
	TargetID        string
	State           string
	// CreatedAfter, if not zero, leaves out the requests whose creation
	// the log recorded at or before that position.
	CreatedAfter eventstore.Position

	// Top bounds the answer to that many requests: a page (Graph's
	// $top); 0 is all of them, a negative Top is refused. After continues
	// the listing after the request with that id, the last of the
	// previous page (an id no request has is refused). A page reads its own rows
	// and stops, however long the listing; as of the past it also reads,
	// and turns down, the requests it meets that did not exist then.
	Top   int
	After string
}

// Requests returns the assignment requests f selects as of as, oldest
// first (by createdDateTime, then id), each with the version of the
// policy it was submitted under.
func (p *Projector) Requests(ctx context.Context, f RequestFilter, as As) ([]entitlement.AssignmentRequest, error) {
	if f.Top < 0 {
		return nil, invalidQuery("Requests: Top is negative")
	}
	if f.State != "" && !entitlement.IsRequestState(f.State) {
		return nil, invalidQuery("Requests: %q is not a request state", f.State)
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{
		{"x.access_package_id", f.AccessPackageID}, {"x.requestor_id", f.RequestorID}, {"x.target_id", f.TargetID},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if f.State != "" && as.latest() {
		where, args = append(where, "x.state = ?"), append(args, f.State)
	}
	if f.CreatedAfter != 0 {
		where, args = append(where, "x.position > ?"), append(args, int64(f.CreatedAfter))
	}
	out, err := pageAt(ctx, db, "Requests", as, "requests", strings.Join(where, " AND "), args, f.Top, f.After,
		func(rs []entitlement.AssignmentRequest) ([]entitlement.AssignmentRequest, error) {
			return slices.DeleteFunc(rs, func(r entitlement.AssignmentRequest) bool { return f.State != "" && r.State != f.State }), nil
		})
	if err != nil {
		return nil, err
	}
	return out, attachPolicies(ctx, db, out)
}

func sortRequests(rs []entitlement.AssignmentRequest) {
	slices.SortFunc(rs, func(x, y entitlement.AssignmentRequest) int {
		return cmp.Or(x.CreatedDateTime.Compare(y.CreatedDateTime), cmp.Compare(x.ID, y.ID))
	})
}

// PendingApprovals returns the requests that waited for an approver's
// decision as of as, with the stage each waited in, oldest first, as
// State.ApprovalsForApprover does.
func (p *Projector) PendingApprovals(ctx context.Context, approverID string, as As) ([]entitlement.PendingApproval, error) {
	if approverID == "" {
		return nil, invalidQuery("PendingApprovals: no approver id")
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	where, args := "x.id IN (SELECT request_id FROM request_approvers WHERE approver_id = ?)", []any{approverID}
	if as.latest() {
		// request_approvers keeps every request the approver could ever
		// decide; now, only those pending approval can wait for them.
		where, args = where+" AND x.state = ?", append(args, entitlement.RequestStatePendingApproval)
	}
	all, err := listAt[entitlement.AssignmentRequest](ctx, db, as, "requests x", where, args...)
	if err != nil {
		return nil, err
	}
	sortRequests(all)
	if err := attachPolicies(ctx, db, all); err != nil {
		return nil, err
	}
	var out []entitlement.PendingApproval
	for _, r := range all {
		if st, ok := r.WaitsFor(approverID); ok {
			out = append(out, entitlement.PendingApproval{Request: r, Stage: st})
		}
	}
	return out, nil
}

// AdditionalAccessFilter names the two access packages of
// AdditionalAccess, as Graph's additionalAccess function does, and pages
// its answer as entitlement.AssignmentFilter does: Top bounds it, After
// continues after the assignment with that id.
type AdditionalAccessFilter struct {
	AccessPackageID             string // the package whose assignments are listed
	IncompatibleAccessPackageID string // the package their targets also hold
	Top                         int
	After                       string
}

// AdditionalAccess returns the assignments of f.AccessPackageID, as of as,
// whose targets also held an assignment of f.IncompatibleAccessPackageID
// that had not ended: the separation-of-duties conflicts Graph's
// additionalAccess lists, oldest first (by createdDateTime, then id).
func (p *Projector) AdditionalAccess(ctx context.Context, f AdditionalAccessFilter, as As) ([]entitlement.Assignment, error) {
	a, b := f.AccessPackageID, f.IncompatibleAccessPackageID
	switch {
	case a == "" || b == "":
		return nil, invalidQuery("AdditionalAccess: two access package ids are required")
	case a == b:
		return nil, invalidQuery("AdditionalAccess: the access packages must differ")
	case f.Top < 0:
		return nil, invalidQuery("AdditionalAccess: Top is negative")
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	// The assignments of a held then, of targets that also held one of b.
	x, xargs := as.held("x")
	y, yargs := as.held("y")
	both := "x.access_package_id = ? AND x.target_id IN (SELECT y.target_id FROM assignments y WHERE y.access_package_id = ? AND " +
		y + ") AND " + x
	keep := func(xs []entitlement.Assignment) ([]entitlement.Assignment, error) { return xs, nil }
	if !as.latest() {
		// As of the past, whether a target held b then is its assignments'
		// versions then (the columns only narrow), read for each round's
		// targets.
		keep = func(xs []entitlement.Assignment) ([]entitlement.Assignment, error) {
			targets := make([]string, 0, len(xs))
			for _, a := range xs {
				targets = append(targets, a.TargetID)
			}
			list, err := json.Marshal(targets)
			if err != nil {
				return nil, err
			}
			bs, err := listAt[entitlement.Assignment](ctx, db, as, "assignments x",
				"x.access_package_id = ? AND x.target_id IN (SELECT value FROM json_each(?)) AND "+x,
				slices.Concat([]any{b, string(list)}, xargs)...)
			if err != nil {
				return nil, err
			}
			holdsB := map[string]bool{}
			for _, o := range bs {
				if !o.IsEnded() {
					holdsB[o.TargetID] = true
				}
			}
			return slices.DeleteFunc(xs, func(a entitlement.Assignment) bool { return a.IsEnded() || !holdsB[a.TargetID] }), nil
		}
	}
	return pageAt(ctx, db, "AdditionalAccess", as, "assignments", both, slices.Concat([]any{a, b}, yargs, xargs), f.Top, f.After, keep)
}

// ConnectedOrganizations returns the connected organizations as of as, by
// display name.
func (p *Projector) ConnectedOrganizations(ctx context.Context, as As) ([]entitlement.ConnectedOrganization, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	out, err := listAt[entitlement.ConnectedOrganization](ctx, db, as, "objects x", "x.kind = ?", kindConnectedOrganization)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y entitlement.ConnectedOrganization) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// RoleAssignments returns the entitlement management role assignments of a
// principal as of as (every principal's with an empty id), by id.
func (p *Projector) RoleAssignments(ctx context.Context, principalID string, as As) ([]entitlement.RoleAssignment, error) {
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	out, err := listAt[entitlement.RoleAssignment](ctx, db, as, "objects x", "x.kind = ?", kindRoleAssignment)
	if err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(ra entitlement.RoleAssignment) bool { return principalID != "" && ra.PrincipalID != principalID })
	slices.SortFunc(out, func(x, y entitlement.RoleAssignment) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}
