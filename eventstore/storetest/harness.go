package storetest

import (
	"testing"

	"github.com/accessledger/accessledger/eventstore"
)

// Harness tells the suite how to open and, where the backend allows it,
// reopen, tamper with and crash the backend under test. Only Open is
// required; the tests that need a missing field are skipped.
type Harness struct {
	// Open returns a new, empty store. The suite closes it.
	Open func(t *testing.T) eventstore.Store

	// Reopen closes s and opens the same log again, as a restarted process
	// would. Used for idempotency across restarts.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store

	// Tamper returns a Tamperer that changes the log stored by s behind the
	// store's back (for SQLite: raw SQL after dropping the triggers).
	Tamper func(t *testing.T, s eventstore.Store) Tamperer

	// OpenPath opens (creating if needed) a durable store at path. With it the
	// suite runs the crash test: a child process appending to path is killed
	// with SIGKILL, and the log must then open, verify and hold only whole
	// appends.
	OpenPath func(path string) (eventstore.Store, error)
}

// Tamperer rewrites a stored log the way an attacker with write access to
// the storage would, without recomputing any hash.
type Tamperer interface {
	// SetPayload replaces the stored payload of the event at pos.
	SetPayload(pos eventstore.Position, payload []byte) error
	// SetActorID replaces the stored metadata actor id of the event at pos.
	SetActorID(pos eventstore.Position, actorID string) error
	// Delete removes the event at pos.
	Delete(pos eventstore.Position) error
	// Swap exchanges the positions of the events at a and b.
	Swap(a, b eventstore.Position) error
}
