package eventstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/internal/canonjson"
	"github.com/oklog/ulid/v2"
)

// MarshalJSON writes e as one canonical JSON object: the members of
// CanonicalBytes plus "hash" and "prevHash" as hex. It is the NDJSON line
// format of `accessledger events` and of report archives.
//
// Call it directly, or use a json.Encoder with SetEscapeHTML(false), to
// write that line: json.Marshal escapes '<', '>', '&', U+2028 and U+2029 in
// what MarshalJSON returns, which still decodes to the same event but is
// no longer the canonical bytes.
func (e Event) MarshalJSON() ([]byte, error) {
	return appendEnvelope(make([]byte, 0, 480+len(e.Payload)), &e, true), nil
}

type eventJSON struct {
	Hash          Hash            `json:"hash"`
	ID            string          `json:"id"`
	Metadata      Metadata        `json:"metadata"`
	OccurredAt    string          `json:"occurredAt"`
	Payload       json.RawMessage `json:"payload"`
	Position      Position        `json:"position"`
	PrevHash      Hash            `json:"prevHash"`
	RecordedAt    string          `json:"recordedAt"`
	SchemaVersion int             `json:"schemaVersion"`
	Stream        StreamID        `json:"stream"`
	Type          string          `json:"type"`
	Version       Version         `json:"version"`
}

// UnmarshalJSON reads the form MarshalJSON writes. It does not verify the
// hash; use Verify for that. The payload is brought back to canonical form,
// so a line that was re-encoded on the way (json.Marshal's HTML escaping,
// a pretty-printer) still decodes to the event as stored.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("eventstore: decode event: %w", err)
	}
	id, err := ulid.ParseStrict(j.ID)
	if err != nil {
		return fmt.Errorf("eventstore: decode event id %q: %w", j.ID, err)
	}
	occurred, err := time.Parse(TimeLayout, j.OccurredAt)
	if err != nil {
		return fmt.Errorf("eventstore: decode occurredAt: %w", err)
	}
	recorded, err := time.Parse(TimeLayout, j.RecordedAt)
	if err != nil {
		return fmt.Errorf("eventstore: decode recordedAt: %w", err)
	}
	payload, err := canonjson.Canonicalize(j.Payload)
	if err != nil {
		return fmt.Errorf("eventstore: decode payload: %w", err)
	}
	*e = Event{
		ID: id, Stream: j.Stream, Version: j.Version, Position: j.Position,
		Type: j.Type, SchemaVersion: j.SchemaVersion,
		OccurredAt: occurred, RecordedAt: recorded,
		Metadata: j.Metadata, Payload: payload,
		PrevHash: j.PrevHash, Hash: j.Hash,
	}
	return nil
}
