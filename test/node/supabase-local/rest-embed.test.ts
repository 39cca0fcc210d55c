// Conformance of resource embedding: to-one (many-to-one, one-to-one) and to-many via foreign
// keys, aliases, `!inner` / `!left`, hints (`table!fk_name`, `table!column`), filters, order and
// limit on embedded resources, `embed=not.is.null`, embeds in write representations, and
// PostgREST's errors for missing (PGRST200) and ambiguous (PGRST201) relationships.
// References: docs.postgrest.org/en/v12 "Resource Embedding" (Many-to-one, One-to-many,
// One-to-one, Embedding Hints, Top-level Filtering / Null filtering on Embedded Resources,
// Embedded filters/order/limit) and "Errors" (PGRST200, PGRST201, PGRST108, PGRST120);
// PostgREST's test/spec/Feature/Query/EmbedDisambiguationSpec.hs and EmbedInnerJoinSpec.hs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_embed';
let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer();
  sb = client(server, DB);
  await sql(
    server,
    DB,
    `
    insert into sl_items (id, name, qty, owner_id) values (1, 'a', 5, 1), (2, 'b', null, 1), (3, 'c', 12, 2), (4, 'd', 7, 2), (5, 'e', 1, null);
    insert into sl_docs (id, title, author_id, reviewer_id) values (1, 'Fox', 1, 2), (2, 'Dogs', 2, null);
    insert into sl_notes (id, doc_id, body, stars) values (1, 1, 'n1', 5), (2, 1, 'n2', 3), (3, 2, 'n3', 4);
    insert into sl_profiles (owner_id, bio) values (1, 'Ada bio'), (2, 'Bob bio');`,
  );
});

afterAll(async () => {
  await server.close();
});

const code = async (res: Response): Promise<[number, string]> => [res.status, ((await res.json()) as { code: string }).code];

describe('to-one and to-many', () => {
  it('many-to-one embeds an object (null when there is no parent row)', async () => {
    const { data, error } = await sb.from('sl_items').select('id,sl_owners(name)').order('id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 1, sl_owners: { name: 'Ada' } },
      { id: 2, sl_owners: { name: 'Ada' } },
      { id: 3, sl_owners: { name: 'Bob' } },
      { id: 4, sl_owners: { name: 'Bob' } },
      { id: 5, sl_owners: null },
    ]);
  });

  it('one-to-many embeds an array ([] when there are no rows), with its own order and limit', async () => {
    const { data } = await sb
      .from('sl_owners')
      .select('id,sl_items(id,name)')
      .order('id')
      .order('id', { referencedTable: 'sl_items', ascending: false });
    expect(data).toEqual([
      {
        id: 1,
        sl_items: [
          { id: 2, name: 'b' },
          { id: 1, name: 'a' },
        ],
      },
      {
        id: 2,
        sl_items: [
          { id: 4, name: 'd' },
          { id: 3, name: 'c' },
        ],
      },
      { id: 3, sl_items: [] },
    ]);
    const limited = await sb
      .from('sl_owners')
      .select('id,sl_items(id)')
      .order('id')
      .order('id', { referencedTable: 'sl_items' })
      .limit(1, { referencedTable: 'sl_items' });
    expect(limited.data).toEqual([
      { id: 1, sl_items: [{ id: 1 }] },
      { id: 2, sl_items: [{ id: 3 }] },
      { id: 3, sl_items: [] },
    ]);
  });

  it('one-to-one (the foreign key is unique) embeds an object both ways', async () => {
    const owners = await sb.from('sl_owners').select('id,sl_profiles(bio)').order('id');
    expect(owners.data).toEqual([
      { id: 1, sl_profiles: { bio: 'Ada bio' } },
      { id: 2, sl_profiles: { bio: 'Bob bio' } },
      { id: 3, sl_profiles: null },
    ]);
    const profiles = await sb.from('sl_profiles').select('bio,sl_owners(name)').eq('owner_id', 2);
    expect(profiles.data).toEqual([{ bio: 'Bob bio', sl_owners: { name: 'Bob' } }]);
  });

  it('aliases, *, renamed columns inside, and a nested embed', async () => {
    const { data } = await sb.from('sl_notes').select('id,doc:sl_docs(heading:title,author:sl_owners!author_id(*))').eq('id', 3);
    expect(data).toEqual([{ id: 3, doc: { heading: 'Dogs', author: { id: 2, name: 'Bob' } } }]);
  });

  it('wire format: the embedded JSON is produced by Postgres', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id,owner:sl_owners(id,name)&id=eq.1');
    expect([res.status, await res.text()]).toEqual([200, '[{"id":1,"owner":{"id":1,"name":"Ada"}}]']);
  });
});

describe('filters on embedded resources, !inner and !left', () => {
  it('without !inner an embedded filter only empties the embed; with !inner it filters the parents (and the count)', async () => {
    const left = await sb.from('sl_items').select('id,sl_owners(name)').eq('sl_owners.name', 'Ada').order('id');
    expect(left.data).toEqual([
      { id: 1, sl_owners: { name: 'Ada' } },
      { id: 2, sl_owners: { name: 'Ada' } },
      { id: 3, sl_owners: null },
      { id: 4, sl_owners: null },
      { id: 5, sl_owners: null },
    ]);
    const inner = await sb.from('sl_items').select('id,sl_owners!inner(name)', { count: 'exact' }).eq('sl_owners.name', 'Bob').order('id');
    expect([inner.data, inner.count]).toEqual([
      [
        { id: 3, sl_owners: { name: 'Bob' } },
        { id: 4, sl_owners: { name: 'Bob' } },
      ],
      2,
    ]);
    const explicitLeft = await sb.from('sl_items').select('id,sl_owners!left(name)').eq('sl_owners.name', 'Bob').order('id');
    expect(explicitLeft.data?.length).toBe(5);
  });

  it('to-many: embedded filters narrow the arrays; !inner drops parents with an empty array', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_owners?select=id,sl_items(id)&sl_items.qty=gt.6&order=id&sl_items.order=id');
    expect(await res.json()).toEqual([
      { id: 1, sl_items: [] },
      { id: 2, sl_items: [{ id: 3 }, { id: 4 }] },
      { id: 3, sl_items: [] },
    ]);
    const inner = await sb.from('sl_owners').select('id,sl_items!inner(id)').lt('sl_items.qty', 6).order('id');
    expect(inner.data).toEqual([{ id: 1, sl_items: [{ id: 1 }] }]);
    const orFilter = await sb
      .from('sl_owners')
      .select('id,sl_items!inner(id)')
      .or('id.eq.3,qty.is.null', { referencedTable: 'sl_items' })
      .order('id')
      .order('id', { referencedTable: 'sl_items' });
    expect(orFilter.data).toEqual([
      { id: 1, sl_items: [{ id: 2 }] },
      { id: 2, sl_items: [{ id: 3 }] },
    ]);
  });

  it("embed=not.is.null / is.null filter parents on the embed's existence; other operators are PGRST120", async () => {
    const withOwner = await sb.from('sl_items').select('id,sl_owners()').not('sl_owners', 'is', null).order('id');
    expect(withOwner.data).toEqual([
      { id: 1, sl_owners: {} },
      { id: 2, sl_owners: {} },
      { id: 3, sl_owners: {} },
      { id: 4, sl_owners: {} },
    ]);
    const without = await sb.from('sl_owners').select('id,sl_items(id)').is('sl_items', null);
    expect(without.data).toEqual([{ id: 3, sl_items: [] }]);
    const bad = await raw(server, DB, '/rest/v1/sl_items?select=id,sl_owners(name)&sl_owners=eq.1');
    expect([bad.status, await bad.json()]).toEqual([
      400,
      {
        code: 'PGRST120',
        message: "Bad operator on the 'sl_owners' embedded resource",
        details: 'Only is null or not is null filters are allowed on embedded resources',
        hint: null,
      },
    ]);
  });

  it('a parameter for a resource that is not embedded is 400 PGRST108', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id&sl_owners.name=eq.Ada');
    expect([res.status, await res.json()]).toEqual([
      400,
      {
        code: 'PGRST108',
        message: "'sl_owners' is not an embedded resource in this request",
        details: null,
        hint: "Verify that 'sl_owners' is included in the 'select' query parameter.",
      },
    ]);
  });
});

describe('ambiguity, hints and missing relationships', () => {
  it('two foreign keys to the same table: 300 PGRST201 with the candidates', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_docs?select=id,sl_owners(name)');
    expect(res.status).toBe(300);
    expect(await res.json()).toEqual({
      code: 'PGRST201',
      message: "Could not embed because more than one relationship was found for 'sl_docs' and 'sl_owners'",
      details: [
        {
          cardinality: 'many-to-one',
          embedding: 'sl_docs with sl_owners',
          relationship: 'sl_docs_author_id_fkey using sl_docs(author_id) and sl_owners(id)',
        },
        {
          cardinality: 'many-to-one',
          embedding: 'sl_docs with sl_owners',
          relationship: 'sl_docs_reviewer_fk using sl_docs(reviewer_id) and sl_owners(id)',
        },
      ],
      hint: "Try changing 'sl_owners' to one of the following: 'sl_owners!sl_docs_author_id_fkey', 'sl_owners!sl_docs_reviewer_fk'. Find the desired relationship in the 'details' key.",
    });
    const reverse = await raw(server, DB, '/rest/v1/sl_owners?select=id,sl_docs(id)');
    expect(await code(reverse)).toEqual([300, 'PGRST201']);
  });

  it('hints by foreign-key name or column resolve it, with aliases', async () => {
    const { data, error } = await sb
      .from('sl_docs')
      .select('id,author:sl_owners!sl_docs_author_id_fkey(name),reviewer:sl_owners!reviewer_id(name)')
      .order('id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { id: 1, author: { name: 'Ada' }, reviewer: { name: 'Bob' } },
      { id: 2, author: { name: 'Bob' }, reviewer: null },
    ]);
    const reverse = await sb.from('sl_owners').select('id,reviewed:sl_docs!reviewer_id(title)').order('id');
    expect(reverse.data).toEqual([
      { id: 1, reviewed: [] },
      { id: 2, reviewed: [{ title: 'Fox' }] },
      { id: 3, reviewed: [] },
    ]);
    const inner = await sb.from('sl_docs').select('id,sl_owners!reviewer_id!inner(name)');
    expect(inner.data).toEqual([{ id: 1, sl_owners: { name: 'Bob' } }]);
  });

  it('no relationship: 400 PGRST200; an unknown hint too', async () => {
    const res = await raw(server, DB, '/rest/v1/sl_items?select=id,sl_notes(id)');
    expect([res.status, await res.json()]).toEqual([
      400,
      {
        code: 'PGRST200',
        message: "Could not find a relationship between 'sl_items' and 'sl_notes' in the schema cache",
        details:
          "Searched for a foreign key relationship between 'sl_items' and 'sl_notes' in the schema 'public', but no matches were found.",
        hint: null,
      },
    ]);
    const hint = await raw(server, DB, '/rest/v1/sl_docs?select=id,sl_owners!nope(name)');
    expect([hint.status, ((await hint.json()) as { details: string }).details]).toEqual([
      400,
      "Searched for a foreign key relationship between 'sl_docs' and 'sl_owners' using the hint 'nope' in the schema 'public', but no matches were found.",
    ]);
    const { error } = await sb.from('sl_items').select('id,sl_nothing(*)');
    expect(error?.code).toBe('PGRST200');
  });
});

describe('embedding in write representations and rpc', () => {
  it('an insert, update or delete can return embedded resources', async () => {
    const ins = await sb.from('sl_items').insert({ id: 10, name: 'new', owner_id: 3 }).select('id,sl_owners(name)').single();
    expect([ins.status, ins.data]).toEqual([201, { id: 10, sl_owners: { name: 'Cy' } }]);
    const upd = await sb.from('sl_items').update({ owner_id: 1 }).eq('id', 10).select('id,owner:sl_owners(name)');
    expect(upd.data).toEqual([{ id: 10, owner: { name: 'Ada' } }]);
    const del = await sb.from('sl_items').delete().eq('id', 10).select('id,sl_owners(id)');
    expect(del.data).toEqual([{ id: 10, sl_owners: { id: 1 } }]);
  });

  it('embedding into a function result is not supported here: 400 PGRST100, never a wrong answer', async () => {
    const res = await sb.rpc('sl_items_by_owner', { p_owner: 1 }).select('id,sl_owners(name)');
    expect([res.status, res.error?.code]).toEqual([400, 'PGRST100']);
  });
});
