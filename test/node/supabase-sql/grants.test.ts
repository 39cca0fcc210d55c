// supabase/migrations on a real Postgres server with Supabase's roles, checked with SET ROLE:
// the sync functions and their bookkeeping are the engine's (service_role) alone, the push
// function never builds SQL from its table argument, and an app user's deletes still leave
// tombstones. PGlite (the stand-in) has no roles, so this needs a server: set
// TEST_DATABASE_URL to a superuser URL of a throw-away server (`dev/pg-test-server.sh start`).
// Each run creates its own database there and drops it at the end; the roles stay.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryer, Row } from '../../../dev/supabase-local/databases.ts';
import { applyMigrations } from '../../../dev/supabase-local/migrations.ts';

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'supabase', 'migrations');
const SERVER_URL = process.env['TEST_DATABASE_URL'] ?? '';

/** Owns what the migrations create, like Supabase's `postgres`: not a superuser. */
const OWNER = 'sync_migrations_owner';
const API_ROLES = ['anon', 'authenticated'] as const;
const PUSH = 'select public.sync_apply_push($1, $2, $3, $4::jsonb) as result';

interface PgError {
  code?: string;
  message: string;
}

let admin: pg.Client | null = null;
let db: pg.Client | null = null;
let dbName = '';

function conn(): pg.Client {
  if (db === null) throw new Error('not connected');
  return db;
}

/** Runs one statement as `role` (SET LOCAL ROLE) in its own transaction, committed on success. */
async function asRole(role: string, text: string, params: unknown[] = []): Promise<Row[]> {
  const c = conn();
  await c.query('begin');
  try {
    await c.query(`set local role ${pg.escapeIdentifier(role)}`);
    const result = await c.query(text, params);
    await c.query('commit');
    return result.rows as Row[];
  } catch (e) {
    await c.query('rollback');
    throw e;
  }
}

/** The error a statement fails with; fails the test when it succeeds. */
async function failure(run: Promise<unknown>): Promise<PgError> {
  try {
    await run;
  } catch (e) {
    return e as PgError;
  }
  throw new Error('expected the statement to fail, it succeeded');
}

/** SQLSTATE of each statement run as each role ('ok' when it succeeded), keyed `role: sql`. */
async function outcomes(roles: readonly string[], statements: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const role of roles) {
    for (const text of statements) {
      try {
        await asRole(role, text);
        out[`${role}: ${text}`] = 'ok';
      } catch (e) {
        out[`${role}: ${text}`] = (e as PgError).code ?? String(e);
      }
    }
  }
  return out;
}

function allDenied(results: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(results).map((k) => [k, '42501']));
}

async function createRole(name: string, attributes: string): Promise<void> {
  const c = admin;
  if (c === null) throw new Error('createRole before the admin connection');
  // Roles are cluster-wide: an earlier run (or a Supabase-like server) may have them already.
  await c.query(`do $$ begin
    if not exists (select from pg_roles where rolname = ${pg.escapeLiteral(name)}) then
      create role ${pg.escapeIdentifier(name)} ${attributes};
    end if;
  exception when duplicate_object or unique_violation then null;
  end $$`);
}

/** applyMigrations' Database on one connection (whose session role is the owner). */
function onConnection(c: pg.Client): Database {
  const queryer: Queryer = {
    query: async (text, params = []) => (await c.query(text, [...params])).rows as Row[],
    exec: async (script) => {
      const r = (await c.query(script)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(r) ? ((r[r.length - 1]?.rows ?? []) as Row[]) : (r.rows as Row[]);
    },
  };
  return {
    kind: 'pg',
    ...queryer,
    async transaction(fn) {
      await c.query('begin');
      try {
        const result = await fn(queryer);
        await c.query('commit');
        return result;
      } catch (e) {
        await c.query('rollback');
        throw e;
      }
    },
    close: () => Promise.resolve(),
  };
}

function emailChange(id: string, ts: string) {
  return {
    op: 'upsert',
    id,
    ts,
    row: {
      id,
      to_email: 'ada@example.com',
      from_email: 'sales@example.com',
      direction: 'outbound',
      status: 'sent',
      subject: 'Hello',
      created_at: ts,
      updated_at: ts,
    },
  };
}

async function tombstones(table: string, id: string): Promise<number> {
  const rows = await conn().query('select count(*)::int as n from public.sync_tombstones where table_name = $1 and row_id = $2', [
    table,
    id,
  ]);
  return (rows.rows[0] as { n: number }).n;
}

if (SERVER_URL === '') {
  describe('Supabase migrations on a Postgres server', () => {
    it.skip('skipped: set TEST_DATABASE_URL to a throw-away Postgres server (dev/pg-test-server.sh start)', () => undefined);
  });
} else {
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    const me = await admin.query('select rolsuper from pg_roles where rolname = current_user');
    if ((me.rows[0] as { rolsuper?: boolean } | undefined)?.rolsuper !== true) {
      throw new Error('TEST_DATABASE_URL must connect as a superuser (it creates roles and databases)');
    }
    // Supabase's API roles, before any migration runs (as on a Supabase project).
    await createRole('anon', 'nologin noinherit');
    await createRole('authenticated', 'nologin noinherit');
    await createRole('service_role', 'nologin noinherit bypassrls');
    await admin.query('alter role service_role bypassrls');
    await createRole(OWNER, 'nologin');

    dbName = `supabase_sql_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
    await admin.query(`create database ${pg.escapeIdentifier(dbName)} owner ${pg.escapeIdentifier(OWNER)}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${dbName}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();

    // What Supabase sets up in every project: the API roles use `public`, and what the owner
    // creates there is granted to them by default (the migrations must revoke it).
    await db.query(`
      grant usage on schema public to anon, authenticated, service_role;
      alter default privileges for role ${OWNER} in schema public grant all on tables to anon, authenticated, service_role;
      alter default privileges for role ${OWNER} in schema public grant all on functions to anon, authenticated, service_role;
      alter default privileges for role ${OWNER} in schema public grant all on sequences to anon, authenticated, service_role;`);

    // The stand-in's runner: files in name order, each in a transaction, recorded in
    // supabase_migrations.schema_migrations; run as the (non-superuser) owner.
    await db.query(`set role ${OWNER}`);
    const { applied } = await applyMigrations(onConnection(db), MIGRATIONS);
    await db.query('reset role');
    expect(applied.length).toBeGreaterThan(0);
  });

  afterAll(async () => {
    await db?.end();
    if (admin !== null) {
      if (dbName !== '') await admin.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`);
      await admin.end();
    }
  });

  describe('sync functions and bookkeeping are for service_role only', () => {
    it('anon and authenticated get permission denied (42501) calling sync_apply_push', async () => {
      for (const role of API_ROLES) {
        const e = await failure(asRole(role, PUSH, ['emails', 1, 'source-wins', '[]']));
        expect({ role, code: e.code }).toEqual({ role, code: '42501' });
        expect(e.message).toContain('sync_apply_push');
      }
    });

    it('anon and authenticated get permission denied (42501) reading or writing sync_fences, sync_tables and sync_tombstones', async () => {
      const statements = [
        'select * from public.sync_fences',
        "insert into public.sync_fences (entity, epoch) values ('emails', 999)",
        'update public.sync_fences set epoch = epoch + 1',
        'delete from public.sync_fences',
        'select * from public.sync_tables',
        "insert into public.sync_tables (table_name, key_column) values ('pg_authid', 'oid')",
        "update public.sync_tables set key_column = 'id'",
        'delete from public.sync_tables',
        'select * from public.sync_tombstones',
        "insert into public.sync_tombstones (table_name, row_id) values ('prospects', 'x')",
        "update public.sync_tombstones set row_id = 'x'",
        'delete from public.sync_tombstones',
      ];
      const results = await outcomes(API_ROLES, statements);
      expect(results).toEqual(allDenied(results));
    });

    it('anon and authenticated get permission denied (42501) calling sync_private.apply_changes and sync_register_table', async () => {
      const results = await outcomes(API_ROLES, [
        "select sync_private.apply_changes('emails', 'id', 'source-wins', '[]'::jsonb)",
        `select sync_private.merge_push_results('{}'::jsonb, '{}'::jsonb)`,
        "select public.sync_register_table('emails')",
      ]);
      expect(results).toEqual(allDenied(results));
    });

    it('service_role pushes a page with sync_apply_push, and a push from an older epoch is fenced off (PT409)', async () => {
      const id = randomUUID();
      const ts = '2026-03-01T10:00:00.000001+00:00';
      const [first] = await asRole('service_role', PUSH, ['emails', 1, 'source-wins', JSON.stringify([emailChange(id, ts)])]);
      expect(first?.['result']).toMatchObject({ written: 1, deleted: 0, unchanged: 0, conflicts: [], rejected: [] });
      const stored = await conn().query('select to_email, updated_at = $2::timestamptz as same_version from public.emails where id = $1', [
        id,
        ts,
      ]);
      expect(stored.rows).toEqual([{ to_email: 'ada@example.com', same_version: true }]);

      const e = await failure(asRole('service_role', PUSH, ['emails', 0, 'source-wins', JSON.stringify([emailChange(randomUUID(), ts)])]));
      expect(e.code).toBe('PT409');
      expect(e.message).toContain('sync fenced');
      // The engine reads its bookkeeping (granted select; RLS is bypassed).
      expect(await asRole('service_role', "select epoch::int from public.sync_fences where entity = 'emails'")).toEqual([{ epoch: 1 }]);
    });

    it('service_role cannot call sync_private.apply_changes directly (42501)', async () => {
      const e = await failure(asRole('service_role', "select sync_private.apply_changes('emails', 'id', 'source-wins', '[]'::jsonb)"));
      expect(e.code).toBe('42501');
    });
  });

  describe('sync_apply_push only touches registered tables', () => {
    it('refuses a table that is not registered (P0001, "not registered")', async () => {
      for (const table of ['no_such_table', 'sync_fences', 'Emails']) {
        const e = await failure(asRole('service_role', PUSH, [table, 1, 'source-wins', '[]']));
        expect({ table, code: e.code }).toEqual({ table, code: 'P0001' });
        expect(e.message).toContain('not registered');
      }
    });

    it('never builds SQL from p_table: injected and quoted names are refused and emails is still there', async () => {
      const before = await conn().query('select count(*)::int as n from public.emails');
      const names = [
        'prospects; drop table emails',
        'emails; drop table emails',
        '"emails"',
        'public.emails',
        'emails" cascade; drop table emails; --',
        "emails'; drop table emails; --",
      ];
      for (const table of names) {
        const e = await failure(
          asRole('service_role', PUSH, [table, 1, 'source-wins', JSON.stringify([emailChange(randomUUID(), '2026-03-02T00:00:00Z')])]),
        );
        expect({ table, code: e.code }).toEqual({ table, code: 'P0001' });
        expect(e.message).toContain('not registered');
      }
      const after = await conn().query(
        `select to_regclass('public.emails') is not null as present, (select count(*)::int from public.emails) as n`,
      );
      expect(after.rows).toEqual([{ present: true, n: (before.rows[0] as { n: number }).n }]);
      // Refused before the fence: no bookkeeping for names that are not tables.
      const fences = await conn().query(
        'select entity from public.sync_fences where entity not in (select table_name from public.sync_tables)',
      );
      expect(fences.rows).toEqual([]);
    });
  });

  describe('sync_pull_page: the pull read, for service_role only, over registered tables only', () => {
    const PULL = 'select public.sync_pull_page($1, $2::text[], $3, $4, $5, $6, $7, $8, $9) as result';
    const args = (table: string, columns: string[], after: [string, string] | null, limit = 1000): unknown[] => [
      table,
      columns,
      true,
      after?.[0] ?? null,
      after?.[1] ?? null,
      true,
      null,
      null,
      limit,
    ];

    it('anon and authenticated get permission denied (42501)', async () => {
      for (const role of API_ROLES) {
        const e = await failure(asRole(role, PULL, args('prospects', ['id'], null)));
        expect({ role, code: e.code }).toEqual({ role, code: '42501' });
      }
    });

    it('service_role reads rows after a keyset position with only the columns asked for, and the tombstones once the rows end', async () => {
      const [a, b] = [randomUUID(), randomUUID()].sort();
      const ts = '2026-04-01T00:00:00.000001+00:00';
      await conn().query(`insert into public.prospects (id, name, updated_at) values ($1, 'a', $3), ($2, 'b', $3)`, [a, b, ts]);
      const [first] = await asRole('service_role', PULL, args('prospects', ['id', 'name', 'updated_at'], null, 1));
      const page = first?.['result'] as { rows: Record<string, unknown>[]; tombstones: unknown };
      expect(page.rows).toHaveLength(1);
      expect(Object.keys(page.rows[0] ?? {}).sort()).toEqual(['id', 'name', 'updated_at']);
      expect(page.tombstones).toBeNull(); // a full page of rows: more may follow, no tombstones yet
      const last = page.rows[0] as { id: string; updated_at: string };
      const [next] = await asRole('service_role', PULL, args('prospects', ['id'], [last.updated_at, last.id], 1000));
      const rest = next?.['result'] as { rows: { id: string }[]; tombstones: unknown[] };
      expect(rest.rows.map((r) => r.id)).not.toContain(last.id);
      expect(Array.isArray(rest.tombstones)).toBe(true);
    });

    it('refuses an unregistered or injected table name (P0001, "not registered"), an unknown column (42703) and a page over 1,000 (22023)', async () => {
      for (const table of ['no_such_table', 'sync_fences', 'prospects; drop table emails', '"prospects"']) {
        const e = await failure(asRole('service_role', PULL, args(table, ['id'], null)));
        expect({ table, code: e.code }).toEqual({ table, code: 'P0001' });
        expect(e.message).toContain('not registered');
      }
      const column = await failure(asRole('service_role', PULL, args('prospects', ['id', 'name; drop table emails'], null)));
      expect(column.code).toBe('42703');
      const big = await failure(asRole('service_role', PULL, args('prospects', ['id'], null, 1001)));
      expect(big.code).toBe('22023');
      expect((await conn().query(`select to_regclass('public.emails') is not null as present`)).rows).toEqual([{ present: true }]);
    });
  });

  describe('tombstones for app users (authenticated with Supabase-style grants on prospects)', () => {
    beforeAll(async () => {
      await conn().query('grant all on public.prospects to authenticated');
    });

    it('a prospect deleted by an app user still records a tombstone (security definer trigger)', async () => {
      const [created] = await asRole('authenticated', "insert into public.prospects (name) values ('Tombstone Ltd') returning id::text");
      const id = String(created?.['id']);
      await asRole('authenticated', 'delete from public.prospects where id = $1', [id]);
      expect(await tombstones('prospects', id)).toBe(1);
      // ...while the app user still cannot see the tombstones.
      expect((await failure(asRole('authenticated', 'select * from public.sync_tombstones'))).code).toBe('42501');
    });

    it('re-inserting a deleted prospect clears its tombstone', async () => {
      const id = randomUUID();
      await asRole('authenticated', "insert into public.prospects (id, name) values ($1, 'Phoenix plc')", [id]);
      await asRole('authenticated', 'delete from public.prospects where id = $1', [id]);
      expect(await tombstones('prospects', id)).toBe(1);
      await asRole('authenticated', "insert into public.prospects (id, name) values ($1, 'Phoenix plc')", [id]);
      expect(await tombstones('prospects', id)).toBe(0);
    });
  });

  describe('migrations', () => {
    it('applying every migration file again changes nothing about who may do what (idempotent)', async () => {
      const c = conn();
      const { readdir, readFile } = await import('node:fs/promises');
      await c.query(`set role ${OWNER}`);
      try {
        for (const file of (await readdir(MIGRATIONS)).filter((n) => n.endsWith('.sql')).sort()) {
          await c.query('begin');
          try {
            await c.query(await readFile(join(MIGRATIONS, file), 'utf8'));
            await c.query('commit');
          } catch (e) {
            await c.query('rollback');
            throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
          }
        }
      } finally {
        await c.query('reset role');
      }
      const results = await outcomes(API_ROLES, [
        "select public.sync_apply_push('emails', 1, 'source-wins', '[]'::jsonb)",
        'select * from public.sync_tombstones',
        'select * from public.sync_fences',
      ]);
      expect(results).toEqual(allDenied(results));
      const [push] = await asRole('service_role', PUSH, ['emails', 1, 'source-wins', '[]']);
      expect(push?.['result']).toMatchObject({ written: 0, rejected: [] });
    });
  });
}
