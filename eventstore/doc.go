// Package eventstore is the vocabulary of accessledger's event log: the
// stored Event and its envelope, what an append may expect (Condition), the
// errors a backend returns, the hash chain that makes the log
// tamper-evident (Seal, Verify) and the upcasters that turn old payloads
// into the current shape.
//
// The log is append-only. Every event belongs to one stream (one stream per
// domain object, such as "accessPackage/<uuid>") and carries its 1-based
// version in that stream and a gap-free global Position handed out inside
// the writing transaction, so a reader that has seen position N has seen
// every event below it. Each event's Hash covers the previous event's hash
// and the canonical bytes of its own envelope (see CanonicalBytes and
// docs/event-format.md), so changing, removing or reordering a stored
// event before the last is found by Verify. Removing events from the end
// leaves a shorter chain that verifies: a head kept elsewhere (Verify's
// result, signed) or a backend's own cross-check (sqlitestore's
// CrossCheck) finds that.
//
// Backends live in subpackages: memstore (in memory) and sqlitestore
// (modernc.org/sqlite). Both pass the conformance suite in storetest.
package eventstore
