-- Fencing: every acquisition of a lease by a new holder increments its epoch.
-- A sweeper proves, in the same transaction as every change it makes, that
-- the lease still carries its holder name and epoch; a process that lost the
-- lease (frozen past its expiry, then resumed) changes nothing. The same
-- table holds the scheduler's leader lease (name 'leader').
ALTER TABLE sweep_lease ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
--bun:split
-- Policy and data-policy changes commit at once and recompute the stored
-- schedules afterwards in chunks, each its own transaction, so that writers
-- never wait for a recomputation of every customer. A queued job survives a
-- crash: after_id is how far its chunks got, and the next process (or the
-- next sweep, before it plans) finishes it.
CREATE TABLE schedule_recomputes (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    policy_name TEXT,
    after_id    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
