package memstore_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/memstore"
)

// Append two commands' events, read the log and one stream back, and
// verify the hash chain.
func Example() {
	ctx := context.Background()
	store := memstore.New(memstore.Options{})
	defer store.Close()

	meta := eventstore.Metadata{ActorID: "user/ada", ActorKind: "user", CommandID: "cmd-1"}
	// The first append creates two streams at once; it expects neither to exist.
	_, err := store.Append(ctx,
		eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{"catalog/1": 0, "accessPackage/1": 0}},
		eventstore.NewEvent{Stream: "catalog/1", Type: "catalogCreated", Metadata: meta,
			Payload: json.RawMessage(`{"displayName": "Marketing", "id": "1"}`)},
		eventstore.NewEvent{Stream: "accessPackage/1", Type: "accessPackageCreated", Metadata: meta,
			Payload: json.RawMessage(`{"displayName": "Campaign tools", "catalogId": "1"}`)},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The second append was decided on the log at position 2.
	meta.CommandID = "cmd-2"
	r, err := store.Append(ctx, eventstore.AtHead(2),
		eventstore.NewEvent{Stream: "accessPackage/1", Type: "accessPackageRenamed", Metadata: meta,
			Payload: json.RawMessage(`{"displayName": "Campaign tooling"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("appended at position", r.Events[0].Position)

	// Repeating a command id writes nothing and returns the first result.
	r, _ = store.Append(ctx, eventstore.AtHead(2),
		eventstore.NewEvent{Stream: "accessPackage/1", Type: "accessPackageRenamed", Metadata: meta})
	fmt.Println("duplicate:", r.Duplicate, "position", r.Events[0].Position)

	// Another append decided on the same, now stale, head conflicts.
	meta.CommandID = "cmd-3"
	_, err = store.Append(ctx, eventstore.AtHead(2),
		eventstore.NewEvent{Stream: "accessPackage/1", Type: "accessPackageDeleted", Metadata: meta})
	fmt.Println(err)

	for e, err := range store.ReadAll(ctx, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Position, e.Stream, e.Version, e.Type, string(e.Payload))
	}
	for e, err := range store.ReadStream(ctx, "accessPackage/1", 1) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("after version 1:", e.Type)
	}

	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	stored, _ := store.Head(ctx)
	fmt.Println("verified up to position", head.Position, "error:", err, "matches head:", head == stored)

	// Output:
	// appended at position 3
	// duplicate: true position 3
	// eventstore: append conflict: expected head at position 2, log is at 3
	// 1 catalog/1 1 catalogCreated {"displayName":"Marketing","id":"1"}
	// 2 accessPackage/1 1 accessPackageCreated {"catalogId":"1","displayName":"Campaign tools"}
	// 3 accessPackage/1 2 accessPackageRenamed {"displayName":"Campaign tooling"}
	// after version 1: accessPackageRenamed
	// verified up to position 3 error: <nil> matches head: true
}
