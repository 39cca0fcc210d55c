/**
 * What to run, from the environment. Workerd tests cannot read process.env, so vitest.config.ts
 * hands the variables over with `provide` and they are read here with `inject`:
 *
 * - CONVERGENCE_SEED=<n>    run that one case (the replay of a failure);
 * - CONVERGENCE_CASES=<n>   run n seeds (default 50; `npm run test:soak` runs 500, 100 per process);
 * - CONVERGENCE_FIRST_SEED=<s>  the first of them (default 1);
 * - CONVERGENCE_FRESH_DB=1  a newly created stand-in database per case instead of one for the
 *                           file, emptied before each case (exact, but seconds more per case);
 * - CONVERGENCE_VERBOSE=1   print one line per case; =2 also keeps the engine's JSON log lines
 *                           (muted otherwise).
 */
import { inject } from 'vitest';

export const DEFAULT_CASES = 50;

export interface ConvergenceConfig {
  seeds: number[];
  freshDatabase: boolean;
  /** 0: summary only; 1: a line per case; 2: and the engine's log lines. */
  verbose: number;
  /** How the seeds were chosen, for the summary. */
  mode: string;
}

function positiveInt(raw: string, name: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function convergenceConfig(): ConvergenceConfig {
  const seed = inject('convergenceSeed').trim();
  const cases = inject('convergenceCases').trim();
  const firstRaw = inject('convergenceFirstSeed').trim();
  const freshDatabase = inject('convergenceFreshDb') === '1';
  const verbose = Number(inject('convergenceVerbose') || 0) || 0;
  if (seed !== '') return { seeds: [positiveInt(seed, 'CONVERGENCE_SEED')], freshDatabase, verbose, mode: `seed ${seed}` };
  const n = cases === '' ? DEFAULT_CASES : positiveInt(cases, 'CONVERGENCE_CASES');
  const first = firstRaw === '' ? 1 : positiveInt(firstRaw, 'CONVERGENCE_FIRST_SEED');
  return { seeds: Array.from({ length: n }, (_, i) => first + i), freshDatabase, verbose, mode: `seeds ${first}..${first + n - 1}` };
}

/**
 * Drops the engine's JSON log lines (`{"at":…}`) while cases run: a soak run would print tens of
 * thousands. The coordinators run in the tests' isolate, so this reaches them. Returns the undo.
 */
export function muteEngineLogs(): () => void {
  const original = console.log;
  console.log = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith('{"at":')) return;
    original(...args);
  };
  return () => {
    console.log = original;
  };
}
