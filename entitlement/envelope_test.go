package entitlement_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/entitlement/entitlementtest"
	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// TestEnvelopeRefused executes commands whose actor, ids or clock the log
// cannot hold: each is refused with entitlement.ErrInvalid alone, and
// nothing is appended.
func TestEnvelopeRefused(t *testing.T) {
	ctx := context.Background()
	clock := entitlementtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	log := memstore.New(memstore.Options{})
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock, IDs: entitlement.SeededIDs(1)})
	require.NoError(t, err)
	admin := entitlement.UserActor("a0000000-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
	head, err := log.Head(ctx)
	require.NoError(t, err)

	sentinels := []error{entitlement.ErrForbidden, entitlement.ErrNotFound, entitlement.ErrInvalid, entitlement.ErrConflict, entitlement.ErrLimit}
	onlyInvalid := func(err error) {
		t.Helper()
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		require.ErrorIs(t, err, entitlement.ErrInvalid)
		require.Equal(t, 1, n, "one sentinel: %v", err)
		after, herr := log.Head(ctx)
		require.NoError(t, herr)
		require.Equal(t, head, after, "nothing appended")
	}
	create := entitlement.CreateCatalog{DisplayName: "Marketing"}

	_, err = m.Execute(ctx, entitlement.UserActor("user/\xff", entitlement.GlobalAdministrator), create)
	onlyInvalid(err)
	_, err = m.Execute(ctx, admin, create, entitlement.WithCommandID("cmd-\xc3"))
	onlyInvalid(err)
	_, err = m.Execute(ctx, admin, create, entitlement.WithCorrelationID("\x80"))
	onlyInvalid(err)

	late := entitlementtest.NewClock(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
	m3, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: late, IDs: entitlement.SeededIDs(2)})
	require.NoError(t, err, "the log's events are all before 2262; only new ones would not be")
	_, err = m3.Execute(ctx, admin, create)
	onlyInvalid(err)
	require.Contains(t, err.Error(), "outside the years 1678 to 2262")
	require.NotErrorIs(t, err, eventstore.ErrConflict)
}

// TestErrorsSayItOnce checks that an error states its reason once and
// does not grow with its input.
func TestErrorsSayItOnce(t *testing.T) {
	ctx := context.Background()
	m, err := entitlement.NewManager(ctx, memstore.New(memstore.Options{}), entitlement.Options{
		Clock: entitlementtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	admin := entitlement.UserActor("a0000000-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)

	_, err = m.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: ""})
	require.ErrorIs(t, err, entitlement.ErrInvalid)
	var ie *entitlement.InvalidError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 1, strings.Count(err.Error(), ie.Reason), "the reason once: %v", err)

	long := strings.Repeat("x", 3000)
	_, err = m.Execute(ctx, admin, entitlement.DeleteCatalog{CatalogID: long})
	require.ErrorIs(t, err, entitlement.ErrNotFound)
	require.Less(t, len(err.Error()), 600, "a long id is quoted shortened")
	require.Contains(t, err.Error(), "(3008 bytes)")

	huge := strings.Repeat("x", 1<<20)
	_, err = m.Execute(ctx, admin, entitlement.DeleteCatalog{CatalogID: huge})
	require.ErrorIs(t, err, entitlement.ErrInvalid, "a 1 MB id is refused")
	require.Less(t, len(err.Error()), 200, "with a short error")
}

// TestTextRefused checks the strings of commands: invalid UTF-8, control
// characters and overlong values are refused with the field named, and
// nothing is appended.
func TestTextRefused(t *testing.T) {
	ctx := context.Background()
	log := memstore.New(memstore.Options{})
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{
		Clock: entitlementtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	admin := entitlement.UserActor("a0000000-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
	head, err := log.Head(ctx)
	require.NoError(t, err)
	for _, tc := range []struct {
		cmd   entitlement.Command
		field string
	}{
		{entitlement.CreateCatalog{DisplayName: "Sales\x00"}, "displayName"},
		{entitlement.CreateCatalog{DisplayName: "Sales\nteam"}, "displayName"},
		{entitlement.CreateCatalog{DisplayName: "Sales \xff"}, "displayName"},
		{entitlement.CreateCatalog{DisplayName: strings.Repeat("é", entitlement.MaxDisplayNameLength+1)}, "displayName"},
		{entitlement.CreateCatalog{DisplayName: "Sales", Description: "a\x1bb"}, "description"},
		{entitlement.CreateCatalog{DisplayName: "Sales", Description: strings.Repeat("d", entitlement.MaxTextLength+1)}, "description"},
		{entitlement.PutUser{User: entitlement.User{ID: "u1", DisplayName: "Eve\u0085"}}, "user.displayName"},
	} {
		_, err := m.Execute(ctx, admin, tc.cmd)
		require.ErrorIs(t, err, entitlement.ErrInvalid, "%T", tc.cmd)
		var ie *entitlement.InvalidError
		require.ErrorAs(t, err, &ie)
		require.Equal(t, tc.field, ie.Field, "%v", err)
	}
	after, err := log.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, head, after, "nothing appended")

	_, err = m.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: strings.Repeat("é", entitlement.MaxDisplayNameLength),
		Description: "line one\nline two\ttabbed"})
	require.NoError(t, err, "at the limit, and line breaks in a description, are fine")
}

// TestCommandIDReuse: a command id reused for another command is refused
// with ErrConflict and appends nothing; the same command again is a
// repeat; across a restart too, and from another Manager on the log that
// had not seen the id (the store refuses it there).
func TestCommandIDReuse(t *testing.T) {
	ctx := context.Background()
	log := memstore.New(memstore.Options{})
	clock := entitlementtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	m, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock})
	require.NoError(t, err)
	admin := entitlement.UserActor("a0000000-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
	other, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock})
	require.NoError(t, err)
	first, err := m.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: "Payroll"}, entitlement.WithCommandID("create-payroll"))
	require.NoError(t, err)
	head, err := log.Head(ctx)
	require.NoError(t, err)

	for _, mgr := range []*entitlement.Manager{m, other, func() *entitlement.Manager {
		restarted, err := entitlement.NewManager(ctx, log, entitlement.Options{Clock: clock})
		require.NoError(t, err)
		return restarted
	}()} {
		_, err = mgr.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: "Marketing"}, entitlement.WithCommandID("create-payroll"))
		require.ErrorIs(t, err, entitlement.ErrConflict)
		var e *entitlement.Error
		require.ErrorAs(t, err, &e)
		require.Contains(t, err.Error(), "was used at position")
		_, err = mgr.Execute(ctx, entitlement.UserActor("a0000000-0000-4000-8000-000000000002", entitlement.GlobalAdministrator),
			entitlement.CreateCatalog{DisplayName: "Payroll"}, entitlement.WithCommandID("create-payroll"))
		require.ErrorIs(t, err, entitlement.ErrConflict, "another actor is another command")
		after, err := log.Head(ctx)
		require.NoError(t, err)
		require.Equal(t, head, after, "nothing appended")

		again, err := mgr.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: "Payroll"}, entitlement.WithCommandID("create-payroll"))
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.ID, again.ID)
	}
}
