// Quickstart embeds accessledger: it opens an event log in SQLite, runs
// entitlement-management commands through a Manager, reads the state back
// and verifies the log's hash chain. It is the embedding example of the
// README.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/accessledger/accessledger/entitlement"
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

	// The Manager replays the log into the in-memory State and executes
	// commands: each is authorized, decided, appended and applied.
	m, err := entitlement.NewManager(ctx, store, entitlement.Options{})
	if err != nil {
		log.Fatal(err)
	}
	admin := entitlement.UserActor("8d1e6a4c-0000-4000-8000-000000000001", entitlement.GlobalAdministrator)
	res, err := m.Execute(ctx, admin, entitlement.CreateCatalog{DisplayName: "Marketing"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created catalog", res.ID != "")

	// A plain user may not create catalogs: the command is refused and
	// nothing is appended.
	_, err = m.Execute(ctx, entitlement.UserActor("8d1e6a4c-0000-4000-8000-000000000002"),
		entitlement.CreateCatalog{DisplayName: "Shadow IT"})
	fmt.Println("plain user refused:", errors.Is(err, entitlement.ErrForbidden))

	for _, c := range m.State().ListCatalogs(admin) {
		fmt.Println("catalog:", c.DisplayName, c.CatalogType)
	}

	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("log verified up to position", head.Position)
}
