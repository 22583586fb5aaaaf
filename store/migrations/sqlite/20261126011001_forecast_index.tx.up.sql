-- The retention forecast counts deletion times per week from indexes only:
-- customers_deletion_time gives every customer's week; this one the
-- customers the data policy anonymises first (the rest are erased), and
-- customers_held the few whose legal hold outlasts their deletion time.
CREATE INDEX customers_anonymise_first ON customers (deletion_time, anonymise_at, erase_at) WHERE anonymise_at IS NOT NULL AND anonymise_at = deletion_time AND anonymise_at < erase_at;
--bun:split
CREATE INDEX customers_held ON customers (held_until) WHERE held_until IS NOT NULL;
