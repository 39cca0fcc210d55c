/**
 * Measuring tools for the workerd benchmarks: a D1 binding that counts what it is asked to
 * do, installing it inside a coordinator, request counts from the stand-in, and the BENCH
 * lines bench/run.ts collects.
 *
 * Time: workerd's clock only advances across I/O, so `Date.now()` around awaited I/O (D1,
 * Supabase, Durable Object calls) measures wall time; pure CPU between two I/O calls is
 * attributed to the next one.
 */
import { runInDurableObject } from 'cloudflare:test';
import type { Env } from '../../src/env.ts';
import type { SyncCoordinator } from '../../src/objects/sync-coordinator.ts';
import { syncUntilCaughtUp as caughtUp, type TestDatabase } from '../../test/worker/helpers.ts';
import { BENCH_PREFIX, PROGRESS_PREFIX, type BenchLine, type MetricValue, type TimeWindow } from '../lines.ts';
import type { RunStats } from '../../src/types.ts';

/** What a D1 binding was asked to do. */
export interface D1Counts {
  /** Calls that reach the database: one per run/all/first/raw, one per batch, one per exec. */
  roundTrips: number;
  /** SQL statements executed: a batch of n counts n. */
  statements: number;
  /** Sum of D1's meta.rows_read / rows_written where the result carries meta (not first()). */
  rowsRead: number;
  rowsWritten: number;
}

export function emptyD1Counts(): D1Counts {
  return { roundTrips: 0, statements: 0, rowsRead: 0, rowsWritten: 0 };
}

type Fn = (...args: unknown[]) => unknown;

function addMeta(counts: D1Counts, result: unknown): void {
  const meta = (result as { meta?: { rows_read?: unknown; rows_written?: unknown } } | null)?.meta;
  if (!meta) return;
  if (typeof meta.rows_read === 'number') counts.rowsRead += meta.rows_read;
  if (typeof meta.rows_written === 'number') counts.rowsWritten += meta.rows_written;
}

/** Wraps a D1 binding so every statement it executes is counted into `counts`. */
export function countingD1(db: D1Database, counts: D1Counts): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrapStatement = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') {
          return (...args: unknown[]) => wrapStatement(target.bind(...args));
        }
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const fn = value as Fn;
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') {
          return async (...args: unknown[]) => {
            counts.roundTrips += 1;
            counts.statements += 1;
            const result = await fn.apply(target, args);
            addMeta(counts, result);
            return result;
          };
        }
        return fn.bind(target);
      },
    });
    real.set(proxy, statement);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStatement(target.prepare(sql));
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          counts.roundTrips += 1;
          counts.statements += statements.length;
          const results = await target.batch(statements.map((s) => real.get(s) ?? s));
          for (const r of results) addMeta(counts, r);
          return results;
        };
      }
      if (prop === 'exec') {
        return async (sql: string) => {
          counts.roundTrips += 1;
          const result = await target.exec(sql);
          counts.statements += result.count;
          return result;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as Fn).bind(target) : value;
    },
  });
}

/**
 * Points a coordinator's D1 binding at a counting wrapper. The object lives in this isolate
 * (vitest-pool-workers runs Durable Objects next to the tests), so the wrapper sees every
 * statement the engine issues. Call again after anything that may have evicted the object.
 */
export async function countCoordinatorD1(stub: DurableObjectStub<SyncCoordinator>, counts: D1Counts): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    const holder = instance as unknown as { env: Env; __benchRealDb?: D1Database };
    const realDb = holder.__benchRealDb ?? holder.env.DB;
    holder.__benchRealDb = realDb;
    holder.env = { ...holder.env, DB: countingD1(realDb, counts) };
  });
}

/** Supabase requests the stand-in counted since the last reset. */
export interface RequestCounts {
  total: number;
  requests: Record<string, number>;
}

export async function requestCounts(db: TestDatabase): Promise<RequestCounts> {
  const s = (await db.stats()) as { total?: number; requests?: Record<string, number> };
  return { total: s.total ?? 0, requests: s.requests ?? {} };
}

/** Prints one line for bench/run.ts. */
export function emit(line: BenchLine): void {
  console.log(`${BENCH_PREFIX}${JSON.stringify(line)}`);
}

export function scenario(id: string, title: string, about: string): void {
  emit({ kind: 'scenario', id, title, about });
}

/** A row of a scenario's table; `window` (from `timed`) lets bench/run.ts attribute sampled memory to it. */
export function result(scenarioId: string, variant: string, metrics: Record<string, MetricValue>, window?: TimeWindow): void {
  emit({ kind: 'result', scenario: scenarioId, variant, metrics, ...(window ? { window } : {}) });
}

export function note(scenarioId: string, text: string): void {
  emit({ kind: 'note', scenario: scenarioId, text });
}

/** A progress line (bench/run.ts shows these while the benchmark runs). */
export function progress(message: string): void {
  console.log(`${PROGRESS_PREFIX}${message}`);
}

/**
 * test/worker/helpers.ts's syncUntilCaughtUp with a coalesced run as an error: a benchmark drives
 * its coordinator alone, and a run it did not start would not be in its numbers.
 */
export function syncUntilCaughtUp(
  stub: DurableObjectStub<SyncCoordinator>,
  entity: string,
  maxRuns = 200,
): Promise<RunStats & { runs: number }> {
  return caughtUp(stub, entity, { maxRuns, whenCoalesced: 'throw' });
}

/** Times an async step with workerd's clock (advances across I/O); `window` is when it ran. */
export async function timed<T>(step: () => Promise<T>): Promise<{ ms: number; value: T; window: TimeWindow }> {
  const start = Date.now();
  const value = await step();
  const end = Date.now();
  return { ms: end - start, value, window: { start, end } };
}

/**
 * Lets workerd's clock catch up with CPU work just done: `Date.now()` only advances across I/O,
 * so without this the CPU time spent before a timed step would be counted in it.
 */
export function clockTick(): Promise<void> {
  return new Promise((done) => setTimeout(done, 0));
}

/** Rows per second, rounded. */
export function perSecond(rows: number, ms: number): number {
  return ms <= 0 ? 0 : Math.round((rows * 1000) / ms);
}

/** Median and 95th percentile of a list of durations. */
export function percentiles(values: readonly number[]): { min: number; median: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { min: sorted[0] ?? 0, median: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}
