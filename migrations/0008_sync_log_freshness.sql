-- Freshness and the dashboard's default run listing (docs/operations.md, "Freshness").

-- Per run that applied pulled rows: the newest applied row's updated_at (canonical) and how long
-- it took from that updated_at to the apply in D1. NULL for runs that applied none.
ALTER TABLE sync_log ADD COLUMN pull_newest_applied_at TEXT;
ALTER TABLE sync_log ADD COLUMN pull_lag_ms INTEGER;

-- Runs that are not idle (they moved data, failed, were fenced or had more to do), newest first,
-- without walking past the idle runs an engine writes every interval. The WHERE term is repeated
-- as is in src/stores/sync-log.ts (NOT_IDLE): SQLite uses a partial index only then. Idle runs
-- are not in these indexes, so they cost no index writes.
CREATE INDEX IF NOT EXISTS sync_log_active
  ON sync_log (id) WHERE (outcome <> 'caught-up' OR rows_applied + rows_deleted + rows_quarantined + conflicts > 0);
CREATE INDEX IF NOT EXISTS sync_log_entity_active
  ON sync_log (entity, id) WHERE (outcome <> 'caught-up' OR rows_applied + rows_deleted + rows_quarantined + conflicts > 0);
