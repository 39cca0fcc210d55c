// The run log's pure rules: which runs are idle, and how the entities' logs merge into one listing.
import { describe, expect, it } from 'vitest';
import { emptyStats } from '../../../src/sync/run.ts';
import { isIdleRun, listRuns, mergeRunLogs } from '../../../src/sync/run-log.ts';
import type { RunOutcome, SyncLogRun } from '../../../src/types.ts';

function logged(id: number, entity: string, finishedAt: string): SyncLogRun {
  return {
    id,
    runId: `${entity}-${id}`,
    entity,
    direction: 'pull',
    trigger: 'alarm',
    startedAt: finishedAt,
    finishedAt,
    outcome: 'caught-up',
    stats: emptyStats(),
    error: null,
    pullLag: null,
  };
}

describe('isIdleRun', () => {
  it('is a caught-up run that changed nothing', () => {
    expect(isIdleRun('caught-up', { ...emptyStats(), pages: 1, rowsRead: 40, rowsSkipped: 40 })).toBe(true);
  });

  it.each<[string, RunOutcome, Partial<ReturnType<typeof emptyStats>>]>([
    ['applied a row', 'caught-up', { rowsApplied: 1 }],
    ['deleted a row', 'caught-up', { rowsDeleted: 1 }],
    ['quarantined a row', 'caught-up', { rowsQuarantined: 1 }],
    ['recorded a conflict', 'caught-up', { conflicts: 1 }],
    ['failed', 'failed', {}],
    ['was fenced', 'fenced', {}],
    ['stopped with more to do', 'more', {}],
  ])('is not idle when it %s', (_what, outcome, stats) => {
    expect(isIdleRun(outcome, { ...emptyStats(), ...stats })).toBe(false);
  });
});

describe('mergeRunLogs', () => {
  it('interleaves the entities newest first by finishedAt and keeps the limit', () => {
    const prospects = [logged(9, 'prospects', '2026-01-01T00:00:05.000Z'), logged(8, 'prospects', '2026-01-01T00:00:01.000Z')];
    const emails = [logged(3, 'emails', '2026-01-01T00:00:04.000Z'), logged(2, 'emails', '2026-01-01T00:00:02.000Z')];
    expect(mergeRunLogs([prospects, emails], 3).map((r) => r.runId)).toEqual(['prospects-9', 'emails-3', 'emails-2']);
    expect(mergeRunLogs([prospects, []], 10).map((r) => r.runId)).toEqual(['prospects-9', 'prospects-8']);
  });

  it("keeps one entity's log in its own order (a fenced run may finish after its successor)", () => {
    const fenced = logged(4, 'prospects', '2026-01-01T00:00:09.000Z');
    const successor = logged(5, 'prospects', '2026-01-01T00:00:08.000Z');
    expect(mergeRunLogs([[successor, fenced]], 10).map((r) => r.runId)).toEqual(['prospects-5', 'prospects-4']);
    expect(mergeRunLogs([[successor, fenced]], 1).map((r) => r.runId)).toEqual(['prospects-5']);
  });

  it('orders runs that finished in the same millisecond by start, then by the newer log entry', () => {
    const same = '2026-01-01T00:00:05.000Z';
    const early = { ...logged(1, 'campaigns', same), startedAt: '2026-01-01T00:00:04.000Z' };
    expect(mergeRunLogs([[logged(2, 'campaigns', same)], [early], [logged(5, 'mailboxes', same)]], 3).map((r) => r.runId)).toEqual([
      'mailboxes-5',
      'campaigns-2',
      'campaigns-1',
    ]);
  });
});

describe('listRuns', () => {
  const byEntity = {
    prospects: [logged(2, 'prospects', '2026-01-01T00:00:03.000Z')],
    emails: [logged(7, 'emails', '2026-01-01T00:00:04.000Z'), logged(6, 'emails', '2026-01-01T00:00:01.000Z')],
  };

  it('lists every entity merged when none is named, and one entity alone when named', () => {
    expect(listRuns(byEntity, null, 10).map((r) => r.runId)).toEqual(['emails-7', 'prospects-2', 'emails-6']);
    expect(listRuns(byEntity, 'emails', 1).map((r) => r.runId)).toEqual(['emails-7']);
    expect(listRuns(byEntity, 'campaigns', 10)).toEqual([]);
  });
});
