-- Times are integer microseconds since the Unix epoch (UTC) in both
-- dialects (see the SQLite twin). The normalised search columns use the "C"
-- collation so that prefix ranges compare bytes and use the btree indexes.
CREATE TABLE retention_policies (
    name           TEXT PRIMARY KEY,
    description    TEXT NOT NULL,
    retention_days INTEGER NOT NULL CHECK (retention_days BETWEEN 0 AND 3650),
    default_days   INTEGER NOT NULL,
    built_in       BOOLEAN NOT NULL,
    version        INTEGER NOT NULL,
    updated_at     BIGINT NOT NULL
);
--bun:split
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
--bun:split
CREATE TABLE customers (
    id                TEXT PRIMARY KEY,
    first_name        TEXT,
    last_name         TEXT,
    email             TEXT,
    phone             TEXT,
    first_norm        TEXT COLLATE "C",
    last_norm         TEXT COLLATE "C",
    full_norm         TEXT COLLATE "C",
    email_norm        TEXT COLLATE "C",
    phone_digits      TEXT COLLATE "C",
    status            TEXT NOT NULL,
    status_changed_at BIGINT,
    created_at        BIGINT NOT NULL,
    touched_at        BIGINT NOT NULL,
    policy_name       TEXT REFERENCES retention_policies (name),
    latest_event_end  BIGINT NOT NULL,
    latest_event_kind TEXT NOT NULL,
    open_visits       INTEGER NOT NULL DEFAULT 0,
    visit_count       INTEGER NOT NULL DEFAULT 0,
    appointment_count INTEGER NOT NULL DEFAULT 0,
    anonymised_at     BIGINT,
    erased_at         BIGINT,
    erase_at          BIGINT,
    anonymise_at      BIGINT,
    deletion_time     BIGINT,
    held_until        BIGINT
);
--bun:split
CREATE INDEX customers_deletion_time ON customers (deletion_time) WHERE deletion_time IS NOT NULL;
--bun:split
CREATE INDEX customers_policy ON customers (policy_name, visit_count, appointment_count);
--bun:split
CREATE INDEX customers_first_norm ON customers (first_norm) WHERE first_norm IS NOT NULL;
--bun:split
CREATE INDEX customers_last_norm ON customers (last_norm) WHERE last_norm IS NOT NULL;
--bun:split
CREATE INDEX customers_full_norm ON customers (full_norm) WHERE full_norm IS NOT NULL;
--bun:split
CREATE INDEX customers_email_norm ON customers (email_norm) WHERE email_norm IS NOT NULL;
--bun:split
CREATE INDEX customers_phone_digits ON customers (phone_digits) WHERE phone_digits IS NOT NULL;
--bun:split
CREATE TABLE appointments (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL
);
--bun:split
CREATE INDEX appointments_customer ON appointments (customer_id, starts_at);
--bun:split
CREATE TABLE visits (
    id                 TEXT PRIMARY KEY,
    customer_id        TEXT REFERENCES customers (id),
    visitor_first_name TEXT,
    visitor_last_name  TEXT,
    visitor_email      TEXT,
    visitor_phone      TEXT,
    started_at         BIGINT NOT NULL,
    ended_at           BIGINT,
    custom_fields      TEXT NOT NULL,
    field_storage      TEXT NOT NULL
);
--bun:split
CREATE INDEX visits_customer ON visits (customer_id, started_at) WHERE customer_id IS NOT NULL;
--bun:split
CREATE INDEX visits_open ON visits (started_at) WHERE ended_at IS NULL;
--bun:split
CREATE TABLE legal_holds (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    reason      TEXT NOT NULL,
    placed_at   BIGINT NOT NULL,
    until       BIGINT,
    released_at BIGINT
);
--bun:split
CREATE INDEX legal_holds_customer ON legal_holds (customer_id);
