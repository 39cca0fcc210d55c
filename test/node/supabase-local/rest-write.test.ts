// Conformance of writes, rpc and error mapping: insert/upsert variants, return modes,
// PATCH/DELETE, functions, and PostgREST's SQLSTATE → HTTP status table.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_write';
let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer();
  sb = client(server, DB);
});

afterAll(async () => {
  await server.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  raw(server, DB, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('insert', () => {
  it('inserts one object; default return is minimal (201, empty body)', async () => {
    const res = await post('/rest/v1/sl_items', { id: 100, name: 'one' });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('');
    const { data, status, error } = await sb.from('sl_items').insert({ id: 101, name: 'two' });
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toBeNull();
  });

  it('return=representation gives the inserted rows with defaults, in payload order', async () => {
    const { data, status } = await sb
      .from('sl_items')
      .insert([
        { id: 103, name: 'b' },
        { id: 102, name: 'a' },
      ])
      .select('id,name,active,note');
    expect(status).toBe(201);
    expect(data).toEqual([
      { id: 103, name: 'b', active: true, note: 'n/a' },
      { id: 102, name: 'a', active: true, note: 'n/a' },
    ]);
  });

  it('arrays with differing keys: supabase-js sends columns= (union), missing keys become NULL', async () => {
    const { data, error } = await sb
      .from('sl_items')
      .insert([
        { id: 110, name: 'x', qty: 3 },
        { id: 111, name: 'y', note: 'hello' },
      ])
      .select('id,qty,note');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 110, qty: 3, note: null },
      { id: 111, qty: null, note: 'hello' },
    ]);
  });

  it('without columns= PostgREST requires matching keys (PGRST102)', async () => {
    const res = await post('/rest/v1/sl_items', [
      { id: 112, name: 'x' },
      { id: 113, name: 'y', qty: 1 },
    ]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST102');
  });

  it('Prefer: missing=default uses column defaults for absent keys (explicit null stays null)', async () => {
    const { data, error } = await sb
      .from('sl_items')
      .insert(
        [
          { id: 120, name: 'd1', qty: 1 },
          { id: 121, name: 'd2', note: null },
        ],
        { defaultToNull: false },
      )
      .select('id,note,active');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 120, note: 'n/a', active: true },
      { id: 121, note: null, active: true },
    ]);
  });

  it('columns= restricts what is written; unknown payload columns are PGRST204', async () => {
    const res = await post('/rest/v1/sl_items?columns=id,name&select=id,qty', [{ id: 130, name: 'c', qty: 9 }], {
      Prefer: 'return=representation',
    });
    expect(await res.json()).toEqual([{ id: 130, qty: null }]);
    const bad = await post('/rest/v1/sl_items', { id: 131, name: 'c', bogus: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('PGRST204');
  });

  it('keeps exact values: big integers, microseconds, json, numeric', async () => {
    const body =
      '{"id": 9007199254740993, "name": "big", "updated_at": "2026-03-04T05:06:07.654321+00:00", "meta": {"n": 12345678901234567890}, "price": 12.30}';
    const res = await post('/rest/v1/sl_items?select=id,updated_at,meta,price', body, { Prefer: 'return=representation' });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe(
      '[{"id":9007199254740993,"updated_at":"2026-03-04T05:06:07.654321+00:00","meta":{"n": 12345678901234567890},"price":12.30}]',
    );
  });

  it('return=headers-only: 201, no body, Content-Range */*', async () => {
    const res = await post('/rest/v1/sl_items', { id: 140, name: 'h' }, { Prefer: 'return=headers-only' });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('');
    expect(res.headers.get('content-range')).toBe('*/*');
  });

  it('count=exact on insert reports the inserted count', async () => {
    const res = await post(
      '/rest/v1/sl_items',
      [
        { id: 141, name: 'c1' },
        { id: 142, name: 'c2' },
      ],
      { Prefer: 'count=exact' },
    );
    expect(res.headers.get('content-range')).toBe('*/2');
  });

  it('single() on an insert returning several rows is 406 and rolled back', async () => {
    const res = await sb
      .from('sl_items')
      .insert([
        { id: 150, name: 'r1' },
        { id: 151, name: 'r2' },
      ])
      .select('id')
      .single();
    expect(res.status).toBe(406);
    expect((await sb.from('sl_items').select('id').in('id', [150, 151])).data).toEqual([]);
  });
});

describe('upsert', () => {
  it('merge-duplicates on the primary key updates existing rows and inserts new ones', async () => {
    await sb.from('sl_items').insert({ id: 200, name: 'orig', qty: 1 });
    const { data, error } = await sb
      .from('sl_items')
      .upsert([
        { id: 200, name: 'merged', qty: 2 },
        { id: 201, name: 'new', qty: 3 },
      ])
      .select('id,name,qty')
      .order('id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 200, name: 'merged', qty: 2 },
      { id: 201, name: 'new', qty: 3 },
    ]);
  });

  it('on_conflict on a unique column', async () => {
    await sb.from('sl_items').insert({ id: 210, name: 'coded', code: 'UP-1' });
    const { error } = await sb.from('sl_items').upsert({ id: 210, name: 'by code', code: 'UP-1' }, { onConflict: 'code' });
    expect(error).toBeNull();
    expect((await sb.from('sl_items').select('name').eq('code', 'UP-1').single()).data).toEqual({ name: 'by code' });
  });

  it('ignore-duplicates leaves existing rows alone and returns only inserted ones', async () => {
    await sb.from('sl_items').insert({ id: 220, name: 'keep' });
    const { data } = await sb
      .from('sl_items')
      .upsert(
        [
          { id: 220, name: 'ignored' },
          { id: 221, name: 'added' },
        ],
        { ignoreDuplicates: true },
      )
      .select('id,name');
    expect(data).toEqual([{ id: 221, name: 'added' }]);
    expect((await sb.from('sl_items').select('name').eq('id', 220).single()).data).toEqual({ name: 'keep' });
  });
});

describe('patch and delete', () => {
  it('PATCH with filters: 204 minimal, 200 representation, count', async () => {
    await sb.from('sl_items').insert([
      { id: 300, name: 'p', qty: 1 },
      { id: 301, name: 'p', qty: 1 },
      { id: 302, name: 'q', qty: 1 },
    ]);
    const minimal = await sb.from('sl_items').update({ qty: 5 }).eq('name', 'p');
    expect(minimal.status).toBe(204);
    const rep = await sb
      .from('sl_items')
      .update({ qty: 6, updated_at: '2026-05-05T05:05:05.000005+00:00' }, { count: 'exact' })
      .in('id', [300, 301])
      .select('id,qty,updated_at');
    expect(rep.status).toBe(200);
    expect(rep.count).toBe(2);
    expect(rep.data).toEqual([
      { id: 300, qty: 6, updated_at: '2026-05-05T05:05:05.000005+00:00' },
      { id: 301, qty: 6, updated_at: '2026-05-05T05:05:05.000005+00:00' },
    ]);
    expect((await sb.from('sl_items').select('qty').eq('id', 302).single()).data).toEqual({ qty: 1 });
  });

  it('DELETE with filters and representation', async () => {
    await sb.from('sl_items').insert([
      { id: 400, name: 'del' },
      { id: 401, name: 'del' },
    ]);
    const res = await raw(server, DB, '/rest/v1/sl_items?name=eq.del&select=id', {
      method: 'DELETE',
      headers: { Prefer: 'return=representation,count=exact' },
    });
    expect(res.status).toBe(200);
    // PostgREST's DELETE gives no range, only the count: `*/2` (DeleteSpec "returns the deleted item and count")
    expect(res.headers.get('content-range')).toBe('*/2');
    expect(await res.json()).toEqual([{ id: 400 }, { id: 401 }]);
    const again = await sb.from('sl_items').delete().eq('name', 'del');
    expect(again.status).toBe(204);
  });
});

describe('rpc', () => {
  it('scalar result, default arguments, GET with query args', async () => {
    expect((await sb.rpc('sl_add', { a: 1, b: 2 })).data).toBe(3);
    expect((await sb.rpc('sl_add', { a: 1 })).data).toBe(11);
    expect((await sb.rpc('sl_add', { a: 4, b: 5 }, { get: true })).data).toBe(9);
  });

  it('setof table rows: array, with filters and order applied to the result', async () => {
    await sb.from('sl_items').insert([
      { id: 500, name: 'o1', owner_id: 2 },
      { id: 501, name: 'o2', owner_id: 2 },
      { id: 502, name: 'o3', owner_id: 3 },
    ]);
    const all = await sb.rpc('sl_items_by_owner', { p_owner: 2 }).select('id,name');
    expect(all.data).toEqual([
      { id: 500, name: 'o1' },
      { id: 501, name: 'o2' },
    ]);
    const filtered = await sb.rpc('sl_items_by_owner', { p_owner: 2 }).select('id').gt('id', 500);
    expect(filtered.data).toEqual([{ id: 501 }]);
  });

  it('setof scalar, returns table, json and array arguments', async () => {
    expect((await sb.rpc('sl_series', { n: 3 })).data).toEqual([1, 2, 3]);
    expect((await sb.rpc('sl_pair', { x: 7 })).data).toEqual([
      { a: 7, b: 'v7' },
      { a: 8, b: 'v8' },
    ]);
    expect((await sb.rpc('sl_echo', { payload: { k: [1, { z: null }] }, tags: ['a', 'b,c'] })).data).toEqual({
      payload: { k: [1, { z: null }] },
      tags: ['a', 'b,c'],
    });
  });

  it('void function: 204, data null', async () => {
    const res = await sb.rpc('sl_noop');
    expect(res.error).toBeNull();
    expect(res.status).toBe(204);
    expect(res.data).toBeNull();
  });

  it('unknown function or argument names: 404 PGRST202', async () => {
    const unknown = await sb.rpc('sl_nope', {});
    expect(unknown.status).toBe(404);
    expect(unknown.error?.code).toBe('PGRST202');
    const badArgs = await sb.rpc('sl_add', { a: 1, zzz: 2 });
    expect(badArgs.error?.code).toBe('PGRST202');
  });
});

describe('error mapping', () => {
  it('23505 unique violation → 409', async () => {
    await sb.from('sl_items').insert({ id: 600, name: 'u' });
    const dup = await sb.from('sl_items').insert({ id: 600, name: 'u' });
    expect(dup.status).toBe(409);
    expect(dup.error?.code).toBe('23505');
    expect(dup.error?.details).toContain('Key (id)=(600) already exists');
  });

  it('23503 foreign key violation → 409', async () => {
    const res = await sb.from('sl_items').insert({ id: 601, name: 'fk', owner_id: 999 });
    expect(res.status).toBe(409);
    expect(res.error?.code).toBe('23503');
  });

  it('23502 not null violation → 400', async () => {
    const res = await sb.from('sl_items').insert({ id: 602, name: null });
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('23502');
  });

  it('bad values: 22P02, 22007, 22008 → 400', async () => {
    const badInt = await sb.from('sl_items').select('id').eq('qty', 'abc');
    expect([badInt.status, badInt.error?.code]).toEqual([400, '22P02']);
    const badTs = await sb.from('sl_items').select('id').gt('updated_at', 'not-a-time');
    expect([badTs.status, badTs.error?.code]).toEqual([400, '22007']);
    const overflow = await sb.from('sl_items').select('id').gt('updated_at', '2026-13-45T00:00:00Z');
    expect([overflow.status, overflow.error?.code]).toEqual([400, '22008']);
  });

  it('unknown table → 404 PGRST205; unknown column → 400 42703', async () => {
    const table = await sb.from('sl_missing').select('*');
    expect([table.status, table.error?.code]).toEqual([404, 'PGRST205']);
    const column = await sb.from('sl_items').select('nope');
    expect([column.status, column.error?.code]).toEqual([400, '42703']);
    const filterColumn = await sb.from('sl_items').select('id').eq('nope', 1);
    expect(filterColumn.error?.code).toBe('42703');
    const orderColumn = await sb.from('sl_items').select('id').order('nope');
    expect(orderColumn.error?.code).toBe('42703');
  });

  it('raise exception (P0001) → 400 with message, details, hint', async () => {
    const res = await sb.rpc('sl_fail', { msg: 'boom' });
    expect(res.status).toBe(400);
    expect(res.error).toEqual({ code: 'P0001', message: 'boom', details: 'fail detail', hint: 'fail hint' });
  });

  it('statement timeout (57014) → 500', async () => {
    const res = await sb.rpc('sl_timeout');
    expect(res.status).toBe(500);
    expect(res.error?.code).toBe('57014');
  });

  it('invalid JSON body → 400 PGRST102', async () => {
    const res = await post('/rest/v1/sl_items', '{not json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST102');
  });
});

describe('_dev/sql', () => {
  it('runs parameterised SQL and multi-statement scripts, rows formatted by Postgres', async () => {
    const rows = await sql(server, DB, 'select $1::timestamptz as t, $2::int as n, $3::jsonb as j', [
      '2026-01-01 00:00:00.000001+00',
      7,
      { a: 1 },
    ]);
    expect(rows).toEqual([{ t: '2026-01-01T00:00:00.000001+00:00', n: 7, j: { a: 1 } }]);
    const last = await sql(
      server,
      DB,
      'create temp table tmp_x (v int); insert into tmp_x values (1), (2); select sum(v)::int as s from tmp_x; -- done',
    );
    expect(last).toEqual([{ s: 3 }]);
    expect(await sql(server, DB, 'create table sl_dev_made (id int)')).toEqual([]);
    // the schema cache is refreshed after /_dev/sql
    expect((await sb.from('sl_dev_made').select('*')).status).toBe(200);
    const ret = await sql(server, DB, 'insert into sl_dev_made values ($1) returning id', [42]);
    expect(ret).toEqual([{ id: 42 }]);
  });

  it('reports SQL errors with the PostgREST error shape', async () => {
    const res = await raw(server, DB, '/_dev/sql', { method: 'POST', body: JSON.stringify({ sql: 'select * from no_such_table' }) });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('42P01');
  });
});
