-- The audit log becomes a hash chain (auditchain/): each row gets its place
-- in the chain, the hash of the event before it and its own hash. Rows that
-- exist already are chained right after this migration, in seq order
-- (store/auditchain.go, chainPending).
ALTER TABLE audit_log ADD COLUMN chain_pos BIGINT, ADD COLUMN prev_hash TEXT, ADD COLUMN hash TEXT;
--bun:split
CREATE INDEX audit_log_chain_pos ON audit_log (chain_pos);
--bun:split
-- The one head of the chain. Every append locks this row (SELECT … FOR
-- UPDATE) right before it inserts and moves it, in its transaction: the
-- replicas' appends queue on it, so there is one chain in one order.
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
DROP TRIGGER audit_log_no_change ON audit_log;
--bun:split
CREATE TRIGGER audit_log_no_delete BEFORE DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
--bun:split
CREATE FUNCTION audit_log_chain_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.hash IS NULL AND NEW.seq = OLD.seq AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
        AND NEW.action = OLD.action AND NEW.subject IS NOT DISTINCT FROM OLD.subject
        AND NEW.details IS NOT DISTINCT FROM OLD.details THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
--bun:split
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain_once();
--bun:split
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
