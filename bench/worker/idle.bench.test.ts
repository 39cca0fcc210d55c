/**
 * Scenario 4: what an idle cycle costs (a run that finds nothing new), with a quiet table and
 * with a busy safety-lag window, and how long status calls take.
 */
import { env, exports } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { testCoordinator, testDatabase, uniqueName, type TestDatabase } from '../../test/worker/helpers.ts';
import type { TestSyncCoordinator } from '../../test/worker/test-coordinator.ts';
import { email } from '../../test/shared/fixtures.ts';
import { insertEmails, outboxTriggers, seedProspects, wipeD1 } from './data.ts';
import {
  countCoordinatorD1,
  countingD1,
  emptyD1Counts,
  note,
  percentiles,
  progress,
  requestCounts,
  result,
  scenario,
  syncUntilCaughtUp,
  timed,
  type D1Counts,
  type RequestCounts,
} from './measure.ts';
import { naiveClient, naiveSyncProspects } from './naive.ts';
import type { MetricValue } from '../lines.ts';

const ROWS = 2_000;
const CYCLES = 5;
const SAFETY_LAG_MS = 60_000;
const IDLE = 'idle';
const STATUS = 'status';
const STATUS_CALLS = 30;
const HEAVY_CALLS = 10;

/** Per-cycle averages of CYCLES cycles, as every idle variant reports them. */
function cycleMetrics(ms: number, req: RequestCounts, rowsRead: number, d1: D1Counts): Record<string, MetricValue> {
  return {
    'ms / cycle': Math.round(ms / CYCLES),
    'Supabase requests / cycle': req.total / CYCLES,
    requests: Object.entries(req.requests)
      .map(([k, v]) => `${k} × ${v / CYCLES}`)
      .join(', '),
    'rows re-read / cycle': rowsRead / CYCLES,
    'D1 round trips / cycle': d1.roundTrips / CYCLES,
    'D1 statements / cycle': d1.statements / CYCLES,
    'D1 rows written / cycle': d1.rowsWritten / CYCLES,
  };
}

/**
 * Runs CYCLES more cycles of a coordinator that has caught up, counting its Supabase requests
 * and D1 work, and reports them as `variant`. Returns the per-cycle rows re-read and D1 rows written.
 */
async function engineCycles(
  db: TestDatabase,
  stub: DurableObjectStub<TestSyncCoordinator>,
  entity: string,
  variant: string,
): Promise<{ rowsRead: number; d1RowsWritten: number }> {
  const d1 = emptyD1Counts();
  await countCoordinatorD1(stub, d1);
  await db.resetStats();
  progress(`idle: ${variant}`);
  let ms = 0;
  let rowsRead = 0;
  for (let i = 0; i < CYCLES; i++) {
    const cycle = await timed(() => syncUntilCaughtUp(stub, entity));
    ms += cycle.ms;
    rowsRead += cycle.value.rowsRead;
  }
  result(IDLE, variant, cycleMetrics(ms, await requestCounts(db), rowsRead, d1));
  return { rowsRead: rowsRead / CYCLES, d1RowsWritten: d1.rowsWritten / CYCLES };
}

it(`idle cycles over ${ROWS} prospects, quiet and inside the safety lag`, async () => {
  scenario(
    IDLE,
    'Idle cycles: the cost of re-reading the safety-lag window',
    `A prospects coordinator (production safety lag ${SAFETY_LAG_MS / 1000} s, the registry's pageSize (1,000)) that has caught up with ${ROWS.toLocaleString('en')} rows, ` +
      `then runs ${CYCLES} more cycles with no change in Supabase (per-cycle averages). ` +
      '"Quiet": the rows were last updated an hour ago. "Busy lag window": they were all written within the last minute ' +
      '(e.g. a bulk import just finished), so each cycle re-reads them until they are older than the lag. ' +
      "Naive: the seed's syncFromSupabase for prospects with nothing new.",
  );
  const key = inject('supabaseServiceRoleKey');

  let busyReRead = 0;
  let busyWritten = 0;
  for (const variant of ['quiet', 'busy lag window'] as const) {
    const db = testDatabase(uniqueName('bench-idle'));
    await wipeD1();
    if (variant === 'quiet') await seedProspects(db, ROWS, { spread: true, endsAgo: '1 hour' });
    else await seedProspects(db, ROWS, { spread: false });
    const stub = await testCoordinator('prospects', db, { safetyLagMs: SAFETY_LAG_MS, maxPagesPerRun: 500, maxRunMs: 600_000 });
    await syncUntilCaughtUp(stub, 'prospects');
    const cycle = await engineCycles(db, stub, 'prospects', `engine, ${variant}`);
    if (variant === 'busy lag window') {
      busyReRead = cycle.rowsRead;
      busyWritten = cycle.d1RowsWritten;
    }
  }

  // A push-only entity's quiet cycle (an empty outbox): what the production estimate's idle hour
  // counts for emails.
  {
    const db = testDatabase(uniqueName('bench-idle-push'));
    await wipeD1();
    const stub = await testCoordinator('emails', db, { maxPagesPerRun: 500, maxRunMs: 600_000 });
    await syncUntilCaughtUp(stub, 'emails');
    await engineCycles(db, stub, 'emails', 'engine, push-only quiet (emails)');
  }

  // A pull-only entity's quiet cycle: what the production estimate's idle hour counts for
  // campaigns and mailboxes (no outbox to read).
  {
    const db = testDatabase(uniqueName('bench-idle-pull-only'));
    await wipeD1();
    await db.sql(`insert into campaigns (name, updated_at) select 'c' || g, now() - interval '1 hour' from generate_series(1, ${ROWS}) g`);
    const stub = await testCoordinator('campaigns', db, { safetyLagMs: SAFETY_LAG_MS, maxPagesPerRun: 500, maxRunMs: 600_000 });
    await syncUntilCaughtUp(stub, 'campaigns');
    await engineCycles(db, stub, 'campaigns', 'engine, pull-only quiet (campaigns)');
  }

  {
    const db = testDatabase(uniqueName('bench-idle-naive'));
    await wipeD1();
    await outboxTriggers(false);
    await seedProspects(db, ROWS, { spread: true, endsAgo: '1 hour' });
    const supabase = naiveClient(db.url, key);
    let lastSync = (await naiveSyncProspects(env.DB, supabase)).lastSync;
    const d1 = emptyD1Counts();
    const naiveDb = countingD1(env.DB, d1);
    await db.resetStats();
    let ms = 0;
    for (let i = 0; i < CYCLES; i++) {
      const cycle = await timed(() => naiveSyncProspects(naiveDb, supabase, lastSync));
      ms += cycle.ms;
      lastSync = cycle.value.lastSync;
    }
    await outboxTriggers(true);
    result(IDLE, 'naive', cycleMetrics(ms, await requestCounts(db), 0, d1));
  }
  note(
    IDLE,
    'A quiet engine cycle costs one Supabase request (rows and tombstones read together by rpc/sync_pull_page), plus one D1 round trip for the (empty) outbox of this two-way entity; ' +
      "the run's log entry stays in its coordinator's storage. The one D1 row a quiet cycle writes is the run's new fencing epoch, which that read's batch carries (one per run, src/stores/d1.ts); a pull-only entity's quiet cycle makes no D1 call at all. " +
      'Rows inside the lag window are re-read every cycle until they age out (here: all of them, for up to a minute after the import; in production cycles are the pull interval apart, so usually once).',
  );
  note(
    IDLE,
    busyWritten > busyReRead
      ? `Re-read rows are also rewritten: ${busyWritten.toLocaleString('en')} D1 rows written per cycle for ${busyReRead.toLocaleString('en')} unchanged rows (the apply guard lets an identical version through; D1 bills rows written).`
      : `Re-read rows that did not change are not rewritten (${busyWritten.toLocaleString('en')} D1 rows written per cycle for ${busyReRead.toLocaleString('en')} rows re-read).`,
  );
});

it('status latency', async () => {
  scenario(
    STATUS,
    'Status calls',
    `${STATUS_CALLS} sequential calls each (${HEAVY_CALLS} for the 100,000-row cases), timed with workerd's clock (it advances across I/O, so these are wall times including the Durable Object round trip). ` +
      '`status()` is the coordinator RPC; `GET /api/sync/status` goes through the Worker and asks all four coordinators. ' +
      'The emails coordinator counts its pending outbox rows on every status call.',
  );
  const db = testDatabase(uniqueName('bench-status'));
  await wipeD1();
  await seedProspects(db, ROWS, { spread: true, endsAgo: '1 hour' });
  const prospects = await testCoordinator('prospects', db, { safetyLagMs: SAFETY_LAG_MS });
  await syncUntilCaughtUp(prospects, 'prospects');
  const emails = await testCoordinator('emails', db);

  const sample = async (label: string, call: () => Promise<unknown>, calls = STATUS_CALLS): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < calls; i++) times.push((await timed(call)).ms);
    const p = percentiles(times);
    result(STATUS, label, { 'min ms': p.min, 'median ms': p.median, 'p95 ms': p.p95, 'max ms': p.max });
    return p.median;
  };
  const overall = async (): Promise<void> => {
    const res = await exports.default.fetch('http://sync.test/api/sync/status', { headers: { authorization: 'Bearer test-admin-token' } });
    if (!res.ok) throw new Error(`GET /api/sync/status: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  progress('status: sampling');
  await sample('prospects status()', () => prospects.status('prospects'));
  await sample('emails status(), outbox empty', () => emails.status('emails'));
  await sample('GET /api/sync/status, outbox empty', overall);
  await insertEmails(Array.from({ length: 10_000 }, (_, i) => email(i)));
  progress('status: 10,000 pending');
  const at10k = await sample('emails status(), 10,000 pending', () => emails.status('emails'));
  await sample('GET /api/sync/status, 10,000 pending', overall);
  progress('status: writing 90,000 more emails');
  await insertEmails(Array.from({ length: 90_000 }, (_, i) => email(10_000 + i)));
  const at100k = await sample('emails status(), 100,000 pending', () => emails.status('emails'), HEAVY_CALLS);
  await sample('GET /api/sync/status, 100,000 pending', overall, HEAVY_CALLS);
  // Where the time goes: the backlog query and its parts, straight on D1 (no Durable Object).
  const query = (sql: string) => () => env.DB.prepare(sql).bind('emails', 0).all();
  const statusQuery =
    'SELECT count(*) AS pending, (SELECT changed_at FROM sync_outbox WHERE entity = ?1 AND seq > ?2 ORDER BY seq LIMIT 1) AS oldest FROM sync_outbox WHERE entity = ?1 AND seq > ?2';
  await sample('D1 alone: the status query (count(*), first change by seq)', query(statusQuery), HEAVY_CALLS);
  await sample('D1 alone: count(*)', query('SELECT count(*) AS n FROM sync_outbox WHERE entity = ?1 AND seq > ?2'), HEAVY_CALLS);
  await sample(
    'D1 alone: min(changed_at) (rejected: a scan, where the first change by seq is a seek)',
    query('SELECT min(changed_at) AS oldest FROM sync_outbox WHERE entity = ?1 AND seq > ?2'),
    HEAVY_CALLS,
  );
  await sample(
    'D1 alone: count(DISTINCT row_id) (rejected: counting rows instead of changes)',
    query('SELECT count(DISTINCT row_id) AS n FROM sync_outbox WHERE entity = ?1 AND seq > ?2'),
    HEAVY_CALLS,
  );
  const counted = emptyD1Counts();
  await countCoordinatorD1(emails, counted);
  await emails.status('emails');
  // The same query the status runs (src/stores/d1.ts outboxBacklog), with .all() so D1 reports rows read.
  const backlog = await env.DB.prepare(statusQuery).bind('emails', 0).all();
  note(
    STATUS,
    `One emails status() issues ${counted.roundTrips} D1 query, the outbox backlog count; with 100,000 pending it reads ${backlog.meta.rows_read.toLocaleString('en')} index entries ` +
      `(10× the backlog made the median status ${Math.round(at100k / Math.max(1, at10k))}× slower here). Counting distinct rows instead of changes, or taking min(changed_at) instead of the first change in seq order, costs more, as the "rejected" rows show; ` +
      'the dashboard and /api/sync/status run it on every refresh.',
  );
});
