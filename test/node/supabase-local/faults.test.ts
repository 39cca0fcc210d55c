// Fault injection (error rate, 429 + Retry-After, latency, dropped connections, onlyPaths,
// count) and request stats, all scoped to one database.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'faults';
const OTHER = 'faults_other';
let server: LocalSupabase;

const setFaults = async (db: string, config: unknown): Promise<Response> =>
  raw(server, db, '/_dev/faults', { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(config) });

beforeAll(async () => {
  server = await startFixtureServer();
  await sql(server, DB, "insert into sl_items (id, name) select g, 'item ' || g from generate_series(1, 200) g");
  await sql(server, OTHER, 'select 1');
});

beforeEach(async () => {
  await raw(server, DB, '/_dev/faults', { method: 'DELETE' });
  await raw(server, DB, '/_dev/stats/reset', { method: 'POST' });
  await raw(server, OTHER, '/_dev/stats', { method: 'DELETE' });
});

afterAll(async () => {
  await server.close();
});

describe('faults', () => {
  it('are off by default and can be shown and cleared', async () => {
    const shown = await (await raw(server, DB, '/_dev/faults')).json();
    expect(shown).toEqual({ active: false, config: null, remaining: null });
    await setFaults(DB, { errorRate: 1, count: 2 });
    expect(await (await raw(server, DB, '/_dev/faults')).json()).toEqual({
      active: true,
      config: { errorRate: 1, count: 2 },
      remaining: 2,
    });
    await raw(server, DB, '/_dev/faults', { method: 'DELETE' });
    expect((await raw(server, DB, '/rest/v1/sl_items?limit=1')).status).toBe(200);
  });

  it('rejects invalid configurations', async () => {
    expect((await setFaults(DB, { errorRate: 2 })).status).toBe(400);
    expect((await setFaults(DB, { bogus: true })).status).toBe(400);
    expect((await setFaults(DB, { rateLimit: {} })).status).toBe(400);
  });

  it('errorRate answers errorStatus with a PostgREST-shaped body; count limits it to N requests', async () => {
    await setFaults(DB, { errorRate: 1, errorStatus: 500, count: 2 });
    const first = await raw(server, DB, '/rest/v1/sl_items?limit=1');
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ code: 'FAULT500', details: null, hint: null });
    expect((await raw(server, DB, '/rest/v1/sl_items?limit=1')).status).toBe(500);
    expect((await raw(server, DB, '/rest/v1/sl_items?limit=1')).status).toBe(200);
  });

  it('faults are scoped to their database and to onlyPaths', async () => {
    await setFaults(DB, { errorRate: 1, onlyPaths: 'rpc/' });
    expect((await raw(server, OTHER, '/rest/v1/sl_items')).status).toBe(200);
    expect((await raw(server, DB, '/rest/v1/sl_items?limit=1')).status).toBe(200);
    expect(
      (await raw(server, DB, '/rest/v1/rpc/sl_add', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }))
        .status,
    ).toBe(503);
    // _dev endpoints are never faulted
    expect((await raw(server, DB, '/_dev/stats')).status).toBe(200);
  });

  it('rateLimit answers 429 with Retry-After', async () => {
    await setFaults(DB, { rateLimit: { rate: 1, retryAfterSeconds: 30 } });
    const res = await raw(server, DB, '/rest/v1/sl_items');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    const sb = await client(server, DB).from('sl_items').insert({ id: 1000, name: 'x' });
    expect(sb.status).toBe(429);
    expect(await sql(server, DB, 'select count(*)::int as n from sl_items where id = 1000')).toEqual([{ n: 0 }]);
  });

  it('latencyMs delays the response', async () => {
    await setFaults(DB, { latencyMs: 300 });
    const started = Date.now();
    const res = await raw(server, DB, '/rest/v1/sl_items?limit=1');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('dropRate runs the request but cuts the connection mid-response', async () => {
    await setFaults(DB, { dropRate: 1, count: 1 });
    const res = await raw(server, DB, '/rest/v1/sl_items', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Prefer: 'return=representation' },
      body: '{"id": 2000, "name": "dropped"}',
    });
    expect(res.status).toBe(201); // the headers arrived ...
    await expect(res.text()).rejects.toThrow(); // ... the body did not
    // the write happened: a client retrying must be idempotent
    expect(await sql(server, DB, 'select name from sl_items where id = 2000')).toEqual([{ name: 'dropped' }]);
  });

  it('supabase-js retries idempotent reads on 503 and dropped connections (X-Retry-Count)', async () => {
    await setFaults(DB, { errorRate: 1, count: 1, errorStatus: 503 });
    const { data, error } = await client(server, DB).from('sl_items').select('id').eq('id', 1);
    expect(error).toBeNull();
    expect(data).toEqual([{ id: 1 }]);
    const stats = (await (await raw(server, DB, '/_dev/stats')).json()) as { requests: Record<string, number> };
    expect(stats.requests['GET sl_items']).toBe(2);
  });
});

describe('stats', () => {
  it('counts requests per method and table, and resets', async () => {
    const sb = client(server, DB);
    for (let offset = 0; offset < 200; offset += 100)
      await sb
        .from('sl_items')
        .select('id')
        .order('id')
        .range(offset, offset + 99);
    await sb.rpc('sl_add', { a: 1 });
    await sb.from('sl_items').update({ qty: 1 }).eq('id', 1);
    const stats = (await (await raw(server, DB, '/_dev/stats')).json()) as { total: number; requests: Record<string, number> };
    expect(stats).toEqual({ total: 4, requests: { 'GET sl_items': 2, 'PATCH sl_items': 1, 'POST rpc/sl_add': 1 } });
    const other = (await (await raw(server, OTHER, '/_dev/stats')).json()) as { total: number };
    expect(other.total).toBe(0);
    await raw(server, DB, '/_dev/stats/reset', { method: 'POST' });
    expect(await (await raw(server, DB, '/_dev/stats')).json()).toEqual({ total: 0, requests: {} });
  });
});
