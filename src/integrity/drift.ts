/**
 * What reconciliation found, row by row, and what a repair does about it, by the entity's
 * direction. Pure: the I/O lives in reconcile.ts.
 */
import type { EntityDefinition } from '../entities.ts';

/** One row as the descent sees it: key, version (the cursor column's D1 text) and 64-bit hash. */
export interface RowVersion {
  id: string;
  version: string | null;
  hash: string;
}

/** The versions of a differing row on each side (null: the side has no such row). */
export interface VersionPair {
  d1: string | null;
  supabase: string | null;
}

/** The rows that differ, by kind. */
export interface RowDrift {
  /** In Supabase, not in D1. */
  missing: string[];
  /** In D1, not in Supabase. */
  extra: string[];
  /** D1 holds an older version (updated_at) than Supabase. */
  olderInD1: string[];
  /** D1 holds a newer version than Supabase (a replica edit, or a Supabase writer that set updated_at into the past). */
  newerInD1: string[];
  /** Same updated_at, other content (an in-place edit that kept updated_at). */
  sameVersionOtherContent: string[];
  /** Each differing row's versions. */
  versions: Record<string, VersionPair>;
}

/** Classifies the rows of some buckets, read from both sides; rows equal on both sides are counted only. */
export function diffRows(d1: readonly RowVersion[], supabase: readonly RowVersion[]): RowDrift & { same: number } {
  const drift: RowDrift & { same: number } = {
    missing: [],
    extra: [],
    olderInD1: [],
    newerInD1: [],
    sameVersionOtherContent: [],
    versions: {},
    same: 0,
  };
  const upstream = new Map(supabase.map((r) => [r.id, r]));
  const seen = new Set<string>();
  for (const row of d1) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    const s = upstream.get(row.id);
    if (!s) {
      drift.extra.push(row.id);
    } else if (s.hash === row.hash) {
      drift.same += 1;
      continue;
    } else {
      // Canonical timestamps compare as text; a non-canonical D1 value still orders somewhere.
      const d = row.version ?? '';
      const u = s.version ?? '';
      (d < u ? drift.olderInD1 : d > u ? drift.newerInD1 : drift.sameVersionOtherContent).push(row.id);
    }
    drift.versions[row.id] = { d1: row.version, supabase: s?.version ?? null };
  }
  for (const s of supabase) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    drift.missing.push(s.id);
    drift.versions[s.id] = { d1: null, supabase: s.version };
  }
  for (const list of [drift.missing, drift.extra, drift.olderInD1, drift.newerInD1, drift.sameVersionOtherContent]) list.sort();
  return drift;
}

/** Every differing row's id, sorted. */
export function driftIds(drift: RowDrift): string[] {
  return [...drift.missing, ...drift.extra, ...drift.olderInD1, ...drift.newerInD1, ...drift.sameVersionOtherContent].sort();
}

/** What a repair does with each differing row. */
export interface RepairPlan {
  /** Rows to read from Supabase now: found ones are applied to D1, the others deleted from D1 (guarded by the version seen). */
  takeFromSupabase: string[];
  /** Rows whose D1 version is queued for push (an outbox entry). */
  requeue: string[];
  /** Rows with pending outbox entries: the push owns them. */
  leftPending: string[];
  /** Rows only in Supabase of a table D1 is the truth for: reported, never deleted here. */
  supabaseOnly: string[];
}

/**
 * The repair by policy. pull (replicas): Supabase wins every row. both (prospects): rows with
 * pending outbox entries are left to the push; every other row follows Supabase. push (emails, D1 is the truth): every row D1 holds is queued for push, rows
 * only in Supabase are reported. `pending`: the differing rows with outbox entries after the
 * push cursor.
 */
export function planRepair(entity: EntityDefinition, drift: RowDrift, pending: ReadonlySet<string>): RepairPlan {
  const all = driftIds(drift);
  const plan: RepairPlan = { takeFromSupabase: [], requeue: [], leftPending: [], supabaseOnly: [] };
  if (entity.direction === 'pull') {
    plan.takeFromSupabase = all;
    return plan;
  }
  plan.leftPending = all.filter((id) => pending.has(id));
  const free = (ids: readonly string[]) => ids.filter((id) => !pending.has(id));
  if (entity.direction === 'push') {
    plan.requeue = free([...drift.extra, ...drift.olderInD1, ...drift.newerInD1, ...drift.sameVersionOtherContent]).sort();
    plan.supabaseOnly = free(drift.missing);
    return plan;
  }
  // Two-way: Supabase is the truth for rows the push does not own. A newer D1 version with no
  // pending outbox entry is not an edge write in flight (those are pending): it is a Supabase
  // writer that set updated_at into the past, or a Supabase restore; pushing D1's row would undo
  // the later Supabase write (convergence soak seed 499).
  plan.takeFromSupabase = free(all);
  return plan;
}
