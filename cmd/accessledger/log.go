package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

// openExisting opens the log at path for reading only: it must exist and
// be an accessledger log, and nothing is written to it or beside it.
func openExisting(path string) (*sqlitestore.Store, error) {
	return openExistingWith(path, sqlitestore.Options{})
}

// openExistingWith is openExisting with opts.
func openExistingWith(path string, opts sqlitestore.Options) (*sqlitestore.Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --db is required", errUsage)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no log at %s", path)
		}
		return nil, err
	}
	s, err := sqlitestore.OpenReadOnly(path, opts)
	if errors.Is(err, sqlitestore.ErrNotLog) {
		return nil, fmt.Errorf("%s is not an accessledger log (%w)", path, err)
	}
	return s, err
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", "verify --db FILE", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	head, err := eventstore.Verify(ctx, store.ReadAll(ctx, 0))
	if err != nil {
		var ce *eventstore.ChainError
		if errors.As(err, &ce) {
			fmt.Fprintf(stdout, "broken at position %d: %s\n", ce.Position, ce.Reason)
		}
		return err
	}
	fmt.Fprintf(stdout, "ok: head position %d hash %s\n", head.Position, head.Hash)
	return nil
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events", "events --db FILE [--from N] [--stream S]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	from := fs.Uint64("from", 1, "first position to print (with --stream: first stream version)")
	stream := fs.String("stream", "", "print only this stream, e.g. accessPackage/<id>")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == 0 || *from-1 > eventstore.MaxPosition {
		return fmt.Errorf("%w: --from runs from 1 to %d", errUsage, uint64(eventstore.MaxPosition)+1)
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()

	events := store.ReadAll(ctx, eventstore.Position(*from-1))
	if *stream != "" {
		events = store.ReadStream(ctx, eventstore.StreamID(*stream), eventstore.Version(*from-1))
	}
	return writeNDJSON(stdout, events)
}

// writeNDJSON writes events one JSON object per line.
func writeNDJSON(w io.Writer, events func(func(eventstore.Event, error) bool)) error {
	bw := bufio.NewWriter(w)
	for e, err := range events {
		if err != nil {
			return err
		}
		b, _ := e.MarshalJSON() // canonical form; never fails
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
