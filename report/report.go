package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
)

// Kind names a report.
type Kind string

// The reports. Each says in its comment which Query fields it needs.
const (
	// Assignments lists the assignments of an access package (PackageID):
	// those not ended as of the moment asked, or with a time range those
	// that were active at some time in it; charted by state over time.
	Assignments Kind = "assignments"
	// AccessPackages lists the access packages a user (UserID) is assigned.
	AccessPackages Kind = "access-packages"
	// Resources lists the resource roles a user (UserID) holds, each with
	// the granting access package, policy and policy version.
	Resources Kind = "resources"
	// Requests lists assignment requests (of PackageID, for UserID as
	// target, or all) created in the time range, with their approval
	// decisions and delivery errors; charted by outcome.
	Requests Kind = "requests"
	// Audit lists the audit log in the time range (entries initiated by
	// UserID, about PackageID, or all); charted as grants and revocations
	// of resource roles over time.
	Audit Kind = "audit"
	// Conflicts lists separation-of-duties conflicts: for an access
	// package (PackageID, or every package), the assignments whose targets
	// also hold one of its incompatible packages (Graph's additionalAccess).
	Conflicts Kind = "conflicts"
	// ConnectedOrganizations lists the connected organizations with their
	// state (proposed or configured).
	ConnectedOrganizations Kind = "connected-organizations"
	// Catalogs lists the catalogs with their access packages and resources.
	Catalogs Kind = "catalogs"
	// Why explains why a user (UserID) held a resource role (Role): the
	// assignment, request, approvals, policy version and delivery, each
	// with the log position and hash that recorded it.
	Why Kind = "why"
)

// takes says, for each report, which parts of a Query it acts on (Build
// refuses the others, so that nothing asked of a report is silently
// ignored) and how it is built.
var takes = map[Kind]struct {
	pkg, user, role, rng bool
	recorded             bool // takes RecordedAfter
	build                func(*builder) error
}{
	Assignments:            {pkg: true, rng: true, build: (*builder).assignments},
	AccessPackages:         {user: true, rng: true, build: (*builder).accessPackages},
	Resources:              {user: true, build: (*builder).resources},
	Requests:               {pkg: true, user: true, rng: true, recorded: true, build: (*builder).requests},
	Audit:                  {pkg: true, user: true, rng: true, recorded: true, build: (*builder).audit},
	Conflicts:              {pkg: true, build: (*builder).conflicts},
	ConnectedOrganizations: {build: (*builder).connectedOrganizations},
	Catalogs:               {build: (*builder).catalogs},
	Why:                    {user: true, role: true, build: (*builder).why},
}

// narrow keeps of q the parts report k acts on.
func narrow(k Kind, q Query) Query {
	t := takes[k]
	if !t.pkg {
		q.PackageID = ""
	}
	if !t.user {
		q.UserID = ""
	}
	if !t.role {
		q.Role = projection.RoleRef{}
	}
	if !t.rng {
		q.Since, q.Until = time.Time{}, time.Time{}
	}
	if !t.recorded {
		q.RecordedAfter = 0
	}
	return q
}

// Kinds lists every report.
var Kinds = []Kind{Catalogs, Assignments, AccessPackages, Resources, Requests, Audit, Conflicts, ConnectedOrganizations, Why}

// Query says what a report is about and at which moment.
type Query struct {
	// As is the moment the report answers about: as of an instant, as
	// known at a log position, or the latest (zero).
	As projection.As
	// Since and Until bound a time range, Since <= t < Until; either may
	// be zero (unbounded).
	Since, Until time.Time
	// RecordedAfter, if not zero, bounds the requests and audit reports
	// by log position instead: they leave out what the events at or
	// before it recorded, so that with As.KnownAt they cover the events
	// recorded in between, each in exactly one such report whatever its
	// valid time (an expiry due on 31 March and recorded on 1 April
	// belongs to the April report). An archive's reports use it.
	RecordedAfter eventstore.Position
	// PackageID is an access package's id.
	PackageID string
	// UserID is a user's (or other subject's) id.
	UserID string
	// Role is the resource role a Why report explains.
	Role projection.RoleRef
	// GeneratedAt, if set, is printed as the report's creation time;
	// leave it zero for output that depends only on the projection.
	GeneratedAt time.Time
}

// ErrInvalid matches the error of a report asked with a query it cannot
// answer: an unknown kind, a missing id, a range that ends before it starts.
var ErrInvalid = errors.New("report: invalid query")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// MissingError is the error of a report asked without a part of the
// Query it needs. It matches ErrInvalid.
type MissingError struct {
	Kind Kind
	// Field names the Query field: "PackageID", "UserID" or "Role".
	Field string
}

func (e *MissingError) Error() string {
	what := map[string]string{"PackageID": "an access package", "UserID": "a user", "Role": "a resource and a role"}[e.Field]
	return fmt.Sprintf("%v: the %s report needs %s (Query.%s)", ErrInvalid, e.Kind, what, e.Field)
}

// Is reports whether target is ErrInvalid.
func (e *MissingError) Is(target error) bool { return target == ErrInvalid }

// Report is one report, ready to be written in any Format.
type Report struct {
	Kind Kind
	// Title and Subject head the report ("Assignments of an access
	// package", "Sales tools").
	Title, Subject string
	Query          Query
	// Checkpoint is how far the projection had read the log when the
	// report was made; for a report as known at a position, that position
	// and its event's hash, so that the report is a function of the log up
	// to there and the same bytes however far the log has grown since.
	Checkpoint projection.Checkpoint
	// Columns and Rows are the table that CSV and HTML show.
	Columns []string
	Rows    [][]string
	// Value is what JSON shows: Graph-shaped objects, one per row.
	Value []any
	// Charts are drawn in HTML.
	Charts []Chart
	// Explanation is the why report's explanation, the one its rows
	// show, for the caller to check against the log (Explanation.Check):
	// the projection is not signed. Nil for the other reports.
	Explanation *projection.Explanation
}

// Format is an output format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	JSON Format = "json"
	HTML Format = "html"
)

// Formats lists every format.
var Formats = []Format{CSV, JSON, HTML}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	if f := Format(s); slices.Contains(Formats, f) {
		return f, nil
	}
	return "", invalid("unknown format %q (csv, json or html)", s)
}

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", invalid("unknown report %q", s)
}

// Write writes the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case CSV:
		return r.WriteCSV(w)
	case JSON:
		return r.WriteJSON(w)
	case HTML:
		return r.WriteHTML(w)
	}
	return invalid("unknown format %q", f)
}

// Build makes the report of kind k from the projection p.
func Build(ctx context.Context, p *projection.Projector, k Kind, q Query) (*Report, error) {
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, invalid("the range is empty: it ends (%s) before or when it starts (%s), and its end is exclusive", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	t, ok := takes[k]
	if !ok {
		return nil, invalid("unknown report %q", k)
	}
	switch {
	case q.PackageID != "" && !t.pkg:
		return nil, invalid("the %s report takes no access package", k)
	case q.UserID != "" && !t.user:
		return nil, invalid("the %s report takes no user", k)
	case q.Role != (projection.RoleRef{}) && !t.role:
		return nil, invalid("the %s report takes no resource role", k)
	case (!q.Since.IsZero() || !q.Until.IsZero()) && !t.rng:
		return nil, invalid("the %s report takes no time range: ask it as of an instant", k)
	case q.RecordedAfter != 0 && !t.recorded:
		return nil, invalid("the %s report takes no range of positions: ask it as known at a position", k)
	}
	cp, err := p.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if q.As.KnownAt > cp.Position {
		return nil, invalid("as known at position %d: the projection has read the log up to %d", q.As.KnownAt, cp.Position)
	}
	if q.As.KnownAt != 0 {
		if cp, err = p.CheckpointAt(ctx, q.As.KnownAt); err != nil {
			return nil, err
		}
	}
	b := &builder{ctx: ctx, p: p, q: q, r: &Report{Kind: k, Query: q, Checkpoint: cp}}
	if err := t.build(b); err != nil {
		return nil, err
	}
	return b.r, nil
}
