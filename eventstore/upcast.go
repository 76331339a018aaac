package eventstore

import (
	"encoding/json"
	"fmt"
	"iter"

	"github.com/accessledger/accessledger/internal/canonjson"
)

// Upcaster turns the payload of one schema version of an event type into
// the payload of the next version. The payload it returns is decoded with
// member names matched exactly (entitlement.DecodeEvent): it must spell
// them as the current version's encoder does.
type Upcaster func(payload json.RawMessage) (json.RawMessage, error)

type upcastKey struct {
	eventType string
	from      int
}

// Upcasters holds the upcasters of every event type, keyed by the schema
// version they read. They run after reading and after verification, so old
// logs still verify and replay. The zero value is empty and ready to use.
type Upcasters struct {
	m map[upcastKey]Upcaster
}

// Register adds the upcaster that turns eventType's payloads of schema
// version from into version from+1. Registering the same pair twice is an error.
func (u *Upcasters) Register(eventType string, from int, f Upcaster) error {
	if from < 1 || f == nil || eventType == "" {
		return fmt.Errorf("eventstore: upcaster for %q from version %d: need a type, a version >= 1 and a function", eventType, from)
	}
	k := upcastKey{eventType, from}
	if _, dup := u.m[k]; dup {
		return fmt.Errorf("eventstore: upcaster for %q from version %d registered twice", eventType, from)
	}
	if u.m == nil {
		u.m = make(map[upcastKey]Upcaster)
	}
	u.m[k] = f
	return nil
}

// Upcast applies the registered upcasters to e, one version at a time,
// until none is registered for its type and version. The payload it returns
// is canonical JSON; the hashes stay those of the stored event.
func (u *Upcasters) Upcast(e Event) (Event, error) {
	if u == nil {
		return e, nil
	}
	for {
		f, ok := u.m[upcastKey{e.Type, e.SchemaVersion}]
		if !ok {
			return e, nil
		}
		p, err := f(e.Payload)
		if err != nil {
			return e, fmt.Errorf("eventstore: upcast %s v%d at position %d: %w", e.Type, e.SchemaVersion, e.Position, err)
		}
		if e.Payload, err = canonjson.Canonicalize(p); err != nil {
			return e, fmt.Errorf("eventstore: upcast %s v%d at position %d: %w", e.Type, e.SchemaVersion, e.Position, err)
		}
		e.SchemaVersion++
	}
}

// Events returns events with every event upcast. A nil *Upcasters passes
// events through unchanged.
func (u *Upcasters) Events(events iter.Seq2[Event, error]) iter.Seq2[Event, error] {
	if u == nil || len(u.m) == 0 {
		return events
	}
	return func(yield func(Event, error) bool) {
		for e, err := range events {
			if err == nil {
				e, err = u.Upcast(e)
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}
