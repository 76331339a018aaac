package projection

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	jsonv2 "github.com/go-json-experiment/json"
)

// Link names the event of the log that recorded one step of a causal
// chain: its position, id and hash (check them against the verified log
// with Explanation.Check), its type and activity, who caused it and when
// it held.
type Link struct {
	Position         eventstore.Position
	EventID          string
	Hash             eventstore.Hash
	EventType        string
	Activity         string
	ActorID          string
	OnBehalfOf       string
	ActivityDateTime time.Time
}

// Decision is one approval decision on a request: who decided, when, with
// what justification, on whose behalf, and the event that recorded it.
type Decision struct {
	Link
	RequestID        string
	StageID          string
	Stage            int
	Result           string // Approved or Denied
	ReviewedBy       string
	ReviewedDateTime time.Time
	Justification    string
}

// Cause is one way a subject held a resource role: the assignment that
// granted it, the request that created the assignment and who made it,
// every approval decision on that request, the policy version it was
// decided under, and the delivery of the role; each with the event that
// recorded it.
type Cause struct {
	Grant      RoleGrant
	Assignment entitlement.Assignment // as of the instant asked about
	Created    Link                   // the assignment created, delivering
	Request    entitlement.AssignmentRequest
	Requested  Link // the request submitted, by Requested.ActorID
	Decisions  []Decision
	// Policy is the version of the assignment policy the request was
	// submitted and decided under, recorded by PolicyRecorded.
	Policy         entitlement.AssignmentPolicy
	PolicyVersion  int
	PolicyRecorded Link
	// Delivered is the last grant of the role to the subject through the
	// assignment by then.
	Delivered Link
	// Extensions are the update requests that moved the assignment's end
	// by then, in order: an assignment held past its first end is held
	// because of them.
	Extensions []Extension
}

// Extension is one extension of an assignment: the update request, who
// made it, the decisions on it, and the event that applied it.
type Extension struct {
	Request   entitlement.AssignmentRequest
	Requested Link // the request submitted, by Requested.ActorID
	Decisions []Decision
	Extended  Link // the assignment's new schedule applied
}

// Explanation answers why a subject held a resource role at an instant:
// one Cause per assignment that granted it, none if it did not hold it.
type Explanation struct {
	SubjectID string
	Role      RoleRef
	As        As
	Causes    []Cause
	// ReadAt is the log position the projection had reached when it
	// answered: what the log recorded after it is not part of the answer.
	ReadAt eventstore.Position
}

// Why explains why a subject held a resource role as of as: for each
// assignment that granted it then, the assignment, the request and who
// made it, every approval decision with approver, time and justification,
// the policy version it was decided under and the delivery, each with the
// log position, event id and hash that recorded it.
func (p *Projector) Why(ctx context.Context, subjectID string, role RoleRef, as As) (Explanation, error) {
	x := Explanation{SubjectID: subjectID, Role: role, As: as}
	if subjectID == "" {
		return x, invalidQuery("Why: no subject id")
	}
	db, err := p.view(ctx)
	if err != nil {
		return x, err
	}
	defer endView(db)
	grants, err := holdersAt(ctx, db, "Why", HoldersFilter{Role: role}, subjectID, as)
	if err != nil {
		return x, err
	}
	cp, err := readCheckpoint(ctx, db)
	if err != nil {
		return x, err
	}
	x.ReadAt = cp.Position
	t, pos := as.bounds()
	for _, g := range grants {
		if g.SubjectID != subjectID {
			continue
		}
		c := Cause{Grant: g, PolicyVersion: g.PolicyVersion}
		if c.Assignment, err = getAt(ctx, db, as, assignments, g.AssignmentID); err != nil {
			return x, err
		}
		var created, requested int64
		if err := db.QueryRowContext(ctx, "SELECT position FROM assignments WHERE id = ?", g.AssignmentID).Scan(&created); err != nil {
			return x, fmt.Errorf("projection: why: %w", err)
		}
		if c.Created, err = link(ctx, db, created); err != nil {
			return x, err
		}
		err := db.QueryRowContext(ctx, "SELECT position FROM requests WHERE id = ?", g.RequestID).Scan(&requested)
		switch {
		case err == nil:
			if c.Requested, err = link(ctx, db, requested); err != nil {
				return x, err
			}
			// A request deleted since is shown as it last was.
			r, err := getAt(ctx, db, as, requests, g.RequestID)
			if errors.Is(err, ErrNotFound) {
				r, err = lastVersion(ctx, db, requests, g.RequestID)
			}
			if err != nil {
				return x, err
			}
			c.Request = r
		case !errors.Is(err, sql.ErrNoRows):
			return x, fmt.Errorf("projection: why: %w", err)
		}
		if c.Decisions, err = decisions(ctx, db, g.RequestID, t, pos); err != nil {
			return x, err
		}
		if c.PolicyVersion != 0 {
			var ppos eventstore.Position
			c.Policy, ppos, err = policyVersion(ctx, db, g.AssignmentPolicyID, c.PolicyVersion)
			if err != nil {
				return x, err
			}
			if c.PolicyRecorded, err = link(ctx, db, int64(ppos)); err != nil {
				return x, err
			}
		}
		var delivered int64
		err = db.QueryRowContext(ctx, `SELECT position FROM deliveries WHERE assignment_id = ? AND resource_role_scope_id = ?
			AND outcome = ? AND valid_at <= ? AND position <= ? ORDER BY position DESC LIMIT 1`,
			g.AssignmentID, g.ResourceRoleScopeID, entitlement.EventResourceAssignmentFulfilled, t, pos).Scan(&delivered)
		if err != nil {
			return x, fmt.Errorf("projection: why: the delivery of %s: %w", g.ResourceRoleScopeID, err)
		}
		if c.Delivered, err = link(ctx, db, delivered); err != nil {
			return x, err
		}
		if c.Extensions, err = extensions(ctx, db, as, g.AssignmentID, t, pos); err != nil {
			return x, err
		}
		x.Causes = append(x.Causes, c)
	}
	return x, nil
}

// extensions reads the extensions of an assignment applied by instant t
// and recorded by position pos, in order, from the audit log: each
// assignmentExtended event names its update request among its targets.
func extensions(ctx context.Context, db *sql.Conn, as As, assignmentID string, t, pos int64) ([]Extension, error) {
	rows, err := db.QueryContext(ctx, `SELECT a.position, a.targets FROM audit_targets x JOIN audit a ON a.position = x.position
		WHERE x.target_id = ? AND a.type = ? AND x.activity_time <= ? AND a.position <= ? ORDER BY a.position`,
		assignmentID, entitlement.EventAssignmentExtended, t, pos)
	if err != nil {
		return nil, fmt.Errorf("projection: why: extensions: %w", err)
	}
	type applied struct {
		pos       int64
		requestID string
	}
	var found []applied
	for rows.Next() {
		var p int64
		var targets []byte
		if err := rows.Scan(&p, &targets); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projection: why: extensions: %w", err)
		}
		var ts []Target
		if err := jsonv2.Unmarshal(targets, &ts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projection: why: the targets at %d: %w", p, err)
		}
		for _, tg := range ts {
			if tg.Type == kindRequest {
				found = append(found, applied{p, tg.ID})
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var out []Extension
	for _, f := range found {
		var x Extension
		var err error
		if x.Extended, err = link(ctx, db, f.pos); err != nil {
			return nil, err
		}
		var requested int64
		if err := db.QueryRowContext(ctx, "SELECT position FROM requests WHERE id = ?", f.requestID).Scan(&requested); err != nil {
			return nil, fmt.Errorf("projection: why: the extension request %s: %w", f.requestID, err)
		}
		if x.Requested, err = link(ctx, db, requested); err != nil {
			return nil, err
		}
		// A request deleted since is shown as it last was.
		if x.Request, err = getAt(ctx, db, as, requests, f.requestID); errors.Is(err, ErrNotFound) {
			x.Request, err = lastVersion(ctx, db, requests, f.requestID)
		}
		if err != nil {
			return nil, err
		}
		if x.Decisions, err = decisions(ctx, db, f.requestID, t, pos); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// lastVersion returns the last version in which an object existed.
func lastVersion[T any](ctx context.Context, db *sql.Conn, k *kind[T], id string) (T, error) {
	var zero T
	var data []byte
	err := db.QueryRowContext(ctx, `SELECT v.data FROM versions v JOIN objects x ON x.oid = v.oid
		WHERE x.kind = ? AND x.id = ? AND v.data IS NOT NULL ORDER BY v.known_from DESC, v.valid_from DESC LIMIT 1`, k.name, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return zero, fmt.Errorf("%w: %s %s", ErrNotFound, k.name, id)
	}
	if err != nil {
		return zero, fmt.Errorf("projection: read %s %s: %w", k.name, id, err)
	}
	out, err := decodeAll[T]([][]byte{data})
	if err != nil {
		return zero, err
	}
	return out[0], nil
}

// link reads the audit row of the event at a position.
func link(ctx context.Context, db *sql.Conn, pos int64) (Link, error) {
	var l Link
	var at int64
	var hash string
	err := db.QueryRowContext(ctx, `SELECT event_id, hash, type, activity, actor_id, on_behalf_of, activity_time
		FROM audit WHERE position = ?`, pos).Scan(&l.EventID, &hash, &l.EventType, &l.Activity, &l.ActorID, &l.OnBehalfOf, &at)
	if err != nil {
		return l, fmt.Errorf("projection: read the event at position %d: %w", pos, err)
	}
	l.Position, l.ActivityDateTime = eventstore.Position(pos), time.Unix(0, at).UTC()
	if l.Hash, err = eventstore.ParseHash(hash); err != nil {
		return l, fmt.Errorf("projection: the hash at position %d: %w", pos, err)
	}
	return l, nil
}

// decisions reads the decisions on a request made by instant t and
// recorded by position pos, in order.
func decisions(ctx context.Context, db *sql.Conn, requestID string, t, pos int64) ([]Decision, error) {
	rows, err := db.QueryContext(ctx, `SELECT position, stage_id, stage, result, reviewed_by, reviewed_at, justification
		FROM decisions WHERE request_id = ? AND reviewed_at <= ? AND position <= ? ORDER BY position`, requestID, t, pos)
	if err != nil {
		return nil, fmt.Errorf("projection: read decisions: %w", err)
	}
	var out []Decision
	for rows.Next() {
		d := Decision{RequestID: requestID}
		var p, at int64
		if err := rows.Scan(&p, &d.StageID, &d.Stage, &d.Result, &d.ReviewedBy, &at, &d.Justification); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projection: read decisions: %w", err)
		}
		d.Position, d.ReviewedDateTime = eventstore.Position(p), time.Unix(0, at).UTC()
		out = append(out, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for i := range out {
		l, err := link(ctx, db, int64(out[i].Position))
		if err != nil {
			return nil, err
		}
		out[i].Link = l
	}
	return out, nil
}

// ErrExplanationMismatch matches the error of Explanation.Check when a
// cited event is not the one the log holds at its position.
var ErrExplanationMismatch = errors.New("projection: the log does not hold an event the explanation cites")

// Check checks an explanation against the log. Every event it cites must
// be at its position with the cited id, hash and type, and say what the
// explanation says of it: who caused it and when it held, and the facts
// taken from it (the assignment created and its target, the request and
// its type, requestor and policy version, each decision's request, stage,
// approver, result, time and justification, the policy version cited and
// all it says, the role delivered, each extension's assignment and
// request). And what the log recorded by the explanation's moment (As,
// and no later than ReadAt) must leave each cause standing: the
// assignment not expired, the cited delivery the role's last delivery
// outcome, and no decision or extension left out.
//
// The explanation is read from the projection, a file anyone could edit:
// together with eventstore.Verify over the log, which proves the hash
// chain, Check proves that each cause it gives rests on the recorded
// history, not on the file. It cannot prove that a cause is not missing:
// an explanation with no causes checks. To trust "did not hold" as well,
// ask a projection rebuilt from the verified log. up, if not nil, brings
// old payloads to the current schema (as Options.Upcasters does) once
// their hashes are checked.
//
// Check reads the cited events, and the events of each cause's assignment
// and requests; a log with a ReadStream method (both stores) reads those
// streams alone, another is read from each assignment's first event on.
func (x Explanation) Check(ctx context.Context, log Log, up *eventstore.Upcasters) error {
	type cited struct {
		l     Link
		facts func(eventstore.Event, entitlement.Event) bool
	}
	decision := func(d Decision) cited {
		return cited{d.Link, func(_ eventstore.Event, e entitlement.Event) bool {
			p, ok := e.Data.(*entitlement.ApprovalDecision)
			result := entitlement.ReviewApproved
			if e.Type == entitlement.EventAssignmentRequestDenied {
				result = entitlement.ReviewDenied
			}
			return ok && p.RequestID == d.RequestID && p.StageID == d.StageID && p.ReviewedBy == d.ReviewedBy &&
				p.Justification == d.Justification && p.ReviewedDateTime.Equal(d.ReviewedDateTime) && result == d.Result
		}}
	}
	request := func(l Link, r entitlement.AssignmentRequest) cited {
		return cited{l, func(_ eventstore.Event, e entitlement.Event) bool {
			p, ok := e.Data.(*entitlement.AssignmentRequestPayload)
			return ok && p.Request.ID == r.ID && p.Request.RequestType == r.RequestType && p.Request.RequestorID == r.RequestorID &&
				p.Request.TargetID == r.TargetID && p.Request.PolicyVersion == r.PolicyVersion
		}}
	}
	t, pos := x.As.bounds()
	if x.ReadAt != 0 {
		pos = min(pos, int64(x.ReadAt))
	}
	for _, c := range x.Causes {
		if missing := missingLink(c); missing != "" {
			return fmt.Errorf("%w: the cause through assignment %s cites no %s", ErrExplanationMismatch, c.Grant.AssignmentID, missing)
		}
		if c.Requested.Position != 0 && c.Request.PolicyVersion != c.PolicyVersion {
			return fmt.Errorf("%w: the request names version %d of its policy, the explanation cites version %d",
				ErrExplanationMismatch, c.Request.PolicyVersion, c.PolicyVersion)
		}
		links := []cited{
			{c.Created, func(_ eventstore.Event, e entitlement.Event) bool {
				// The assignment names its request and policy: the cause
				// cites those, not others of the log, nor none.
				p, ok := e.Data.(*entitlement.AssignmentDelivering)
				return ok && p.Assignment.ID == c.Grant.AssignmentID && p.Assignment.TargetID == x.SubjectID &&
					p.Assignment.AccessPackageID == c.Grant.AccessPackageID && p.Assignment.RequestID == c.Grant.RequestID &&
					p.Assignment.AssignmentPolicyID == c.Grant.AssignmentPolicyID
			}},
			{c.PolicyRecorded, func(se eventstore.Event, e entitlement.Event) bool {
				// A policy's stream holds its versions in order, so the
				// event's stream version is the policy version it records.
				p, ok := e.Data.(*entitlement.AssignmentPolicyPayload)
				return ok && p.Policy.ID == c.Grant.AssignmentPolicyID && int(se.Version) == c.PolicyVersion &&
					samePolicy(&p.Policy, &c.Policy)
			}},
			{c.Delivered, func(_ eventstore.Event, e entitlement.Event) bool {
				// The role delivered is the one the explanation is about.
				p, ok := e.Data.(*entitlement.ResourceDeliveryPayload)
				if !ok {
					return false
				}
				r := p.Resource
				return p.AssignmentID == c.Grant.AssignmentID && r.ResourceRoleScopeID == c.Grant.ResourceRoleScopeID &&
					r.ResourceID == x.Role.ResourceID && r.RoleID == x.Role.RoleID && (x.Role.ScopeID == "" || r.ScopeID == x.Role.ScopeID) &&
					r.ResourceID == c.Grant.ResourceID && r.RoleID == c.Grant.RoleID && r.ScopeID == c.Grant.ScopeID
			}},
		}
		if c.Requested.Position != 0 {
			if c.Request.ID != c.Grant.RequestID {
				return fmt.Errorf("%w: the cause through assignment %s cites request %s, the assignment's is %s",
					ErrExplanationMismatch, c.Grant.AssignmentID, c.Request.ID, c.Grant.RequestID)
			}
			links = append(links, request(c.Requested, c.Request))
		}
		for _, d := range c.Decisions {
			links = append(links, decision(d))
		}
		for _, ext := range c.Extensions {
			links = append(links, request(ext.Requested, ext.Request), cited{ext.Extended, func(_ eventstore.Event, e entitlement.Event) bool {
				p, ok := e.Data.(*entitlement.AssignmentExtended)
				return ok && p.AssignmentID == c.Grant.AssignmentID && p.RequestID == ext.Request.ID
			}})
			for _, d := range ext.Decisions {
				links = append(links, decision(d))
			}
		}
		streams := map[eventstore.Position]eventstore.StreamID{}
		for _, l := range links {
			if l.l.Position == 0 {
				continue
			}
			e, err := checkLink(ctx, log, up, l.l, l.facts)
			if err != nil {
				return err
			}
			streams[l.l.Position] = e.Stream
		}
		if err := checkStanding(ctx, log, up, streams[c.Created.Position], c, t, pos); err != nil {
			return err
		}
		if c.Requested.Position != 0 {
			if err := checkDecided(ctx, log, up, streams[c.Requested.Position], c.Requested.Position, c.Decisions, t, pos); err != nil {
				return err
			}
		}
		for _, ext := range c.Extensions {
			if err := checkDecided(ctx, log, up, streams[ext.Requested.Position], ext.Requested.Position, ext.Decisions, t, pos); err != nil {
				return err
			}
		}
	}
	return nil
}

// missingLink names a link every cause of that kind has and c leaves out.
func missingLink(c Cause) string {
	switch {
	case c.Created.Position == 0:
		return "creation of the assignment"
	case c.Delivered.Position == 0:
		return "delivery of the role"
	case c.Grant.RequestID != "" && c.Requested.Position == 0:
		return "request"
	case c.PolicyVersion != 0 && c.PolicyRecorded.Position == 0:
		return "policy version"
	}
	for _, ext := range c.Extensions {
		if ext.Requested.Position == 0 || ext.Extended.Position == 0 {
			return "extension request or extension"
		}
	}
	return ""
}

// checkStanding checks that what the log recorded about a cause's
// assignment (its stream) by instant t and position pos leaves the cause
// standing: no expiry, the cited delivery the last delivery outcome of
// the role, and every extension cited.
func checkStanding(ctx context.Context, log Log, up *eventstore.Upcasters, stream eventstore.StreamID, c Cause, t, pos int64) error {
	var last Link
	var extended []eventstore.Position
	err := eachStreamEvent(ctx, log, up, stream, c.Created.Position, t, pos, func(e eventstore.Event, de entitlement.Event) error {
		switch d := de.Data.(type) {
		case *entitlement.AssignmentExpired:
			return fmt.Errorf("%w: position %d records the end of assignment %s at %s, by the moment the explanation is about",
				ErrExplanationMismatch, e.Position, c.Grant.AssignmentID, d.ExpiredDateTime.Format(time.RFC3339Nano))
		case *entitlement.ResourceDeliveryPayload:
			if d.AssignmentID == c.Grant.AssignmentID && d.Resource.ResourceRoleScopeID == c.Grant.ResourceRoleScopeID {
				last = Link{Position: e.Position, EventType: e.Type}
			}
		case *entitlement.AssignmentExtended:
			extended = append(extended, e.Position)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if last.Position != c.Delivered.Position || last.EventType != entitlement.EventResourceAssignmentFulfilled {
		return fmt.Errorf("%w: the last delivery outcome of role scope %s of assignment %s by then is %s at position %d, the explanation cites position %d",
			ErrExplanationMismatch, c.Grant.ResourceRoleScopeID, c.Grant.AssignmentID, last.EventType, last.Position, c.Delivered.Position)
	}
	var cited []eventstore.Position
	for _, ext := range c.Extensions {
		cited = append(cited, ext.Extended.Position)
	}
	if !slices.Equal(extended, cited) {
		return fmt.Errorf("%w: assignment %s was extended at positions %v by then, the explanation cites %v",
			ErrExplanationMismatch, c.Grant.AssignmentID, extended, cited)
	}
	return nil
}

// checkDecided checks that the decisions cited on a request are every
// decision its stream recorded by instant t and position pos.
func checkDecided(ctx context.Context, log Log, up *eventstore.Upcasters, stream eventstore.StreamID, from eventstore.Position, ds []Decision, t, pos int64) error {
	var decided, cited []eventstore.Position
	err := eachStreamEvent(ctx, log, up, stream, from, t, pos, func(e eventstore.Event, de entitlement.Event) error {
		if _, ok := de.Data.(*entitlement.ApprovalDecision); ok {
			decided = append(decided, e.Position)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range ds {
		cited = append(cited, d.Position)
	}
	if !slices.Equal(decided, cited) {
		return fmt.Errorf("%w: the request recorded at position %d was decided at positions %v by then, the explanation cites %v",
			ErrExplanationMismatch, from, decided, cited)
	}
	return nil
}

// streamReader is the part of a store that reads one stream.
type streamReader interface {
	ReadStream(ctx context.Context, stream eventstore.StreamID, after eventstore.Version) iter.Seq2[eventstore.Event, error]
}

// eachStreamEvent calls f with each event of a stream, from position from
// on, that was recorded by position pos and held by instant t, checked
// against its hash and decoded.
func eachStreamEvent(ctx context.Context, log Log, up *eventstore.Upcasters, stream eventstore.StreamID, from eventstore.Position, t, pos int64,
	f func(eventstore.Event, entitlement.Event) error) error {
	events := log.ReadAll(ctx, from-1)
	if sr, ok := log.(streamReader); ok {
		events = sr.ReadStream(ctx, stream, 0)
	}
	for e, err := range events {
		if err != nil {
			return fmt.Errorf("projection: read %s: %w", stream, err)
		}
		if int64(e.Position) > pos {
			return nil
		}
		if e.Stream != stream || e.Position < from {
			continue
		}
		if err := eventstore.Follows(eventstore.Head{Position: e.Position - 1, Hash: e.PrevHash}, &e); err != nil {
			return fmt.Errorf("%w: position %d: %w", ErrExplanationMismatch, e.Position, err)
		}
		ue, err := up.Upcast(e)
		if err != nil {
			return fmt.Errorf("projection: check position %d: %w", e.Position, err)
		}
		de, err := entitlement.DecodeEvent(ue)
		if err != nil {
			return fmt.Errorf("%w: position %d: %v", ErrExplanationMismatch, e.Position, err)
		}
		if nanos(entitlement.ValidTime(de, e.OccurredAt)) > t {
			continue
		}
		if err := f(e, de); err != nil {
			return err
		}
	}
	return nil
}

// samePolicy reports whether two policies are the same in Graph's JSON.
func samePolicy(a, b *entitlement.AssignmentPolicy) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// checkLink checks that the log holds at l's position the event l cites,
// with l's actor and instant, and that its payload has the facts cited,
// and returns that event.
func checkLink(ctx context.Context, log Log, up *eventstore.Upcasters, l Link, facts func(eventstore.Event, entitlement.Event) bool) (eventstore.Event, error) {
	for e, err := range log.ReadAll(ctx, l.Position-1) {
		if err != nil {
			return e, fmt.Errorf("projection: read position %d: %w", l.Position, err)
		}
		if e.Position != l.Position || e.ID.String() != l.EventID || e.Hash != l.Hash || e.Type != l.EventType {
			return e, fmt.Errorf("%w: position %d holds %s %s (hash %s), the explanation cites %s %s (hash %s)",
				ErrExplanationMismatch, l.Position, e.Type, e.ID, e.Hash, l.EventType, l.EventID, l.Hash)
		}
		// Its hash must be that of its contents, or the contents read
		// below were changed in place (eventstore.Verify finds where the
		// chain breaks).
		if err := eventstore.Follows(eventstore.Head{Position: e.Position - 1, Hash: e.PrevHash}, &e); err != nil {
			return e, fmt.Errorf("%w: position %d: %w", ErrExplanationMismatch, l.Position, err)
		}
		ue, err := up.Upcast(e)
		if err != nil {
			return e, fmt.Errorf("projection: check position %d: %w", l.Position, err)
		}
		de, err := entitlement.DecodeEvent(ue)
		if err != nil {
			return e, fmt.Errorf("%w: position %d: %v", ErrExplanationMismatch, l.Position, err)
		}
		if e.Metadata.ActorID != l.ActorID || e.Metadata.OnBehalfOf != l.OnBehalfOf ||
			!entitlement.ValidTime(de, e.OccurredAt).Equal(l.ActivityDateTime) || !facts(e, de) {
			return e, fmt.Errorf("%w: the %s event at position %d does not say what the explanation says of it",
				ErrExplanationMismatch, e.Type, l.Position)
		}
		return e, nil
	}
	return eventstore.Event{}, fmt.Errorf("%w: the log ends before position %d", ErrExplanationMismatch, l.Position)
}

// Delivery is one delivery outcome of a resource role of an assignment:
// granted, failed (with the reason), removed or removal failed.
type Delivery struct {
	Link
	AssignmentID        string
	ResourceRoleScopeID string
	// Outcome is the event type: entitlement.EventResourceAssignmentFulfilled,
	// …Failed, …Removed or …RemovalFailed.
	Outcome string
	Reason  string
}

// RequestHistory is an assignment request and what happened to it.
type RequestHistory struct {
	Request entitlement.AssignmentRequest
	// Events are the audited events about the request, in log order:
	// submitted, stages opened and escalated, decisions, time-out,
	// cancellation, delivery and its outcome.
	Events    []Link
	Decisions []Decision
	// Assignment is the assignment the request created or acted on, if
	// any, and Deliveries the delivery outcomes of its resource roles.
	Assignment *entitlement.Assignment
	Deliveries []Delivery
}

// RequestHistory returns a request as of as with its history up to then:
// the events about it, every approval decision, and the delivery outcomes
// (and errors) of the assignment it created or acted on. A request deleted
// by then is shown as it last was, its deletion the last of its events,
// as Why shows it.
func (p *Projector) RequestHistory(ctx context.Context, requestID string, as As) (RequestHistory, error) {
	var h RequestHistory
	db, err := p.view(ctx)
	if err != nil {
		return h, err
	}
	defer endView(db)
	r, err := requestAt(ctx, db, requestID, as)
	t, pos := as.bounds()
	if errors.Is(err, ErrNotFound) {
		var deleted int
		derr := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_targets t JOIN audit a ON a.position = t.position
			WHERE t.target_id = ? AND t.activity_time <= ? AND t.position <= ? AND a.type = ?`,
			requestID, t, pos, entitlement.EventAssignmentRequestDeleted).Scan(&deleted)
		if derr != nil {
			return h, fmt.Errorf("projection: request history: %w", derr)
		}
		if deleted > 0 {
			r, err = lastVersion(ctx, db, requests, requestID)
		}
	}
	if err != nil {
		return h, err
	}
	h.Request = r
	rows, err := db.QueryContext(ctx, `SELECT position FROM audit_targets
		WHERE target_id = ? AND activity_time <= ? AND position <= ? ORDER BY position`, requestID, t, pos)
	if err != nil {
		return h, fmt.Errorf("projection: request history: %w", err)
	}
	var positions []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return h, err
		}
		positions = append(positions, p)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return h, err
	}
	for _, p := range positions {
		l, err := link(ctx, db, p)
		if err != nil {
			return h, err
		}
		h.Events = append(h.Events, l)
	}
	if h.Decisions, err = decisions(ctx, db, requestID, t, pos); err != nil {
		return h, err
	}
	if r.AssignmentID == "" {
		return h, nil
	}
	a, err := getAt(ctx, db, as, assignments, r.AssignmentID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return h, err
	}
	if err == nil {
		h.Assignment = &a
	}
	rows, err = db.QueryContext(ctx, `SELECT position, resource_role_scope_id, outcome, reason FROM deliveries
		WHERE assignment_id = ? AND valid_at <= ? AND position <= ? ORDER BY position`, r.AssignmentID, t, pos)
	if err != nil {
		return h, fmt.Errorf("projection: request history: %w", err)
	}
	for rows.Next() {
		d := Delivery{AssignmentID: r.AssignmentID}
		var p int64
		if err := rows.Scan(&p, &d.ResourceRoleScopeID, &d.Outcome, &d.Reason); err != nil {
			rows.Close()
			return h, err
		}
		d.Position = eventstore.Position(p)
		h.Deliveries = append(h.Deliveries, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return h, err
	}
	for i := range h.Deliveries {
		if h.Deliveries[i].Link, err = link(ctx, db, int64(h.Deliveries[i].Position)); err != nil {
			return h, err
		}
	}
	return h, nil
}
