package eventstore_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// Verify walks a log's hash chain and returns its head. The head, signed
// and kept outside the log, proves later that the log still holds
// everything up to it (CheckHead), which the chain alone cannot: a log
// rewritten and resealed from some point on verifies.
func ExampleVerify() {
	ctx := context.Background()
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	log := memstore.New(memstore.Options{Now: func() time.Time { return clock }})
	for i, stream := range []eventstore.StreamID{"catalog/sales", "catalog/finance"} {
		_, err := log.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{Stream: stream, Type: "catalogCreated",
			Payload: []byte(`{"n":1}`), Metadata: eventstore.Metadata{ActorID: "admin", ActorKind: "user", CommandID: fmt.Sprint("c", i)}})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	head, err := eventstore.Verify(ctx, log.ReadAll(ctx, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("the chain holds, head at position", head.Position)

	// Sign the head (the key is the recorder's), keep it elsewhere, and
	// check the log against it later.
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	signed := eventstore.SignHead(key, head, clock)
	kept, err := eventstore.ParseSignedHead(signed.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signature:", kept.Verify(pub))
	fmt.Println("the log still holds it:", eventstore.CheckHead(ctx, log.ReadAll, kept.Head))

	// A head the log does not hold is a broken chain at its position.
	other := kept.Head
	other.Position++
	var ce *eventstore.ChainError
	fmt.Println("a head beyond the log:", errors.As(eventstore.CheckHead(ctx, log.ReadAll, other), &ce), ce.Position)
	// Output:
	// the chain holds, head at position 2
	// signature: <nil>
	// the log still holds it: <nil>
	// a head beyond the log: true 3
}
