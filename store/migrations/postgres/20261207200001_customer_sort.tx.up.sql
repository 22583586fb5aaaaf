-- Sorting customers (issue 24): by name, latest event and deletion time,
-- each answered by an index, never a scan of every customer.
--
-- name_key is the last and first name as search folds them (case, accents,
-- ß/ø/æ… ignored), so the order is the same on SQLite and PostgreSQL
-- (compared byte by byte on both: COLLATE "C" here). It is computed in Go: NULL here makes
-- the store compute it for every customer after this migration, in
-- batches, before it serves (Store.backfillNameKeys).
ALTER TABLE customers ADD COLUMN name_key TEXT COLLATE "C";
--bun:split
CREATE INDEX customers_by_name ON customers (name_key, id) WHERE erased_at IS NULL;
--bun:split
-- Last interaction: the end of the latest event (future ones included).
CREATE INDEX customers_by_latest ON customers (latest_event_end, id) WHERE erased_at IS NULL;
--bun:split
-- Deletion time: the customers without one (a visit open, a legal hold)
-- come last, in id order; every other customer's deletion time grows with
-- its latest event end within its policy group (customers_due,
-- customers_due_status).
CREATE INDEX customers_undated ON customers (id) WHERE erased_at IS NULL AND (open_visits > 0 OR held_until IS NOT NULL);
