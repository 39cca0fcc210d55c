/**
 * Failures of a convergence case, their messages (always with the seed and how to replay it),
 * and the summary over many cases (printed, and kept in the test's meta for the JSON file).
 */

/** What went wrong; one kind per invariant. */
export type FailureKind =
  /** A row the model (or the truth side) says exists is missing on a side. */
  | 'lost'
  /** Two D1 rows whose ids differ only by case. */
  | 'duplicated'
  /** A row whose last write was a delete (or that the truth side no longer has) exists on a side. */
  | 'resurrected'
  /** Both sides hold the row but with different values (or one side only, where the model cannot say which is right). */
  | 'diverged'
  /** Both sides agree, but not on the version the model expects (e.g. a re-stamped updated_at, an older write won). */
  | 'wrong-version'
  /** Two runs of one coordinator overlap in time in its run log. */
  | 'overlap'
  /** A persisted position (pull cursor, tombstone cursor, push confirmedSeq) moved backwards. */
  | 'cursor-backwards'
  /** A coordinator is not healthy after quiescing. */
  | 'unhealthy'
  /** Sync runs kept changing rows (or failing) for 30 rounds. */
  | 'no-quiesce'
  /** An RPC to a coordinator threw (not because the harness aborted it). */
  | 'engine-error'
  /** The harness itself failed (a bug in the harness, not in the engine). */
  | 'harness-error';

export const FAILURE_KINDS: readonly FailureKind[] = [
  'lost',
  'duplicated',
  'resurrected',
  'diverged',
  'wrong-version',
  'overlap',
  'cursor-backwards',
  'unhealthy',
  'no-quiesce',
  'engine-error',
  'harness-error',
];

export interface Failure {
  kind: FailureKind;
  entity?: string;
  ids?: string[];
  /** What is wrong, with both sides' values. */
  message: string;
}

/** What one case did and found. */
export interface CaseResult {
  seed: number;
  steps: number;
  faultsInjected: number;
  evictions: number;
  crashesMidRun: number;
  leasesPlanted: number;
  runs: number;
  quiesceRounds: number;
  rowsCompared: number;
  /** Rows the backstop (reconciliation with fix, after the sync runs settled) repaired. */
  driftRepaired: number;
  failures: Failure[];
  /** Wall time per phase (setup, steps, quiesce, reconcile, checks), ms. */
  phaseMs: Record<string, number>;
  /** The schedule, one step per line, for messages. */
  schedule: string[];
  durationMs: number;
}

/** The shell command that replays one seed. */
export function replayCommand(seed: number): string {
  return `CONVERGENCE_SEED=${seed} npm test -- test/worker/convergence.test.ts`;
}

const MAX_FAILURES_SHOWN = 6;

/** The assertion message for a failing case. */
export function caseMessage(r: CaseResult): string {
  const kinds = [...new Set(r.failures.map((f) => f.kind))].join(', ');
  const lines = [
    `seed ${r.seed}: ${r.failures.length} failure(s) [${kinds}] — replay: ${replayCommand(r.seed)}`,
    ...r.failures
      .slice(0, MAX_FAILURES_SHOWN)
      .map(
        (f) =>
          `  [${f.kind}]${f.entity ? ` ${f.entity}` : ''}${f.ids?.length ? ` ${f.ids.join(', ')}` : ''}: ${f.message.replace(/\n/g, '\n      ')}`,
      ),
  ];
  if (r.failures.length > MAX_FAILURES_SHOWN) lines.push(`  … and ${r.failures.length - MAX_FAILURES_SHOWN} more`);
  lines.push(`  schedule (seed ${r.seed}): ${r.schedule.join('; ')}`);
  return lines.join('\n');
}

/** Totals over many cases. */
export interface Summary {
  cases: number;
  passed: number;
  failed: number;
  steps: number;
  faultsInjected: number;
  evictions: number;
  crashesMidRun: number;
  leasesPlanted: number;
  runs: number;
  rowsCompared: number;
  driftRepaired: number;
  /** Number of failures of each kind over all cases. */
  counts: Record<FailureKind, number>;
  /** Failing seeds per kind. */
  seedsByKind: Partial<Record<FailureKind, number[]>>;
  durationMs: number;
}

export function summarize(results: readonly CaseResult[], durationMs: number): Summary {
  const counts = Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>;
  const seedsByKind: Partial<Record<FailureKind, number[]>> = {};
  for (const r of results) {
    for (const f of r.failures) counts[f.kind] += 1;
    for (const kind of new Set(r.failures.map((f) => f.kind))) (seedsByKind[kind] ??= []).push(r.seed);
  }
  const sum = (key: keyof CaseResult): number => results.reduce((n, r) => n + (r[key] as number), 0);
  return {
    cases: results.length,
    passed: results.filter((r) => r.failures.length === 0).length,
    failed: results.filter((r) => r.failures.length > 0).length,
    steps: sum('steps'),
    faultsInjected: sum('faultsInjected'),
    evictions: sum('evictions'),
    crashesMidRun: sum('crashesMidRun'),
    leasesPlanted: sum('leasesPlanted'),
    runs: sum('runs'),
    rowsCompared: sum('rowsCompared'),
    driftRepaired: sum('driftRepaired'),
    counts,
    seedsByKind,
    durationMs,
  };
}

/** The one summary line. */
export function summaryLine(s: Summary): string {
  const c = s.counts;
  const others = FAILURE_KINDS.filter((k) => !['lost', 'duplicated', 'resurrected', 'overlap'].includes(k) && c[k] > 0).map(
    (k) => `${k} ${c[k]}`,
  );
  return (
    `convergence: ${s.cases} cases (${s.passed} passed, ${s.failed} failed), ${s.steps} steps, ` +
    `${s.faultsInjected} faults injected, ${s.evictions} evictions (${s.crashesMidRun} mid-run), ${s.runs} sync runs, ` +
    `${s.rowsCompared} rows compared, ${s.driftRepaired} repaired by reconciliation; lost ${c.lost}, duplicated ${c.duplicated}, resurrected ${c.resurrected}, ` +
    `overlapping ${c.overlap}${others.length ? `; ${others.join(', ')}` : ''} (${(s.durationMs / 1000).toFixed(1)} s)`
  );
}

/** Totals of several runs (the soak runs its seeds in chunks, one vitest process each). */
export function mergeSummaries(parts: readonly Summary[]): Summary {
  const counts = Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>;
  const seedsByKind: Partial<Record<FailureKind, number[]>> = {};
  const total = (key: Exclude<keyof Summary, 'counts' | 'seedsByKind'>): number => parts.reduce((n, p) => n + p[key], 0);
  for (const p of parts) {
    for (const k of FAILURE_KINDS) counts[k] += p.counts[k];
    for (const [k, seeds] of Object.entries(p.seedsByKind) as [FailureKind, number[]][]) (seedsByKind[k] ??= []).push(...seeds);
  }
  return {
    cases: total('cases'),
    passed: total('passed'),
    failed: total('failed'),
    steps: total('steps'),
    faultsInjected: total('faultsInjected'),
    evictions: total('evictions'),
    crashesMidRun: total('crashesMidRun'),
    leasesPlanted: total('leasesPlanted'),
    runs: total('runs'),
    rowsCompared: total('rowsCompared'),
    driftRepaired: total('driftRepaired'),
    counts,
    seedsByKind,
    durationMs: total('durationMs'),
  };
}
