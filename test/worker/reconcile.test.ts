// Anti-entropy reconciliation (issue 9) against the real stand-in (PGlite behind PostgREST) and
// real D1: each kind of drift incremental sync cannot see is found by comparing range digests,
// and repaired by the entity's policy, touching only the rows that differ. Each test has its
// own stand-in database; D1 is shared within the file, so every test starts from empty tables.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import type { EntityDefinition, Row } from '../../src/entities.ts';
import { entity } from '../shared/fixtures.ts';
import { isClean, reconcileEntity, repairDrift, type ReconcileReport } from '../../src/integrity/reconcile.ts';
import type { Fence } from '../../src/stores/d1-contract.ts';
import { applyPulledRows } from '../../src/stores/d1.ts';
import { createReconcileSupabase, type ReconcileSupabase } from '../../src/stores/reconcile.ts';
import { toD1Row } from '../../src/sync/rows.ts';
import { insertEmails, testDatabase, uniqueName, wipeD1, type TestDatabase } from './helpers.ts';

type Table = 'campaigns' | 'mailboxes' | 'prospects' | 'emails';

beforeEach(() => wipeD1({ fences: true }));

const fence = (e: EntityDefinition): Fence => ({ entity: e.name, epoch: 1 });

function store(db: TestDatabase): ReconcileSupabase {
  return createReconcileSupabase({ url: db.url, serviceRoleKey: inject('supabaseServiceRoleKey'), requestTimeoutMs: 30_000 });
}

/** Copies Supabase's rows into D1 the way the pull writes them (registry schema, applyPulledRows). */
async function mirror(db: TestDatabase, e: EntityDefinition): Promise<number> {
  const names = Object.keys(e.columns);
  const raw = await db.sql<{ row: Row }>(`select to_jsonb(t) as row from public.${e.table} t`);
  const rows = raw.map(({ row }) => {
    const checked = toD1Row(e, Object.fromEntries(names.map((n) => [n, row[n]])));
    if (!checked.ok) throw new Error(checked.reason);
    return checked.row;
  });
  for (let i = 0; i < rows.length; i += 1000) await applyPulledRows(env.DB, e, rows.slice(i, i + 1000), fence(e));
  return rows.length;
}

async function d1Row(table: Table, id: string): Promise<Row | null> {
  return env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?1`).bind(id).first<Row>();
}

/** Supabase's row in the D1 representation, for comparing with D1's. */
async function supabaseRowAsD1(db: TestDatabase, e: EntityDefinition, id: string): Promise<Row | null> {
  const [r] = await db.sql<{ row: Row }>(`select to_jsonb(t) as row from public.${e.table} t where id = $1`, [id]);
  if (!r) return null;
  const checked = toD1Row(e, r.row);
  if (!checked.ok) throw new Error(checked.reason);
  return checked.row;
}

async function outboxAfter(seq: number): Promise<{ entity: string; row_id: string }[]> {
  return (
    await env.DB.prepare('SELECT entity, row_id FROM sync_outbox WHERE seq > ?1 ORDER BY seq')
      .bind(seq)
      .all<{ entity: string; row_id: string }>()
  ).results;
}

async function maxOutboxSeq(): Promise<number> {
  return (await env.DB.prepare('SELECT coalesce(max(seq), 0) AS s FROM sync_outbox').first<{ s: number }>())?.s ?? 0;
}

/** The drift lists of a report, for one readable assertion. */
function found(r: ReconcileReport) {
  return {
    missing: r.missing,
    extra: r.extra,
    olderInD1: r.olderInD1,
    newerInD1: r.newerInD1,
    sameVersionOtherContent: r.sameVersionOtherContent,
  };
}

const NONE = { missing: [], extra: [], olderInD1: [], newerInD1: [], sameVersionOtherContent: [] };

/** A replica of 40 campaigns in sync on both sides, and the id of one of them. */
async function syncedCampaigns(name: string): Promise<{ db: TestDatabase; e: EntityDefinition; supabase: ReconcileSupabase; id: string }> {
  const db = testDatabase(uniqueName(name));
  const e = entity('campaigns');
  const [row] = await db.sql<{ id: string }>(
    `insert into campaigns (id, name, description, daily_limit, starts_on)
     select gen_random_uuid(), 'campaign ' || i, case when i % 3 = 0 then null else 'd' || i end, i * 7 - 100, date '2026-01-01' + i
     from generate_series(1, 40) i returning id::text`,
  );
  if (!row) throw new Error('no rows');
  await mirror(db, e);
  const supabase = store(db);
  expect(found(await reconcileEntity(env.DB, supabase, e))).toEqual(NONE);
  return { db, e, supabase, id: row.id };
}

describe('reconciliation finds and repairs each kind of drift (pull-only replica: Supabase wins)', () => {
  it('a Supabase delete that left no tombstone: the D1 row is found extra and deleted', async () => {
    const { db, e, supabase, id } = await syncedCampaigns('no-tombstone');
    await db.sql('delete from campaigns where id = $1', [id]);
    await db.sql('delete from sync_tombstones where row_id = $1', [id]);
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, extra: [id] });
    expect(report.bucketsDiffering).toBe(1);
    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e) });
    expect(repair).toMatchObject({ applied: 0, deleted: 1 });
    expect(await d1Row('campaigns', id)).toBeNull();
    expect(isClean(await reconcileEntity(env.DB, supabase, e))).toBe(true);
  });

  it('a row missing from D1 is found missing and copied from Supabase', async () => {
    const { db, e, supabase, id } = await syncedCampaigns('missing');
    await env.DB.prepare('DELETE FROM campaigns WHERE id = ?1').bind(id).run();
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, missing: [id] });
    expect(report.versions[id]).toEqual({ d1: null, supabase: (await supabaseRowAsD1(db, e, id))?.['updated_at'] });
    expect(await repairDrift(env.DB, supabase, e, report, { fence: fence(e) })).toMatchObject({ applied: 1, deleted: 0 });
    expect(await d1Row('campaigns', id)).toEqual(await supabaseRowAsD1(db, e, id));
    expect(isClean(await reconcileEntity(env.DB, supabase, e))).toBe(true);
  });

  it("a replica row edited in place keeping updated_at is found as the same version with other content, and gets Supabase's content back", async () => {
    const { db, e, supabase, id } = await syncedCampaigns('in-place');
    await env.DB.prepare(`UPDATE campaigns SET name = 'edited in D1', description = NULL WHERE id = ?1`).bind(id).run();
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, sameVersionOtherContent: [id] });
    expect(await repairDrift(env.DB, supabase, e, report, { fence: fence(e) })).toMatchObject({ applied: 1 });
    expect(await d1Row('campaigns', id)).toEqual(await supabaseRowAsD1(db, e, id));
  });

  it("a replica row given a newer updated_at is found newer in D1, and Supabase's version replaces it", async () => {
    const { db, e, supabase, id } = await syncedCampaigns('newer');
    await env.DB.prepare(`UPDATE campaigns SET name = 'edge', updated_at = '2099-01-01T00:00:00.000000Z' WHERE id = ?1`).bind(id).run();
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, newerInD1: [id] });
    expect(report.versions[id]?.d1).toBe('2099-01-01T00:00:00.000000Z');
    await repairDrift(env.DB, supabase, e, report, { fence: fence(e) });
    expect(await d1Row('campaigns', id)).toEqual(await supabaseRowAsD1(db, e, id));
    expect(isClean(await reconcileEntity(env.DB, supabase, e))).toBe(true);
  });

  it('an extra row written into D1 is found extra and deleted', async () => {
    const { e, supabase } = await syncedCampaigns('extra');
    const stray = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (?1, 'stray', ?2, ?2)`)
      .bind(stray, '2026-11-29T10:00:00.000000Z')
      .run();
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, extra: [stray] });
    expect(await repairDrift(env.DB, supabase, e, report, { fence: fence(e) })).toMatchObject({ deleted: 1 });
    expect(await d1Row('campaigns', stray)).toBeNull();
  });

  it("a Supabase writer that set updated_at into the past (which the keyset cursor never re-reads) is found newer in D1, and Supabase's row wins", async () => {
    const { db, e, supabase, id } = await syncedCampaigns('past');
    await db.sql(`update campaigns set name = 'rewritten', updated_at = updated_at - interval '1 day' where id = $1`, [id]);
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, newerInD1: [id] });
    await repairDrift(env.DB, supabase, e, report, { fence: fence(e) });
    expect((await d1Row('campaigns', id))?.['name']).toBe('rewritten');
    expect(isClean(await reconcileEntity(env.DB, supabase, e))).toBe(true);
  });

  it('a repair touches only the differing rows and writes no outbox entry', async () => {
    const { db, e, supabase, id } = await syncedCampaigns('only-differing');
    await db.sql(`update campaigns set name = 'changed upstream' where id = $1`, [id]);
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, olderInD1: [id] });
    const before = await env.DB.prepare('SELECT count(*) AS n FROM sync_outbox').first<{ n: number }>();
    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e) });
    expect(repair).toMatchObject({ applied: 1, deleted: 0, supabaseRequests: 1 });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM sync_outbox').first<{ n: number }>()).toEqual(before);
  });

  it('a repair never overwrites a D1 row that changed after the report saw it (compare-and-set on the version)', async () => {
    const { db, e, supabase, id } = await syncedCampaigns('changed-since');
    await db.sql(`update campaigns set name = 'changed upstream' where id = $1`, [id]);
    const report = await reconcileEntity(env.DB, supabase, e);
    expect(found(report)).toEqual({ ...NONE, olderInD1: [id] });
    // Before the repair, another writer gives the D1 row a version the report never saw.
    await env.DB.batch([
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
      env.DB.prepare(`UPDATE campaigns SET name = 'written since', updated_at = '2099-01-01T00:00:00.000000Z' WHERE id = ?1`).bind(id),
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
    ]);
    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e) });
    expect(repair).toMatchObject({ applied: 0, changedSince: 1 });
    expect((await d1Row('campaigns', id))?.['name']).toBe('written since');
  });

  it('a repair from a run whose lease was lost is refused by the fence', async () => {
    const { db, e, supabase, id } = await syncedCampaigns('fenced');
    await db.sql(`update campaigns set name = 'changed upstream' where id = $1`, [id]);
    const report = await reconcileEntity(env.DB, supabase, e);
    await env.DB.prepare(
      `INSERT INTO sync_fence (entity, epoch) VALUES ('campaigns', 5) ON CONFLICT (entity) DO UPDATE SET epoch = 5`,
    ).run();
    await expect(repairDrift(env.DB, supabase, e, report, { fence: { entity: 'campaigns', epoch: 4 } })).rejects.toThrow(/newer run/);
    expect((await d1Row('campaigns', id))?.['name']).not.toBe('changed upstream');
  });
});

describe('reconciliation of two-way prospects', () => {
  it('leaves rows with pending outbox entries to the push and makes every other row follow Supabase, a newer D1 version with no pending entry too', async () => {
    const db = testDatabase(uniqueName('prospects'));
    const e = entity('prospects');
    const ids = (
      await db.sql<{ id: string }>(
        `insert into prospects (id, name, score, email_bounced) select gen_random_uuid(), 'p' || i, i - 10, i % 2 = 0 from generate_series(1, 30) i returning id::text`,
      )
    )
      .map((r) => r.id)
      .sort();
    const [pushed, pending, older, deleted] = ids as [string, string, string, string];
    await mirror(db, e);
    const supabase = store(db);
    // An edge write the push already sent (its entry is at or before the push cursor) that
    // Supabase no longer has (a restore, or a writer that set updated_at into the past): Supabase is the truth.
    await env.DB.prepare(`UPDATE prospects SET name = 'edge, pushed' WHERE id = ?1`).bind(pushed).run();
    const pushCursor = await maxOutboxSeq();
    // An edge write still in the outbox.
    await env.DB.prepare(`UPDATE prospects SET email_bounced = 1 WHERE id = ?1`).bind(pending).run();
    await db.sql(`update prospects set stage = 'won' where id = $1`, [older]);
    await db.sql(`delete from prospects where id = $1`, [deleted]);
    await db.sql(`delete from sync_tombstones where row_id = $1`, [deleted]);
    const extra = crypto.randomUUID();
    await env.DB.batch([
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
      env.DB.prepare(`INSERT INTO prospects (id, name) VALUES (?1, 'not upstream')`).bind(extra),
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
    ]);

    const report = await reconcileEntity(env.DB, supabase, e, { pushCursor });
    expect(found(report)).toEqual({ ...NONE, extra: [deleted, extra].sort(), olderInD1: [older], newerInD1: [pushed, pending].sort() });
    expect(report.pendingPush).toEqual([pending]);

    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e), pushCursor });
    expect(repair).toMatchObject({ leftPending: [pending], requeued: [], applied: 2, deleted: 2, changedSince: 0 });
    expect((await outboxAfter(pushCursor)).map((o) => o.row_id)).toEqual([pending]);
    expect(await d1Row('prospects', pushed)).toEqual(await supabaseRowAsD1(db, e, pushed));
    expect((await d1Row('prospects', pending))?.['email_bounced']).toBe(1);
    expect(await d1Row('prospects', older)).toEqual(await supabaseRowAsD1(db, e, older));
    expect(await d1Row('prospects', deleted)).toBeNull();
    expect(await d1Row('prospects', extra)).toBeNull();
  });
});

describe('reconciliation of emails (D1 is the truth)', () => {
  it('re-queues the D1 row for every difference, reports rows only in Supabase without deleting them, and leaves pending rows alone', async () => {
    const db = testDatabase(uniqueName('emails'));
    const e = entity('emails');
    const ids = Array.from({ length: 12 }, () => crypto.randomUUID()).sort();
    await insertEmails(
      ids.map((id, i) => ({
        id,
        to_email: `to${i}@example.com`,
        from_email: 'me@example.com',
        direction: 'outbound',
        status: 'sent',
        subject: i % 2 ? `Hello "${i}"` : null,
        body: 'line\nbreak',
        sent_at: '2026-11-29T10:00:00.123456Z',
      })),
    );
    // As if the push had sent them: the same rows in Supabase, the push cursor past their entries.
    const rows = (await env.DB.prepare('SELECT * FROM emails').all<Row>()).results;
    await db.sql(`insert into emails select * from jsonb_populate_recordset(null::emails, $1::jsonb)`, [JSON.stringify(rows)]);
    const pushCursor = await maxOutboxSeq();
    const supabase = store(db);
    expect(found(await reconcileEntity(env.DB, supabase, e, { pushCursor }))).toEqual(NONE);

    const [editedUpstream, deletedUpstream, pending] = ids as [string, string, string];
    await db.sql(`update emails set status = 'bounced' where id = $1`, [editedUpstream]);
    await db.sql(`delete from emails where id = $1`, [deletedUpstream]);
    const onlyUpstream = crypto.randomUUID();
    await db.sql(`insert into emails (id, to_email, from_email, direction) values ($1, 'x@example.com', 'y@example.com', 'inbound')`, [
      onlyUpstream,
    ]);
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(pending).run();

    const report = await reconcileEntity(env.DB, supabase, e, { pushCursor });
    expect(found(report)).toEqual({
      ...NONE,
      missing: [onlyUpstream],
      extra: [deletedUpstream],
      olderInD1: [editedUpstream],
      newerInD1: [pending],
    });
    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e), pushCursor });
    expect(repair).toMatchObject({
      requeued: [editedUpstream, deletedUpstream].sort(),
      supabaseOnly: [onlyUpstream],
      leftPending: [pending],
      applied: 0,
      deleted: 0,
      supabaseRequests: 0,
    });
    expect((await outboxAfter(pushCursor)).map((o) => o.row_id).sort()).toEqual([editedUpstream, deletedUpstream, pending].sort());
    expect((await db.sql(`select count(*)::int as n from emails where id = $1`, [onlyUpstream]))[0]).toEqual({ n: 1 });
  });
});

describe('a clean dataset', () => {
  it('reports nothing for every entity, with NULLs, empty strings, unicode, quotes, backslashes, newlines, negative integers and microseconds', async () => {
    const db = testDatabase(uniqueName('clean'));
    await db.sql(`
      insert into campaigns (id, name, description, daily_limit, sequence_steps, starts_on, created_at, updated_at) values
        (gen_random_uuid(), 'Ünïcödé 😀 漢字', null, -5, 0, '2026-02-28', '2026-11-29 06:29:16.123456+00', '2026-11-29 06:29:16.000001+00'),
        (gen_random_uuid(), 'quotes '' " and \\ backslash', '', 2147483647, -2147483648, null, '1970-01-01 00:00:00+00', '2026-11-29 23:59:59.999999+05:30'),
        (gen_random_uuid(), e'line\\nbreak\\r\\n\\ttab', 'null', 0, 1, null, now(), now()),
        (gen_random_uuid(), '~', '~', 1, 1, null, now(), now());
      insert into mailboxes (id, email, display_name, warmup_enabled, health_score, last_used_at) values
        (gen_random_uuid(), 'a@example.com', '', true, 0, null),
        (gen_random_uuid(), 'b@example.com', null, false, null, '2026-01-01 00:00:00.000010+00');
      insert into prospects (id, name, score, email_bounced, archived, contact_email)
        select gen_random_uuid(), 'p' || i, -i, i % 2 = 0, i % 3 = 0, case when i % 4 = 0 then '' end from generate_series(1, 50) i;
    `);
    for (const name of ['campaigns', 'mailboxes', 'prospects'] as const) await mirror(db, entity(name));
    await insertEmails([
      {
        id: crypto.randomUUID(),
        to_email: 'é@example.com',
        from_email: 'me@example.com',
        direction: 'outbound',
        status: 'sent',
        body: '',
        subject: null,
      },
    ]);
    const emails = (await env.DB.prepare('SELECT * FROM emails').all<Row>()).results;
    await db.sql(`insert into emails select * from jsonb_populate_recordset(null::emails, $1::jsonb)`, [JSON.stringify(emails)]);
    const supabase = store(db);
    for (const name of ['campaigns', 'mailboxes', 'prospects', 'emails'] as const) {
      const report = await reconcileEntity(env.DB, supabase, entity(name), { pushCursor: await maxOutboxSeq() });
      expect(found(report), name).toEqual(NONE);
      expect(report).toMatchObject({ bucketsDiffering: 0, supabaseRequests: 1, pendingPush: [] });
      expect(report.d1Rows, name).toBe(report.supabaseRows);
    }
  });
});

describe('cost', () => {
  /** Inserts `n` varied prospects in Supabase and mirrors them into D1. */
  async function prospects(db: TestDatabase, n: number): Promise<void> {
    await db.sql(
      `insert into prospects (id, name, city, country, contact_email, stage, score, email_bounced, archived, created_at, updated_at)
       select gen_random_uuid(), 'Prospect ' || i || ' é', case when i % 5 = 0 then null else 'City ' || (i % 97) end, 'DE',
              'p' || i || '@example.com', 'new', i % 1000 - 500, i % 7 = 0, false,
              timestamptz '2026-01-01' + i * interval '1 second 1 microsecond', timestamptz '2026-06-01' + i * interval '1 microsecond'
       from generate_series(1, $1::int) i`,
      [n],
    );
    await mirror(db, entity('prospects'));
  }

  it('verifies a clean 20,000-row table with at most 5 Supabase requests, reading each D1 row once', async () => {
    const db = testDatabase(uniqueName('clean-20k'));
    const e = entity('prospects');
    await prospects(db, 20_000);
    await db.resetStats();
    const started = Date.now();
    const report = await reconcileEntity(env.DB, store(db), e);
    const ms = Date.now() - started;
    const stats = (await db.stats()) as { total: number; requests: Record<string, number> };
    console.log(
      JSON.stringify({
        event: 'reconcile_clean_20k',
        ms,
        supabaseRequests: stats.total,
        d1RowsRead: report.d1RowsRead,
        prefixLength: report.prefixLength,
        buckets: report.bucketsCompared,
      }),
    );
    expect(isClean(report)).toBe(true);
    expect(stats.total).toBeLessThanOrEqual(5);
    expect(stats.total).toBe(report.supabaseRequests);
    expect(report).toMatchObject({ rowsCompared: 20_000, d1Rows: 20_000, supabaseRows: 20_000, bucketsDiffering: 0 });
    expect(report.d1RowsRead).toBeLessThanOrEqual(20_000 + 16);
  });

  it('finds and repairs 1 % drift in a 20,000-row table, descending only into the differing buckets', async () => {
    const db = testDatabase(uniqueName('drift-20k'));
    const e = entity('prospects');
    await prospects(db, 20_000);
    // 200 rows drift: 50 changed upstream, 50 deleted upstream without a tombstone, 50 deleted in D1, 50 edited in place in D1.
    const ids = (await db.sql<{ id: string }>(`select id::text from prospects order by md5(id::text) limit 200`)).map((r) => r.id);
    const [up, gone, lost, edited] = [ids.slice(0, 50), ids.slice(50, 100), ids.slice(100, 150), ids.slice(150, 200)];
    await db.sql(`update prospects set score = score + 1 where id::text in (select jsonb_array_elements_text($1::jsonb))`, [
      JSON.stringify(up),
    ]);
    await db.sql(`delete from prospects where id::text in (select jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(gone)]);
    await db.sql('delete from sync_tombstones');
    await env.DB.batch([
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
      env.DB.prepare('DELETE FROM prospects WHERE id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(lost)),
      env.DB.prepare(`UPDATE prospects SET city = 'edited in place' WHERE id IN (SELECT value FROM json_each(?1))`).bind(
        JSON.stringify(edited),
      ),
      env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
    ]);
    const supabase = store(db);
    await db.resetStats();
    const started = Date.now();
    const report = await reconcileEntity(env.DB, supabase, e);
    const reportMs = Date.now() - started;
    expect(found(report)).toEqual({
      missing: [...lost].sort(),
      extra: [...gone].sort(),
      olderInD1: [...up].sort(),
      newerInD1: [],
      sameVersionOtherContent: [...edited].sort(),
    });
    expect(report.supabaseRequests).toBeLessThanOrEqual(5);
    const repairStarted = Date.now();
    const repair = await repairDrift(env.DB, supabase, e, report, { fence: fence(e), pushCursor: await maxOutboxSeq() });
    const repairMs = Date.now() - repairStarted;
    expect(repair).toMatchObject({ applied: 150, deleted: 50, requeued: [], leftPending: [] });
    const stats = (await db.stats()) as { total: number };
    console.log(
      JSON.stringify({
        event: 'reconcile_drift_20k',
        reportMs,
        repairMs,
        supabaseRequests: stats.total,
        reportRequests: report.supabaseRequests,
        d1RowsRead: report.d1RowsRead,
        bucketsDiffering: report.bucketsDiffering,
        buckets: report.bucketsCompared,
      }),
    );
    expect(isClean(await reconcileEntity(env.DB, supabase, e))).toBe(true);
  });
});
