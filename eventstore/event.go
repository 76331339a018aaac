package eventstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/oklog/ulid/v2"
)

// Position is an event's place in the whole log: 1-based, gap-free and in
// commit order. Position 0 means "before the first event".
type Position uint64

// Version is an event's place in its stream, 1-based. Version 0 means the
// stream has no events.
type Version uint64

// MaxPosition is the largest position, and the largest stream version, a
// log holds: backends keep them as signed 64-bit integers. A read after a
// larger one is refused with ErrInvalid.
const MaxPosition = 1<<63 - 1

// CheckReadAfter refuses a read after a position or version beyond
// MaxPosition, for backends to call before reading.
func CheckReadAfter[T Position | Version](after T) error {
	if uint64(after) > MaxPosition {
		return invalidf("read after %d: positions and versions end at %d", uint64(after), uint64(MaxPosition))
	}
	return nil
}

// StreamID names a stream, one per domain object, such as
// "accessPackage/0b9e…".
type StreamID string

// Hash is a SHA-256 digest in the hash chain.
type Hash [32]byte

// String returns the hash as lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros, the previous hash of the first event.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash as lowercase hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hash written as 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("eventstore: hash must be %d hex digits, got %d", 2*len(h), len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// ParseHash decodes a hash written as 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	err := h.UnmarshalText([]byte(s))
	return h, err
}

// Metadata says who caused an event and why. All fields are optional except
// CommandID, which identifies the append for idempotency.
type Metadata struct {
	ActorID       string `json:"actorId"`
	ActorKind     string `json:"actorKind"` // e.g. "user", "servicePrincipal", "system"
	OnBehalfOf    string `json:"onBehalfOf"`
	CorrelationID string `json:"correlationId"`
	CausationID   string `json:"causationId"`
	CommandID     string `json:"commandId"`
	// CommandDigest, if set, is a digest of the command the events carry
	// out, which the program that appends computes (the entitlement
	// Manager: its type, fields and actor). A later append under the same
	// command id with another digest is refused (*CommandReusedError)
	// instead of being answered with the first command's events. The
	// envelope holds it only when it is set, so events written before it
	// existed keep their hashes.
	CommandDigest string `json:"commandDigest,omitempty"`
}

// NewEvent is an event to append. The store assigns its stream version,
// position, recorded-at time and hashes.
type NewEvent struct {
	// ID identifies the event. If zero, the store assigns a new ULID.
	ID     ulid.ULID
	Stream StreamID
	Type   string
	// SchemaVersion is the version of the payload's shape; 0 means 1.
	SchemaVersion int
	// OccurredAt is the domain time, from the caller's clock.
	OccurredAt time.Time
	Metadata   Metadata
	// Payload is a JSON value. The store keeps it in canonical form (RFC 8785).
	Payload json.RawMessage
}

// Event is an event as stored in the log.
type Event struct {
	ID            ulid.ULID
	Stream        StreamID
	Version       Version
	Position      Position
	Type          string
	SchemaVersion int
	OccurredAt    time.Time
	RecordedAt    time.Time
	Metadata      Metadata
	Payload       json.RawMessage // canonical JSON
	PrevHash      Hash
	Hash          Hash
}

// Head is the end of the log: the last position and its hash. The head of an
// empty log is the zero Head.
type Head struct {
	Position Position
	Hash     Hash
}

// String formats the head as "position hash".
func (h Head) String() string { return fmt.Sprintf("%d %s", h.Position, h.Hash) }

// Condition is what an append expects of the log. The append fails with a
// *ConflictError, and writes nothing, if any expectation does not hold.
type Condition struct {
	// Streams maps a stream to the version it must be at: 0 means the stream
	// must not exist. Streams not listed may be at any version.
	Streams map[StreamID]Version
	// Head, if set, is the position the log's head must be at: the append
	// fails if anything at all was appended after it.
	Head *Position
	// HeadEventID, if not zero, is the id of the event at position Head
	// (which must be set and not 0): the append also fails if another
	// event is there. A writer that queues appends one after another, each
	// decided on the log as the one before it leaves it and each with event
	// ids of its own, states with it the whole prefix it decided on: if an
	// append before failed and another writer's append of the same length
	// took its place, the head's position matches but its event does not.
	HeadEventID ulid.ULID
}

// Validate reports a Condition that cannot be checked: a HeadEventID
// without a Head, or with Head 0 (there is no event). The error matches
// ErrInvalid.
func (c Condition) Validate() error {
	if c.HeadEventID != (ulid.ULID{}) && (c.Head == nil || *c.Head == 0) {
		return invalidf("condition: HeadEventID %s needs a Head position above 0", c.HeadEventID)
	}
	return nil
}

// CheckHead checks the head part of c (Head and HeadEventID) against a log
// whose last event is at head and has the id headID, returning the
// *ConflictError if it does not hold.
func (c Condition) CheckHead(head Position, headID ulid.ULID) error {
	if c.Head == nil {
		return nil
	}
	if *c.Head != head {
		return &ConflictError{ExpectedHead: *c.Head, ActualHead: head}
	}
	if c.HeadEventID != (ulid.ULID{}) && c.HeadEventID != headID {
		return &ConflictError{ExpectedHead: head, ActualHead: head, ExpectedEventID: c.HeadEventID, ActualEventID: headID}
	}
	return nil
}

// AnyCondition is the condition that always holds.
var AnyCondition = Condition{}

// AtHead returns a Condition that holds only while the log's head is p.
func AtHead(p Position) Condition { return Condition{Head: &p} }

// AtHeadEvent returns a Condition that holds only while the log's head is
// p and the event at p has the id id. With p 0 it is AtHead(0).
func AtHeadEvent(p Position, id ulid.ULID) Condition {
	if p == 0 {
		return AtHead(0)
	}
	return Condition{Head: &p, HeadEventID: id}
}

// AppendResult is what an append wrote, or, for a repeated command id, what
// the first append with that id wrote.
type AppendResult struct {
	Events    []Event
	Duplicate bool // the command id was seen before; nothing was written
}

// Head returns the position and hash of the last event of the result.
func (r AppendResult) Head() Head {
	if len(r.Events) == 0 {
		return Head{}
	}
	last := r.Events[len(r.Events)-1]
	return Head{Position: last.Position, Hash: last.Hash}
}

// Enqueuer is implemented by stores that can take an append now and report
// its outcome later, keeping the order in which appends were queued: they
// are checked against their Conditions and written in that order, several
// to a commit. A writer that decides appends one after another under a
// lock of its own queues each before it lets go of the lock and waits for
// it afterwards, so that the next append is decided while this one is
// being written, and the two share a commit.
type Enqueuer interface {
	// Enqueue queues an append, as Append would make it, and returns at
	// once. The Ticket must be waited on soon, by one goroutine at a
	// time: a store that has no goroutine of its own may pass to it the
	// work of writing the queue.
	Enqueue(ctx context.Context, cond Condition, events ...NewEvent) Ticket
}

// Ticket waits for the outcome of a queued append and returns what Append
// would have. If ctx ends while the append is still queued, it is taken
// out of the queue and the Ticket returns ctx.Err(): nothing was written.
// If ctx ends once the append is being written, the Ticket returns an
// error that matches both ErrOutcomeUnknown and ctx.Err(): the append may
// or may not be in the log. The Ticket may then be called again to wait
// for the outcome; or repeating the append with the same command id
// answers the question without writing anything twice. Once a Ticket has
// returned an outcome (anything but that error of a ctx that ended), it
// returns the same outcome if called again.
type Ticket func(ctx context.Context) (AppendResult, error)

// Reader reads the whole log in position order. Verify and projections
// need no more than this.
type Reader interface {
	// ReadAll yields the events after position after, in position order.
	ReadAll(ctx context.Context, after Position) iter.Seq2[Event, error]
}

// Store is what a backend provides. Consumers declare the narrower
// interfaces they need.
type Store interface {
	Reader
	// Append writes events atomically, across one or more streams, if cond
	// holds. All events must carry the same non-empty Metadata.CommandID.
	// Appending no events does nothing and returns an empty result.
	Append(ctx context.Context, cond Condition, events ...NewEvent) (AppendResult, error)
	// ReadStream yields the events of one stream after version after.
	ReadStream(ctx context.Context, stream StreamID, after Version) iter.Seq2[Event, error]
	// Head returns the position and hash of the last event.
	Head(ctx context.Context) (Head, error)
	// Close releases the store's resources.
	Close() error
}
