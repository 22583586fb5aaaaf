-- The audit log becomes a hash chain (auditchain/): each row gets its place
-- in the chain, the hash of the event before it and its own hash. Rows that
-- exist already are chained right after this migration, in seq order
-- (store/auditchain.go, chainPending).
ALTER TABLE audit_log ADD COLUMN chain_pos BIGINT;
--bun:split
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
--bun:split
ALTER TABLE audit_log ADD COLUMN hash TEXT;
--bun:split
CREATE INDEX audit_log_chain_pos ON audit_log (chain_pos);
--bun:split
-- The one head of the chain: every append reads and moves it in its
-- transaction, which is what keeps one chain with several writers.
CREATE TABLE audit_chain_head (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pos            BIGINT NOT NULL,
    hash           TEXT NOT NULL,
    checkpoint_pos BIGINT NOT NULL,
    checkpoint_at  BIGINT NOT NULL
);
--bun:split
INSERT INTO audit_chain_head (id, pos, hash, checkpoint_pos, checkpoint_at) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, 0);
--bun:split
-- Signed checkpoints: "event pos has hash hash", signed with Ed25519.
CREATE TABLE audit_checkpoints (
    pos       BIGINT PRIMARY KEY,
    hash      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
--bun:split
-- Still append-only, except that a row not yet chained may be given its
-- chain columns once (the chaining of the rows written before this
-- migration); nothing else of a row can change.
DROP TRIGGER audit_log_no_update;
--bun:split
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.hash IS NULL AND NEW.seq IS OLD.seq AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor
    AND NEW.action IS OLD.action AND NEW.subject IS OLD.subject AND NEW.details IS OLD.details)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
--bun:split
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
--bun:split
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
