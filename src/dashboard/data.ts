/**
 * GET /api/dashboard: what the operator page shows, read in one request. The statuses are
 * required (without them there is no page); every other part is read on its own, and one that
 * fails is answered as `{ ok: false }` (details in the Worker log) while the rest still shows.
 */
import { coordinator, overallStatus, recentRunsPerEntity } from '../coordinators.ts';
import { ENTITY_NAMES } from '../entities.ts';
import type { Env } from '../env.ts';
import type { DashboardQuery } from '../http/parse.ts';
import { readIntegrityHistory } from '../stores/integrity.ts';
import { listRuns } from '../sync/run-log.ts';
import type { ConflictEntry, DashboardData, DashboardPart, QuarantineEntry } from '../types.ts';
import { DASHBOARD } from './settings.ts';

/** Reads everything the page shows. */
export async function dashboardData(env: Env, query: DashboardQuery, now: Date): Promise<DashboardData> {
  const names = ENTITY_NAMES;
  // The table and the charts read the same run logs: one call per entity serves both.
  const logs = recentRunsPerEntity(env, Math.max(query.runs, DASHBOARD.chartRuns), query.idle);
  const [status, runs, charts, conflicts, quarantine, integrity] = await Promise.all([
    overallStatus(env, now),
    part('runs', async () => ({
      entity: query.entity ?? null,
      idle: query.idle,
      runs: listRuns(await logs, query.entity ?? null, query.runs),
    })),
    part('charts', async () => {
      const byEntity = await logs;
      return Object.fromEntries(names.map((e) => [e, (byEntity[e] ?? []).slice(0, DASHBOARD.chartRuns)]));
    }),
    part('conflicts', async () => {
      const lists = await Promise.all(
        names.map(async (entity) =>
          (await coordinator(env, entity).conflicts(entity, DASHBOARD.conflictsPerEntity)).map((c): ConflictEntry => ({ entity, ...c })),
        ),
      );
      return lists.flat().sort((a, b) => compareDesc(a.at, b.at));
    }),
    part('quarantine', async () => {
      const lists = await Promise.all(
        names.map(async (entity) =>
          (await coordinator(env, entity).quarantined(entity, DASHBOARD.quarantinePerEntity)).map(
            ({ payload: _payload, ...q }): QuarantineEntry => ({ entity, ...q }),
          ),
        ),
      );
      return lists.flat().sort((a, b) => compareDesc(a.lastSeen, b.lastSeen));
    }),
    part('integrity', async () => {
      const [entities, history] = await Promise.all([
        Promise.all(names.map((name) => coordinator(env, name).integrity(name))),
        readIntegrityHistory(env.DB, { runs: query.history }),
      ]);
      return { entities, history: history.runs };
    }),
  ]);
  return { generatedAt: now.toISOString(), status, runs, charts, conflicts, quarantine, integrity };
}

/** One part of the answer; a failure is logged with its cause and answered without it. */
async function part<T>(name: string, read: () => Promise<T>): Promise<DashboardPart<T>> {
  try {
    return { ok: true, data: await read() };
  } catch (error) {
    console.log(
      JSON.stringify({ event: 'dashboard_part_failed', part: name, error: error instanceof Error ? error.message : String(error) }),
    );
    return { ok: false, error: `could not read the ${name}; see the Worker logs` };
  }
}

/** Newest first, for ISO timestamps (they compare as text). */
function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
