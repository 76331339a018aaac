package projection_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/projection"
)

// TestUpcastersReachEveryReader: a log whose request was written in an
// older shape (schema version 1: the requestor under another name, the
// policy version a string, which the current shape cannot decode) reads
// as the current one wherever Upcasters are given: the Manager's replay,
// the projection, and Explanation.Check, which checks the stored hash and
// then decodes the upcast payload, and a repeated command's answer.
// Without them the explanation no longer checks (found by a review: Check
// decoded the stored payload as it was).
func TestUpcastersReachEveryReader(t *testing.T) {
	s, _ := annaGranted(t)
	old, err := sqlitestore.Open(filepath.Join(t.TempDir(), "old.db"), sqlitestore.Options{})
	require.NoError(t, err)
	defer old.Close()
	// Copy the log command by command, the request in its older shape.
	var cmd []eventstore.NewEvent
	flush := func() {
		if len(cmd) > 0 {
			_, err := old.Append(s.ctx, eventstore.AnyCondition, cmd...)
			require.NoError(t, err)
			cmd = nil
		}
	}
	rewritten, request := 0, ""
	for e, err := range s.log.ReadAll(s.ctx, 0) {
		require.NoError(t, err)
		if len(cmd) > 0 && cmd[0].Metadata.CommandID != e.Metadata.CommandID {
			flush()
		}
		ne := eventstore.NewEvent{ID: e.ID, Stream: e.Stream, Type: e.Type, SchemaVersion: e.SchemaVersion,
			OccurredAt: e.OccurredAt, Metadata: e.Metadata, Payload: e.Payload}
		if e.Type == entitlement.EventAssignmentRequestCreated {
			ne.SchemaVersion = 1
			ne.Payload = bytes.ReplaceAll(e.Payload, []byte(`"requestorId":`), []byte(`"requestedBy":`))
			ne.Payload = bytes.ReplaceAll(ne.Payload, []byte(`"policyVersion":1`), []byte(`"policyVersion":"1"`))
			request = e.Metadata.CommandID
			rewritten++
		}
		cmd = append(cmd, ne)
	}
	flush()
	require.Equal(t, 1, rewritten)

	var up eventstore.Upcasters
	require.NoError(t, up.Register(entitlement.EventAssignmentRequestCreated, 1, func(p json.RawMessage) (json.RawMessage, error) {
		p = bytes.ReplaceAll(p, []byte(`"requestedBy":`), []byte(`"requestorId":`))
		return bytes.ReplaceAll(p, []byte(`"policyVersion":"1"`), []byte(`"policyVersion":1`)), nil
	}))
	m, err := entitlement.NewManager(s.ctx, old, entitlement.Options{Upcasters: &up, NoSnapshot: true})
	require.NoError(t, err)
	rs := m.State().MyRequests(s.anna)
	require.Len(t, rs, 1)
	require.Equal(t, annaID, rs[0].RequestorID)
	require.NotEmpty(t, rs[0].ID)
	// The request made again with its command id is answered with the
	// request the log holds, named by its id.
	r, err := m.Execute(s.ctx, s.anna, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
		AccessPackageID: s.pkg, AssignmentPolicyID: s.policy, Justification: "New in sales"}, entitlement.WithCommandID(request))
	require.NoError(t, err)
	require.True(t, r.Duplicate)
	require.Equal(t, rs[0].ID, r.ID)
	require.NoError(t, r.DeliveryError)

	member := projection.RoleRef{ResourceID: s.resource, RoleID: s.member}
	as := projection.As{Of: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
	p, err := projection.Open(s.ctx, old, filepath.Join(t.TempDir(), "p.db"), projection.Options{Upcasters: &up})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.CatchUp(s.ctx)
	require.NoError(t, err)
	x, err := p.Why(s.ctx, annaID, member, as)
	require.NoError(t, err)
	require.Len(t, x.Causes, 1)
	require.Equal(t, annaID, x.Causes[0].Request.RequestorID)
	require.NoError(t, x.Check(s.ctx, old, &up))
	require.ErrorIs(t, x.Check(s.ctx, old, nil), projection.ErrExplanationMismatch, "the stored payload names no requestor")
}
