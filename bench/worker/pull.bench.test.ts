/**
 * Scenario 1: pull 20,000 prospects Supabase → D1, the engine against the seed's
 * syncFromSupabase (and the seed's full resync, which does read everything).
 */
import { env } from 'cloudflare:test';
import { inject, it } from 'vitest';
import { testCoordinator, testDatabase, uniqueName } from '../../test/worker/helpers.ts';
import { presentInD1, seedProspects, supabaseIds, outboxTriggers, wipeD1 } from './data.ts';
import {
  countCoordinatorD1, countingD1, emptyD1Counts, note, perSecond, progress, requestCounts, result, scenario,
  syncUntilCaughtUp, timed, type D1Counts, type RequestCounts,
} from './measure.ts';
import { naiveClient, naiveFullResync, naiveSyncProspects } from './naive.ts';

const ROWS = 20_000;
const ID = 'pull';

function io(req: RequestCounts, d1: D1Counts): Record<string, number> {
  return {
    'Supabase requests': req.total,
    'D1 round trips': d1.roundTrips,
    'D1 statements': d1.statements,
    'D1 rows written': d1.rowsWritten,
  };
}

it(`pulls ${ROWS} prospects: engine vs the seed's syncFromSupabase`, async () => {
  scenario(ID, `Pull ${ROWS.toLocaleString('en')} prospects, Supabase → D1`,
    `${ROWS.toLocaleString('en')} prospects in Supabase, updated_at one minute apart (the oldest ~2 weeks ago), D1 empty. ` +
    'Engine: a SyncCoordinator (pageSize 500, safetyLag 0, budget large enough for one run) run until caught up. ' +
    "Naive: the seed's syncFromSupabase for prospects (500 rows `gte updated_at lastSync`, one D1 upsert per row, then lastSync = now), " +
    "once and then repeated until a run finds nothing; and the seed's fullResyncFromSupabase (offset pages of 1,000, one upsert per row).");
  const key = inject('supabaseServiceRoleKey');
  const db = testDatabase(uniqueName('bench-pull'));
  progress(`pull: seeding ${ROWS} prospects in Supabase`);
  await seedProspects(db, ROWS, { spread: true, endsAgo: '1 hour' });
  const ids = await supabaseIds(db, 'prospects');

  // ---- engine
  await wipeD1();
  const stub = await testCoordinator('prospects', db, { safetyLagMs: 0, pageSize: 500, maxPagesPerRun: 500, maxRunMs: 600_000 });
  const d1 = emptyD1Counts();
  await countCoordinatorD1(stub, d1);
  await db.resetStats();
  progress('pull: engine running');
  const engine = await timed(() => syncUntilCaughtUp(stub, 'prospects'));
  const engineReq = await requestCounts(db);
  const engineIn = await presentInD1('prospects', ids);
  result(ID, 'engine', {
    runs: engine.value.runs,
    'wall ms': engine.ms,
    'rows/s': perSecond(engineIn, engine.ms),
    ...io(engineReq, d1),
    'rows in D1': engineIn,
    'rows missed': ROWS - engineIn,
  });
  progress(`pull: engine ${engine.ms} ms, ${engineIn} rows, ${engineReq.total} requests, ${d1.statements} D1 statements`);

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
  const firstIn = await presentInD1('prospects', ids);
  result(ID, 'naive, 1 run', {
    runs: 1,
    'wall ms': first.ms,
    'rows/s': perSecond(firstIn, first.ms),
    ...io(firstReq, nd1),
    'rows in D1': firstIn,
    'rows missed': ROWS - firstIn,
  });

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
  const repeatedIn = await presentInD1('prospects', ids);
  result(ID, 'naive, repeated until a run finds nothing', {
    runs,
    'wall ms': ms,
    'rows/s': perSecond(repeatedIn, ms),
    ...io(repeatedReq, nd1),
    'rows in D1': repeatedIn,
    'rows missed': ROWS - repeatedIn,
  });
  progress(`pull: naive ${runs} runs, ${repeatedIn} rows in D1`);

  // ---- naive fullResyncFromSupabase
  await wipeD1();
  const fd1 = emptyD1Counts();
  await db.resetStats();
  progress('pull: naive fullResyncFromSupabase');
  const full = await timed(() => naiveFullResync(countingD1(env.DB, fd1), supabase));
  const fullReq = await requestCounts(db);
  const fullIn = await presentInD1('prospects', ids);
  result(ID, 'naive full resync (spec §6)', {
    runs: 1,
    'wall ms': full.ms,
    'rows/s': perSecond(fullIn, full.ms),
    ...io(fullReq, fd1),
    'rows in D1': fullIn,
    'rows missed': ROWS - fullIn,
  });
  await outboxTriggers(true);
  progress(`pull: naive full resync ${full.ms} ms`);

  note(ID, `The naive run reads its 500 oldest rows and then sets lastSync to the time it finished; every other row is older than that, so no later run ever finds it (${(ROWS - repeatedIn).toLocaleString('en')} rows missed for good).`);
  note(ID, 'The full resync reads everything but pages by offset (rows inserted or deleted during it shift the pages), empties the replica first, and costs one D1 statement per row.');
});
