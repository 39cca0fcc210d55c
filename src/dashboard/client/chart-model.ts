/**
 * The geometry of an entity's run chart (pure, tested in Node): one bar per run for the rows it
 * moved (applied + deleted), newest on the right, and a line through the pull lag of the runs
 * that applied rows. Each series has its own scale, from 0 to its largest value in view.
 */
import type { SyncLogRun } from '../../types.ts';

/** The chart's drawing area, in SVG user units. */
export const CHART = { width: 300, height: 72, top: 6, bottom: 2 } as const;

/** One run's bar. */
export interface ChartBar {
  run: SyncLogRun;
  /** Rows applied + deleted. */
  moved: number;
  failed: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The bar's centre, where the lag point sits. */
  cx: number;
}

/** One run's lag point. */
export interface LagPoint {
  run: SyncLogRun;
  lagMs: number;
  x: number;
  y: number;
}

/** Everything the SVG needs. */
export interface ChartModel {
  bars: ChartBar[];
  lag: LagPoint[];
  maxMoved: number;
  maxLagMs: number;
  /** Rows moved by all runs in view. */
  totalMoved: number;
  failed: number;
}

/** Rows a run moved. */
export function rowsMoved(run: SyncLogRun): number {
  return run.stats.rowsApplied + run.stats.rowsDeleted;
}

/**
 * Lays out `runs` (newest first, as the API lists them) in `slots` equal slots, right-aligned so
 * the newest run is always at the right edge however many there are.
 */
export function chartModel(runs: readonly SyncLogRun[], slots: number): ChartModel {
  const inView = runs.slice(0, slots).reverse(); // oldest first, left to right
  const plot = CHART.height - CHART.top - CHART.bottom;
  const slot = CHART.width / Math.max(slots, 1);
  const gap = Math.min(2, slot * 0.25);
  const maxMoved = Math.max(0, ...inView.map(rowsMoved));
  const lagged = inView.filter((r) => r.pullLag !== null);
  const maxLagMs = Math.max(0, ...lagged.map((r) => r.pullLag?.lagMs ?? 0));
  const offset = CHART.width - inView.length * slot;
  const bars = inView.map((run, i): ChartBar => {
    const moved = rowsMoved(run);
    const failed = run.outcome === 'failed';
    // A run that moved anything is at least visible; a failed run shows as a short red bar.
    let height = maxMoved === 0 ? 0 : (moved / maxMoved) * plot;
    if (moved > 0) height = Math.max(height, 1.5);
    if (failed) height = Math.max(height, plot * 0.2);
    const x = offset + i * slot + gap / 2;
    const width = slot - gap;
    return {
      run,
      moved,
      failed,
      x: round(x),
      y: round(CHART.height - CHART.bottom - height),
      width: round(width),
      height: round(height),
      cx: round(x + width / 2),
    };
  });
  const lag = bars.flatMap((b): LagPoint[] => {
    const lagMs = b.run.pullLag?.lagMs;
    if (lagMs === undefined) return [];
    const y = maxLagMs === 0 ? CHART.height - CHART.bottom : CHART.top + plot - (lagMs / maxLagMs) * plot;
    return [{ run: b.run, lagMs, x: b.cx, y: round(y) }];
  });
  return {
    bars,
    lag,
    maxMoved,
    maxLagMs,
    totalMoved: bars.reduce((n, b) => n + b.moved, 0),
    failed: bars.filter((b) => b.failed).length,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
