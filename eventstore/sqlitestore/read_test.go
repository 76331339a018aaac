package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
)

// Reads fetch gap-free position ranges in parallel and take a short page
// for the end of the log. A row removed behind the store's back also makes
// a page short; the read must go on past the hole so that Verify names it,
// wherever it falls in a page (first, middle, last of a page, last of the log).
func TestReadPastRemovedRow(t *testing.T) {
	const pageSize, events = 4, 13
	for pos := eventstore.Position(1); pos <= events; pos++ {
		t.Run(fmt.Sprint(pos), func(t *testing.T) {
			s := openTemp(t, Options{PageSize: pageSize})
			for i := range events {
				mustAppend(t, s, eventstore.AnyCondition, ev(fmt.Sprint("s", i%3), fmt.Sprint("c", i), `{}`))
			}
			if err := (tamperer{s}).Delete(pos); err != nil {
				t.Fatal(err)
			}
			_, err := eventstore.Verify(context.Background(), s.ReadAll(context.Background(), 0))
			var ce *eventstore.ChainError
			if pos == events {
				// Removing the last event leaves a shorter, sound chain:
				// only a head kept elsewhere (an archive's) can tell.
				if err != nil {
					t.Fatalf("Verify = %v, want a sound shorter chain", err)
				}
				return
			}
			if !errors.As(err, &ce) || ce.Position != pos {
				t.Fatalf("Verify = %v, want a *ChainError at position %d", err, pos)
			}
		})
	}
}

// TestMalformedRowIsChainError (found by a review): a row changed behind
// the store so that it is no event (a hash or prev_hash that is not 32
// bytes, an id that is not a ULID) stops a read with a
// *eventstore.ChainError at its position, after the events before it,
// wherever it falls in a page, so that Verify returns the last good head.
// Every other event's text holds the separator, so that the row before the
// bad one is, in turn, read column by column and not.
func TestMalformedRowIsChainError(t *testing.T) {
	const pageSize, events = 4, 9
	for _, tc := range []struct{ name, stmt string }{
		{"short hash", "UPDATE events SET hash = x'00' WHERE position = ?"},
		{"long prev_hash", "UPDATE events SET prev_hash = zeroblob(33) WHERE position = ?"},
		{"id not a ULID", "UPDATE events SET id = 'not-a-ulid' WHERE position = ?"},
		{"id not a ULID, read column by column", "UPDATE events SET id = 'not-a-ulid', actor_id = 'a' || char(31) WHERE position = ?"},
	} {
		for _, pos := range []eventstore.Position{1, 2, 4, 5, 6, events} {
			t.Run(fmt.Sprint(tc.name, " ", pos), func(t *testing.T) {
				s := openTemp(t, Options{PageSize: pageSize})
				var want []eventstore.Event
				for i := range events {
					e := ev(fmt.Sprint("s", i%3), fmt.Sprint("c", i), `{}`)
					if i%2 == 1 {
						e.Metadata.ActorID = "a\x1fb"
					}
					want = append(want, mustAppend(t, s, eventstore.AnyCondition, e).Events...)
				}
				if err := (tamperer{s}).exec(tc.stmt)([]any{int64(pos)}); err != nil {
					t.Fatal(err)
				}
				var got []eventstore.Event
				var err error
				for e, rerr := range s.ReadAll(ctx, 0) {
					if err = rerr; err != nil {
						break
					}
					got = append(got, e)
				}
				var ce *eventstore.ChainError
				if !errors.As(err, &ce) || ce.Position != pos {
					t.Fatalf("ReadAll = %v, want a *ChainError at position %d", err, pos)
				}
				if fmt.Sprint(got) != fmt.Sprint(want[:pos-1]) {
					t.Fatalf("ReadAll yielded\n %v\nbefore the error, want\n %v", got, want[:pos-1])
				}
				head, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
				var wantHead eventstore.Head
				if pos > 1 {
					wantHead = eventstore.Head{Position: pos - 1, Hash: want[pos-2].Hash}
				}
				if !errors.Is(err, eventstore.ErrChain) || head != wantHead {
					t.Fatalf("Verify = %v, %v; want %v and a broken chain", head, err, wantHead)
				}
			})
		}
	}
}

// Every page boundary and read-ahead depth gives the same events in order.
func TestReadAllPageBoundaries(t *testing.T) {
	for _, pageSize := range []int{1, 2, 3, 5, 8} {
		s := openTemp(t, Options{PageSize: pageSize})
		const n = 17
		for i := range n {
			mustAppend(t, s, eventstore.AnyCondition, ev(fmt.Sprint("s", i%2), fmt.Sprint("c", i), `{}`))
		}
		for after := eventstore.Position(0); after <= n; after++ {
			got := collect(t, s.ReadAll(context.Background(), after))
			if len(got) != int(n-after) {
				t.Fatalf("page %d, after %d: %d events, want %d", pageSize, after, len(got), n-after)
			}
			for i, e := range got {
				if e.Position != after+eventstore.Position(i)+1 {
					t.Fatalf("page %d, after %d: event %d at position %d", pageSize, after, i, e.Position)
				}
			}
		}
		for v := eventstore.Version(0); v <= 9; v++ {
			got := collect(t, s.ReadStream(context.Background(), "s0", v))
			if len(got) != int(9-v) {
				t.Fatalf("page %d, stream after %d: %d events, want %d", pageSize, v, len(got), 9-v)
			}
			for i, e := range got {
				if e.Version != v+eventstore.Version(i)+1 {
					t.Fatalf("page %d, stream after %d: event %d at version %d", pageSize, v, i, e.Version)
				}
			}
		}
	}
}

// TestReadAfterRemovedRows reads the log after every position, and each
// stream after every version, with one or two rows removed anywhere, for
// several page sizes: a read's first page is a keyset query and the pages
// after it gap-free ranges, and every event left must come once, in order,
// whichever page a hole falls in. Stopping early at every event must return
// with no read left running (every read connection back in the pool).
func TestReadAfterRemovedRows(t *testing.T) {
	const events = 13
	holeSets := [][]eventstore.Position{nil}
	for a := eventstore.Position(1); a <= events; a++ {
		holeSets = append(holeSets, []eventstore.Position{a})
		for b := a + 1; b <= events && !testing.Short(); b++ {
			holeSets = append(holeSets, []eventstore.Position{a, b})
		}
	}
	for _, pageSize := range []int{1, 3, 4} {
		for _, holes := range holeSets {
			t.Run(fmt.Sprint(pageSize, holes), func(t *testing.T) {
				s := openTemp(t, Options{PageSize: pageSize})
				streamOf := map[eventstore.Position]eventstore.StreamID{}
				for i := range events {
					st := fmt.Sprint("s", i%2)
					mustAppend(t, s, eventstore.AnyCondition, ev(st, fmt.Sprint("c", i), `{}`))
					streamOf[eventstore.Position(i+1)] = eventstore.StreamID(st)
				}
				gone := map[eventstore.Position]bool{}
				for _, h := range holes {
					if err := (tamperer{s}).Delete(h); err != nil {
						t.Fatal(err)
					}
					gone[h] = true
				}
				for after := eventstore.Position(0); after <= events; after++ {
					var want, got []eventstore.Position
					for p := after + 1; p <= events; p++ {
						if !gone[p] {
							want = append(want, p)
						}
					}
					for _, e := range collect(t, s.ReadAll(context.Background(), after)) {
						got = append(got, e.Position)
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("ReadAll after %d: %v, want %v", after, got, want)
					}
				}
				for _, st := range []eventstore.StreamID{"s0", "s1"} {
					var kept []eventstore.Version // versions of the stream's rows left
					v := eventstore.Version(0)
					for p := eventstore.Position(1); p <= events; p++ {
						if streamOf[p] == st {
							if v++; !gone[p] {
								kept = append(kept, v)
							}
						}
					}
					for after := eventstore.Version(0); after <= v; after++ {
						var want, got []eventstore.Version
						for _, x := range kept {
							if x > after {
								want = append(want, x)
							}
						}
						for _, e := range collect(t, s.ReadStream(context.Background(), st, after)) {
							got = append(got, e.Version)
						}
						if fmt.Sprint(got) != fmt.Sprint(want) {
							t.Fatalf("ReadStream %s after %d: %v, want %v", st, after, got, want)
						}
					}
				}
				for stop := range events - len(holes) {
					i := 0
					for _, err := range s.ReadAll(context.Background(), 0) {
						if err != nil {
							t.Fatal(err)
						}
						if i == stop {
							break
						}
						i++
					}
					if n := s.read.Stats().InUse; n != 0 {
						t.Fatalf("stopping at event %d: %d read connections still in use", stop, n)
					}
				}
			})
		}
	}
}
