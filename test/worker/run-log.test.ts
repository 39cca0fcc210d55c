// The run log each coordinator keeps: every run, bounded, listed newest first.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { CoordinatorStore } from '../../src/objects/coordinator-store.ts';
import { emptyStats } from '../../src/sync/run.ts';
import { IDLE_RUN_LOG_LIMIT, RUN_LOG_LIMIT, RUN_LOG_TRIM_EVERY } from '../../src/sync/run-log.ts';
import type { RunSummary } from '../../src/types.ts';
import { coordinators, plantRuns, testCoordinator, testDatabase, uniqueName } from './helpers.ts';

function run(i: number, rowsApplied: number): RunSummary {
  const at = new Date(Date.UTC(2026, 1, 1) + i * 1_000).toISOString();
  return {
    runId: `run-${i}`,
    trigger: 'alarm',
    startedAt: at,
    finishedAt: at,
    outcome: 'caught-up',
    stats: { ...emptyStats(), pages: 1, rowsRead: rowsApplied, rowsApplied },
    error: null,
    nextRunAt: null,
    pullLag: null,
  };
}

describe('run log', () => {
  it('keeps the newest 2,000 runs that did something and the newest 120 idle ones, so an idle engine never pushes out the runs that matter', async () => {
    const name = uniqueName('bounded');
    const stub = coordinators.get(coordinators.idFromName(name));
    // 2,560 runs (a trim falls on the last), every fifth of the first 2,400 idle: 480 idle ones and 2,080 that applied a row.
    expect(2_560 % RUN_LOG_TRIM_EVERY).toBe(0);
    const runs = Array.from({ length: 2_560 }, (_, i) => run(i, i % 5 === 0 && i < 2_400 ? 0 : 1));
    const plant = (list: readonly RunSummary[]): Promise<void> => plantRuns(stub, 'campaigns', list);
    const counts = async (): Promise<number[][]> =>
      (
        await runInDurableObject(stub, (_instance, state) =>
          state.storage.sql.exec<{ idle: number; n: number }>('SELECT idle, count(*) AS n FROM runs GROUP BY idle ORDER BY idle').toArray(),
        )
      ).map((c) => [c.idle, c.n]);
    await plant(runs);
    expect(await counts()).toEqual([
      [0, RUN_LOG_LIMIT],
      [1, IDLE_RUN_LOG_LIMIT],
    ]);
    const all = await stub.runs('campaigns', 500, 'include');
    expect(all[0]?.runId).toBe('run-2559');
    // The idle runs kept are the newest ones.
    expect(all.find((r) => r.stats.rowsApplied === 0)?.runId).toBe('run-2395');
    const busy = await stub.runs('campaigns', 500, 'exclude');
    expect(busy).toHaveLength(500);
    expect(busy.map((r) => r.runId).slice(0, 2)).toEqual(['run-2559', 'run-2558']);
    expect(busy.every((r) => r.stats.rowsApplied === 1)).toBe(true);

    // Between trims the log runs over by fewer than RUN_LOG_TRIM_EVERY entries; the next trim takes it back.
    await plant(Array.from({ length: RUN_LOG_TRIM_EVERY - 1 }, (_, i) => run(2_560 + i, 1)));
    expect(await counts()).toEqual([
      [0, RUN_LOG_LIMIT + RUN_LOG_TRIM_EVERY - 1],
      [1, IDLE_RUN_LOG_LIMIT],
    ]);
    await plant([run(2_560 + RUN_LOG_TRIM_EVERY - 1, 0)]);
    expect(await counts()).toEqual([
      [0, RUN_LOG_LIMIT],
      [1, IDLE_RUN_LOG_LIMIT],
    ]);
  });

  it('an object whose storage predates the run log (schema version 2) gets the table on its next start', async () => {
    const name = uniqueName('upgrade');
    const stub = coordinators.get(coordinators.idFromName(name));
    await runInDurableObject(stub, (_instance, state) => {
      const store = new CoordinatorStore(state.storage.sql);
      store.set('entity', 'campaigns');
      // As a version 2 object left it: no runs table.
      state.storage.sql.exec('DROP TABLE runs');
      store.set('schema_version', 2);
      // The next start (a new store over the same storage) creates it.
      const upgraded = new CoordinatorStore(state.storage.sql);
      upgraded.addRun('pull', run(1, 1));
      expect(upgraded.get('schema_version')).toBe(3);
    });
    expect((await stub.runs('campaigns', 10, 'include')).map((r) => r.runId)).toEqual(['run-1']);
  });

  it('records every run a coordinator makes, failed and idle ones too, and no D1 table holds them', async () => {
    const db = testDatabase(uniqueName('logged'));
    await db.sql(`insert into campaigns (name) select 'c' || g from generate_series(1, 3) g`);
    const stub = await testCoordinator('campaigns', db);
    // Paused: manual runs still run, but the failed run's backoff alarm cannot add a run of its own.
    await stub.pause('campaigns');
    const first = await stub.syncNow('campaigns');
    const idle = await stub.syncNow('campaigns');
    await db.faults({ errorRate: 1, errorStatus: 503 });
    const failed = await stub.syncNow('campaigns');
    await db.clearFaults();
    const ids = [first, idle, failed].map((r) => (r.ran ? r.run.runId : null));
    const log = await stub.runs('campaigns', 10, 'include');
    expect(log.slice(0, 3).map((r) => [r.runId, r.outcome, r.stats.rowsApplied])).toEqual([
      [ids[2], 'failed', 0],
      [ids[1], 'caught-up', 0],
      [ids[0], 'caught-up', 3],
    ]);
    expect(log[0]?.error).toMatch(/503/);
    expect((await stub.runs('campaigns', 10, 'exclude')).map((r) => r.runId)).toEqual([ids[2], ids[0]]);
    // Migration 0009 dropped the D1 table the log used to be written to.
    expect(await env.DB.prepare(`SELECT name FROM sqlite_master WHERE name = 'sync_log'`).first()).toBeNull();
  });
});
