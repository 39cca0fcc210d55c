import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { alarmAt, coordinators, d1Rows, fireAlarm, testCoordinator, testDatabase, uniqueName } from './helpers.ts';

describe('alarm loop: backlog', () => {
  it('drains a 12,000-row backlog through chained alarms, each run within its page budget', async () => {
    const db = testDatabase(uniqueName('backlog'));
    await db.sql(`insert into campaigns (name, updated_at)
      select 'c' || g, '2026-01-01T00:00:00Z'::timestamptz + (g / 7) * interval '1 millisecond' from generate_series(1, 12000) g`);
    const stub = await testCoordinator('campaigns', db, { pageSize: 500, maxPagesPerRun: 5 });
    const name = 'campaigns';

    let runs = 0;
    for (; runs < 20; runs++) {
      // The first alarm is fired by hand; later ones are scheduled ~100 ms out by the loop itself.
      await fireAlarm(stub);
      const status = await stub.status(name);
      if (status.lastRun?.outcome === 'caught-up' && status.lease === null) break;
      expect(status.lastRun?.outcome).toBe('more');
      const next = await alarmAt(stub);
      expect(next).not.toBeNull();
      expect((next ?? 0) - Date.now()).toBeLessThan(1_000);
    }
    const all = (await db.sql<{ id: string }>(`select id::text as id from campaigns`)).map((r) => r.id);
    expect((await d1Rows('campaigns', all)).length).toBe(12_000);

    // This coordinator's whole run log, oldest first.
    const log = (await stub.runs(name, 500)).reverse();
    // 24 full pages of 500 at 5 pages a run: four runs of 2,500 rows, then 2,000 and the empty
    // page that says caught up. A run that stopped short of its budget would add a run here.
    expect(log.map((r) => [r.stats.pages, r.stats.rowsApplied, r.outcome])).toEqual([
      [5, 2500, 'more'],
      [5, 2500, 'more'],
      [5, 2500, 'more'],
      [5, 2500, 'more'],
      [5, 2000, 'caught-up'],
    ]);
    // Once caught up, the next alarm waits the interval.
    expect(((await alarmAt(stub)) ?? 0) - Date.now()).toBeGreaterThan(60_000);
  });
});

describe('alarm loop: failures', () => {
  it('backs off exponentially after Supabase 500s and re-arms the alarm every time', async () => {
    const db = testDatabase(uniqueName('err500'));
    await db.sql(`insert into campaigns (name) values ('x')`);
    const stub = await testCoordinator('campaigns', db, { backoffBaseMs: 10_000, backoffMaxMs: 600_000 });
    await db.faults({ errorRate: 1, errorStatus: 500 });

    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await fireAlarm(stub);
      const status = await stub.status('campaigns');
      expect(status.lastRun?.outcome).toBe('failed');
      expect(status.lastRun?.error).toMatch(/500/);
      expect(status.errorStreak).toBe(i + 1);
      expect(status.healthy).toBe(false);
      const next = await alarmAt(stub);
      expect(next).not.toBeNull();
      // Measured from the run's own finish: a slow run on a loaded machine moves both ends.
      delays.push((next ?? 0) - Date.parse(status.lastRun?.finishedAt ?? ''));
    }
    // Base 10 s doubling, jittered within the upper half of each step: [5,10], [10,20], [20,40] s.
    expect(delays[0]).toBeGreaterThanOrEqual(5_000);
    expect(delays[0]).toBeLessThanOrEqual(10_001);
    expect(delays[1]).toBeGreaterThanOrEqual(10_000);
    expect(delays[1]).toBeLessThanOrEqual(20_001);
    expect(delays[2]).toBeGreaterThanOrEqual(20_000);
    expect(delays[2]).toBeLessThanOrEqual(40_001);

    await db.clearFaults();
    await fireAlarm(stub);
    const recovered = await stub.status('campaigns');
    expect(recovered.errorStreak).toBe(0);
    expect(recovered.lastRun?.outcome).toBe('caught-up');
  });

  it('treats a request timeout as a failure and backs off', async () => {
    const db = testDatabase(uniqueName('timeout'));
    await db.sql(`insert into campaigns (name) values ('x')`);
    const stub = await testCoordinator('campaigns', db, { requestTimeoutMs: 200, backoffBaseMs: 10_000 });
    await db.faults({ latencyMs: 1_500 });
    const before = Date.now();
    await fireAlarm(stub);
    const status = await stub.status('campaigns');
    expect(status.lastRun?.outcome).toBe('failed');
    expect(status.lastRun?.error).toMatch(/abort|timeout|timed out/i);
    expect(((await alarmAt(stub)) ?? 0) - before).toBeGreaterThanOrEqual(5_000);
    await db.clearFaults();
  });

  it('honours Retry-After on a 429: the next alarm is at least 30 s away', async () => {
    const db = testDatabase(uniqueName('429'));
    await db.sql(`insert into campaigns (name) values ('x')`);
    const stub = await testCoordinator('campaigns', db, { backoffBaseMs: 1_000 });
    await db.faults({ rateLimit: { rate: 1, retryAfterSeconds: 30 } });
    const before = Date.now();
    await fireAlarm(stub);
    const status = await stub.status('campaigns');
    expect(status.lastRun?.outcome).toBe('failed');
    expect(status.lastRun?.error).toMatch(/429/);
    expect(((await alarmAt(stub)) ?? 0) - before).toBeGreaterThanOrEqual(30_000);
    await db.clearFaults();
  });

  it('re-arms the alarm even when a run cannot start (corrupt stored settings)', async () => {
    const db = testDatabase(uniqueName('corrupt'));
    const stub = await testCoordinator('campaigns', db);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(`UPDATE meta SET value = '{not json' WHERE key = 'settings'`);
    });
    const before = Date.now();
    expect(await fireAlarm(stub)).toBe(true);
    const next = await alarmAt(stub);
    expect((next ?? 0) - before).toBeGreaterThanOrEqual(59_000);
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
  });

  it('cron re-arms a coordinator whose alarm was lost', async () => {
    const stub = coordinators.get(coordinators.idFromName('mailboxes'));
    await stub.status('mailboxes');
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm());
    expect(await alarmAt(stub)).toBeNull();
    const worker = (await import('../../src/index.ts')).default;
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import('cloudflare:test');
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '*/10 * * * *', scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    await expect.poll(() => alarmAt(stub), { timeout: 10_000 }).not.toBeNull();
    // Stop it from syncing against the default database during other tests.
    await stub.pause('mailboxes');
  });
});

describe('alarm loop: health', () => {
  // Regression (convergence soak, loaded machine): a status read in the moment an alarm fired,
  // before its handler took the lease, saw no alarm and no lease and reported "no alarm armed".
  it('status read while an alarm is firing is healthy; an alarm gone past its time is reported', async () => {
    const db = testDatabase(uniqueName('firing'));
    await db.sql(`insert into campaigns (name) values ('x')`);
    const stub = await testCoordinator('campaigns', db);
    await fireAlarm(stub);
    expect((await stub.status('campaigns')).healthy).toBe(true);

    // The platform's view in that moment: the alarm it is delivering no longer shows, no lease yet.
    const plant = (armedFor: number): Promise<void> =>
      runInDurableObject(stub, async (_i, state) => {
        await state.storage.deleteAlarm();
        state.storage.sql.exec(`UPDATE meta SET value = ? WHERE key = 'next_run_at'`, JSON.stringify(new Date(armedFor).toISOString()));
      });
    await plant(Date.now() - 10);
    const firing = await stub.status('campaigns');
    expect(firing.problems).toEqual([]);

    await plant(Date.now() - 5 * 60_000);
    expect((await stub.status('campaigns')).problems).toEqual([
      'no alarm armed: the next cron tick re-arms it, or POST /objects/:entity/sync',
    ]);
  });
});
