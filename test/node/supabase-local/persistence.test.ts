// File-backed PGlite databases survive a restart without re-applying migrations or the seed;
// new migration files are applied on the next start. Server mode (`pg`) when TEST_DATABASE_URL is set.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalSupabase } from '../../../dev/supabase-local/server.ts';
import { FIXTURE_MIGRATIONS, FIXTURE_SEED, client, sql } from './helpers.ts';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('file-backed databases', () => {
  it('keep data and migration bookkeeping across a restart; only new files are applied', async () => {
    const root = await mkdtemp(join(tmpdir(), 'supabase-local-'));
    temps.push(root);
    const migrations = join(root, 'migrations');
    await mkdir(migrations);
    await copyFile(join(FIXTURE_MIGRATIONS, '20260101000000_schema.sql'), join(migrations, '20260101000000_schema.sql'));
    const dataDir = join(root, 'data');
    const options = { port: 0, migrationsDir: migrations, dataDir, seedFile: FIXTURE_SEED, quiet: true };

    const first = await startLocalSupabase(options);
    try {
      const { error } = await client(first, 'persist')
        .from('sl_items')
        .insert({ id: 1, name: 'kept', updated_at: '2026-07-01T00:00:00.000007+00:00' });
      expect(error).toBeNull();
      await client(first).from('sl_items').insert({ id: 2, name: 'default db' });
    } finally {
      await first.close();
    }

    await copyFile(join(FIXTURE_MIGRATIONS, '20260102000000_view.sql'), join(migrations, '20260102000000_view.sql'));
    const second = await startLocalSupabase(options);
    try {
      const kept = await client(second, 'persist').from('sl_items').select('id,name,updated_at');
      expect(kept.data).toEqual([{ id: 1, name: 'kept', updated_at: '2026-07-01T00:00:00.000007+00:00' }]);
      expect((await client(second).from('sl_items').select('name')).data).toEqual([{ name: 'default db' }]);
      const applied = await sql<{ version: string }>(
        second,
        'persist',
        'select version from supabase_migrations.schema_migrations order by version',
      );
      expect(applied.map((r) => r.version)).toEqual(['20260101000000_schema', '20260102000000_view']);
      // the seed ran once (a second run would have failed on the primary key or duplicated rows)
      expect(await sql(second, 'persist', 'select count(*)::int as n from sl_owners')).toEqual([{ n: 3 }]);
      // the migration added while stopped was applied
      expect((await client(second, 'persist').from('sl_active_items').select('id')).data).toEqual([{ id: 1 }]);
    } finally {
      await second.close();
    }
  }, 90_000); // two file-backed initdb runs: ~20 s alone, past 30 s when the whole suite shares two cores

  it('tolerates a missing migrations directory', async () => {
    const s = await startLocalSupabase({
      port: 0,
      migrationsDir: join(tmpdir(), 'definitely-missing-dir-for-supabase-local'),
      quiet: true,
    });
    try {
      expect(await sql(s, 'empty', 'select count(*)::int as n from supabase_migrations.schema_migrations')).toEqual([{ n: 0 }]);
      const res = await client(s, 'empty').from('anything').select('*');
      expect(res.error?.code).toBe('PGRST205');
    } finally {
      await s.close();
    }
  });

  it('fails a request clearly when a migration is broken', async () => {
    const root = await mkdtemp(join(tmpdir(), 'supabase-local-bad-'));
    temps.push(root);
    await writeFile(join(root, '001_bad.sql'), 'create tabel oops (id int);');
    const s = await startLocalSupabase({ port: 0, migrationsDir: root, quiet: true });
    try {
      const res = await client(s, 'broken').from('oops').select('*');
      expect(res.status).toBe(500);
      expect(res.error?.message).toContain('Applying migrations failed');
    } finally {
      await s.close();
    }
  });
});

const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'];

describe.skipIf(TEST_DATABASE_URL === undefined || TEST_DATABASE_URL === '')('Postgres server mode (TEST_DATABASE_URL)', () => {
  it('serves the same API through pg, with named databases as separate Postgres databases', async () => {
    const s = await startLocalSupabase({ port: 0, migrationsDir: FIXTURE_MIGRATIONS, databaseUrl: TEST_DATABASE_URL ?? '', quiet: true });
    const name = `pgmode_${Date.now().toString(36)}`;
    try {
      const sb = client(s, name);
      const ts = '2026-01-01T00:00:00.000001+00:00';
      const { error } = await sb.from('sl_items').insert([
        { id: 1, name: 'a', updated_at: ts },
        { id: 2, name: 'b', updated_at: ts },
      ]);
      expect(error).toBeNull();
      const page = await sb
        .from('sl_items')
        .select('id,updated_at')
        .or(`updated_at.gt."${ts}",and(updated_at.eq."${ts}",id.gt.1)`)
        .order('updated_at')
        .order('id');
      expect(page.data).toEqual([{ id: 2, updated_at: ts }]);
      expect((await sb.rpc('sl_add', { a: 2, b: 3 })).data).toBe(5);
      expect((await sb.from('sl_items').insert({ id: 1, name: 'dup' })).status).toBe(409);
    } finally {
      await s.close();
    }
  });
});
