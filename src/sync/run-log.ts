/**
 * The run log: every run of an entity, kept by its coordinator (not in D1: recording a run costs
 * no D1 round trip, and a quiet cycle of a pull-only entity makes no D1 call). Pure rules here: which runs are idle, how many of
 * each are kept, and how the entities' logs merge into one listing.
 */
import type { RunOutcome, RunStats, SyncLogRun } from '../types.ts';

/** The newest this many runs that were not idle are kept per entity (two weeks of runs that all moved data, at a 600 s interval). */
export const RUN_LOG_LIMIT = 2_000;
/** Idle runs come every interval: the newest this many are kept per entity (10 to 20 hours at the 300 and 600 s intervals). */
export const IDLE_RUN_LOG_LIMIT = 120;
/**
 * The log is trimmed on every this-many-th entry, not on each: a trim reads past the kept runs
 * (SQLite storage bills rows read), and a backlog drain records a run every few hundred ms. Each
 * kind of run may so exceed its limit by fewer than this many between trims.
 */
export const RUN_LOG_TRIM_EVERY = 64;

/** A run that ended caught up having changed nothing: no row applied or deleted, none quarantined, no conflict. */
export function isIdleRun(outcome: RunOutcome, stats: RunStats): boolean {
  return outcome === 'caught-up' && stats.rowsApplied + stats.rowsDeleted + stats.rowsQuarantined + stats.conflicts === 0;
}

/** The newest `limit` runs of several entities' logs (each newest first), newest first; one log keeps its own order. */
export function mergeRunLogs(logs: readonly (readonly SyncLogRun[])[], limit: number): SyncLogRun[] {
  if (logs.length === 1) return (logs[0] ?? []).slice(0, limit);
  return logs
    .flat()
    .sort((a, b) => compareDesc(a.finishedAt, b.finishedAt) || compareDesc(a.startedAt, b.startedAt) || b.id - a.id)
    .slice(0, limit);
}

/** The listing of one entity's runs (entity named) or every entity's, from the logs read per entity. */
export function listRuns(byEntity: Readonly<Record<string, readonly SyncLogRun[]>>, entity: string | null, limit: number): SyncLogRun[] {
  return mergeRunLogs(entity === null ? Object.values(byEntity) : [byEntity[entity] ?? []], limit);
}

/** Newest first, for canonical ISO timestamps (they compare as text). */
function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
