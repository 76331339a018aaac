package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/projection"
)

// builder makes one report.
type builder struct {
	ctx   context.Context
	p     *projection.Projector
	q     Query
	r     *Report
	names map[string]string
	// lifecycles are the subjectLifecycle of the users subjects looked up.
	lifecycles map[string]string
}

// ref is a Graph navigation property expanded to its id and display name,
// and for an assignment's target (Graph's accessPackageSubject) that is a
// user, its subjectLifecycle.
type ref struct {
	ID               string `json:"id"`
	DisplayName      string `json:"displayName,omitempty"`
	SubjectLifecycle string `json:"subjectLifecycle,omitempty"`
}

// subjects looks up the subjectLifecycle of the users among ids for
// subject; a user without one is notDefined, Graph's
// default.
func (b *builder) subjects(ids ...string) error {
	users, err := b.p.Users(b.ctx, ids, b.q.As)
	if err != nil {
		return err
	}
	if b.lifecycles == nil {
		b.lifecycles = make(map[string]string, len(users))
	}
	for id, u := range users {
		b.lifecycles[id] = cmp.Or(u.SubjectLifecycle, entitlement.SubjectLifecycleNotDefined)
	}
	return nil
}

// subject is ref for an assignment's target.
func (b *builder) subject(id string) *ref {
	r := b.ref(id)
	if r != nil {
		r.SubjectLifecycle = b.lifecycles[id]
	}
	return r
}

// nameAll looks up the display names of ids for name and ref.
func (b *builder) nameAll(ids ...string) error {
	names, err := b.p.DisplayNames(b.ctx, ids, b.q.As)
	if err != nil {
		return err
	}
	if b.names == nil {
		b.names = names
		return nil
	}
	for id, n := range names {
		b.names[id] = n
	}
	return nil
}

// name returns the display name of id, or id itself if it has none.
func (b *builder) name(id string) string {
	if n := b.names[id]; n != "" {
		return n
	}
	return id
}

func (b *builder) ref(id string) *ref {
	if id == "" {
		return nil
	}
	return &ref{ID: id, DisplayName: b.names[id]}
}

// inRange reports whether an interval [from, to) (to zero: open) meets the
// query's time range.
func (b *builder) inRange(from time.Time, to *time.Time) bool {
	if !b.q.Until.IsZero() && !from.Before(b.q.Until) {
		return false
	}
	return b.q.Since.IsZero() || to == nil || to.After(b.q.Since)
}

// during reports whether an instant is in the query's time range.
func (b *builder) during(t time.Time) bool {
	return (b.q.Since.IsZero() || !t.Before(b.q.Since)) && (b.q.Until.IsZero() || t.Before(b.q.Until))
}

// ranged reports whether the query has a time range.
func (b *builder) ranged() bool { return !b.q.Since.IsZero() || !b.q.Until.IsZero() }

func (b *builder) row(cells ...string) { b.r.Rows = append(b.r.Rows, cells) }

// stamp formats an instant for a table cell.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// ended returns when an assignment ended, nil if it has not.
func ended(a *entitlement.Assignment) *time.Time {
	if a.IsEnded() {
		return a.ExpiredDateTime
	}
	return nil
}

// endOf returns when an assignment ends or ended, if it has an end.
func endOf(a *entitlement.Assignment) string {
	if e := ended(a); e != nil {
		return stamp(*e)
	}
	if e, ok := a.End(); ok {
		return stamp(e)
	}
	return ""
}

// deliverySummary says how an assignment's resource roles were delivered:
// "2 fulfilled", "1 fulfilled, 1 failed: reason". It is written for every
// row of a report of a hundred thousand assignments, so without maps or
// fmt.
func deliverySummary(a *entitlement.Assignment) string {
	type count struct {
		status string
		n      int
	}
	var counts []count
	var reasons []string
	for _, rd := range a.Resources {
		i := slices.IndexFunc(counts, func(c count) bool { return c.status == rd.Status })
		if i < 0 {
			counts = append(counts, count{rd.Status, 0})
			i = len(counts) - 1
		}
		counts[i].n++
		if rd.Reason != "" {
			reasons = append(reasons, rd.Reason)
		}
	}
	slices.SortFunc(counts, func(x, y count) int { return strings.Compare(x.status, y.status) })
	var b strings.Builder
	for i, c := range counts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(c.n))
		b.WriteByte(' ')
		b.WriteString(c.status)
	}
	if len(reasons) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(reasons, "; "))
	}
	return b.String()
}

// assignmentJSON is an accessPackageAssignment with its navigation
// properties expanded, as Graph's $expand returns it.
type assignmentJSON struct {
	*entitlement.Assignment
	Target                    *ref `json:"target,omitempty"`
	AccessPackage             *ref `json:"accessPackage,omitempty"`
	AssignmentPolicy          *ref `json:"assignmentPolicy,omitempty"`
	IncompatibleAccessPackage *ref `json:"incompatibleAccessPackage,omitempty"`
}

func (b *builder) assignmentJSON(a *entitlement.Assignment) assignmentJSON {
	return assignmentJSON{Assignment: a, Target: b.subject(a.TargetID), AccessPackage: b.ref(a.AccessPackageID),
		AssignmentPolicy: b.ref(a.AssignmentPolicyID)}
}

func (b *builder) packageNamed() (entitlement.AccessPackage, error) {
	if b.q.PackageID == "" {
		return entitlement.AccessPackage{}, &MissingError{Kind: b.r.Kind, Field: "PackageID"}
	}
	pkg, err := b.p.AccessPackage(b.ctx, b.q.PackageID, b.q.As)
	if errors.Is(err, projection.ErrNotFound) {
		// A package the log knows (its creation is in the audit log),
		// asked about when it did not exist: say so, rather than that
		// there is no such package.
		created, aerr := b.p.AuditLog(b.ctx, projection.AuditFilter{TargetID: b.q.PackageID, Limit: 1,
			Activity: entitlement.ActivityName(entitlement.EventAccessPackageCreated)})
		if names, nerr := b.p.DisplayNames(b.ctx, []string{b.q.PackageID}, projection.Now); aerr == nil && len(created) > 0 && nerr == nil {
			when := "at the moment asked (it was created after it, or deleted before it)"
			if b.q.As == projection.Now {
				when = "any longer: it was deleted (ask as of a moment it existed)"
			}
			return pkg, invalid("the access package %q (%s) does not exist %s", names[b.q.PackageID], b.q.PackageID, when)
		}
	}
	if err != nil {
		return pkg, fmt.Errorf("report: access package %s: %w", b.q.PackageID, err)
	}
	return pkg, nil
}

// subjectOf sets the report's subject to the package and the user the
// query names, the user's name after userPrefix.
func (b *builder) subjectOf(userPrefix string) error {
	var parts []string
	if b.q.PackageID != "" {
		pkg, err := b.packageNamed()
		if err != nil {
			return err
		}
		parts = append(parts, pkg.DisplayName)
	}
	if b.q.UserID != "" {
		if err := b.nameAll(b.q.UserID); err != nil {
			return err
		}
		parts = append(parts, userPrefix+b.name(b.q.UserID))
	}
	b.r.Subject = strings.Join(parts, ", ")
	return nil
}

func (b *builder) needUser() error {
	if b.q.UserID == "" {
		return &MissingError{Kind: b.r.Kind, Field: "UserID"}
	}
	return nil
}

var assignmentColumns = []string{"Target", "Target id", "Access package", "State", "Status", "Policy", "Start", "End", "Created",
	"Resource roles", "User lifecycle", "Assignment id"}

func (b *builder) assignmentRows(as []*entitlement.Assignment) error {
	ids := make([]string, 0, 3*len(as))
	targets := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.TargetID, a.AssignmentPolicyID, a.AccessPackageID)
		targets = append(targets, a.TargetID)
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	if err := b.subjects(targets...); err != nil {
		return err
	}
	b.r.Columns = assignmentColumns
	b.r.Rows = slices.Grow(b.r.Rows, len(as))
	b.r.Value = slices.Grow(b.r.Value, len(as))
	for _, a := range as {
		b.row(b.name(a.TargetID), a.TargetID, b.name(a.AccessPackageID), a.State, a.Status, b.name(a.AssignmentPolicyID),
			stamp(a.Schedule.StartDateTime), endOf(a), stamp(a.CreatedDateTime), deliverySummary(a), b.lifecycles[a.TargetID], a.ID)
		b.r.Value = append(b.r.Value, b.assignmentJSON(a))
	}
	return nil
}

// current keeps the assignments not ended as of the moment asked, or with
// a range those active at some time in it.
func (b *builder) current(all []entitlement.Assignment) []*entitlement.Assignment {
	out := make([]*entitlement.Assignment, 0, len(all))
	for i := range all {
		a := &all[i]
		if b.ranged() && b.inRange(a.CreatedDateTime, ended(a)) || !b.ranged() && !a.IsEnded() {
			out = append(out, a)
		}
	}
	return out
}

func (b *builder) assignments() error {
	pkg, err := b.packageNamed()
	if err != nil {
		return err
	}
	b.r.Title, b.r.Subject = "Assignments of an access package", pkg.DisplayName
	all, err := b.p.Assignments(b.ctx, entitlement.AssignmentFilter{AccessPackageID: pkg.ID, IncludeEnded: true}, b.q.As)
	if err != nil {
		return err
	}
	if err := b.assignmentRows(b.current(all)); err != nil {
		return err
	}
	b.r.Charts = append(b.r.Charts, b.assignmentsOverTime(all))
	return nil
}

func (b *builder) accessPackages() error {
	if err := b.needUser(); err != nil {
		return err
	}
	if err := b.nameAll(b.q.UserID); err != nil {
		return err
	}
	b.r.Title, b.r.Subject = "Access packages of a user", b.name(b.q.UserID)
	all, err := b.p.Assignments(b.ctx, entitlement.AssignmentFilter{TargetID: b.q.UserID, IncludeEnded: b.ranged()}, b.q.As)
	if err != nil {
		return err
	}
	cur := b.current(all)
	if err := b.assignmentRows(cur); err != nil {
		return err
	}
	slices.SortStableFunc(b.r.Rows, func(x, y []string) int { return cmp.Compare(x[2], y[2]) })
	slices.SortStableFunc(b.r.Value, func(x, y any) int {
		return cmp.Compare(x.(assignmentJSON).AccessPackage.DisplayName, y.(assignmentJSON).AccessPackage.DisplayName)
	})
	return nil
}

// resourceRoleJSON is one resource role a subject holds, in the shape of
// Graph's accessPackageAssignmentResourceRole with its navigation
// properties expanded.
type resourceRoleJSON struct {
	ID                         string       `json:"id"`
	OriginID                   string       `json:"originId"`
	OriginSystem               string       `json:"originSystem"`
	Status                     string       `json:"status"`
	AccessPackageSubject       *ref         `json:"accessPackageSubject"`
	AccessPackageResource      resourceRef  `json:"accessPackageResource"`
	AccessPackageResourceRole  resourceRef  `json:"accessPackageResourceRole"`
	AccessPackageResourceScope resourceRef  `json:"accessPackageResourceScope"`
	AccessPackage              *ref         `json:"accessPackage"`
	AssignmentPolicy           *ref         `json:"assignmentPolicy"`
	PolicyVersion              int          `json:"policyVersion"`
	AccessPackageAssignment    assignmentID `json:"accessPackageAssignment"`
	AssignmentRequestID        string       `json:"requestId,omitempty"`
	StartDateTime              time.Time    `json:"startDateTime"`
	EndDateTime                *time.Time   `json:"endDateTime,omitempty"`
}

type resourceRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	OriginID    string `json:"originId,omitempty"`
}

type assignmentID struct {
	ID string `json:"id"`
}

func (b *builder) resources() error {
	if err := b.needUser(); err != nil {
		return err
	}
	grants, err := b.p.ResourceRolesOf(b.ctx, b.q.UserID, b.q.As)
	if err != nil {
		return err
	}
	ids := []string{b.q.UserID}
	res := map[string]entitlement.Resource{}
	for _, g := range grants {
		ids = append(ids, g.AccessPackageID, g.AssignmentPolicyID)
		if _, ok := res[g.ResourceID]; !ok {
			r, err := b.p.Resource(b.ctx, g.ResourceID, b.q.As)
			if err != nil && !errors.Is(err, projection.ErrNotFound) {
				return err
			}
			res[g.ResourceID] = r
		}
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	b.r.Title, b.r.Subject = "Resource roles of a user", b.name(b.q.UserID)
	// Start and end are the granting assignment's: a role added to the
	// package later was delivered after the assignment started (Why says
	// when).
	b.r.Columns = []string{"Resource", "Origin system", "Role", "Scope", "Access package", "Policy", "Policy version", "Assignment start", "Assignment end", "Assignment id", "Request id"}
	for _, g := range grants {
		r := res[g.ResourceID]
		role, scope := resourceRef{ID: g.RoleID}, resourceRef{ID: g.ScopeID, OriginID: g.ScopeID}
		for _, x := range r.Roles {
			if x.ID == g.RoleID {
				role = resourceRef{ID: x.ID, DisplayName: x.DisplayName, OriginID: x.OriginID}
			}
		}
		for _, x := range r.Scopes {
			if x.ID == g.ScopeID {
				scope = resourceRef{ID: x.ID, DisplayName: x.DisplayName, OriginID: x.OriginID}
			}
		}
		b.row(cmp.Or(r.DisplayName, g.ResourceID), g.OriginSystem, cmp.Or(role.DisplayName, role.ID), cmp.Or(scope.DisplayName, scope.OriginID),
			b.name(g.AccessPackageID), b.name(g.AssignmentPolicyID), strconv.Itoa(g.PolicyVersion), stamp(g.StartDateTime),
			stampPtr(g.EndDateTime), g.AssignmentID, g.RequestID)
		b.r.Value = append(b.r.Value, resourceRoleJSON{
			ID: g.AssignmentID + "/" + g.ResourceRoleScopeID, OriginID: role.OriginID, OriginSystem: g.OriginSystem,
			Status: "Fulfilled", AccessPackageSubject: b.ref(b.q.UserID),
			AccessPackageResource:     resourceRef{ID: g.ResourceID, DisplayName: r.DisplayName, OriginID: g.OriginID},
			AccessPackageResourceRole: role, AccessPackageResourceScope: scope,
			AccessPackage: b.ref(g.AccessPackageID), AssignmentPolicy: b.ref(g.AssignmentPolicyID), PolicyVersion: g.PolicyVersion,
			AccessPackageAssignment: assignmentID{g.AssignmentID}, AssignmentRequestID: g.RequestID,
			StartDateTime: g.StartDateTime, EndDateTime: g.EndDateTime,
		})
	}
	return nil
}

// requestJSON is an accessPackageAssignmentRequest with its navigation
// properties expanded, its approval decisions and its delivery outcomes.
type requestJSON struct {
	entitlement.AssignmentRequest
	AccessPackage *ref           `json:"accessPackage,omitempty"`
	Target        *ref           `json:"target,omitempty"`
	Requestor     *ref           `json:"requestor,omitempty"`
	Decisions     []decisionJSON `json:"decisions,omitempty"`
	Deliveries    []deliveryJSON `json:"deliveries,omitempty"`
}

type decisionJSON struct {
	Stage            int       `json:"stage"`
	ReviewResult     string    `json:"reviewResult"`
	ReviewedBy       *ref      `json:"reviewedBy"`
	ReviewedDateTime time.Time `json:"reviewedDateTime"`
	Justification    string    `json:"justification,omitempty"`
	OnBehalfOf       string    `json:"onBehalfOf,omitempty"`
	Position         uint64    `json:"position"`
}

type deliveryJSON struct {
	ResourceRoleScopeID string    `json:"resourceRoleScopeId"`
	Outcome             string    `json:"outcome"`
	Reason              string    `json:"reason,omitempty"`
	DateTime            time.Time `json:"dateTime"`
	Position            uint64    `json:"position"`
}

func (b *builder) requests() error {
	f := projection.RequestFilter{AccessPackageID: b.q.PackageID, TargetID: b.q.UserID, CreatedAfter: b.q.RecordedAfter}
	b.r.Title = "Assignment requests"
	if err := b.subjectOf("for "); err != nil {
		return err
	}
	all, err := b.p.Requests(b.ctx, f, b.q.As)
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(r entitlement.AssignmentRequest) bool { return !b.during(r.CreatedDateTime) })
	var ids []string
	hist := make([]projection.RequestHistory, len(all))
	for i, r := range all {
		h, err := b.p.RequestHistory(b.ctx, r.ID, b.q.As)
		if err != nil {
			return err
		}
		hist[i] = h
		ids = append(ids, r.AccessPackageID, r.TargetID, r.RequestorID, r.AssignmentPolicyID)
		for _, d := range h.Decisions {
			ids = append(ids, d.ReviewedBy)
		}
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	b.r.Columns = []string{"Created", "Request id", "Type", "State", "Status", "Access package", "Target", "Requestor", "Policy", "Decisions", "Delivery errors", "Completed"}
	outcomes := map[string]int{}
	for i, r := range all {
		h := hist[i]
		outcomes[r.State]++
		var decisions, errs []string
		j := requestJSON{AccessPackage: b.ref(r.AccessPackageID), Target: b.ref(r.TargetID), Requestor: b.ref(r.RequestorID)}
		for _, d := range h.Decisions {
			text := fmt.Sprintf("stage %d: %s by %s at %s", d.Stage, d.Result, b.name(d.ReviewedBy), stamp(d.ReviewedDateTime))
			if d.Justification != "" {
				text += " (" + d.Justification + ")"
			}
			decisions = append(decisions, text)
			j.Decisions = append(j.Decisions, decisionJSON{Stage: d.Stage, ReviewResult: d.Result, ReviewedBy: b.ref(d.ReviewedBy),
				ReviewedDateTime: d.ReviewedDateTime, Justification: d.Justification, OnBehalfOf: d.OnBehalfOf, Position: uint64(d.Position)})
		}
		for _, d := range h.Deliveries {
			if len(h.Events) > 0 && d.Position < h.Events[0].Position {
				continue // an earlier request's delivery of the same assignment
			}
			if d.Reason != "" {
				errs = append(errs, fmt.Sprintf("%s: %s", stamp(d.ActivityDateTime), d.Reason))
			}
			j.Deliveries = append(j.Deliveries, deliveryJSON{ResourceRoleScopeID: d.ResourceRoleScopeID, Outcome: d.Outcome,
				Reason: d.Reason, DateTime: d.ActivityDateTime, Position: uint64(d.Position)})
		}
		policy := b.name(r.AssignmentPolicyID)
		if r.PolicyVersion > 0 {
			policy += fmt.Sprintf(" (v%d)", r.PolicyVersion)
		}
		b.row(stamp(r.CreatedDateTime), r.ID, r.RequestType, r.State, r.Status, b.name(r.AccessPackageID), b.name(r.TargetID),
			b.name(r.RequestorID), policy, strings.Join(decisions, "; "), strings.Join(errs, "; "), stampPtr(r.CompletedDateTime))
		r.Policy = nil // the policy is named by id and version; the policy report holds it
		j.AssignmentRequest = r
		b.r.Value = append(b.r.Value, j)
	}
	b.r.Charts = append(b.r.Charts, requestsByOutcome(outcomes))
	return nil
}

// auditJSON is an audit entry in the shape of Graph's directoryAudit.
type auditJSON struct {
	ID                  string          `json:"id"`
	Category            string          `json:"category"`
	ActivityDisplayName string          `json:"activityDisplayName"`
	ActivityDateTime    time.Time       `json:"activityDateTime"`
	LoggedByService     string          `json:"loggedByService"`
	OperationType       string          `json:"operationType"`
	Result              string          `json:"result"`
	CorrelationID       string          `json:"correlationId,omitempty"`
	InitiatedBy         map[string]*ref `json:"initiatedBy"`
	TargetResources     []targetJSON    `json:"targetResources"`
	AdditionalDetails   []keyValue      `json:"additionalDetails"`
}

type targetJSON struct {
	ID                 string                        `json:"id"`
	DisplayName        string                        `json:"displayName,omitempty"`
	Type               string                        `json:"type"`
	ModifiedProperties []projection.ModifiedProperty `json:"modifiedProperties,omitempty"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (b *builder) audit() error {
	f := projection.AuditFilter{From: b.q.Since, To: b.q.Until, ActorID: b.q.UserID, TargetID: b.q.PackageID,
		AsKnownAt: b.q.As.KnownAt, RecordedAfter: b.q.RecordedAfter}
	if of := b.q.As.Of; !of.IsZero() && (f.To.IsZero() || of.Before(f.To)) {
		f.To = of.Add(time.Nanosecond) // as of an instant: what happened up to it
	}
	b.r.Title = "Audit log"
	if err := b.subjectOf("initiated by "); err != nil {
		return err
	}
	entries, err := b.p.AuditLog(b.ctx, f)
	if err != nil {
		return err
	}
	b.r.Columns = []string{"Date", "Activity", "Category", "Result", "Initiated by", "Targets", "Position", "Event id"}
	for _, e := range entries {
		var targets []string
		j := auditJSON{ID: e.EventID, Category: e.Category, ActivityDisplayName: e.Activity, ActivityDateTime: e.ActivityDateTime,
			LoggedByService: loggedBy(e.Category), OperationType: operationType(e.Activity), Result: e.Result, CorrelationID: e.CorrelationID,
			InitiatedBy: map[string]*ref{initiatorKey(e.InitiatedBy.Kind): {ID: e.InitiatedBy.ID, DisplayName: e.InitiatedBy.DisplayName}},
			AdditionalDetails: []keyValue{{"position", strconv.FormatUint(uint64(e.Position), 10)}, {"recordedDateTime", stamp(e.RecordedAt)},
				{"eventType", e.EventType}}}
		if e.OnBehalfOf != "" {
			j.AdditionalDetails = append(j.AdditionalDetails, keyValue{"onBehalfOf", e.OnBehalfOf})
		}
		if e.CommandID != "" {
			j.AdditionalDetails = append(j.AdditionalDetails, keyValue{"commandId", e.CommandID})
		}
		for i, t := range e.TargetResources {
			targets = append(targets, cmp.Or(t.DisplayName, t.ID))
			tj := targetJSON{ID: t.ID, DisplayName: t.DisplayName, Type: t.Type}
			if i == 0 {
				tj.ModifiedProperties = e.ModifiedProperties
			}
			j.TargetResources = append(j.TargetResources, tj)
		}
		b.row(stamp(e.ActivityDateTime), e.Activity, e.Category, e.Result, cmp.Or(e.InitiatedBy.DisplayName, e.InitiatedBy.ID),
			strings.Join(targets, "; "), strconv.FormatUint(uint64(e.Position), 10), e.EventID)
		b.r.Value = append(b.r.Value, j)
	}
	b.r.Charts = append(b.r.Charts, grantsOverTime(entries))
	return nil
}

// initiatorKey is the property of Graph's auditActivityInitiator that
// holds an initiator of a kind: app or user (the system acts as the
// Entitlement Management service's app, as Entra logs its own work).
func initiatorKey(kind string) string {
	switch kind {
	case string(entitlement.ActorServicePrincipal), string(entitlement.ActorSystem):
		return "app"
	}
	return "user"
}

// loggedBy is a directoryAudit's loggedByService: the service that
// logs entries of a category in Entra.
func loggedBy(category string) string {
	switch category {
	case projection.CategoryEntitlementManagement:
		return "Entitlement Management"
	case projection.CategoryAccessReviews:
		return "Access Reviews"
	case projection.CategoryWorkflowManagement, projection.CategoryTaskManagement:
		return "Lifecycle Workflows"
	}
	return "Core Directory"
}

// operationType is a directoryAudit's operationType (Add, Assign, Update,
// Unassign or Delete), from the activity's name: access given or taken
// from someone is Assign or Unassign, anything created (a request
// included) Add, anything deleted Delete, the rest Update.
func operationType(activity string) string {
	verb, _, _ := strings.Cut(activity, " ")
	switch {
	case verb == "Assign", strings.HasPrefix(activity, "Administrator directly assigns"),
		slices.Contains([]string{"Fulfill access package resource assignment", "Add Entitlement Management role assignment", "Add member to group"}, activity):
		return "Assign"
	case strings.HasPrefix(activity, "Remove user as"), strings.HasPrefix(activity, "Administrator directly removes"),
		slices.Contains([]string{"Remove access package resource assignment", "Remove access package assignment",
			"Remove Entitlement Management role assignment", "Remove member from group"}, activity):
		return "Unassign"
	case slices.Contains([]string{"Create", "Add", "User", "Entitlement", "Schedule"}, verb):
		return "Add"
	case verb == "Delete", verb == "Remove":
		return "Delete"
	}
	return "Update"
}

func (b *builder) conflicts() error {
	var pkgs []entitlement.AccessPackage
	b.r.Title = "Separation of duties conflicts"
	if b.q.PackageID != "" {
		pkg, err := b.packageNamed()
		if err != nil {
			return err
		}
		pkgs, b.r.Subject = []entitlement.AccessPackage{pkg}, pkg.DisplayName
	} else {
		all, err := b.p.AccessPackages(b.ctx, "", b.q.As)
		if err != nil {
			return err
		}
		pkgs = all
	}
	var rows []assignmentJSON
	for _, pkg := range pkgs {
		for _, other := range pkg.IncompatibleAccessPackages {
			as, err := b.p.AdditionalAccess(b.ctx, projection.AdditionalAccessFilter{AccessPackageID: pkg.ID, IncompatibleAccessPackageID: other}, b.q.As)
			if err != nil {
				return err
			}
			for _, a := range as {
				j := assignmentJSON{Assignment: &a}
				j.IncompatibleAccessPackage = &ref{ID: other}
				rows = append(rows, j)
			}
		}
	}
	var ids []string
	for _, j := range rows {
		ids = append(ids, j.TargetID, j.AccessPackageID, j.AssignmentPolicyID, j.IncompatibleAccessPackage.ID)
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	b.r.Columns = []string{"Target", "Target id", "Access package", "Incompatible access package", "State", "Policy", "Start", "End", "Assignment id"}
	for _, j := range rows {
		other := j.IncompatibleAccessPackage.ID
		b.row(b.name(j.TargetID), j.TargetID, b.name(j.AccessPackageID), b.name(other), j.State, b.name(j.AssignmentPolicyID),
			stamp(j.Schedule.StartDateTime), endOf(j.Assignment), j.ID)
		j2 := b.assignmentJSON(j.Assignment)
		j2.IncompatibleAccessPackage = b.ref(other)
		b.r.Value = append(b.r.Value, j2)
	}
	return nil
}

func (b *builder) connectedOrganizations() error {
	orgs, err := b.p.ConnectedOrganizations(b.ctx, b.q.As)
	if err != nil {
		return err
	}
	var ids []string
	for _, o := range orgs {
		ids = append(append(ids, o.InternalSponsors...), o.ExternalSponsors...)
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	b.r.Title = "Connected organizations"
	b.r.Columns = []string{"Display name", "State", "Identity sources", "Internal sponsors", "External sponsors", "Created", "Modified", "Id"}
	names := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = b.name(id)
		}
		return strings.Join(out, "; ")
	}
	for _, o := range orgs {
		var sources []string
		for _, s := range o.IdentitySources {
			sources = append(sources, cmp.Or(s.DomainName, s.TenantID, s.IssuerURI, s.SocialIdentitySourceType, s.DisplayName))
		}
		b.row(o.DisplayName, o.State, strings.Join(sources, "; "), names(o.InternalSponsors), names(o.ExternalSponsors),
			stamp(o.CreatedDateTime), stamp(o.ModifiedDateTime), o.ID)
		b.r.Value = append(b.r.Value, o)
	}
	return nil
}

// catalogJSON is an accessPackageCatalog with its access packages and
// resources expanded.
type catalogJSON struct {
	entitlement.Catalog
	AccessPackages []entitlement.AccessPackage `json:"accessPackages"`
	Resources      []entitlement.Resource      `json:"resources"`
}

func (b *builder) catalogs() error {
	cats, err := b.p.Catalogs(b.ctx, b.q.As)
	if err != nil {
		return err
	}
	b.r.Title = "Catalogs"
	b.r.Columns = []string{"Catalog", "Type", "State", "Externally visible", "Access packages", "Resources", "Created", "Id"}
	for _, c := range cats {
		pkgs, err := b.p.AccessPackages(b.ctx, c.ID, b.q.As)
		if err != nil {
			return err
		}
		res, err := b.p.Resources(b.ctx, c.ID, b.q.As)
		if err != nil {
			return err
		}
		var pn, rn []string
		for _, p := range pkgs {
			pn = append(pn, p.DisplayName)
		}
		for _, r := range res {
			rn = append(rn, r.DisplayName)
		}
		b.row(c.DisplayName, c.CatalogType, c.State, strconv.FormatBool(c.IsExternallyVisible), strings.Join(pn, "; "),
			strings.Join(rn, "; "), stamp(c.CreatedDateTime), c.ID)
		b.r.Value = append(b.r.Value, catalogJSON{Catalog: c, AccessPackages: nonNil(pkgs), Resources: nonNil(res)})
	}
	return nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// causeJSON is one way a subject held a resource role, each step with the
// event that recorded it.
type causeJSON struct {
	AccessPackageAssignment entitlement.Assignment `json:"accessPackageAssignment"`
	AccessPackage           *ref                   `json:"accessPackage"`
	AssignmentPolicy        *ref                   `json:"assignmentPolicy"`
	PolicyVersion           int                    `json:"policyVersion"`
	Request                 *ref                   `json:"request"`
	Requested               linkJSON               `json:"requested"`
	Decisions               []linkJSON             `json:"decisions,omitempty"`
	PolicyRecorded          linkJSON               `json:"policyRecorded"`
	Created                 linkJSON               `json:"created"`
	Delivered               linkJSON               `json:"delivered"`
	Extensions              []extensionJSON        `json:"extensions,omitempty"`
}

// extensionJSON is an update request that moved the assignment's end.
type extensionJSON struct {
	Request   *ref       `json:"request"`
	Requested linkJSON   `json:"requested"`
	Decisions []linkJSON `json:"decisions,omitempty"`
	Extended  linkJSON   `json:"extended"`
}

type linkJSON struct {
	Position         uint64    `json:"position"`
	EventID          string    `json:"eventId"`
	Hash             string    `json:"hash"`
	Activity         string    `json:"activity"`
	ActivityDateTime time.Time `json:"activityDateTime"`
	InitiatedBy      *ref      `json:"initiatedBy,omitempty"`
	OnBehalfOf       string    `json:"onBehalfOf,omitempty"`
	ReviewResult     string    `json:"reviewResult,omitempty"`
	Justification    string    `json:"justification,omitempty"`
}

func (b *builder) link(l projection.Link) linkJSON {
	return linkJSON{Position: uint64(l.Position), EventID: l.EventID, Hash: l.Hash.String(), Activity: l.Activity,
		ActivityDateTime: l.ActivityDateTime, InitiatedBy: b.ref(l.ActorID), OnBehalfOf: l.OnBehalfOf}
}

func (b *builder) why() error {
	if err := b.needUser(); err != nil {
		return err
	}
	if b.q.Role.ResourceID == "" || b.q.Role.RoleID == "" {
		return &MissingError{Kind: b.r.Kind, Field: "Role"}
	}
	x, err := b.p.Why(b.ctx, b.q.UserID, b.q.Role, b.q.As)
	if err != nil {
		return err
	}
	b.r.Explanation = &x
	res, err := b.p.Resource(b.ctx, b.q.Role.ResourceID, b.q.As)
	if err != nil && !errors.Is(err, projection.ErrNotFound) {
		return err
	}
	role := b.q.Role.RoleID
	for _, r := range res.Roles {
		if r.ID == b.q.Role.RoleID {
			role = r.DisplayName
		}
	}
	ids := []string{b.q.UserID}
	for _, c := range x.Causes {
		ids = append(ids, c.Grant.AccessPackageID, c.Grant.AssignmentPolicyID, c.Requested.ActorID, c.Created.ActorID, c.Delivered.ActorID)
		for _, d := range c.Decisions {
			ids = append(ids, d.ActorID)
		}
		for _, e := range c.Extensions {
			ids = append(ids, e.Requested.ActorID)
			for _, d := range e.Decisions {
				ids = append(ids, d.ActorID)
			}
		}
	}
	if err := b.nameAll(ids...); err != nil {
		return err
	}
	b.r.Title = "Why a user held a resource role"
	b.r.Subject = fmt.Sprintf("%s · %s of %s", b.name(b.q.UserID), role, cmp.Or(res.DisplayName, b.q.Role.ResourceID))
	b.r.Columns = []string{"Access package", "Assignment id", "Policy", "Requested", "Decisions", "Delivered", "Extended", "Positions"}
	for _, c := range x.Causes {
		j := causeJSON{AccessPackageAssignment: c.Assignment, AccessPackage: b.ref(c.Grant.AccessPackageID),
			AssignmentPolicy: b.ref(c.Grant.AssignmentPolicyID), PolicyVersion: c.PolicyVersion, Request: b.ref(c.Request.ID),
			Requested: b.link(c.Requested), PolicyRecorded: b.link(c.PolicyRecorded), Created: b.link(c.Created), Delivered: b.link(c.Delivered)}
		positions := []string{strconv.FormatUint(uint64(c.Requested.Position), 10)}
		var decisions []string
		for _, d := range c.Decisions {
			l := b.link(d.Link)
			l.ReviewResult, l.Justification = d.Result, d.Justification
			j.Decisions = append(j.Decisions, l)
			decisions = append(decisions, fmt.Sprintf("stage %d: %s by %s at %s", d.Stage, d.Result, b.name(d.ReviewedBy), stamp(d.ReviewedDateTime)))
			positions = append(positions, strconv.FormatUint(uint64(d.Position), 10))
		}
		positions = append(positions, strconv.FormatUint(uint64(c.Delivered.Position), 10))
		var extended []string
		for _, e := range c.Extensions {
			ej := extensionJSON{Request: b.ref(e.Request.ID), Requested: b.link(e.Requested), Extended: b.link(e.Extended)}
			text := fmt.Sprintf("at %s, asked by %s", stamp(e.Extended.ActivityDateTime), b.name(e.Requested.ActorID))
			positions = append(positions, strconv.FormatUint(uint64(e.Requested.Position), 10))
			for _, d := range e.Decisions {
				l := b.link(d.Link)
				l.ReviewResult, l.Justification = d.Result, d.Justification
				ej.Decisions = append(ej.Decisions, l)
				text += fmt.Sprintf(", %s by %s", d.Result, b.name(d.ReviewedBy))
				positions = append(positions, strconv.FormatUint(uint64(d.Position), 10))
			}
			positions = append(positions, strconv.FormatUint(uint64(e.Extended.Position), 10))
			j.Extensions = append(j.Extensions, ej)
			extended = append(extended, text)
		}
		b.row(b.name(c.Grant.AccessPackageID), c.Grant.AssignmentID, fmt.Sprintf("%s (v%d)", b.name(c.Grant.AssignmentPolicyID), c.PolicyVersion),
			fmt.Sprintf("by %s at %s", b.name(c.Requested.ActorID), stamp(c.Requested.ActivityDateTime)), strings.Join(decisions, "; "),
			stamp(c.Delivered.ActivityDateTime), strings.Join(extended, "; "), strings.Join(positions, ", "))
		b.r.Value = append(b.r.Value, j)
	}
	return nil
}
