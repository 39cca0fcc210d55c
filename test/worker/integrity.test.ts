// Integrity runs through the SyncCoordinator (issue 9): every check and its fix, resumable
// reconciliation under the lease, the zero-downtime full resync, held rows and alerts, against
// the real stand-in (PGlite behind PostgREST), real D1 and real Durable Objects. Each test has its
// own stand-in database and coordinator; D1 is shared within the file, so each starts empty.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import type { TestSyncCoordinator } from './test-coordinator.ts';
import type { CheckName, CheckResult, IntegrityRequestResult, IntegrityRun } from '../../src/types.ts';
import { email as workerEmail } from '../shared/fixtures.ts';
import {
  deleteWithoutTombstones,
  fireAlarm,
  insertEmails,
  plantLease,
  removeLease,
  sleep,
  testCoordinator,
  testDatabase,
  uniqueName,
  wipeD1,
  type TestDatabase,
} from './helpers.ts';

type Stub = DurableObjectStub<TestSyncCoordinator>;

beforeEach(() => wipeD1({ fences: true }));

function done(result: IntegrityRequestResult): IntegrityRun {
  if (result.status !== 'done') throw new Error(`the integrity run did not finish: ${JSON.stringify(result)}`);
  return result.run;
}

function check(run: IntegrityRun, name: CheckName): CheckResult {
  const found = run.checks.find((c) => c.check === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(run.checks.map((c) => c.check))}`);
  return found;
}

function problems(run: IntegrityRun): string[] {
  return run.checks
    .filter((c) => c.severity !== 'ok')
    .map((c) => c.check)
    .sort();
}

const CHECKS = { fix: false, reconcile: true, trigger: 'manual' } as const;
const FIX = { fix: true, reconcile: true, trigger: 'manual' } as const;

/** Campaigns in Supabase, pulled into D1 by the coordinator: both sides equal. */
async function syncedCampaigns(name: string, rows = 40): Promise<{ db: TestDatabase; stub: Stub; ids: string[] }> {
  const db = testDatabase(uniqueName(name));
  const ids = (
    await db.sql<{ id: string }>(
      `insert into campaigns (id, name, description, daily_limit) select gen_random_uuid(), 'campaign ' || i, 'd' || i, i
     from generate_series(1, ${rows}) i returning id::text`,
    )
  )
    .map((r) => r.id)
    .sort();
  const stub = await testCoordinator('campaigns', db);
  const sync = await stub.syncNow('campaigns');
  expect(sync).toMatchObject({ ran: true, run: { outcome: 'caught-up' } });
  return { db, stub, ids };
}

async function d1Count(table: string): Promise<number> {
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? -1;
}

async function d1Value(table: string, id: string, column: string): Promise<unknown> {
  const row = await env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?1`).bind(id).first();
  return row === null ? undefined : row[column];
}

/** Writes to D1 as the engine does (no outbox entries): for planting drift an edge writer would not cause. */
async function d1Silently(sql: string, ...params: unknown[]): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
    env.DB.prepare(sql).bind(...params),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
  ]);
}

describe('on a clean dataset every check reports nothing', () => {
  it('campaigns (pull-only), with every row compared', async () => {
    const { stub } = await syncedCampaigns('clean-campaigns');
    const run = done(await stub.runIntegrity('campaigns', CHECKS));
    expect(problems(run)).toEqual([]);
    expect(run.ok).toBe(true);
    expect(run.counts).toEqual({ d1: 40, supabase: 40, difference: 0 });
    expect(run.drift).toMatchObject({ found: 0, repaired: 0, missing: 0, extra: 0 });
    expect(run.checks.map((c) => c.check).sort()).toEqual([
      'invalid_states',
      'quarantine_growth',
      'replica_drift',
      'row_counts',
      'stale_entity',
    ]);
  });

  it('emails (push), with orphans, duplicates and backlog checked too', async () => {
    const db = testDatabase(uniqueName('clean-emails'));
    const stub = await testCoordinator('emails', db);
    await insertEmails(Array.from({ length: 30 }, (_, i) => email(i)));
    expect(await stub.syncNow('emails')).toMatchObject({ ran: true, run: { outcome: 'caught-up' } });
    const run = done(await stub.runIntegrity('emails', CHECKS));
    expect(problems(run)).toEqual([]);
    expect(run.counts).toEqual({ d1: 30, supabase: 30, difference: 0 });
    expect(run.checks.map((c) => c.check).sort()).toEqual([
      'duplicate_message_ids',
      'invalid_states',
      'orphans',
      'push_backlog',
      'quarantine_growth',
      'replica_drift',
      'row_counts',
      'stale_entity',
    ]);
  });
});

describe('every kind of drift is found, then repaired by the fix (pull-only replica: Supabase wins)', () => {
  it('a Supabase delete with no tombstone, a row missing from D1, an in-place replica edit, a newer replica updated_at, an extra D1 row, and a Supabase writer setting updated_at into the past', async () => {
    const { db, stub, ids } = await syncedCampaigns('every-drift');
    const [noTombstone, missing, inPlace, newer, past] = ids as [string, string, string, string, string];
    await deleteWithoutTombstones(db, 'campaigns', [noTombstone]);
    await d1Silently('DELETE FROM campaigns WHERE id = ?1', missing);
    await d1Silently(`UPDATE campaigns SET name = 'edited in D1' WHERE id = ?1`, inPlace);
    await d1Silently(`UPDATE campaigns SET name = 'edge', updated_at = '2099-01-01T00:00:00.000000Z' WHERE id = ?1`, newer);
    const extra = crypto.randomUUID();
    await d1Silently(
      `INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (?1, 'stray', ?2, ?2)`,
      extra,
      '2026-11-29T10:00:00.000000Z',
    );
    await db.sql(`update campaigns set name = 'rewritten', updated_at = updated_at - interval '1 day' where id = $1`, [past]);

    const found = done(await stub.runIntegrity('campaigns', CHECKS));
    expect(problems(found)).toEqual(['replica_drift', 'row_counts']);
    expect(found.drift).toMatchObject({
      missing: 1,
      extra: 2,
      newerInD1: 2,
      sameVersionOtherContent: 1,
      olderInD1: 0,
      found: 6,
      repaired: 0,
    });
    expect(check(found, 'replica_drift').details).toBeDefined();
    expect(found.counts).toEqual({ d1: 40, supabase: 39, difference: 1 });
    // Nothing was changed by a run without fix.
    expect(await d1Value('campaigns', inPlace, 'name')).toBe('edited in D1');

    const fixed = done(await stub.runIntegrity('campaigns', FIX));
    expect(fixed.drift).toMatchObject({ found: 6, repaired: 6 });
    expect(check(fixed, 'replica_drift')).toMatchObject({ fixed: 6 });
    expect(fixed.ok).toBe(true);
    expect(fixed.counts).toEqual({ d1: 39, supabase: 39, difference: 0 });
    expect(await d1Value('campaigns', noTombstone, 'id')).toBeUndefined();
    expect(await d1Value('campaigns', extra, 'id')).toBeUndefined();
    expect(await d1Value('campaigns', missing, 'name')).toMatch(/^campaign /);
    expect(await d1Value('campaigns', inPlace, 'name')).toMatch(/^campaign /);
    expect(await d1Value('campaigns', newer, 'updated_at')).not.toBe('2099-01-01T00:00:00.000000Z');
    expect(await d1Value('campaigns', past, 'name')).toBe('rewritten');

    const after = done(await stub.runIntegrity('campaigns', CHECKS));
    expect(problems(after)).toEqual([]);
    expect(after.drift).toMatchObject({ found: 0 });
  });

  it('a Supabase row the pull quarantined (an infinity timestamp) is shown as quarantined drift, not raised as a problem', async () => {
    const { db, stub } = await syncedCampaigns('quarantined-drift', 10);
    await db.sql(`insert into campaigns (name, updated_at) values ('forever', 'infinity')`);
    await stub.syncNow('campaigns');
    expect((await stub.status('campaigns')).quarantined).toBe(1);
    const run = done(await stub.runIntegrity('campaigns', FIX));
    expect(run.drift).toMatchObject({ missing: 1, quarantined: 1, found: 1 });
    expect(check(run, 'replica_drift')).toMatchObject({ severity: 'ok', count: 0 });
    expect(check(run, 'replica_drift').summary).toMatch(/1 in quarantine/);
    expect(problems(run)).toEqual([]);
  });

  it('a run without reconciliation (the hourly one) counts both sides and leaves replica_drift out', async () => {
    const { stub } = await syncedCampaigns('hourly');
    await d1Silently(
      `INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (?1, 'stray', ?2, ?2)`,
      crypto.randomUUID(),
      '2026-11-29T10:00:00.000000Z',
    );
    const run = done(await stub.runIntegrity('campaigns', { fix: false, reconcile: false, trigger: 'hourly' }));
    expect(run.reconciled).toBe(false);
    expect(run.drift).toBeNull();
    expect(run.checks.some((c) => c.check === 'replica_drift')).toBe(false);
    expect(check(run, 'row_counts')).toMatchObject({ severity: 'error', count: 1 });
  });
});

describe('two-way prospects', () => {
  it('a Supabase writer that set updated_at into the past leaves D1 on a newer version no pull re-reads; the fix makes D1 follow Supabase and pushes nothing (soak seed 499)', async () => {
    const db = testDatabase(uniqueName('prospects-past'));
    const stub = await testCoordinator('prospects', db);
    const [row] = await db.sql<{ id: string }>(
      `insert into prospects (name, updated_at) values ('first', now() + interval '7 minutes') returning id::text as id`,
    );
    const id = row?.id ?? '';
    await stub.syncNow('prospects');
    // The later Supabase write carries an explicit, older updated_at.
    await db.sql(`update prospects set name = 'later, older stamp', updated_at = now() + interval '2 minutes' where id = $1`, [id]);
    await stub.syncNow('prospects');
    expect(await d1Value('prospects', id, 'name')).toBe('first');

    const found = done(await stub.runIntegrity('prospects', CHECKS));
    expect(found.drift).toMatchObject({ newerInD1: 1, found: 1 });
    const fixed = done(await stub.runIntegrity('prospects', FIX));
    expect(fixed.drift).toMatchObject({ repaired: 1 });
    expect(await d1Value('prospects', id, 'name')).toBe('later, older stamp');
    await stub.syncNow('prospects');
    const [upstream] = await db.sql<{ name: string }>('select name from prospects where id = $1', [id]);
    expect(upstream?.name).toBe('later, older stamp');
    expect(problems(done(await stub.runIntegrity('prospects', CHECKS)))).toEqual([]);
  });
});

/** The shared email, with a message_id no other test's email has (the duplicates check reads all of D1). */
function email(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return workerEmail(i, { message_id: `<m${i}-${crypto.randomUUID()}@x>`, sent_at: null, ...over });
}

describe('emails: orphans, duplicate message_ids and held rows', () => {
  it('fetches a missing prospect from Supabase, holds an email whose prospect exists nowhere, and never deletes either', async () => {
    const db = testDatabase(uniqueName('orphans'));
    const stub = await testCoordinator('emails', db);
    const [upstream] = await db.sql<{ id: string }>(
      `insert into prospects (id, name) values (gen_random_uuid(), 'only upstream') returning id::text`,
    );
    const nowhere = crypto.randomUUID();
    const withProspect = email(1, { prospect_id: upstream?.id });
    const lost = email(2, { prospect_id: nowhere });
    const inbound = email(3, { prospect_id: crypto.randomUUID(), direction: 'inbound' });
    await insertEmails([withProspect, lost, inbound]);
    await stub.syncNow('emails');

    const found = done(await stub.runIntegrity('emails', CHECKS));
    expect(check(found, 'orphans')).toMatchObject({ severity: 'warning', count: 2 });

    const fixed = done(await stub.runIntegrity('emails', FIX));
    expect(check(fixed, 'orphans')).toMatchObject({ count: 2, fixed: 2 });
    expect(check(fixed, 'orphans').fix).toMatch(/fetched 1 prospect.*held 1 email/);
    expect(await d1Value('prospects', String(upstream?.id), 'name')).toBe('only upstream');
    expect(await d1Value('emails', String(lost['id']), 'id')).toBe(lost['id']);
    const held = await stub.held('emails');
    expect(held).toEqual([expect.objectContaining({ rowId: lost['id'], check: 'orphans', reason: expect.stringContaining(nowhere) })]);

    const after = done(await stub.runIntegrity('emails', CHECKS));
    expect(check(after, 'orphans').severity).toBe('ok');
  });

  it('keeps the earliest email of a duplicated message_id, holds the rest, does not push a held row, and pushes it once released', async () => {
    const db = testDatabase(uniqueName('duplicates'));
    const stub = await testCoordinator('emails', db);
    const first = email(1, { message_id: '<dup@x>' });
    await insertEmails([first]);
    const second = email(2, { message_id: '<dup@x>' });
    const third = email(3, { message_id: '<dup@x>' });
    await insertEmails([second, third, email(4)]);
    await stub.syncNow('emails');

    const found = done(await stub.runIntegrity('emails', CHECKS));
    expect(check(found, 'duplicate_message_ids')).toMatchObject({ severity: 'error', count: 2 });
    const fixed = done(await stub.runIntegrity('emails', FIX));
    expect(check(fixed, 'duplicate_message_ids')).toMatchObject({ count: 2, fixed: 2 });
    expect((await stub.held('emails')).map((h) => h.rowId).sort()).toEqual([second['id'], third['id']].sort());
    expect(done(await stub.runIntegrity('emails', CHECKS)).checks.find((c) => c.check === 'duplicate_message_ids')?.severity).toBe('ok');

    // An edge update of a held row is not pushed…
    await env.DB.prepare(`UPDATE emails SET subject = 'changed while held' WHERE id = ?1`).bind(second['id']).run();
    await stub.syncNow('emails');
    const [upstream] = await db.sql<{ subject: string }>('select subject from emails where id = $1', [second['id']]);
    expect(upstream?.subject).not.toBe('changed while held');
    // …until an operator releases it.
    expect(await stub.releaseHeld('emails', [String(second['id'])])).toEqual({ ok: true, released: [second['id']] });
    await stub.syncNow('emails');
    const [released] = await db.sql<{ subject: string }>('select subject from emails where id = $1', [second['id']]);
    expect(released?.subject).toBe('changed while held');
    expect((await stub.held('emails')).map((h) => h.rowId)).toEqual([third['id']]);

    // Deleting a held row deletes it on both sides.
    expect(await stub.deleteHeld('emails', [String(third['id'])])).toEqual({ ok: true, deleted: [third['id']] });
    await stub.syncNow('emails');
    expect(await d1Value('emails', String(third['id']), 'id')).toBeUndefined();
    expect(await db.sql('select id from emails where id = $1', [third['id']])).toEqual([]);
    expect(await stub.held('emails')).toEqual([]);
  });

  it('reports values outside their allowed sets, non-canonical timestamps and non-uuid keys as invalid states', async () => {
    const db = testDatabase(uniqueName('invalid'));
    const stub = await testCoordinator('emails', db);
    const bad = email(1, { status: 'exploded' });
    await insertEmails([bad, email(2)]);
    await d1Silently(`UPDATE emails SET sent_at = '2026-11-29 10:00:00' WHERE id = ?1`, bad['id']);
    const run = done(await stub.runIntegrity('emails', { fix: false, reconcile: false, trigger: 'manual' }));
    const invalid = check(run, 'invalid_states');
    expect(invalid).toMatchObject({ severity: 'error', count: 2 });
    expect(JSON.stringify(invalid.details)).toContain(String(bad['id']));
  });
});

describe('backlog and staleness', () => {
  it('finds outbox entries older than an hour and, with fix, brings the push forward', async () => {
    const db = testDatabase(uniqueName('backlog'));
    const stub = await testCoordinator('emails', db);
    await insertEmails([email(1)]);
    await env.DB.prepare(`UPDATE sync_outbox SET changed_at = '2026-01-01T00:00:00.000000Z'`).run();
    const found = done(await stub.runIntegrity('emails', { fix: false, reconcile: false, trigger: 'manual' }));
    expect(check(found, 'push_backlog')).toMatchObject({ count: 1 });
    expect(check(found, 'push_backlog').severity).not.toBe('ok');
    expect(await db.sql('select id from emails')).toEqual([]);
    const fixed = done(await stub.runIntegrity('emails', { fix: true, reconcile: false, trigger: 'manual' }));
    expect(check(fixed, 'push_backlog').fix).toMatch(/push triggered/);
    // The fix ran the push before answering.
    expect((await db.sql<{ id: string }>('select id::text from emails')).length).toBe(1);
    expect((await stub.status('emails')).push?.pending).toBe(0);
  });

  it('finds an entity with no successful run for three intervals and no alarm due, and with fix arms one now', async () => {
    const db = testDatabase(uniqueName('stale'));
    const stub = await testCoordinator('campaigns', db);
    await runInDurableObject(stub, async (_i, state) => {
      await state.storage.deleteAlarm();
      state.storage.sql.exec(
        `INSERT INTO meta (key, value) VALUES ('last_success_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        JSON.stringify('2026-01-01T00:00:00.000Z'),
      );
      state.storage.sql.exec(`DELETE FROM meta WHERE key = 'next_run_at'`);
    });
    const found = done(await stub.runIntegrity('campaigns', { fix: false, reconcile: false, trigger: 'manual' }));
    expect(check(found, 'stale_entity').severity).toBe('error');
    const fixed = done(await stub.runIntegrity('campaigns', { fix: true, reconcile: false, trigger: 'manual' }));
    expect(check(fixed, 'stale_entity')).toMatchObject({ fixed: 1 });
    // The alarm it armed runs a sync (waited on, bounded: the alarm is due now).
    for (let i = 0; i < 400 && (await stub.status('campaigns')).lastRun === null; i++) await sleep(25);
    expect((await stub.status('campaigns')).lastRun).toMatchObject({ trigger: 'alarm' });
  });
});

describe('reconciliation under the lease, resumable across alarms', () => {
  it('continues a large table key range by key range over alarms, with its progress in the status', async () => {
    const { db, stub, ids } = await syncedCampaigns('resumable', 200);
    // Sized as a 100,000-row table (4 key ranges), with a budget that fits one range per step.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        `INSERT INTO meta (key, value) VALUES ('integrity_rows', '100000') ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      );
    });
    // Each digest request answers after 250 ms, past a 100 ms step budget: one range per step.
    await stub.configure('campaigns', { maxRunMs: 100 });
    await db.faults({ responseDelayMs: 250, onlyPaths: 'sync_range_digests' });
    await d1Silently('DELETE FROM campaigns WHERE id IN (SELECT value FROM json_each(?1))', JSON.stringify(ids.slice(0, 20)));

    const first = await stub.runIntegrity('campaigns', FIX);
    expect(first.status).toBe('running');
    const progress: string[] = [];
    let status = await stub.status('campaigns');
    for (let step = 0; status.jobs.length > 0 && step < 10; step++) {
      progress.push(status.jobs[0]?.progress ?? '');
      await fireAlarm(stub);
      status = await stub.status('campaigns');
    }
    // Real alarms may step the job between two looks (it re-arms itself), so a step can be skipped here.
    expect(progress[0]).toBe('key ranges 1/4');
    expect(progress.every((p) => /^key ranges [1-3]\/4$/.test(p))).toBe(true);
    expect([...progress].sort()).toEqual(progress);
    expect(status.jobs).toEqual([]);
    const { latest } = await stub.integrity('campaigns');
    expect(latest?.drift).toMatchObject({ missing: 20, repaired: 20 });
    expect(await d1Count('campaigns')).toBe(200);
  });

  it("a sync alarm that coalesces with an integrity run is not put off to the lease's end: the run sees no staleness and the sync follows it", async () => {
    const { db, stub } = await syncedCampaigns('coalesced-alarm');
    const before = (await stub.status('campaigns')).lastRun?.runId;
    await db.faults({ responseDelayMs: 1_500, onlyPaths: 'sync_range_digests', count: 1 });
    const checking = stub.runIntegrity('campaigns', CHECKS);
    // The alarm fires while the integrity run holds the lease (waited on: the lease shows in the status).
    for (let i = 0; i < 200 && (await stub.status('campaigns')).lease?.trigger !== 'integrity'; i++) await sleep(10);
    await fireAlarm(stub);
    const run = done(await checking);
    expect(check(run, 'stale_entity').severity).toBe('ok');
    for (let i = 0; i < 400 && (await stub.status('campaigns')).lastRun?.runId === before; i++) await sleep(25);
    expect((await stub.status('campaigns')).lastRun).toMatchObject({ trigger: 'alarm', outcome: 'caught-up' });
  });

  it('a check asked for while a sync run holds the lease is queued, then done by the next alarm', async () => {
    const { stub } = await syncedCampaigns('queued');
    await plantLease(stub, { runId: 'planted', epoch: 1e15, expiresAt: Date.now() + 600_000 });
    const queued = await stub.runIntegrity('campaigns', CHECKS);
    expect(queued).toMatchObject({ status: 'queued', lease: { runId: 'planted' } });
    expect((await stub.status('campaigns')).jobs).toEqual([expect.objectContaining({ kind: 'integrity', phase: 'queued' })]);
    // The holder ends (planted: its lease expired); the next alarm does the check.
    await removeLease(stub);
    await fireAlarm(stub);
    expect((await stub.status('campaigns')).jobs).toEqual([]);
    expect((await stub.integrity('campaigns')).latest).toMatchObject({ ok: true, reconciled: true });
  });
});

describe('full resync without an empty window', () => {
  it('re-reads 20,000 rows while readers never see fewer rows than before, then removes the rows deleted upstream', async () => {
    const db = testDatabase(uniqueName('resync'));
    await db.sql(`insert into campaigns (id, name, daily_limit) select gen_random_uuid(), 'c' || i, i from generate_series(1, 20000) i`);
    const stub = await testCoordinator('campaigns', db, { maxPagesPerRun: 8 });
    for (let i = 0; i < 20; i++) {
      const r = await stub.syncNow('campaigns');
      if (r.ran && r.run.outcome === 'caught-up') break;
    }
    expect(await d1Count('campaigns')).toBe(20000);
    // Deleted upstream with no tombstone left: only the resync's sweep can find them.
    // In one transaction: the coordinator's own alarms keep pulling, and a pull between a delete and
    // the tombstones' removal would delete the rows before the resync began (CI saw 19,900 throughout).
    const gone = (await db.sql<{ id: string }>(`select id::text from campaigns order by id limit 100`)).map((r) => r.id);
    await deleteWithoutTombstones(db, 'campaigns', gone);
    await db.sql(`update campaigns set name = 'renamed' where daily_limit % 1000 = 0`);

    const seen = new Set<number>();
    const stopReading = new AbortController();
    const reader = (async () => {
      // A reader between the engine's writes (the pause lets the isolate's other events in).
      while (!stopReading.signal.aborted) {
        seen.add(await d1Count('campaigns'));
        await sleep(2);
      }
    })();
    const job = await stub.resync('campaigns');
    // 'start' when one of the coordinator's own alarm runs held the lease at that moment (CI saw
    // it): the resync is remembered, and the alarms fired below start it.
    expect(['start', 'reread', 'sweep']).toContain(job.phase);
    // Besides the reader racing the writes, one read between every two alarms (the racing reader
    // may be scheduled only after a fast resync has ended). The count is read before the status:
    // the coordinator's own 100 ms alarms go on meanwhile, and a count read after a status that
    // said "reread" could already follow the sweep.
    const between: { phase: string; rows: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const rows = await d1Count('campaigns');
      const jobs = (await stub.status('campaigns')).jobs;
      if (jobs.length === 0) break;
      between.push({ phase: jobs[0]?.phase ?? '', rows });
      await fireAlarm(stub);
    }
    stopReading.abort();
    await reader;

    expect((await stub.status('campaigns')).jobs).toEqual([]);
    // Every reader saw the whole table: during the re-read all 20,000 rows, after the sweep the 19,900 left.
    const reread = between.filter((b) => b.phase === 'reread');
    expect(reread.map((b) => b.rows)).toEqual(reread.map(() => 20000));
    expect([...seen, ...between.map((b) => b.rows)].filter((n) => n !== 20000 && n !== 19900)).toEqual([]);
    // Not vacuous: some read landed while the job was under way and before its sweep.
    expect(between.some((b) => b.rows === 20000) || seen.has(20000)).toBe(true);
    expect(await d1Count('campaigns')).toBe(19900);
    expect(
      await env.DB.prepare('SELECT count(*) AS n FROM campaigns WHERE id IN (SELECT value FROM json_each(?1))')
        .bind(JSON.stringify(gone))
        .first<{ n: number }>(),
    ).toEqual({ n: 0 });
    // The renamed rows arrived (as many as Supabase still has: the 100 deleted may include some).
    const [renamed] = await db.sql<{ n: number }>(`select count(*)::int as n from campaigns where name = 'renamed'`);
    expect(renamed?.n).toBeGreaterThan(0);
    expect(await env.DB.prepare(`SELECT count(*) AS n FROM campaigns WHERE name = 'renamed'`).first<{ n: number }>()).toEqual({
      n: renamed?.n,
    });
    const { latest } = await stub.integrity('campaigns');
    expect(latest).toMatchObject({ trigger: 'resync', fix: true, reconciled: true, ok: true });
    expect(latest?.drift).toMatchObject({ extra: 100, repaired: 100 });
  });

  it("a manual sync that completes a resync's re-read brings the sweep forward (no waiting for the next interval)", async () => {
    const { stub } = await syncedCampaigns('resync-manual');
    await stub.pause('campaigns');
    await stub.resync('campaigns');
    await stub.syncNow('campaigns');
    // Paused: no sync alarm; only the job alarm the run armed can finish the sweep (waited on, bounded).
    for (let i = 0; i < 400 && (await stub.status('campaigns')).jobs.length > 0; i++) await sleep(25);
    expect((await stub.status('campaigns')).jobs).toEqual([]);
    expect((await stub.integrity('campaigns')).latest).toMatchObject({ trigger: 'resync', fix: true, reconciled: true });
  });

  it('a resync asked for while a run holds the lease is remembered and started by the next alarm', async () => {
    const { stub } = await syncedCampaigns('resync-queued');
    await plantLease(stub, { runId: 'planted', epoch: 1e15, expiresAt: Date.now() + 600_000 });
    expect(await stub.resync('campaigns')).toMatchObject({ kind: 'resync', phase: 'start' });
    await removeLease(stub);
    for (let i = 0; i < 10 && (await stub.status('campaigns')).jobs.length > 0; i++) await fireAlarm(stub);
    expect((await stub.status('campaigns')).jobs).toEqual([]);
    expect((await stub.integrity('campaigns')).latest).toMatchObject({ trigger: 'resync', ok: true });
  });
});

interface Received {
  text: string;
  status: 'firing' | 'resolved';
  problem: string;
  entity: string;
  details: unknown;
  dashboard: string | null;
}

async function received(): Promise<Received[]> {
  return await (await fetch(`${inject('alertReceiverUrl')}/received`)).json<Received[]>();
}

describe('alerts', () => {
  it('reach the webhook once per problem per hour, then "resolved" when it clears', async () => {
    await (await fetch(`${inject('alertReceiverUrl')}/received`, { method: 'DELETE' })).body?.cancel();
    const { stub } = await syncedCampaigns('alerts');
    await d1Silently(
      `INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (?1, 'stray', ?2, ?2)`,
      crypto.randomUUID(),
      '2026-11-29T10:00:00.000000Z',
    );

    done(await stub.runIntegrity('campaigns', CHECKS));
    const firing = (await received()).filter((m) => m.entity === 'campaigns');
    expect(firing.map((m) => [m.status, m.problem]).sort()).toEqual([
      ['firing', 'replica_drift'],
      ['firing', 'row_counts'],
    ]);
    expect(firing[0]?.text).toMatch(/campaigns/);
    expect(firing[0]).toHaveProperty('details');
    expect(firing[0]).toHaveProperty('dashboard');

    // The same problems within the hour: nothing new.
    done(await stub.runIntegrity('campaigns', CHECKS));
    expect((await received()).filter((m) => m.entity === 'campaigns')).toHaveLength(2);
    expect((await stub.integrity('campaigns')).alerts.map((a) => a.check).sort()).toEqual(['replica_drift', 'row_counts']);

    // An hour later (planted: the alerts were last sent two hours ago) they are sent again.
    await runInDurableObject(stub, (_i, state) => {
      const row = state.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'alerts'`).one();
      const alerts = JSON.parse(row.value) as Record<string, { lastSentAt: string }>;
      for (const a of Object.values(alerts)) a.lastSentAt = new Date(Date.now() - 7_200_000).toISOString();
      state.storage.sql.exec(`UPDATE meta SET value = ? WHERE key = 'alerts'`, JSON.stringify(alerts));
    });
    done(await stub.runIntegrity('campaigns', CHECKS));
    expect((await received()).filter((m) => m.entity === 'campaigns' && m.status === 'firing')).toHaveLength(4);

    // Fixed: both resolve.
    done(await stub.runIntegrity('campaigns', FIX));
    const resolved = (await received()).filter((m) => m.entity === 'campaigns' && m.status === 'resolved');
    expect(resolved.map((m) => m.problem).sort()).toEqual(['replica_drift', 'row_counts']);
    expect((await stub.integrity('campaigns')).alerts).toEqual([]);
  });
});
