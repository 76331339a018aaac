package projection

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/stretchr/testify/require"
)

// TestDecodeAll decodes lists short enough for one goroutine and long
// enough for several, in order, and reports a bad object wherever it is.
func TestDecodeAll(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the parallel path, on any machine
	type obj struct {
		N int `json:"n"`
	}
	for _, n := range []int{0, 1, 63, 64, 127, 128, 129, 1000, 5001} {
		datas := make([][]byte, n)
		for i := range datas {
			datas[i] = fmt.Appendf(nil, `{"n":%d}`, i)
		}
		got, err := decodeAll[obj](datas)
		require.NoError(t, err, n)
		require.Len(t, got, n)
		for i, o := range got {
			require.Equal(t, i, o.N, "list of %d", n)
		}
		for _, bad := range []int{0, n / 2, n - 1} {
			if n == 0 {
				continue
			}
			datas[bad] = []byte(`{"n":`)
			_, err := decodeAll[obj](datas)
			require.Error(t, err, "list of %d, bad object at %d", n, bad)
			datas[bad] = fmt.Appendf(nil, `{"n":%d}`, bad)
		}
	}
}

// TestSingleObjectQueriesNeedAnID (found by a review as a new user): a
// query for one object given no id is an invalid query, as the listings
// given none are, not an object not found.
func TestSingleObjectQueriesNeedAnID(t *testing.T) {
	ctx := context.Background()
	p := caughtUp(t, 9, 2)
	for name, query := range map[string]func() error{
		"Assignment":     func() error { _, err := p.Assignment(ctx, "", Now); return err },
		"AccessPackage":  func() error { _, err := p.AccessPackage(ctx, "", Now); return err },
		"Request":        func() error { _, err := p.Request(ctx, "", Now); return err },
		"RequestHistory": func() error { _, err := p.RequestHistory(ctx, "", Now); return err },
		"User":           func() error { _, err := p.User(ctx, "", Now); return err },
		"Resource":       func() error { _, err := p.Resource(ctx, "", Now); return err },
		"Policy":         func() error { _, err := p.Policy(ctx, "", 1); return err },
	} {
		err := query()
		require.ErrorIs(t, err, ErrInvalidQuery, name)
		require.NotErrorIs(t, err, ErrNotFound, name)
	}
}

// TestPageArguments refuses a negative Top and an After that names no
// listed object, and a page after the last object is empty.
func TestPageArguments(t *testing.T) {
	ctx := context.Background()
	p := caughtUp(t, 9, 2)
	all, err := p.Assignments(ctx, entitlement.AssignmentFilter{IncludeEnded: true}, Now)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	reqs, err := p.Requests(ctx, RequestFilter{}, Now)
	require.NoError(t, err)
	require.NotEmpty(t, reqs)

	_, err = p.Assignments(ctx, entitlement.AssignmentFilter{Top: -1}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	_, err = p.Requests(ctx, RequestFilter{Top: -1}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	// Found by a review: a misspelt state answered as if there were none.
	_, err = p.Assignments(ctx, entitlement.AssignmentFilter{State: "Delivered"}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	_, err = p.Requests(ctx, RequestFilter{State: "Delivered"}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	for _, st := range []string{entitlement.AssignmentStateDelivered, entitlement.AssignmentStateExpired} {
		_, err = p.Assignments(ctx, entitlement.AssignmentFilter{State: st}, Now)
		require.NoError(t, err)
	}
	_, err = p.Requests(ctx, RequestFilter{State: entitlement.RequestStateDelivered}, Now)
	require.NoError(t, err)
	_, err = p.Assignments(ctx, entitlement.AssignmentFilter{After: reqs[0].ID}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery, "a request's id is no assignment's")
	_, err = p.Requests(ctx, RequestFilter{After: all[0].ID}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery, "an assignment's id is no request's")
	require.ErrorContains(t, err, "Requests: After: no request has the id "+all[0].ID)

	var role RoleRef
	for _, a := range all {
		gs, err := p.ResourceRolesOf(ctx, a.TargetID, Now)
		require.NoError(t, err)
		if len(gs) > 0 {
			role = RoleRef{ResourceID: gs[0].ResourceID, RoleID: gs[0].RoleID}
			break
		}
	}
	require.NotEmpty(t, role.RoleID, "the tenant delivers roles")
	holders, err := p.Holders(ctx, HoldersFilter{Role: role}, Now)
	require.NoError(t, err)
	require.NotEmpty(t, holders)
	rest, err := p.Holders(ctx, HoldersFilter{Role: role, After: &holders[0]}, Now)
	require.NoError(t, err)
	require.Equal(t, holders[1:], append([]RoleGrant{}, rest...))
	bogus := holders[0]
	bogus.AssignmentID = reqs[0].ID
	_, err = p.Holders(ctx, HoldersFilter{Role: role, After: &bogus}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery, "a grant the role never had")
	require.ErrorContains(t, err, "Holders: After:")
	_, err = p.Holders(ctx, HoldersFilter{Role: role, Top: -1}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	_, err = p.Holders(ctx, HoldersFilter{Role: RoleRef{ResourceID: role.ResourceID}}, Now)
	require.ErrorIs(t, err, ErrInvalidQuery)
	require.ErrorContains(t, err, "Holders: a resource id and a role id are required")

	last, err := p.Assignments(ctx, entitlement.AssignmentFilter{IncludeEnded: true, After: all[len(all)-1].ID, Top: 5}, Now)
	require.NoError(t, err)
	require.Empty(t, last)
	page, err := p.Requests(ctx, RequestFilter{Top: 1}, Now)
	require.NoError(t, err)
	require.Equal(t, reqs[:1], page)
}
