-- Sync bookkeeping kept in D1 next to the data: the audit trail of runs, integrity results,
-- the outbox that records edge writes for push, and the guard that keeps the engine's own
-- writes out of the outbox (no ping-pong).

-- One row per sync run of any entity, newest last.
CREATE TABLE IF NOT EXISTS sync_log (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id           TEXT NOT NULL,
  entity           TEXT NOT NULL,
  direction        TEXT NOT NULL,
  trigger          TEXT NOT NULL,
  started_at       TEXT NOT NULL,
  finished_at      TEXT NOT NULL,
  outcome          TEXT NOT NULL,
  pages            INTEGER NOT NULL DEFAULT 0,
  rows_read        INTEGER NOT NULL DEFAULT 0,
  rows_applied     INTEGER NOT NULL DEFAULT 0,
  rows_deleted     INTEGER NOT NULL DEFAULT 0,
  rows_skipped     INTEGER NOT NULL DEFAULT 0,
  rows_quarantined INTEGER NOT NULL DEFAULT 0,
  conflicts        INTEGER NOT NULL DEFAULT 0,
  error            TEXT
);
CREATE INDEX IF NOT EXISTS sync_log_entity_id ON sync_log (entity, id);

-- Results of consistency checks, one row per check per integrity run.
CREATE TABLE IF NOT EXISTS integrity_results (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  check_name TEXT NOT NULL,
  entity     TEXT,
  severity   TEXT NOT NULL,
  count      INTEGER NOT NULL DEFAULT 0,
  details    TEXT,
  fixed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS integrity_results_run ON integrity_results (run_id);

-- Every insert/update/delete of a pushed table, in commit order (SQLite serialises writers,
-- so seq order is commit order). AUTOINCREMENT: a seq is never reused after pruning.
CREATE TABLE IF NOT EXISTS sync_outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  entity     TEXT NOT NULL,
  row_id     TEXT NOT NULL,
  op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX IF NOT EXISTS sync_outbox_entity_seq ON sync_outbox (entity, seq);

-- applying = 1 only inside the engine's own apply batches (a D1 batch is one transaction,
-- so no other writer ever sees it set). Outbox triggers skip those writes.
CREATE TABLE IF NOT EXISTS sync_apply_guard (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  applying INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO sync_apply_guard (id, applying) VALUES (1, 0);
