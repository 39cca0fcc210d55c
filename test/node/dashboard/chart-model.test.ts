import { describe, expect, it } from 'vitest';
import { CHART, chartModel } from '../../../src/dashboard/client/chart-model.ts';
import type { SyncLogRun } from '../../../src/types.ts';

let nextId = 1;
function run(over: { applied?: number; deleted?: number; outcome?: SyncLogRun['outcome']; lagMs?: number }): SyncLogRun {
  const id = nextId++;
  return {
    id,
    runId: `run-${id}`,
    entity: 'campaigns',
    direction: 'pull',
    trigger: 'alarm',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    outcome: over.outcome ?? 'caught-up',
    stats: {
      pages: 1,
      rowsRead: 0,
      rowsApplied: over.applied ?? 0,
      rowsDeleted: over.deleted ?? 0,
      rowsSkipped: 0,
      rowsQuarantined: 0,
      conflicts: 0,
    },
    error: over.outcome === 'failed' ? 'boom' : null,
    pullLag: over.lagMs === undefined ? null : { newestAppliedAt: '2025-12-31T23:59:59.000000Z', lagMs: over.lagMs },
  };
}

describe('chartModel', () => {
  it('puts the newest run on the right edge and scales bars to the most rows moved', () => {
    // Newest first, as the API lists them.
    const runs = [run({ applied: 10, lagMs: 500 }), run({ applied: 2, deleted: 3, lagMs: 2000 }), run({ applied: 0 })];
    const m = chartModel(runs, 30);
    expect(m.bars.map((b) => b.run.runId)).toEqual([runs[2]?.runId, runs[1]?.runId, runs[0]?.runId]);
    const slot = CHART.width / 30;
    const newest = m.bars[2];
    expect(newest && newest.x + newest.width).toBeCloseTo(CHART.width - Math.min(2, slot * 0.25) / 2, 1);
    expect(m.maxMoved).toBe(10);
    expect(m.totalMoved).toBe(15);
    const plot = CHART.height - CHART.top - CHART.bottom;
    expect(m.bars.map((b) => b.height)).toEqual([0, plot / 2, plot]);
    // Every bar stands on the baseline.
    for (const b of m.bars) expect(b.y + b.height).toBeCloseTo(CHART.height - CHART.bottom, 5);
  });

  it('draws lag only for runs that applied rows, scaled to the largest lag', () => {
    const m = chartModel([run({ applied: 1, lagMs: 1000 }), run({ applied: 0 }), run({ applied: 1, lagMs: 4000 })], 10);
    expect(m.lag.map((p) => p.lagMs)).toEqual([4000, 1000]);
    expect(m.maxLagMs).toBe(4000);
    expect(m.lag[0]?.y).toBe(CHART.top); // the largest lag reaches the top
    expect(m.lag[1]?.y).toBeCloseTo(CHART.top + (CHART.height - CHART.top - CHART.bottom) * 0.75, 1);
    // Each point sits on its run's bar.
    expect(m.lag.map((p) => p.x)).toEqual([m.bars[0]?.cx, m.bars[2]?.cx]);
  });

  it('shows failed runs as visible bars, and keeps only as many runs as there are slots', () => {
    const runs = [run({ outcome: 'failed' }), ...Array.from({ length: 40 }, () => run({ applied: 1 }))];
    const m = chartModel(runs, 30);
    expect(m.bars).toHaveLength(30);
    expect(m.failed).toBe(1);
    const failed = m.bars.at(-1);
    expect(failed?.failed).toBe(true);
    expect(failed?.height).toBeGreaterThan(0);
  });

  it('has nothing to draw without runs', () => {
    expect(chartModel([], 30)).toMatchObject({ bars: [], lag: [], maxMoved: 0, maxLagMs: 0, totalMoved: 0, failed: 0 });
  });
});
