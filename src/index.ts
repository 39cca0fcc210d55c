/** Worker entry: HTTP routes, cron ticks, and the SyncCoordinator class export. */
import { coordinator } from './coordinators.ts';
import { planForCron } from './cron.ts';
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import { SyncCoordinator } from './objects/sync-coordinator.ts';
import { handleRequest } from './router.ts';

export { SyncCoordinator };

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return handleRequest(request, env, ctx);
  },

  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): void {
    ctx.waitUntil(onCron(controller.cron, env));
  },
} satisfies ExportedHandler<Env>;

/** Runs one cron tick's plan on every coordinator; one failing entity does not stop the others. */
async function onCron(cron: string, env: Env): Promise<void> {
  const plan = planForCron(cron);
  const results = await Promise.allSettled(
    ENTITY_NAMES.map(async (name) => {
      const stub = coordinator(env, name);
      // A resync or a check asked for while a run holds the lease is remembered by the coordinator.
      if (plan.fullResync) await stub.resync(name, 'daily');
      if (plan.integrityChecks) await stub.runIntegrity(name, { fix: false, reconcile: false, trigger: 'hourly' });
      if (plan.ensureAlarms) await stub.ensureScheduled(name);
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ entity: ENTITY_NAMES[i], error: String(r.reason) }] : []));
  console.log(JSON.stringify({ event: 'cron', cron, ...plan, entities: ENTITY_NAMES.length, failed }));
}
