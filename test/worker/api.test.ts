import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import worker from '../../src/index.ts';
import { ENTITY_NAMES } from '../../src/entities.ts';
import type { IntegrityHistoryEntry } from '../../src/stores/integrity.ts';
import type { EntityIntegrity, IntegrityJobStatus, IntegrityRequestResult, IntegrityRun } from '../../src/types.ts';
import { alarmAt, coordinators, plantLease, removeLease } from './helpers.ts';

const TOKEN = 'test-admin-token';
const UUID_A = '5b0f6c1e-8a7d-4a55-9a7e-0d5f0c1e2a11';
const auth = { authorization: `Bearer ${TOKEN}` };

function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...auth, ...init.headers };
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return exports.default.fetch(`http://sync.test${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

async function errorOf(res: Response): Promise<{ code: string; message: string; details?: unknown }> {
  const body = await res.json<{ error: { code: string; message: string; details?: unknown } }>();
  return body.error;
}

/** The production coordinator of `name` (the object the routes address). */
function coordinatorOf(name: string) {
  return coordinators.get(coordinators.idFromName(name));
}

/**
 * Brings production coordinators to a known quiet state: paused (no alarm armed, none will be),
 * no run in flight and no integrity work pending. Tests that act on them start and end with it,
 * so they depend on no other test and leave no alarm behind (a pending alarm keeps the runtime
 * waiting at teardown). Integrity work outlives a pause (an alarm runs it even then), so it is
 * finished here: a resync's re-read advances by sync runs; its sweep, or a check, by asking for a
 * check, which joins the pending one.
 */
async function settle(names: readonly string[] = ENTITY_NAMES): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const stub = coordinatorOf(name);
      await stub.pause(name);
      await expect
        .poll(
          async () => {
            const { lease, jobs } = await stub.status(name);
            if (lease !== null) return 'a run holds the lease';
            if (jobs.length === 0) return 'quiet';
            if (jobs.some((j) => j.kind === 'resync' && j.phase === 'reread')) await stub.syncNow(name);
            else await stub.runIntegrity(name, { fix: false, reconcile: false, trigger: 'manual' });
            return `finishing: ${jobs.map((j) => `${j.kind} ${j.phase}`).join(', ')}`;
          },
          { timeout: 30_000 },
        )
        .toBe('quiet');
      // The jobs may have armed an alarm for themselves.
      await stub.pause(name);
    }),
  );
}

/** Runs `body` while a planted run holds `name`'s lease (as a run in progress would), then removes it. */
async function whileLeaseHeld(name: string, body: () => Promise<void>): Promise<void> {
  const stub = coordinatorOf(name);
  await plantLease(stub, { runId: 'r-1', expiresAt: Date.now() + 60_000 });
  try {
    await body();
  } finally {
    await removeLease(stub);
  }
}

/** Sets rows of `name` aside as an integrity fix does (the coordinator's held table). */
async function plantHeld(name: string, ids: readonly string[]): Promise<void> {
  await runInDurableObject(coordinatorOf(name), (_i, state) => {
    for (const id of ids) {
      state.storage.sql.exec(
        `INSERT OR REPLACE INTO held (row_id, reason, check_name, held_at) VALUES (?, 'duplicate message_id: planted by the API test', 'duplicate_message_ids', ?)`,
        id,
        new Date().toISOString(),
      );
    }
  });
}

/** An outbound email written to D1 the ordinary way (its outbox trigger queues it). */
async function insertEmail(id: string = crypto.randomUUID()): Promise<string> {
  await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x.example', 'b@x.example', 'outbound')`)
    .bind(id)
    .run();
  return id;
}

/** The outbox entries of one row, oldest first. */
async function outboxOps(entity: string, id: string): Promise<string[]> {
  const r = await env.DB.prepare('SELECT op FROM sync_outbox WHERE entity = ?1 AND row_id = ?2 ORDER BY seq')
    .bind(entity, id)
    .all<{ op: string }>();
  return r.results.map((x) => x.op);
}

/** The answer of GET /api/integrity. */
interface IntegrityReport {
  generatedAt: string;
  entities: EntityIntegrity[];
  history: IntegrityHistoryEntry[];
}

/** GET /api/integrity, parsed. */
async function integrityReport(query = ''): Promise<IntegrityReport> {
  const res = await call('GET', `/api/integrity${query}`);
  expect(res.status).toBe(200);
  return await res.json<IntegrityReport>();
}

/** The answer of POST /api/integrity/run. */
interface IntegrityRunAnswer {
  fix: boolean;
  reconcile: boolean;
  runs: ({ entity: string } & IntegrityRequestResult)[];
}

/** The finished run of one entity's answer, or a failure saying what it was instead. */
function finished(result: { entity: string } & IntegrityRequestResult): IntegrityRun {
  if (result.status !== 'done') throw new Error(`${result.entity}: the integrity run did not finish: ${JSON.stringify(result)}`);
  return result.run;
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
  ['GET', '/objects/prospects/held'],
  ['POST', '/objects/prospects/held/release'],
  ['POST', '/objects/prospects/held/delete'],
  ['GET', '/api/sync/status'],
  ['GET', '/api/sync/log'],
  ['GET', '/api/dashboard'],
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
    const res = await exports.default.fetch('http://sync.test/health');
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
      const res = await exports.default.fetch(`http://sync.test${path}`, { method, headers });
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
      ['GET', '/objects/nope/status'],
      ['POST', '/objects/nope/sync'],
      ['POST', '/objects/nope/reset'],
      ['POST', '/objects/nope/pause'],
      ['POST', '/objects/nope/resume'],
      ['GET', '/objects/nope/conflicts'],
      ['GET', '/objects/nope/quarantine'],
      ['POST', '/api/sync/inbox_items'],
      ['POST', '/objects/__proto__/sync'],
      ['GET', '/objects/nope/held'],
      ['POST', '/objects/nope/held/release'],
      ['POST', '/objects/nope/held/delete'],
      ['GET', '/api/integrity?entity=nope'],
      ['GET', '/api/sync/log?entity=nope'],
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
      ['GET', '/objects/prospects/sync', ['POST']],
      ['DELETE', '/api/sync/status', ['GET']],
      ['POST', '/api/sync/status', ['GET']],
      ['POST', '/api/sync/log', ['GET']],
      ['PUT', '/admin/resync', ['POST']],
      ['GET', '/admin/resync', ['POST']],
      ['POST', '/health', ['GET']],
      ['POST', '/objects/prospects/held', ['GET']],
      ['DELETE', '/objects/prospects/held', ['GET']],
      ['GET', '/objects/prospects/held/release', ['POST']],
      ['GET', '/objects/prospects/held/delete', ['POST']],
      ['PUT', '/objects/prospects/held/delete', ['POST']],
      ['POST', '/api/integrity', ['GET']],
      ['GET', '/api/integrity/run', ['POST']],
      ['POST', '/api/dashboard', ['GET']],
      ['GET', '/api/sync/full', ['POST']],
      ['GET', '/api/sync/prospects', ['POST']],
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
    const status = await res.json<{ entity: string; direction: string; settings: unknown }>();
    expect(status).toMatchObject({ entity: 'campaigns', direction: 'pull' });

    res = await call('POST', '/objects/campaigns/sync');
    expect(res.status).toBe(200);
    const run = await res.json<{ ran: boolean; run?: { outcome: string } }>();
    expect(run.ran).toBe(true);
    expect(run.run?.outcome).toBe('caught-up');

    res = await call('POST', '/objects/campaigns/pause');
    expect(await res.json<{ paused: boolean; nextAlarmAt: string | null }>()).toMatchObject({ paused: true, nextAlarmAt: null });
    res = await call('POST', '/objects/campaigns/resume');
    const resumed = await res.json<{ paused: boolean; nextAlarmAt: string | null }>();
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
    expect((await res.json<{ pull: { cursor: unknown } }>()).pull.cursor).toEqual({ ts: '2026-01-01T00:00:00.000000Z', id: UUID_A });
    res = await call('POST', '/objects/mailboxes/reset');
    expect((await res.json<{ pull: { cursor: unknown } }>()).pull.cursor).toBeNull();

    await whileLeaseHeld('mailboxes', async () => {
      res = await call('POST', '/objects/mailboxes/reset');
      expect(res.status).toBe(409);
      const err = await errorOf(res);
      expect(err.code).toBe('run_in_progress');
      expect(err.details).toMatchObject({ lease: { runId: 'r-1' } });
      res = await call('POST', '/objects/mailboxes/sync');
      expect(await res.json()).toMatchObject({ ran: false, reason: 'coalesced', lease: { runId: 'r-1' } });
    });
    res = await call('POST', '/objects/mailboxes/resume');
    expect((await res.json<{ paused: boolean }>()).paused).toBe(false);
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
    const res = await call('POST', '/objects/mailboxes/reset', {
      body: { cursor: { ts: '2026-01-01T00:00:00Z', id: UUID_A.toUpperCase() } },
    });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_cursor');
    expect(err.details).toEqual([{ path: 'cursor.id', message: expect.stringContaining('lower case') }]);
    expect((err.details as { message: string }[])[0]?.message).toContain(JSON.stringify(UUID_A));
    expect(await pullCursor('mailboxes')).toBeNull();
  });

  it('stores a reset cursor in canonical form from either shape, and takes back what status shows', async () => {
    let res = await call('POST', '/objects/mailboxes/reset', {
      body: { cursor: { updated_at: '2026-01-01 02:30:00.5+02:30', id: UUID_A }, scope: 'pull' },
    });
    expect(res.status).toBe(200);
    const shown = (await res.json<{ pull: { cursor: unknown } }>()).pull.cursor;
    expect(shown).toEqual({ ts: '2026-01-01T00:00:00.500000Z', id: UUID_A });

    await call('POST', '/objects/mailboxes/reset');
    expect(await pullCursor('mailboxes')).toBeNull();
    // The shape status answers goes straight back into a reset.
    res = await call('POST', '/objects/mailboxes/reset', { body: { cursor: shown } });
    expect(res.status).toBe(200);
    expect(await pullCursor('mailboxes')).toEqual(shown);

    res = await call('POST', '/objects/mailboxes/reset', {
      body: { cursor: { ts: '0100-01-01T00:00:00Z', id: '00000000-0000-0000-0000-000000000000' } },
    });
    expect(res.status).toBe(200);
    expect(await pullCursor('mailboxes')).toEqual({ ts: '0100-01-01T00:00:00.000000Z', id: '00000000-0000-0000-0000-000000000000' });
  });

  it('scope "requeue" re-sends every current D1 row and moves no cursor; "push", its first name, still works; a cursor with it is refused', async () => {
    await settle(['emails']);
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    for (const id of ids) {
      await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x.example', 'b@x.example', 'outbound')`)
        .bind(id)
        .run();
    }
    const queued = async (): Promise<number> =>
      (
        await env.DB.prepare(
          `SELECT count(*) AS n FROM sync_outbox WHERE entity = 'emails' AND row_id IN (SELECT value FROM json_each(?1))`,
        )
          .bind(JSON.stringify(ids))
          .first<{ n: number }>()
      )?.n ?? 0;
    expect(await queued()).toBe(2); // the edge inserts themselves
    for (const scope of ['requeue', 'push']) {
      const res = await call('POST', '/objects/emails/reset', { body: { scope } });
      expect(res.status, scope).toBe(200);
    }
    // Each reset queued every row once more, behind the first writes.
    expect(await queued()).toBe(6);
    const res = await call('POST', '/objects/emails/reset', {
      body: { scope: 'requeue', cursor: { ts: '2026-01-01T00:00:00Z', id: UUID_A } },
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_body',
      details: [expect.objectContaining({ path: 'cursor', message: expect.stringContaining('moves no cursor') })],
    });
    expect(await queued()).toBe(6);
  });

  it('reports overall status with both directions and unsyncedEmails, and never leaks secrets', async () => {
    await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x.example', 'b@x.example', 'outbound')`)
      .bind(crypto.randomUUID())
      .run();
    const res = await call('GET', '/api/sync/status');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(inject('supabaseServiceRoleKey'));
    expect(text).not.toContain(TOKEN);
    const body = JSON.parse(text) as {
      unsyncedEmails: number;
      supabaseToD1: { entities: string[] };
      d1ToSupabase: { entities: string[] };
      entities: unknown[];
    };
    expect(body.unsyncedEmails).toBeGreaterThanOrEqual(1);
    expect(body.supabaseToD1.entities).toEqual(['prospects', 'campaigns', 'mailboxes']);
    expect(body.d1ToSupabase.entities).toEqual(['prospects', 'emails']);
    expect(body.entities).toHaveLength(4);

    const sync = await call('POST', '/api/sync/emails');
    expect((await sync.json<{ ran: boolean }>()).ran).toBe(true);
    const after = await (await call('GET', '/api/sync/status')).json<{ unsyncedEmails: number }>();
    expect(after.unsyncedEmails).toBe(0);
  });

  it('runs a full sync of every entity', async () => {
    const res = await call('POST', '/api/sync/full');
    expect(res.status).toBe(200);
    const full = await res.json<{ runs: { entity: string; result: { ran: boolean } }[] }>();
    expect(full.runs.map((r) => [r.entity, r.result.ran])).toEqual(ENTITY_NAMES.map((name) => [name, true]));
  });
});

describe('integrity checks', () => {
  beforeEach(() => settle());
  afterEach(() => settle());

  it("GET /api/integrity answers every entity's integrity state and the recent history", async () => {
    const report = await integrityReport();
    expect(Number.isNaN(Date.parse(report.generatedAt))).toBe(false);
    expect(report.entities.map((e) => [e.entity, e.direction])).toEqual([
      ['prospects', 'both'],
      ['campaigns', 'pull'],
      ['mailboxes', 'pull'],
      ['emails', 'push'],
    ]);
    for (const e of report.entities) {
      expect(Object.keys(e).sort()).toEqual(['alerts', 'direction', 'entity', 'held', 'heldCount', 'jobs', 'latest']);
      // settle() left no work pending and nothing here holds rows.
      expect(e).toMatchObject({ jobs: [], held: [], heldCount: 0 });
    }
    expect(Array.isArray(report.history)).toBe(true);

    const one = await integrityReport('?entity=emails&history=1');
    expect(one.entities.map((e) => e.entity)).toEqual(['emails']);
    expect(one.history.length).toBeLessThanOrEqual(1);
    expect(one.history.every((h) => h.entity === 'emails')).toBe(true);
    await integrityReport('?history=200');
  });

  it('GET /api/integrity refuses a history outside 1–200 with 400 and an unknown entity with 404', async () => {
    for (const query of ['history=0', 'history=201', 'history=-1', 'history=1.5', 'history=abc', 'history=', 'history=1&history=2']) {
      const res = await call('GET', `/api/integrity?${query}`);
      expect(res.status, query).toBe(400);
      const err = await errorOf(res);
      expect(err.code, query).toBe('invalid_query');
      expect(err.details, query).toEqual([expect.objectContaining({ path: 'history' })]);
    }
    let res = await call('GET', '/api/integrity?entity=');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details).toEqual([expect.objectContaining({ path: 'entity' })]);
    for (const entity of ['nope', 'CAMPAIGNS', '__proto__']) {
      res = await call('GET', `/api/integrity?entity=${entity}`);
      expect(res.status, entity).toBe(404);
      expect((await errorOf(res)).code).toBe('unknown_entity');
    }
  });

  it('POST /api/integrity/run runs the checks of the entities named, or of every entity, and GET /api/integrity shows the runs', async () => {
    // Duplicates are folded: one run.
    let res = await call('POST', '/api/integrity/run', { body: { entities: ['campaigns', 'campaigns'], reconcile: false } });
    expect(res.status).toBe(200);
    const counted = await res.json<IntegrityRunAnswer>();
    expect(counted).toMatchObject({
      fix: false,
      reconcile: false,
      runs: [{ entity: 'campaigns', status: 'done', run: { entity: 'campaigns', trigger: 'manual', fix: false, reconciled: false } }],
    });
    const countedId = counted.runs.map(finished)[0]?.runId;

    // No body: every entity, checks only (fix false), every row compared (reconcile true). The lease is free, the tables small: done at once.
    res = await call('POST', '/api/integrity/run');
    expect(res.status).toBe(200);
    const all = await res.json<IntegrityRunAnswer>();
    expect(all).toMatchObject({ fix: false, reconcile: true });
    expect(all.runs.map((r) => [r.entity, r.status])).toEqual(ENTITY_NAMES.map((name) => [name, 'done']));
    const runs = all.runs.map(finished);
    for (const [i, run] of runs.entries()) {
      expect(run).toMatchObject({ entity: ENTITY_NAMES[i], trigger: 'manual', fix: false, reconciled: true, error: null });
      expect(run.checks.map((c) => c.check)).toContain('row_counts');
    }
    const runIds = runs.map((r) => r.runId);

    const report = await integrityReport();
    expect(report.entities.map((e) => e.latest?.runId)).toEqual(runIds);
    expect(report.entities.every((e) => e.jobs.length === 0)).toBe(true);
    expect(report.history.map((h) => h.runId)).toEqual(expect.arrayContaining(runIds));
    const campaigns = await integrityReport('?entity=campaigns&history=2');
    // Newest first.
    expect(campaigns.history.map((h) => h.runId)).toEqual([runIds[1], countedId]);
    const status = await (
      await call('GET', '/objects/campaigns/status')
    ).json<{
      integrity: { lastRunAt: string } | null;
      jobs: unknown[];
    }>();
    expect(status.integrity?.lastRunAt).toBe(report.entities[1]?.latest?.finishedAt);
    expect(status.jobs).toEqual([]);
  });

  it('POST /api/integrity/run refuses a malformed body with 400 and runs nothing', async () => {
    const before = (await integrityReport()).entities.map((e) => e.latest?.runId ?? null);
    const refused: [unknown, string][] = [
      [{ fix: 'yes' }, 'fix'],
      [{ fix: 1 }, 'fix'],
      [{ fix: null }, 'fix'],
      [{ reconcile: 'no' }, 'reconcile'],
      [{ fix: true, extra: 1 }, ''],
      [{ entities: ['campaigns'], dryRun: true }, ''],
      [{ entities: [] }, 'entities'],
      [{ entities: ['nope'] }, 'entities.0'],
      [{ entities: ['campaigns', 'CAMPAIGNS'] }, 'entities.1'],
      [{ entities: ['__proto__'] }, 'entities.0'],
      [{ entities: 'campaigns' }, 'entities'],
      [{ entities: [''] }, 'entities.0'],
      [{ entities: Array.from({ length: 33 }, () => 'campaigns') }, 'entities'],
      [[], ''],
      [null, ''],
    ];
    for (const [body, path] of refused) {
      const res = await call('POST', '/api/integrity/run', { body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = await errorOf(res);
      expect(err.code, JSON.stringify(body)).toBe('invalid_body');
      expect(err.details, JSON.stringify(body)).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    const res = await call('POST', '/api/integrity/run', { body: '{"fix":' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');

    const after = await integrityReport();
    expect(after.entities.map((e) => e.latest?.runId ?? null)).toEqual(before);
    expect(after.entities.map((e) => e.jobs)).toEqual(ENTITY_NAMES.map(() => []));
  });
});

describe('full resync', () => {
  beforeEach(() => settle());
  afterEach(() => settle());

  it("POST /admin/resync asks every entity for a resync and answers each one's job", async () => {
    const res = await call('POST', '/admin/resync');
    expect(res.status).toBe(200);
    const body = await res.json<{ resync: { entity: string; job: IntegrityJobStatus }[] }>();
    expect(body.resync.map((r) => r.entity)).toEqual(ENTITY_NAMES);
    for (const { entity, job } of body.resync) {
      // Paused (settle), so the re-read waits for a sync run: resume, the next alarm or a manual sync.
      expect(job, entity).toEqual({
        kind: 'resync',
        requestedAt: expect.any(String),
        trigger: 'manual',
        fix: true,
        phase: 'reread',
        progress: expect.any(String),
      });
      expect((await coordinatorOf(entity).status(entity)).jobs, entity).toEqual([job]);
    }
    // The pulled tables re-read from the beginning, in place.
    expect(await pullCursor('campaigns')).toBeNull();
  });

  it('re-reads in place, then sweeps the rows absent upstream, driven by the alarms once the entity runs', async () => {
    const extra = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (?1, 'only in D1', ?2, ?2)`)
      .bind(extra, '2026-01-01T00:00:00.000000Z')
      .run();
    let res = await call('POST', '/admin/resync', { body: { entities: ['campaigns', 'campaigns'] } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resync: [{ entity: 'campaigns', job: expect.objectContaining({ kind: 'resync', phase: 'reread' }) }],
    });
    expect((await coordinatorOf('mailboxes').status('mailboxes')).jobs).toEqual([]);

    res = await call('POST', '/objects/campaigns/resume');
    expect(res.status).toBe(200);
    const stub = coordinatorOf('campaigns');
    await expect
      .poll(
        async () => {
          const s = await stub.status('campaigns');
          return s.jobs.length === 0 && s.lease === null;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const { latest } = (await integrityReport('?entity=campaigns')).entities[0] ?? {};
    expect(latest).toMatchObject({ trigger: 'resync', fix: true, reconciled: true });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM campaigns WHERE id = ?1').bind(extra).first<{ n: number }>()).toEqual({ n: 0 });
  });

  it('remembers a resync asked for while a run holds the lease', async () => {
    let requestedAt = '';
    await whileLeaseHeld('mailboxes', async () => {
      const res = await call('POST', '/admin/resync', { body: { entities: ['mailboxes'] } });
      expect(res.status).toBe(200);
      const body = await res.json<{ resync: { entity: string; job: IntegrityJobStatus }[] }>();
      expect(body).toEqual({
        resync: [{ entity: 'mailboxes', job: expect.objectContaining({ kind: 'resync', trigger: 'manual', phase: 'start' }) }],
      });
      requestedAt = body.resync[0]?.job.requestedAt ?? '';
      expect((await coordinatorOf('mailboxes').status('mailboxes')).jobs).toEqual([
        expect.objectContaining({ kind: 'resync', phase: 'start' }),
      ]);
    });
    // Asking again joins the pending resync (same request time); with the lease free it starts at once.
    const res = await call('POST', '/admin/resync', { body: { entities: ['mailboxes'] } });
    expect(await res.json()).toEqual({ resync: [{ entity: 'mailboxes', job: expect.objectContaining({ phase: 'reread', requestedAt }) }] });
  });

  it('refuses a malformed body with 400 and starts nothing', async () => {
    const refused: [unknown, string][] = [
      [{ entities: [] }, 'entities'],
      [{ entities: ['nope'] }, 'entities.0'],
      [{ entities: 'campaigns' }, 'entities'],
      [{ entities: ['campaigns'], fix: true }, ''],
      [{ x: 1 }, ''],
      [{ entities: Array.from({ length: 33 }, () => 'emails') }, 'entities'],
      [[], ''],
    ];
    for (const [body, path] of refused) {
      const res = await call('POST', '/admin/resync', { body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = await errorOf(res);
      expect(err.code, JSON.stringify(body)).toBe('invalid_body');
      expect(err.details, JSON.stringify(body)).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
    const res = await call('POST', '/admin/resync', { body: '{' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');
    for (const name of ENTITY_NAMES) expect((await coordinatorOf(name).status(name)).jobs, name).toEqual([]);
  });
});

describe('held rows', () => {
  beforeEach(() => settle());
  afterEach(() => settle());

  it('lists none on an entity with nothing held; release and delete of rows not held change nothing', async () => {
    for (const name of ENTITY_NAMES) {
      const res = await call('GET', `/objects/${name}/held?limit=5`);
      expect(res.status, name).toBe(200);
      expect(await res.json()).toEqual({ entity: name, rows: [] });
    }
    const id = await insertEmail();
    let res = await call('POST', '/objects/emails/held/release', { body: { ids: [id, UUID_A] } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ entity: 'emails', released: [] });
    res = await call('POST', '/objects/emails/held/delete', { body: { ids: [id] } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ entity: 'emails', deleted: [] });
    // Not held, so neither queued again nor deleted: only the insert's own outbox entry.
    expect(await outboxOps('emails', id)).toEqual(['upsert']);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM emails WHERE id = ?1').bind(id).first<{ n: number }>()).toEqual({ n: 1 });
  });

  it('lists held rows; release queues a row for the push again, delete removes it from D1; both refused with 409 during a run', async () => {
    const [kept, dropped] = [await insertEmail(), await insertEmail()];
    await plantHeld('emails', [kept, dropped]);
    let res = await call('GET', '/objects/emails/held');
    const listed = await res.json<{ entity: string; rows: { rowId: string; reason: string; check: string; heldAt: string }[] }>();
    expect(listed.entity).toBe('emails');
    expect(listed.rows.map((r) => r.rowId).sort()).toEqual([kept, dropped].sort());
    expect(listed.rows[0]).toEqual({
      rowId: expect.any(String),
      reason: expect.stringContaining('planted'),
      check: 'duplicate_message_ids',
      heldAt: expect.any(String),
    });
    expect((await coordinatorOf('emails').status('emails')).held).toBe(2);

    await whileLeaseHeld('emails', async () => {
      for (const action of ['release', 'delete']) {
        res = await call('POST', `/objects/emails/held/${action}`, { body: { ids: [kept] } });
        expect(res.status, action).toBe(409);
        const err = await errorOf(res);
        expect(err.code).toBe('run_in_progress');
        expect(err.details).toMatchObject({ lease: { runId: 'r-1' } });
      }
    });
    expect((await coordinatorOf('emails').status('emails')).held).toBe(2);

    res = await call('POST', '/objects/emails/held/release', { body: { ids: [kept, UUID_A] } });
    expect(await res.json()).toEqual({ entity: 'emails', released: [kept] });
    expect(await outboxOps('emails', kept)).toEqual(['upsert', 'upsert']);
    res = await call('POST', '/objects/emails/held/delete', { body: { ids: [dropped] } });
    expect(await res.json()).toEqual({ entity: 'emails', deleted: [dropped] });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM emails WHERE id = ?1').bind(dropped).first<{ n: number }>()).toEqual({ n: 0 });
    // Deleted as an edge writer would: the push sends the delete to Supabase.
    expect(await outboxOps('emails', dropped)).toEqual(['upsert', 'delete']);
    expect(await (await call('GET', '/objects/emails/held')).json()).toEqual({ entity: 'emails', rows: [] });
  });

  it('refuses a malformed ids body or limit with 400', async () => {
    const refused: [unknown, string][] = [
      [{}, 'ids'],
      [{ ids: [] }, 'ids'],
      [{ ids: UUID_A }, 'ids'],
      [{ ids: [1] }, 'ids.0'],
      [{ ids: [''] }, 'ids.0'],
      [{ ids: ['a'.repeat(129)] }, 'ids.0'],
      [{ ids: Array.from({ length: 1001 }, () => UUID_A) }, 'ids'],
      [{ ids: [UUID_A], reason: 'x' }, ''],
      [[UUID_A], ''],
    ];
    for (const action of ['release', 'delete']) {
      for (const [body, path] of refused) {
        const res = await call('POST', `/objects/emails/held/${action}`, { body: JSON.stringify(body) });
        expect(res.status, `${action} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
        const err = await errorOf(res);
        expect(err.code).toBe('invalid_body');
        expect(err.details, `${action} ${JSON.stringify(body).slice(0, 80)}`).toEqual(
          expect.arrayContaining([expect.objectContaining({ path })]),
        );
      }
      const res = await call('POST', `/objects/emails/held/${action}`);
      expect(res.status, `${action} without a body`).toBe(400);
    }
    for (const limit of ['0', '501', 'abc']) {
      const res = await call('GET', `/objects/emails/held?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_query');
    }
  });
});

describe('cron', () => {
  async function tick(cron: string): Promise<void> {
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
  }

  beforeEach(() => settle());
  afterEach(() => settle());

  it('*/10 arms every coordinator; 0 3 also starts a resync of every entity, re-reading the pulled tables from the beginning', async () => {
    // Running but with no alarm: resume (which runs at once), wait for that run to end, drop its next alarm.
    const lastRunIds = new Map<string, string | undefined>();
    for (const name of ENTITY_NAMES) {
      const stub = coordinatorOf(name);
      const before = (await stub.status(name)).lastRun?.runId;
      await stub.resume(name);
      await expect
        .poll(
          async () => {
            const s = await stub.status(name);
            return s.lease === null && s.lastRun?.runId !== before && s.nextAlarmAt !== null;
          },
          { timeout: 15_000 },
        )
        .toBe(true);
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
    const after = await campaigns.status('campaigns');
    expect(after.pull?.cursor).toBeNull();
    // Paused: the re-read waits for a sync run, then the sweep removes what is absent upstream.
    expect(after.jobs).toEqual([expect.objectContaining({ kind: 'resync', trigger: 'daily', phase: 'reread' })]);
  });
});
