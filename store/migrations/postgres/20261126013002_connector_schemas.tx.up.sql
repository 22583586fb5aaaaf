-- With Lethe on PostgreSQL, the built-in connectors keep their stores in
-- this database too, each in a schema of its own (their dsn names it in
-- search_path), so that the plugins of every replica share one store per
-- connector. Lethe never reads or writes these schemas itself.
CREATE SCHEMA IF NOT EXISTS connector_cdrstore;
--bun:split
CREATE SCHEMA IF NOT EXISTS connector_invoicestore;
--bun:split
CREATE SCHEMA IF NOT EXISTS connector_statdb;
