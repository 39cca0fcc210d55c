/**
 * The sync_log audit trail in D1: one row per run of any entity, written by the coordinator when
 * a run ends and read by GET /api/sync/log and the dashboard.
 */
import type { Direction } from '../entities.ts';
import type { IdleRuns, PullLag, RunOutcome, RunStats, RunTrigger, SyncLogRun } from '../types.ts';

/** One run, as the coordinator records it. */
export interface SyncLogEntry extends RunStats {
  runId: string;
  entity: string;
  direction: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  outcome: string;
  error: string | null;
  pullLag: PullLag | null;
}

/** Appends a run to sync_log. */
export async function writeSyncLog(db: D1Database, e: SyncLogEntry): Promise<void> {
  await db
    .prepare(
      `INSERT INTO sync_log (run_id, entity, direction, trigger, started_at, finished_at, outcome, pages, rows_read,
         rows_applied, rows_deleted, rows_skipped, rows_quarantined, conflicts, error, pull_newest_applied_at, pull_lag_ms)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)`,
    )
    .bind(
      e.runId,
      e.entity,
      e.direction,
      e.trigger,
      e.startedAt,
      e.finishedAt,
      e.outcome,
      e.pages,
      e.rowsRead,
      e.rowsApplied,
      e.rowsDeleted,
      e.rowsSkipped,
      e.rowsQuarantined,
      e.conflicts,
      e.error,
      e.pullLag?.newestAppliedAt ?? null,
      e.pullLag?.lagMs ?? null,
    )
    .run();
}

/**
 * A run that is not idle. Written exactly as the partial indexes of
 * migrations/0008_sync_log_freshness.sql are: SQLite uses a partial index only when the query
 * carries its WHERE term as is (test/worker/dashboard.test.ts checks the plan).
 */
const NOT_IDLE = `(outcome <> 'caught-up' OR rows_applied + rows_deleted + rows_quarantined + conflicts > 0)`;

const COLUMNS = `id, run_id, entity, direction, trigger, started_at, finished_at, outcome, pages, rows_read, rows_applied,
  rows_deleted, rows_skipped, rows_quarantined, conflicts, error, pull_newest_applied_at, pull_lag_ms`;

/** The newest runs of one entity (or all), idle ones left out when asked. */
function newestRuns(db: D1Database, entity: string | null, limit: number, idle: IdleRuns): D1PreparedStatement {
  const where = [...(entity === null ? [] : ['entity = ?2']), ...(idle === 'exclude' ? [NOT_IDLE] : [])];
  const sql = `SELECT ${COLUMNS} FROM sync_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?1`;
  return entity === null ? db.prepare(sql).bind(limit) : db.prepare(sql).bind(limit, entity);
}

/** What to list from sync_log. */
export interface SyncLogQuery {
  /** One entity, or null for all. */
  entity: string | null;
  limit: number;
  idle: IdleRuns;
}

/** The newest runs, newest first, shaped like RunSummary. */
export async function readSyncLog(db: D1Database, query: SyncLogQuery): Promise<SyncLogRun[]> {
  const { results } = await newestRuns(db, query.entity, query.limit, query.idle).all<SyncLogRow>();
  return results.map(toRun);
}

/** The newest runs of each entity named, newest first: one D1 round trip, one index range per entity. */
export async function readSyncLogPerEntity(
  db: D1Database,
  entities: readonly string[],
  limit: number,
  idle: IdleRuns,
): Promise<Record<string, SyncLogRun[]>> {
  if (entities.length === 0) return {};
  const results = await db.batch<SyncLogRow>(entities.map((e) => newestRuns(db, e, limit, idle)));
  return Object.fromEntries(entities.map((e, i) => [e, (results[i]?.results ?? []).map(toRun)]));
}

interface SyncLogRow {
  id: number;
  run_id: string;
  entity: string;
  direction: string;
  trigger: string;
  started_at: string;
  finished_at: string;
  outcome: string;
  pages: number;
  rows_read: number;
  rows_applied: number;
  rows_deleted: number;
  rows_skipped: number;
  rows_quarantined: number;
  conflicts: number;
  error: string | null;
  pull_newest_applied_at: string | null;
  pull_lag_ms: number | null;
}

function toRun(r: SyncLogRow): SyncLogRun {
  return {
    id: r.id,
    runId: r.run_id,
    entity: r.entity,
    // Written by the coordinator from the registry and its own types.
    direction: r.direction as Direction,
    trigger: r.trigger as RunTrigger,
    outcome: r.outcome as RunOutcome,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stats: {
      pages: r.pages,
      rowsRead: r.rows_read,
      rowsApplied: r.rows_applied,
      rowsDeleted: r.rows_deleted,
      rowsSkipped: r.rows_skipped,
      rowsQuarantined: r.rows_quarantined,
      conflicts: r.conflicts,
    },
    error: r.error,
    pullLag:
      r.pull_newest_applied_at === null || r.pull_lag_ms === null
        ? null
        : { newestAppliedAt: r.pull_newest_applied_at, lagMs: r.pull_lag_ms },
  };
}
