-- An ended visit waits here until every connector that records visits has
-- it: a statistics store that is down when the visit ends gets it later.
ALTER TABLE visits ADD COLUMN stats_pending INTEGER NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX visits_stats_pending ON visits (ended_at, id) WHERE stats_pending = 1;
