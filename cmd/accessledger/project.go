package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/workload"
	"github.com/accessledger/accessledger/projection"
)

// runProject brings a log's projection up to date, or rebuilds it.
func runProject(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("project", "project --db FILE [--projection FILE] [--rebuild]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	out := fs.String("projection", "", "the projection file (default: the log's path with .projection added)")
	rebuild := fs.Bool("rebuild", false, "replay the whole log into a new file and swap it in")
	if err := parse(fs, args); err != nil {
		return err
	}
	// The log is read once, in order: memory-mapping it would only add to
	// the resident set.
	store, err := openExistingWith(*db, sqlitestore.Options{MmapSize: -1})
	if err != nil {
		return err
	}
	defer store.Close()
	path := *out
	if path == "" {
		path = projection.DefaultPath(store.Path())
	}
	p, err := projection.Open(ctx, store, path, projection.Options{})
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := p.Checkpoint(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	var cp projection.Checkpoint
	if *rebuild {
		before = projection.Checkpoint{}
		cp, err = p.Rebuild(ctx, nil)
	} else {
		cp, err = p.CatchUp(ctx)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	n := int(cp.Position - before.Position)
	fmt.Fprintf(stdout, "%s: %s events applied in %s (%s), checkpoint %d %s\n", path, count(n), elapsed.Round(time.Millisecond),
		perSecond(float64(n)/max(elapsed.Seconds(), 1e-9)), cp.Position, cp.Hash)
	if rss := workload.PeakRSS(); rss > 0 {
		fmt.Fprintf(stdout, "peak RSS of the process: %s\n", mebibytes(rss))
	}
	return nil
}
