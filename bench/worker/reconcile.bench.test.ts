/**
 * Scenario 5: anti-entropy reconciliation (issue 9) of a pull-only table, campaigns: a clean
 * 10,000- and 100,000-row table, then 1 % drift of five kinds planted in the 100,000 rows,
 * found, repaired and checked again. Asserts the targets: a clean 100,000-row table costs at
 * most 5 Supabase requests, exactly the planted rows are found, and the table is clean after
 * the repair.
 */
import { env } from 'cloudflare:workers';
import { expect, inject, it } from 'vitest';
import { findEntity, type EntityDefinition, type Row } from '../../src/entities.ts';
import { isClean, reconcileEntity, repairDrift, type ReconcileReport } from '../../src/integrity/reconcile.ts';
import type { Fence } from '../../src/stores/d1-contract.ts';
import { applyPulledRows, applyTombstones } from '../../src/stores/d1.ts';
import { createReconcileSupabase, type ReconcileSupabase } from '../../src/stores/reconcile.ts';
import { toD1Row } from '../../src/sync/rows.ts';
import { testDatabase, uniqueName, type TestDatabase } from '../../test/worker/helpers.ts';
import { countingD1, emptyD1Counts, note, perSecond, progress, requestCounts, result, scenario, timed, type D1Counts } from './measure.ts';

const ID = 'reconcile';
const SMALL = 10_000;
const LARGE = 100_000;
/** Rows per D1 apply batch while mirroring (one JSON parameter, well under D1's 2 MB value limit). */
const MIRROR_BATCH = 2_000;
/** The target of issue 9: a clean 100,000-row table is verified with at most this many Supabase requests. */
const MAX_CLEAN_REQUESTS = 5;

// D1's read allowances, https://developers.cloudflare.com/d1/platform/pricing/ (checked 2026-11-29).
const FREE_ROWS_READ_PER_DAY = 5_000_000;
const PAID_ROWS_READ_PER_MONTH = 25_000_000_000;

const campaigns = ((): EntityDefinition => {
  const e = findEntity('campaigns');
  if (!e) throw new Error('no campaigns entity in the registry');
  return e;
})();
const fence: Fence = { entity: campaigns.name, epoch: 1 };

/** Empties the campaigns replica and the fences without recording anything (D1 is shared within the file). */
async function emptyCampaigns(): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1 WHERE id = 1'),
    env.DB.prepare('DELETE FROM campaigns'),
    env.DB.prepare('DELETE FROM sync_fence'),
    env.DB.prepare('DELETE FROM sync_outbox'),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0 WHERE id = 1'),
  ]);
}

/** `n` varied campaigns in Supabase in one statement (NULLs, non-ASCII text, dates, microsecond timestamps). */
async function seedCampaigns(db: TestDatabase, n: number): Promise<void> {
  await db.sql(
    `
    insert into campaigns (id, name, description, status, daily_limit, sequence_steps, starts_on, ends_on, created_at, updated_at)
    select gen_random_uuid(), 'Campaign ' || g,
           case when g % 4 = 0 then null else 'Outreach to segment ' || (g % 211) || ' — hôtels' end,
           (array['draft', 'active', 'paused', 'completed', 'archived'])[1 + g % 5], 10 + g % 200, 1 + g % 7,
           date '2025-01-01' + g % 365, case when g % 3 = 0 then null else date '2025-06-01' + g % 365 end,
           timestamptz '2025-01-01' + g * interval '1 second', timestamptz '2025-06-01' + g * interval '1 second 1 microsecond'
    from generate_series(1, $1::int) g`,
    [n],
  );
}

/**
 * Copies Supabase's campaigns into D1 the way the pull writes them: keyset pages of the
 * stand-in's rows, the registry's conversion (toD1Row), and the engine's bulk json_each
 * upsert under the apply guard (applyPulledRows), so the outbox stays empty.
 */
async function mirrorCampaigns(db: TestDatabase): Promise<number> {
  const names = Object.keys(campaigns.columns);
  let after = '00000000-0000-0000-0000-000000000000';
  let copied = 0;
  for (;;) {
    const page = await db.sql<{ id: string; row: Row }>(
      `select id::text as id, to_jsonb(t) as row from public.campaigns t where id > $1::uuid order by id limit 10000`,
      [after],
    );
    if (page.length === 0) return copied;
    const rows = page.map(({ row }) => {
      const checked = toD1Row(campaigns, Object.fromEntries(names.map((n) => [n, row[n]])));
      if (!checked.ok) throw new Error(`campaigns ${checked.id}: ${checked.reason}`);
      return checked.row;
    });
    for (let i = 0; i < rows.length; i += MIRROR_BATCH) await applyPulledRows(env.DB, campaigns, rows.slice(i, i + MIRROR_BATCH), fence);
    copied += rows.length;
    after = page.at(-1)?.id ?? after;
  }
}

function store(db: TestDatabase): ReconcileSupabase {
  return createReconcileSupabase({ url: db.url, serviceRoleKey: inject('supabaseServiceRoleKey'), requestTimeoutMs: 120_000 });
}

async function outboxSize(): Promise<number> {
  return (await env.DB.prepare('SELECT count(*) AS n FROM sync_outbox').first<{ n: number }>())?.n ?? 0;
}

/** One reconciliation, with the stand-in's own request count and a counting D1 binding beside the report's figures. */
async function reconcile(
  db: TestDatabase,
  supabase: ReconcileSupabase,
): Promise<{ report: ReconcileReport; ms: number; requests: number; d1: D1Counts }> {
  const d1 = emptyD1Counts();
  await db.resetStats();
  const { ms, value: report } = await timed(() => reconcileEntity(countingD1(env.DB, d1), supabase, campaigns));
  const requests = (await requestCounts(db)).total;
  // The report's own counts agree with what the stand-in and the D1 binding saw.
  expect(requests).toBe(report.supabaseRequests);
  expect(d1.rowsRead).toBe(report.d1RowsRead);
  return { report, ms, requests, d1 };
}

function differing(r: ReconcileReport): number {
  return r.missing.length + r.extra.length + r.olderInD1.length + r.newerInD1.length + r.sameVersionOtherContent.length;
}

function metrics(r: ReconcileReport, ms: number, d1: D1Counts): Record<string, number> {
  return {
    rows: r.rowsCompared,
    seconds: Math.round(ms / 100) / 10,
    'rows/s': perSecond(r.rowsCompared, ms),
    'Supabase requests': r.supabaseRequests,
    'D1 rows read': r.d1RowsRead,
    'D1 round trips': d1.roundTrips,
    'D1 rows written': d1.rowsWritten,
    'buckets compared': r.bucketsCompared,
    'buckets differing': r.bucketsDiffering,
    'rows differing': differing(r),
  };
}

/** A clean table of `n` rows on both sides, reconciled once; asserts it is clean. */
async function cleanRun(db: TestDatabase, n: number): Promise<{ supabase: ReconcileSupabase; report: ReconcileReport }> {
  const label = n.toLocaleString('en');
  await emptyCampaigns();
  progress(`reconcile: seeding ${label} campaigns in Supabase and mirroring them into D1`);
  await seedCampaigns(db, n);
  const seeded = await timed(() => mirrorCampaigns(db));
  expect(seeded.value).toBe(n);
  expect(await outboxSize()).toBe(0);
  progress(`reconcile: mirrored ${label} rows in ${seeded.ms} ms; reconciling`);
  const supabase = store(db);
  const run = await reconcile(db, supabase);
  expect(isClean(run.report)).toBe(true);
  expect(run.report).toMatchObject({ rowsCompared: n, d1Rows: n, supabaseRows: n, bucketsDiffering: 0 });
  expect(run.report.d1RowsRead).toBeLessThanOrEqual(n + 16);
  result(ID, `clean, ${n / 1000}k`, metrics(run.report, run.ms, run.d1));
  progress(`reconcile: clean ${label}: ${run.ms} ms, ${run.requests} Supabase requests, ${run.report.d1RowsRead} D1 rows read`);
  return { supabase, report: run.report };
}

/** Sorted copy. */
function sorted(ids: readonly string[]): string[] {
  return [...ids].sort();
}

it(`reconciles a clean ${SMALL.toLocaleString('en')}-row table`, async () => {
  scenario(
    ID,
    'Reconciliation: a clean and a 1 %-drifted 100,000-row table',
    'Anti-entropy reconciliation (`reconcileEntity`, `repairDrift` in `src/integrity/reconcile.ts`) of campaigns, a pull-only replica (Supabase wins), ' +
      'called directly rather than through a coordinator. Supabase and D1 hold the same rows (seeded by one INSERT … generate_series on the stand-in, ' +
      "copied into D1 by the pull's own conversion and bulk upsert). The Worker reads every D1 row once, hashes it and compares bucket digests " +
      '(key prefixes; 3 hex digits, 4,096 buckets, at 100,000 rows) with the digests Postgres computes in one rpc, then descends only into the buckets that differ. ' +
      '"1 % drift": 1,000 rows planted in the 100,000 after the clean run — 200 deleted from D1 (missing), 100 deleted in Supabase without a tombstone ' +
      'and 100 inserted into D1 only (extra), 200 changed in Supabase (older in D1), 200 edited in D1 keeping updated_at (same version, other content), ' +
      '200 given a later updated_at in D1 (newer in D1); then found, repaired, and reconciled again. ' +
      "**seconds** include the Worker's hashing of every D1 row; **D1 rows read** is D1's `meta.rows_read`, the billed measure.",
  );
  const db = testDatabase(uniqueName('bench-reconcile-10k'));
  const { report } = await cleanRun(db, SMALL);
  expect(report.supabaseRequests).toBeLessThanOrEqual(MAX_CLEAN_REQUESTS);
});

it(`reconciles a clean and a 1 %-drifted ${LARGE.toLocaleString('en')}-row table, and repairs the drift`, async () => {
  const db = testDatabase(uniqueName('bench-reconcile-100k'));
  const { supabase, report: clean } = await cleanRun(db, LARGE);
  expect(clean.supabaseRequests).toBeLessThanOrEqual(MAX_CLEAN_REQUESTS);

  // What an hourly count check costs in D1: the same table, SELECT count(*).
  const counted = await env.DB.prepare('SELECT count(*) AS n FROM campaigns').all<{ n: number }>();
  const countRowsRead = (counted.meta as { rows_read?: number }).rows_read ?? null;

  // ---- plant 1 % drift
  progress('reconcile: planting 1,000 drifted rows');
  const picked = (await db.sql<{ id: string }>('select id::text as id from campaigns order by md5(id::text) limit 900')).map((r) => r.id);
  const missing = picked.slice(0, 200);
  const goneUpstream = picked.slice(200, 300);
  const older = picked.slice(300, 500);
  const sameVersion = picked.slice(500, 700);
  const newer = picked.slice(700, 900);
  const stray = Array.from({ length: 100 }, () => crypto.randomUUID());
  const list = (ids: readonly string[]): string => JSON.stringify(ids);
  await db.sql('delete from campaigns where id::text in (select jsonb_array_elements_text($1::jsonb))', [list(goneUpstream)]);
  await db.sql('delete from sync_tombstones where row_id::text in (select jsonb_array_elements_text($1::jsonb))', [list(goneUpstream)]);
  // The set_updated_at trigger moves updated_at to now(): D1's version is older.
  await db.sql('update campaigns set daily_limit = daily_limit + 1 where id::text in (select jsonb_array_elements_text($1::jsonb))', [
    list(older),
  ]);
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1 WHERE id = 1'),
    env.DB.prepare('DELETE FROM campaigns WHERE id IN (SELECT value FROM json_each(?1))').bind(list(missing)),
    env.DB.prepare(`UPDATE campaigns SET name = name || ' (edited in D1)' WHERE id IN (SELECT value FROM json_each(?1))`).bind(
      list(sameVersion),
    ),
    env.DB.prepare(
      `UPDATE campaigns SET status = 'paused', updated_at = '2099-01-01T00:00:00.000000Z' WHERE id IN (SELECT value FROM json_each(?1))`,
    ).bind(list(newer)),
    env.DB.prepare(
      `INSERT INTO campaigns (id, name, created_at, updated_at) SELECT value, 'stray ' || key, ?2, ?2 FROM json_each(?1)`,
    ).bind(list(stray), '2026-11-29T10:00:00.000000Z'),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0 WHERE id = 1'),
  ]);

  // ---- find
  progress('reconcile: reconciling the drifted table');
  const drift = await reconcile(db, supabase);
  expect({
    missing: drift.report.missing,
    extra: drift.report.extra,
    olderInD1: drift.report.olderInD1,
    newerInD1: drift.report.newerInD1,
    sameVersionOtherContent: drift.report.sameVersionOtherContent,
  }).toEqual({
    missing: sorted(missing),
    extra: sorted([...goneUpstream, ...stray]),
    olderInD1: sorted(older),
    newerInD1: sorted(newer),
    sameVersionOtherContent: sorted(sameVersion),
  });
  result(ID, '1 % drift, 100k: find', metrics(drift.report, drift.ms, drift.d1));
  progress(`reconcile: drift found in ${drift.ms} ms, ${drift.requests} Supabase requests, ${drift.report.d1RowsRead} D1 rows read`);

  // ---- repair
  const repairD1 = emptyD1Counts();
  await db.resetStats();
  const repair = await timed(() => repairDrift(countingD1(env.DB, repairD1), supabase, campaigns, drift.report, { fence }));
  const repairRequests = (await requestCounts(db)).total;
  expect(repairRequests).toBe(repair.value.supabaseRequests);
  expect(repair.value).toMatchObject({ applied: 800, deleted: 200, requeued: [], leftPending: [], rejected: [], changedSince: 0 });
  expect(await outboxSize()).toBe(0);
  const repaired = repair.value.applied + repair.value.deleted;
  result(ID, '1 % drift, 100k: repair', {
    rows: repaired,
    seconds: Math.round(repair.ms / 100) / 10,
    'rows/s': perSecond(repaired, repair.ms),
    'Supabase requests': repairRequests,
    'D1 rows read': repairD1.rowsRead,
    'D1 round trips': repairD1.roundTrips,
    'D1 rows written': repairD1.rowsWritten,
    'rows repaired': repaired,
  });
  progress(`reconcile: repaired ${repaired} rows in ${repair.ms} ms, ${repairRequests} Supabase requests`);

  // ---- check again
  const after = await reconcile(db, supabase);
  expect(isClean(after.report)).toBe(true);
  expect(after.report.supabaseRequests).toBeLessThanOrEqual(MAX_CLEAN_REQUESTS);
  expect(after.report).toMatchObject({ d1Rows: LARGE - 100, supabaseRows: LARGE - 100, bucketsDiffering: 0 });
  result(ID, '1 % drift, 100k: check after repair', metrics(after.report, after.ms, after.d1));

  // ---- what hourly runs would cost in D1 reads
  const fullPass = clean.d1RowsRead;
  const hourlyPerDay = fullPass * 24;
  const n = (x: number): string => x.toLocaleString('en');
  const pct = (part: number, whole: number): string => `${((100 * part) / whole).toLocaleString('en', { maximumFractionDigits: 2 })} %`;
  note(
    ID,
    `Supabase requests: one rpc (sync_range_digests) verifies a clean table of either size; the drift adds ${drift.report.supabaseRequests - 1} descent requests ` +
      `(sync_range_rows over the ${n(drift.report.bucketsDiffering)} differing buckets, at most 20,000 rows a request), and the repair one read by key of the ` +
      `${n(repair.value.applied)} rows Supabase wins (sync_read_rows, 1,000 keys a request). The request counts are deterministic; the differing buckets and the descent's ` +
      'D1 rows read vary a little with where the random keys fall, and the seconds are local (no network) and vary from run to run.',
  );
  if (repairD1.rowsRead > 10 * repaired) {
    // Where the repair's D1 reads go: the tombstone DELETE alone, for 100 and 400 rows of this table.
    const tombstoneReads: number[] = [];
    for (const count of [100, 400]) {
      const ids = (
        await env.DB.prepare('SELECT id, updated_at FROM campaigns ORDER BY id LIMIT ?1')
          .bind(count)
          .all<{ id: string; updated_at: string }>()
      ).results;
      const d1 = emptyD1Counts();
      await applyTombstones(
        countingD1(env.DB, d1),
        campaigns,
        ids.map((r) => ({ id: r.id, deletedAt: r.updated_at })),
        fence,
      );
      tombstoneReads.push(d1.rowsRead);
    }
    note(
      ID,
      `The repair's ${n(repairD1.rowsRead)} D1 rows read for ${n(repaired)} rows come almost all from the tombstone DELETE of \`applyTombstones\` ` +
        '(src/stores/d1.ts): its correlated subquery re-reads the whole JSON list of tombstones for each row it deletes, so its rows read grow with the square ' +
        `of the tombstones (on this table: 100 → ${n(tombstoneReads[0] ?? 0)}, 400 → ${n(tombstoneReads[1] ?? 0)} rows read), in the repair and in every pull page of tombstones.`,
    );
  }
  note(
    ID,
    `D1 read cost: a full digest pass reads every D1 row once (D1 has no hash function, so the Worker hashes them): ` +
      `${n(fullPass)} rows read for the clean 100,000-row table, plus the rows of the differing buckets when there is drift ` +
      `(${n(drift.report.d1RowsRead - after.report.d1RowsRead)} more here). Hourly full passes of a 100,000-row table would read ${n(hourlyPerDay)} rows a day: ` +
      `${pct(hourlyPerDay, FREE_ROWS_READ_PER_DAY)} of Workers Free's ${n(FREE_ROWS_READ_PER_DAY)} rows read a day, for one table's check alone; ` +
      `on Workers Paid, ${n(hourlyPerDay * 30)} a month is ${pct(hourlyPerDay * 30, PAID_ROWS_READ_PER_MONTH)} of the ${n(PAID_ROWS_READ_PER_MONTH / 1e9)} billion rows read ` +
      'included a month (then $0.001 a million; developers.cloudflare.com/d1/platform/pricing). ' +
      `The choice: the full digest pass runs daily at 03:00 and on demand (\`POST /api/integrity/run\`), ${n(fullPass)} rows read a day per 100,000 rows ` +
      `(${pct(fullPass, FREE_ROWS_READ_PER_DAY)} of the Free allowance); the hourly checks only count.`,
  );
  if (countRowsRead !== null) {
    note(
      ID,
      `But a count is not free in D1 either: \`SELECT count(*)\` of the 100,000-row table reports rows_read = ${n(countRowsRead)}` +
        (countRowsRead >= LARGE / 2
          ? ", so an hourly count reads about as many D1 rows as an hourly digest pass would (what it saves is the Supabase requests and the Worker's hashing). " +
            'Hourly counts stay well inside Workers Paid; on Workers Free, a 100,000-row table needs a count that does not scan (a counter kept by triggers) or fewer counts.'
          : '.'),
    );
  }
});
