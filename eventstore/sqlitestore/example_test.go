package sqlitestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlitestore.Open(filepath.Join(dir, "events.db"), sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// One command, two streams, written atomically. The condition says the
	// catalog must not exist yet.
	meta := eventstore.Metadata{ActorID: "user/alice", ActorKind: "user", CommandID: "cmd-1"}
	res, err := store.Append(ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{"catalog/1": 0}},
		eventstore.NewEvent{Stream: "catalog/1", Type: "catalogCreated", Metadata: meta,
			Payload: json.RawMessage(`{"displayName": "Marketing"}`)},
		eventstore.NewEvent{Stream: "accessPackage/7", Type: "accessPackageCreated", Metadata: meta,
			Payload: json.RawMessage(`{"catalogId": "1", "displayName": "Campaign tools"}`)},
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended up to position", res.Head().Position)

	// Repeating the command writes nothing and returns the first result.
	again, _ := store.Append(ctx, eventstore.AnyCondition, eventstore.NewEvent{
		Stream: "catalog/1", Type: "catalogCreated", Metadata: meta, Payload: json.RawMessage(`{}`)})
	fmt.Println("duplicate:", again.Duplicate)

	for e, err := range store.ReadAll(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Position, e.Stream, e.Version, e.Type, string(e.Payload))
	}
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	fmt.Println("verified up to", head.Position, err)
	// Output:
	// appended up to position 2
	// duplicate: true
	// 1 catalog/1 1 catalogCreated {"displayName":"Marketing"}
	// 2 accessPackage/7 1 accessPackageCreated {"catalogId":"1","displayName":"Campaign tools"}
	// verified up to 2 <nil>
}
