-- The identifiers a connector matches by, recorded on a journal entry when
-- Lethe's copy goes before the connectors acted (a HIDDEN purge), as JSON;
-- NULL otherwise and always once the entry closed.
ALTER TABLE journal_entries ADD COLUMN subject TEXT;
