-- The run log moved into each entity's SyncCoordinator (its own SQLite storage, trimmed there;
-- src/sync/run-log.ts): a run no longer costs a D1 write, an idle engine costs D1 no writes at
-- all, and the log no longer grows without bound. GET /api/sync/log and the dashboard read the
-- coordinators. The D1 table (and with it its indexes) is dropped; the history they held is not carried
-- over (it was an audit trail of past runs, not synced data).
DROP TABLE IF EXISTS sync_log;
