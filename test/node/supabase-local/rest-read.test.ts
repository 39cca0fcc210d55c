// Conformance of reads: select, filters (incl. nested or/and with quoted values), order,
// limit/offset/Range, counts and Content-Range, max-rows, single objects, value formatting.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_read';
const T1 = '2026-01-01T00:00:00.000001+00:00';
const T2 = '2026-01-01T00:00:00.000002+00:00';
const T3 = '2026-02-01T12:30:00.123456+00:00';

let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer({ maxRows: 50 });
  sb = client(server, DB);
  await sql(
    server,
    DB,
    `
    insert into sl_items (id, name, qty, active, updated_at, meta, price, owner_id, code) values
      (1, 'apple',  5,    true,  '${T1}', '{"color":"red"}', 1.50, 1, 'A1'),
      (2, 'Banana', null, true,  '${T1}', null,              0.25, 1, 'B,2'),
      (3, 'cherry', 12,   false, '${T1}', '{"color":"red"}', 10,   2, 'C(3)'),
      (4, 'date',   7,    true,  '${T2}', null,              null, 2, null),
      (5, 'elder',  null, true,  '${T3}', null,              3,    null, null),
      (6, 'fig',    1,    true,  '${T3}', '[1,2]',           4.10, 3, 'F"6');
    insert into sl_auto (label) select 'row ' || g from generate_series(1, 60) g;`,
  );
});

afterAll(async () => {
  await server.close();
});

const ids = (data: { id: number }[] | null): number[] => (data ?? []).map((r) => r.id);

describe('select and value formatting', () => {
  it('returns the selected columns only', async () => {
    const { data, error } = await sb.from('sl_items').select('id,name').eq('id', 1);
    expect(error).toBeNull();
    expect(data).toEqual([{ id: 1, name: 'apple' }]);
  });

  it('formats values like PostgREST: microsecond timestamptz, numeric scale, jsonb, booleans', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id,updated_at,price,meta,active&id=in.(1,5)&order=id');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`"updated_at":"${T1}"`);
    expect(text).toContain(`"updated_at":"${T3}"`);
    expect(text).toContain('"price":1.50');
    expect(text).toContain('"meta":{"color": "red"}');
    expect(text).toContain('"active":true');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('select=* returns every column and views are readable', async () => {
    const { data } = await sb.from('sl_items').select('*').eq('id', 6).single();
    expect(data).toMatchObject({ id: 6, name: 'fig', code: 'F"6', meta: [1, 2], note: 'n/a', owner_id: 3 });
    const view = await sb.from('sl_active_items').select('id').order('id');
    expect(ids(view.data)).toEqual([1, 2, 4, 5, 6]);
  });

  it('rejects select syntax the stand-in does not support (spreads, related order) with PGRST100', async () => {
    for (const qs of ['select=...sl_owners(name)', 'select=id,sl_owners(name)&order=sl_owners(name)']) {
      const res = await raw(server, DB, `/rest/v1/sl_items?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(((await res.json()) as { code: string }).code, qs).toBe('PGRST100');
    }
  });
});

describe('filters', () => {
  it('comparison operators', async () => {
    expect(ids((await sb.from('sl_items').select('id').gt('qty', 5).order('id')).data)).toEqual([3, 4]);
    expect(ids((await sb.from('sl_items').select('id').gte('qty', 7).order('id')).data)).toEqual([3, 4]);
    expect(ids((await sb.from('sl_items').select('id').lt('qty', 5).order('id')).data)).toEqual([6]);
    expect(ids((await sb.from('sl_items').select('id').lte('qty', 5).order('id')).data)).toEqual([1, 6]);
    expect(ids((await sb.from('sl_items').select('id').neq('qty', 5).order('id')).data)).toEqual([3, 4, 6]);
    expect(ids((await sb.from('sl_items').select('id').eq('active', false)).data)).toEqual([3]);
  });

  it('in with quoted values containing , ( ) and not.in', async () => {
    expect(ids((await sb.from('sl_items').select('id').in('code', ['B,2', 'C(3)']).order('id')).data)).toEqual([2, 3]);
    expect(ids((await sb.from('sl_items').select('id').not('id', 'in', '(1,2,3)').order('id')).data)).toEqual([4, 5, 6]);
    const empty = await raw(server, DB, '/rest/v1/sl_items?select=id&id=in.()');
    expect(await empty.json()).toEqual([]);
  });

  it('is null / not null / true / false', async () => {
    expect(ids((await sb.from('sl_items').select('id').is('qty', null).order('id')).data)).toEqual([2, 5]);
    expect(ids((await sb.from('sl_items').select('id').not('qty', 'is', null).order('id')).data)).toEqual([1, 3, 4, 6]);
    expect(ids((await sb.from('sl_items').select('id').is('active', false)).data)).toEqual([3]);
    const bad = await raw(server, DB, '/rest/v1/sl_items?qty=is.maybe');
    expect(bad.status).toBe(400);
  });

  it('like and ilike with * wildcards', async () => {
    expect(ids((await sb.from('sl_items').select('id').like('name', '*an*')).data)).toEqual([2]);
    expect(ids((await sb.from('sl_items').select('id').like('name', 'b*')).data)).toEqual([]);
    expect(ids((await sb.from('sl_items').select('id').ilike('name', 'b*')).data)).toEqual([2]);
  });

  it('top-level values are literal (a double quote is data)', async () => {
    expect(ids((await sb.from('sl_items').select('id').eq('code', 'F"6')).data)).toEqual([6]);
  });

  it('keyset page: or=(updated_at.gt."T",and(updated_at.eq."T",id.gt.N)) keeps microseconds', async () => {
    const { data, error } = await sb
      .from('sl_items')
      .select('id,updated_at')
      .or(`updated_at.gt."${T1}",and(updated_at.eq."${T1}",id.gt.2)`)
      .order('updated_at')
      .order('id')
      .limit(3);
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 3, updated_at: T1 },
      { id: 4, updated_at: T2 },
      { id: 5, updated_at: T3 },
    ]);
    // T2 is one microsecond after T1: a millisecond-truncated cursor would not tell them apart.
    const next = await sb
      .from('sl_items')
      .select('id')
      .or(`updated_at.gt."${T2}",and(updated_at.eq."${T2}",id.gt.4)`)
      .order('updated_at')
      .order('id');
    expect(ids(next.data)).toEqual([5, 6]);
  });

  it('nested logic trees, not.or, escaped quotes inside quoted values', async () => {
    expect(ids((await sb.from('sl_items').select('id').or('and(active.is.true,qty.gt.6),id.eq.5').order('id')).data)).toEqual([4, 5]);
    const notOr = await raw(server, DB, '/rest/v1/sl_items?select=id&not.or=(qty.is.null,active.is.false)&order=id');
    expect(await notOr.json()).toEqual([{ id: 1 }, { id: 4 }, { id: 6 }]);
    const escaped = await raw(
      server,
      DB,
      `/rest/v1/sl_items?select=id&or=${encodeURIComponent('(code.eq."F\\"6",code.eq."B,2",and(id.eq.3,code.eq."C(3)"))')}&order=id`,
    );
    expect(await escaped.json()).toEqual([{ id: 2 }, { id: 3 }, { id: 6 }]);
    const inside = await raw(
      server,
      DB,
      `/rest/v1/sl_items?select=id&and=${encodeURIComponent('(id.not.in.(1,2),or(name.ilike.*E*,qty.is.null))')}&order=id`,
    );
    expect(await inside.json()).toEqual([{ id: 3 }, { id: 4 }, { id: 5 }]);
  });

  it('malformed filters and unknown operators are PGRST100', async () => {
    for (const qs of [
      'id=eqq.1',
      'id=1',
      'or=(id.eq.1',
      'or=id.eq.1',
      'or=(id.eq."1)',
      'order=id.sideways',
      'limit=-1',
      'id=between.1',
      'id=neq(any).{1}',
    ]) {
      const res = await raw(server, DB, `/rest/v1/sl_items?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(((await res.json()) as { code: string }).code, qs).toBe('PGRST100');
    }
  });
});

describe('order, limit, offset, Range', () => {
  it('orders on several columns with nulls first/last', async () => {
    expect(ids((await sb.from('sl_items').select('id').order('qty', { ascending: false, nullsFirst: false }).order('id')).data)).toEqual([
      3, 4, 1, 6, 2, 5,
    ]);
    expect(ids((await sb.from('sl_items').select('id').order('qty', { ascending: true, nullsFirst: true }).order('id')).data)).toEqual([
      2, 5, 6, 1, 4, 3,
    ]);
    // PostgreSQL default: DESC puts nulls first
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id&order=qty.desc,id.desc');
    expect(await res.json()).toEqual([{ id: 5 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 1 }, { id: 6 }]);
  });

  it('limit/offset and supabase-js range()', async () => {
    expect(ids((await sb.from('sl_items').select('id').order('id').limit(2)).data)).toEqual([1, 2]);
    expect(ids((await sb.from('sl_items').select('id').order('id').range(2, 4)).data)).toEqual([3, 4, 5]);
  });

  it('Range header selects rows and Content-Range describes them', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id&order=id', { headers: { Range: '1-2', 'Range-Unit': 'items' } });
    expect(await res.json()).toEqual([{ id: 2 }, { id: 3 }]);
    expect(res.headers.get('content-range')).toBe('1-2/*');
  });
});

describe('counts and Content-Range', () => {
  it('count=exact gives the total, 206 when partial', async () => {
    const { data, count, status } = await sb.from('sl_items').select('id', { count: 'exact' }).order('id').limit(2);
    expect(ids(data)).toEqual([1, 2]);
    expect(count).toBe(6);
    expect(status).toBe(206);
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id&limit=2', { headers: { Prefer: 'count=exact' } });
    expect(res.headers.get('content-range')).toBe('0-1/6');
    const all = await raw(server, DB, '/rest/v1/sl_items?select=id', { headers: { Prefer: 'count=exact' } });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-range')).toBe('0-5/6');
  });

  it('empty results: */0 with count, */* without', async () => {
    const counted = await raw(server, DB, '/rest/v1/sl_items?id=eq.999', { headers: { Prefer: 'count=exact' } });
    expect(counted.headers.get('content-range')).toBe('*/0');
    expect(await counted.json()).toEqual([]);
    const plain = await raw(server, DB, '/rest/v1/sl_items?id=eq.999');
    expect(plain.headers.get('content-range')).toBe('*/*');
  });

  it('planned/estimated counts are exact here; HEAD returns only headers', async () => {
    const { count, data } = await sb.from('sl_items').select('*', { count: 'planned', head: true }).eq('active', true);
    expect(count).toBe(5);
    expect(data).toBeNull();
    const head = await raw(server, DB, '/rest/v1/sl_items', { method: 'HEAD', headers: { Prefer: 'count=estimated' } });
    expect(head.headers.get('content-range')).toBe('0-5/6');
    expect(await head.text()).toBe('');
  });

  it('offset past the end with a count is 416 PGRST103', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?offset=10', { headers: { Prefer: 'count=exact' } });
    expect(res.status).toBe(416);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST103');
  });
});

describe('max-rows', () => {
  it('silently truncates every read to max-rows, count still sees everything', async () => {
    const { data, count } = await sb.from('sl_auto').select('id', { count: 'exact' });
    expect(data).toHaveLength(50);
    expect(count).toBe(60);
    expect((await sb.from('sl_auto').select('id').limit(100)).data).toHaveLength(50);
    expect((await sb.from('sl_auto').select('id').range(40, 70)).data).toHaveLength(20);
    const series = await sb.rpc('sl_series', { n: 80 });
    expect(series.data).toHaveLength(50);
  });
});

describe('single objects', () => {
  it('single() returns an object for exactly one row, else 406 PGRST116', async () => {
    const one = await sb.from('sl_items').select('id,name').eq('id', 2).single();
    expect(one.data).toEqual({ id: 2, name: 'Banana' });
    const none = await sb.from('sl_items').select('id').eq('id', 999).single();
    expect(none.status).toBe(406);
    expect(none.error?.code).toBe('PGRST116');
    expect(none.error?.details).toBe('The result contains 0 rows');
    const many = await sb.from('sl_items').select('id').single();
    expect(many.error?.code).toBe('PGRST116');
  });

  it('maybeSingle() gives null for no row', async () => {
    const none = await sb.from('sl_items').select('id').eq('id', 999).maybeSingle();
    expect(none.error).toBeNull();
    expect(none.data).toBeNull();
  });
});
