// Conformance of function calls with counts: `Prefer: count=exact` on POST, GET and HEAD, for
// set-returning, scalar and void functions, read by supabase-js's `rpc(fn, args, { count, head, get })`.
// Also the access modes of calls (GET/HEAD and non-volatile functions run READ ONLY).
// References: docs.postgrest.org/en/v12 "Functions as RPC", "Transactions" > Access Mode, and
// "Pagination and Count" > Exact Count; PostgREST's test/spec/Feature/Query/RpcSpec.hs ("includes total count if requested",
// "includes exact count of 1 for functions that return a single scalar", "ignores Range header
// when method is different than GET").
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_rpc';
let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer();
  sb = client(server, DB);
  await sql(server, DB, "insert into sl_items (id, name, owner_id) select g, 'i' || g, 1 + g % 2 from generate_series(1, 7) g");
});

afterAll(async () => {
  await server.close();
});

const call = (method: string, path: string, prefer: string | null, body?: unknown, extra: Record<string, string> = {}): Promise<Response> =>
  raw(server, DB, `/rest/v1/rpc/${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(prefer === null ? {} : { Prefer: prefer }), ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('count=exact on set-returning functions', () => {
  it('supabase-js: POST, GET and HEAD all give the number', async () => {
    const post = await sb.rpc('sl_items_by_owner', { p_owner: 2 }, { count: 'exact' }).select('id');
    expect([post.status, post.count, post.data]).toEqual([200, 4, [{ id: 1 }, { id: 3 }, { id: 5 }, { id: 7 }]]);
    const get = await sb.rpc('sl_items_by_owner', { p_owner: 2 }, { count: 'exact', get: true }).select('id').limit(2);
    expect([get.status, get.count, get.data]).toEqual([206, 4, [{ id: 1 }, { id: 3 }]]);
    const head = await sb.rpc('sl_items_by_owner', { p_owner: 1 }, { count: 'exact', head: true });
    expect([head.status, head.count, head.data]).toEqual([200, 3, null]);
    const series = await sb.rpc('sl_series', { n: 5 }, { count: 'exact', head: true });
    expect([series.count, series.error]).toEqual([5, null]);
    const filtered = await sb.rpc('sl_items_by_owner', { p_owner: 2 }, { count: 'exact' }).select('id').gt('id', 3);
    expect([filtered.count, filtered.data]).toEqual([2, [{ id: 5 }, { id: 7 }]]);
  });

  it('raw: Content-Range, 206 for a partial page, Range only honoured on GET/HEAD', async () => {
    const partial = await call('POST', 'sl_items_by_owner?select=id&limit=1&offset=1', 'count=exact', { p_owner: 2 });
    expect([partial.status, partial.headers.get('content-range'), partial.headers.get('preference-applied')]).toEqual([
      206,
      '1-1/4',
      'count=exact',
    ]);
    expect(await partial.json()).toEqual([{ id: 3 }]);
    const ranged = await call('GET', 'sl_items_by_owner?p_owner=2&select=id', 'count=exact', undefined, { Range: '1-1' });
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([206, '1-1/4']);
    const ignored = await call('POST', 'sl_items_by_owner?select=id', 'count=exact', { p_owner: 2 }, { Range: '1-1' });
    expect([ignored.status, ignored.headers.get('content-range')]).toEqual([200, '0-3/4']);
    const head = await call('HEAD', 'sl_series?n=3', 'count=exact');
    expect([head.status, head.headers.get('content-range'), head.headers.get('content-type'), await head.text()]).toEqual([
      200,
      '0-2/3',
      'application/json; charset=utf-8',
      '',
    ]);
    const uncounted = await call('GET', 'sl_series?n=3', null);
    expect(uncounted.headers.get('content-range')).toBe('0-2/*');
    const empty = await call('POST', 'sl_items_by_owner', 'count=exact', { p_owner: 9 });
    expect([empty.status, empty.headers.get('content-range'), await empty.json()]).toEqual([200, '*/0', []]);
  });
});

describe('count=exact on functions returning one value', () => {
  it('a scalar or composite result counts as one row: 0-0/1', async () => {
    const scalar = await call('POST', 'sl_add', 'count=exact', { a: 3, b: 4 });
    expect([scalar.status, scalar.headers.get('content-range'), await scalar.text()]).toEqual([200, '0-0/1', '7']);
    const get = await call('GET', 'sl_add?a=3&b=4', 'count=exact');
    expect([get.headers.get('content-range'), await get.text()]).toEqual(['0-0/1', '7']);
    const plain = await call('POST', 'sl_add', null, { a: 1 });
    expect(plain.headers.get('content-range')).toBe('0-0/*');
    const js = await sb.rpc('sl_add', { a: 1, b: 2 }, { count: 'exact' });
    expect([js.data, js.count]).toEqual([3, 1]);
    const head = await sb.rpc('sl_add', { a: 1, b: 2 }, { count: 'exact', head: true });
    expect([head.status, head.data, head.count]).toEqual([200, null, 1]);
  });

  it('void: 204 without a body, supabase-js count 1 and no NaN', async () => {
    const res = await sb.rpc('sl_noop', {}, { count: 'exact' });
    expect([res.status, res.data, res.count, res.error]).toEqual([204, null, 1, null]);
  });

  it('return=minimal does not drop an rpc body (PostgREST v12 ignores it for functions)', async () => {
    const res = await call('POST', 'sl_add', 'return=minimal', { a: 1, b: 1 });
    expect([res.status, await res.text(), res.headers.get('preference-applied')]).toEqual([200, '2', null]);
  });
});

describe('access mode ("Transactions" > Access Mode on Functions)', () => {
  it('a volatile function writes through POST; through GET it fails with 405 25006', async () => {
    const post = await call('POST', 'sl_bump', null, { p_id: 1 });
    expect([post.status, await post.text()]).toEqual([200, '1']);
    const get = await call('GET', 'sl_bump?p_id=1', null);
    expect([get.status, await get.json()]).toEqual([
      405,
      { code: '25006', message: 'cannot execute UPDATE in a read-only transaction', details: null, hint: null },
    ]);
    expect(await sql(server, DB, 'select qty from sl_items where id = 1')).toEqual([{ qty: 1 }]);
  });

  it('POST of a stable or immutable function, and every GET/HEAD call, run READ ONLY', async () => {
    expect((await sb.rpc('sl_tx_mode')).data).toBe('off');
    expect((await sb.rpc('sl_tx_mode', {}, { get: true })).data).toBe('on');
    expect((await sb.rpc('sl_tx_mode_stable')).data).toBe('on');
  });
});
