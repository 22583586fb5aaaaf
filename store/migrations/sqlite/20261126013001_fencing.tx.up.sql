-- Fencing: every acquisition of a lease by a new holder increments its epoch
-- (see the PostgreSQL twin).
ALTER TABLE sweep_lease ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
--bun:split
-- Queued recomputations of stored schedules after a policy change, applied
-- in chunks (see the PostgreSQL twin).
CREATE TABLE schedule_recomputes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    policy_name TEXT,
    after_id    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
