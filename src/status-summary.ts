/** The original spec's overall status, summarised from every coordinator's status (pure). */
import { pulls, pushes } from './entities.ts';
import type { EntityStatus } from './types.ts';

/** One direction's summary, as the original spec's SyncStatus. */
export interface DirectionSummary {
  entities: string[];
  /** The oldest of the entities' last successful runs: every entity synced at least this recently. */
  lastSyncAt: string | null;
  recordsSynced: number;
  errors: number;
  pendingCount: number;
  healthy: boolean;
}

/** GET /api/sync/status. */
export interface OverallStatus {
  healthy: boolean;
  supabaseToD1: DirectionSummary;
  d1ToSupabase: DirectionSummary;
  /** The original spec's unsyncedEmails: emails changed in D1 and not yet in Supabase. */
  unsyncedEmails: number;
  entities: EntityStatus[];
  checkedAt: string;
}

function summarize(chosen: readonly EntityStatus[]): DirectionSummary {
  const successes = chosen.map((s) => s.lastSuccessAt);
  return {
    entities: chosen.map((s) => s.entity),
    lastSyncAt: successes.includes(null) ? null : ([...successes].sort()[0] ?? null),
    recordsSynced: chosen.reduce((n, s) => n + (s.lastRun ? s.lastRun.stats.rowsApplied + s.lastRun.stats.rowsDeleted : 0), 0),
    errors: chosen.reduce((n, s) => n + (s.lastRun?.outcome === 'failed' ? 1 : 0), 0),
    pendingCount: chosen.reduce((n, s) => n + (s.push?.pending ?? 0), 0),
    healthy: chosen.every((s) => s.healthy),
  };
}

/** Summarises the coordinators' statuses per direction. */
export function summarizeStatuses(statuses: EntityStatus[], now: Date): OverallStatus {
  return {
    healthy: statuses.every((s) => s.healthy),
    supabaseToD1: summarize(statuses.filter(pulls)),
    d1ToSupabase: summarize(statuses.filter(pushes)),
    unsyncedEmails: statuses.find((s) => s.entity === 'emails')?.push?.pending ?? 0,
    entities: statuses,
    checkedAt: now.toISOString(),
  };
}
