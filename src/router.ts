/**
 * The HTTP API: wiring only. Auth and parsing happen here; every action is an RPC on the
 * entity's SyncCoordinator. Handlers throw HttpError; one catch turns errors into JSON.
 */
import { Router, type IRequest } from 'itty-router';
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import { requireAdmin } from './http/auth.ts';
import { errorResponse, HttpError } from './http/errors.ts';
import {
  EmptyBodySchema, entityParam, HeldIdsBodySchema, IntegrityQuerySchema, IntegrityRunBodySchema, LimitQuerySchema, parseBody,
  parseResetBody, parseWith, readJsonBody, ResyncBodySchema, SyncLogQuerySchema,
} from './http/parse.ts';
import { renderDashboard } from './dashboard/page.ts';
import { readSyncLog } from './stores/d1.ts';
import { readIntegrityHistory } from './stores/integrity.ts';
import { summarizeStatuses, type OverallStatus } from './status-summary.ts';

type Args = [Env, ExecutionContext];

/** Every route as [method, pattern]; used to tell 405 from 404. */
const ROUTES: readonly (readonly [string, RegExp])[] = [
  ['GET', /^\/health$/],
  ['GET', /^\/dashboard$/],
  ['GET', /^\/objects\/[^/]+\/status$/],
  ['POST', /^\/objects\/[^/]+\/(reset|sync|pause|resume)$/],
  ['GET', /^\/objects\/[^/]+\/(conflicts|quarantine|held)$/],
  ['POST', /^\/objects\/[^/]+\/held\/(release|delete)$/],
  ['GET', /^\/api\/sync\/status$/],
  ['GET', /^\/api\/sync\/log$/],
  // status and log are GET-only names under /api/sync; anything else is an entity to sync.
  ['POST', /^\/api\/sync\/(?!status$|log$)[^/]+$/],
  ['GET', /^\/api\/integrity$/],
  ['POST', /^\/api\/integrity\/run$/],
  ['POST', /^\/admin\/resync$/],
];

const PUBLIC_PATHS = new Set(['/health', '/dashboard']);

function coordinator(env: Env, entity: string) {
  return env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(entity));
}

const router = Router<IRequest, Args>({
  before: [
    async (request, env) => {
      const { pathname } = new URL(request.url);
      if (!PUBLIC_PATHS.has(pathname)) await requireAdmin(request, env);
    },
  ],
  catch: (error) => errorResponse(error),
});

router
  .get('/health', () => Response.json({ ok: true, entities: ENTITY_NAMES }))
  .get('/dashboard', () => new Response(renderDashboard(), {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
  }))

  .get('/objects/:entity/status', ({ params }, env) => {
    const entity = entityParam(params.entity);
    return json(coordinator(env, entity.name).status(entity.name));
  })
  .post('/objects/:entity/sync', async (request, env) => {
    const entity = entityParam(request.params.entity);
    await parseBody(request, EmptyBodySchema);
    return json(coordinator(env, entity.name).syncNow(entity.name));
  })
  .post('/objects/:entity/reset', async (request, env) => {
    const entity = entityParam(request.params.entity);
    const target = parseResetBody(await readJsonBody(request), entity);
    const result = await coordinator(env, entity.name).resetCursor(entity.name, target);
    if (!result.ok) throw new HttpError(409, 'run_in_progress', 'a sync run holds the lease; retry when it ends', { lease: result.lease });
    return Response.json(result.status);
  })
  .post('/objects/:entity/pause', async (request, env) => {
    const entity = entityParam(request.params.entity);
    await parseBody(request, EmptyBodySchema);
    return json(coordinator(env, entity.name).pause(entity.name));
  })
  .post('/objects/:entity/resume', async (request, env) => {
    const entity = entityParam(request.params.entity);
    await parseBody(request, EmptyBodySchema);
    return json(coordinator(env, entity.name).resume(entity.name));
  })
  .get('/objects/:entity/conflicts', (request, env) => {
    const entity = entityParam(request.params.entity);
    const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
    return json(coordinator(env, entity.name).conflicts(entity.name, limit).then((conflicts) => ({ entity: entity.name, conflicts })));
  })
  .get('/objects/:entity/quarantine', async (request, env) => {
    const entity = entityParam(request.params.entity);
    const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
    const rows = await coordinator(env, entity.name).quarantined(entity.name, limit);
    return Response.json({ entity: entity.name, rows: rows.map((r) => ({ ...r, payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown) })) });
  })

  .get('/api/sync/status', async (_request, env) => Response.json(await overallStatus(env)))
  .get('/api/sync/log', async (request, env) => {
    const { limit, entity } = parseWith(SyncLogQuerySchema, request.query, 'invalid_query');
    if (entity !== undefined) entityParam(entity);
    return Response.json({ runs: await readSyncLog(env.DB, entity ?? null, limit) });
  })
  .post('/api/sync/full', async (request, env) => {
    await parseBody(request, EmptyBodySchema);
    const runs = await Promise.all(ENTITY_NAMES.map(async (name) => ({ entity: name, result: await coordinator(env, name).syncNow(name) })));
    return Response.json({ runs });
  })
  .post('/api/sync/:entity', async (request, env) => {
    if (request.params.entity === 'status' || request.params.entity === 'log') {
      throw new HttpError(405, 'method_not_allowed', `POST is not allowed here; use GET`, { allow: ['GET'] });
    }
    const entity = entityParam(request.params.entity);
    await parseBody(request, EmptyBodySchema);
    return json(coordinator(env, entity.name).syncNow(entity.name));
  })
  .get('/api/integrity', async (request, env) => {
    const query = parseWith(IntegrityQuerySchema, request.query, 'invalid_query');
    const names = query.entity === undefined ? ENTITY_NAMES : [entityParam(query.entity).name];
    const [entities, history] = await Promise.all([
      Promise.all(names.map((name) => coordinator(env, name).integrity(name))),
      readIntegrityHistory(env.DB, { ...(query.entity === undefined ? {} : { entity: query.entity }), runs: query.history }),
    ]);
    return Response.json({ generatedAt: new Date().toISOString(), entities, history: history.runs });
  })
  .post('/api/integrity/run', async (request, env) => {
    const body = await parseBody(request, IntegrityRunBodySchema);
    const names = body.entities ?? ENTITY_NAMES;
    const runs = await Promise.all(names.map(async (name) => ({
      entity: name,
      ...(await coordinator(env, name).runIntegrity(name, { fix: body.fix, reconcile: body.reconcile, trigger: 'manual' })),
    })));
    return Response.json({ fix: body.fix, reconcile: body.reconcile, runs });
  })
  .post('/admin/resync', async (request, env) => {
    const body = await parseBody(request, ResyncBodySchema);
    const names = body.entities ?? ENTITY_NAMES;
    // Re-read in place, then remove what is absent upstream: readers never see an emptied table.
    const resync = await Promise.all(names.map(async (name) => ({ entity: name, job: await coordinator(env, name).resync(name, 'manual') })));
    return Response.json({ resync });
  })
  .get('/objects/:entity/held', async (request, env) => {
    const entity = entityParam(request.params.entity);
    const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
    return Response.json({ entity: entity.name, rows: await coordinator(env, entity.name).held(entity.name, limit) });
  })
  .post('/objects/:entity/held/release', async (request, env) => {
    const entity = entityParam(request.params.entity);
    const { ids } = await parseBody(request, HeldIdsBodySchema);
    const result = await coordinator(env, entity.name).releaseHeld(entity.name, ids);
    if (!result.ok) throw new HttpError(409, 'run_in_progress', 'a run holds the lease; retry when it ends', { lease: result.lease });
    return Response.json({ entity: entity.name, released: result.released });
  })
  .post('/objects/:entity/held/delete', async (request, env) => {
    const entity = entityParam(request.params.entity);
    const { ids } = await parseBody(request, HeldIdsBodySchema);
    const result = await coordinator(env, entity.name).deleteHeld(entity.name, ids);
    if (!result.ok) throw new HttpError(409, 'run_in_progress', 'a run holds the lease; retry when it ends', { lease: result.lease });
    return Response.json({ entity: entity.name, deleted: result.deleted });
  })
  .all('*', (request) => {
    const { pathname } = new URL(request.url);
    const allowed = ROUTES.filter(([, pattern]) => pattern.test(pathname)).map(([method]) => method);
    if (allowed.length > 0) {
      throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}`, { allow: allowed });
    }
    throw new HttpError(404, 'not_found', `no route for ${request.method} ${pathname}`);
  });

/** Awaits an RPC result and sends it as JSON. */
async function json(value: unknown): Promise<Response> {
  return Response.json(await value);
}

/** The original spec's status: per direction and per entity, with the pending email count. */
async function overallStatus(env: Env): Promise<OverallStatus> {
  const statuses = await Promise.all(ENTITY_NAMES.map((name) => coordinator(env, name).status(name)));
  return summarizeStatuses(statuses, new Date());
}

/** Routes a request; never throws. */
export function handleRequest(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  return router.fetch(request, env, ctx).then((r: unknown) => (r instanceof Response ? r : errorResponse(new HttpError(404, 'not_found', 'no route'))), errorResponse);
}
