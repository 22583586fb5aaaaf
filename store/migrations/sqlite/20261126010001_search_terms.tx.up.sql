-- Search terms (issue 10): folded, accent-free words of names, the email and
-- the phone's digit forms, one row per term and customer, so that a prefix
-- search reads an index only and stops after a page. customers.search_words
-- holds the same terms as one string (" f:anna l:fischer … "), which the
-- page query checks for the other words of a multi-word search. The terms
-- are computed in Go (phone numbers need a phone-number library): rows with
-- search_words NULL are filled in by the store right after this migration,
-- in batches, and the partial index finds them.
CREATE TABLE customer_terms (
    term        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (term, customer_id)
) WITHOUT ROWID;
--bun:split
ALTER TABLE customers ADD COLUMN search_words TEXT;
--bun:split
CREATE INDEX customers_search_pending ON customers (id) WHERE search_words IS NULL;
--bun:split
DROP INDEX customers_first_norm;
--bun:split
DROP INDEX customers_last_norm;
--bun:split
DROP INDEX customers_full_norm;
--bun:split
DROP INDEX customers_email_norm;
--bun:split
DROP INDEX customers_phone_digits;
--bun:split
ALTER TABLE customers DROP COLUMN first_norm;
--bun:split
ALTER TABLE customers DROP COLUMN last_norm;
--bun:split
ALTER TABLE customers DROP COLUMN full_norm;
--bun:split
ALTER TABLE customers DROP COLUMN email_norm;
--bun:split
ALTER TABLE customers DROP COLUMN phone_digits;
