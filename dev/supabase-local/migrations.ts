// Applies `*.sql` files of a directory in name order, once per database. Applied files are
// recorded in supabase_migrations.schema_migrations (like the Supabase CLI), so a file-backed
// database that is reopened only gets the files it has not seen yet.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './databases.ts';

/** A migration file and its version (the file name without `.sql`). */
export interface MigrationFile {
  version: string;
  path: string;
}

/** Lists the migration files; a missing directory means "no migrations yet". */
export async function listMigrations(dir: string | undefined): Promise<MigrationFile[]> {
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.endsWith('.sql'))
    .sort()
    .map((n) => ({ version: n.slice(0, -'.sql'.length), path: join(dir, n) }));
}

const BOOKKEEPING = `
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version text PRIMARY KEY,
  statements text[],
  name text,
  applied_at timestamptz NOT NULL DEFAULT now()
);`;

/** What applying the migrations did. */
export interface MigrationResult {
  /** True when the bookkeeping table did not exist yet, i.e. the database is brand new. */
  fresh: boolean;
  applied: string[];
}

/** Applies the migration files the database has not recorded yet, each in a transaction. */
export async function applyMigrations(db: Database, dir: string | undefined): Promise<MigrationResult> {
  const existed = await db.query(`SELECT (to_regclass('supabase_migrations.schema_migrations') IS NOT NULL)::text AS present`);
  const fresh = existed[0]?.['present'] !== 'true';
  await db.exec(BOOKKEEPING);
  const rows = await db.query(`SELECT version FROM supabase_migrations.schema_migrations`);
  const done = new Set(rows.map((r) => String(r['version'])));
  const applied: string[] = [];
  for (const file of await listMigrations(dir)) {
    if (done.has(file.version)) continue;
    const sql = await readFile(file.path, 'utf8');
    await db.transaction(async (tx) => {
      await tx.exec(sql);
      await tx.query(`INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES ($1, $2)`, [file.version, file.version]);
    });
    applied.push(file.version);
  }
  return { fresh, applied };
}

/** Runs the seed file (once, for a brand-new database) in a transaction. */
export async function applySeed(db: Database, seedFile: string | undefined): Promise<void> {
  if (seedFile === undefined) return;
  const sql = await readFile(seedFile, 'utf8');
  await db.transaction(async (tx) => {
    await tx.exec(sql);
  });
}
