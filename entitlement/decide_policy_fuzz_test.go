package entitlement

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzCreateAssignmentPolicy feeds Graph-shaped policy documents through
// decoding and then through the state-dependent checks of
// CreateAssignmentPolicy. Nothing panics; every rejection is an *Error of
// one of the package's kinds; an accepted policy keeps the invariants and
// survives the JSON round trip of its event.
func FuzzCreateAssignmentPolicy(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
	for _, name := range files {
		if strings.HasSuffix(name, ".golden.json") {
			continue
		}
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"displayName":"x","allowedTargetScope":"allMemberUsers","requestorSettings":{"enableTargetsToSelfAddAccess":true}}`))
	f.Add([]byte(`{"displayName":"x","allowedTargetScope":"specificDirectoryUsers","specificAllowedTargets":[{"@odata.type":"#microsoft.graph.groupMembers","groupId":"00000000-0000-0000-0000-000000000001"}]}`))

	w := adminWorld(f)
	base := w.state()
	ga := w.actors["GA"]
	kinds := []error{ErrForbidden, ErrNotFound, ErrInvalid, ErrConflict, ErrLimit}
	typed := func(t *testing.T, err error) {
		var e *Error
		if !errors.As(err, &e) || !slices.ContainsFunc(kinds, func(k error) bool { return errors.Is(err, k) }) {
			t.Fatalf("untyped rejection %T: %v", err, err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeAssignmentPolicy(b)
		if err != nil {
			typed(t, err)
			return
		}
		p.AccessPackageID = w.id["P2"]
		s := base.Clone()
		evs, err := Decide(s, ga, t0, SeededIDs(3), CreateAssignmentPolicy{Policy: *p})
		if err != nil {
			typed(t, err)
			return
		}
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		raw, err := json.Marshal(evs[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		var back AssignmentPolicyPayload
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("event payload does not decode: %v", err)
		}
		if err := s.Apply(Event{Stream: evs[0].Stream, Type: evs[0].Type, Data: &back}); err != nil {
			t.Fatal(err)
		}
		if err := checkInvariants(s); err != nil {
			t.Fatal(err)
		}
	})
}
