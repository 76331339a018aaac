// Package sqlitestore is the durable eventstore backend: the event log in
// one SQLite file, through modernc.org/sqlite (pure Go, no cgo). It is named
// so that it never clashes with the driver's own package name.
//
// It keeps every promise of eventstore.Store (the conformance suite in
// eventstore/storetest checks them) and survives restarts and crashes:
//
//   - The file is in WAL mode with synchronous=FULL unless Options says
//     otherwise, so an append that returned is on disk.
//   - Writes go through one connection with BEGIN IMMEDIATE. A position is
//     handed out inside the writing transaction as head + 1, so positions
//     are gap-free and in commit order. Reads use a separate pool of
//     read-only connections and never wait for a write.
//   - The schema refuses UPDATE and DELETE of events (triggers); command ids
//     live in a commands table written in the same transaction, so a
//     repeated command is recognised after a restart too.
//   - Appends that arrive together are written in one transaction (group
//     commit), without a background goroutine: the first appender to find
//     no commit under way becomes the leader and writes everything queued,
//     while the others wait for their result (when the last commit was
//     shared, the leader waits briefly for as many appends as it saw, so
//     that concurrent appenders share one commit instead of taking turns in
//     two groups). Each append is still checked
//     against its own Condition, in arrival order, and fails or succeeds on
//     its own; a failure of the commit itself reaches every append of the
//     group that wrote, as an outcome unknown (eventstore.ErrOutcomeUnknown):
//     a COMMIT whose fsync failed may still be in the log once SQLite
//     recovers its WAL. A conflict, or the repeat of a command already in
//     the log, keeps its answer.
//   - ReadAll and ReadStream page through the log by position (or version)
//     in constant memory; they never use OFFSET.
//
// The schema (migrations/*.sql, applied on open and recorded in
// schema_migrations) keeps times as INTEGER Unix nanoseconds, hashes as
// 32-byte BLOBs and payloads as the canonical JSON text that was hashed.
package sqlitestore
