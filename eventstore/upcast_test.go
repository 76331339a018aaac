package eventstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

// The example event type of these tests, in three schema versions:
//
//	v1 {"name":"Ada Lovelace"}
//	v2 {"givenName":"Ada","surname":"Lovelace"}
//	v3 {"name":{"given":"Ada","family":"Lovelace"},"verified":false}
const userCreated = "example.userCreated"

// splitName is the v1 → v2 upcaster: the first word is the given name, the
// rest the surname. It returns JSON that is deliberately not canonical.
func splitName(p json.RawMessage) (json.RawMessage, error) {
	var v1 struct {
		Name *string `json:"name"`
	}
	if err := json.Unmarshal(p, &v1); err != nil {
		return nil, err
	}
	if v1.Name == nil {
		return nil, errors.New("v1 payload has no name")
	}
	given, surname, _ := strings.Cut(*v1.Name, " ")
	b, err := json.MarshalIndent(map[string]string{"surname": surname, "givenName": given}, "", "  ")
	return b, err
}

// nestName is the v2 → v3 upcaster.
func nestName(p json.RawMessage) (json.RawMessage, error) {
	var v2 struct {
		GivenName string `json:"givenName"`
		Surname   string `json:"surname"`
	}
	if err := json.Unmarshal(p, &v2); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"verified": false,
		"name":     map[string]string{"given": v2.GivenName, "family": v2.Surname},
	})
}

func upcasters(t *testing.T) *eventstore.Upcasters {
	t.Helper()
	var u eventstore.Upcasters // the zero value is ready to use
	require.NoError(t, u.Register(userCreated, 2, nestName))
	require.NoError(t, u.Register(userCreated, 1, splitName))
	return &u
}

func TestUpcastChain(t *testing.T) {
	u := upcasters(t)
	events := chain(link{"user/1", `{"name":"Ada Lovelace"}`})
	v1 := events[0]
	v1.Type = userCreated

	got, err := u.Upcast(v1)
	require.NoError(t, err)
	require.Equal(t, 3, got.SchemaVersion, "v1 is upcast twice, to v3")
	require.Equal(t, `{"name":{"family":"Lovelace","given":"Ada"},"verified":false}`, string(got.Payload),
		"the payload is the current shape, in canonical form")
	want := v1
	want.SchemaVersion, want.Payload = got.SchemaVersion, got.Payload
	require.Equal(t, want, got, "only the payload and schema version change; the hashes stay those of the stored event")
	require.Equal(t, `{"name":"Ada Lovelace"}`, string(v1.Payload), "the input event is not modified")

	v2 := v1
	v2.SchemaVersion, v2.Payload = 2, json.RawMessage(`{"givenName":"Grace","surname":"Hopper"}`)
	got, err = u.Upcast(v2)
	require.NoError(t, err)
	require.Equal(t, 3, got.SchemaVersion, "v2 is upcast once")
	require.Equal(t, `{"name":{"family":"Hopper","given":"Grace"},"verified":false}`, string(got.Payload))

	v3 := got
	again, err := u.Upcast(v3)
	require.NoError(t, err)
	require.Equal(t, v3, again, "the current version has no upcaster and is returned as it is")

	other := events[0] // another type, schema version 1
	got, err = u.Upcast(other)
	require.NoError(t, err)
	require.Equal(t, other, got, "types without upcasters pass through")

	var none *eventstore.Upcasters
	got, err = none.Upcast(v1)
	require.NoError(t, err)
	require.Equal(t, v1, got, "a nil *Upcasters upcasts nothing")
}

func TestUpcastErrors(t *testing.T) {
	u := upcasters(t)
	e := chain(link{"user/1", `{"nickname":"Ada"}`})[0]
	e.Type = userCreated
	_, err := u.Upcast(e)
	require.Error(t, err)
	require.Contains(t, err.Error(), "v1 payload has no name")
	require.Contains(t, err.Error(), "position 1")

	boom := errors.New("boom")
	var bad eventstore.Upcasters
	require.NoError(t, bad.Register("t", 1, func(json.RawMessage) (json.RawMessage, error) { return nil, boom }))
	require.NoError(t, bad.Register("u", 1, func(json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`{"a":`), nil }))
	e.Type = "t"
	_, err = bad.Upcast(e)
	require.ErrorIs(t, err, boom, "the upcaster's error is wrapped")
	e.Type = "u"
	_, err = bad.Upcast(e)
	require.Error(t, err, "an upcaster that returns invalid JSON is an error")
}

func TestUpcastersRegister(t *testing.T) {
	var u eventstore.Upcasters
	require.NoError(t, u.Register(userCreated, 1, splitName))
	err := u.Register(userCreated, 1, nestName)
	require.Error(t, err, "the same type and version twice")
	require.Contains(t, err.Error(), "registered twice")
	require.NoError(t, u.Register(userCreated, 2, nestName), "another version of the same type")
	require.NoError(t, u.Register("example.other", 1, nestName), "the same version of another type")

	require.Error(t, u.Register(userCreated, 0, splitName), "versions start at 1")
	require.Error(t, u.Register("", 3, splitName), "a type is needed")
	require.Error(t, u.Register(userCreated, 3, nil), "a function is needed")

	// A failed registration leaves the registered upcaster in place.
	e := chain(link{"user/1", `{"name":"Ada Lovelace"}`})[0]
	e.Type = userCreated
	got, err := u.Upcast(e)
	require.NoError(t, err)
	require.Equal(t, 3, got.SchemaVersion)
}

func TestUpcastersEvents(t *testing.T) {
	u := upcasters(t)
	events := chain(
		link{"user/1", `{"name":"Ada Lovelace"}`},
		link{"user/1", `{"email":"ada@example.org"}`},
		link{"user/2", `{"name":"Grace Hopper"}`},
	)
	events[0].Type, events[2].Type = userCreated, userCreated

	var got []eventstore.Event
	for e, err := range u.Events(seq(events, nil)) {
		require.NoError(t, err)
		got = append(got, e)
	}
	require.Len(t, got, 3)
	require.Equal(t, `{"name":{"family":"Lovelace","given":"Ada"},"verified":false}`, string(got[0].Payload))
	require.Equal(t, events[1], got[1])
	require.Equal(t, `{"name":{"family":"Hopper","given":"Grace"},"verified":false}`, string(got[2].Payload))

	// Errors of the sequence pass through and end it.
	boom := errors.New("read failed")
	var errs []error
	n := 0
	for _, err := range u.Events(seq(events[:1], boom)) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	require.Equal(t, 1, n)
	require.Equal(t, []error{boom}, errs)

	// An upcast error is yielded and ends the sequence.
	broken := chain(link{"user/1", `{"nickname":"Ada"}`}, link{"user/1", `{"name":"A B"}`})
	broken[0].Type, broken[1].Type = userCreated, userCreated
	n = 0
	var last error
	for _, err := range u.Events(seq(broken, nil)) {
		n++
		last = err
	}
	require.Equal(t, 1, n, "the sequence stops at the first upcast error")
	require.ErrorContains(t, last, "no name")

	// Breaking out stops the iteration.
	n = 0
	for range u.Events(seq(events, nil)) {
		n++
		break
	}
	require.Equal(t, 1, n)

	// Without upcasters the sequence is passed through.
	var none *eventstore.Upcasters
	n = 0
	for e, err := range none.Events(seq(events, nil)) {
		require.NoError(t, err)
		require.Equal(t, events[n], e)
		n++
	}
	require.Equal(t, 3, n)
	var empty eventstore.Upcasters
	n = 0
	for e := range empty.Events(seq(events, nil)) {
		require.Equal(t, events[n], e)
		n++
	}
	require.Equal(t, 3, n)
}
