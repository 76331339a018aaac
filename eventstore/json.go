package eventstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// MarshalJSON writes e as one canonical JSON object: the members of
// CanonicalBytes plus "hash" and "prevHash" as hex. It is the NDJSON line
// format of `accessledger events` and of report archives.
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
// hash; use Verify for that.
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
	*e = Event{
		ID: id, Stream: j.Stream, Version: j.Version, Position: j.Position,
		Type: j.Type, SchemaVersion: j.SchemaVersion,
		OccurredAt: occurred, RecordedAt: recorded,
		Metadata: j.Metadata, Payload: j.Payload,
		PrevHash: j.PrevHash, Hash: j.Hash,
	}
	return nil
}
