-- API tokens and the audit log.
--
-- A token's secret is never stored: only its SHA-256 hash (hex), which is
-- what a request's token is looked up by. A revoked token keeps its row, so
-- that `lethe token list` and the audit log can still name it; a name may be
-- reused once its token is revoked.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
--bun:split
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
--bun:split
-- The audit log: who did what to which subject, with the change. Nothing
-- here is personal data (ids, policy and field names, counts, old and new
-- settings). seq orders it; id is the opaque id clients see.
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL UNIQUE,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    details TEXT
);
--bun:split
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
--bun:split
-- Append-only: the store never updates or deletes a row, and the database
-- refuses it too, so that a bug or a hand-written statement cannot rewrite
-- history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
--bun:split
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
