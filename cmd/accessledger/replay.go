package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/workload"
	"github.com/accessledger/accessledger/projection"
)

// runReplay rebuilds a log's projection from the whole log, or with
// --catch-up applies only what it has not yet.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay --db FILE [--projection FILE] [--catch-up]", stderr)
	db := fs.String("db", "", "the event log (SQLite file)")
	out := fs.String("projection", "", "the projection file (default: the log's path with .projection added)")
	catchUp := fs.Bool("catch-up", false, "apply only the events the projection has not applied, instead of rebuilding it")
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
	p, err := openProjection(ctx, store, path)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := p.Checkpoint(ctx)
	if err != nil {
		return err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	if err := checkEnd(ctx, store); err != nil {
		return err
	}
	start := time.Now()
	var cp projection.Checkpoint
	if *catchUp {
		cp, err = p.CatchUp(ctx)
	} else {
		before = projection.Checkpoint{}
		bar := newProgress(stderr, "replay")
		cp, err = p.Rebuild(ctx, func(pr projection.Progress) {
			// The log may grow while it is replayed.
			bar.report(workload.Progress{Phase: "rebuilding the projection", Done: int(pr.Applied), Total: max(int(head.Position), int(pr.Applied))})
		})
		bar.done()
		if errors.Is(err, projection.ErrProjectionInUse) && cp.Position > 0 {
			return fmt.Errorf("%w; it was opened while the log was replayed, so the rebuilt projection was not swapped in, "+
				"and is discarded: close it there and replay again, or rebuild into another file with --projection", err)
		}
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
