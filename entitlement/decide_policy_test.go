package entitlement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCreateAssignmentPolicy(t *testing.T) {
	w := adminWorld(t)
	apm := w.actors["apManager"]
	p := requestPolicy(w.id["P2"], "Sales requests")
	p.RequestApprovalSettings = ApprovalSettings{IsApprovalRequiredForAdd: true, Stages: []ApprovalStage{{
		DurationBeforeAutomaticDenial: MustParseDuration("P14D"),
		PrimaryApprovers:              []SubjectSet{{Kind: SingleUser, UserID: w.uid["owner"]}},
	}}}
	p.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: MustParseDuration("P365D")}
	r := w.do(apm, CreateAssignmentPolicy{Policy: p})
	require.Equal(t, "Create access package assignment policy", ActivityName(r.Events[0].Type))
	require.Equal(t, "assignmentPolicy/"+r.ID, string(r.Events[0].Stream))
	got, err := w.state().GetAssignmentPolicy(apm, r.ID)
	require.NoError(t, err)
	require.Equal(t, r.ID, got.ID)
	require.Equal(t, w.id["P2"], got.AccessPackageID)
	require.Equal(t, t0, got.CreatedDateTime)
	require.Equal(t, "P365D", got.Expiration.Duration.String())
	pols, err := w.state().PoliciesOfPackage(w.actors["reader"], w.id["P2"])
	require.NoError(t, err)
	require.Len(t, pols, 1)
}

func TestAssignmentPolicyRejections(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	// Structural validation comes back as ErrInvalid with the field.
	bad := requestPolicy(w.id["P2"], "")
	_, err := w.try(ga, CreateAssignmentPolicy{Policy: bad})
	requireField(t, err, "displayName")
	bad = requestPolicy(w.id["P2"], "x")
	bad.Expiration = ExpirationPattern{Type: ExpirationAfterDuration, Duration: MustParseDuration("P4000D")}
	_, err = w.try(ga, CreateAssignmentPolicy{Policy: bad})
	requireField(t, err, "expiration.duration")
	// An end date that has passed, or is now: nobody could be assigned.
	// (Found by a review as a new user: accepted, then every request
	// through it refused.)
	for _, end := range []time.Time{w.clock.t.AddDate(-1, 0, 0), w.clock.t} {
		bad.Expiration = ExpirationPattern{Type: ExpirationAfterDateTime, EndDateTime: end}
		_, err = w.try(ga, CreateAssignmentPolicy{Policy: bad})
		requireField(t, err, "expiration.endDateTime")
		rep := bad
		rep.AccessPackageID = ""
		_, err = w.try(ga, ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: rep})
		requireField(t, err, "expiration.endDateTime")
	}
	bad.Expiration.EndDateTime = w.clock.t.Add(time.Second)
	created := w.do(ga, CreateAssignmentPolicy{Policy: bad}).ID
	// A replacement is judged at its own time, not the policy's creation.
	w.clock.t = w.clock.t.Add(48 * time.Hour)
	rep := bad
	rep.AccessPackageID = ""
	rep.Expiration.EndDateTime = w.clock.t.Add(-24 * time.Hour)
	_, err = w.try(ga, ReplaceAssignmentPolicy{PolicyID: created, Policy: rep})
	requireField(t, err, "expiration.endDateTime")
	// Package missing or unnamed.
	_, err = w.try(ga, CreateAssignmentPolicy{Policy: requestPolicy(nameID("none"), "x")})
	requireKind(t, err, ErrNotFound)
	_, err = w.try(ga, CreateAssignmentPolicy{Policy: requestPolicy("", "x")})
	requireField(t, err, "accessPackage.id")
	// References must exist.
	ref := requestPolicy(w.id["P2"], "x")
	ref.AllowedTargetScope = ScopeSpecificDirectoryUsers
	ref.SpecificAllowedTargets = []SubjectSet{{Kind: GroupMembers, GroupID: nameID("group/none")}}
	_, err = w.try(ga, CreateAssignmentPolicy{Policy: ref})
	requireKind(t, err, ErrNotFound)
	ext := requestPolicy(w.id["P2"], "x")
	ext.AllowedTargetScope = ScopeSpecificConnectedOrganizationUsers
	ext.SpecificAllowedTargets = []SubjectSet{{Kind: ConnectedOrganizationMembers, ConnectedOrganizationID: nameID("org/none")}}
	_, err = w.try(ga, CreateAssignmentPolicy{Policy: ext})
	requireKind(t, err, ErrNotFound)
	ext.SpecificAllowedTargets[0].ConnectedOrganizationID = w.id["O1"]
	w.do(ga, CreateAssignmentPolicy{Policy: ext})
	// A connected organization a policy refers to can't be deleted.
	_, err = w.try(ga, DeleteConnectedOrganization{ConnectedOrganizationID: w.id["O1"]})
	requireKind(t, err, ErrConflict)
}

func TestAutoAssignmentPolicy(t *testing.T) {
	w := adminWorld(t)
	iga := w.actors["IGA"]
	_, err := w.try(w.actors["owner"], CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales")})
	requireKind(t, err, ErrForbidden) // §8 row 27
	_, err = w.try(w.actors["appReadWrite"], CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales")})
	requireKind(t, err, ErrForbidden)
	id := w.do(iga, CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales")}).ID
	_, err = w.try(iga, CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales 2")})
	requireKind(t, err, ErrLimit) // one auto-assignment policy per package
	// Only GA/IGA may replace or delete it.
	_, err = w.try(w.actors["owner"], DeleteAssignmentPolicy{PolicyID: id})
	requireKind(t, err, ErrForbidden)
	_, err = w.try(w.actors["apManager"], ReplaceAssignmentPolicy{PolicyID: id, Policy: requestPolicy("", "x")})
	requireKind(t, err, ErrForbidden)
	// A request policy never turns into an automatic one, nor back: the
	// assignments it made were not made by a rule.
	rp := w.do(iga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P2"], "Requests")}).ID
	_, err = w.try(iga, ReplaceAssignmentPolicy{PolicyID: rp, Policy: autoPolicy("", "Sales 3")})
	requireKind(t, err, ErrInvalid)
	_, err = w.try(iga, ReplaceAssignmentPolicy{PolicyID: id, Policy: requestPolicy("", "x")})
	requireKind(t, err, ErrInvalid)
	w.do(iga, DeleteAssignmentPolicy{PolicyID: id})
	_, err = w.try(iga, ReplaceAssignmentPolicy{PolicyID: rp, Policy: autoPolicy("", "Sales 3")})
	requireKind(t, err, ErrInvalid)
	w.do(iga, CreateAssignmentPolicy{Policy: autoPolicy(w.id["P2"], "Sales 3")})
}

func TestPolicyLimit(t *testing.T) {
	w := adminWorld(t)
	ga := w.actors["GA"]
	for i := range MaxPoliciesPerPackage {
		w.do(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "p"+itoa(i))})
	}
	_, err := w.try(ga, CreateAssignmentPolicy{Policy: requestPolicy(w.id["P3"], "one more")})
	requireKind(t, err, ErrLimit)
}

func TestReplaceAndDeleteAssignmentPolicy(t *testing.T) {
	w := adminWorld(t)
	apm := w.actors["apManager"]
	w.clock.t = t0.Add(3600e9)
	repl := requestPolicy("", "Renamed")
	repl.Description = "whole body"
	r := w.do(apm, ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: repl})
	require.Equal(t, "Update access package assignment policy", ActivityName(r.Events[0].Type))
	got, err := w.state().GetAssignmentPolicy(apm, w.id["Pol1"])
	require.NoError(t, err)
	require.Equal(t, "Renamed", got.DisplayName)
	require.Equal(t, w.id["P1"], got.AccessPackageID)
	require.Equal(t, t0, got.CreatedDateTime)
	require.Equal(t, t0.Add(3600e9), got.ModifiedDateTime)

	moved := requestPolicy(w.id["P2"], "Moved")
	_, err = w.try(apm, ReplaceAssignmentPolicy{PolicyID: w.id["Pol1"], Policy: moved})
	requireField(t, err, "accessPackage.id")
	_, err = w.try(apm, ReplaceAssignmentPolicy{PolicyID: nameID("none"), Policy: repl})
	requireKind(t, err, ErrNotFound)

	r = w.do(apm, DeleteAssignmentPolicy{PolicyID: w.id["Pol1"]})
	require.Equal(t, "Delete access package assignment policy", ActivityName(r.Events[0].Type))
	_, err = w.try(apm, DeleteAssignmentPolicy{PolicyID: w.id["Pol1"]})
	requireKind(t, err, ErrNotFound)
}
