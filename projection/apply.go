package projection

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	jsonv2 "github.com/go-json-experiment/json"
)

// batch applies events in one transaction of the projection's writer.
type batch struct {
	ctx context.Context
	tx  *sql.Tx
	w   *writer

	// pos and valid are the position and valid time (Unix nanoseconds) of
	// the event being applied.
	pos, valid int64
	// cache is the writer's cache of objects rows; dirty lists those
	// changed since the last flushObjects.
	cache map[string]*current
	dirty []*current
	// audit buffers audit and audit_targets rows, written by flushAudit.
	audit, targets []any

	getObject, insertObject, updateObject, updateObjectData, insertVersion, closeVersion, setVersion *sql.Stmt
	laterVersions                                                                                    *sql.Stmt
	putAssignment, putRequest, insertApprover, insertGrant, endGrant, insertDecision, insertDelivery *sql.Stmt
	lastPolicyVersion, insertPolicyVersion, liveAssignments, childrenOf                              *sql.Stmt
	groupsWithMember, packagesNaming                                                                 *sql.Stmt
	checkpoint                                                                                       *sql.Stmt
	setCheckpoint                                                                                    *sql.Stmt
}

// statements lists the batch's statements with their SQL.
func (b *batch) statements() []struct {
	st **sql.Stmt
	q  string
} {
	return []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.checkpoint, checkpointQuery},
		{&b.getObject, "SELECT oid, data, display_name, parent_id, valid_from, known_from FROM objects WHERE kind = ? AND id = ?"},
		{&b.insertObject, `INSERT INTO objects (kind, id, parent_id, display_name, data, valid_from, known_from)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&b.updateObject, `UPDATE objects SET parent_id = ?, display_name = ?, data = ?, valid_from = ?, known_from = ?
			WHERE oid = ?`},
		{&b.updateObjectData, "UPDATE objects SET data = ?, valid_from = ?, known_from = ? WHERE oid = ?"},
		{&b.insertVersion, "INSERT INTO versions (oid, valid_from, known_from, known_to, data) VALUES (?, ?, ?, 9223372036854775807, ?)"},
		{&b.closeVersion, "UPDATE versions SET known_to = ? WHERE oid = ? AND valid_from = ? AND known_from = ?"},
		{&b.setVersion, "UPDATE versions SET data = ? WHERE oid = ? AND valid_from = ? AND known_from = ?"},
		{&b.laterVersions, `SELECT valid_from, known_from, data FROM versions
			WHERE oid = ?1 AND known_to = 9223372036854775807 AND valid_from >= coalesce(
				(SELECT max(valid_from) FROM versions WHERE oid = ?1 AND known_to = 9223372036854775807 AND valid_from <= ?2), ?2)
			ORDER BY valid_from`},
		{&b.putAssignment, `INSERT INTO assignments (id, oid, access_package_id, assignment_policy_id, target_id, request_id, state, position,
			created, began, ended_at, ended_known) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, ended_at = coalesce(ended_at, excluded.ended_at),
			ended_known = coalesce(ended_known, excluded.ended_known)`},
		{&b.putRequest, `INSERT INTO requests (id, oid, access_package_id, assignment_policy_id, policy_version, target_id, requestor_id,
			state, position, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`},
		{&b.insertApprover, "INSERT OR IGNORE INTO request_approvers (approver_id, request_id) VALUES (?, ?)"},
		{&b.insertGrant, `INSERT OR IGNORE INTO grants (resource_id, role_id, assignment_id, resource_role_scope_id, scope_id, subject_id,
			oid, began, position, policy_version, ended_at, ended_known)
			SELECT ?1, ?2, x.id, ?3, ?4, x.target_id, x.oid, x.began, x.position,
				(SELECT r.policy_version FROM requests r WHERE r.id = x.request_id), x.ended_at, x.ended_known
			FROM assignments x WHERE x.id = ?5`},
		{&b.endGrant, `UPDATE grants SET ended_at = coalesce(ended_at, ?), ended_known = coalesce(ended_known, ?)
			WHERE resource_id = ? AND role_id = ? AND assignment_id = ? AND resource_role_scope_id = ?`},
		{&b.insertDecision, `INSERT INTO decisions (position, request_id, stage_id, stage, result, reviewed_by, reviewed_at,
			justification, actor_id, on_behalf_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&b.insertDelivery, `INSERT INTO deliveries (assignment_id, resource_role_scope_id, position, outcome, reason, valid_at)
			VALUES (?, ?, ?, ?, ?, ?)`},
		{&b.lastPolicyVersion, "SELECT version FROM policy_versions WHERE policy_id = ? ORDER BY position DESC LIMIT 1"},
		{&b.insertPolicyVersion, "INSERT INTO policy_versions (policy_id, position, version, data) VALUES (?, ?, ?, ?)"},
		{&b.liveAssignments, "SELECT id FROM assignments WHERE access_package_id = ? AND state != 'expired' ORDER BY id"},
		{&b.childrenOf, "SELECT id FROM objects WHERE kind = ? AND parent_id = ? AND data IS NOT NULL ORDER BY id"},
		{&b.groupsWithMember, `SELECT id FROM objects WHERE kind = 'Group' AND data IS NOT NULL
			AND EXISTS (SELECT 1 FROM json_each(data, '$.members') WHERE value = ?) ORDER BY id`},
		{&b.packagesNaming, `SELECT id FROM objects WHERE kind = 'AccessPackage' AND data IS NOT NULL
			AND EXISTS (SELECT 1 FROM json_each(data, '$.incompatibleAccessPackages') WHERE value = ?) ORDER BY id`},
		{&b.setCheckpoint, `INSERT INTO meta (key, value) VALUES ('checkpoint_position', ?), ('checkpoint_hash', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`},
	}
}

// writer applies batches to one projection file. It prepares the
// statements once, and keeps the objects rows read or written in a cache
// that outlives transactions (it is dropped when one fails, and when it
// grows past maxCached after an event).
type writer struct {
	db       *sql.DB
	prepared []*sql.Stmt
	multi    map[multiKey]*sql.Stmt // multi-row inserts
	cache    map[string]*current
	targets  string // insertTargets, or loadTargets while Rebuild loads the log
	// maxCached bounds cache: the constant maxCached, which tests lower
	// to empty the cache after every event.
	maxCached int
	// last is the checkpoint this writer last committed: if the file's
	// is another, another process wrote since, and cache may be stale.
	last Checkpoint
}

// maxCached bounds the objects a writer keeps decoded between events.
const maxCached = 5000

// newWriter prepares the statements of a writer on db. A writer that
// loads (Rebuild's) writes audit targets into audit_targets_load.
func newWriter(ctx context.Context, db *sql.DB, loading bool) (*writer, error) {
	w := &writer{db: db, cache: map[string]*current{}, multi: map[multiKey]*sql.Stmt{},
		targets: insertTargets, maxCached: maxCached}
	if loading {
		w.targets = loadTargets
	}
	for _, s := range (&batch{}).statements() {
		st, err := db.PrepareContext(ctx, s.q)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("projection: prepare: %w", err)
		}
		w.prepared = append(w.prepared, st)
	}
	// Multi-row inserts: perInsert rows, and every power of two below it
	// (see insertRows). They are prepared now: a statement prepared during
	// a transaction would wait for the writer's one connection.
	for _, m := range []struct {
		prefix        string
		cols, perStmt int
	}{{insertAudit, auditColumns, auditPerInsert}, {w.targets, 3, targetsPerInsert}} {
		sizes := []int{m.perStmt}
		for n := 1; n < m.perStmt; n *= 2 {
			sizes = append(sizes, n)
		}
		for _, n := range sizes {
			st, err := db.PrepareContext(ctx, multiInsert(m.prefix, m.cols, n))
			if err != nil {
				w.close()
				return nil, fmt.Errorf("projection: prepare: %w", err)
			}
			w.multi[multiKey{m.prefix, n}] = st
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, st := range w.prepared {
		st.Close()
	}
	for _, st := range w.multi {
		st.Close()
	}
}

func begin(ctx context.Context, w *writer) (*batch, error) {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projection: begin: %w", err)
	}
	b := &batch{ctx: ctx, tx: tx, w: w, cache: w.cache}
	for i, s := range b.statements() {
		*s.st = tx.StmtContext(ctx, w.prepared[i])
	}
	return b, nil
}

// rollback rolls the transaction back and drops the cache, which may hold
// what it wrote.
func (b *batch) rollback() {
	b.tx.Rollback()
	clear(b.w.cache)
}

// commit writes the checkpoint and commits.
func (b *batch) commit(cp Checkpoint) error {
	if err := b.flush(); err != nil {
		b.rollback()
		return err
	}
	if _, err := b.setCheckpoint.ExecContext(b.ctx, strconv.FormatUint(uint64(cp.Position), 10), cp.Hash.String()); err != nil {
		b.rollback()
		return fmt.Errorf("projection: write the checkpoint: %w", err)
	}
	if err := b.tx.Commit(); err != nil {
		clear(b.w.cache)
		return fmt.Errorf("projection: commit: %w", err)
	}
	return nil
}

// flush writes what the batch buffers.
func (b *batch) flush() error {
	if err := b.flushObjects(); err != nil {
		return err
	}
	return b.flushAudit()
}

// Audit rows are written many to a statement.
const (
	insertAudit = `INSERT INTO audit (position, event_id, hash, type, activity, category, result, activity_time, occurred_at,
		recorded_at, actor_id, actor_kind, actor_name, on_behalf_of, command_id, correlation_id, targets, modified) VALUES `
	insertTargets = "INSERT OR IGNORE INTO audit_targets (target_id, activity_time, position) VALUES "
	loadTargets   = "INSERT INTO audit_targets_load (target_id, activity_time, position) VALUES "

	auditColumns     = 18
	auditPerInsert   = 50
	auditBuffered    = 20 * auditPerInsert // rows a batch buffers at most
	targetsPerInsert = 200
)

// flushAudit writes the buffered audit and audit_targets rows.
func (b *batch) flushAudit() error {
	if err := b.insertRows(insertAudit, auditColumns, auditPerInsert, b.audit); err != nil {
		return fmt.Errorf("projection: write the audit log: %w", err)
	}
	if err := b.insertRows(b.w.targets, 3, targetsPerInsert, b.targets); err != nil {
		return fmt.Errorf("projection: write the audit log: %w", err)
	}
	b.audit, b.targets = b.audit[:0], b.targets[:0]
	return nil
}

// multiKey names a multi-row insert: its prefix and how many rows.
type multiKey struct {
	prefix string
	rows   int
}

// multiInsert returns the statement inserting n rows of cols values.
func multiInsert(prefix string, cols, n int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return prefix + strings.Repeat(row+", ", n-1) + row
}

// insertRows inserts rows of cols values each, perInsert rows to a
// statement, and the rest in statements of a power of two rows each,
// prepared by newWriter: the last rows of a short batch, which is most of
// them, are not parsed again every time.
func (b *batch) insertRows(prefix string, cols, perInsert int, vals []any) error {
	for len(vals) > 0 {
		n := min(len(vals)/cols, perInsert)
		if n < perInsert {
			n = 1 << (bits.Len(uint(n)) - 1)
		}
		if _, err := b.tx.StmtContext(b.ctx, b.w.multi[multiKey{prefix, n}]).ExecContext(b.ctx, vals[:n*cols]...); err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}

// ids runs a query of one column of ids, after writing the objects rows
// it may read.
func (b *batch) ids(st *sql.Stmt, args ...any) ([]string, error) {
	if err := b.flushObjects(); err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(b.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Target is one object an audit entry is about, as Entra's
// targetResources list them.
type Target struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
}

// ModifiedProperty is one property an audited change changed, with its
// values as JSON text (empty for none), as Entra's modifiedProperties.
type ModifiedProperty struct {
	DisplayName string `json:"displayName"`
	OldValue    string `json:"oldValue,omitempty"`
	NewValue    string `json:"newValue,omitempty"`
}

// diff lists the top-level properties that differ between two JSON
// objects (old nil for a creation, new nil for a deletion), by name.
func diff(old, new []byte) []ModifiedProperty {
	var a, b map[string]json.RawMessage
	jsonv2.Unmarshal(old, &a)
	jsonv2.Unmarshal(new, &b)
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []ModifiedProperty
	for _, k := range keys {
		if !bytes.Equal(a[k], b[k]) {
			out = append(out, ModifiedProperty{DisplayName: k, OldValue: string(a[k]), NewValue: string(b[k])})
		}
	}
	return out
}

// entry is an audit row in the making.
type entry struct {
	targets          []Target
	modified         []ModifiedProperty
	result, category string
}

func (r *entry) target(typ, id, name string) {
	if id != "" {
		r.targets = append(r.targets, Target{Type: typ, ID: id, DisplayName: name})
	}
}

// Audit categories: Entra's AuditLogs categories.
const (
	CategoryEntitlementManagement = "EntitlementManagement"
	CategoryUserManagement        = "UserManagement"
	CategoryGroupManagement       = "GroupManagement"
	CategoryApplicationManagement = "ApplicationManagement"
	// CategoryWorkflowManagement and CategoryTaskManagement are the
	// categories of Lifecycle Workflows' audit log: workflows and their
	// scheduled runs, and what their tasks did.
	CategoryWorkflowManagement = "WorkflowManagement"
	CategoryTaskManagement     = "TaskManagement"
	// CategoryAccessReviews is the category of access reviews' entries.
	CategoryAccessReviews = "AccessReviews"
)

// Audit results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// actorName is the display name the projection knows for the actor of
// an event with metadata md, "" for a user or service principal it does
// not know.
func (b *batch) actorName(md eventstore.Metadata) string {
	switch md.ActorKind {
	case string(entitlement.ActorUser):
		return b.name(kindUser, md.ActorID)
	case string(entitlement.ActorServicePrincipal):
		return b.name(kindServicePrincipal, md.ActorID)
	case string(entitlement.ActorExternalUser):
		return md.ActorID // a person not in the directory: their email
	}
	return "Entitlement Management"
}

// apply applies one event: the objects it changes and its audit row.
func (b *batch) apply(e eventstore.Event) error {
	de, err := entitlement.DecodeEvent(e)
	if err != nil {
		return err
	}
	valid := entitlement.ValidTime(de, e.OccurredAt)
	b.pos, b.valid = int64(e.Position), valid.UnixNano()
	r := &entry{result: ResultSuccess, category: CategoryEntitlementManagement}
	// The actor as named when they acted: before the event, which may
	// rename them, or after it if it brought them in.
	actorName := b.actorName(e.Metadata)
	if err := b.applyEvent(e, de, r); err != nil {
		return err
	}
	if actorName == "" {
		actorName = b.actorName(e.Metadata)
	}
	targets, err := json.Marshal(nonNil(r.targets))
	if err != nil {
		return err
	}
	modified, err := json.Marshal(nonNil(r.modified))
	if err != nil {
		return err
	}
	b.audit = append(b.audit, b.pos, e.ID.String(), e.Hash.String(), e.Type, entitlement.ActivityName(e.Type),
		r.category, r.result, b.valid, e.OccurredAt.UnixNano(), e.RecordedAt.UnixNano(),
		e.Metadata.ActorID, e.Metadata.ActorKind, actorName, e.Metadata.OnBehalfOf, e.Metadata.CommandID,
		e.Metadata.CorrelationID, string(targets), string(modified))
	for _, t := range r.targets {
		b.targets = append(b.targets, t.ID, b.valid, b.pos)
	}
	// A long batch (a rebuild's) would otherwise hold every row and every
	// object it touched in memory.
	if len(b.audit) >= auditBuffered*auditColumns {
		if err := b.flushAudit(); err != nil {
			return err
		}
	}
	if len(b.cache) > b.w.maxCached {
		if err := b.flushObjects(); err != nil {
			return err
		}
		clear(b.cache)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
