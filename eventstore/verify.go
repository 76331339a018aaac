package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"

	"github.com/accessledger/accessledger/internal/canonjson"
)

// Verify walks a log from its first event and checks that positions run
// 1, 2, 3… without gaps, that every stream's versions run 1, 2, 3…, that
// each event's PrevHash is the previous event's Hash, and that each Hash is
// ComputeHash of the event as stored. It returns the head it verified up to,
// or a *ChainError (matching ErrChain) naming the first bad position and
// why. Errors from the sequence itself are returned as they are.
//
// Verify must see events as stored: before any upcasting.
func Verify(ctx context.Context, events iter.Seq2[Event, error]) (Head, error) {
	return VerifyFrom(ctx, Head{}, events)
}

// VerifyFrom is Verify for a stretch of a log: the events after start, a
// head the caller trusts (the zero Head is the log's beginning). The first
// event must be at start.Position+1 with start.Hash as its PrevHash. A
// stream first seen after a non-zero start may begin at any version, since
// its earlier versions lie before the stretch; after that its versions must
// run on without gaps.
func VerifyFrom(ctx context.Context, start Head, events iter.Seq2[Event, error]) (Head, error) {
	c := NewChain(start)
	for e, err := range events {
		if err != nil {
			return c.Head(), err
		}
		if err := ctx.Err(); err != nil {
			return c.Head(), err
		}
		if err := c.Add(&e); err != nil {
			return c.Head(), err
		}
	}
	return c.Head(), nil
}

// Chain checks a log one event at a time, as Verify does, for a reader
// that gets the events one by one: an NDJSON file, an archive, a stream.
type Chain struct {
	start, head Head
	versions    map[StreamID]Version
	buf         []byte
}

// NewChain returns a Chain that expects the events after start (the zero
// Head: the log's beginning). A stream first seen after a non-zero start
// may begin at any version, since its earlier versions lie before it.
func NewChain(start Head) *Chain {
	return &Chain{start: start, head: start, versions: make(map[StreamID]Version)}
}

// Head returns the last event added, or the start.
func (c *Chain) Head() Head { return c.head }

// Add checks that e follows the chain (its position, previous hash, stream
// version and hash) and makes it the head. Otherwise it returns a
// *ChainError and the chain stays as it was.
func (c *Chain) Add(e *Event) error {
	if err := c.follows(e.Position, e.PrevHash, e.Stream, e.Version); err != nil {
		return err
	}
	if err := hashHolds(e); err != nil {
		return err
	}
	c.advance(e.Position, e.Hash, e.Stream, e.Version)
	return nil
}

// Follows checks that e comes right after head in its log (its position
// and PrevHash) and that its Hash is that of its contents: Chain.Add
// without the streams' versions, for a reader that keeps no state but the
// last head (a projection catching up). It returns a *ChainError.
func Follows(head Head, e *Event) error {
	if err := linkHolds(head, e.Position, e.PrevHash); err != nil {
		return err
	}
	return hashHolds(e)
}

// Verified yields the events of a log as they come, checking with Follows
// that each one after start follows the one before (events at or before
// start, such as the event a reader resumes from, pass unchecked). The
// first break is yielded as a *ChainError, and nothing after it. It keeps
// only the last head: a reader of a whole log that must not show what the
// chain does not prove (an archiver, a projection) verifies it in flat
// memory. It must see events as stored: before any upcasting.
func Verified(events iter.Seq2[Event, error], start Head) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		head := start
		for e, err := range events {
			if err == nil && e.Position > start.Position {
				err = Follows(head, &e)
				head = Head{Position: e.Position, Hash: e.Hash}
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// linkHolds checks that an event at pos with prev comes right after head.
func linkHolds(head Head, pos Position, prev Hash) error {
	want := head.Position + 1
	switch {
	case pos != want:
		return &ChainError{Position: want, Reason: fmt.Sprintf(
			"expected position %d, found %d: an event is missing or out of order", want, pos)}
	case prev != head.Hash:
		return &ChainError{Position: want, Reason: fmt.Sprintf(
			"previous hash %s is not the hash of position %d (%s)", prev, head.Position, head.Hash)}
	}
	return nil
}

// hashHolds checks that e's stored Hash is that of its contents.
func hashHolds(e *Event) error {
	if got := ComputeHash(e.PrevHash, e); got != e.Hash {
		return &ChainError{Position: e.Position, Reason: fmt.Sprintf(
			"stored hash %s does not match the event's contents (computed %s)", e.Hash, got)}
	}
	return nil
}

// follows checks an event's place in the chain, not its hash.
func (c *Chain) follows(pos Position, prev Hash, stream StreamID, version Version) error {
	if err := linkHolds(c.head, pos, prev); err != nil {
		return err
	}
	if seen := c.versions[stream]; version != seen+1 && !(c.start.Position > 0 && seen == 0 && version > 0) {
		return &ChainError{Position: pos, Reason: fmt.Sprintf(
			"stream %q jumps from version %d to %d", stream, seen, version)}
	}
	return nil
}

func (c *Chain) advance(pos Position, hash Hash, stream StreamID, version Version) {
	c.versions[stream] = version
	c.head = Head{Position: pos, Hash: hash}
}

// AddLine is Add for one line of NDJSON in the form Event.MarshalJSON
// writes. A line in that canonical form is checked without decoding it:
// the bytes hashed are the line without its "hash" and "prevHash" members.
// A line in another form (re-encoded on the way, or broken) is decoded
// first, so that it is judged on the event it holds; one that holds more
// than the event (a member that no event has, which decoding would drop
// and no hash covers) is a *ChainError, and one that is not an event at
// all is an error that is not a *ChainError.
func (c *Chain) AddLine(line []byte) error {
	if f, ok := c.split(line); ok {
		if err := c.follows(f.pos, f.prev, f.stream, f.version); err != nil {
			return err
		}
		c.advance(f.pos, f.hash, f.stream, f.version)
		return nil
	}
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return err
	}
	if !holdsOnly(line, &e) {
		return &ChainError{Position: e.Position, Reason: "the line holds members that are not the event's, which no hash covers"}
	}
	return c.Add(&e)
}

// holdsOnly reports whether line, the NDJSON form of e, holds e and nothing
// else: decoding drops members that no event has, and e's hash would not
// cover them. It compares what the hash is defined over, the line without
// its hash and prevHash canonicalized, with e's canonical bytes.
func holdsOnly(line []byte, e *Event) bool {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(line, &members); err != nil {
		return false
	}
	delete(members, "hash")
	delete(members, "prevHash")
	b, err := canonjson.Marshal(members)
	return err == nil && bytes.Equal(b, CanonicalBytes(e))
}

// lineFields are the members of a canonical line that the chain checks.
type lineFields struct {
	pos        Position
	prev, hash Hash
	stream     StreamID
	version    Version
}

var (
	linePrefix   = []byte(`{"hash":"`)
	prevMember   = []byte(`,"prevHash":"`)
	posMember    = []byte(`,"position":`)
	streamMember = []byte(`,"stream":"`)
	verMember    = []byte(`,"version":`)
)

// split reads a canonical line's members and checks that its hash is the
// hash of its canonical bytes. Members are found by their place in the
// canonical order (hash, id, metadata, occurredAt, payload, position,
// prevHash, recordedAt, schemaVersion, stream, type, version): the
// top-level position and prevHash are the last of their name, since only
// strings and numbers follow the payload. ok is false for a line in any
// other form, or whose hash does not match: AddLine then decodes it.
func (c *Chain) split(line []byte) (f lineFields, ok bool) {
	const hexLen = 2 * len(Hash{})
	if !bytes.HasPrefix(line, linePrefix) || len(line) < len(linePrefix)+hexLen+2 {
		return f, false
	}
	if _, err := hex.Decode(f.hash[:], line[len(linePrefix):len(linePrefix)+hexLen]); err != nil {
		return f, false
	}
	rest1 := line[len(linePrefix)+hexLen:]
	if !bytes.HasPrefix(rest1, []byte(`",`)) {
		return f, false
	}
	rest1 = rest1[2:]
	i := bytes.LastIndex(rest1, prevMember)
	if i < 0 || len(rest1) < i+len(prevMember)+hexLen+1 {
		return f, false
	}
	if _, err := hex.Decode(f.prev[:], rest1[i+len(prevMember):i+len(prevMember)+hexLen]); err != nil {
		return f, false
	}
	rest2 := rest1[i+len(prevMember)+hexLen:]
	rest1 = rest1[:i]
	if !bytes.HasPrefix(rest2, []byte(`",`)) || !bytes.HasSuffix(rest2, []byte("}")) {
		return f, false
	}
	rest2 = rest2[1:]
	if bytes.Contains(rest2, posMember) {
		// The top-level position comes before prevHash: this prevHash is
		// not the top-level one (it was moved into the payload, say).
		return f, false
	}
	j := bytes.LastIndex(rest1, posMember)
	if j < 0 {
		return f, false
	}
	pos, err := strconv.ParseUint(string(rest1[j+len(posMember):]), 10, 64)
	if err != nil {
		return f, false
	}
	k := bytes.LastIndex(rest2, verMember)
	if k < 0 {
		return f, false
	}
	version, err := strconv.ParseUint(string(rest2[k+len(verMember):len(rest2)-1]), 10, 64)
	if err != nil {
		return f, false
	}
	s := bytes.Index(rest2, streamMember)
	if s < 0 {
		return f, false
	}
	stream := rest2[s+len(streamMember):]
	end := bytes.IndexByte(stream, '"')
	if end < 0 || bytes.IndexByte(stream[:end], '\\') >= 0 {
		return f, false // an escaped stream id: leave it to the decoder
	}
	c.buf = append(append(append(c.buf[:0], '{'), rest1...), rest2...)
	h := sha256.New()
	h.Write(f.prev[:])
	h.Write(c.buf)
	if !bytes.Equal(h.Sum(nil), f.hash[:]) {
		return f, false
	}
	f.pos, f.stream, f.version = Position(pos), StreamID(stream[:end]), Version(version)
	return f, true
}
