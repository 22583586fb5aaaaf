-- The batches of a run, planned as rows so that every replica running
-- sweeps claims them (DESIGN.md "Scale-out"). Each claim carries its own
-- holder, expiry (its term) and epoch, the fencing token every write of the
-- batch checks; entry_ids is the JSON array of the batch's journal entries.
CREATE TABLE sweep_batches (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry_ids TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    holder TEXT NOT NULL DEFAULT '',
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    done_by TEXT NOT NULL DEFAULT ''
);
-- The claim's search (open batches, in planning order) and a run's counts.
CREATE INDEX sweep_batches_open ON sweep_batches (status, seq);
CREATE INDEX sweep_batches_run ON sweep_batches (run_id, status);
