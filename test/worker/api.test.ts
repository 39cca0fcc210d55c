import { createExecutionContext, createScheduledController, env, runInDurableObject, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import worker from '../../src/index.ts';
import { ENTITY_NAMES } from '../../src/entities.ts';
import { alarmAt } from './helpers.ts';

const TOKEN = 'test-admin-token';
const UUID_A = '5b0f6c1e-8a7d-4a55-9a7e-0d5f0c1e2a11';
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

/** The production coordinator of `name` (the object the routes address). */
function coordinatorOf(name: string) {
  return env.SYNC_COORDINATOR.get(env.SYNC_COORDINATOR.idFromName(name));
}

/**
 * Brings production coordinators to a known quiet state: paused (no alarm armed, none will be)
 * and no run in flight. Tests that act on them start and end with it, so they depend on no
 * other test and leave no alarm behind (a pending alarm keeps the runtime waiting at teardown).
 */
async function settle(names: readonly string[] = ENTITY_NAMES): Promise<void> {
  await Promise.all(names.map(async (name) => {
    const stub = coordinatorOf(name);
    await stub.pause(name);
    await expect.poll(async () => (await stub.status(name)).lease, { timeout: 15_000 }).toBeNull();
  }));
}

/** A pull cursor as status shows it. */
async function pullCursor(name: string): Promise<unknown> {
  return (await coordinatorOf(name).status(name)).pull?.cursor;
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
  beforeEach(() => settle());
  afterEach(() => settle());

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
    // settle() paused mailboxes, so a reset does not start a run that would hold the lease here.
    let res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { updated_at: '2026-01-01T00:00:00+00:00', id: UUID_A } } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { pull: { cursor: unknown } }).pull.cursor).toEqual({ ts: '2026-01-01T00:00:00.000000Z', id: UUID_A });
    res = await call('POST', '/objects/mailboxes/reset');
    expect(((await res.json()) as { pull: { cursor: unknown } }).pull.cursor).toBeNull();

    const stub = coordinatorOf('mailboxes');
    await runInDurableObject(stub, (_i, state) => {
      const lease = { runId: 'r-1', trigger: 'alarm', holder: 'x', startedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
      state.storage.sql.exec(`INSERT INTO meta (key, value) VALUES ('lease', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, JSON.stringify(lease));
    });
    try {
      res = await call('POST', '/objects/mailboxes/reset');
      expect(res.status).toBe(409);
      const err = await errorOf(res);
      expect(err.code).toBe('run_in_progress');
      expect(err.details).toMatchObject({ lease: { runId: 'r-1' } });
      res = await call('POST', '/objects/mailboxes/sync');
      expect(await res.json()).toMatchObject({ ran: false, reason: 'coalesced', lease: { runId: 'r-1' } });
    } finally {
      await runInDurableObject(stub, (_i, state) => state.storage.sql.exec(`DELETE FROM meta WHERE key = 'lease'`));
    }
    res = await call('POST', '/objects/mailboxes/resume');
    expect(((await res.json()) as { paused: boolean }).paused).toBe(false);
  });

  it('refuses a reset to a garbage cursor with 400 and leaves the cursor as it was', async () => {
    const before = { ts: '2026-03-04T05:06:07.123456Z', id: UUID_A };
    let res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: before } });
    expect(res.status).toBe(200);
    expect(await pullCursor('mailboxes')).toEqual(before);

    res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { updated_at: 'garbage', id: 'x' } } });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_cursor');
    expect(err.details).toEqual([
      { path: 'cursor.updated_at', message: expect.stringContaining('not a timestamp: "garbage"') },
      { path: 'cursor.id', message: expect.stringContaining('canonical lower-case uuid') },
    ]);
    expect(await pullCursor('mailboxes')).toEqual(before);

    // None of these may be stored: every later run would send it to Supabase and fail on it.
    const refused: [unknown, string, string][] = [
      [{ updated_at: 'infinity', id: UUID_A }, 'invalid_cursor', 'cursor.updated_at'],
      [{ ts: '-infinity', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: 'now', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '2026-02-30T00:00:00Z', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '2026-01-01T24:00:00Z', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '10000-01-01T00:00:00Z', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '9999-12-31T23:59:59-01:00', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '2026-01-01T00:00:00+99:99', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '2026-01-01T00:00:00Z\u0000', id: UUID_A }, 'invalid_cursor', 'cursor.ts'],
      [{ ts: '2026-01-01T00:00:00Z', id: 'not-a-uuid' }, 'invalid_cursor', 'cursor.id'],
      [{ ts: '2026-01-01T00:00:00Z', id: `${UUID_A}\u0000` }, 'invalid_cursor', 'cursor.id'],
      [{ ts: '2026-01-01T00:00:00Z', id: `{${UUID_A}}` }, 'invalid_cursor', 'cursor.id'],
      [{ ts: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', id: UUID_A }, 'invalid_body', 'cursor'],
      [{ id: UUID_A }, 'invalid_body', 'cursor.ts'],
      [{ ts: 1767225600, id: UUID_A }, 'invalid_body', 'cursor.ts'],
      [{ ts: '2026-01-01T00:00:00Z', id: UUID_A, extra: 1 }, 'invalid_body', 'cursor'],
      [{ ts: '', id: UUID_A }, 'invalid_body', 'cursor.ts'],
      [[], 'invalid_body', 'cursor'],
    ];
    for (const [cursor, code, path] of refused) {
      res = await call('POST', '/objects/mailboxes/reset', { body: { cursor } });
      expect(res.status, JSON.stringify(cursor)).toBe(400);
      const e = await errorOf(res);
      expect(e.code, JSON.stringify(cursor)).toBe(code);
      expect(e.details, JSON.stringify(cursor)).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    res = await call('POST', '/objects/mailboxes/reset', { body: { scope: 'sideways' } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_body');
    expect(await pullCursor('mailboxes')).toEqual(before);
  });

  it('refuses an upper-case uuid in a reset cursor and names the lower-case form', async () => {
    await call('POST', '/objects/mailboxes/reset');
    const res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { ts: '2026-01-01T00:00:00Z', id: UUID_A.toUpperCase() } } });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_cursor');
    expect(err.details).toEqual([{ path: 'cursor.id', message: expect.stringContaining('lower case') }]);
    expect((err.details as { message: string }[])[0]?.message).toContain(JSON.stringify(UUID_A));
    expect(await pullCursor('mailboxes')).toBeNull();
  });

  it('stores a reset cursor in canonical form from either shape, and takes back what status shows', async () => {
    let res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { updated_at: '2026-01-01 02:30:00.5+02:30', id: UUID_A }, scope: 'pull' } });
    expect(res.status).toBe(200);
    const shown = ((await res.json()) as { pull: { cursor: unknown } }).pull.cursor;
    expect(shown).toEqual({ ts: '2026-01-01T00:00:00.500000Z', id: UUID_A });

    await call('POST', '/objects/mailboxes/reset');
    expect(await pullCursor('mailboxes')).toBeNull();
    // The shape status answers goes straight back into a reset.
    res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: shown } });
    expect(res.status).toBe(200);
    expect(await pullCursor('mailboxes')).toEqual(shown);

    res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: { ts: '0100-01-01T00:00:00Z', id: '00000000-0000-0000-0000-000000000000' } } });
    expect(res.status).toBe(200);
    expect(await pullCursor('mailboxes')).toEqual({ ts: '0100-01-01T00:00:00.000000Z', id: '00000000-0000-0000-0000-000000000000' });
  });

  it('reports overall status with both directions and unsyncedEmails, and never leaks secrets', async () => {
    await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x.example', 'b@x.example', 'outbound')`).bind(crypto.randomUUID()).run();
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

  beforeEach(() => settle());
  afterEach(() => settle());

  it('*/10 arms every coordinator; 0 3 also re-reads the pulled tables from the beginning', async () => {
    // Running but with no alarm: resume (which runs at once), wait for that run to end, drop its next alarm.
    const lastRunIds = new Map<string, string | undefined>();
    for (const name of ENTITY_NAMES) {
      const stub = coordinatorOf(name);
      const before = (await stub.status(name)).lastRun?.runId;
      await stub.resume(name);
      await expect.poll(async () => {
        const s = await stub.status(name);
        return s.lease === null && s.lastRun?.runId !== before && s.nextAlarmAt !== null;
      }, { timeout: 15_000 }).toBe(true);
      await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
      lastRunIds.set(name, (await stub.status(name)).lastRun?.runId);
    }
    await tick('*/10 * * * *');
    for (const name of ENTITY_NAMES) {
      // The armed alarm fires at once; while its run is in flight there is no alarm, after it the next one.
      const stub = coordinatorOf(name);
      await expect.poll(() => alarmAt(stub), { timeout: 10_000 }).not.toBeNull();
      await expect.poll(async () => (await stub.status(name)).lastRun?.runId, { timeout: 10_000 }).not.toBe(lastRunIds.get(name));
    }

    // Paused, so no run holds the lease when the 0 3 tick resets the cursor.
    await settle(['campaigns']);
    const campaigns = coordinatorOf('campaigns');
    const reset = await campaigns.resetCursor('campaigns', { cursor: { ts: '2026-01-01T00:00:00.000000Z', id: UUID_A } });
    expect(reset.ok).toBe(true);
    expect((await campaigns.status('campaigns')).pull?.cursor).toEqual({ ts: '2026-01-01T00:00:00.000000Z', id: UUID_A });
    await tick('0 3 * * *');
    expect((await campaigns.status('campaigns')).pull?.cursor).toBeNull();
  });
});
