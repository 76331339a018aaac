package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/oklog/ulid/v2"
)

// columns are the events columns in the order of an INSERT.
const columns = "position, id, stream, version, type, schema_version, occurred_at, recorded_at, " +
	"actor_id, actor_kind, on_behalf_of, correlation_id, causation_id, command_id, payload, prev_hash, hash, command_digest"

// numColumns is the number of columns in columns.
const numColumns = 18

// Reading is bound by the driver's cost per column, so reads select eight
// columns rather than eighteen: the ten text columns joined by the unit
// separator (0x1F) with concat_ws, the two hashes joined, and the payload
// as a BLOB (which the driver hands over without a second copy). A row
// whose text holds the separator itself is read again column by column.
const (
	sep            = "\x1f"
	numTexts       = 10
	numReadColumns = 8
)

// queries are the statements of reads. A log of the first schema version,
// opened read-only and so not migrated, has no command_digest column: its
// queries read an empty one.
type queries struct {
	// all and stream take ([stream,] lo, hi) and select the keys in
	// (lo, hi]; allAfter and streamAfter take ([stream,] after, limit);
	// rangeOf takes (first, last); texts takes a position and reads the
	// text columns of its event one by one.
	all, stream, allAfter, streamAfter, rangeOf, texts string
}

func newQueries(digest bool) queries {
	d := "command_digest"
	if !digest {
		d = "''"
	}
	texts := "id, stream, type, actor_id, actor_kind, on_behalf_of, correlation_id, causation_id, command_id, " + d
	read := "SELECT position, version, schema_version, occurred_at, recorded_at, concat_ws(char(31), " + texts + "), " +
		"CAST(payload AS BLOB), CAST(prev_hash || hash AS BLOB) FROM events"
	return queries{
		all:         read + " WHERE position > ? AND position <= ? ORDER BY position",
		stream:      read + " WHERE stream = ? AND version > ? AND version <= ? ORDER BY version",
		allAfter:    read + " WHERE position > ? ORDER BY position LIMIT ?",
		streamAfter: read + " WHERE stream = ? AND version > ? ORDER BY version LIMIT ?",
		rangeOf:     read + " WHERE position BETWEEN ? AND ? ORDER BY position",
		texts:       "SELECT " + texts + " FROM events WHERE position = ?",
	}
}

// current are the queries of a log of the current schema.
var current = newQueries(true)

// readPage runs query with args on conn, at the driver level (the
// database/sql scanning machinery costs as much as SQLite itself here), and
// appends the events to buf. A row that is no event ends the page with a
// *eventstore.ChainError, and buf holds the events before it.
func readPage(ctx context.Context, conn *sql.Conn, q *queries, buf []eventstore.Event, query string, args ...any) ([]eventstore.Event, error) {
	start := len(buf)
	var fixups []int
	err := sqlitex.EachRow(ctx, conn, query, args, numReadColumns, func(row []driver.Value) error {
		var e eventstore.Event
		ok, err := decode(row, &e)
		if err != nil {
			return err
		}
		if !ok {
			fixups = append(fixups, len(buf))
		}
		buf = append(buf, e)
		return nil
	})
	var bad *eventstore.ChainError // a row that is no event: the page ends before it
	if (err != nil && !errors.As(err, &bad)) || len(fixups) == 0 {
		return buf, err
	}
	good := len(buf)
	ferr := conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("driver connection cannot prepare with a context")
		}
		for _, i := range fixups {
			if err := readTexts(ctx, pc, q.texts, &buf[i]); err != nil {
				good = i
				return err
			}
		}
		return nil
	})
	switch {
	case ferr == nil:
		return buf, err
	case errors.As(ferr, &bad):
		return buf[:good], ferr
	}
	return buf[:start], ferr
}

// decode turns a row of readColumns into e. It reports false if the
// joined text columns could not be split, which happens when one of them
// holds the separator; the caller then reads them with readTexts.
func decode(row []driver.Value, e *eventstore.Event) (bool, error) {
	var ints [5]int64
	for i := range ints {
		v, ok := row[i].(int64)
		if !ok {
			return false, fmt.Errorf("column %d is %T, not an integer", i, row[i])
		}
		ints[i] = v
	}
	e.Position = eventstore.Position(ints[0])
	e.Version = eventstore.Version(ints[1])
	e.SchemaVersion = int(ints[2])
	e.OccurredAt = time.Unix(0, ints[3]).UTC()
	e.RecordedAt = time.Unix(0, ints[4]).UTC()
	switch p := row[6].(type) {
	case []byte:
		e.Payload = p // a fresh copy made by the driver
	case nil:
		e.Payload = []byte{} // an empty BLOB
	default:
		return false, fmt.Errorf("event at position %d: payload is %T", e.Position, row[6])
	}
	var hashes []byte
	switch h := row[7].(type) {
	case string:
		hashes = []byte(h)
	case []byte:
		hashes = h
	}
	if len(hashes) != 2*len(e.Hash) {
		return false, &eventstore.ChainError{Position: e.Position, Reason: fmt.Sprintf(
			"its stored prev_hash and hash have %d bytes together, not %d each: the row was changed behind the store", len(hashes), len(e.Hash))}
	}
	copy(e.PrevHash[:], hashes)
	copy(e.Hash[:], hashes[len(e.Hash):])
	texts, _ := row[5].(string)
	if strings.Count(texts, sep) != numTexts-1 {
		return false, nil
	}
	var f [numTexts]string
	for i := range numTexts - 1 {
		f[i], texts, _ = strings.Cut(texts, sep)
	}
	f[numTexts-1] = texts
	return true, setTexts(e, f)
}

// readTexts reads the text columns of e, which is at e.Position, one by one.
func readTexts(ctx context.Context, pc driver.ConnPrepareContext, query string, e *eventstore.Event) error {
	st, err := pc.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, []driver.NamedValue{{Ordinal: 1, Value: int64(e.Position)}})
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, numTexts)
	if err := rows.Next(dest); err != nil {
		return fmt.Errorf("event at position %d: read texts: %w", e.Position, err)
	}
	var f [numTexts]string
	for i, v := range dest {
		switch v := v.(type) {
		case string:
			f[i] = v
		case []byte:
			f[i] = string(v)
		}
	}
	return setTexts(e, f)
}

// setTexts sets the text fields of e, in the order of queries.texts.
func setTexts(e *eventstore.Event, f [numTexts]string) error {
	id, err := ulid.ParseStrict(f[0])
	if err != nil {
		return &eventstore.ChainError{Position: e.Position, Reason: fmt.Sprintf(
			"its stored id %q is not a ULID (%v): the row was changed behind the store", f[0], err)}
	}
	e.ID = id
	e.Stream = eventstore.StreamID(f[1])
	e.Type = f[2]
	e.Metadata = eventstore.Metadata{
		ActorID: f[3], ActorKind: f[4], OnBehalfOf: f[5],
		CorrelationID: f[6], CausationID: f[7], CommandID: f[8], CommandDigest: f[9],
	}
	return nil
}

// setHash copies a stored hash, which must be 32 bytes.
func setHash(h *eventstore.Hash, b []byte) error {
	if len(b) != len(h) {
		return fmt.Errorf("stored hash has %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return nil
}
