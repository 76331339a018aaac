package eventstore_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"iter"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (and write testdata/v1-log.ndjson if it is missing)")

// link is one event of a hand-made chain.
type link struct {
	stream  eventstore.StreamID
	payload string
}

// chain builds a valid, sealed log: positions 1.., versions 1.. per stream.
func chain(links ...link) []eventstore.Event {
	t0 := time.Date(2024, 3, 3, 9, 0, 0, 0, time.UTC)
	versions := map[eventstore.StreamID]eventstore.Version{}
	var prev eventstore.Hash
	out := make([]eventstore.Event, len(links))
	for i, l := range links {
		versions[l.stream]++
		e := eventstore.Event{
			ID:            ulid.MustParse(fmt.Sprintf("01HZX3Q5N7W8Y9ABCDEFGHJK%02d", i+1)),
			Stream:        l.stream,
			Version:       versions[l.stream],
			Position:      eventstore.Position(i + 1),
			Type:          "test.happened",
			SchemaVersion: 1,
			OccurredAt:    t0.Add(time.Duration(i) * time.Minute),
			RecordedAt:    t0.Add(time.Duration(i)*time.Minute + time.Second),
			Metadata:      eventstore.Metadata{ActorID: "user/ada", ActorKind: "user", CommandID: fmt.Sprintf("cmd-%d", i)},
			Payload:       json.RawMessage(l.payload),
		}
		eventstore.Seal(prev, &e)
		prev = e.Hash
		out[i] = e
	}
	return out
}

// seq yields events, then err if it is not nil.
func seq(events []eventstore.Event, err error) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
		if err != nil {
			yield(eventstore.Event{}, err)
		}
	}
}

func headOf(e eventstore.Event) eventstore.Head {
	return eventstore.Head{Position: e.Position, Hash: e.Hash}
}
