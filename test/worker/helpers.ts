/**
 * Test helpers for the workerd project: a private database on the local Supabase stand-in
 * per test, and a SyncCoordinator with a unique name pointed at it.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import type { SettingsOverrides } from '../../src/objects/settings.ts';
import type { TestSyncCoordinator } from './test-coordinator.ts';
import { emptyStats } from '../../src/sync/run.ts';
import { findEntity } from '../../src/entities.ts';
import { CoordinatorStore } from '../../src/objects/coordinator-store.ts';
import type { RunStats, RunSummary } from '../../src/types.ts';

/** A private database on the stand-in, with direct SQL, faults and request counts. */
export interface TestDatabase {
  url: string;
  sql<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  faults(spec: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Requests seen since the last reset, as the stand-in counts them. */
  stats(): Promise<Record<string, unknown>>;
  resetStats(): Promise<void>;
}

/** Databases created by this test file and not dropped yet. */
const openDatabases = new Set<string>();

/**
 * Drops every database this file created (each in-memory Postgres holds ~300 MB). Runs after
 * each test (see test/worker/apply-migrations.ts); a coordinator still scheduled against a
 * dropped database gets 410 errors, never a fresh empty database.
 */
export async function dropTestDatabases(): Promise<void> {
  const base = inject('supabaseUrl');
  const key = inject('supabaseServiceRoleKey');
  const names = [...openDatabases];
  openDatabases.clear();
  await Promise.all(
    names.map(async (name) => {
      const res = await fetch(`${base}/db/${name}/_dev/database`, { method: 'DELETE', headers: { apikey: key } });
      await res.body?.cancel();
    }),
  );
}

/** Creates (lazily, on first use) a database of its own on the stand-in. */
export function testDatabase(name: string): TestDatabase {
  const base = inject('supabaseUrl');
  const key = inject('supabaseServiceRoleKey');
  const url = `${base}/db/${name}`;
  openDatabases.add(name);
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}/_dev/${path}`, {
      method,
      headers: { apikey: key, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`stand-in ${method} ${path}: ${res.status} ${text}`);
    return text === '' ? null : (JSON.parse(text) as unknown);
  };
  return {
    url,
    async sql<T>(sql: string, params: unknown[] = []) {
      const r = (await call('POST', 'sql', { sql, params })) as { rows: T[] };
      return r.rows;
    },
    async faults(spec) {
      await call('PUT', 'faults', spec);
    },
    async clearFaults() {
      await call('DELETE', 'faults');
    },
    async stats() {
      return (await call('GET', 'stats')) as Record<string, unknown>;
    },
    async resetStats() {
      await call('POST', 'stats/reset');
    },
  };
}

/** A unique name for this test's objects and database. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Test settings: no safety lag unless asked, generous budget, short timeouts. */
export const FAST: SettingsOverrides = {
  safetyLagMs: 0,
  maxPagesPerRun: 50,
  maxRunMs: 30_000,
  requestTimeoutMs: 10_000,
  intervalMs: 3_600_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
};

/**
 * The coordinators as the tests run them: test/worker/entry.ts binds TestSyncCoordinator under
 * the production class's name, which Env's type (src/env.ts) cannot know.
 */
export const coordinators = env.SYNC_COORDINATOR as unknown as DurableObjectNamespace<TestSyncCoordinator>;

/**
 * A coordinator bound to `entity`, reading `db`: by default with a unique object name; named as
 * in production (the entity's name) when the Worker's own API must reach it (once per file).
 */
export async function testCoordinator(
  entity: string,
  db: TestDatabase,
  overrides: SettingsOverrides = {},
  objectName = uniqueName(entity),
): Promise<DurableObjectStub<TestSyncCoordinator>> {
  const stub = coordinators.get(coordinators.idFromName(objectName));
  await stub.useSupabaseUrl(entity, db.url);
  await stub.configure(entity, { ...FAST, ...overrides });
  // Park the alarm far away so tests fire it deterministically with runDurableObjectAlarm.
  await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() + 3_600_000));
  return stub;
}

/** Writes finished runs into a coordinator's run log, as its runs do when they end (bound to `entity`). */
export async function plantRuns(stub: DurableObjectStub<TestSyncCoordinator>, entity: string, runs: readonly RunSummary[]): Promise<void> {
  const def = findEntity(entity);
  if (!def) throw new Error(`unknown entity ${entity}`);
  await runInDurableObject(stub, (_instance, state) => {
    const store = new CoordinatorStore(state.storage.sql);
    store.set('entity', entity);
    for (const run of runs) store.addRun(def.direction, run);
  });
}

/** Fires the object's alarm now (after parking it if it had none). */
export async function fireAlarm(stub: DurableObjectStub<TestSyncCoordinator>): Promise<boolean> {
  await runInDurableObject(stub, async (_instance, state) => {
    if ((await state.storage.getAlarm()) === null) await state.storage.setAlarm(Date.now() + 3_600_000);
  });
  return runDurableObjectAlarm(stub);
}

/** When the object's alarm is set for (epoch ms), or null. */
export function alarmAt(stub: DurableObjectStub<TestSyncCoordinator>): Promise<number | null> {
  return runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
}

/** Rows of a D1 table whose ids are in `ids`. */
export async function d1Rows(
  table: 'prospects' | 'campaigns' | 'mailboxes' | 'emails',
  ids: readonly string[],
): Promise<Record<string, unknown>[]> {
  const r = await env.DB.prepare(`SELECT * FROM ${table} WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id`)
    .bind(JSON.stringify(ids))
    .all();
  return r.results;
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Empties the synced D1 tables and the outbox (and the fences when asked) without recording the deletes (tests share D1 within a file). */
export async function wipeD1(options: { fences?: boolean } = {}): Promise<void> {
  // The replicas too: a convergence case's reconciliation saw earlier cases' campaigns as extra rows.
  // Fences only when asked: tests that write with a fixed epoch need none left by earlier runs.
  const tables = ['emails', 'prospects', 'campaigns', 'mailboxes', 'sync_outbox', ...(options.fences ? ['sync_fence'] : [])];
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
    ...tables.map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
  ]);
}

/** The Worker writing emails to D1 the ordinary way: plain INSERTs, no sync flags, 1,000 per statement. */
export async function insertEmails(rows: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await env.DB.prepare(
      `INSERT INTO emails (id, prospect_id, campaign_id, subject, body, to_email, from_email, message_id, direction, status, sent_at)
       SELECT j.value ->> '$.id', j.value ->> '$.prospect_id', j.value ->> '$.campaign_id', j.value ->> '$.subject',
              j.value ->> '$.body', j.value ->> '$.to_email', j.value ->> '$.from_email', j.value ->> '$.message_id',
              j.value ->> '$.direction', j.value ->> '$.status', j.value ->> '$.sent_at'
       FROM json_each(?1) AS j`,
    )
      .bind(JSON.stringify(rows.slice(i, i + 1000)))
      .run();
  }
}

// ---- Added for the convergence harness (test/worker/convergence.test.ts) -------------------

/** A new stub for the same object: stubs are broken once every object has been aborted. */
export function freshStub(stub: DurableObjectStub<TestSyncCoordinator>): DurableObjectStub<TestSyncCoordinator> {
  return coordinators.get(stub.id);
}

/**
 * Plants the expiry of a run lease left behind by a crashed (aborted or evicted) instance,
 * instead of waiting about a minute for it: rewrites the stored lease's `expiresAt` into the
 * past (meta table, key 'lease') and keeps every other field as stored (runId, epoch, …).
 * Only a live lease whose run started at or before `startedAtOrBefore` (epoch ms) is touched,
 * so a run that started after the crash keeps its lease. Returns the lease as it was, or null
 * when there was nothing to expire.
 */
export async function expireCrashedLease(
  stub: DurableObjectStub<TestSyncCoordinator>,
  startedAtOrBefore: number,
): Promise<Record<string, unknown> | null> {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    if (sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).toArray().length === 0) return null;
    const row = sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'lease'`).toArray()[0];
    if (!row) return null;
    const lease = JSON.parse(row.value) as unknown;
    if (typeof lease !== 'object' || lease === null) return null;
    const fields = lease as Record<string, unknown>;
    const now = Date.now();
    const expiresAt = Date.parse(String(fields['expiresAt']));
    const startedAt = Date.parse(String(fields['startedAt']));
    if (!(expiresAt > now)) return null;
    if (Number.isFinite(startedAt) && startedAt > startedAtOrBefore) return null;
    sql.exec(
      `UPDATE meta SET value = ? WHERE key = 'lease'`,
      JSON.stringify({ ...fields, expiresAt: new Date(now - 1_000).toISOString() }),
    );
    return fields;
  });
}

/**
 * Runs `entity`'s coordinator until a run reports caught-up and returns the runs it took with
 * their counters summed. A run that coalesced (an alarm run held the lease and does the work) is
 * waited for and not counted, or, with `whenCoalesced: 'throw'`, an error: the benchmarks drive
 * their coordinators alone. A failed run, or no caught-up within `maxRuns`, throws.
 */
export async function syncUntilCaughtUp(
  stub: DurableObjectStub<TestSyncCoordinator>,
  entity: string,
  { maxRuns = 200, whenCoalesced = 'wait' }: { maxRuns?: number; whenCoalesced?: 'wait' | 'throw' } = {},
): Promise<RunStats & { runs: number }> {
  const total = { ...emptyStats(), runs: 0 };
  for (let attempt = 0; attempt < maxRuns; attempt++) {
    const r = await stub.syncNow(entity);
    if (!r.ran) {
      if (whenCoalesced === 'throw') throw new Error(`${entity}: a run coalesced with ${r.lease.runId}`);
      await sleep(50);
      continue;
    }
    total.runs += 1;
    for (const key of Object.keys(r.run.stats) as (keyof RunStats)[]) total[key] += r.run.stats[key];
    if (r.run.outcome === 'failed') throw new Error(`${entity}: ${r.run.error ?? 'run failed'}`);
    if (r.run.outcome === 'caught-up') return total;
  }
  throw new Error(`${entity}: not caught up after ${maxRuns} attempts`);
}

/**
 * Plants a lease in the coordinator's storage as a run in progress (or one that crashed) leaves
 * it: other runs coalesce with it until `expiresAt` (epoch ms) passes or removeLease.
 */
export async function plantLease(
  stub: DurableObjectStub<TestSyncCoordinator>,
  { runId, epoch = 1, expiresAt }: { runId: string; epoch?: number; expiresAt: number },
): Promise<void> {
  const lease = { runId, trigger: 'alarm', epoch, startedAt: new Date().toISOString(), expiresAt: new Date(expiresAt).toISOString() };
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      `INSERT INTO meta (key, value) VALUES ('lease', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      JSON.stringify(lease),
    );
  });
}

/** Removes a lease plantLease left, as the end of the run that held it would. */
export async function removeLease(stub: DurableObjectStub<TestSyncCoordinator>): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(`DELETE FROM meta WHERE key = 'lease'`);
  });
}

/**
 * Deletes rows in Supabase and the tombstones their deletes recorded, in one statement (one
 * transaction): a coordinator whose own alarm pulls meanwhile never sees those tombstones, so the
 * rows stay in D1 as drift only reconciliation can find. Two separate statements would race it.
 */
export async function deleteWithoutTombstones(db: TestDatabase, table: string, ids: readonly string[]): Promise<void> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const bad = ids.find((id) => !uuid.test(id));
  if (bad !== undefined) throw new Error(`not a lower-case uuid: ${bad}`);
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  const list = `array[${ids.map((id) => `'${id}'`).join(',')}]::text[]`;
  await db.sql(
    `do $$ begin
       delete from public.${table} where id::text = any(${list});
       delete from public.sync_tombstones where table_name = '${table}' and row_id = any(${list});
     end $$`,
  );
}

/**
 * Empties a stand-in database for reuse: the synced tables, tombstones and fences (identities
 * restarted; TRUNCATE records no tombstones), faults cleared and stats reset. To the engine this
 * is a fresh database (the registered tables and functions stay); creating a new one costs
 * about 4 s on a loaded 2-core machine.
 */
export async function emptyTestDatabase(db: TestDatabase): Promise<void> {
  await db.clearFaults();
  const candidates = ['prospects', 'campaigns', 'mailboxes', 'emails', 'inbox_items', 'sync_tombstones', 'sync_fences'];
  const present = await db.sql<{ name: string }>(
    `select t as name from unnest($1::text[]) as t where to_regclass('public.' || t) is not null`,
    [`{${candidates.join(',')}}`],
  );
  if (present.length > 0) await db.sql(`truncate ${present.map((p) => `public.${p.name}`).join(', ')} restart identity`);
  await db.resetStats();
}

/**
 * Like testDatabase, but not dropped after each test: for a file whose tests share one database
 * (creating one costs seconds). The caller drops it, e.g. in afterAll.
 */
export function fileTestDatabase(name: string): TestDatabase & { drop(): Promise<void> } {
  const db = testDatabase(name);
  openDatabases.delete(name);
  return {
    ...db,
    async drop() {
      const res = await fetch(`${inject('supabaseUrl')}/db/${name}/_dev/database`, {
        method: 'DELETE',
        headers: { apikey: inject('supabaseServiceRoleKey') },
      });
      await res.body?.cancel();
    },
  };
}
