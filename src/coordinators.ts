/** The way from the Worker to the entities' SyncCoordinators, shared by the router, the dashboard data and cron. */
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import type { SyncCoordinator } from './objects/sync-coordinator.ts';
import { summarizeStatuses, type OverallStatus } from './status-summary.ts';

/** The entity's SyncCoordinator stub (one object per entity, named after it). */
export function coordinator(env: Env, entity: string): DurableObjectStub<SyncCoordinator> {
  return env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(entity));
}

/** The original spec's status: per direction and per entity, with the pending email count. */
export async function overallStatus(env: Env, now: Date): Promise<OverallStatus> {
  const statuses = await Promise.all(ENTITY_NAMES.map((name) => coordinator(env, name).status(name)));
  return summarizeStatuses(statuses, now);
}
