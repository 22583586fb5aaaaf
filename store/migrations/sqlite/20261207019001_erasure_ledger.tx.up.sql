-- The erasure ledger's positions this database has applied (DESIGN.md
-- "Erased stays erased"): one row per append, written in the transaction
-- that marks the appended customers relinquished, so the database's
-- position (the largest seq) is never ahead of the ledger file. A database
-- restored from an older backup is behind the ledger; Lethe re-applies the
-- later records before it serves. The hash lets a start tell a ledger that
-- was truncated or replaced from one that only moved on.
CREATE TABLE erasure_ledger_applied (
    seq         BIGINT PRIMARY KEY,
    hash        TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
