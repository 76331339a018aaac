package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
)

// BenchmarkVerify measures the hash chain alone, without a backend: the
// ceiling of Verify over any store.
func BenchmarkVerify(b *testing.B) {
	const n = 10_000
	events := make([]eventstore.Event, n)
	var prev eventstore.Hash
	t0 := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	for i := range events {
		e := eventstore.Event{
			ID: ulid.Make(), Stream: "accessPackage/6f1c1f2e-8a51-4c37-9b7e-0d2f7c9f3a10",
			Version: eventstore.Version(i + 1), Position: eventstore.Position(i + 1),
			Type: "accessPackageAssignmentRequestCreated", SchemaVersion: 1,
			OccurredAt: t0, RecordedAt: t0,
			Metadata: eventstore.Metadata{ActorID: "0b9e6a52-3f7d-4a7c-8f0e-5c2b1d3e4f50", ActorKind: "user", CommandID: ulid.Make().String()},
			Payload:  []byte(`{"accessPackageId":"6f1c1f2e-8a51-4c37-9b7e-0d2f7c9f3a10","justification":"Spring campaign","requestType":"userAdd","targetId":"0b9e6a52-3f7d-4a7c-8f0e-5c2b1d3e4f50"}`),
		}
		eventstore.Seal(prev, &e)
		prev = e.Hash
		events[i] = e
	}
	seq := func(yield func(eventstore.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventstore.Verify(context.Background(), seq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
