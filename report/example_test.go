package report_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/accessledger/accessledger/internal/story"
	"github.com/accessledger/accessledger/projection"
	"github.com/accessledger/accessledger/report"
)

// Build makes a report from the projection, as of any moment; Write
// renders it as CSV, JSON or HTML. WriteArchive seals the log's events of
// a range with reports of them in a signed archive, and VerifyArchive
// proves it later, against the live log too. (The demo's story stands in
// for a tenant's history here.)
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "report-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	clock := story.NewClock()
	log, err := sqlitestore.Open(filepath.Join(dir, "ledger.db"), sqlitestore.Options{Now: clock.Now})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	cast, err := story.Play(ctx, log, clock, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := projection.Open(ctx, log, projection.DefaultPath(log.Path()), projection.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	if _, err := p.CatchUp(ctx); err != nil {
		fmt.Println(err)
		return
	}

	r, err := report.Build(ctx, p, report.Assignments, report.Query{PackageID: cast.SalesTools, As: projection.As{Of: cast.Expired}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var csv bytes.Buffer
	if err := r.Write(&csv, report.CSV); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Title+":", r.Subject)
	header, _, _ := strings.Cut(csv.String(), "\r\n") // CSV lines end in CRLF (RFC 4180)
	fmt.Println(header)

	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	var archive bytes.Buffer
	m, err := report.WriteArchive(ctx, &archive, log, p, report.ArchiveOptions{
		Reports: []report.Kind{report.Catalogs}, Formats: []report.Format{report.CSV}, SignKey: key, CreatedAt: story.Start})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = report.VerifyArchive(ctx, &archive, report.VerifyOptions{PublicKey: pub, Log: log})
	fmt.Println("archived", m.Events, "events; verified:", err)
	// Output:
	// Assignments of an access package: Sales tools
	// Target,Target id,Access package,State,Status,Policy,Start,End,Created,Resource roles,User lifecycle,Assignment id
	// archived 174 events; verified: <nil>
}
