/**
 * Scenario 1: pull prospects Supabase → D1 (20,000 by default, `--rows N`), the engine against
 * the local limits (bench/worker/limits.ts: the stand-in read alone, D1 applied alone) and the
 * seed's syncFromSupabase and full resync. A scale run (`npm run bench -- scale`) runs the
 * engine and the limits only.
 */
import { env } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { findEntity } from '../../src/entities.ts';
import { dropTestDatabases, testCoordinator, testDatabase, uniqueName } from '../../test/worker/helpers.ts';
import { benchRows, scaleRun } from './config.ts';
import { d1Count, seedProspects, outboxTriggers, wipeD1 } from './data.ts';
import { applyAll, LIMIT_PAGE, readAll } from './limits.ts';
import {
  countCoordinatorD1,
  countingD1,
  emptyD1Counts,
  note,
  perSecond,
  progress,
  requestCounts,
  result,
  scenario,
  syncUntilCaughtUp,
  timed,
  type D1Counts,
  type RequestCounts,
} from './measure.ts';
import { naiveClient, naiveFullResync, naiveSyncProspects } from './naive.ts';

const ROWS = benchRows(20_000);
const SCALE = scaleRun();
const ID = 'pull';
const ENTITY = findEntity('prospects');
const WARM_UP_ROWS = 2_000;

function io(req: RequestCounts, d1: D1Counts): Record<string, number> {
  return {
    'Supabase requests': req.total,
    'D1 round trips': d1.roundTrips,
    'D1 statements': d1.statements,
    'D1 rows written': d1.rowsWritten,
  };
}

/**
 * Rows that reached D1: D1 is wiped before each variant and only the variant writes, so a count
 * is exact (and, unlike listing the source's ids, costs no memory at 1M rows).
 */
async function arrived(): Promise<{ 'rows in D1': number; 'rows missed': number }> {
  const n = await d1Count('prospects');
  return { 'rows in D1': n, 'rows missed': ROWS - n };
}

it(
  `pulls ${ROWS} prospects: engine vs the local limits and the seed's syncFromSupabase`,
  async () => {
    if (!ENTITY) throw new Error('the registry has no prospects entity');
    const pageSize = ENTITY.pageSize;
    scenario(
      ID,
      `Pull ${ROWS.toLocaleString('en')} prospects, Supabase → D1`,
      `${ROWS.toLocaleString('en')} prospects in Supabase, updated_at one minute apart, D1 empty. ` +
        `Engine: a SyncCoordinator (the registry's pageSize, ${pageSize}; safetyLag 0; up to 500 pages a run) run until caught up. ` +
        `Limits, each with no engine around it: "limit, read" reads the same rows from the stand-in by keyset pages of ${LIMIT_PAGE.toLocaleString('en')} ` +
        '(a plain PostgREST GET with the engine\'s keyset filter, JSON parsed, nothing kept; no D1); "limit, apply" writes them to D1 by one plain ' +
        `\`json_each\` upsert per ${LIMIT_PAGE.toLocaleString('en')} rows, each payload prepared first and only the D1 statement timed (no Supabase). ` +
        `Each path runs once on a ${WARM_UP_ROWS.toLocaleString('en')}-row table first (a cold isolate runs its first pull at about half speed), ` +
        "and D1's file is grown to the table's size before any path is measured (an untimed bulk apply, then wiped: the first writer into a fresh file pays its growth)." +
        (SCALE
          ? ' Scale run: the naive variants are left out.'
          : " Naive: the seed's syncFromSupabase for prospects (500 rows `gte updated_at lastSync`, one D1 upsert per row, then lastSync = now), " +
            "once and then repeated until a run finds nothing; and the seed's fullResyncFromSupabase (offset pages of 1,000, one upsert per row)."),
    );
    const key = inject('supabaseServiceRoleKey');

    // A fresh isolate runs its first pull at about half speed (JIT, lazily built schemas and
    // statements): the same 10,000-row engine pull took 1,328 ms first and 774 ms third. Every
    // measured path runs once on a small table first, so no variant pays that and the others not.
    progress(`pull: warming up on ${WARM_UP_ROWS} rows`);
    {
      const warm = testDatabase(uniqueName('bench-pull-warm-up'));
      await seedProspects(warm, WARM_UP_ROWS, { spread: true, endsAgo: '1 hour' });
      await wipeD1();
      await syncUntilCaughtUp(
        await testCoordinator('prospects', warm, { safetyLagMs: 0, maxPagesPerRun: 500, maxRunMs: 600_000 }),
        'prospects',
      );
      await readAll({ url: warm.url, serviceRoleKey: key }, ENTITY);
      await wipeD1();
      await outboxTriggers(false);
      await applyAll({ url: warm.url, serviceRoleKey: key }, ENTITY, emptyD1Counts());
      await outboxTriggers(true);
      // Only the warm-up database exists yet: drop it (each holds hundreds of MB in the stand-in).
      await dropTestDatabases();
    }

    const db = testDatabase(uniqueName('bench-pull'));
    progress(`pull: seeding ${ROWS} prospects in Supabase`);
    await seedProspects(db, ROWS, { spread: true, endsAgo: '1 hour' });

    // D1's file grows as the first writer fills it; a writer after a wipe reuses the freed pages.
    // Measured first, the engine paid that growth and the limits after it did not. Grow the file
    // to the table's size first (an untimed bulk apply, then wiped): every path writes into the same file.
    progress('pull: growing D1 to the table size (untimed)');
    await outboxTriggers(false);
    await applyAll({ url: db.url, serviceRoleKey: key }, ENTITY, emptyD1Counts());
    await outboxTriggers(true);

    // ---- engine (first, so the memory sampled from outside is its own)
    await wipeD1();
    const stub = await testCoordinator('prospects', db, { safetyLagMs: 0, maxPagesPerRun: 500, maxRunMs: 600_000 });
    const d1 = emptyD1Counts();
    await countCoordinatorD1(stub, d1);
    await db.resetStats();
    progress('pull: engine running');
    const engine = await timed(() => syncUntilCaughtUp(stub, 'prospects', 1_000));
    const engineReq = await requestCounts(db);
    const engineIn = await arrived();
    result(
      ID,
      'engine',
      {
        runs: engine.value.runs,
        'wall ms': engine.ms,
        'rows/s': perSecond(engineIn['rows in D1'], engine.ms),
        ...io(engineReq, d1),
        ...engineIn,
      },
      engine.window,
    );
    progress(`pull: engine ${engine.ms} ms, ${engineIn['rows in D1']} rows, ${engineReq.total} requests, ${d1.statements} D1 statements`);

    // ---- limits
    await wipeD1();
    await db.resetStats();
    progress('pull: limit, read');
    const read = await readAll({ url: db.url, serviceRoleKey: key }, ENTITY);
    const readReq = await requestCounts(db);
    result(
      ID,
      'limit, read',
      {
        runs: 1,
        'wall ms': read.ms,
        'rows/s': perSecond(read.rows, read.ms),
        ...io(readReq, emptyD1Counts()),
        'rows in D1': null,
        'rows missed': ROWS - read.rows,
      },
      read.window,
    );

    await outboxTriggers(false);
    const ad1 = emptyD1Counts();
    progress('pull: limit, apply');
    const apply = await applyAll({ url: db.url, serviceRoleKey: key }, ENTITY, ad1);
    await outboxTriggers(true);
    const applyIn = await arrived();
    result(
      ID,
      'limit, apply',
      {
        runs: 1,
        'wall ms': apply.ms,
        'rows/s': perSecond(applyIn['rows in D1'], apply.ms),
        ...io({ total: 0, requests: {} }, ad1),
        ...applyIn,
      },
      apply.window,
    );
    progress(`pull: limits: read ${read.ms} ms, apply ${apply.ms} ms`);
    if (SCALE) return;

    // ---- naive syncFromSupabase
    await wipeD1();
    await outboxTriggers(false);
    const supabase = naiveClient(db.url, key);
    const nd1 = emptyD1Counts();
    const naiveDb = countingD1(env.DB, nd1);
    await db.resetStats();
    progress('pull: naive syncFromSupabase, first run');
    const first = await timed(() => naiveSyncProspects(naiveDb, supabase));
    const firstReq = await requestCounts(db);
    const firstIn = await arrived();
    result(
      ID,
      'naive, 1 run',
      {
        runs: 1,
        'wall ms': first.ms,
        'rows/s': perSecond(firstIn['rows in D1'], first.ms),
        ...io(firstReq, nd1),
        ...firstIn,
      },
      first.window,
    );

    let lastSync = first.value.lastSync;
    let runs = 1;
    let ms = first.ms;
    for (;;) {
      const again = await timed(() => naiveSyncProspects(naiveDb, supabase, lastSync));
      runs += 1;
      ms += again.ms;
      lastSync = again.value.lastSync;
      if (again.value.synced === 0 || runs >= 100) break;
    }
    const repeatedReq = await requestCounts(db);
    const repeatedIn = await arrived();
    result(ID, 'naive, repeated until a run finds nothing', {
      runs,
      'wall ms': ms,
      'rows/s': perSecond(repeatedIn['rows in D1'], ms),
      ...io(repeatedReq, nd1),
      ...repeatedIn,
    });
    progress(`pull: naive ${runs} runs, ${repeatedIn['rows in D1']} rows in D1`);

    // ---- naive fullResyncFromSupabase
    await wipeD1();
    const fd1 = emptyD1Counts();
    await db.resetStats();
    progress('pull: naive fullResyncFromSupabase');
    const full = await timed(() => naiveFullResync(countingD1(env.DB, fd1), supabase));
    const fullReq = await requestCounts(db);
    const fullIn = await arrived();
    result(
      ID,
      'naive full resync (spec §6)',
      {
        runs: 1,
        'wall ms': full.ms,
        'rows/s': perSecond(fullIn['rows in D1'], full.ms),
        ...io(fullReq, fd1),
        ...fullIn,
      },
      full.window,
    );
    await outboxTriggers(true);
    progress(`pull: naive full resync ${full.ms} ms`);

    note(
      ID,
      `The naive run reads its 500 oldest rows and then sets lastSync to the time it finished; every other row is older than that, so no later run ever finds it (${repeatedIn['rows missed'].toLocaleString('en')} rows missed for good).`,
    );
    note(
      ID,
      'The full resync reads everything but pages by offset (rows inserted or deleted during it shift the pages), empties the replica first, and costs one D1 statement per row.',
    );
  },
  Math.max(600_000, ROWS * 2),
); // vitest.bench.config.ts's 10 minutes are not enough for a 1M-row pull on 2 cores
