-- The retention forecast counts deletion times per week and rule from this
-- index alone (an index-only scan), and sweeps find due customers by its key,
-- so it replaces the plain one.
CREATE INDEX customers_forecast ON customers (deletion_time) INCLUDE (anonymise_at, erase_at, held_until) WHERE deletion_time IS NOT NULL;
--bun:split
DROP INDEX customers_deletion_time;
