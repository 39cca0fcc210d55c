// Auth, SQL injection attempts through every input that reaches SQL, database isolation and
// lazy creation of named databases.
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { base, client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'security';
let server: LocalSupabase;

beforeAll(async () => {
  server = await startFixtureServer({ serviceRoleKey: 'test-service-role-key' });
  await sql(server, DB, "insert into sl_items (id, name) values (1, 'one'), (2, 'two')");
});

afterAll(async () => {
  await server.close();
});

async function itemCount(): Promise<number> {
  const rows = await sql<{ n: number }>(server, DB, 'select count(*)::int as n from sl_items');
  return rows[0]?.n ?? -1;
}

async function tablesExist(): Promise<boolean> {
  const rows = await sql<{ ok: boolean }>(
    server,
    DB,
    "select to_regclass('public.sl_items') is not null and to_regclass('public.sl_owners') is not null as ok",
  );
  return rows[0]?.ok === true;
}

describe('auth', () => {
  it('401 without a key, with a wrong key, on rest and _dev, for named databases too', async () => {
    const none = await fetch(`${server.url}/rest/v1/sl_items`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ message: 'No API key found in request' });
    const wrong = await fetch(`${server.url}/rest/v1/sl_items`, { headers: { apikey: 'nope', Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { code: string }).code).toBe('PGRST301');
    expect((await fetch(`${base(server, DB)}/_dev/sql`, { method: 'POST', body: '{"sql":"select 1"}' })).status).toBe(401);
    const bad = createClient(server.url, 'not-the-key');
    const { error, status } = await bad.from('sl_items').select('*');
    expect(status).toBe(401);
    expect(error?.message).toBe('Invalid API key');
  });

  it('accepts the key in apikey or as a Bearer token', async () => {
    expect((await fetch(`${base(server, DB)}/rest/v1/sl_items`, { headers: { apikey: 'test-service-role-key' } })).status).toBe(200);
    expect(
      (await fetch(`${base(server, DB)}/rest/v1/sl_items`, { headers: { Authorization: 'Bearer test-service-role-key' } })).status,
    ).toBe(200);
    expect(server.serviceRoleKey).toBe('test-service-role-key');
  });
});

describe('SQL injection', () => {
  const evil = [`sl_items"; drop table sl_items; --`, `sl_items; drop table sl_items`, `x') or 1=1; --`];

  it('table names are looked up in the catalog', async () => {
    for (const name of evil) {
      const res = await raw(server, DB, `/rest/v1/${encodeURIComponent(name)}`);
      expect(res.status, name).toBe(404);
      const del = await raw(server, DB, `/rest/v1/${encodeURIComponent(name)}`, { method: 'DELETE' });
      expect([400, 404], name).toContain(del.status);
    }
    expect(await tablesExist()).toBe(true);
  });

  it('select, filter, order, columns and on_conflict identifiers are checked', async () => {
    const attempts = [
      `select=${encodeURIComponent('id,name from sl_items; drop table sl_owners; --')}`,
      `select=${encodeURIComponent('"id" from sl_owners --')}`,
      `${encodeURIComponent('id" = 1 or "1"="1')}=eq.1`,
      `${encodeURIComponent('id; drop table sl_owners')}=eq.1`,
      `order=${encodeURIComponent('id; drop table sl_owners')}`,
      `order=${encodeURIComponent('(select 1)')}`,
      `or=${encodeURIComponent('(id.eq.1,"id""; drop table sl_owners; --".eq.1)')}`,
    ];
    for (const qs of attempts) {
      const res = await raw(server, DB, `/rest/v1/sl_items?${qs}`);
      expect(res.status, qs).toBe(400);
    }
    const post = await raw(server, DB, `/rest/v1/sl_items?columns=${encodeURIComponent('id,name) select 1,2; drop table sl_owners; --')}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"id":9,"name":"x"}',
    });
    expect(post.status).toBe(400);
    const upsert = await raw(
      server,
      DB,
      `/rest/v1/sl_items?on_conflict=${encodeURIComponent('id) do nothing; drop table sl_owners; --')}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Prefer: 'resolution=merge-duplicates' },
        body: '{"id":9,"name":"x"}',
      },
    );
    expect(upsert.status).toBe(400);
    expect(await tablesExist()).toBe(true);
    expect(await itemCount()).toBe(2);
  });

  it('filter values and body values are data, never SQL', async () => {
    const sb = client(server, DB);
    const payload = `'); drop table sl_owners; --`;
    expect((await sb.from('sl_items').select('id').eq('name', payload)).data).toEqual([]);
    expect((await sb.from('sl_items').select('id').in('name', [payload, 'x'])).data).toEqual([]);
    // supabase-js does not escape a double quote inside an in() value: the list no longer parses → 400, nothing runs
    const broken = await sb.from('sl_items').select('id').in('name', [payload, `a") or ("1"="1`]);
    expect([broken.status, broken.error?.code]).toEqual([400, 'PGRST100']);
    expect(
      (
        await sb
          .from('sl_items')
          .select('id')
          .or(`name.eq."${payload.replaceAll('"', '\\"')}",name.like.*'--*`)
      ).data,
    ).toEqual([]);
    const ins = await sb.from('sl_items').insert({ id: 3, name: payload }).select('name').single();
    expect(ins.data).toEqual({ name: payload });
    const bodyKey = await raw(server, DB, '/rest/v1/sl_items', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 4, "name\") values (5, 'x'); drop table sl_owners; --": 'x' }),
    });
    expect(bodyKey.status).toBe(400);
    const patchKey = await raw(server, DB, '/rest/v1/sl_items?id=eq.3', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ "name\" = 'x'; drop table sl_owners; --": 'x' }),
    });
    expect(patchKey.status).toBe(400);
    expect(await tablesExist()).toBe(true);
    expect(await itemCount()).toBe(3);
  });

  it('JSON path keys, casts, aliases, embed names and hints, fts configs and quantified values never reach SQL as text', async () => {
    const drop = "x'); drop table sl_owners; --";
    const attempts = [
      `select=${encodeURIComponent(`id,meta->${drop}`)}`,
      `select=${encodeURIComponent(`id,meta->>"${drop}"`)}`,
      `${encodeURIComponent(`meta->>${drop}`)}=eq.1`,
      `select=${encodeURIComponent('id::text;drop table sl_owners')}`,
      `select=${encodeURIComponent('id::int) from sl_owners; drop table sl_owners; --')}`,
      `select=${encodeURIComponent('"a""; drop table sl_owners; --":id')}`,
      `select=${encodeURIComponent('id,sl_owners!"x; drop table sl_owners"(name)')}`,
      `select=${encodeURIComponent('id,"sl_owners; drop table sl_owners"(name)')}`,
      `name=${encodeURIComponent(`fts(english'); drop table sl_owners; --).x`)}`,
      `name=${encodeURIComponent(`like(any).{${drop}}`)}`,
      `order=${encodeURIComponent(`meta->${drop}.desc`)}`,
    ];
    for (const qs of attempts) {
      const res = await raw(server, DB, `/rest/v1/sl_items?${qs}`);
      expect(res.status, qs).toBeLessThan(500);
    }
    expect(await tablesExist()).toBe(true);
    expect(await itemCount()).toBe(3);
  });

  it('rpc names and argument names are looked up in the catalog', async () => {
    const sb = client(server, DB);
    expect((await sb.rpc('sl_add"(1,2); drop table sl_owners; --', {})).status).toBe(404);
    expect((await sb.rpc('sl_add', { 'a := 1); drop table sl_owners; --': 1 })).status).toBe(404);
    const strArg = await sb.rpc('sl_fail', { msg: `'); drop table sl_owners; --` });
    expect(strArg.error?.message).toBe(`'); drop table sl_owners; --`);
    expect(await tablesExist()).toBe(true);
  });
});

describe('isolation and lazy databases', () => {
  it('named databases are independent of each other and of the default database', async () => {
    const a = client(server, 'iso_a');
    const b = client(server, 'iso_b');
    await a.from('sl_items').insert({ id: 1, name: 'only in a' });
    expect((await a.from('sl_items').select('name')).data).toEqual([{ name: 'only in a' }]);
    expect((await b.from('sl_items').select('name')).data).toEqual([]);
    expect((await client(server).from('sl_items').select('name')).data).toEqual([]);
    // the seed ran in each of them
    expect((await b.from('sl_owners').select('id').order('id')).data).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('a database is created once, lazily, even under concurrent first requests', async () => {
    const name = 'lazy_concurrent';
    const before = await sql<{ n: number }>(server, 'iso_a', 'select 1 as n');
    expect(before).toEqual([{ n: 1 }]);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        client(server, name)
          .from('sl_items')
          .insert({ id: i + 1, name: `c${i}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await client(server, name).from('sl_items').select('id', { count: 'exact', head: true })).count).toBe(5);
    const migrations = await sql<{ version: string }>(
      server,
      name,
      'select version from supabase_migrations.schema_migrations order by version',
    );
    expect(migrations.map((m) => m.version)).toEqual(['20260101000000_schema', '20260102000000_view', '20260103000000_features']);
  });

  it('drops a named database: its memory is freed and the name answers 410 from then on', async () => {
    const name = 'to_drop';
    await client(server, name).from('sl_items').insert({ id: 1, name: 'x' });
    let res = await raw(server, name, '/_dev/database', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ dropped: true });
    res = await raw(server, name, '/rest/v1/sl_items');
    expect(res.status).toBe(410);
    expect(((await res.json()) as { code: string }).code).toBe('DEV410');
    res = await raw(server, 'never_used', '/_dev/database', { method: 'DELETE' });
    expect(await res.json()).toEqual({ dropped: false });
    expect((await raw(server, null, '/_dev/database', { method: 'DELETE' })).status).toBe(400);
    expect((await raw(server, 'iso_a', '/_dev/database', { method: 'DELETE', headers: { apikey: 'wrong' } })).status).toBe(401);
    // Other databases are untouched.
    expect((await client(server, 'iso_a').from('sl_items').select('name')).data).toEqual([{ name: 'only in a' }]);
  });

  it('rejects invalid database names', async () => {
    for (const name of ['UPPER', 'a.b', 'x'.repeat(65), 'a%2Fb']) {
      const res = await raw(server, null, `/db/${name}/rest/v1/sl_items`);
      expect(res.status, name).toBe(400);
    }
  });
});
