// Package storetest implements support for testing implementations of
// eventstore.Store: a conformance suite that every backend runs, in the
// manner of testing/fstest and log/slog/slogtest.
//
// A backend's test calls Run with a Harness that opens an empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Open: func(t *testing.T) eventstore.Store {
//				s, err := mybackend.Open(filepath.Join(t.TempDir(), "log"))
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			},
//			Reopen:   …, // optional: idempotency across restarts
//			Tamper:   …, // optional: tamper evidence
//			OpenPath: …, // optional: crash safety
//		})
//	}
//
// Run checks, as subtests, every promise of the eventstore package: gap-free
// positions in commit order, stream versions, atomic multi-stream appends,
// optimistic concurrency conditions and the errors they return, validation,
// canonical payloads, idempotency by command id (also after Reopen), the hash
// chain (and, with Tamper, that Verify names the first altered position),
// appends and reads from many goroutines at once, Close, context
// cancellation, iterators that stop early, constant-memory reads, and a
// property-based comparison against a simple model (RunModel, using
// pgregory.net/rapid; raise its effort with -rapid.checks). Subtests whose
// Harness field is nil are skipped.
//
// With OpenPath set, the crash test re-executes the test binary, restricted
// to the test that called Run, as a child process that appends to a file in
// a loop; the parent kills it with SIGKILL while it is appending, and then
// checks that the log opens, verifies, keeps every append the child
// reported as committed and holds only whole appends. The child mode is
// selected by environment variables that only the parent sets, and only in
// the test whose full name they carry, so it never runs in a normal test run.
package storetest
