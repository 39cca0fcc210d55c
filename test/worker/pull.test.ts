import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { entity } from '../shared/fixtures.ts';
import { applyPulledRows } from '../../src/stores/d1.ts';
import { toD1Row } from '../../src/sync/rows.ts';
import type { PullPosition } from '../../src/sync/run.ts';
import { d1Rows, fireAlarm, plantLease, testCoordinator, testDatabase, uniqueName } from './helpers.ts';

interface Id {
  id: string;
}

async function ids(db: ReturnType<typeof testDatabase>, table: string): Promise<string[]> {
  return (await db.sql<Id>(`select id::text as id from ${table} order by id`)).map((r) => r.id);
}

/** Pull reads the stand-in answered (sync_pull_page: rows, and tombstones once the rows end). */
async function pullReads(db: ReturnType<typeof testDatabase>): Promise<number> {
  const stats = (await db.stats()) as { requests?: Record<string, number> };
  return stats.requests?.['POST rpc/sync_pull_page'] ?? 0;
}

describe('pull: keyset paging', () => {
  it('brings 5,000 rows sharing one updated_at in at most 11 pages of 500, and does not re-read them', async () => {
    const db = testDatabase(uniqueName('bulk'));
    await db.sql(`insert into campaigns (name) select 'c' || g from generate_series(1, 5000) g`);
    const shared = await db.sql<{ n: number }>(`select count(distinct updated_at)::int as n from campaigns`);
    expect(shared[0]?.n).toBe(1);
    const stub = await testCoordinator('campaigns', db, { pageSize: 500 });
    await db.resetStats();

    const first = await stub.syncNow('campaigns');
    expect(first.ran).toBe(true);
    if (!first.ran) return;
    expect(first.run.outcome).toBe('caught-up');
    expect(first.run.stats.rowsApplied).toBe(5000);
    // 10 full pages, and the one that finds the end (with the tombstones).
    expect(await pullReads(db)).toBe(11);
    expect((await d1Rows('campaigns', await ids(db, 'campaigns'))).length).toBe(5000);

    await db.resetStats();
    const second = await stub.syncNow('campaigns');
    if (!second.ran) throw new Error('second run coalesced');
    expect(second.run.stats.rowsRead).toBe(0);
    // A quiet cycle: one request reads the rows and the tombstones.
    expect(await pullReads(db)).toBe(1);
  });

  // D1 caps a bound value at 2 MB: a page of 1,000 large rows as one JSON value failed on every retry.
  it('a page of large rows (2.4 MB of JSON) is applied in several bound values of one batch', async () => {
    const db = testDatabase(uniqueName('large-rows'));
    await db.sql(`insert into campaigns (name) select repeat('x', 4000) || g from generate_series(1, 600) g`);
    const stub = await testCoordinator('campaigns', db, { pageSize: 1000 });
    const run = await stub.syncNow('campaigns');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.error).toBeNull();
    expect(run.run.stats.rowsApplied).toBe(600);
    expect((await d1Rows('campaigns', await ids(db, 'campaigns'))).length).toBe(600);
  });

  it('does not miss or endlessly re-read rows whose timestamps differ only in microseconds', async () => {
    const db = testDatabase(uniqueName('micro'));
    await db.sql(`insert into campaigns (name, updated_at) values
      ('a', '2026-01-01T00:00:00.000001Z'), ('b', '2026-01-01T00:00:00.000002Z'),
      ('c', '2026-01-01T00:00:00.000002Z'), ('d', '2026-01-01T00:00:00.000003Z'),
      ('e', '2026-01-01T00:00:00.000004Z'), ('f', '2026-01-01T00:00:00.000005Z'),
      ('g', '2026-01-01T00:00:00.000005Z')`);
    const stub = await testCoordinator('campaigns', db, { pageSize: 2 });
    const run = await stub.syncNow('campaigns');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.rowsApplied).toBe(7);
    const rows = await d1Rows('campaigns', await ids(db, 'campaigns'));
    expect(rows.map((r) => r.updated_at).sort()).toEqual([
      '2026-01-01T00:00:00.000001Z',
      '2026-01-01T00:00:00.000002Z',
      '2026-01-01T00:00:00.000002Z',
      '2026-01-01T00:00:00.000003Z',
      '2026-01-01T00:00:00.000004Z',
      '2026-01-01T00:00:00.000005Z',
      '2026-01-01T00:00:00.000005Z',
    ]);
    const status = await stub.status('campaigns');
    expect(status.pull?.cursor?.ts).toBe('2026-01-01T00:00:00.000005+00:00');
    const again = await stub.syncNow('campaigns');
    if (!again.ran) throw new Error('coalesced');
    expect(again.run.stats.rowsRead).toBe(0);
    // One more row one microsecond later is still seen.
    await db.sql(`insert into campaigns (name, updated_at) values ('h', '2026-01-01T00:00:00.000006Z')`);
    const third = await stub.syncNow('campaigns');
    if (!third.ran) throw new Error('coalesced');
    expect(third.run.stats.rowsApplied).toBe(1);
  });
});

describe('pull: late commits and the safety lag', () => {
  it('picks up a row committed later with an updated_at behind the read position but inside the lag', async () => {
    const db = testDatabase(uniqueName('late'));
    await db.sql(`insert into campaigns (name, updated_at) values ('old', now() - interval '1 hour'), ('fresh', now())`);
    const stub = await testCoordinator('campaigns', db, { safetyLagMs: 30_000, pageSize: 10 });
    const first = await stub.syncNow('campaigns');
    if (!first.ran) throw new Error('coalesced');
    expect(first.run.outcome).toBe('caught-up');
    const status = await stub.status('campaigns');
    // The committed cursor stays at the old row: 'fresh' is inside the lag window.
    const old = await db.sql<{ updated_at: string }>(`select to_json(updated_at) #>> '{}' as updated_at from campaigns where name = 'old'`);
    expect(status.pull?.cursor?.ts).toBe(old[0]?.updated_at);
    expect(status.pull?.backlog).toBe(false);

    // A transaction that started 10 s ago commits now: its updated_at is behind 'fresh'.
    await db.sql(`insert into campaigns (name, updated_at) values ('late', now() - interval '10 seconds')`);
    const second = await stub.syncNow('campaigns');
    if (!second.ran) throw new Error('coalesced');
    const all = await ids(db, 'campaigns');
    expect((await d1Rows('campaigns', all)).map((r) => r.name).sort()).toEqual(['fresh', 'late', 'old']);
    // Caught up means the next run waits the interval, though the cursor is held back.
    expect(second.run.outcome).toBe('caught-up');
    expect(Date.parse(second.run.nextRunAt ?? '') - Date.now()).toBeGreaterThan(60_000);
  });
});

describe('pull: re-reading the lag window', () => {
  it('does not rewrite identical versions, but applies a same-timestamp version with other content', async () => {
    const db = testDatabase(uniqueName('reread'));
    await db.sql(`insert into campaigns (name) select 'c' || g from generate_series(1, 20) g`);
    const stub = await testCoordinator('campaigns', db, { safetyLagMs: 60_000 });
    const first = await stub.syncNow('campaigns');
    if (!first.ran) throw new Error('coalesced');
    expect(first.run.stats.rowsApplied).toBe(20);

    const again = await stub.syncNow('campaigns');
    if (!again.ran) throw new Error('coalesced');
    expect(again.run.stats.rowsRead).toBe(20); // inside the lag window: read again…
    expect(again.run.stats.rowsApplied).toBe(0); // …and not rewritten
    expect(again.run.stats.rowsSkipped).toBe(20);

    // Same updated_at, other content (two writes within one tick of the writer's clock).
    await db.sql(`update campaigns set name = 'renamed', updated_at = updated_at + interval '0 seconds' where name = 'c1'`);
    await db.sql(`alter table campaigns disable trigger set_updated_at`);
    await db.sql(`update campaigns set description = 'same tick' where name = 'renamed'`);
    await db.sql(`alter table campaigns enable trigger set_updated_at`);
    const third = await stub.syncNow('campaigns');
    if (!third.ran) throw new Error('coalesced');
    expect(third.run.stats.rowsApplied).toBe(1);
    const [row] = await db.sql<{ id: string }>(`select id::text as id from campaigns where name = 'renamed'`);
    expect((await d1Rows('campaigns', [row?.id ?? '']))[0]).toMatchObject({ name: 'renamed', description: 'same tick' });
  });
});

describe('pull: deletes', () => {
  it('applies Supabase deletes to D1 through tombstones, and keeps a row re-created after its delete', async () => {
    const db = testDatabase(uniqueName('tomb'));
    await db.sql(`insert into campaigns (name) values ('keep'), ('drop'), ('recreate')`);
    const stub = await testCoordinator('campaigns', db);
    await stub.syncNow('campaigns');
    const before = await ids(db, 'campaigns');
    expect((await d1Rows('campaigns', before)).length).toBe(3);

    const recreated = await db.sql<Id>(`select id::text as id from campaigns where name = 'recreate'`);
    await db.sql(`delete from campaigns where name in ('drop', 'recreate')`);
    await db.sql(`insert into campaigns (id, name, updated_at) values ($1, 'recreate', now() + interval '1 second')`, [recreated[0]?.id]);
    const run = await stub.syncNow('campaigns');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.rowsDeleted).toBe(1);
    expect((await d1Rows('campaigns', before)).map((r) => r.name).sort()).toEqual(['keep', 'recreate']);
  });
});

describe('pull: conflicts with edge writes', () => {
  it('keeps a newer D1 row of a two-way table under last-write-wins and records the conflict', async () => {
    const db = testDatabase(uniqueName('lww'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'original', '2026-01-01T00:00:00Z')`, [id]);
    const stub = await testCoordinator('prospects', db);
    await stub.syncNow('prospects');
    // The edge write is pushed in the same run; park the push so only the pull meets the newer D1 row.
    await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec(
        `INSERT INTO meta (key, value) VALUES ('push_seq', '9007199254740991') ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    );
    await env.DB.prepare(`UPDATE prospects SET name = 'edge', updated_at = '2026-01-03T00:00:00.000000Z' WHERE id = ?1`).bind(id).run();
    await db.sql(`update prospects set name = 'supabase', updated_at = '2026-01-02T00:00:00Z' where id = $1`, [id]);

    const run = await stub.syncNow('prospects');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.conflicts).toBe(1);
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('edge');
    const conflicts = await stub.conflicts('prospects');
    expect(conflicts[0]).toMatchObject({
      rowId: id,
      direction: 'pull',
      winner: 'd1',
      d1UpdatedAt: '2026-01-03T00:00:00.000000Z',
      supabaseUpdatedAt: '2026-01-02T00:00:00.000000Z',
    });
    // Re-reading the same versions does not record the same conflict twice.
    await stub.resetCursor('prospects', { scope: 'pull' });
    await stub.syncNow('prospects');
    expect((await stub.conflicts('prospects')).length).toBe(1);
  });

  it('a page whose rows partly lose to newer D1 versions reports exactly the losers, in every chunk of a large page', async () => {
    const e = entity('prospects');
    // Five rows of about 400 KB: the page goes to D1 in three chunks (1 MB each at most), so the
    // conflicts read after each chunk's upsert must look at that upsert's count alone.
    const big = 'x'.repeat(400_000);
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    const [id0, id1, id2, id3, id4] = ids as [string, string, string, string, string];
    const rowAt = (id: string, name: string, ts: string): Record<string, unknown> => {
      const raw: Record<string, unknown> = {};
      for (const [col, spec] of Object.entries(e.columns)) {
        raw[col] = spec.nullable
          ? null
          : { uuid: id, text: 'new', integer: 0, boolean: false, timestamp: ts, date: '2026-01-01' }[spec.type];
      }
      const checked = toD1Row(e, { ...raw, id, name, updated_at: ts, created_at: ts });
      if (!checked.ok) throw new Error(checked.reason);
      return checked.row;
    };
    // D1 holds a newer version of the first and the last row, an older one of the second.
    for (const [id, ts] of [
      [id0, '2026-01-03T00:00:00Z'],
      [id1, '2026-01-01T00:00:00Z'],
      [id4, '2026-01-03T00:00:00Z'],
    ] as const) {
      await applyPulledRows(env.DB, e, [rowAt(id, 'edge', ts)], { entity: e.name, epoch: Date.now() });
    }
    const page = ids.map((id) => rowAt(id, big, '2026-01-02T00:00:00Z'));
    const result = await applyPulledRows(env.DB, e, page, { entity: e.name, epoch: Date.now() });
    expect(result.applied).toBe(3);
    expect(result.conflicts.map((c) => c.id).sort()).toEqual([id0, id4].sort());
    expect(result.conflicts[0]).toMatchObject({ d1Ts: '2026-01-03T00:00:00.000000Z', supabaseTs: '2026-01-02T00:00:00.000000Z' });
    const names = await env.DB.prepare(`SELECT id, length(name) AS n FROM prospects WHERE id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify(ids))
      .all<{ id: string; n: number }>();
    expect(Object.fromEntries(names.results.map((r) => [r.id, r.n]))).toEqual({
      [id0]: 4,
      [id1]: 400_000,
      [id2]: 400_000,
      [id3]: 400_000,
      [id4]: 4,
    });
    // The same page again: nothing written, nothing new lost, the same two reported.
    const again = await applyPulledRows(env.DB, e, page, { entity: e.name, epoch: Date.now() });
    expect(again.applied).toBe(0);
    expect(again.conflicts.map((c) => c.id).sort()).toEqual([id0, id4].sort());
  });

  it('a pull-only replica row given a newer updated_at in D1 is drift: Supabase wins, no conflict is recorded', async () => {
    const db = testDatabase(uniqueName('drift'));
    await db.sql(`insert into campaigns (name, updated_at) values ('original', '2026-01-01T00:00:00Z')`);
    const stub = await testCoordinator('campaigns', db);
    await stub.syncNow('campaigns');
    const [row] = await db.sql<Id>(`select id::text as id from campaigns`);
    const id = row?.id ?? '';
    await env.DB.prepare(`UPDATE campaigns SET name = 'edge', updated_at = '2026-01-03T00:00:00.000000Z' WHERE id = ?1`).bind(id).run();
    await db.sql(`update campaigns set name = 'supabase', updated_at = '2026-01-02T00:00:00Z'`);

    const run = await stub.syncNow('campaigns');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.conflicts).toBe(0);
    expect(await d1Rows('campaigns', [id])).toMatchObject([{ name: 'supabase', updated_at: '2026-01-02T00:00:00.000000Z' }]);
    expect(await stub.conflicts('campaigns')).toHaveLength(0);
  });
});

describe('pull: malformed rows', () => {
  it('quarantines a row that does not fit the schema, applies the rest of its page, and keeps syncing', async () => {
    const db = testDatabase(uniqueName('bad'));
    // Schema drift on the Supabase side: a column the registry says is NOT NULL became nullable.
    await db.sql(`alter table campaigns alter column daily_limit drop not null`);
    await db.sql(`insert into campaigns (name, daily_limit) values ('good-1', 10), ('bad', null), ('good-2', 20)`);
    const stub = await testCoordinator('campaigns', db, { pageSize: 10 });
    const run = await stub.syncNow('campaigns');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.outcome).toBe('caught-up');
    expect(run.run.stats.rowsQuarantined).toBe(1);
    const all = await ids(db, 'campaigns');
    expect((await d1Rows('campaigns', all)).map((r) => r.name).sort()).toEqual(['good-1', 'good-2']);
    const quarantined = await stub.quarantined('campaigns');
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]?.reason).toMatch(/daily_limit/);
    expect(JSON.parse(quarantined[0]?.payload ?? '{}')).toMatchObject({ name: 'bad' });

    // The entity keeps syncing; fixing the row in Supabase releases it from quarantine.
    await db.sql(`insert into campaigns (name, daily_limit) values ('good-3', 30)`);
    await db.sql(`update campaigns set daily_limit = 5 where name = 'bad'`);
    const next = await stub.syncNow('campaigns');
    if (!next.ran) throw new Error('coalesced');
    expect((await d1Rows('campaigns', await ids(db, 'campaigns'))).length).toBe(4);
    expect(await stub.quarantined('campaigns')).toHaveLength(0);
  });
});

describe('pull: one run at a time', () => {
  it('coalesces a manual trigger that arrives during an alarm run', async () => {
    const db = testDatabase(uniqueName('coalesce'));
    await db.sql(`insert into campaigns (name) select 'c' || g from generate_series(1, 30) g`);
    const stub = await testCoordinator('campaigns', db, { pageSize: 10 });
    await db.faults({ latencyMs: 400 });
    const alarmRun = fireAlarm(stub);
    let lease = null;
    for (let i = 0; i < 50 && lease === null; i++) {
      lease = (await stub.status('campaigns')).lease;
      if (lease === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lease?.trigger).toBe('alarm');
    const manual = await stub.syncNow('campaigns');
    expect(manual).toMatchObject({ ran: false, reason: 'coalesced', lease: { runId: lease?.runId } });
    expect(await alarmRun).toBe(true);
    await db.clearFaults();
    expect((await stub.runs('campaigns', 500)).filter((r) => r.runId === lease?.runId)).toHaveLength(1);
    expect((await d1Rows('campaigns', await ids(db, 'campaigns'))).length).toBe(30);
  });

  it('lets the next run proceed once a lease left by a crashed instance expires, without skipping or regressing the cursor', async () => {
    const db = testDatabase(uniqueName('crash'));
    await db.sql(
      `insert into campaigns (name, updated_at) select 'c' || g, '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 second' from generate_series(1, 20) g`,
    );
    const stub = await testCoordinator('campaigns', db, { pageSize: 5, maxPagesPerRun: 2 });
    // Paused: a run that ends 'more' chains an alarm 100 ms out, which on a loaded machine ran
    // the rest before the cursor below was read (manual runs still work while paused).
    await stub.pause('campaigns');
    const first = await stub.syncNow('campaigns');
    if (!first.ran) throw new Error('coalesced');
    expect(first.run.outcome).toBe('more');
    const cursorBefore = (await stub.status('campaigns')).pull?.cursor;
    expect(cursorBefore?.ts).toBe('2026-01-01T00:00:10+00:00');

    // A run that died mid-way: its lease is still in storage, the instance is gone.
    const plantDeadLease = (expiresAt: number) => plantLease(stub, { runId: 'dead-run', expiresAt });
    await plantDeadLease(Date.now() + 60_000);
    const blocked = await stub.syncNow('campaigns');
    expect(blocked).toMatchObject({ ran: false, reason: 'coalesced', lease: { runId: 'dead-run' } });
    // Its expiry comes (planted, not slept past).
    await plantDeadLease(Date.now() - 1);
    const resumed = await stub.syncNow('campaigns');
    expect(resumed.ran).toBe(true);
    const position = await runInDurableObject(
      stub,
      (_i, state) =>
        JSON.parse(state.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'pull'`).one().value) as PullPosition,
    );
    expect(position.cursor?.ts).toBe('2026-01-01T00:00:20+00:00');
    expect((await d1Rows('campaigns', await ids(db, 'campaigns'))).length).toBe(20);
  });
});
