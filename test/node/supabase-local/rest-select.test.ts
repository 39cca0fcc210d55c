// Conformance of select and order: renaming (alias:col), casts (col::type), JSON paths
// (data->a->>b) in select, order and filters, ordering on JSON columns, and aggregates
// (count(), sum(), avg(), min(), max() with PostgREST's implicit GROUP BY): PGRST123 while
// db-aggregates-enabled is off (PostgREST's and Supabase's default), computed when it is on.
// References: docs.postgrest.org/en/v12 "Tables and Views" > Vertical Filtering (Renaming
// Columns, Casting Columns, JSON Columns), Ordering; "Aggregate Functions"; PostgREST's
// test/spec/Feature/Query/JsonOperatorSpec.hs and AggregateFunctionsSpec.hs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_select';
/** A separate name: in Postgres-server mode both stand-ins share one server. */
const AGG_DB = 'rest_select_agg';
let server: LocalSupabase;
let aggregating: LocalSupabase;
let sb: SupabaseClient;

const SEED = `
  insert into sl_docs (id, title, tags, nums, span, body, meta, data) values
    (1, 'Fox',   '{a,b}', '{1,2,3}', '[1,5)',   'The quick brown fox', '{"k": "v", "n": 1, "list": ["x", "y"]}', '{"a": {"b": "deep"}}'),
    (2, 'Dogs',  '{b,c}', '{3,4}',   '[5,10)',  'Lazy dogs',           '{"k": "w", "n": 2}',                    '{"a": {"b": "other"}}'),
    (3, 'Both',  '{}',    null,      '[20,30)', 'a fox and a dog',     null,                                    null),
    (4, 'Empty', null,    '{}',      null,      null,                  '{}',                                    '[]');
  insert into sl_items (id, name, qty, owner_id, price) values
    (1, 'a', 5, 1, 1.50), (2, 'b', null, 1, 2.00), (3, 'c', 12, 2, 10), (4, 'd', 7, 2, null), (5, 'e', 1, null, 3);`;

beforeAll(async () => {
  [server, aggregating] = await Promise.all([startFixtureServer(), startFixtureServer({ aggregatesEnabled: true })]);
  sb = client(server, DB);
  await Promise.all([sql(server, DB, SEED), sql(aggregating, AGG_DB, SEED)]);
});

afterAll(async () => {
  await Promise.all([server.close(), aggregating.close()]);
});

const ids = (data: { id: number }[] | null): number[] => (data ?? []).map((r) => r.id);

describe('renaming and casting (Vertical Filtering)', () => {
  it('alias:column renames; col::type casts and keeps the column name', async () => {
    const { data, error } = await sb.from('sl_docs').select('id,heading:title,nums::text,span::text,id_text:id::text').eq('id', 1);
    expect(error).toBeNull();
    expect(data).toEqual([{ id: 1, heading: 'Fox', nums: '{1,2,3}', span: '[1,5)', id_text: '1' }]);
  });

  it('unknown cast types are Postgres errors (42704 → 400); anything but a type name is PGRST100', async () => {
    const unknown = await raw(server, DB, '/rest/v1/sl_docs?select=id::nosuchtype');
    expect([unknown.status, ((await unknown.json()) as { code: string }).code]).toEqual([400, '42704']);
    const injected = await raw(server, DB, `/rest/v1/sl_docs?select=${encodeURIComponent('id::text) from sl_owners; --')}`);
    expect([injected.status, ((await injected.json()) as { code: string }).code]).toEqual([400, 'PGRST100']);
  });
});

describe('JSON columns (JSON paths in select, filters and order)', () => {
  it('-> keeps JSON, ->> gives text, integer keys index arrays; the output is named by the last key', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_docs?select=id,meta->k,meta->>n,meta->list->1,first:meta->list->>0,data->a->>b&id=eq.1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('[{"id":1,"k":"v","n":"1","list":"y","first":"x","b":"deep"}]');
    const missing = await sb.from('sl_docs').select('id,meta->>k').eq('id', 4);
    expect(missing.data).toEqual([{ id: 4, k: null }]);
  });

  it('filters on JSON paths (->> compares text, -> compares jsonb)', async () => {
    expect(ids((await sb.from('sl_docs').select('id').eq('meta->>k', 'w')).data)).toEqual([2]);
    expect(ids((await sb.from('sl_docs').select('id').gt('meta->n', 1)).data)).toEqual([2]);
    expect(ids((await sb.from('sl_docs').select('id').filter('meta->list', 'cs', '["x"]')).data)).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').eq('data->a->>b', 'deep')).data)).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').or('meta->>k.eq.v,data->a->>b.eq.other').order('id')).data)).toEqual([1, 2]);
  });

  it('orders on JSON paths and on a jsonb column itself', async () => {
    expect(ids((await sb.from('sl_docs').select('id').order('meta->n', { ascending: false, nullsFirst: false }).order('id')).data)).toEqual(
      [2, 1, 3, 4],
    );
    expect(ids((await sb.from('sl_docs').select('id').order('meta->>k').order('id')).data)).toEqual([1, 2, 3, 4]);
    // jsonb orders objects by their number of pairs first: {} < 2 pairs < 3 pairs
    const res = await raw(server, DB, '/rest/v1/sl_docs?select=id&order=meta.asc.nullslast,id');
    expect(await res.json()).toEqual([{ id: 4 }, { id: 2 }, { id: 1 }, { id: 3 }]);
    // json (not jsonb) has no ordering operator: Postgres's error, as through PostgREST
    const json = await raw(server, DB, '/rest/v1/sl_docs?select=id&order=data');
    expect([json.status, ((await json.json()) as { code: string }).code]).toEqual([404, '42883']);
  });
});

describe('aggregate functions', () => {
  it('are refused with 400 PGRST123 while db-aggregates-enabled is off (the default)', async () => {
    for (const select of ['count()', 'qty.sum()', 'owner_id,qty.avg()', 'total:qty.max()::int']) {
      const res = await raw(server, DB, `/rest/v1/sl_items?select=${encodeURIComponent(select)}`);
      expect(res.status, select).toBe(400);
      expect(await res.json(), select).toEqual({
        code: 'PGRST123',
        details: null,
        hint: null,
        message: 'Use of aggregate functions is not allowed',
      });
    }
  });

  describe('with db-aggregates-enabled', () => {
    let agg: SupabaseClient;
    beforeAll(() => {
      agg = client(aggregating, AGG_DB);
    });

    it('count() counts rows; col.count() counts non-null values; sum/avg/min/max with casts and aliases', async () => {
      const count = await raw(aggregating, AGG_DB, '/rest/v1/sl_items?select=count()');
      expect([count.status, await count.text()]).toEqual([200, '[{"count":5}]']);
      const res = await raw(
        aggregating,
        AGG_DB,
        `/rest/v1/sl_items?select=${encodeURIComponent('qty.sum(),qty.avg()::int,max_q:qty.max(),qty.min(),qty.count(),price_total:price.sum()')}`,
      );
      expect(await res.text()).toBe('[{"sum":25,"avg":6,"max_q":12,"min":1,"count":4,"price_total":16.50}]');
    });

    it('groups by the other selected columns, after filters', async () => {
      const { data, error } = await agg.from('sl_items').select('owner_id, n:count(), total:qty.sum()').order('owner_id');
      expect(error).toBeNull();
      expect(data).toEqual([
        { owner_id: 1, n: 2, total: 5 },
        { owner_id: 2, n: 2, total: 19 },
        { owner_id: null, n: 1, total: 1 },
      ]);
      const filtered = await agg.from('sl_items').select('count()').gt('qty', 4);
      expect(filtered.data).toEqual([{ count: 3 }]);
    });

    it('casts the aggregated column: a JSON path summed as int', async () => {
      const { data } = await agg.from('sl_docs').select('meta->n::int.sum()');
      expect(data).toEqual([{ sum: 3 }]);
    });
  });
});
