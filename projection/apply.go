package projection

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
)

// batch applies events in one transaction of the projection's writer.
type batch struct {
	ctx context.Context
	tx  *sql.Tx

	// pos and valid are the position and valid time (Unix nanoseconds) of
	// the event being applied.
	pos, valid int64
	// cache holds the objects rows read or written in this transaction.
	cache map[string]*current

	getObject, insertObject, updateObject, insertVersion, closeVersion, setVersion, laterVersions *sql.Stmt
	putAssignment, putRequest, insertApprover, insertGrant, insertDecision, insertDelivery        *sql.Stmt
	lastPolicyVersion, insertPolicyVersion, liveAssignments, childrenOf                           *sql.Stmt
	groupsWithMember, packagesNaming                                                              *sql.Stmt
	insertAudit, insertTarget, setMeta                                                            *sql.Stmt
}

func begin(ctx context.Context, w *sql.DB) (*batch, error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projection: begin: %w", err)
	}
	b := &batch{ctx: ctx, tx: tx, cache: map[string]*current{}}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&b.getObject, "SELECT oid, data, display_name, parent_id, valid_from, known_from FROM objects WHERE kind = ? AND id = ?"},
		{&b.insertObject, `INSERT INTO objects (kind, id, parent_id, display_name, data, valid_from, known_from)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&b.updateObject, `UPDATE objects SET parent_id = ?, display_name = ?, data = ?, valid_from = ?, known_from = ?
			WHERE oid = ?`},
		{&b.insertVersion, "INSERT INTO versions (oid, valid_from, known_from, known_to, data) VALUES (?, ?, ?, 9223372036854775807, ?)"},
		{&b.closeVersion, "UPDATE versions SET known_to = ? WHERE oid = ? AND valid_from = ? AND known_from = ?"},
		{&b.setVersion, "UPDATE versions SET data = ? WHERE oid = ? AND valid_from = ? AND known_from = ?"},
		{&b.laterVersions, `SELECT valid_from, known_from, data FROM versions
			WHERE oid = ?1 AND known_to = 9223372036854775807 AND valid_from >= coalesce(
				(SELECT max(valid_from) FROM versions WHERE oid = ?1 AND known_to = 9223372036854775807 AND valid_from <= ?2), ?2)
			ORDER BY valid_from`},
		{&b.putAssignment, `INSERT INTO assignments (id, oid, access_package_id, assignment_policy_id, target_id, request_id, state, position)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`},
		{&b.putRequest, `INSERT INTO requests (id, oid, access_package_id, assignment_policy_id, policy_version, target_id, requestor_id,
			state, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`},
		{&b.insertApprover, "INSERT OR IGNORE INTO request_approvers (approver_id, request_id) VALUES (?, ?)"},
		{&b.insertGrant, `INSERT OR IGNORE INTO grants (resource_id, role_id, assignment_id, resource_role_scope_id, scope_id, subject_id)
			VALUES (?, ?, ?, ?, ?, ?)`},
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
		{&b.insertAudit, `INSERT INTO audit (position, event_id, hash, type, activity, category, result, activity_time, occurred_at,
			recorded_at, actor_id, actor_kind, actor_name, on_behalf_of, command_id, correlation_id, targets, modified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&b.insertTarget, "INSERT OR IGNORE INTO audit_targets (target_id, position) VALUES (?, ?)"},
		{&b.setMeta, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
	} {
		if *s.st, err = tx.PrepareContext(ctx, s.q); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("projection: prepare: %w", err)
		}
	}
	return b, nil
}

func (b *batch) rollback() { b.tx.Rollback() }

// commit writes the checkpoint and commits.
func (b *batch) commit(cp Checkpoint) error {
	if _, err := b.setMeta.ExecContext(b.ctx, "checkpoint_position", strconv.FormatUint(uint64(cp.Position), 10)); err != nil {
		b.rollback()
		return fmt.Errorf("projection: write the checkpoint: %w", err)
	}
	if _, err := b.setMeta.ExecContext(b.ctx, "checkpoint_hash", cp.Hash.String()); err != nil {
		b.rollback()
		return fmt.Errorf("projection: write the checkpoint: %w", err)
	}
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("projection: commit: %w", err)
	}
	return nil
}

// ids runs a query of one column of ids.
func (b *batch) ids(st *sql.Stmt, args ...any) ([]string, error) {
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
	json.Unmarshal(old, &a)
	json.Unmarshal(new, &b)
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
)

// Audit results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// apply applies one event: the objects it changes and its audit row.
func (b *batch) apply(e eventstore.Event) error {
	de, err := entitlement.DecodeEvent(e)
	if err != nil {
		return err
	}
	valid := entitlement.ValidTime(de, e.OccurredAt)
	b.pos, b.valid = int64(e.Position), valid.UnixNano()
	r := &entry{result: ResultSuccess, category: CategoryEntitlementManagement}
	if err := b.applyEvent(e, de, r); err != nil {
		return err
	}
	actorName := "Entitlement Management"
	switch e.Metadata.ActorKind {
	case string(entitlement.ActorUser):
		actorName = b.name(kindUser, e.Metadata.ActorID)
	case string(entitlement.ActorServicePrincipal):
		actorName = b.name(kindServicePrincipal, e.Metadata.ActorID)
	}
	targets, err := json.Marshal(nonNil(r.targets))
	if err != nil {
		return err
	}
	modified, err := json.Marshal(nonNil(r.modified))
	if err != nil {
		return err
	}
	if _, err := b.insertAudit.ExecContext(b.ctx, b.pos, e.ID.String(), e.Hash.String(), e.Type, entitlement.ActivityName(e.Type),
		r.category, r.result, b.valid, e.OccurredAt.UnixNano(), e.RecordedAt.UnixNano(),
		e.Metadata.ActorID, e.Metadata.ActorKind, actorName, e.Metadata.OnBehalfOf, e.Metadata.CommandID,
		e.Metadata.CorrelationID, string(targets), string(modified)); err != nil {
		return err
	}
	for _, t := range r.targets {
		if _, err := b.insertTarget.ExecContext(b.ctx, t.ID, b.pos); err != nil {
			return err
		}
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
