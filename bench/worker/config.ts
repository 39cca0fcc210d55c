/**
 * Knobs of a bench run, from bench/run.ts. Workerd tests cannot read process.env, so
 * vitest.bench.config.ts hands the variables over with `provide` and they are read here:
 *
 * - BENCH_ROWS=<n>  the pull scenario's table size (`npm run bench -- --rows N`; default 20,000);
 * - BENCH_SCALE=1   a scale run (`npm run bench -- scale`): the pull's engine and limit variants
 *                   only; the naive ones read one row per D1 statement and take minutes at 100k.
 */
import { inject } from 'vitest';

/** The pull scenario's table size: BENCH_ROWS, or `fallback`. */
export function benchRows(fallback: number): number {
  const raw = inject('benchRows').trim();
  if (raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_ROWS must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Whether this is a scale run (engine and limits only). */
export function scaleRun(): boolean {
  return inject('benchScale') === '1';
}
