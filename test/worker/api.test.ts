import { createExecutionContext, createScheduledController, env, runInDurableObject, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { ENTITY_NAMES } from '../../src/entities.ts';
import { alarmAt } from './helpers.ts';

const TOKEN = 'test-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };

function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...auth, ...init.headers };
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(`http://sync.test${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

async function errorOf(res: Response): Promise<{ code: string; message: string; details?: unknown }> {
  const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
  return body.error;
}

const ADMIN_ROUTES: [string, string][] = [
  ['GET', '/objects/prospects/status'],
  ['POST', '/objects/prospects/reset'],
  ['POST', '/objects/prospects/sync'],
  ['POST', '/objects/prospects/pause'],
  ['POST', '/objects/prospects/resume'],
  ['GET', '/objects/prospects/conflicts'],
  ['GET', '/objects/prospects/quarantine'],
  ['GET', '/api/sync/status'],
  ['GET', '/api/sync/log'],
  ['POST', '/api/sync/prospects'],
  ['POST', '/api/sync/campaigns'],
  ['POST', '/api/sync/mailboxes'],
  ['POST', '/api/sync/emails'],
  ['POST', '/api/sync/full'],
  ['GET', '/api/integrity'],
  ['POST', '/api/integrity/run'],
  ['POST', '/admin/resync'],
];

describe('auth', () => {
  it('serves /health without a token', async () => {
    const res = await SELF.fetch('http://sync.test/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, entities: ENTITY_NAMES });
  });

  it.each(ADMIN_ROUTES)('%s %s answers 401 without a token, with a wrong one, and with one of another length', async (method, path) => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` },
      { authorization: 'Bearer short' },
      { authorization: `Bearer ${TOKEN}-and-more` },
      { authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const res = await SELF.fetch(`http://sync.test${path}`, { method, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await errorOf(res)).code).toBe('unauthorized');
    }
  });

  it('sends no CORS headers', async () => {
    const res = await call('GET', '/api/sync/status', { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('validation and routing errors', () => {
  it('answers 400 with zod details for malformed bodies and queries', async () => {
    let res = await call('POST', '/objects/campaigns/reset', { body: { cursor: 5 } });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_body');
    expect(err.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'cursor' })]));

    res = await call('POST', '/objects/campaigns/reset', { body: { cursor: { updated_at: '2026-01-01T00:00:00Z' }, extra: true } });
    expect(res.status).toBe(400);

    res = await call('POST', '/objects/campaigns/reset', { body: '{not json' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');

    res = await call('POST', '/objects/campaigns/sync', { body: { now: true } });
    expect(res.status).toBe(400);

    res = await call('GET', '/objects/campaigns/conflicts?limit=0');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_query');
  });

  it('answers 404 for an unknown entity on every entity route, and for unknown paths', async () => {
    for (const [method, path] of [
      ['GET', '/objects/nope/status'], ['POST', '/objects/nope/sync'], ['POST', '/objects/nope/reset'],
      ['POST', '/objects/nope/pause'], ['POST', '/objects/nope/resume'], ['GET', '/objects/nope/conflicts'],
      ['GET', '/objects/nope/quarantine'], ['POST', '/api/sync/inbox_items'], ['POST', '/objects/__proto__/sync'],
    ] as const) {
      const res = await call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await errorOf(res)).code).toBe('unknown_entity');
    }
    const res = await call('GET', '/nothing/here');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });

  it('answers 405 for a known path with the wrong method', async () => {
    for (const [method, path, allow] of [
      ['GET', '/objects/prospects/sync', ['POST']], ['DELETE', '/api/sync/status', ['GET']], ['POST', '/api/sync/status', ['GET']],
      ['POST', '/api/sync/log', ['GET']], ['PUT', '/admin/resync', ['POST']], ['POST', '/health', ['GET']],
    ] as const) {
      const res = await call(method, path);
      expect(res.status, `${method} ${path}`).toBe(405);
      const err = await errorOf(res);
      expect(err.code).toBe('method_not_allowed');
      expect(err.details).toEqual({ allow });
    }
  });
});

describe('operator actions', () => {
  it('status, sync, pause, resume, conflicts and quarantine of one entity', async () => {
    let res = await call('GET', '/objects/campaigns/status');
    expect(res.status).toBe(200);
    const status = (await res.json()) as { entity: string; direction: string; settings: unknown };
    expect(status).toMatchObject({ entity: 'campaigns', direction: 'pull' });

    res = await call('POST', '/objects/campaigns/sync');
    expect(res.status).toBe(200);
    const run = (await res.json()) as { ran: boolean; run?: { outcome: string } };
    expect(run.ran).toBe(true);
    expect(run.run?.outcome).toBe('caught-up');

    res = await call('POST', '/objects/campaigns/pause');
    expect(((await res.json()) as { paused: boolean; nextAlarmAt: string | null })).toMatchObject({ paused: true, nextAlarmAt: null });
    res = await call('POST', '/objects/campaigns/resume');
    const resumed = (await res.json()) as { paused: boolean; nextAlarmAt: string | null };
    expect(resumed.paused).toBe(false);
    expect(resumed.nextAlarmAt).not.toBeNull();

    res = await call('GET', '/objects/campaigns/conflicts?limit=5');
    expect(await res.json()).toEqual({ entity: 'campaigns', conflicts: [] });
    res = await call('GET', '/objects/campaigns/quarantine');
    expect(await res.json()).toEqual({ entity: 'campaigns', rows: [] });
  });

  it('resets a cursor to the beginning or after a given cursor, and refuses with 409 during a run', async () => {
    // Paused, so a reset does not start a run that would hold the lease during this test.
    await call('POST', '/objects/mailboxes/pause');
    let res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { updated_at: '2026-01-01T00:00:00+00:00', id: 'abc' } } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { pull: { cursor: unknown } }).pull.cursor).toEqual({ ts: '2026-01-01T00:00:00+00:00', id: 'abc' });
    res = await call('POST', '/objects/mailboxes/reset');
    expect(((await res.json()) as { pull: { cursor: unknown } }).pull.cursor).toBeNull();

    const stub = env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName('mailboxes'));
    await runInDurableObject(stub, (_i, state) => {
      const lease = { runId: 'r-1', trigger: 'alarm', holder: 'x', startedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
      state.storage.sql.exec(`INSERT INTO meta (key, value) VALUES ('lease', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, JSON.stringify(lease));
    });
    res = await call('POST', '/objects/mailboxes/reset');
    expect(res.status).toBe(409);
    const err = await errorOf(res);
    expect(err.code).toBe('run_in_progress');
    expect(err.details).toMatchObject({ lease: { runId: 'r-1' } });
    res = await call('POST', '/objects/mailboxes/sync');
    expect(await res.json()).toMatchObject({ ran: false, reason: 'coalesced', lease: { runId: 'r-1' } });
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec(`DELETE FROM meta WHERE key = 'lease'`));
    await call('POST', '/objects/mailboxes/resume');
  });

  it('reports overall status with both directions and unsyncedEmails, and never leaks secrets', async () => {
    await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES ('6f1c0a52-3c1e-4a55-9a1e-0c6b8f1d2e3a', 'a@x.example', 'b@x.example', 'outbound')`).run();
    const res = await call('GET', '/api/sync/status');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(inject('supabaseServiceRoleKey'));
    expect(text).not.toContain(TOKEN);
    const body = JSON.parse(text) as { unsyncedEmails: number; supabaseToD1: { entities: string[] }; d1ToSupabase: { entities: string[] }; entities: unknown[] };
    expect(body.unsyncedEmails).toBeGreaterThanOrEqual(1);
    expect(body.supabaseToD1.entities).toEqual(['prospects', 'campaigns', 'mailboxes']);
    expect(body.d1ToSupabase.entities).toEqual(['prospects', 'emails']);
    expect(body.entities).toHaveLength(4);

    const sync = await call('POST', '/api/sync/emails');
    expect(((await sync.json()) as { ran: boolean }).ran).toBe(true);
    const after = (await (await call('GET', '/api/sync/status')).json()) as { unsyncedEmails: number };
    expect(after.unsyncedEmails).toBe(0);
  });

  it('runs a full sync and a full resync', async () => {
    let res = await call('POST', '/api/sync/full');
    expect(res.status).toBe(200);
    const full = (await res.json()) as { runs: { entity: string }[] };
    expect(full.runs.map((r) => r.entity)).toEqual(ENTITY_NAMES);
    res = await call('POST', '/admin/resync');
    expect(res.status).toBe(200);
    const resync = (await res.json()) as { resync: { entity: string; reset: boolean }[] };
    expect(resync.resync.map((r) => [r.entity, r.reset])).toEqual([['prospects', true], ['campaigns', true], ['mailboxes', true]]);
  });

  it('reports integrity as not available yet', async () => {
    const res = await call('GET', '/api/integrity');
    expect(res.status).toBe(501);
    expect((await errorOf(res)).code).toBe('not_available');
  });
});

describe('cron', () => {
  async function tick(cron: string): Promise<void> {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
  }

  it('*/10 arms every coordinator; 0 3 also re-reads the pulled tables from the beginning', async () => {
    for (const name of ENTITY_NAMES) {
      const stub = env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(name));
      await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
    }
    await tick('*/10 * * * *');
    for (const name of ENTITY_NAMES) {
      // The armed alarm fires at once; while its run is in flight there is no alarm, after it the next one.
      const stub = env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(name));
      await expect.poll(() => alarmAt(stub), { timeout: 10_000 }).not.toBeNull();
      expect((await stub.status(name)).lastRun).not.toBeNull();
    }

    const campaigns = env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName('campaigns'));
    await campaigns.resetCursor('campaigns', { cursor: { ts: '2026-01-01T00:00:00+00:00', id: 'x' } });
    await tick('0 3 * * *');
    expect((await campaigns.status('campaigns')).pull?.cursor).toBeNull();
    // Leave no alarm behind: a pending alarm keeps the test runtime waiting for it at teardown.
    for (const name of ENTITY_NAMES) await env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(name)).pause(name);
  });
});
