/**
 * The end-of-case invariants over both sides' rows, as pure functions of the model and what
 * each side holds: each returns failures with the entity, the ids and both sides' values.
 */
import type { Expectation, WriteModel } from './model.ts';
import type { Failure } from './report.ts';
import { canonTs, diffColumns, EMAIL_STATUSES, showRow, type CanonRow } from './rows.ts';
import type { Cursor } from '../../../src/types.ts';

/** Rows of one entity by id, on each side (canonical). */
export interface Sides {
  d1: Map<string, CanonRow>;
  supabase: Map<string, CanonRow>;
}

export interface CheckResult {
  failures: Failure[];
  compared: number;
}

function sidesText(d1: CanonRow | undefined, sb: CanonRow | undefined, focus: readonly string[] = []): string {
  return `d1: ${showRow(d1, focus)}\nsupabase: ${showRow(sb, focus)}`;
}

function expectationText(exp: Expectation): string {
  switch (exp.kind) {
    case 'present':
      return `expected on both sides as ${showRow(exp.row)} because ${exp.why}`;
    case 'absent':
      return `expected on neither side because ${exp.why}`;
    case 'equal-only':
      return `expected equal on both sides (${exp.reason})`;
  }
}

/** prospects: last-write-wins both ways; the same rows with the same values on both sides. */
export function checkTwoWay(entity: string, ids: readonly string[], sides: Sides, model: WriteModel): CheckResult {
  const failures: Failure[] = [];
  for (const id of ids) {
    const d1 = sides.d1.get(id);
    const sb = sides.supabase.get(id);
    const exp = model.twoWay(entity, id);
    const context = `${expectationText(exp)}\nhistory: ${model.describe(entity, id)}`;
    const fail = (kind: Failure['kind'], what: string, focus: readonly string[] = []): void => {
      failures.push({ kind, entity, ids: [id], message: `${what}\n${sidesText(d1, sb, focus)}\n${context}` });
    };
    if (exp.kind === 'present') {
      const missing = [d1 ? null : 'd1', sb ? null : 'supabase'].filter((s) => s !== null);
      if (missing.length > 0) {
        fail('lost', `missing in ${missing.join(' and ')}`);
        continue;
      }
    } else if (exp.kind === 'absent') {
      const present = [d1 ? 'd1' : null, sb ? 'supabase' : null].filter((s) => s !== null);
      if (present.length > 0) fail('resurrected', `still present in ${present.join(' and ')} after its last write, a delete`);
      continue;
    }
    if (!d1 && !sb) continue;
    if (!d1 || !sb) {
      fail('diverged', `present in ${d1 ? 'd1' : 'supabase'} only`);
      continue;
    }
    const differing = diffColumns(d1, sb);
    if (differing.length > 0) {
      fail('diverged', `the sides differ in ${differing.join(', ')}`, differing);
      continue;
    }
    if (exp.kind === 'present') {
      const off = diffColumns(d1, exp.row);
      if (off.length > 0)
        fail(
          'wrong-version',
          `both sides agree, but not on the expected version (differs in ${off.join(', ')}); expected ${showRow(exp.row, off)}`,
          off,
        );
    }
  }
  return { failures, compared: ids.length };
}

/** Whether Supabase accepts an email as D1 holds it (its CHECK constraints). */
export function emailAcceptable(row: CanonRow): boolean {
  return (
    (EMAIL_STATUSES as readonly unknown[]).includes(row['status']) && (row['direction'] === 'inbound' || row['direction'] === 'outbound')
  );
}

/** emails: D1 is the truth; Supabase equals D1 for every valid row D1 holds, and has none that D1 deleted. */
export function checkPushed(entity: string, ids: readonly string[], sides: Sides, model: WriteModel): CheckResult {
  const failures: Failure[] = [];
  for (const id of ids) {
    const d1 = sides.d1.get(id);
    const sb = sides.supabase.get(id);
    const exp = model.truth(entity, id);
    const context = `${expectationText(exp)}\nhistory: ${model.describe(entity, id)}`;
    const fail = (kind: Failure['kind'], what: string, focus: readonly string[] = []): void => {
      failures.push({ kind, entity, ids: [id], message: `${what}\n${sidesText(d1, sb, focus)}\n${context}` });
    };
    // D1 is written by the schedule only: the engine must never change it.
    if (exp.kind === 'present' && !d1) {
      fail('lost', 'missing in d1, its source of truth');
      continue;
    }
    if (exp.kind === 'absent' && d1) {
      fail('resurrected', 'back in d1 after being deleted there');
      continue;
    }
    if (exp.kind === 'present' && d1) {
      const off = diffColumns(d1, exp.row);
      if (off.length > 0) {
        fail(
          'wrong-version',
          `d1 no longer holds the version the schedule wrote (differs in ${off.join(', ')}); expected ${showRow(exp.row, off)}`,
          off,
        );
        continue;
      }
    }
    if (!d1) {
      if (sb) fail('resurrected', 'deleted in d1 (the truth) but still in supabase');
      continue;
    }
    if (!emailAcceptable(d1)) continue; // quarantined by the push: Supabase refuses it
    if (!sb) {
      fail('lost', 'in d1 (the truth) but missing in supabase');
      continue;
    }
    const differing = diffColumns(d1, sb);
    if (differing.length > 0) fail('diverged', `supabase differs from d1 (the truth) in ${differing.join(', ')}`, differing);
  }
  return { failures, compared: ids.length };
}

/** campaigns: Supabase is the truth; D1 equals it, and holds nothing Supabase deleted. */
export function checkPulled(entity: string, ids: readonly string[], sides: Sides, model: WriteModel): CheckResult {
  const failures: Failure[] = [];
  for (const id of ids) {
    const d1 = sides.d1.get(id);
    const sb = sides.supabase.get(id);
    const exp = model.truth(entity, id);
    const context = `${expectationText(exp)}\nhistory: ${model.describe(entity, id)}`;
    const fail = (kind: Failure['kind'], what: string, focus: readonly string[] = []): void => {
      failures.push({ kind, entity, ids: [id], message: `${what}\n${sidesText(d1, sb, focus)}\n${context}` });
    };
    // Supabase is written by the schedule only: the engine must never change it.
    if (exp.kind === 'present' && !sb) {
      fail('lost', 'missing in supabase, its source of truth');
      continue;
    }
    if (exp.kind === 'absent' && sb) {
      fail('resurrected', 'back in supabase after being deleted there');
      continue;
    }
    if (exp.kind === 'present' && sb) {
      const off = diffColumns(sb, exp.row);
      if (off.length > 0) {
        fail(
          'wrong-version',
          `supabase no longer holds the version the schedule wrote (differs in ${off.join(', ')}); expected ${showRow(exp.row, off)}`,
          off,
        );
        continue;
      }
    }
    if (!sb) {
      if (d1) fail('resurrected', 'deleted in supabase (the truth) but still in d1');
      continue;
    }
    if (!d1) {
      fail('lost', 'in supabase (the truth) but missing in d1');
      continue;
    }
    const differing = diffColumns(d1, sb);
    if (differing.length > 0) fail('diverged', `d1 differs from supabase (the truth) in ${differing.join(', ')}`, differing);
  }
  return { failures, compared: ids.length };
}

/** A run as a coordinator's run log records it. */
export interface LoggedRun {
  run_id: string;
  entity: string;
  trigger: string;
  started_at: string;
  finished_at: string;
  outcome: string;
  error: string | null;
}

/**
 * Runs the engine stopped because they lost their lease to a newer run (fencing): such a run
 * may still have been on the clock when the next one started, and wrote nothing after that.
 */
export function isFencedOrLeaseLost(run: Pick<LoggedRun, 'outcome' | 'error'>): boolean {
  return run.outcome === 'fenced' || /\bfenced\b|lost (its|the) lease|lease (was )?lost|sync_fenced/i.test(run.error ?? '');
}

/** No two runs of one coordinator overlap in time ([started_at, finished_at]), fenced runs excepted. */
export function checkNoOverlap(runs: readonly LoggedRun[]): Failure[] {
  const failures: Failure[] = [];
  const byEntity = new Map<string, LoggedRun[]>();
  for (const r of runs) byEntity.set(r.entity, [...(byEntity.get(r.entity) ?? []), r]);
  for (const [entity, list] of byEntity) {
    const sorted = [...list].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const a = sorted[i] as LoggedRun;
        const b = sorted[j] as LoggedRun;
        if (Date.parse(b.started_at) >= Date.parse(a.finished_at)) continue;
        if (isFencedOrLeaseLost(a) || isFencedOrLeaseLost(b)) continue;
        failures.push({
          kind: 'overlap',
          entity,
          ids: [a.run_id, b.run_id],
          message:
            `runs overlap: ${a.trigger} run ${a.run_id} [${a.started_at} … ${a.finished_at}] ${a.outcome}${a.error ? ` (${a.error})` : ''}` +
            ` and ${b.trigger} run ${b.run_id} [${b.started_at} … ${b.finished_at}] ${b.outcome}${b.error ? ` (${b.error})` : ''}`,
        });
      }
    }
  }
  return failures;
}

/** Orders keyset positions: canonical timestamp, then id (numerically when both are numbers). */
export function compareCursor(a: Cursor | null | undefined, b: Cursor | null | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  const ta = canonTs(a.ts);
  const tb = canonTs(b.ts);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (/^\d+$/.test(a.id) && /^\d+$/.test(b.id)) {
    const d = BigInt(a.id) - BigInt(b.id);
    return d === 0n ? 0 : d < 0n ? -1 : 1;
  }
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}
