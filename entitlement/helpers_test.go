package entitlement

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/accessledger/accessledger/internal/pmap"
	"github.com/oklog/ulid/v2"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// testClock is a settable clock.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// world is a Manager over a memstore with a directory and the objects the
// tests share.
type world struct {
	t     testing.TB
	ctx   context.Context
	store eventstore.Store
	m     *Manager
	clock *testClock

	// actors by name
	actors map[string]Actor
	// users and directory objects by name
	uid map[string]string
	// named object ids (catalogs, packages, groups …)
	id map[string]string
	// n counts command ids of managers tests build themselves.
	n int
}

// newID makes a deterministic uuid for a name.
func nameID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldOn(t, memstore.New(memstore.Options{Now: func() time.Time { return t0 }}))
}

// newWorldOn is newWorld on a given store.
func newWorldOn(t testing.TB, st eventstore.Store) *world {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: t0}
	n := 0
	m, err := NewManager(ctx, st, Options{
		Clock: clock, IDs: SeededIDs(1), EventIDs: seededEventIDs(1),
		NewCommandID: func() string { n++; return fmt.Sprintf("cmd-%d", n) },
	})
	require.NoError(t, err)
	return &world{t: t, ctx: ctx, store: st, m: m, clock: clock,
		actors: map[string]Actor{}, uid: map[string]string{}, id: map[string]string{}}
}

// do executes cmd and fails the test on error.
func (w *world) do(a Actor, cmd Command) Result {
	w.t.Helper()
	r, err := w.m.Execute(w.ctx, a, cmd)
	require.NoError(w.t, err, "%s", CommandName(cmd))
	return r
}

// try executes cmd and returns the error, checking that a refusal
// appended nothing.
func (w *world) try(a Actor, cmd Command) (Result, error) {
	w.t.Helper()
	before := w.head()
	r, err := w.m.Execute(w.ctx, a, cmd)
	if err != nil {
		require.Equal(w.t, before, w.head(), "a refused %s appended events", CommandName(cmd))
		var e *Error
		require.True(w.t, errors.As(err, &e), "error %v is not an *Error", err)
	}
	return r, err
}

func (w *world) head() eventstore.Head {
	h, err := w.store.Head(w.ctx)
	require.NoError(w.t, err)
	return h
}

var sys = SystemActor()

// user creates a member user with a name.
func (w *world) user(name string, roles ...DirectoryRole) Actor {
	w.t.Helper()
	id := nameID("user/" + name)
	w.do(sys, PutUser{User: User{ID: id, DisplayName: name, UserPrincipalName: name + "@contoso.com", AccountEnabled: true}})
	w.uid[name] = id
	a := UserActor(id, roles...)
	w.actors[name] = a
	return a
}

// app creates a service principal acting as an application with permissions.
func (w *world) app(name string, perms ...AppPermission) Actor {
	w.t.Helper()
	id := nameID("sp/" + name)
	w.do(sys, PutServicePrincipal{ServicePrincipal: ServicePrincipal{ID: id, DisplayName: name}})
	w.uid[name] = id
	a := AppActor(id, perms...)
	w.actors[name] = a
	return a
}

// group creates a security group owned by owners.
func (w *world) group(name string, owners ...string) string {
	w.t.Helper()
	id := nameID("group/" + name)
	w.do(sys, PutGroup{Group: Group{ID: id, DisplayName: name, SecurityEnabled: true, Owners: owners}})
	w.id[name] = id
	return id
}

func (w *world) state() *State { return w.m.State() }

func requestPolicy(pkgID, name string) AssignmentPolicy {
	return AssignmentPolicy{
		DisplayName: name, AccessPackageID: pkgID, AllowedTargetScope: ScopeAllMemberUsers,
		RequestorSettings: RequestorSettings{EnableTargetsToSelfAddAccess: true},
	}
}

func autoPolicy(pkgID, name string) AssignmentPolicy {
	return AssignmentPolicy{
		DisplayName: name, AccessPackageID: pkgID, AllowedTargetScope: ScopeSpecificDirectoryUsers,
		SpecificAllowedTargets:   []SubjectSet{{Kind: AttributeRuleMembers, MembershipRule: `(user.department -eq "Sales")`}},
		AutomaticRequestSettings: &AutomaticRequestSettings{RequestAccessForAllowedTargets: true},
	}
}

func ptr[T any](v T) *T { return &v }

// requireKind checks err against a sentinel.
func requireKind(t testing.TB, err, kind error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind, "got %v", err)
}

// requireField checks an ErrInvalid's field.
func requireField(t testing.TB, err error, field string) {
	t.Helper()
	requireKind(t, err, ErrInvalid)
	var ie *InvalidError
	require.True(t, errors.As(err, &ie), "no *InvalidError in %v", err)
	require.Equal(t, field, ie.Field)
}

// replayed builds a fresh manager on the same store and returns its state.
func (w *world) replayed() *State {
	w.t.Helper()
	m, err := NewManager(w.ctx, w.store, Options{Clock: w.clock})
	require.NoError(w.t, err)
	return m.State()
}

// at returns the value of k in m, or the zero value.
func at[V any](m *pmap.Map[V], k string) V {
	v, _ := m.Get(k)
	return v
}

// seededEventIDs returns a deterministic source of event ids, counting up
// from seed in the ULID's random part.
func seededEventIDs(seed uint64) func() ulid.ULID {
	n := seed << 32
	return func() ulid.ULID {
		n++
		var b [16]byte
		binary.BigEndian.PutUint64(b[8:], n)
		return ulid.MustNew(ulid.Timestamp(t0), bytes.NewReader(b[6:]))
	}
}
