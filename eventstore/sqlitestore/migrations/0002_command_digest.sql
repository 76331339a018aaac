-- The digest of the command an append carries out (eventstore.Metadata.
-- CommandDigest), empty for appends that give none and for every event
-- written before this migration.
ALTER TABLE events ADD COLUMN command_digest TEXT NOT NULL DEFAULT '';
