/** The way from the Worker to the entities' SyncCoordinators, shared by the router, the dashboard data and cron. */
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import type { SyncCoordinator } from './objects/sync-coordinator.ts';
import { summarizeStatuses, type OverallStatus } from './status-summary.ts';
import { listRuns } from './sync/run-log.ts';
import type { IdleRuns, SyncLogRun } from './types.ts';

/** The entity's SyncCoordinator stub (one object per entity, named after it). */
export function coordinator(env: Env, entity: string): DurableObjectStub<SyncCoordinator> {
  return env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(entity));
}

/** The original spec's status: per direction and per entity, with the pending email count. */
export async function overallStatus(env: Env, now: Date): Promise<OverallStatus> {
  const statuses = await Promise.all(ENTITY_NAMES.map((name) => coordinator(env, name).status(name)));
  return summarizeStatuses(statuses, now);
}

/** Which runs to list: one entity's or every entity's, merged newest first. */
export interface RunLogQuery {
  entity: string | null;
  limit: number;
  idle: IdleRuns;
}

/** The newest runs from the coordinators' run logs (one call per entity asked), newest first. */
export async function recentRuns(env: Env, query: RunLogQuery): Promise<SyncLogRun[]> {
  const names = query.entity === null ? ENTITY_NAMES : [query.entity];
  return listRuns(await recentRunsPerEntity(env, query.limit, query.idle, names), query.entity, query.limit);
}

/** Each entity's newest runs, newest first (the dashboard's table and charts), one call per entity. */
export async function recentRunsPerEntity(
  env: Env,
  limit: number,
  idle: IdleRuns,
  names: readonly string[] = ENTITY_NAMES,
): Promise<Record<string, SyncLogRun[]>> {
  const lists = await Promise.all(names.map(async (name) => [name, await coordinator(env, name).runs(name, limit, idle)] as const));
  return Object.fromEntries(lists);
}
