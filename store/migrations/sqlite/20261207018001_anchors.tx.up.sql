-- Rules as queries (retention/cutoffs.go): a customer stores what happened,
-- never when Lethe will act. The anchors the rules read were already here
-- (latest_event_end, open_visits, status, status_changed_at, held_until,
-- erased_at); two are added, derived from the customer on every write:
--   policy_group: the assigned policy, or the automatic group its links
--     select (@none, @visits, @appointments, @both);
--   relinquished_mask: the relinquished core categories, one bit each in
--     the order of retention's maskCategories (cdr 1, contact 2,
--     custom_fields 4, invoice 8, visit_stats 16).
-- The stored times (erase_at, anonymise_at, deletion_time), their indexes
-- and the queue of their recomputations go.
ALTER TABLE customers ADD COLUMN policy_group TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE customers ADD COLUMN relinquished_mask INTEGER NOT NULL DEFAULT 0;
--bun:split
UPDATE customers SET
    policy_group = CASE
        WHEN policy_name IS NOT NULL THEN policy_name
        WHEN visit_count > 0 AND appointment_count > 0 THEN '@both'
        WHEN appointment_count > 0 THEN '@appointments'
        WHEN visit_count > 0 THEN '@visits'
        ELSE '@none' END,
    relinquished_mask = 0 + (CASE WHEN instr(relinquished, '"cdr"') > 0 THEN 1 ELSE 0 END) + (CASE WHEN instr(relinquished, '"contact"') > 0 THEN 2 ELSE 0 END) + (CASE WHEN instr(relinquished, '"custom_fields"') > 0 THEN 4 ELSE 0 END) + (CASE WHEN instr(relinquished, '"invoice"') > 0 THEN 8 ELSE 0 END) + (CASE WHEN instr(relinquished, '"visit_stats"') > 0 THEN 16 ELSE 0 END);
--bun:split
DROP INDEX customers_deletion_time;
--bun:split
DROP INDEX customers_anonymise_first;
--bun:split
DROP INDEX customers_policy;
--bun:split
ALTER TABLE customers DROP COLUMN erase_at;
--bun:split
ALTER TABLE customers DROP COLUMN anonymise_at;
--bun:split
ALTER TABLE customers DROP COLUMN deletion_time;
--bun:split
DROP TABLE schedule_recomputes;
--bun:split
-- (erased_at and open_visits close each index: constant in it, but SQLite
-- reads an index alone only when it holds every column the statement
-- names, and the statements name them to select the partial index.)
-- Erase ranges per group ("latest event ended at or before T - days") and
-- the sweep's keyset (group, latest end, id).
CREATE INDEX customers_due ON customers (policy_group, latest_event_end, id, erased_at, open_visits) WHERE erased_at IS NULL AND open_visits = 0;
--bun:split
-- Data-policy ranges: per group and status, the latest end bounds the
-- range, the status change and the mask are read from the index.
CREATE INDEX customers_due_status ON customers (policy_group, status, latest_event_end, status_changed_at, relinquished_mask, id, erased_at, open_visits) WHERE erased_at IS NULL AND open_visits = 0;
