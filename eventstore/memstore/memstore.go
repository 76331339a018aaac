// Package memstore is an in-memory eventstore backend for tests, examples
// and programs that need no durability. It keeps the same promises as every
// other backend (see eventstore/storetest) except surviving a restart.
package memstore

import (
	"context"
	"iter"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Now stamps RecordedAt (and OccurredAt where the caller left it zero).
	// Defaults to time.Now.
	Now func() time.Time
	// NewID makes event ids where the caller gave none. Defaults to ulid.Make.
	NewID func() ulid.ULID
}

// Store is an in-memory event log. It is safe for concurrent use.
type Store struct {
	opts Options

	mu       sync.RWMutex
	closed   bool
	events   []eventstore.Event            // events[i].Position == i+1
	streams  map[eventstore.StreamID][]int // indexes into events, in version order
	commands map[string][2]int             // command id -> [first, last+1) indexes
}

var (
	_ eventstore.Store    = (*Store)(nil)
	_ eventstore.Enqueuer = (*Store)(nil)
)

// New returns an empty store.
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = ulid.Make
	}
	return &Store{
		opts:     opts,
		streams:  make(map[eventstore.StreamID][]int),
		commands: make(map[string][2]int),
	}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := cond.Validate(); err != nil {
		return eventstore.AppendResult{}, err
	}
	now := s.opts.Now().UTC()
	prepared, cmd, err := eventstore.Prepare(events, now, s.opts.NewID)
	if err != nil || len(prepared) == 0 {
		return eventstore.AppendResult{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if r, ok := s.commands[cmd]; ok {
		if err := eventstore.CheckRepeat(prepared, s.events[r[0]:r[1]]); err != nil {
			return eventstore.AppendResult{}, err
		}
		return eventstore.AppendResult{Events: clone(s.events[r[0]:r[1]]), Duplicate: true}, nil
	}
	head := eventstore.Position(len(s.events))
	var headID ulid.ULID
	if head > 0 {
		headID = s.events[head-1].ID
	}
	if err := cond.CheckHead(head, headID); err != nil {
		return eventstore.AppendResult{}, err
	}
	for _, id := range sortedKeys(cond.Streams) {
		if want, got := cond.Streams[id], eventstore.Version(len(s.streams[id])); want != got {
			return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: id, Expected: want, Actual: got}
		}
	}

	var prev eventstore.Hash
	// RecordedAt never decreases along positions, whatever the clock does.
	recorded := s.opts.Now().UTC()
	if head > 0 {
		prev = s.events[head-1].Hash
		if last := s.events[head-1].RecordedAt; recorded.Before(last) {
			recorded = last
		}
	}
	versions := make(map[eventstore.StreamID]eventstore.Version)
	out := make([]eventstore.Event, len(prepared))
	for i, ne := range prepared {
		v, ok := versions[ne.Stream]
		if !ok {
			v = eventstore.Version(len(s.streams[ne.Stream]))
		}
		versions[ne.Stream] = v + 1
		e := eventstore.Event{
			ID: ne.ID, Stream: ne.Stream, Version: v + 1, Position: head + eventstore.Position(i) + 1,
			Type: ne.Type, SchemaVersion: ne.SchemaVersion,
			OccurredAt: ne.OccurredAt, RecordedAt: recorded,
			Metadata: ne.Metadata, Payload: ne.Payload,
		}
		eventstore.Seal(prev, &e)
		prev = e.Hash
		out[i] = e
	}
	first := len(s.events)
	s.events = append(s.events, out...)
	for i, e := range out {
		s.streams[e.Stream] = append(s.streams[e.Stream], first+i)
	}
	s.commands[cmd] = [2]int{first, len(s.events)}
	return eventstore.AppendResult{Events: clone(out)}, nil
}

// Enqueue implements eventstore.Enqueuer. The memory store writes at once,
// so the append is done when Enqueue returns and the Ticket only reports
// its outcome.
func (s *Store) Enqueue(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) eventstore.Ticket {
	res, err := s.Append(ctx, cond, events...)
	return func(context.Context) (eventstore.AppendResult, error) { return res, err }
}

// ReadAll implements eventstore.Store. It reads a consistent prefix of the
// log: events appended while iterating are included up to the point reached.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		if err := eventstore.CheckReadAfter(after); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		for i := int(after); ; i++ {
			if err := ctx.Err(); err != nil {
				yield(eventstore.Event{}, err)
				return
			}
			s.mu.RLock()
			closed, n := s.closed, len(s.events)
			var e eventstore.Event
			if i < n {
				e = copyEvent(s.events[i])
			}
			s.mu.RUnlock()
			if closed {
				yield(eventstore.Event{}, eventstore.ErrClosed)
				return
			}
			if i >= n || !yield(e, nil) {
				return
			}
		}
	}
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream eventstore.StreamID, after eventstore.Version) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		if err := eventstore.CheckReadAfter(after); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		for v := int(after); ; v++ {
			if err := ctx.Err(); err != nil {
				yield(eventstore.Event{}, err)
				return
			}
			s.mu.RLock()
			closed, idx := s.closed, s.streams[stream]
			var e eventstore.Event
			if v < len(idx) {
				e = copyEvent(s.events[idx[v]])
			}
			s.mu.RUnlock()
			if closed {
				yield(eventstore.Event{}, eventstore.ErrClosed)
				return
			}
			if v >= len(idx) || !yield(e, nil) {
				return
			}
		}
	}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Head, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Head{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.Head{}, eventstore.ErrClosed
	}
	if len(s.events) == 0 {
		return eventstore.Head{}, nil
	}
	last := s.events[len(s.events)-1]
	return eventstore.Head{Position: last.Position, Hash: last.Hash}, nil
}

// Close implements eventstore.Store. Later calls fail with eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// copyEvent keeps callers from writing into the stored payload.
func copyEvent(e eventstore.Event) eventstore.Event {
	e.Payload = append([]byte(nil), e.Payload...)
	return e
}

func clone(events []eventstore.Event) []eventstore.Event {
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		out[i] = copyEvent(e)
	}
	return out
}

// sortedKeys makes conflict reports deterministic when several streams fail.
func sortedKeys(m map[eventstore.StreamID]eventstore.Version) []eventstore.StreamID {
	return slices.Sorted(maps.Keys(m))
}
