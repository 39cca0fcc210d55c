/**
 * The schedule of one convergence case, drawn from its seed before anything runs: the
 * coordinators' settings, the rows that exist before the first sync, and 12–32 steps of
 * writes on both sides, faults, evictions and sync runs. Steps that act on "an existing row"
 * carry a fraction that picks among the rows that exist when the step runs (sorted by id),
 * so a replay takes the same choices as long as the engine behaves the same.
 */
import { createRng, type Rng } from './prng.ts';

/** The entities every case syncs: one of each direction. */
export type CaseEntity = 'prospects' | 'campaigns' | 'emails';
export const CASE_ENTITIES: readonly CaseEntity[] = ['prospects', 'campaigns', 'emails'];

/** Tables written in Supabase by the schedule (emails' truth is D1, so Supabase never edits them). */
export type SupabaseTable = 'prospects' | 'campaigns';
/** Tables written in D1 by the schedule, the Worker's way (campaigns are pull-only). */
export type D1Table = 'prospects' | 'emails';

/** A fault configuration for the stand-in's PUT /_dev/faults. */
export type FaultSpec = Record<string, unknown>;

export type Step =
  | { kind: 'sb-insert'; table: SupabaseTable; ids: string[]; reuse: number | null; value: number }
  | { kind: 'sb-update'; table: SupabaseTable; pick: number; value: number }
  | { kind: 'sb-bulk-update'; table: SupabaseTable; count: number; value: number }
  | { kind: 'sb-delete'; table: SupabaseTable; pick: number }
  | { kind: 'sb-delete-reinsert'; table: SupabaseTable; pick: number; form: 'one-statement' | 'transaction'; value: number }
  /** A late commit: a row written with an updated_at slightly in the past (behind rows already read). */
  | { kind: 'sb-late-commit'; table: SupabaseTable; mode: 'insert' | 'update'; id: string; pick: number; agoMs: number; value: number }
  /** A writer whose clock runs ahead: updated_at set minutes into the future. */
  | { kind: 'sb-skew-ahead'; table: SupabaseTable; mode: 'insert' | 'update'; id: string; pick: number; aheadMs: number; value: number }
  | { kind: 'd1-insert'; table: D1Table; ids: string[]; reuse: number | null; invalid: boolean; value: number }
  | { kind: 'd1-update'; table: D1Table; pick: number; value: number }
  | { kind: 'd1-delete'; table: D1Table; pick: number }
  | { kind: 'd1-skew-ahead'; table: D1Table; pick: number; aheadMs: number; value: number }
  /** The same prospect edited on both sides between two syncs. */
  | { kind: 'both-edit'; pick: number; supabaseFirst: boolean; value: number }
  | { kind: 'faults-on'; spec: FaultSpec; label: string }
  | { kind: 'faults-off' }
  /** A graceful eviction of an idle coordinator (evictDurableObject). */
  | { kind: 'evict'; entity: CaseEntity }
  /** A run started and not awaited, then every Durable Object aborted while it is in flight. */
  | { kind: 'crash-mid-run'; entity: CaseEntity; via: 'sync-now' | 'alarm'; delayMs: number; slow: boolean }
  | { kind: 'alarm'; entity: CaseEntity }
  | { kind: 'sync-now'; entity: CaseEntity }
  /** fireAlarm and syncNow of one coordinator at the same time. */
  | { kind: 'race'; entity: CaseEntity };

/** A row that exists before the first sync. */
export interface InitialRow {
  id: string;
  value: number;
  /** Supabase rows only: how long before the case's start the row was last written ("history"). */
  ageMs?: number;
}

/** Everything a case does, drawn from its seed. */
export interface CasePlan {
  seed: number;
  settings: Record<CaseEntity, { pageSize: number; maxPagesPerRun: number }>;
  initial: {
    supabase: Record<SupabaseTable, InitialRow[]>;
    d1: Record<D1Table, InitialRow[]>;
  };
  steps: Step[];
}

const STEP_WEIGHTS = {
  'sb-insert': 6,
  'sb-update': 6,
  'sb-bulk-update': 3,
  'sb-delete': 4,
  'sb-delete-reinsert': 3,
  'sb-late-commit': 4,
  'sb-skew-ahead': 2,
  'd1-insert': 7,
  'd1-update': 7,
  'd1-delete': 4,
  'd1-skew-ahead': 2,
  'both-edit': 4,
  'faults-on': 4,
  evict: 3,
  'crash-mid-run': 4,
  alarm: 6,
  'sync-now': 6,
  race: 5,
} as const satisfies Partial<Record<Step['kind'], number>>;

/** Draws a case from its seed. Same seed, same plan. */
export function planCase(seed: number): CasePlan {
  const rng = createRng(seed);
  const value = (): number => rng.int(0, 999_999);
  const settings = Object.fromEntries(
    CASE_ENTITIES.map((e) => [
      e,
      {
        // Small pages exercise the keyset across page boundaries (bulk updates share one timestamp).
        pageSize: rng.pick([1, 2, 3, 500]),
        // A small budget ends runs with `more`, so cycles span several runs (frontier vs cursor).
        maxPagesPerRun: rng.chance(0.2) ? rng.pick([1, 2, 2, 3]) : 50,
      },
    ]),
  ) as CasePlan['settings'];

  // History: Supabase rows last written hours ago, some sharing one timestamp (a bulk insert).
  const historyRows = (n: number): InitialRow[] => {
    let age = 3 * 3_600_000 + rng.int(0, 600_000);
    return Array.from({ length: n }, () => {
      if (!rng.chance(0.3)) age -= rng.int(1, 60_000);
      return { id: rng.uuid(), value: value(), ageMs: age };
    });
  };
  const initial: CasePlan['initial'] = {
    supabase: { prospects: historyRows(rng.int(1, 4)), campaigns: historyRows(rng.int(1, 3)) },
    d1: {
      prospects: Array.from({ length: rng.int(0, 2) }, () => ({ id: rng.uuid(), value: value() })),
      emails: Array.from({ length: rng.int(1, 3) }, () => ({ id: rng.uuid(), value: value() })),
    },
  };

  const steps: Step[] = [];
  const total = rng.int(12, 32);
  let faultsOffAt: number | null = null;
  while (steps.length < total) {
    if (faultsOffAt !== null && steps.length >= faultsOffAt) {
      steps.push({ kind: 'faults-off' });
      faultsOffAt = null;
      continue;
    }
    const kind = rng.weighted(STEP_WEIGHTS);
    if (kind === 'faults-on') {
      if (faultsOffAt !== null) continue; // one fault configuration at a time
      const fault = drawFault(rng);
      steps.push({ kind: 'faults-on', ...fault });
      faultsOffAt = steps.length + rng.int(1, 4);
      continue;
    }
    steps.push(drawStep(rng, kind, value));
  }
  return { seed, settings, initial, steps };
}

function drawStep(rng: Rng, kind: Exclude<keyof typeof STEP_WEIGHTS, 'faults-on'>, value: () => number): Step {
  const sbTable = (): SupabaseTable => (rng.chance(0.6) ? 'prospects' : 'campaigns');
  const d1Table = (): D1Table => (rng.chance(0.5) ? 'emails' : 'prospects');
  const entity = (): CaseEntity => rng.pick(CASE_ENTITIES);
  switch (kind) {
    case 'sb-insert':
      return {
        kind,
        table: sbTable(),
        ids: Array.from({ length: rng.int(1, 2) }, () => rng.uuid()),
        reuse: rng.chance(0.25) ? rng.next() : null,
        value: value(),
      };
    case 'sb-update':
      return { kind, table: sbTable(), pick: rng.next(), value: value() };
    case 'sb-bulk-update':
      return { kind, table: sbTable(), count: rng.int(2, 4), value: value() };
    case 'sb-delete':
      return { kind, table: sbTable(), pick: rng.next() };
    case 'sb-delete-reinsert':
      return { kind, table: sbTable(), pick: rng.next(), form: rng.chance(0.5) ? 'one-statement' : 'transaction', value: value() };
    case 'sb-late-commit':
      return {
        kind,
        table: sbTable(),
        mode: rng.chance(0.5) ? 'insert' : 'update',
        id: rng.uuid(),
        pick: rng.next(),
        agoMs: rng.int(1_000, 60_000),
        value: value(),
      };
    case 'sb-skew-ahead':
      return {
        kind,
        table: sbTable(),
        mode: rng.chance(0.4) ? 'insert' : 'update',
        id: rng.uuid(),
        pick: rng.next(),
        aheadMs: rng.int(60_000, 10 * 60_000),
        value: value(),
      };
    case 'd1-insert': {
      const table = d1Table();
      return {
        kind,
        table,
        ids: Array.from({ length: rng.int(1, 2) }, () => rng.uuid()),
        reuse: rng.chance(0.2) ? rng.next() : null,
        // An email Supabase refuses (status outside its CHECK): quarantined, the rest flows.
        invalid: table === 'emails' && rng.chance(0.08),
        value: value(),
      };
    }
    case 'd1-update':
      return { kind, table: d1Table(), pick: rng.next(), value: value() };
    case 'd1-delete':
      return { kind, table: d1Table(), pick: rng.next() };
    case 'd1-skew-ahead':
      return { kind, table: d1Table(), pick: rng.next(), aheadMs: rng.int(60_000, 10 * 60_000), value: value() };
    case 'both-edit':
      return { kind, pick: rng.next(), supabaseFirst: rng.chance(0.5), value: value() };
    case 'evict':
      return { kind, entity: entity() };
    case 'crash-mid-run':
      return { kind, entity: entity(), via: rng.chance(0.5) ? 'sync-now' : 'alarm', delayMs: rng.int(0, 40), slow: rng.chance(0.5) };
    case 'alarm':
    case 'sync-now':
    case 'race':
      return { kind, entity: entity() };
  }
}

function drawFault(rng: Rng): { spec: FaultSpec; label: string } {
  const only = rng.chance(0.3)
    ? rng.pick(['/rest/v1/rpc/sync_pull_page', '/rest/v1/rpc/sync_apply_push', '/rest/v1/rpc/sync_range_digests', '/rest/v1/prospects'])
    : undefined;
  const scoped = (spec: FaultSpec): FaultSpec => (only ? { ...spec, onlyPaths: only } : spec);
  const suffix = only ? ` on ${only}` : '';
  switch (rng.pick(['errors', 'rate-limit', 'latency', 'drops'] as const)) {
    case 'errors': {
      const spec = { errorRate: rng.pick([0.5, 1]), errorStatus: rng.pick([500, 502, 503]), count: rng.int(1, 4) };
      return { spec: scoped(spec), label: `${spec.errorStatus} x${spec.count} @${spec.errorRate}${suffix}` };
    }
    case 'rate-limit': {
      const spec = { rateLimit: { rate: 1, retryAfterSeconds: rng.int(1, 3) }, count: rng.int(1, 3) };
      return { spec: scoped(spec), label: `429 retry-after ${spec.rateLimit.retryAfterSeconds}s x${spec.count}${suffix}` };
    }
    case 'latency': {
      const spec = { latencyMs: rng.int(10, 120) };
      return { spec: scoped(spec), label: `latency ${spec.latencyMs}ms${suffix}` };
    }
    case 'drops': {
      const spec = { dropRate: rng.pick([0.5, 1]), count: rng.int(1, 3) };
      return { spec: scoped(spec), label: `drop x${spec.count} @${spec.dropRate}${suffix}` };
    }
  }
}

/** A one-line description of a step, for failure messages. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'sb-insert':
    case 'd1-insert':
      return `${step.kind} ${step.table} x${step.ids.length}${step.reuse !== null ? ' (reusing an id)' : ''}${'invalid' in step && step.invalid ? ' (invalid)' : ''}`;
    case 'sb-update':
    case 'sb-delete':
    case 'd1-update':
    case 'd1-delete':
      return `${step.kind} ${step.table}`;
    case 'sb-bulk-update':
      return `${step.kind} ${step.table} x${step.count}`;
    case 'sb-delete-reinsert':
      return `${step.kind} ${step.table} (${step.form})`;
    case 'sb-late-commit':
      return `${step.kind} ${step.table} ${step.mode} -${Math.round(step.agoMs / 1000)}s`;
    case 'sb-skew-ahead':
      return `${step.kind} ${step.table} ${step.mode} +${Math.round(step.aheadMs / 1000)}s`;
    case 'd1-skew-ahead':
      return `${step.kind} ${step.table} +${Math.round(step.aheadMs / 1000)}s`;
    case 'both-edit':
      return `both-edit prospects (${step.supabaseFirst ? 'supabase then d1' : 'd1 then supabase'})`;
    case 'faults-on':
      return `faults-on ${step.label}`;
    case 'faults-off':
      return 'faults-off';
    case 'crash-mid-run':
      return `crash-mid-run ${step.entity} via ${step.via} after ${step.delayMs}ms${step.slow ? ' (slow requests)' : ''}`;
    case 'evict':
    case 'alarm':
    case 'sync-now':
    case 'race':
      return `${step.kind} ${step.entity}`;
  }
}
