package eventstore

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/accessledger/accessledger/internal/canonjson"
	"github.com/oklog/ulid/v2"
)

// TimeLayout is how the canonical form writes instants: UTC with exactly nine
// fractional digits, so that the text sorts and compares like the instant.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// The instants a log can hold: stores keep times as Unix nanoseconds in 64 bits.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// CanonicalBytes returns the bytes of e's envelope that its hash covers: the
// RFC 8785 canonical JSON of the object
//
//	{"id","metadata":{"actorId","actorKind","causationId","commandDigest",
//	 "commandId","correlationId","onBehalfOf"},"occurredAt","payload",
//	 "position","recordedAt","schemaVersion","stream","type","version"}
//
// where "commandDigest" is present only when the event has one, with times
// in TimeLayout, the id as a ULID string and the payload as
// stored. PrevHash and Hash are not part of it. See docs/event-format.md.
func CanonicalBytes(e *Event) []byte {
	return appendEnvelope(make([]byte, 0, envelopeSize(e)), e, false)
}

// envelopeSize is an upper bound of len(CanonicalBytes(e)) for strings
// without escapes, so that building the bytes does not regrow the buffer.
func envelopeSize(e *Event) int {
	m := &e.Metadata
	return 350 + len(e.Payload) + len(e.Stream) + len(e.Type) + len(m.ActorID) + len(m.ActorKind) +
		len(m.OnBehalfOf) + len(m.CorrelationID) + len(m.CausationID) + len(m.CommandID) + len(m.CommandDigest)
}

// appendEnvelope writes e's envelope as canonical JSON. With hashes, it also
// writes "hash" and "prevHash" in their sorted places: the NDJSON form of an
// event, from which removing those two members gives CanonicalBytes.
func appendEnvelope(b []byte, e *Event, hashes bool) []byte {
	b = append(b, '{')
	if hashes {
		b = append(b, `"hash":"`...)
		b = hexAppend(b, e.Hash)
		b = append(b, `",`...)
	}
	b = append(b, `"id":`...)
	b = canonjson.AppendString(b, e.ID.String())
	b = append(b, `,"metadata":{"actorId":`...)
	b = canonjson.AppendString(b, e.Metadata.ActorID)
	b = append(b, `,"actorKind":`...)
	b = canonjson.AppendString(b, e.Metadata.ActorKind)
	b = append(b, `,"causationId":`...)
	b = canonjson.AppendString(b, e.Metadata.CausationID)
	if e.Metadata.CommandDigest != "" {
		b = append(b, `,"commandDigest":`...)
		b = canonjson.AppendString(b, e.Metadata.CommandDigest)
	}
	b = append(b, `,"commandId":`...)
	b = canonjson.AppendString(b, e.Metadata.CommandID)
	b = append(b, `,"correlationId":`...)
	b = canonjson.AppendString(b, e.Metadata.CorrelationID)
	b = append(b, `,"onBehalfOf":`...)
	b = canonjson.AppendString(b, e.Metadata.OnBehalfOf)
	b = append(b, `},"occurredAt":"`...)
	b = appendTime(b, e.OccurredAt)
	b = append(b, `","payload":`...)
	b = append(b, e.Payload...)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, uint64(e.Position), 10)
	if hashes {
		b = append(b, `,"prevHash":"`...)
		b = hexAppend(b, e.PrevHash)
		b = append(b, '"')
	}
	b = append(b, `,"recordedAt":"`...)
	b = appendTime(b, e.RecordedAt)
	b = append(b, `","schemaVersion":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"stream":`...)
	b = canonjson.AppendString(b, string(e.Stream))
	b = append(b, `,"type":`...)
	b = canonjson.AppendString(b, e.Type)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, uint64(e.Version), 10)
	return append(b, '}')
}

// appendTime writes t in TimeLayout. It is t.UTC().AppendFormat(b,
// TimeLayout) without parsing the layout, which hashing does per event.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits writes v, which must be non-negative, in exactly width digits.
func appendDigits(b []byte, v, width int) []byte {
	n := len(b)
	b = append(b, "000000000"[:width]...)
	for i := len(b) - 1; i >= n && v > 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

func hexAppend(b []byte, h Hash) []byte { return hex.AppendEncode(b, h[:]) }

// ComputeHash returns SHA-256(prev || CanonicalBytes(e)).
func ComputeHash(prev Hash, e *Event) Hash {
	// Verify and every append hash each event: reuse the buffer.
	bp := hashBuffers.Get().(*[]byte)
	b := append((*bp)[:0], prev[:]...)
	b = appendEnvelope(slices.Grow(b, envelopeSize(e)), e, false)
	out := Hash(sha256.Sum256(b))
	*bp = b
	hashBuffers.Put(bp)
	return out
}

var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Seal links e to the chain: it sets e.PrevHash to prev and e.Hash to
// ComputeHash(prev, e). Backends call it for every event they append, after
// setting every other field.
func Seal(prev Hash, e *Event) {
	e.PrevHash = prev
	e.Hash = ComputeHash(prev, e)
}

// Prepare checks the events of one append and returns them normalised, as
// every backend must store them: payloads in canonical JSON, schema version
// at least 1, times in UTC (OccurredAt defaults to now), and a ULID from
// newID where the caller gave none. It returns the append's command id.
// Errors match ErrInvalid.
func Prepare(events []NewEvent, now time.Time, newID func() ulid.ULID) ([]NewEvent, string, error) {
	if len(events) == 0 {
		return nil, "", nil
	}
	cmd := events[0].Metadata.CommandID
	if cmd == "" {
		return nil, "", invalidf("event 0 has no command id")
	}
	out := make([]NewEvent, len(events))
	for i, e := range events {
		switch {
		case e.Metadata.CommandID != cmd:
			return nil, "", invalidf("event %d has command id %q, event 0 has %q", i, e.Metadata.CommandID, cmd)
		case e.Stream == "":
			return nil, "", invalidf("event %d has no stream", i)
		case e.Type == "":
			return nil, "", invalidf("event %d has no type", i)
		case e.SchemaVersion < 0:
			return nil, "", invalidf("event %d has schema version %d", i, e.SchemaVersion)
		}
		// The hash covers the canonical form of these strings, which
		// writes invalid UTF-8 as U+FFFD: two different byte strings would
		// hash alike, so that the chain could not tell them apart.
		for _, f := range []struct{ name, value string }{
			{"stream", string(e.Stream)}, {"type", e.Type}, {"actorId", e.Metadata.ActorID},
			{"actorKind", e.Metadata.ActorKind}, {"onBehalfOf", e.Metadata.OnBehalfOf},
			{"correlationId", e.Metadata.CorrelationID}, {"causationId", e.Metadata.CausationID},
			{"commandId", e.Metadata.CommandID}, {"commandDigest", e.Metadata.CommandDigest},
		} {
			if !utf8.ValidString(f.value) {
				return nil, "", invalidf("event %d: %s is not valid UTF-8", i, f.name)
			}
		}
		if e.SchemaVersion == 0 {
			e.SchemaVersion = 1
		}
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
		e.OccurredAt = e.OccurredAt.UTC()
		if e.OccurredAt.Before(minTime) || e.OccurredAt.After(maxTime) {
			return nil, "", invalidf("event %d occurred at %s, outside the years 1678 to 2262", i, e.OccurredAt)
		}
		if len(e.Payload) == 0 {
			e.Payload = []byte("{}")
		}
		p, err := canonjson.Canonicalize(e.Payload)
		if err != nil {
			return nil, "", invalidf("event %d payload: %v", i, err)
		}
		e.Payload = p
		if e.ID == (ulid.ULID{}) {
			e.ID = newID()
		}
		out[i] = e
	}
	return out, cmd, nil
}
