-- The retention engine's journal: runs, one entry per customer to relinquish,
-- one action per connector operation. Actions are written before any is sent,
-- and an entry is closed in the same transaction that erases or anonymises the
-- core record, so a crash at any point leaves a journal to resume from.
-- Nothing here is personal data: ids, policies, categories, outcomes, counts.
CREATE TABLE retention_runs (
    id                TEXT PRIMARY KEY,
    dry_run           INTEGER NOT NULL,
    status            TEXT NOT NULL,
    trigger_name      TEXT NOT NULL,
    actor             TEXT NOT NULL,
    as_of             BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT,
    heartbeat_at      BIGINT NOT NULL,
    customers_planned INTEGER NOT NULL DEFAULT 0,
    customers_done    INTEGER NOT NULL DEFAULT 0,
    customers_failed  INTEGER NOT NULL DEFAULT 0,
    customers_skipped INTEGER NOT NULL DEFAULT 0,
    actions_planned   INTEGER NOT NULL DEFAULT 0,
    error             TEXT
);
--bun:split
CREATE INDEX retention_runs_started ON retention_runs (started_at);
--bun:split
CREATE TABLE journal_entries (
    id              TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL REFERENCES retention_runs (id),
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    kind            TEXT NOT NULL,
    policy_name     TEXT NOT NULL,
    policy_version  INTEGER NOT NULL,
    rule            TEXT NOT NULL,
    due_at          BIGINT NOT NULL,
    planned_at      BIGINT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    closed_at       BIGINT
);
--bun:split
-- At most one open entry per customer: a customer is never planned twice.
CREATE UNIQUE INDEX journal_entries_open_customer ON journal_entries (customer_id) WHERE status = 'open';
--bun:split
CREATE INDEX journal_entries_open ON journal_entries (status, next_attempt_at, id);
--bun:split
CREATE INDEX journal_entries_run ON journal_entries (run_id, status, id);
--bun:split
CREATE TABLE journal_actions (
    id          TEXT PRIMARY KEY,
    entry_id    TEXT NOT NULL REFERENCES journal_entries (id),
    run_id      TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    connector   TEXT NOT NULL,
    operation   TEXT NOT NULL,
    categories  TEXT NOT NULL,
    status      TEXT NOT NULL,
    outcome     TEXT,
    records     INTEGER NOT NULL DEFAULT 0,
    reason      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL
);
--bun:split
CREATE INDEX journal_actions_entry ON journal_actions (entry_id);
--bun:split
CREATE INDEX journal_actions_run ON journal_actions (run_id, id);
--bun:split
-- What a dry run would do, kept so that retentionRun(id) can list it.
CREATE TABLE run_plans (
    run_id      TEXT NOT NULL REFERENCES retention_runs (id),
    seq         INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    connector   TEXT NOT NULL,
    action      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
--bun:split
-- One sweep at a time across every process and replica: a lease that the
-- sweeping process renews; a crashed holder's lease simply expires.
CREATE TABLE sweep_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
