/**
 * Scenario 2: correctness under a bulk insert and a late commit. 5,000 prospects inserted in
 * one statement share one updated_at; a transaction that began before the sync commits a row
 * after it, with an updated_at behind everything already read.
 */
import { env } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { testCoordinator, testDatabase, uniqueName, type TestDatabase } from '../../test/worker/helpers.ts';
import { outboxTriggers, presentInD1, seedProspects, supabaseIds, wipeD1 } from './data.ts';
import { note, progress, requestCounts, result, scenario, syncUntilCaughtUp, timed } from './measure.ts';
import { naiveClient, naiveSyncProspects } from './naive.ts';

const BULK = 5_000;
const ID = 'bulk';
const SAFETY_LAG_MS = 60_000; // the production default (SAFETY_LAG_SECONDS = 60)

/** The database's clock, as a transaction starting now would stamp its rows. */
async function transactionStart(db: TestDatabase): Promise<string> {
  return (await db.sql<{ t: string }>(`select to_json(now()) #>> '{}' as t`))[0]?.t ?? '';
}

/** The late commit: a row stamped with the start time of a transaction that began before the sync. */
async function commitLate(db: TestDatabase, startedAt: string): Promise<string> {
  const rows = await db.sql<{ id: string }>(
    `insert into prospects (name, updated_at) values ('late commit', $1::timestamptz) returning id::text as id`,
    [startedAt],
  );
  return rows[0]?.id ?? '';
}

it(`${BULK} rows sharing one updated_at and a late commit: nothing missed`, async () => {
  scenario(
    ID,
    `Correctness: a bulk insert of ${BULK.toLocaleString('en')} rows and a late commit`,
    `${BULK.toLocaleString('en')} prospects inserted by one statement (one transaction, so one shared updated_at = now()). ` +
      'A transaction that began before the first sync commits one more row after it; its updated_at (its start time) is behind ' +
      'every row already read. Then the sync runs again. ' +
      `Engine: SyncCoordinator with the production safety lag (${SAFETY_LAG_MS / 1000} s), the registry's pageSize (1,000), run until caught up each time. ` +
      "Naive: the seed's syncFromSupabase, run once, then after the late commit repeated until a run finds nothing.",
  );
  const key = inject('supabaseServiceRoleKey');

  // ---- engine
  {
    const db = testDatabase(uniqueName('bench-bulk-engine'));
    await wipeD1();
    const lateStart = await transactionStart(db);
    await seedProspects(db, BULK, { spread: false });
    const stub = await testCoordinator('prospects', db, { safetyLagMs: SAFETY_LAG_MS, maxPagesPerRun: 500, maxRunMs: 600_000 });
    await db.resetStats();
    progress('bulk: engine, first sync');
    const first = await timed(() => syncUntilCaughtUp(stub, 'prospects'));
    const lateId = await commitLate(db, lateStart);
    progress('bulk: engine, sync after the late commit');
    const second = await timed(() => syncUntilCaughtUp(stub, 'prospects'));
    const req = await requestCounts(db);
    const ids = await supabaseIds(db, 'prospects');
    const present = await presentInD1('prospects', ids);
    const lateIn = await presentInD1('prospects', [lateId]);
    result(ID, 'engine', {
      'rows in Supabase': ids.length,
      runs: first.value.runs + second.value.runs,
      'wall ms': first.ms + second.ms,
      'Supabase requests': req.total,
      'rows read': first.value.rowsRead + second.value.rowsRead,
      'rows in D1': present,
      'bulk rows missed': BULK - (present - lateIn),
      'late row missed': lateIn === 1 ? 'no' : 'yes',
    });
  }

  // ---- naive
  {
    const db = testDatabase(uniqueName('bench-bulk-naive'));
    await wipeD1();
    await outboxTriggers(false);
    const supabase = naiveClient(db.url, key);
    const lateStart = await transactionStart(db);
    await seedProspects(db, BULK, { spread: false });
    await db.resetStats();
    progress('bulk: naive, first sync');
    const first = await timed(() => naiveSyncProspects(env.DB, supabase));
    const lateId = await commitLate(db, lateStart);
    progress('bulk: naive, syncs after the late commit');
    let lastSync = first.value.lastSync;
    let runs = 1;
    let rowsRead = first.value.synced;
    let ms = first.ms;
    for (;;) {
      const again = await timed(() => naiveSyncProspects(env.DB, supabase, lastSync));
      runs += 1;
      ms += again.ms;
      rowsRead += again.value.synced;
      lastSync = again.value.lastSync;
      if (again.value.synced === 0 || runs >= 100) break;
    }
    const req = await requestCounts(db);
    const ids = await supabaseIds(db, 'prospects');
    const present = await presentInD1('prospects', ids);
    const lateIn = await presentInD1('prospects', [lateId]);
    await outboxTriggers(true);
    result(ID, 'naive', {
      'rows in Supabase': ids.length,
      runs,
      'wall ms': ms,
      'Supabase requests': req.total,
      'rows read': rowsRead,
      'rows in D1': present,
      'bulk rows missed': BULK - (present - lateIn),
      'late row missed': lateIn === 1 ? 'no' : 'yes',
    });
  }
  note(
    ID,
    'The engine pages the shared timestamp by (updated_at, id) and holds its committed cursor a safety lag behind the clock, so the next cycle re-reads the window where the late row landed. ' +
      'The naive run takes 500 of the 5,000 and moves lastSync past all of them and past the late row.',
  );
});
