-- Search terms, second version (issue 24): every part of a compound,
-- hyphenated or apostrophe name, ß/ø/æ/ł written in plain Latin letters,
-- German umlauts written out, the words of an email's local part, and a
-- phone's digits reversed (its last digits). The terms are computed in Go:
-- clearing them here makes the store compute every customer's terms again
-- right after this migration (search_words NULL), in batches, before it
-- serves.
DELETE FROM customer_terms;
--bun:split
UPDATE customers SET search_words = NULL WHERE search_words IS NOT NULL;
