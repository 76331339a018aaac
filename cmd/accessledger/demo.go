package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--db FILE]", stderr)
	db := fs.String("db", "accessledger-demo.db", "the log to write; removed and started fresh on every run")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(*db + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	store, err := sqlitestore.Open(*db, sqlitestore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()

	n, err := appendSampleHistory(ctx, store)
	if err != nil {
		return err
	}
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d commands to %s\n", n, *db)
	fmt.Fprintf(stdout, "verified: head position %d hash %s\n", head.Position, head.Hash)
	return nil
}

// appendSampleHistory appends a small, fixed history: an administrator
// delegates a catalog, the catalog owner builds an access package and a user
// is assigned. It returns the number of appends.
func appendSampleHistory(ctx context.Context, store eventstore.Store) (int, error) {
	const (
		admin   = "00000000-0000-0000-0000-00000000a001"
		owner   = "00000000-0000-0000-0000-00000000a002"
		user    = "00000000-0000-0000-0000-00000000a003"
		catalog = "00000000-0000-0000-0000-00000000c001"
		pkg     = "00000000-0000-0000-0000-00000000d001"
	)
	start := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	type step struct {
		actor, stream, typ string
		payload            map[string]any
	}
	steps := []step{
		{admin, "roleAssignment/r1", "roleAssignmentAdded", map[string]any{"principalId": owner, "roleDefinitionId": "ba92d953-d8e0-4e39-a797-0cbedb0a89e8", "appScopeId": "/"}},
		{owner, "catalog/" + catalog, "accessPackageCatalogCreated", map[string]any{"id": catalog, "displayName": "Marketing", "state": "published"}},
		{owner, "accessPackage/" + pkg, "accessPackageCreated", map[string]any{"id": pkg, "catalogId": catalog, "displayName": "Campaign tools"}},
		{admin, "assignment/x1", "accessPackageAssignmentDelivered", map[string]any{"accessPackageId": pkg, "targetId": user}},
	}
	for i, s := range steps {
		payload, err := json.Marshal(s.payload)
		if err != nil {
			return i, err
		}
		_, err = store.Append(ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{eventstore.StreamID(s.stream): 0}},
			eventstore.NewEvent{
				Stream:     eventstore.StreamID(s.stream),
				Type:       s.typ,
				OccurredAt: start.Add(time.Duration(i) * time.Hour),
				Metadata:   eventstore.Metadata{ActorID: s.actor, ActorKind: "user", CommandID: fmt.Sprintf("demo-%d", i)},
				Payload:    payload,
			})
		if err != nil {
			return i, err
		}
	}
	return len(steps), nil
}
