package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/storetest"
)

// harness is how the conformance suite opens, reopens, tampers with and
// crashes this backend.
func harness() storetest.Harness {
	return storetest.Harness{
		Open: func(t *testing.T) eventstore.Store {
			t.Helper()
			return openTemp(t, Options{})
		},
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			t.Helper()
			path := s.(*Store).path
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
		Tamper: func(t *testing.T, s eventstore.Store) storetest.Tamperer {
			return tamperer{s.(*Store)}
		},
		OpenPath: func(path string) (eventstore.Store, error) {
			return Open(path, Options{})
		},
	}
}

// openTemp opens a store in a new file in t's temporary directory and
// closes it when the test ends.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "events.db"), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tamperer rewrites the log behind the store's back with raw SQL on the
// store's own write connection, after dropping the append-only triggers.
type tamperer struct{ s *Store }

func (tp tamperer) exec(stmts ...string) func(args ...[]any) error {
	return func(args ...[]any) error {
		s := tp.s
		s.wmu.Lock()
		defer s.wmu.Unlock()
		if s.closed.Load() {
			return eventstore.ErrClosed
		}
		// Writes on the store's own connection do not change its PRAGMA
		// data_version: drop the writer's cache by hand.
		s.w.cache.drop()
		ctx := context.Background()
		for _, q := range []string{
			"DROP TRIGGER IF EXISTS events_no_update",
			"DROP TRIGGER IF EXISTS events_no_delete",
		} {
			if _, err := s.w.conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("tamper: %s: %w", q, err)
			}
		}
		for i, q := range stmts {
			var a []any
			if i < len(args) {
				a = args[i]
			}
			res, err := s.w.conn.ExecContext(ctx, q, a...)
			if err != nil {
				return fmt.Errorf("tamper: %s: %w", q, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("tamper: %s: changed %d rows", q, n)
			}
		}
		return nil
	}
}

func (tp tamperer) SetPayload(pos eventstore.Position, payload []byte) error {
	return tp.exec("UPDATE events SET payload = ? WHERE position = ?")([]any{string(payload), int64(pos)})
}

func (tp tamperer) SetActorID(pos eventstore.Position, actorID string) error {
	return tp.exec("UPDATE events SET actor_id = ? WHERE position = ?")([]any{actorID, int64(pos)})
}

func (tp tamperer) Delete(pos eventstore.Position) error {
	return tp.exec("DELETE FROM events WHERE position = ?")([]any{int64(pos)})
}

func (tp tamperer) Swap(a, b eventstore.Position) error {
	return tp.exec(
		"UPDATE events SET position = -1 WHERE position = ?",
		"UPDATE events SET position = ? WHERE position = ?",
		"UPDATE events SET position = ? WHERE position = -1",
	)([]any{int64(a)}, []any{int64(a), int64(b)}, []any{int64(b)})
}
