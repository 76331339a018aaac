package eventstore

import (
	"context"
	"fmt"
	"iter"
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
	head := start
	versions := make(map[StreamID]Version)
	for e, err := range events {
		if err != nil {
			return head, err
		}
		if err := ctx.Err(); err != nil {
			return head, err
		}
		want := head.Position + 1
		switch {
		case e.Position != want:
			return head, &ChainError{Position: want, Reason: fmt.Sprintf(
				"expected position %d, found %d: an event is missing or out of order", want, e.Position)}
		case e.PrevHash != head.Hash:
			return head, &ChainError{Position: want, Reason: fmt.Sprintf(
				"previous hash %s is not the hash of position %d (%s)", e.PrevHash, head.Position, head.Hash)}
		case e.Version != versions[e.Stream]+1 && !(start.Position > 0 && versions[e.Stream] == 0 && e.Version > 0):
			return head, &ChainError{Position: want, Reason: fmt.Sprintf(
				"stream %q jumps from version %d to %d", e.Stream, versions[e.Stream], e.Version)}
		}
		if got := ComputeHash(e.PrevHash, &e); got != e.Hash {
			return head, &ChainError{Position: want, Reason: fmt.Sprintf(
				"stored hash %s does not match the event's contents (computed %s)", e.Hash, got)}
		}
		versions[e.Stream] = e.Version
		head = Head{Position: e.Position, Hash: e.Hash}
	}
	return head, nil
}
