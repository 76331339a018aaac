package eventstore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/canonjson"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// goldenEvent is an event with every field set, including strings that
// need escaping, non-ASCII text, a time in another zone and a nested payload.
func goldenEvent() eventstore.Event {
	return eventstore.Event{
		ID:            ulid.MustParse("01HZX3Q5N7W8Y9ABCDEFGHJKMN"),
		Stream:        "accessPackage/0b9e5c1e-8f4a-4c2e-9d57-3a1f6b2e7c10",
		Version:       3,
		Position:      42,
		Type:          "accessPackageAssignmentRequestApproved",
		SchemaVersion: 2,
		OccurredAt:    time.Date(2024, 3, 3, 10, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		RecordedAt:    time.Date(2024, 3, 3, 9, 30, 1, 0, time.UTC),
		Metadata: eventstore.Metadata{
			ActorID:       "user/ada@example.com",
			ActorKind:     "user",
			OnBehalfOf:    "user/grace@example.com",
			CorrelationID: "corr \"quoted\"\n",
			CausationID:   "01HZX3Q5N7W8Y9ABCDEFGHJKMP",
			CommandID:     "cmd-ünïcödé-\U0001F600",
		},
		Payload:  json.RawMessage(`{"justification":"Needs <access> & more","n":[1,2.5,1e+21],"nested":{"a":true,"b":null}}`),
		PrevHash: sha256.Sum256([]byte("accessledger golden previous event")),
	}
}

// TestCanonicalBytesGolden pins the bytes a hash covers and the hash of a
// fixed event. If it fails, every stored log stops verifying: change the
// format only with a plan for old logs (docs/event-format.md), then run
// go test ./eventstore -run Golden -update.
func TestCanonicalBytesGolden(t *testing.T) {
	e := goldenEvent()
	cb := eventstore.CanonicalBytes(&e)
	hash := eventstore.ComputeHash(e.PrevHash, &e)
	got := append(append(append([]byte(nil), cb...), '\n'), hash.String()+"\n"...)

	path := filepath.Join("testdata", "canonical-event.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), string(got))

	// The canonical bytes are RFC 8785 canonical JSON of the envelope…
	again, err := canonjson.Canonicalize(cb)
	require.NoError(t, err)
	require.Equal(t, string(cb), string(again), "CanonicalBytes must be canonical JSON")
	// …with the documented members, and not the hashes.
	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(cb, &members))
	require.ElementsMatch(t, []string{"id", "metadata", "occurredAt", "payload", "position", "recordedAt",
		"schemaVersion", "stream", "type", "version"}, keys(members))
	require.Equal(t, `"2024-03-03T09:30:00.123456789Z"`, string(members["occurredAt"]), "times in UTC, nine digits")
	require.Equal(t, `"2024-03-03T09:30:01.000000000Z"`, string(members["recordedAt"]))

	// ComputeHash is SHA-256 over the previous hash and the canonical bytes.
	require.Equal(t, eventstore.Hash(sha256.Sum256(append(e.PrevHash[:], cb...))), hash)
	eventstore.Seal(e.PrevHash, &e)
	require.Equal(t, hash, e.Hash, "Seal sets the hash")
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHashCoversEveryField: changing any field of the envelope, or the
// previous hash, changes the hash; the stored hashes themselves are not
// part of the canonical bytes.
func TestHashCoversEveryField(t *testing.T) {
	base := goldenEvent()
	h0 := eventstore.ComputeHash(base.PrevHash, &base)
	for name, change := range map[string]func(*eventstore.Event){
		"id":            func(e *eventstore.Event) { e.ID[0]++ },
		"stream":        func(e *eventstore.Event) { e.Stream += "x" },
		"version":       func(e *eventstore.Event) { e.Version++ },
		"position":      func(e *eventstore.Event) { e.Position++ },
		"type":          func(e *eventstore.Event) { e.Type += "x" },
		"schemaVersion": func(e *eventstore.Event) { e.SchemaVersion++ },
		"occurredAt":    func(e *eventstore.Event) { e.OccurredAt = e.OccurredAt.Add(time.Nanosecond) },
		"recordedAt":    func(e *eventstore.Event) { e.RecordedAt = e.RecordedAt.Add(time.Nanosecond) },
		"actorId":       func(e *eventstore.Event) { e.Metadata.ActorID += "x" },
		"actorKind":     func(e *eventstore.Event) { e.Metadata.ActorKind += "x" },
		"onBehalfOf":    func(e *eventstore.Event) { e.Metadata.OnBehalfOf += "x" },
		"correlationId": func(e *eventstore.Event) { e.Metadata.CorrelationID += "x" },
		"causationId":   func(e *eventstore.Event) { e.Metadata.CausationID += "x" },
		"commandId":     func(e *eventstore.Event) { e.Metadata.CommandID += "x" },
		"payload":       func(e *eventstore.Event) { e.Payload = json.RawMessage(`{}`) },
		"prevHash":      func(e *eventstore.Event) { e.PrevHash[31]++ },
	} {
		e := goldenEvent()
		change(&e)
		assert.NotEqual(t, h0, eventstore.ComputeHash(e.PrevHash, &e), "changing %s must change the hash", name)
	}

	e := goldenEvent()
	cb := eventstore.CanonicalBytes(&e)
	e.PrevHash[0]++
	e.Hash[0]++
	require.Equal(t, cb, eventstore.CanonicalBytes(&e), "the hashes are not part of the canonical bytes")
	// The same instant in another zone is the same event.
	e.OccurredAt = e.OccurredAt.UTC()
	require.Equal(t, cb, eventstore.CanonicalBytes(&e))
}

func TestEventJSON(t *testing.T) {
	e := goldenEvent()
	eventstore.Seal(e.PrevHash, &e)
	line, err := e.MarshalJSON()
	require.NoError(t, err)
	require.NotContains(t, string(line), "\n", "one line of NDJSON")
	requireJSONForm(t, e, line)

	var members map[string]any
	require.NoError(t, json.Unmarshal(line, &members))
	require.Equal(t, e.Hash.String(), members["hash"])
	require.Equal(t, e.PrevHash.String(), members["prevHash"])
	require.Equal(t, "01HZX3Q5N7W8Y9ABCDEFGHJKMN", members["id"])

	// An Encoder without HTML escaping writes the canonical line.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(e))
	require.Equal(t, string(line)+"\n", buf.String())
}

// TestEventJSONReencoded: json.Marshal escapes '<', '>' and '&' in the line
// MarshalJSON returns, and pretty-printers add space. Such lines are not the
// canonical bytes, but they still decode to the stored event, whose hash
// verifies.
func TestEventJSONReencoded(t *testing.T) {
	events := chain(
		link{"a", `{"note":"R&D <team>"}`},
		link{"a", `{"note":"line separator"}`},
		link{"b", `{"n":[1,2],"z":{"y":"&"}}`},
	)
	for _, e := range events {
		canonical, _ := e.MarshalJSON()
		escaped, err := json.Marshal(e)
		require.NoError(t, err)
		var indented bytes.Buffer
		require.NoError(t, json.Indent(&indented, canonical, "", "  "))
		for name, line := range map[string][]byte{"json.Marshal": escaped, "indented": indented.Bytes()} {
			var got eventstore.Event
			require.NoError(t, json.Unmarshal(line, &got), name)
			require.Equal(t, e, got, "%s: %s", name, line)
		}
	}
	require.NotEqual(t, must(events[0].MarshalJSON()), must(json.Marshal(events[0])), "json.Marshal escapes HTML")

	decoded := make([]eventstore.Event, len(events))
	for i, e := range events {
		require.NoError(t, json.Unmarshal([]byte(must(json.Marshal(e))), &decoded[i]))
	}
	head, err := eventstore.Verify(t.Context(), seq(decoded, nil))
	require.NoError(t, err)
	require.Equal(t, headOf(events[2]), head)
}

func must(b []byte, err error) string {
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestEventJSONRoundTrip checks, for random events, that the JSON line
// decodes to an equal event and that removing "hash" and "prevHash" from it
// leaves exactly the canonical bytes.
func TestEventJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		e := randomEvent(rt)
		line, err := e.MarshalJSON()
		require.NoError(rt, err)
		requireJSONForm(rt, e, line)

		escaped, err := json.Marshal(e)
		require.NoError(rt, err)
		var got eventstore.Event
		require.NoError(rt, json.Unmarshal(escaped, &got))
		require.Equal(rt, string(line), must(got.MarshalJSON()), "a line re-encoded by json.Marshal decodes to the same event")
	})
}

func requireJSONForm(t require.TestingT, e eventstore.Event, line []byte) {
	var got eventstore.Event
	require.NoError(t, json.Unmarshal(line, &got))
	require.True(t, e.OccurredAt.Equal(got.OccurredAt), "occurredAt %v != %v", e.OccurredAt, got.OccurredAt)
	require.True(t, e.RecordedAt.Equal(got.RecordedAt), "recordedAt %v != %v", e.RecordedAt, got.RecordedAt)
	want := e
	want.OccurredAt, want.RecordedAt = got.OccurredAt, got.RecordedAt
	require.Equal(t, want, got, "MarshalJSON then UnmarshalJSON must give the same event")
	require.Equal(t, e.Hash, eventstore.ComputeHash(got.PrevHash, &got), "the decoded event has the same hash")

	canonical, err := canonjson.Canonicalize(line)
	require.NoError(t, err)
	require.Equal(t, string(line), string(canonical), "the JSON line is canonical JSON")

	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(line, &members))
	delete(members, "hash")
	delete(members, "prevHash")
	stripped, err := json.Marshal(members)
	require.NoError(t, err)
	stripped, err = canonjson.Canonicalize(stripped)
	require.NoError(t, err)
	require.Equal(t, string(eventstore.CanonicalBytes(&e)), string(stripped),
		"the JSON line without hash and prevHash is the canonical bytes")
}

func randomEvent(t *rapid.T) eventstore.Event {
	str := rapid.String()
	instant := rapid.Int64Range(-1<<63, 1<<63-1)
	var id ulid.ULID
	copy(id[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "id"))
	payload, err := canonjson.Marshal(rapid.MapOf(str, rapid.OneOf(
		rapid.Map(rapid.Int(), func(i int) any { return i }),
		rapid.Map(rapid.Float64Range(-1e300, 1e300), func(f float64) any { return f }),
		rapid.Map(str, func(s string) any { return s }),
		rapid.Just[any](nil),
		rapid.Map(rapid.SliceOf(rapid.Bool()), func(b []bool) any { return b }),
	)).Draw(t, "payload"))
	require.NoError(t, err)
	e := eventstore.Event{
		ID:     id,
		Stream: eventstore.StreamID(str.Draw(t, "stream")),
		// Beyond 2^53 a number has no exact RFC 8785 form (JSON numbers are
		// doubles there); a log never gets that far.
		Version:       eventstore.Version(rapid.Uint64Range(0, 1<<53).Draw(t, "version")),
		Position:      eventstore.Position(rapid.Uint64Range(0, 1<<53).Draw(t, "position")),
		Type:          str.Draw(t, "type"),
		SchemaVersion: rapid.IntRange(0, 1<<31).Draw(t, "schemaVersion"),
		OccurredAt:    time.Unix(0, instant.Draw(t, "occurredAt")).In(time.FixedZone("", rapid.IntRange(-12, 12).Draw(t, "zone")*3600)),
		RecordedAt:    time.Unix(0, instant.Draw(t, "recordedAt")).UTC(),
		Metadata: eventstore.Metadata{
			ActorID: str.Draw(t, "actorId"), ActorKind: str.Draw(t, "actorKind"), OnBehalfOf: str.Draw(t, "onBehalfOf"),
			CorrelationID: str.Draw(t, "correlationId"), CausationID: str.Draw(t, "causationId"), CommandID: str.Draw(t, "commandId"),
		},
		Payload: payload,
	}
	copy(e.PrevHash[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "prevHash"))
	eventstore.Seal(e.PrevHash, &e)
	return e
}

func TestEventUnmarshalErrors(t *testing.T) {
	e := goldenEvent()
	eventstore.Seal(e.PrevHash, &e)
	line, err := json.Marshal(e)
	require.NoError(t, err)
	for name, spoil := range map[string]func(string) string{
		"not JSON": func(string) string { return "{" },
		"bad id":   func(s string) string { return strings.Replace(s, `"01HZX3Q5N7W8Y9ABCDEFGHJKMN"`, `"not-a-ulid"`, 1) },
		"bad occurredAt": func(s string) string {
			return strings.Replace(s, `"2024-03-03T09:30:00.123456789Z"`, `"3 March 2024"`, 1)
		},
		"bad recordedAt": func(s string) string { return strings.Replace(s, `"2024-03-03T09:30:01.000000000Z"`, `"yesterday"`, 1) },
		"short hash":     func(s string) string { return strings.Replace(s, `"hash":"`+e.Hash.String(), `"hash":"abcd`, 1) },
		"non-hex prevHash": func(s string) string {
			return strings.Replace(s, `"prevHash":"`+e.PrevHash.String(), `"prevHash":"`+strings.Repeat("zz", 32), 1)
		},
		"position string": func(s string) string { return strings.Replace(s, `"position":42`, `"position":"42"`, 1) },
	} {
		spoilt := spoil(string(line))
		require.NotEqual(t, string(line), spoilt, name)
		var got eventstore.Event
		require.Error(t, json.Unmarshal([]byte(spoilt), &got), name)
	}
}

func TestHashText(t *testing.T) {
	h := eventstore.Hash(sha256.Sum256([]byte("x")))
	s := h.String()
	require.Len(t, s, 64)
	require.Equal(t, strings.ToLower(s), s)
	parsed, err := eventstore.ParseHash(s)
	require.NoError(t, err)
	require.Equal(t, h, parsed)
	_, err = eventstore.ParseHash(s[:62])
	require.Error(t, err)
	_, err = eventstore.ParseHash(strings.Repeat("g", 64))
	require.Error(t, err)
	require.True(t, eventstore.Hash{}.IsZero())
	require.False(t, h.IsZero())
	require.Equal(t, "7 "+s, eventstore.Head{Position: 7, Hash: h}.String())
}

func TestAppendResultHead(t *testing.T) {
	require.Equal(t, eventstore.Head{}, eventstore.AppendResult{}.Head())
	events := sample()
	require.Equal(t, headOf(events[4]), eventstore.AppendResult{Events: events}.Head())
	c := eventstore.AtHead(5)
	require.NotNil(t, c.Head)
	require.Equal(t, eventstore.Position(5), *c.Head)
	require.Nil(t, eventstore.AnyCondition.Head)
	require.Nil(t, eventstore.AnyCondition.Streams)
}

func TestPrepare(t *testing.T) {
	now := time.Date(2024, 3, 3, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	ids := 0
	newID := func() ulid.ULID { ids++; return ulid.MustParse("01HZX3Q5N7W8Y9ABCDEFGHJK00") }
	given := ulid.MustParse("01HZX3Q5N7W8Y9ABCDEFGHJKMN")
	in := []eventstore.NewEvent{
		{Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}, Payload: json.RawMessage(`{"b":1, "a":[1.0]}`)},
		{Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}, SchemaVersion: 4, ID: given,
			OccurredAt: time.Date(2020, 1, 1, 12, 0, 0, 0, time.FixedZone("X", -7200))},
	}
	out, cmd, err := eventstore.Prepare(in, now, newID)
	require.NoError(t, err)
	require.Equal(t, "c", cmd)
	require.Len(t, out, 2)
	require.Equal(t, `{"a":[1],"b":1}`, string(out[0].Payload))
	require.Equal(t, `{}`, string(out[1].Payload), "a missing payload is the empty object")
	require.Equal(t, 1, out[0].SchemaVersion)
	require.Equal(t, 4, out[1].SchemaVersion)
	require.True(t, now.Equal(out[0].OccurredAt))
	require.Equal(t, time.UTC, out[0].OccurredAt.Location())
	require.Equal(t, time.Date(2020, 1, 1, 14, 0, 0, 0, time.UTC), out[1].OccurredAt)
	require.Equal(t, given, out[1].ID)
	require.Equal(t, 1, ids, "newID is called only for events without an id")
	require.Equal(t, `{"b":1, "a":[1.0]}`, string(in[0].Payload), "the input is not modified")

	out, cmd, err = eventstore.Prepare(nil, now, newID)
	require.NoError(t, err)
	require.Empty(t, out)
	require.Empty(t, cmd)

	for name, ev := range map[string]eventstore.NewEvent{
		"no command":      {Stream: "s", Type: "t"},
		"no stream":       {Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}},
		"no type":         {Stream: "s", Metadata: eventstore.Metadata{CommandID: "c"}},
		"bad payload":     {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}, Payload: json.RawMessage(`{`)},
		"negative schema": {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"}, SchemaVersion: -1},
		"before 1678": {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "c"},
			OccurredAt: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		_, _, err := eventstore.Prepare([]eventstore.NewEvent{ev}, now, newID)
		require.ErrorIs(t, err, eventstore.ErrInvalid, name)
	}
	_, _, err = eventstore.Prepare([]eventstore.NewEvent{in[0], {Stream: "s", Type: "t", Metadata: eventstore.Metadata{CommandID: "d"}}}, now, newID)
	require.ErrorIs(t, err, eventstore.ErrInvalid, "mixed command ids")
}

// TestCanonicalBytesEscaping: strings in the envelope are escaped as
// RFC 8785 requires, so the bytes parse back to the same strings.
func TestCanonicalBytesEscaping(t *testing.T) {
	e := goldenEvent()
	e.Stream = "a\"b\\c\u0001\u2028</script>"
	cb := eventstore.CanonicalBytes(&e)
	var back struct {
		Stream string `json:"stream"`
	}
	require.NoError(t, json.Unmarshal(cb, &back))
	require.Equal(t, string(e.Stream), back.Stream)
	require.True(t, bytes.Contains(cb, []byte(`"a\"b\\c\u0001`+"\u2028</script>\"")), "%s", cb)
}
