-- Relinquishing is tracked per data category (contact, cdr, invoice,
-- visit_stats, custom_fields, a connector's own): customers.relinquished is a
-- JSON object of category to the microseconds it was first relinquished, and
-- each journal entry lists the categories it relinquishes.
ALTER TABLE customers ADD COLUMN relinquished TEXT NOT NULL DEFAULT '{}';
--bun:split
ALTER TABLE journal_entries ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
--bun:split
-- Who asked for a manual erasure (journaled like a sweep's since this
-- migration); NULL when a rule made the customer due.
ALTER TABLE journal_entries ADD COLUMN requested_by TEXT;
--bun:split
-- A customer's entries, for the derivation below and erasure receipts.
CREATE INDEX journal_entries_customer ON journal_entries (customer_id, status);
--bun:split
-- What each existing entry relinquishes, from what it was planned to do
-- (the rule it recorded), never from today's policy: an erasure everything,
-- an anonymisation what its rule's switches named.
UPDATE journal_entries SET categories = CASE
    WHEN kind = 'erase' THEN '["cdr","contact","custom_fields","invoice","visit_stats"]'
    WHEN rule LIKE '%anonymise=true, removeCDRs=true%' THEN '["cdr","contact","custom_fields","invoice"]'
    WHEN rule LIKE '%anonymise=true%' THEN '["contact","custom_fields","invoice"]'
    WHEN rule LIKE '%removeCDRs=true%' THEN '["cdr"]'
    ELSE '[]' END;
--bun:split
-- A customer's categories are those of its entries that were done, each at
-- the first time it was done.
UPDATE customers SET relinquished = COALESCE((
    SELECT jsonb_object_agg(cat, at)::text FROM (
        SELECT j.value AS cat, MIN(e.closed_at) AS at
        FROM journal_entries e, jsonb_array_elements_text(e.categories::jsonb) j
        WHERE e.customer_id = customers.id AND e.status = 'done' AND e.closed_at IS NOT NULL
        GROUP BY j.value) d), '{}')
WHERE EXISTS (SELECT 1 FROM journal_entries e WHERE e.customer_id = customers.id AND e.status = 'done');
--bun:split
-- An erased customer (by a sweep or, unjournaled until now, by hand) has
-- relinquished everything at its erasure; earlier times are kept.
UPDATE customers SET relinquished = (jsonb_build_object('cdr', erased_at, 'contact', erased_at, 'custom_fields', erased_at,
    'invoice', erased_at, 'visit_stats', erased_at) || relinquished::jsonb)::text
WHERE erased_at IS NOT NULL;
--bun:split
-- anonymisedAt now means contact data was anonymised, nothing else: a
-- CDR-only run no longer counts.
UPDATE customers SET anonymised_at = NULL
WHERE anonymised_at IS NOT NULL AND erased_at IS NULL AND strpos(relinquished, '"contact"') = 0;
--bun:split
-- Visit data brought into line (recorded in the audit log first): Lethe's
-- copy of custom fields goes once the visit has ended and its statistics
-- were delivered, and with the contact data of an anonymised customer.
INSERT INTO audit_log (id, at, actor, action, subject, details)
SELECT 'aud_migration_20261126008001', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, 'migration',
    'visit.customFields.purge', NULL, '{"visits":' || COUNT(*) || ',"reason":"ended and delivered, or of an anonymised or erased customer"}'
FROM visits
WHERE custom_fields <> '[]' AND ((ended_at IS NOT NULL AND stats_pending = 0) OR customer_id IN (
    SELECT id FROM customers WHERE strpos(relinquished, '"contact"') > 0))
HAVING COUNT(*) > 0;
--bun:split
UPDATE visits SET custom_fields = '[]'
WHERE custom_fields <> '[]' AND ((ended_at IS NOT NULL AND stats_pending = 0) OR customer_id IN (
    SELECT id FROM customers WHERE strpos(relinquished, '"contact"') > 0));
