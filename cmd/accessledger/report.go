package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

// roleFlags name a resource role by the resource and the role, each by id
// or display name.
type roleFlags struct{ resource, role string }

func (f *roleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.resource, "resource", "", "a resource of a catalog: its id, display name or origin id (a group's id)")
	fs.StringVar(&f.role, "role", "Member", "a role of the resource: its id or display name")
}

// resolve returns the role the flags name, as of now.
func (f *roleFlags) resolve(ctx context.Context, p *projection.Projector) (projection.RoleRef, string, error) {
	if f.resource == "" {
		return projection.RoleRef{}, "", fmt.Errorf("%w: --resource is required", errUsage)
	}
	all, err := p.Resources(ctx, "", projection.Now)
	if err != nil {
		return projection.RoleRef{}, "", err
	}
	var ids []string
	var match []int
	for i, r := range all {
		if r.ID == f.resource || r.DisplayName == f.resource || r.OriginID == f.resource {
			match, ids = append(match, i), append(ids, r.ID)
		}
	}
	switch {
	case len(match) == 0:
		return projection.RoleRef{}, "", fmt.Errorf("%w: no resource is named %q", errUsage, f.resource)
	case len(match) > 1:
		return projection.RoleRef{}, "", fmt.Errorf("%w: %d resources are named %q; give one of their ids: %s", errUsage, len(match), f.resource, strings.Join(ids, ", "))
	}
	res := all[match[0]]
	for _, role := range res.Roles {
		if role.ID == f.role || role.DisplayName == f.role {
			return projection.RoleRef{ResourceID: res.ID, RoleID: role.ID}, role.DisplayName + " of " + res.DisplayName, nil
		}
	}
	return projection.RoleRef{}, "", fmt.Errorf("%w: resource %q has no role %q", errUsage, res.DisplayName, f.role)
}

const reportKinds = "catalogs, assignments, access-packages, resources, requests, audit, conflicts, connected-organizations, why"

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report KIND --db FILE [flags]\n\nKIND is one of: "+reportKinds, stderr)
	var f readFlags
	f.register(fs)
	var rf roleFlags
	rf.register(fs)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parse(fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: which report? one of: %s", errUsage, reportKinds)
	}
	kind, err := report.ParseKind(args[0])
	if err != nil {
		return fmt.Errorf("%w: %v (one of: %s)", errUsage, err, reportKinds)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	format, err := report.ParseFormat(f.format)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if kind != report.Why {
		var roleSet bool
		fs.Visit(func(fl *flag.Flag) { roleSet = roleSet || fl.Name == "resource" || fl.Name == "role" })
		if roleSet {
			return fmt.Errorf("%w: --resource and --role name the role of the why report only", errUsage)
		}
	}
	r, q, err := f.openQuery(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	if kind == report.Why {
		if q.Role, _, err = rf.resolve(ctx, r.p); err != nil {
			return err
		}
	}
	q.GeneratedAt = time.Now()
	rep, err := report.Build(ctx, r.p, kind, q)
	if err != nil {
		return reportError(err)
	}
	if rep.Explanation != nil {
		// As the why command does, check the events the report cites
		// against the log: the projection is not signed.
		if err := rep.Explanation.Check(ctx, r.log, nil); err != nil {
			return fmt.Errorf("the explanation does not check against the log (accessledger verify tells where it was changed): %w", err)
		}
	}
	w, closeOut, err := f.output(stdout)
	if err != nil {
		return err
	}
	if err := rep.Write(w, format); err != nil {
		closeOut(true)
		return err
	}
	return closeOut(false)
}

// runWhy prints why a user held a resource role, and checks every event it
// cites against the log.
func runWhy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("why", "why --db FILE --user USER --resource RESOURCE [--role ROLE] [--as-of T] [--as-known-at P]\n\n"+
		"(report why writes the explanation as CSV, JSON or HTML)", stderr)
	var f readFlags
	f.registerMoment(fs)
	var rf roleFlags
	rf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.user == "" {
		return fmt.Errorf("%w: --user is required", errUsage)
	}
	r, q, err := f.openQuery(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	role, roleName, err := rf.resolve(ctx, r.p)
	if err != nil {
		return err
	}
	x, err := r.p.Why(ctx, q.UserID, role, q.As)
	if err != nil {
		return err
	}
	names, err := r.p.DisplayNames(ctx, whyIDs(x), q.As)
	if err != nil {
		return err
	}
	name := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
	moment := "now"
	if !q.As.Of.IsZero() {
		moment = "at " + q.As.Of.UTC().Format(time.RFC3339)
	}
	if q.As.KnownAt != 0 {
		moment += ", as known at position " + itoa(q.As.KnownAt)
	}
	if len(x.Causes) == 0 {
		fmt.Fprintf(stdout, "%s did not hold %s %s.\n", name(q.UserID), roleName, moment)
	}
	for i, c := range x.Causes {
		if i == 0 {
			fmt.Fprintf(stdout, "%s held %s %s:\n", name(q.UserID), roleName, moment)
		}
		fmt.Fprintf(stdout, "\n  through access package %s, assignment %s (%s)\n", name(c.Grant.AccessPackageID), c.Assignment.ID, c.Assignment.State)
		line := func(what string, l projection.Link, extra string) {
			fmt.Fprintf(stdout, "    %-10s %s  %-14s position %-6d %s%s\n", what, l.ActivityDateTime.UTC().Format("2006-01-02 15:04"),
				name(l.ActorID), l.Position, l.Activity, extra)
		}
		line("requested", c.Requested, "")
		for _, d := range c.Decisions {
			extra := ""
			if d.Justification != "" {
				extra = fmt.Sprintf(" (%q)", d.Justification)
			}
			line("decided", d.Link, extra)
		}
		line("policy", c.PolicyRecorded, fmt.Sprintf(": %s, version %d", c.Policy.DisplayName, c.PolicyVersion))
		line("delivered", c.Delivered, "")
	}
	if len(x.Causes) > 0 {
		if err := x.Check(ctx, r.log, nil); err != nil {
			fmt.Fprintf(stdout, "\nchecked against the log: FAILED: %v\n", err)
			return err
		}
		fmt.Fprintln(stdout, "\nchecked against the log: every cited event is there, with the id and hash cited,\nand nothing the log recorded by then ended the access or is left out.")
	}
	return nil
}

// whyIDs lists the ids an explanation names.
func whyIDs(x projection.Explanation) []string {
	ids := []string{x.SubjectID}
	for _, c := range x.Causes {
		ids = append(ids, c.Grant.AccessPackageID, c.Requested.ActorID, c.PolicyRecorded.ActorID, c.Delivered.ActorID)
		for _, d := range c.Decisions {
			ids = append(ids, d.ActorID)
		}
	}
	return ids
}
