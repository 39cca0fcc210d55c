/** Worker entry: HTTP routes, cron ticks, and the SyncCoordinator class export. */
import { SyncCoordinator } from './objects/sync-coordinator.ts';
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import { handleRequest } from './router.ts';

export { SyncCoordinator };

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return handleRequest(request, env, ctx);
  },

  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    ctx.waitUntil(onCron(controller.cron, env));
  },
} satisfies ExportedHandler<Env>;

/** Every tick makes sure each coordinator's alarm is armed: a lost alarm heals within one tick. */
async function onCron(cron: string, env: Env): Promise<void> {
  const results = await Promise.allSettled(
    ENTITY_NAMES.map((name) => env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(name)).ensureScheduled(name)),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ entity: ENTITY_NAMES[i], error: String(r.reason) }] : []));
  console.log(JSON.stringify({ event: 'cron', cron, entities: ENTITY_NAMES.length, failed }));
}
