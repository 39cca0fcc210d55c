/**
 * The lines the workerd benchmarks print and bench/run.ts collects: `BENCH <json>`, one
 * BenchLine each, in the order the report shows them. `PROGRESS <text>` lines are echoed only.
 */

/** A metric value as the report prints it. */
export type MetricValue = number | string | boolean | null;

export type BenchLine =
  /** Opens a scenario: its table is built from the results that follow with the same id. */
  | { kind: 'scenario'; id: string; title: string; about: string }
  /**
   * One row of a scenario's table: a variant (engine, naive, …) and its metrics, in column order.
   * `window` (epoch ms, workerd's clock at the variant's first and last I/O) lets bench/run.ts
   * attribute the memory it samples from outside to the variant.
   */
  | { kind: 'result'; scenario: string; variant: string; metrics: Record<string, MetricValue>; window?: TimeWindow }
  /** A sentence printed under a scenario's table. */
  | { kind: 'note'; scenario: string; text: string };

/** When a measured step ran, epoch milliseconds. */
export interface TimeWindow {
  start: number;
  end: number;
}

export const BENCH_PREFIX = 'BENCH ';
export const PROGRESS_PREFIX = 'PROGRESS ';
