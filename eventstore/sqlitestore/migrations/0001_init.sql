-- The event log. One row per event; position is the rowid, handed out
-- inside the writing transaction as head + 1. Times are Unix nanoseconds
-- (UTC), hashes are 32-byte SHA-256 digests, the payload is canonical JSON
-- (RFC 8785) exactly as eventstore.Prepare produced it. The id is the ULID
-- in its 26-character text form.
CREATE TABLE events (
	position       INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL,
	stream         TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	schema_version INTEGER NOT NULL,
	occurred_at    INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	actor_id       TEXT    NOT NULL,
	actor_kind     TEXT    NOT NULL,
	on_behalf_of   TEXT    NOT NULL,
	correlation_id TEXT    NOT NULL,
	causation_id   TEXT    NOT NULL,
	command_id     TEXT    NOT NULL,
	payload        TEXT    NOT NULL,
	prev_hash      BLOB    NOT NULL,
	hash           BLOB    NOT NULL,
	UNIQUE (stream, version)
) STRICT;

-- One row per append, for idempotency: the first append with a command id
-- wrote the events first_position..last_position. Written in the same
-- transaction as the events. (One row per command rather than an index on
-- events.command_id: a large append adds one index entry, not one per event.)
CREATE TABLE commands (
	command_id     TEXT    PRIMARY KEY,
	first_position INTEGER NOT NULL,
	last_position  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Append-only: the past changes only by appending.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'accessledger: events are append-only: UPDATE refused'); END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'accessledger: events are append-only: DELETE refused'); END;

CREATE TRIGGER commands_no_update BEFORE UPDATE ON commands
BEGIN SELECT RAISE(ABORT, 'accessledger: commands are append-only: UPDATE refused'); END;

CREATE TRIGGER commands_no_delete BEFORE DELETE ON commands
BEGIN SELECT RAISE(ABORT, 'accessledger: commands are append-only: DELETE refused'); END;
