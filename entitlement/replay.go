package entitlement

import (
	"context"
	"fmt"
	"iter"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/oklog/ulid/v2"
)

// logEvent is an event of the log as catchUp applies it: decoded, with
// what the manager keeps of the stored event.
type logEvent struct {
	Event
	position  eventstore.Position
	id        ulid.ULID
	hash      eventstore.Hash
	commandID string
}

// decodeBatch is how many events the reading goroutine of decodedLog
// decodes before handing them over; at most two batches wait.
const decodeBatch = 256

// decodedLog yields the events of the log after the head after, checked
// against the hash chain from it (eventstore.Verified: a row changed
// behind the store is a *eventstore.ChainError, and nothing after it is
// applied), upcast and decoded. They are read and decoded on a goroutine of their own, up
// to three batches ahead of the caller, who applies them: decoding is a
// fifth of a replay's CPU and applying most of the rest, so the two
// overlap on a second core. The goroutine has ended when the iteration
// returns, however it ends: a caller that stops early cancels the read. A
// read or upcast error is reported after the position last read, once the
// events before it are yielded; a panic there (an upcaster's) is raised
// again on the caller's goroutine.
func (m *Manager) decodedLog(ctx context.Context, after eventstore.Head) iter.Seq2[logEvent, error] {
	return func(yield func(logEvent, error) bool) {
		type batch struct {
			events []logEvent
			err    error
			panic  any
		}
		// stop tells the goroutine that the caller stopped, and cancel
		// interrupts a read under way. (The caller's own cancellation is
		// an error to hand over like any other.)
		ctx, cancel := context.WithCancel(ctx)
		out := make(chan batch, 2)
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			defer close(out)
			var b []logEvent
			send := func(x batch) bool {
				select {
				case out <- x:
					b = nil
					return true
				case <-stop:
					return false
				}
			}
			defer func() {
				if p := recover(); p != nil {
					send(batch{events: b, panic: p})
				}
			}()
			last := after.Position
			for e, err := range m.opts.Upcasters.Events(eventstore.Verified(m.store.ReadAll(ctx, after.Position), after)) {
				if err != nil {
					send(batch{events: b, err: fmt.Errorf("entitlement: read the log after position %d: %w", last, err)})
					return
				}
				de, err := DecodeEvent(e)
				if err != nil {
					send(batch{events: b, err: err})
					return
				}
				if b == nil {
					b = make([]logEvent, 0, decodeBatch)
				}
				b = append(b, logEvent{Event: de, position: e.Position, id: e.ID, hash: e.Hash, commandID: e.Metadata.CommandID})
				last = e.Position
				if len(b) == decodeBatch && !send(batch{events: b}) {
					return
				}
			}
			if len(b) > 0 {
				send(batch{events: b})
			}
		}()
		defer func() {
			close(stop)
			cancel()
			<-done
		}()
		for b := range out {
			for _, e := range b.events {
				if !yield(e, nil) {
					return
				}
			}
			if b.panic != nil {
				panic(b.panic)
			}
			if b.err != nil {
				yield(logEvent{}, b.err)
				return
			}
		}
	}
}
