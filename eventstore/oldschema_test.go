package eventstore_test

// The old-schema test.
//
// testdata/v1-log.ndjson is an event log as an earlier version of a program
// wrote it: its example.userCreated events are at schema version 1, with
// the payload {"name":"Ada Lovelace"}, a shape the current program no longer
// uses; schema version 2 splits the name into {"givenName","surname"}. The
// file is committed and never rewritten: it stands for logs already stored
// in the field. The test decodes it, checks that Verify holds over the
// events exactly as stored, then upcasts them and checks that every event
// now has the current shape, while its hashes stay those of the stored
// event. Verify must run before upcasting; the test also shows that an
// upcast event no longer matches its stored hash.
//
// The file was made by TestWriteV1Log with memstore, a fixed clock and
// fixed ids. It runs only with -update, and then only when the file is
// missing: to remake it, delete it and run go test ./eventstore -update.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"
)

var v1LogPath = filepath.Join("testdata", "v1-log.ndjson")

// v1LogHead is the head of testdata/v1-log.ndjson. It pins the file: a
// changed file, or a change to how hashes are computed, fails the test.
const v1LogHead = "5 8c9c6511f29ad5078ff1c6c8084bd108328be477df6d90fb3a30d131395c7dd6"

func TestWriteV1Log(t *testing.T) {
	if !*update {
		t.Skip("writes testdata/v1-log.ndjson; run with -update after deleting it")
	}
	if _, err := os.Stat(v1LogPath); err == nil {
		t.Skip("testdata/v1-log.ndjson exists and stands for an old log: delete it first to remake it")
	}
	clock := time.Date(2023, 11, 2, 8, 0, 0, 0, time.UTC)
	ids := 0
	s := memstore.New(memstore.Options{
		Now: func() time.Time { clock = clock.Add(time.Minute); return clock },
		NewID: func() ulid.ULID {
			ids++
			return ulid.MustParse(fmt.Sprintf("01HE5N7Q8R9S0TVWXYZABCDE%02d", ids))
		},
	})
	defer s.Close()
	meta := func(cmd string) eventstore.Metadata {
		return eventstore.Metadata{ActorID: "user/admin", ActorKind: "user", CorrelationID: "import-2023-11", CommandID: cmd}
	}
	created := func(stream, name, cmd string) eventstore.NewEvent {
		return eventstore.NewEvent{Stream: eventstore.StreamID(stream), Type: userCreated, SchemaVersion: 1,
			Metadata: meta(cmd), Payload: json.RawMessage(fmt.Sprintf(`{"name":%q}`, name))}
	}
	email := func(stream, addr, cmd string) eventstore.NewEvent {
		return eventstore.NewEvent{Stream: eventstore.StreamID(stream), Type: "example.userEmailChanged", SchemaVersion: 1,
			Metadata: meta(cmd), Payload: json.RawMessage(fmt.Sprintf(`{"email":%q}`, addr))}
	}
	ctx := t.Context()
	for _, in := range [][]eventstore.NewEvent{
		{created("user/1", "Ada Lovelace", "cmd-1")},
		{created("user/2", "Grace Brewster Hopper", "cmd-2")},
		{email("user/1", "ada@example.org", "cmd-3")},
		{created("user/3", "Plato", "cmd-4"), email("user/3", "plato@example.org", "cmd-4")},
	} {
		_, err := s.Append(ctx, eventstore.AnyCondition, in...)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	for e, err := range s.ReadAll(ctx, 0) {
		require.NoError(t, err)
		line, _ := e.MarshalJSON()
		buf.Write(line)
		buf.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(v1LogPath, buf.Bytes(), 0o644))
	head, err := s.Head(ctx)
	require.NoError(t, err)
	t.Logf("wrote %s; set v1LogHead to %q", v1LogPath, head.String())
}

func readNDJSON(t *testing.T, path string) []eventstore.Event {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []eventstore.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventstore.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %d", len(out)+1)
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestOldSchemaLog(t *testing.T) {
	raw, err := os.ReadFile(v1LogPath)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"payload":{"name":"Ada Lovelace"}`, "the file holds the old shape")

	stored := readNDJSON(t, v1LogPath)
	require.Len(t, stored, 5)
	head, err := eventstore.Verify(t.Context(), seq(stored, nil))
	require.NoError(t, err, "a log written with an old schema still verifies")
	require.Equal(t, v1LogHead, head.String())

	var u eventstore.Upcasters
	require.NoError(t, u.Register(userCreated, 1, splitName))
	var current []eventstore.Event
	for e, err := range u.Events(seq(stored, nil)) {
		require.NoError(t, err)
		current = append(current, e)
	}
	require.Len(t, current, len(stored))

	want := map[eventstore.StreamID]string{
		"user/1": `{"givenName":"Ada","surname":"Lovelace"}`,
		"user/2": `{"givenName":"Grace","surname":"Brewster Hopper"}`,
		"user/3": `{"givenName":"Plato","surname":""}`,
	}
	created := 0
	for i, e := range current {
		s := stored[i]
		require.Equal(t, 1, s.SchemaVersion, "position %d was stored at schema version 1", s.Position)
		require.Equal(t, s.Hash, e.Hash, "upcasting keeps the stored hashes")
		require.Equal(t, s.Position, e.Position)
		if e.Type != userCreated {
			require.Equal(t, s, e, "other types pass through unchanged")
			continue
		}
		created++
		require.Equal(t, 2, e.SchemaVersion)
		require.Equal(t, want[e.Stream], string(e.Payload), "position %d", e.Position)
		var v2 map[string]string
		require.NoError(t, json.Unmarshal(e.Payload, &v2))
		require.Len(t, v2, 2, "exactly givenName and surname")
	}
	require.Equal(t, 3, created)

	// Verify must see events as stored: the upcast ones no longer match
	// their hashes, starting with the first one that changed.
	_, err = eventstore.Verify(t.Context(), seq(current, nil))
	var ce *eventstore.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, eventstore.Position(1), ce.Position)
}
