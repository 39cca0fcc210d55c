/**
 * The HTTP API: wiring only. Auth and parsing happen here; every action is an RPC on the
 * entity's SyncCoordinator. Handlers throw HttpError; one catch turns errors into JSON.
 *
 * One route table (ROUTES) is the only list of routes: dispatch, the public (no token) paths
 * and the 405 answers (a known path asked with another method) are all derived from it.
 */
import { Router, type IRequest } from 'itty-router';
import { ENTITY_NAMES } from './entities.ts';
import type { Env } from './env.ts';
import { requireAdmin } from './http/auth.ts';
import { errorResponse, HttpError } from './http/errors.ts';
import {
  DashboardQuerySchema,
  EmptyBodySchema,
  entityParam,
  HeldIdsBodySchema,
  IntegrityQuerySchema,
  IntegrityRunBodySchema,
  LimitQuerySchema,
  parseBody,
  parseResetBody,
  parseWith,
  readJsonBody,
  ResyncBodySchema,
  SyncLogQuerySchema,
} from './http/parse.ts';
import { coordinator, overallStatus, recentRuns } from './coordinators.ts';
import { dashboardData } from './dashboard/data.ts';
import { DASHBOARD_CSP, renderDashboard } from './dashboard/page.ts';
import { readIntegrityHistory } from './stores/integrity.ts';

type Args = [Env, ExecutionContext];
type Handler = (request: IRequest, env: Env) => Response | Promise<Response>;

/** One route: method, itty path pattern, handler; public routes need no token. */
interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle: Handler;
  public?: true;
}

/** Awaits an RPC result and sends it as JSON. */
async function json(value: unknown): Promise<Response> {
  return Response.json(await value);
}

/** "Sync now" of one entity: POST /objects/:entity/sync, and the original spec's POST /api/sync/:entity. */
const syncEntity: Handler = async (request, env) => {
  const entity = entityParam(request.params.entity);
  await parseBody(request, EmptyBodySchema);
  return json(coordinator(env, entity.name).syncNow(entity.name));
};

/** Every route. A literal path comes before a pattern it overlaps (`/api/sync/status` before `/api/sync/:entity`). */
const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/health', public: true, handle: () => Response.json({ ok: true, entities: ENTITY_NAMES }) },
  {
    method: 'GET',
    path: '/dashboard',
    public: true,
    handle: () =>
      new Response(renderDashboard(), {
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': DASHBOARD_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        },
      }),
  },

  {
    method: 'GET',
    path: '/objects/:entity/status',
    handle: ({ params }, env) => {
      const entity = entityParam(params.entity);
      return json(coordinator(env, entity.name).status(entity.name));
    },
  },
  { method: 'POST', path: '/objects/:entity/sync', handle: syncEntity },
  {
    method: 'POST',
    path: '/objects/:entity/reset',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const target = parseResetBody(await readJsonBody(request), entity);
      const result = await coordinator(env, entity.name).resetCursor(entity.name, target);
      if (!result.ok)
        throw new HttpError(409, 'run_in_progress', 'a sync run holds the lease; retry when it ends', { lease: result.lease });
      return Response.json(result.status);
    },
  },
  {
    method: 'POST',
    path: '/objects/:entity/pause',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      await parseBody(request, EmptyBodySchema);
      return json(coordinator(env, entity.name).pause(entity.name));
    },
  },
  {
    method: 'POST',
    path: '/objects/:entity/resume',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      await parseBody(request, EmptyBodySchema);
      return json(coordinator(env, entity.name).resume(entity.name));
    },
  },
  {
    method: 'GET',
    path: '/objects/:entity/conflicts',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
      return Response.json({ entity: entity.name, conflicts: await coordinator(env, entity.name).conflicts(entity.name, limit) });
    },
  },
  {
    method: 'GET',
    path: '/objects/:entity/quarantine',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
      const rows = await coordinator(env, entity.name).quarantined(entity.name, limit);
      return Response.json({
        entity: entity.name,
        rows: rows.map((r) => ({ ...r, payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown) })),
      });
    },
  },
  {
    method: 'GET',
    path: '/objects/:entity/held',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const { limit } = parseWith(LimitQuerySchema, request.query, 'invalid_query');
      return Response.json({ entity: entity.name, rows: await coordinator(env, entity.name).held(entity.name, limit) });
    },
  },
  {
    method: 'POST',
    path: '/objects/:entity/held/release',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const { ids } = await parseBody(request, HeldIdsBodySchema);
      const result = await coordinator(env, entity.name).releaseHeld(entity.name, ids);
      if (!result.ok) throw new HttpError(409, 'run_in_progress', 'a run holds the lease; retry when it ends', { lease: result.lease });
      return Response.json({ entity: entity.name, released: result.released });
    },
  },
  {
    method: 'POST',
    path: '/objects/:entity/held/delete',
    handle: async (request, env) => {
      const entity = entityParam(request.params.entity);
      const { ids } = await parseBody(request, HeldIdsBodySchema);
      const result = await coordinator(env, entity.name).deleteHeld(entity.name, ids);
      if (!result.ok) throw new HttpError(409, 'run_in_progress', 'a run holds the lease; retry when it ends', { lease: result.lease });
      return Response.json({ entity: entity.name, deleted: result.deleted });
    },
  },

  { method: 'GET', path: '/api/sync/status', handle: async (_request, env) => Response.json(await overallStatus(env, new Date())) },
  {
    method: 'GET',
    path: '/api/sync/log',
    handle: async (request, env) => {
      const { limit, entity, idle } = parseWith(SyncLogQuerySchema, request.query, 'invalid_query');
      if (entity !== undefined) entityParam(entity);
      return Response.json({ runs: await recentRuns(env, { entity: entity ?? null, limit, idle }) });
    },
  },
  {
    method: 'POST',
    path: '/api/sync/full',
    handle: async (request, env) => {
      await parseBody(request, EmptyBodySchema);
      const runs = await Promise.all(
        ENTITY_NAMES.map(async (name) => ({ entity: name, result: await coordinator(env, name).syncNow(name) })),
      );
      return Response.json({ runs });
    },
  },
  { method: 'POST', path: '/api/sync/:entity', handle: syncEntity },
  {
    method: 'GET',
    path: '/api/dashboard',
    handle: async (request, env) => {
      const query = parseWith(DashboardQuerySchema, request.query, 'invalid_query');
      if (query.entity !== undefined) entityParam(query.entity);
      return Response.json(await dashboardData(env, query, new Date()));
    },
  },
  {
    method: 'GET',
    path: '/api/integrity',
    handle: async (request, env) => {
      const query = parseWith(IntegrityQuerySchema, request.query, 'invalid_query');
      const names = query.entity === undefined ? ENTITY_NAMES : [entityParam(query.entity).name];
      const [entities, history] = await Promise.all([
        Promise.all(names.map((name) => coordinator(env, name).integrity(name))),
        readIntegrityHistory(env.DB, { ...(query.entity === undefined ? {} : { entity: query.entity }), runs: query.history }),
      ]);
      return Response.json({ generatedAt: new Date().toISOString(), entities, history: history.runs });
    },
  },
  {
    method: 'POST',
    path: '/api/integrity/run',
    handle: async (request, env) => {
      const body = await parseBody(request, IntegrityRunBodySchema);
      const names = body.entities ?? ENTITY_NAMES;
      const runs = await Promise.all(
        names.map(async (name) => ({
          entity: name,
          ...(await coordinator(env, name).runIntegrity(name, { fix: body.fix, reconcile: body.reconcile, trigger: 'manual' })),
        })),
      );
      return Response.json({ fix: body.fix, reconcile: body.reconcile, runs });
    },
  },
  {
    method: 'POST',
    path: '/admin/resync',
    handle: async (request, env) => {
      const body = await parseBody(request, ResyncBodySchema);
      const names = body.entities ?? ENTITY_NAMES;
      // Re-read in place, then remove what is absent upstream: readers never see an emptied table.
      const resync = await Promise.all(
        names.map(async (name) => ({ entity: name, job: await coordinator(env, name).resync(name, 'manual') })),
      );
      return Response.json({ resync });
    },
  },
];

const PUBLIC_PATHS = new Set(ROUTES.filter((r) => r.public).map((r) => r.path));

const router = Router<IRequest, Args>({
  before: [
    async (request, env) => {
      const { pathname } = new URL(request.url);
      if (!PUBLIC_PATHS.has(pathname)) await requireAdmin(request, env);
    },
  ],
  catch: (error) => errorResponse(error),
});

// Each path's methods, then a catch-all for that path answering 405 with them: itty matches in
// order, so `POST /api/sync/status` meets the status path's 405 before the `:entity` pattern.
const methodsByPath = new Map<string, Route['method'][]>();
for (const r of ROUTES) methodsByPath.set(r.path, [...(methodsByPath.get(r.path) ?? []), r.method]);
for (const [path, methods] of methodsByPath) {
  for (const r of ROUTES) {
    if (r.path !== path) continue;
    if (r.method === 'GET') router.get(path, r.handle);
    else router.post(path, r.handle);
  }
  router.all(path, (request) => {
    throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${methods.join(', ')}`, { allow: methods });
  });
}
router.all('*', (request) => {
  throw new HttpError(404, 'not_found', `no route for ${request.method} ${new URL(request.url).pathname}`);
});

/** Routes a request; never throws. */
export function handleRequest(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  return router
    .fetch(request, env, ctx)
    .then((r: unknown) => (r instanceof Response ? r : errorResponse(new HttpError(404, 'not_found', 'no route'))), errorResponse);
}
