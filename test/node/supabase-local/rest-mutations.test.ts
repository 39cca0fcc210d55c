// Conformance of the write paths with PostgREST v12: upsert status (200 when nothing was
// inserted), `Prefer: missing=default` on bulk upserts, `Prefer: tx=` under each `db-tx-end`,
// Content-Range and Preference-Applied of every write, `handling=strict`.
// References: docs.postgrest.org/en/v12 "Tables and Views" > Insert / Upsert / Update / Delete,
// "Prefer Header" (missing, tx, handling, Preference-Applied), "Transactions" (db-tx-end), and
// PostgREST's own test/spec/Feature/Query/{Upsert,Insert,Delete,Update}Spec.hs and RollbackSpec.hs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSupabase } from '../../../dev/supabase-local/server.ts';
import { client, raw, sql, startFixtureServer } from './helpers.ts';

const DB = 'rest_mutations';
let server: LocalSupabase;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startFixtureServer();
  sb = client(server, DB);
  await sql(server, DB, 'select 1'); // create the database within the hook's time budget, not a test's
});

afterAll(async () => {
  await server.close();
});

const send = (method: string, path: string, body: unknown, prefer: string[] = []): Promise<Response> =>
  raw(server, DB, path, {
    method,
    headers: [['Content-Type', 'application/json'], ...prefer.map((p): [string, string] => ['Prefer', p])],
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

describe('upsert status (Prefer: resolution=merge-duplicates; UpsertSpec)', () => {
  it('answers 201 when a row was inserted and 200 when the upsert only updated rows', async () => {
    const first = await send(
      'POST',
      '/rest/v1/sl_items',
      [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      ['return=representation', 'resolution=merge-duplicates'],
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('preference-applied')).toBe('resolution=merge-duplicates, return=representation');
    const mixed = await send(
      'POST',
      '/rest/v1/sl_items?select=id,name',
      [
        { id: 2, name: 'b2' },
        { id: 3, name: 'c' },
      ],
      ['return=representation', 'resolution=merge-duplicates'],
    );
    expect(mixed.status).toBe(201);
    expect(await mixed.json()).toEqual([
      { id: 2, name: 'b2' },
      { id: 3, name: 'c' },
    ]);
    const updateOnly = await send(
      'POST',
      '/rest/v1/sl_items?select=id,name',
      [
        { id: 1, name: 'a2' },
        { id: 3, name: 'c2' },
      ],
      ['return=representation', 'resolution=merge-duplicates'],
    );
    expect(updateOnly.status).toBe(200);
    expect(updateOnly.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(updateOnly.headers.get('content-range')).toBe('*/*');
    expect(await updateOnly.json()).toEqual([
      { id: 1, name: 'a2' },
      { id: 3, name: 'c2' },
    ]);
    // the status does not depend on the return preference
    const minimal = await send('POST', '/rest/v1/sl_items', { id: 1, name: 'a3' }, ['resolution=merge-duplicates']);
    expect([minimal.status, await minimal.text()]).toEqual([200, '']);
  });

  it('supabase-js upsert() sees 200 for an update-only upsert, 201 otherwise', async () => {
    const updated = await sb.from('sl_items').upsert({ id: 1, name: 'via js' }).select('id,name');
    expect([updated.status, updated.data]).toEqual([200, [{ id: 1, name: 'via js' }]]);
    const inserted = await sb.from('sl_items').upsert({ id: 4, name: 'new' });
    expect(inserted.status).toBe(201);
  });

  it('an empty payload inserts nothing: 200 for merge-duplicates, 201 for a plain insert', async () => {
    const upsert = await send('POST', '/rest/v1/sl_items', [], ['return=representation', 'resolution=merge-duplicates']);
    expect([upsert.status, await upsert.json()]).toEqual([200, []]);
    const insert = await send('POST', '/rest/v1/sl_items', [], ['return=representation']);
    expect([insert.status, await insert.json()]).toEqual([201, []]);
  });

  it('ignore-duplicates stays 201 even when every row was a duplicate', async () => {
    const res = await send(
      'POST',
      '/rest/v1/sl_items',
      [{ id: 1, name: 'dup' }],
      ['return=representation', 'resolution=ignore-duplicates'],
    );
    expect([res.status, await res.json()]).toEqual([201, []]);
    expect(res.headers.get('preference-applied')).toBe('resolution=ignore-duplicates, return=representation');
  });

  it('a table without a primary key ignores the resolution (no Preference-Applied for it)', async () => {
    await sql(server, DB, 'create table if not exists sl_no_pk (a int, b text)');
    const res = await send('POST', '/rest/v1/sl_no_pk', [{ a: 1, b: 'x' }], ['return=representation', 'resolution=merge-duplicates']);
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('return=representation');
    expect(await res.json()).toEqual([{ a: 1, b: 'x' }]);
  });
});

describe('Prefer: missing=default ("Bulk insert with default values")', () => {
  it('a bulk upsert writes the column default for a key missing from one object, not the old value', async () => {
    await sql(
      server,
      DB,
      "insert into sl_items (id, name, note, active) values (20, 'old', 'custom', false), (21, 'old', 'custom', false)",
    );
    const { data, error, status } = await sb
      .from('sl_items')
      .upsert(
        [
          { id: 20, name: 'u20' },
          { id: 21, name: 'u21', note: 'kept', active: false },
        ],
        { defaultToNull: false },
      )
      .select('id,name,note,active');
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toEqual([
      { id: 20, name: 'u20', note: 'n/a', active: true },
      { id: 21, name: 'u21', note: 'kept', active: false },
    ]);
  });

  it('defaults are per object, explicit nulls stay null, payload order is kept, identity columns get their next value', async () => {
    const res = await send(
      'POST',
      '/rest/v1/sl_auto?columns=id,label&select=label,created_at',
      [{ label: 'x' }, { id: null, label: 'y' }, { label: null }],
      ['return=representation', 'missing=default'],
    );
    // an explicit null for the identity column is inserted as given and fails, like on PostgREST
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('23502');
    const ok = await send(
      'POST',
      '/rest/v1/sl_auto?columns=id,label&select=label,created_at',
      [{ label: 'x' }, { label: null }],
      ['return=representation', 'missing=default'],
    );
    expect(ok.status).toBe(201);
    expect(ok.headers.get('preference-applied')).toBe('missing=default, return=representation');
    expect(await ok.json()).toEqual([
      { label: 'x', created_at: '2026-01-01T00:00:00.000001+00:00' },
      { label: null, created_at: '2026-01-01T00:00:00.000001+00:00' },
    ]);
  });

  it('without missing=default a key absent from an object (columns=) is written as NULL', async () => {
    const { data } = await sb
      .from('sl_items')
      .upsert([
        { id: 20, name: 'n20' },
        { id: 21, name: 'n21', note: 'z' },
      ])
      .select('id,note')
      .order('id');
    expect(data).toEqual([
      { id: 20, note: null },
      { id: 21, note: 'z' },
    ]);
  });

  it('an object without keys inserts a row of defaults', async () => {
    const res = await send('POST', '/rest/v1/sl_auto?select=label,created_at', {}, ['return=representation']);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ label: null, created_at: '2026-01-01T00:00:00.000001+00:00' }]);
  });
});

describe('Content-Range and Preference-Applied of writes (InsertSpec, UpdateSpec, DeleteSpec)', () => {
  it('insert: */* or */count; PATCH: 0-(n-1)/count; DELETE: */count', async () => {
    const ins = await send(
      'POST',
      '/rest/v1/sl_items',
      [
        { id: 40, name: 'r' },
        { id: 41, name: 'r' },
      ],
      ['count=exact', 'return=minimal'],
    );
    expect([ins.status, ins.headers.get('content-range'), ins.headers.get('preference-applied')]).toEqual([
      201,
      '*/2',
      'return=minimal, count=exact',
    ]);
    const patch = await send('PATCH', '/rest/v1/sl_items?name=eq.r', { qty: 1 }, ['count=exact']);
    expect([patch.status, patch.headers.get('content-range'), patch.headers.get('preference-applied')]).toEqual([
      204,
      '0-1/2',
      'count=exact',
    ]);
    const none = await send('PATCH', '/rest/v1/sl_items?name=eq.nothing', { qty: 1 }, ['count=exact']);
    expect([none.status, none.headers.get('content-range')]).toEqual([204, '*/0']);
    const uncounted = await send('PATCH', '/rest/v1/sl_items?name=eq.r', { qty: 2 });
    expect(uncounted.headers.get('content-range')).toBe('0-1/*');
    const del = await send('DELETE', '/rest/v1/sl_items?name=eq.r&select=id', undefined, ['return=representation', 'count=exact']);
    expect([del.status, del.headers.get('content-range'), del.headers.get('preference-applied')]).toEqual([
      200,
      '*/2',
      'return=representation, count=exact',
    ]);
    expect(await del.json()).toEqual([{ id: 40 }, { id: 41 }]);
    const delMinimal = await send('DELETE', '/rest/v1/sl_items?name=eq.r', undefined);
    expect([delMinimal.status, delMinimal.headers.get('content-range'), delMinimal.headers.get('content-type')]).toEqual([
      204,
      '*/*',
      null,
    ]);
  });

  it('the first occurrence of a preference wins, across headers too', async () => {
    const res = await send('POST', '/rest/v1/sl_items?select=id', { id: 42, name: 'p' }, [
      'return=representation, return=minimal',
      'count=exact',
    ]);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual([{ id: 42 }]);
    expect(res.headers.get('preference-applied')).toBe('return=representation, count=exact');
  });

  it('handling=strict rejects preferences PostgREST does not know (400 PGRST122); lenient ignores them', async () => {
    const strict = await send('POST', '/rest/v1/sl_items', { id: 43, name: 's' }, ['handling=strict, bogus=1, tx=rollback']);
    expect(strict.status).toBe(400);
    // tx=rollback is a known preference; the server just does not allow it (db-tx-end=commit)
    expect(await strict.json()).toEqual({
      code: 'PGRST122',
      message: 'Invalid preferences given with handling=strict',
      details: 'Invalid preferences: bogus=1',
      hint: null,
    });
    const lenient = await send('POST', '/rest/v1/sl_items', { id: 43, name: 's' }, ['handling=lenient, bogus=1']);
    expect([lenient.status, lenient.headers.get('preference-applied')]).toEqual([201, 'handling=lenient']);
  });

  it('a singular write that touches several rows is 406 PGRST116 and rolled back', async () => {
    const res = await sb
      .from('sl_items')
      .insert([
        { id: 44, name: 'one' },
        { id: 45, name: 'two' },
      ])
      .select('id')
      .single();
    expect(res.status).toBe(406);
    expect(res.error).toEqual({
      code: 'PGRST116',
      message: 'JSON object requested, multiple (or no) rows returned',
      details: 'The result contains 2 rows',
      hint: null,
    });
    expect((await sb.from('sl_items').select('id').in('id', [44, 45])).data).toEqual([]);
  });
});

describe('Prefer: tx= ("Transactions" > db-tx-end; RollbackSpec)', () => {
  it("with Supabase's db-tx-end=commit, tx=rollback is ignored: the row stays and nothing is reported applied", async () => {
    const res = await send('POST', '/rest/v1/sl_items', { id: 60, name: 'committed' }, ['return=representation', 'tx=rollback']);
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('return=representation');
    expect(await sql(server, DB, 'select name from sl_items where id = 60')).toEqual([{ name: 'committed' }]);
  });

  describe('with db-tx-end=commit-allow-override', () => {
    let overridable: LocalSupabase;
    const TX_DB = 'rest_tx';
    beforeAll(async () => {
      overridable = await startFixtureServer({ txEnd: 'commit-allow-override' });
      await sql(overridable, TX_DB, 'select 1');
    });
    afterAll(async () => {
      await overridable.close();
    });

    it('rolls back an insert, an update and a delete while answering as if committed', async () => {
      const txSb = client(overridable, TX_DB);
      await txSb.from('sl_items').insert({ id: 1, name: 'kept' });
      const ins = await txSb.from('sl_items').insert({ id: 2, name: 'gone' }).select('id,name').rollback();
      expect([ins.status, ins.data]).toEqual([201, [{ id: 2, name: 'gone' }]]);
      const upd = await txSb.from('sl_items').update({ name: 'changed' }).eq('id', 1).select('name').rollback();
      expect(upd.data).toEqual([{ name: 'changed' }]);
      const del = await txSb.from('sl_items').delete().eq('id', 1).rollback();
      expect(del.status).toBe(204);
      expect((await txSb.from('sl_items').select('id,name')).data).toEqual([{ id: 1, name: 'kept' }]);
      const raw_ = await raw(overridable, TX_DB, '/rest/v1/sl_items', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Prefer: 'return=minimal, tx=rollback' },
        body: '{"id":3,"name":"x"}',
      });
      expect([raw_.status, raw_.headers.get('preference-applied')]).toEqual([201, 'return=minimal, tx=rollback']);
      expect(await sql(overridable, TX_DB, 'select count(*)::int as n from sl_items')).toEqual([{ n: 1 }]);
    });

    it('tx=commit commits and is reported; reads report tx too', async () => {
      const res = await raw(overridable, TX_DB, '/rest/v1/sl_items', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Prefer: 'tx=commit' },
        body: '{"id":4,"name":"c"}',
      });
      expect([res.status, res.headers.get('preference-applied')]).toEqual([201, 'tx=commit']);
      const read = await raw(overridable, TX_DB, '/rest/v1/sl_items?id=eq.4&select=id', { headers: { Prefer: 'tx=rollback' } });
      expect([read.status, read.headers.get('preference-applied'), await read.json()]).toEqual([200, 'tx=rollback', [{ id: 4 }]]);
    });
  });
});
