// The reconciliation functions (supabase/migrations/20261129000300_reconcile.sql) on a real
// Postgres server with Supabase's roles, checked with SET ROLE: only service_role may call them,
// their sync_private helpers are closed to every API role, and they work for service_role as a
// non-superuser owner installed them. Needs TEST_DATABASE_URL (a superuser URL of a throw-away
// server: `dev/pg-test-server.sh start`); skipped otherwise. Same setup as grants.test.ts.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryer, Row } from '../../../dev/supabase-local/databases.ts';
import { applyMigrations } from '../../../dev/supabase-local/migrations.ts';

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'supabase', 'migrations');
const SERVER_URL = process.env['TEST_DATABASE_URL'] ?? '';
const OWNER = 'sync_migrations_owner';
const COLUMNS = JSON.stringify([
  { name: 'id', type: 'uuid' },
  { name: 'name', type: 'text' },
  { name: 'updated_at', type: 'timestamp' },
]);
const CALLS = [
  `select public.sync_range_digests('campaigns', '${COLUMNS}'::jsonb, 2, null)`,
  `select public.sync_range_rows('campaigns', '${COLUMNS}'::jsonb, 'updated_at', '["0"]'::jsonb)`,
  `select public.sync_read_rows('campaigns', '${COLUMNS}'::jsonb, '[]'::jsonb)`,
];
const PRIVATE = [
  `select sync_private.reconcile_target('campaigns')`,
  `select sync_private.row_text_sql('public.campaigns'::regclass, '${COLUMNS}'::jsonb)`,
  `select sync_private.d1_value_sql('public.campaigns'::regclass, 'id', 'uuid')`,
];

let admin: pg.Client | null = null;
let db: pg.Client | null = null;
let dbName = '';

async function asRole(role: string, text: string): Promise<string> {
  const c = db;
  if (c === null) throw new Error('not connected');
  await c.query('begin');
  try {
    await c.query(`set local role ${pg.escapeIdentifier(role)}`);
    await c.query(text);
    await c.query('commit');
    return 'ok';
  } catch (e) {
    await c.query('rollback');
    return (e as { code?: string }).code ?? String(e);
  }
}

async function createRole(c: pg.Client, name: string, attributes: string): Promise<void> {
  await c.query(`do $$ begin
    if not exists (select from pg_roles where rolname = ${pg.escapeLiteral(name)}) then
      create role ${pg.escapeIdentifier(name)} ${attributes};
    end if;
  exception when duplicate_object or unique_violation then null;
  end $$`);
}

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

if (SERVER_URL === '') {
  describe('reconciliation functions on a Postgres server', () => {
    it.skip('skipped: set TEST_DATABASE_URL to a throw-away Postgres server (dev/pg-test-server.sh start)', () => undefined);
  });
} else {
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await createRole(admin, 'anon', 'nologin noinherit');
    await createRole(admin, 'authenticated', 'nologin noinherit');
    await createRole(admin, 'service_role', 'nologin noinherit bypassrls');
    await createRole(admin, OWNER, 'nologin');
    dbName = `reconcile_sql_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
    await admin.query(`create database ${pg.escapeIdentifier(dbName)} owner ${pg.escapeIdentifier(OWNER)}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${dbName}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    // As on a Supabase project: what the owner creates in public is granted to the API roles by default.
    await db.query(`
      grant usage on schema public to anon, authenticated, service_role;
      alter default privileges for role ${OWNER} in schema public grant all on tables to anon, authenticated, service_role;
      alter default privileges for role ${OWNER} in schema public grant all on functions to anon, authenticated, service_role;`);
    await db.query(`set role ${OWNER}`);
    await applyMigrations(onConnection(db), MIGRATIONS);
    await db.query(`insert into public.campaigns (id, name) values (gen_random_uuid(), 'a'), (gen_random_uuid(), 'b')`);
    await db.query('reset role');
  });

  afterAll(async () => {
    await db?.end();
    if (admin !== null) {
      if (dbName !== '') await admin.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`);
      await admin.end();
    }
  });

  describe('reconciliation functions are for service_role only', () => {
    it('anon and authenticated get permission denied (42501) calling any of them', async () => {
      for (const role of ['anon', 'authenticated']) {
        for (const call of CALLS) expect(`${role}: ${call} → ${await asRole(role, call)}`).toBe(`${role}: ${call} → 42501`);
      }
    });

    it("service_role calls them (as security definer over the owner's tables)", async () => {
      for (const call of CALLS) expect(`${call} → ${await asRole('service_role', call)}`).toBe(`${call} → ok`);
    });

    it('no API role, service_role included, can call the sync_private helpers directly', async () => {
      for (const role of ['anon', 'authenticated', 'service_role']) {
        for (const call of PRIVATE) expect(`${role}: ${call} → ${await asRole(role, call)}`).toBe(`${role}: ${call} → 42501`);
      }
    });
  });
}
