-- The retention forecast counts deletion times per week and rule from this
-- index alone (a covering index: no table row is read), and sweeps find due
-- customers by its first column, so it replaces the plain one.
CREATE INDEX customers_forecast ON customers (deletion_time, anonymise_at, erase_at, held_until) WHERE deletion_time IS NOT NULL;
--bun:split
DROP INDEX customers_deletion_time;
