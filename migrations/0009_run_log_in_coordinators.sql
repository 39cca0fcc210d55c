-- The run log moved into each entity's SyncCoordinator (its own SQLite storage, trimmed there;
-- src/sync/run-log.ts): recording a run no longer costs a D1 round trip and write (a quiet cycle
-- of a pull-only entity makes no D1 call at all), and the log no longer grows without bound.
-- GET /api/sync/log and the dashboard read the coordinators. The D1 table (and with it its
-- indexes) is dropped; the history it held is not carried over (an audit trail of past runs, not
-- synced data).
DROP TABLE IF EXISTS sync_log;
