// The operator page and the run log listing it reads (planted into the coordinators' run logs).
import { applyD1Migrations } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DASHBOARD } from '../../src/dashboard/settings.ts';
import { emptyStats } from '../../src/sync/run.ts';
import type { DashboardData, PullLag, RunOutcome, RunSummary } from '../../src/types.ts';
import { coordinators, plantRuns } from './helpers.ts';

const BASE = 'http://sync.test';
const auth = { authorization: 'Bearer test-admin-token' };

interface LoggedRun {
  id: number;
  runId: string;
  entity: string;
  outcome: string;
  stats: { rowsRead: number; rowsApplied: number; pages: number };
  error: string | null;
  pullLag: PullLag | null;
}

describe('GET /dashboard', () => {
  it('is served without a token, as HTML under a strict CSP', async () => {
    const res = await exports.default.fetch(`${BASE}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = (res.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim());
    expect(csp).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "connect-src 'self'",
        'img-src data:',
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ]),
    );
    const html = await res.text();
    // Scripts: only the page's own, by the hash of its text (an injected inline script would not run).
    const served = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(served)));
    expect(csp).toContain(`script-src 'sha256-${btoa(String.fromCharCode(...digest))}'`);
    // No source outside the page: no scheme, host or wildcard in any directive (the hash, base64, may hold "//").
    expect(csp.filter((d) => !d.startsWith('script-src')).join(';')).not.toMatch(/https?:|\*|\/\//);
    expect(csp.find((d) => d.startsWith('script-src'))).toMatch(/^script-src 'sha256-[A-Za-z0-9+/]+=*'$/);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('name="viewport"');
    // One inline script, none loaded from anywhere.
    expect(html.match(/<script\b/gi)).toEqual(['<script']);
    expect(html).toContain('<script>');
    expect(html).not.toMatch(/<script[^>]*\ssrc\s*=/i);
  });

  it('serves the dashboard client exactly as a fresh build of src/dashboard/client makes it', async () => {
    const html = await (await exports.default.fetch(`${BASE}/dashboard`)).text();
    const served = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    // The global setup built it again from the sources; a stale client.bundle.js would differ.
    expect(served).toBe(inject('dashboardScript'));
  });

  it('quotes the numbers the client uses, from src/dashboard/settings.ts', async () => {
    const html = await (await exports.default.fetch(`${BASE}/dashboard`)).text();
    expect(html).toContain(`the ${DASHBOARD.runsShown} newest runs that moved data`);
    expect(html).toContain(`The ${DASHBOARD.conflictsPerEntity} newest per entity`);
    expect(html).toContain(`The ${DASHBOARD.integrityHistory} newest integrity runs`);
    expect(html).toContain(`refreshSeconds: ${DASHBOARD.refreshSeconds}`);
    expect(html).toContain('<input id="runs-idle" type="checkbox"');
    expect(html).toContain('<label for="runs-idle">Show idle runs</label>');
  });

  it('references no external asset', async () => {
    // The SVG namespace is an identifier the chart's createElementNS names, never fetched.
    const html = (await (await exports.default.fetch(`${BASE}/dashboard`)).text()).replaceAll('"http://www.w3.org/2000/svg"', '"SVG_NS"');
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
    // The client reads the page's data in one request, and drives the integrity API and the held rows' actions.
    expect(html).toContain('`/api/dashboard?${');
    expect(html).toContain('"/api/integrity/run"');
    expect(html).toContain('`held/${verb}`');
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

interface PlantedRun {
  runId: string;
  entity: 'prospects' | 'campaigns' | 'emails';
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  rows: number;
  error: string | null;
  pullLag: PullLag | null;
}

/** Planted runs, oldest first: two idle ones among runs that moved data or failed. */
const PLANTED: PlantedRun[] = [
  {
    runId: 'run-a',
    entity: 'prospects',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    outcome: 'caught-up',
    rows: 3,
    error: null,
    pullLag: { newestAppliedAt: '2025-12-31T23:59:58.000001Z', lagMs: 2999 },
  },
  {
    runId: 'idle-1',
    entity: 'campaigns',
    startedAt: '2026-01-01T00:00:30.000Z',
    finishedAt: '2026-01-01T00:00:30.100Z',
    outcome: 'caught-up',
    rows: 0,
    error: null,
    pullLag: null,
  },
  {
    runId: 'run-b',
    entity: 'emails',
    startedAt: '2026-01-01T00:01:00.000Z',
    finishedAt: '2026-01-01T00:01:02.000Z',
    outcome: 'failed',
    rows: 0,
    error: 'Supabase answered 503',
    pullLag: null,
  },
  {
    runId: 'run-c',
    entity: 'prospects',
    startedAt: '2026-01-01T00:02:00.000Z',
    finishedAt: '2026-01-01T00:02:01.000Z',
    outcome: 'caught-up',
    rows: 7,
    error: null,
    pullLag: null,
  },
  {
    runId: 'idle-2',
    entity: 'prospects',
    startedAt: '2026-01-01T00:03:00.000Z',
    finishedAt: '2026-01-01T00:03:00.050Z',
    outcome: 'caught-up',
    rows: 0,
    error: null,
    pullLag: null,
  },
];

/** A run as a coordinator's run log keeps it. */
function summary(run: Omit<PlantedRun, 'entity'>): RunSummary {
  return {
    runId: run.runId,
    trigger: 'manual',
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    outcome: run.outcome,
    stats: { ...emptyStats(), pages: 1, rowsRead: run.rows, rowsApplied: run.rows },
    error: run.error,
    nextRunAt: null,
    pullLag: run.pullLag,
  };
}

// Storage is shared by the tests of this file: the planted runs are there for every describe below.
beforeAll(async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  for (const name of ['prospects', 'campaigns', 'emails'] as const) {
    await plantRuns(coordinators.get(coordinators.idFromName(name)), name, PLANTED.filter((r) => r.entity === name).map(summary));
  }
});

describe('GET /api/sync/log', () => {
  it('needs the admin token', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`);
    expect(res.status).toBe(401);
    const body = await res.json<{ error: { code: string } }>();
    expect(body.error.code).toBe('unauthorized');
  });

  it.each(['limit=0', 'limit=201', 'limit=abc', 'limit=1.5', 'idle=no', 'idle='])('rejects %s with 400', async (query) => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log?${query}`, { headers: auth });
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

  it('lists every run newest first, idle ones included, shaped like a RunSummary', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`, { headers: auth });
    expect(res.status).toBe(200);
    const { runs } = await res.json<{ runs: LoggedRun[] }>();
    expect(runs.map((r) => r.runId)).toEqual(['idle-2', 'run-c', 'run-b', 'idle-1', 'run-a']);
    expect(runs[1]?.stats).toMatchObject({ rowsRead: 7, rowsApplied: 7, pages: 1 });
    expect(runs[2]).toMatchObject({ entity: 'emails', outcome: 'failed', error: 'Supabase answered 503', pullLag: null });
    expect(runs[4]?.pullLag).toEqual({ newestAppliedAt: '2025-12-31T23:59:58.000001Z', lagMs: 2999 });
  });

  it('leaves idle runs out with idle=exclude, and the limit counts the runs left', async () => {
    let res = await exports.default.fetch(`${BASE}/api/sync/log?idle=exclude&limit=3`, { headers: auth });
    expect((await res.json<{ runs: LoggedRun[] }>()).runs.map((r) => r.runId)).toEqual(['run-c', 'run-b', 'run-a']);
    res = await exports.default.fetch(`${BASE}/api/sync/log?idle=exclude&entity=prospects`, { headers: auth });
    expect((await res.json<{ runs: LoggedRun[] }>()).runs.map((r) => r.runId)).toEqual(['run-c', 'run-a']);
  });

  it('filters by entity and honours the limit', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log?entity=prospects&limit=2`, { headers: auth });
    expect(res.status).toBe(200);
    const { runs } = await res.json<{ runs: LoggedRun[] }>();
    expect(runs.map((r) => r.runId)).toEqual(['idle-2', 'run-c']);
  });

  it('allows only GET', async () => {
    const res = await exports.default.fetch(`${BASE}/api/sync/log`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(405);
  });
});

describe('GET /api/dashboard', () => {
  it('needs the admin token', async () => {
    const res = await exports.default.fetch(`${BASE}/api/dashboard`);
    expect(res.status).toBe(401);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('unauthorized');
    const wrong = await exports.default.fetch(`${BASE}/api/dashboard`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
  });

  it('answers everything the page shows in one request', async () => {
    const res = await exports.default.fetch(`${BASE}/api/dashboard`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json<DashboardData>();
    expect(Object.keys(body).sort()).toEqual(['charts', 'conflicts', 'generatedAt', 'integrity', 'quarantine', 'runs', 'status'].sort());
    expect(body.status.entities.map((s) => s.entity)).toEqual(['prospects', 'campaigns', 'mailboxes', 'emails']);
    expect(body.status).toMatchObject({
      supabaseToD1: { entities: ['prospects', 'campaigns', 'mailboxes'] },
      d1ToSupabase: { entities: ['prospects', 'emails'] },
    });
    for (const part of [body.runs, body.charts, body.conflicts, body.quarantine, body.integrity]) expect(part.ok).toBe(true);
    if (!body.runs.ok || !body.charts.ok || !body.integrity.ok || !body.conflicts.ok || !body.quarantine.ok) return;
    expect(body.runs.data).toMatchObject({ entity: null, idle: 'exclude' });
    expect(Object.keys(body.charts.data)).toEqual(['prospects', 'campaigns', 'mailboxes', 'emails']);
    expect(body.integrity.data.entities.map((e) => e.entity)).toEqual(['prospects', 'campaigns', 'mailboxes', 'emails']);
    expect(Array.isArray(body.integrity.data.history)).toBe(true);
    expect(body.conflicts.data).toEqual([]);
    expect(body.quarantine.data).toEqual([]);
    // Secrets never travel with the page's data.
    const text = JSON.stringify(body);
    for (const secret of ['test-admin-token', 'test-service-role-key']) expect(text).not.toContain(secret);
  });

  it('leaves idle runs out by default, lists them with idle=include, and filters by entity', async () => {
    const ids = async (query: string): Promise<{ runs: string[]; chart: string[] }> => {
      const body = await (await exports.default.fetch(`${BASE}/api/dashboard${query}`, { headers: auth })).json<DashboardData>();
      if (!body.runs.ok || !body.charts.ok) throw new Error('a part failed');
      return { runs: body.runs.data.runs.map((r) => r.runId), chart: (body.charts.data['prospects'] ?? []).map((r) => r.runId) };
    };
    expect(await ids('')).toEqual({ runs: ['run-c', 'run-b', 'run-a'], chart: ['run-c', 'run-a'] });
    expect(await ids('?idle=include')).toEqual({
      runs: ['idle-2', 'run-c', 'run-b', 'idle-1', 'run-a'],
      chart: ['idle-2', 'run-c', 'run-a'],
    });
    expect((await ids('?runs=1')).runs).toEqual(['run-c']);
    expect((await ids('?entity=emails')).runs).toEqual(['run-b']);
  });

  it.each(['runs=0', 'runs=201', 'runs=abc', 'history=0', 'history=201', 'idle=maybe', 'idle=', 'entity=', 'limit=5', 'runs=1&runs=2'])(
    'rejects %s with 400 invalid_query and zod details',
    async (query) => {
      const res = await exports.default.fetch(`${BASE}/api/dashboard?${query}`, { headers: auth });
      expect(res.status).toBe(400);
      const body = await res.json<{ error: { code: string; details: { path: string; message: string }[] } }>();
      expect(body.error.code).toBe('invalid_query');
      expect(body.error.details.length).toBeGreaterThan(0);
    },
  );

  it('answers 404 for an unknown entity and 405 for another method', async () => {
    let res = await exports.default.fetch(`${BASE}/api/dashboard?entity=contacts`, { headers: auth });
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('unknown_entity');
    res = await exports.default.fetch(`${BASE}/api/dashboard`, { method: 'POST', headers: auth });
    expect(res.status).toBe(405);
    expect((await res.json<{ error: { details: unknown } }>()).error.details).toEqual({ allow: ['GET'] });
  });
});
