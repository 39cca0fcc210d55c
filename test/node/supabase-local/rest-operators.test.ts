// Conformance of filter operators beyond comparisons: arrays, jsonb and ranges (cs, cd, ov, sl,
// sr, nxl, nxr, adj), full-text search with a config (fts, plfts, phfts, wfts), quantified
// like/ilike (any/all), regex match/imatch, isdistinct, supabase-js's match(), and filters
// combined the way supabase-js builds them (or/and/not nesting).
// References: docs.postgrest.org/en/v12 "Tables and Views" > Operators, Full-Text Search,
// "Logical operators"; PostgREST's test/spec/Feature/Query/QuerySpec.hs and AndOrParamsSpec.hs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_operators';
let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer();
  sb = client(server, DB);
  await sql(
    server,
    DB,
    `
    insert into sl_docs (id, title, tags, nums, span, body, meta) values
      (1, 'Fox',   '{a,b}', '{1,2,3}', '[1,5)',   'The quick brown fox jumps',  '{"k": "v", "n": 1, "list": ["x"]}'),
      (2, 'Dogs',  '{b,c}', '{3,4}',   '[5,10)',  'Lazy dogs sleeping all day', '{"k": "w", "n": 2}'),
      (3, 'Both',  '{}',    null,      '[20,30)', 'a fox and a dog',            null),
      (4, 'Empty', null,    '{}',      null,      null,                         '{}');`,
  );
});

afterAll(async () => {
  await server.close();
});

const ids = (data: { id: number }[] | null): number[] => (data ?? []).map((r) => r.id);

describe('arrays and jsonb: cs, cd, ov', () => {
  it('contains / containedBy / overlaps on text[] and int[]', async () => {
    expect(ids((await sb.from('sl_docs').select('id').contains('tags', ['a']).order('id')).data)).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').containedBy('tags', ['a', 'b', 'c']).order('id')).data)).toEqual([1, 2, 3]);
    expect(ids((await sb.from('sl_docs').select('id').overlaps('tags', ['c', 'x']).order('id')).data)).toEqual([2]);
    expect(ids((await sb.from('sl_docs').select('id').contains('nums', [3]).order('id')).data)).toEqual([1, 2]);
    const raw_ = await raw(server, DB, '/rest/v1/sl_docs?select=id&tags=cs.{"b"}&order=id');
    expect([raw_.status, await raw_.json()]).toEqual([200, [{ id: 1 }, { id: 2 }]]);
  });

  it('contains / containedBy on jsonb', async () => {
    expect(ids((await sb.from('sl_docs').select('id').contains('meta', { k: 'v' }).order('id')).data)).toEqual([1]);
    expect(
      ids(
        (
          await sb
            .from('sl_docs')
            .select('id')
            .contains('meta', { list: ['x'] })
            .order('id')
        ).data,
      ),
    ).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').containedBy('meta', { k: 'w', n: 2, extra: true }).order('id')).data)).toEqual([
      2, 4,
    ]);
  });

  it('not.cs and a bad array literal (22P02 → 400)', async () => {
    expect(ids((await sb.from('sl_docs').select('id').not('tags', 'cs', '{a}').order('id')).data)).toEqual([2, 3]);
    const bad = await raw(server, DB, '/rest/v1/sl_docs?select=id&nums=cs.{x}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('22P02');
  });
});

describe('ranges: ov, sl, sr, nxl, nxr, adj', () => {
  it('supabase-js range filters map to PostgREST operators', async () => {
    expect(ids((await sb.from('sl_docs').select('id').overlaps('span', '[3,6)').order('id')).data)).toEqual([1, 2]);
    expect(ids((await sb.from('sl_docs').select('id').rangeLt('span', '[5,6)').order('id')).data)).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').rangeGt('span', '[5,6)').order('id')).data)).toEqual([3]);
    expect(ids((await sb.from('sl_docs').select('id').rangeGte('span', '[5,6)').order('id')).data)).toEqual([2, 3]);
    expect(ids((await sb.from('sl_docs').select('id').rangeLte('span', '[5,10)').order('id')).data)).toEqual([1, 2]);
    expect(ids((await sb.from('sl_docs').select('id').rangeAdjacent('span', '[10,20)').order('id')).data)).toEqual([2, 3]);
    expect(ids((await sb.from('sl_docs').select('id').contains('span', '[2,3]').order('id')).data)).toEqual([1]);
  });

  it('raw operators and their wire form', async () => {
    for (const [qs, expected] of [
      ['span=sl.[5,6)', [1]],
      ['span=sr.[5,6)', [3]],
      ['span=nxl.[5,6)', [2, 3]],
      ['span=nxr.[5,10)', [1, 2]],
      ['span=adj.[10,20)', [2, 3]],
      ['span=not.ov.[3,6)', [3]],
    ] as const) {
      const res = await raw(server, DB, `/rest/v1/sl_docs?select=id&${qs}&order=id`);
      expect(res.status, qs).toBe(200);
      expect(ids((await res.json()) as { id: number }[]), qs).toEqual(expected);
    }
  });
});

describe('full-text search with a config', () => {
  it('textSearch: fts, plfts, phfts, wfts on a tsvector column', async () => {
    expect(ids((await sb.from('sl_docs').select('id').textSearch('fts', 'fox', { config: 'english' }).order('id')).data)).toEqual([1, 3]);
    expect(ids((await sb.from('sl_docs').select('id').textSearch('fts', "'dog' & 'fox'", { config: 'english' }).order('id')).data)).toEqual(
      [3],
    );
    expect(
      ids(
        (await sb.from('sl_docs').select('id').textSearch('fts', 'sleeping dogs', { type: 'plain', config: 'english' }).order('id')).data,
      ),
    ).toEqual([2]);
    expect(
      ids((await sb.from('sl_docs').select('id').textSearch('fts', 'quick brown', { type: 'phrase', config: 'english' }).order('id')).data),
    ).toEqual([1]);
    expect(
      ids((await sb.from('sl_docs').select('id').textSearch('fts', 'brown quick', { type: 'phrase', config: 'english' }).order('id')).data),
    ).toEqual([]);
    expect(
      ids((await sb.from('sl_docs').select('id').textSearch('fts', 'fox -dog', { type: 'websearch', config: 'english' }).order('id')).data),
    ).toEqual([1]);
    // without a config: to_tsquery(text) with the server's default_text_search_config
    expect(ids((await sb.from('sl_docs').select('id').textSearch('fts', 'fox').order('id')).data)).toEqual([1, 3]);
  });

  it('raw: fts(config), not.fts, and an unknown config (42704 → 400)', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_docs?select=id&fts=not.wfts(english).fox&order=id');
    expect(await res.json()).toEqual([{ id: 2 }, { id: 4 }]);
    const bad = await raw(server, DB, '/rest/v1/sl_docs?select=id&fts=fts(klingon).fox');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('42704');
  });
});

describe('quantified like/ilike, match/imatch, isdistinct', () => {
  it('likeAnyOf / likeAllOf / ilikeAnyOf / ilikeAllOf', async () => {
    expect(ids((await sb.from('sl_docs').select('id').likeAnyOf('body', ['*fox*', '*Lazy*']).order('id')).data)).toEqual([1, 2, 3]);
    expect(ids((await sb.from('sl_docs').select('id').likeAllOf('body', ['*fox*', '*dog*']).order('id')).data)).toEqual([3]);
    expect(ids((await sb.from('sl_docs').select('id').ilikeAnyOf('body', ['the*', 'LAZY*']).order('id')).data)).toEqual([1, 2]);
    expect(ids((await sb.from('sl_docs').select('id').ilikeAllOf('body', ['*A*', '*O*']).order('id')).data)).toEqual([2, 3]);
  });

  it('eq(any), gt(all) and quantifiers inside or=(…)', async () => {
    const any = await raw(server, DB, '/rest/v1/sl_docs?select=id&id=eq(any).{1,3}&order=id');
    expect(await any.json()).toEqual([{ id: 1 }, { id: 3 }]);
    const all = await raw(server, DB, '/rest/v1/sl_docs?select=id&id=gt(all).{1,2}&order=id');
    expect(await all.json()).toEqual([{ id: 3 }, { id: 4 }]);
    const tree = await raw(
      server,
      DB,
      `/rest/v1/sl_docs?select=id&or=${encodeURIComponent('(title.like(any).{F*,E*},tags.cs.{c})')}&order=id`,
    );
    expect(await tree.json()).toEqual([{ id: 1 }, { id: 2 }, { id: 4 }]);
    const notQuantifiable = await raw(server, DB, '/rest/v1/sl_docs?select=id&tags=cs(any).{a}');
    expect([notQuantifiable.status, ((await notQuantifiable.json()) as { code: string }).code]).toEqual([400, 'PGRST100']);
  });

  it('match / imatch are POSIX regular expressions; supabase-js match() is a set of eq filters', async () => {
    expect(ids((await sb.from('sl_docs').select('id').filter('body', 'match', '^The').order('id')).data)).toEqual([1]);
    expect(ids((await sb.from('sl_docs').select('id').filter('body', 'imatch', '^the|^lazy').order('id')).data)).toEqual([1, 2]);
    expect(ids((await sb.from('sl_docs').select('id').match({ title: 'Dogs', id: 2 })).data)).toEqual([2]);
    expect(ids((await sb.from('sl_docs').select('id').match({ title: 'Dogs', id: 1 })).data)).toEqual([]);
  });

  it('isdistinct treats null as a value', async () => {
    expect(ids((await sb.from('sl_docs').select('id').filter('title', 'isdistinct', 'Fox').order('id')).data)).toEqual([2, 3, 4]);
    expect(ids((await sb.from('sl_docs').select('id').not('body', 'isdistinct', 'a fox and a dog').order('id')).data)).toEqual([3]);
  });
});

describe('combinations as supabase-js builds them', () => {
  it('or() with nested and(), not, cs and quoted values, plus top-level filters', async () => {
    const { data, error } = await sb
      .from('sl_docs')
      .select('id')
      .or('and(tags.cs.{b},nums.cs.{4}),title.eq.Empty,fts.phfts(english)."a dog"')
      .not('id', 'eq', 4)
      .order('id');
    expect(error).toBeNull();
    expect(ids(data)).toEqual([2, 3]);
    const nested = await sb.from('sl_docs').select('id').or('not.and(id.gt.1,id.lt.4),span.adj."[10,20)"').order('id');
    expect(ids(nested.data)).toEqual([1, 2, 3, 4]);
    const combined = await sb.from('sl_docs').select('id').overlaps('tags', ['b']).or('span.sl."[5,6)",meta->>k.eq.w').order('id');
    expect([combined.error, ids(combined.data)]).toEqual([null, [1, 2]]);
  });
});
