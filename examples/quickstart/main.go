// Quickstart appends to an accessledger event log, reads it back and
// verifies its hash chain. It is the embedding example of the README.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "accessledger")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlitestore.Open(filepath.Join(dir, "ledger.db"), sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Append one event; the condition says the stream must not exist yet.
	_, err = store.Append(ctx,
		eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{"catalog/c1": 0}},
		eventstore.NewEvent{
			Stream:   "catalog/c1",
			Type:     "accessPackageCatalogCreated",
			Metadata: eventstore.Metadata{ActorID: "admin", ActorKind: "user", CommandID: "cmd-1"},
			Payload:  []byte(`{"displayName":"Marketing"}`),
		})
	if err != nil {
		log.Fatal(err)
	}

	for e, err := range store.ReadAll(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Position, e.Stream, e.Type, string(e.Payload))
	}
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified up to position", head.Position)
}
