// The operator page and the sync_log listing it reads.
import { applyD1Migrations } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const BASE = 'http://sync.test';
const auth = { authorization: 'Bearer test-admin-token' };

interface LoggedRun {
  id: number;
  runId: string;
  entity: string;
  outcome: string;
  stats: { rowsRead: number; rowsApplied: number; pages: number };
  error: string | null;
}

describe('GET /dashboard', () => {
  it('is served without a token, as HTML under a strict CSP', async () => {
    const res = await exports.default.fetch(`${BASE}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<script>');
    expect(html).toContain('name="viewport"');
  });

  it('references no external asset', async () => {
    const html = await (await exports.default.fetch(`${BASE}/dashboard`)).text();
    expect(html).not.toMatch(/\b(src|href|action)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
  });

  it('renders API data with DOM text, never innerHTML', async () => {
    const html = await (await exports.default.fetch(`${BASE}/dashboard`)).text();
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('has the consistency section: run buttons, alerts, per-entity results and the history table', async () => {
    const html = await (await exports.default.fetch(`${BASE}/dashboard`)).text();
    expect(html).toContain('<section id="consistency"');
    expect(html).toContain('<button id="integrity-run" type="button">Run checks</button>');
    expect(html).toContain('<button id="integrity-fix" type="button" class="primary">Run checks and fix</button>');
    for (const id of ['integrity-result', 'integrity-error', 'integrity-alerts', 'integrity-entities', 'integrity-history-body']) {
      expect(html).toContain(`id="${id}"`);
    }
    // The client reads and drives the integrity API, and the held rows' actions.
    expect(html).toContain("'/api/integrity?history='");
    expect(html).toContain("'/api/integrity/run'");
    expect(html).toContain("'/held/'");
    expect(html).not.toContain('Not available yet');
  });
});

describe('GET /api/integrity, as the dashboard reads it', () => {
  beforeAll(async () => {
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  });

  it('answers every entity with the fields the consistency section renders', async () => {
    const res = await exports.default.fetch(`${BASE}/api/integrity?history=20`, { headers: auth });
    expect(res.status).toBe(200);
    const body = await res.json<{ generatedAt: string; entities: Record<string, unknown>[]; history: unknown[] }>();
    expect(body.entities.map((e) => e['entity'])).toEqual(['prospects', 'campaigns', 'mailboxes', 'emails']);
    for (const e of body.entities) {
      expect(Object.keys(e)).toEqual(expect.arrayContaining(['direction', 'latest', 'jobs', 'held', 'heldCount', 'alerts']));
    }
    expect(Array.isArray(body.history)).toBe(true);
  });
});

describe('GET /api/sync/log', () => {
  beforeAll(async () => {
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    const insert = env.DB.prepare(
      `INSERT INTO sync_log (run_id, entity, direction, trigger, started_at, finished_at, outcome, pages, rows_read, rows_applied, error)
       VALUES (?1, ?2, ?3, 'manual', ?4, ?5, ?6, 1, ?7, ?7, ?8)`,
    );
    await env.DB.batch([
      insert.bind('run-a', 'prospects', 'both', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'caught-up', 3, null),
      insert.bind('run-b', 'emails', 'push', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:02.000Z', 'failed', 0, 'Supabase answered 503'),
      insert.bind('run-c', 'prospects', 'both', '2026-01-01T00:02:00.000Z', '2026-01-01T00:02:01.000Z', 'caught-up', 7, null),
    ]);
  });

  it('needs the admin token', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`);
    expect(res.status).toBe(401);
    const body = await res.json<{ error: { code: string } }>();
    expect(body.error.code).toBe('unauthorized');
  });

  it.each(['0', '201', 'abc', '1.5'])('rejects limit=%s with 400', async (limit) => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log?limit=${limit}`, { headers: auth });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; details: unknown[] } }>();
    expect(body.error.code).toBe('invalid_query');
    expect(body.error.details.length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown entity', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log?entity=sync_log`, { headers: auth });
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('unknown_entity');
  });

  it('lists runs newest first, shaped like a RunSummary', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`, { headers: auth });
    expect(res.status).toBe(200);
    const { runs } = await res.json<{ runs: LoggedRun[] }>();
    expect(runs.map((r) => r.runId)).toEqual(['run-c', 'run-b', 'run-a']);
    expect(runs[0]?.stats).toMatchObject({ rowsRead: 7, rowsApplied: 7, pages: 1 });
    expect(runs[1]).toMatchObject({ entity: 'emails', outcome: 'failed', error: 'Supabase answered 503' });
  });

  it('filters by entity and honours the limit', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log?entity=prospects&limit=1`, { headers: auth });
    expect(res.status).toBe(200);
    const { runs } = await res.json<{ runs: LoggedRun[] }>();
    expect(runs.map((r) => r.runId)).toEqual(['run-c']);
  });

  it('allows only GET', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(405);
  });
});
