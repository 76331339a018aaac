package projection

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	jsonv2 "github.com/go-json-experiment/json"
)

// AuditEntry is one entry of the audit log: one event, in the style of
// Entra's AuditLogs.
type AuditEntry struct {
	Position  eventstore.Position
	EventID   string
	EventType string
	// Activity is the activity's name in Entra's words ("Create access
	// package", "Approve access package assignment request" …).
	Activity string
	Category string
	Result   string
	// ActivityDateTime is when the fact held (an expiry's end, not when
	// ProcessDue recorded it); OccurredAt is when it was decided and
	// RecordedAt when the log stored it.
	ActivityDateTime       time.Time
	OccurredAt, RecordedAt time.Time
	InitiatedBy            Initiator
	OnBehalfOf             string
	CommandID              string
	CorrelationID          string
	TargetResources        []Target
	ModifiedProperties     []ModifiedProperty
}

// Initiator is who caused an audited event, with the display name the
// projection knew for them when it happened. It is the actor the log
// records: the system for a delivery's outcome ("Fulfill access package
// assignment request" and the like), where Entra's audit log names the
// user receiving access; that user is among the entry's targets.
type Initiator struct {
	ID, Kind, DisplayName string
}

// AuditFilter narrows AuditLog; zero fields match everything.
type AuditFilter struct {
	// From and To bound ActivityDateTime: From <= t < To. As with As.Of,
	// an instant after 2262 is after every entry and one before 1678
	// before every entry.
	From, To time.Time
	ActorID  string
	// TargetID matches entries that have it among their targets.
	TargetID string
	Activity string
	// AsKnownAt, if not zero, leaves out events after that position: the
	// audit log as the system knew it then.
	AsKnownAt eventstore.Position
	// RecordedAfter, if not zero, leaves out the events at or before that
	// position: with AsKnownAt, the entries of the events recorded in
	// between, whatever their activity time.
	RecordedAfter eventstore.Position
	// After continues the listing after that entry, the last of the
	// previous page of the same filter (entries are in order of activity
	// time, then position); an entry the audit log does not have is
	// refused with ErrInvalidQuery.
	After *AuditEntry
	// Limit bounds the number of entries; 0 means no bound.
	Limit int
}

// AuditLog returns the audit entries f selects, in order of activity time
// and then position.
func (p *Projector) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit < 0 {
		return nil, invalidQuery("AuditLog: Limit %d is negative (0 means no bound)", f.Limit)
	}
	db, err := p.view(ctx)
	if err != nil {
		return nil, err
	}
	defer endView(db)
	q := `SELECT a.position, a.event_id, a.type, a.activity, a.category, a.result, a.activity_time, a.occurred_at,
		a.recorded_at, a.actor_id, a.actor_kind, a.actor_name, a.on_behalf_of, a.command_id, a.correlation_id,
		a.targets, a.modified FROM audit a`
	var where []string
	var args []any
	// By target, the target's rows of audit_targets give the order.
	at := "a"
	if f.TargetID != "" {
		q += " JOIN audit_targets t ON t.position = a.position"
		where, args, at = append(where, "t.target_id = ?"), append(args, f.TargetID), "t"
	}
	if !f.From.IsZero() {
		where, args = append(where, at+".activity_time >= ?"), append(args, nanos(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, at+".activity_time < ?"), append(args, nanos(f.To))
	}
	if f.ActorID != "" {
		where, args = append(where, "a.actor_id = ?"), append(args, f.ActorID)
	}
	if f.Activity != "" {
		where, args = append(where, "a.activity = ?"), append(args, f.Activity)
	}
	if f.AsKnownAt != 0 {
		where, args = append(where, "a.position <= ?"), append(args, int64(f.AsKnownAt))
	}
	if f.RecordedAfter != 0 {
		where, args = append(where, "a.position > ?"), append(args, int64(f.RecordedAfter))
	}
	if f.After != nil {
		// The cursor is the entry's own time, as the audit log has it.
		var after int64
		err := db.QueryRowContext(ctx, "SELECT activity_time FROM audit WHERE position = ?", int64(f.After.Position)).Scan(&after)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalidQuery("AuditLog: After: the audit log has no entry at position %d", f.After.Position)
		}
		if err != nil {
			return nil, fmt.Errorf("projection: audit log: %w", err)
		}
		where = append(where, "("+at+".activity_time, "+at+".position) > (?, ?)")
		args = append(args, after, int64(f.After.Position))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + at + ".activity_time, " + at + ".position"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("projection: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var pos, at, occ, rec int64
		var targets, modified string
		if err := rows.Scan(&pos, &e.EventID, &e.EventType, &e.Activity, &e.Category, &e.Result, &at, &occ, &rec,
			&e.InitiatedBy.ID, &e.InitiatedBy.Kind, &e.InitiatedBy.DisplayName, &e.OnBehalfOf, &e.CommandID,
			&e.CorrelationID, &targets, &modified); err != nil {
			return nil, fmt.Errorf("projection: audit log: %w", err)
		}
		e.Position = eventstore.Position(pos)
		e.ActivityDateTime, e.OccurredAt, e.RecordedAt = time.Unix(0, at).UTC(), time.Unix(0, occ).UTC(), time.Unix(0, rec).UTC()
		if err := jsonv2.Unmarshal([]byte(targets), &e.TargetResources); err != nil {
			return nil, err
		}
		if err := jsonv2.Unmarshal([]byte(modified), &e.ModifiedProperties); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
