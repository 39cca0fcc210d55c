// Shared helpers for the local Supabase stand-in conformance tests.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SupabaseClient } from '@supabase/supabase-js';
import { startLocalSupabase, type LocalSupabase, type LocalSupabaseOptions } from '../../../dev/supabase-local/server.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_MIGRATIONS = join(here, 'fixtures', 'migrations');
export const FIXTURE_SEED = join(here, 'fixtures', 'seed.sql');

/**
 * Starts a stand-in on a free port with the fixture migrations and seed. Set
 * SUPABASE_LOCAL_TEST_PG_URL to run the whole suite against a Postgres server instead of PGlite
 * (use a throw-away server: named databases are created there and not dropped).
 */
export function startFixtureServer(options: LocalSupabaseOptions = {}): Promise<LocalSupabase> {
  const pgUrl = process.env['SUPABASE_LOCAL_TEST_PG_URL'];
  return startLocalSupabase({
    port: 0,
    migrationsDir: FIXTURE_MIGRATIONS,
    seedFile: FIXTURE_SEED,
    quiet: true,
    ...(pgUrl !== undefined && pgUrl !== '' ? { databaseUrl: pgUrl } : {}),
    ...options,
  });
}

/** supabase-js client for the default database (db = null) or a named one. */
export function client(server: LocalSupabase, db: string | null = null): SupabaseClient {
  const url = db === null ? server.url : `${server.url}/db/${db}`;
  // The class rather than createClient: createClient infers its schema as `any`.
  return new SupabaseClient(url, server.serviceRoleKey, { auth: { persistSession: false, autoRefreshToken: false } });
}

export function base(server: LocalSupabase, db: string | null = null): string {
  return db === null ? server.url : `${server.url}/db/${db}`;
}

/** Raw fetch with the service-role key. */
export function raw(server: LocalSupabase, db: string | null, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('apikey')) headers.set('apikey', server.serviceRoleKey);
  return fetch(`${base(server, db)}${path}`, { ...init, headers });
}

/** Runs SQL through POST /_dev/sql and returns the rows. */
export async function sql<T = Record<string, unknown>>(
  server: LocalSupabase,
  db: string | null,
  text: string,
  params?: unknown[],
): Promise<T[]> {
  const res = await raw(server, db, '/_dev/sql', { method: 'POST', body: JSON.stringify({ sql: text, params }) });
  const body = (await res.json()) as { rows?: T[]; message?: string };
  if (!res.ok) throw new Error(`_dev/sql ${res.status}: ${body.message ?? ''}`);
  return body.rows ?? [];
}
