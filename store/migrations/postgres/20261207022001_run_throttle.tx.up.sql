-- Sweep pacing (retention.Engine.MaxRate, --sweep-max-rate): how long a run
-- waited to keep its pace.
ALTER TABLE retention_runs ADD COLUMN throttled_seconds DOUBLE PRECISION NOT NULL DEFAULT 0;
