/**
 * Anti-entropy reconciliation of one entity: finds every row that differs between Supabase and
 * D1 by comparing digests of key-prefix buckets, descending only into the buckets that differ,
 * and repairs the differing rows by the entity's policy. The caller (the coordinator) runs it
 * under the entity's lease and passes the lease's fence; nothing here knows Durable Objects.
 *
 * Cost of a clean table: one Supabase request (the digests of every bucket) and one read of
 * each D1 row (D1 has no hash function: the Worker hashes the rows itself). Each differing
 * bucket adds its rows to one more request per `maxRowsPerRequest` rows and one D1 read.
 */
import { pushes, type EntityDefinition, type Row } from '../entities.ts';
import type { Fence, Tombstone } from '../stores/d1-contract.ts';
import { applyRepairRows, applyTombstones, enqueueRows } from '../stores/d1.ts';
import { pendingOutboxIds, readD1Prefixes, readD1Range, type ReconcileSupabase } from '../stores/reconcile.ts';
import { toD1Row } from '../sync/rows.ts';
import {
  addRow,
  bucketOf,
  differingBuckets,
  MAX_PREFIX_LENGTH,
  planDescent,
  prefixLengthFor,
  rollUp,
  scanRanges,
  segmentScanRanges,
  type Digest,
} from './digest.ts';
import { diffRows, driftIds, planRepair, type RowDrift, type RowVersion } from './drift.ts';
import { canonicalRowText, d1ValueText, rowHash } from './row-text.ts';

/** What one reconciliation of an entity found. */
export interface ReconcileReport extends RowDrift {
  entity: string;
  /** Key characters per bucket (16^n buckets). */
  prefixLength: number;
  /** Rows covered: the larger side's count. */
  rowsCompared: number;
  supabaseRows: number;
  d1Rows: number;
  /** Buckets present on either side. */
  bucketsCompared: number;
  bucketsDiffering: number;
  supabaseRequests: number;
  /** D1's rows_read over the run: what hourly runs cost against the plan's read allowance. */
  d1RowsRead: number;
  /** Differing rows with outbox entries after the push cursor: changes in flight, which the push owns. */
  pendingPush: string[];
  durationMs: number;
}

/** Knobs of a reconciliation. */
export interface ReconcileOptions {
  /** The push cursor: outbox entries after it are pending (pushed entities). Default 0. */
  pushCursor?: number;
  /** Rows per descent request (by the larger side's bucket counts). Default 20,000. */
  maxRowsPerRequest?: number;
  /** Key characters per bucket; by default chosen from D1's row count (prefixLengthFor). */
  prefixLength?: number;
  /** The clock, for durationMs. */
  now?: () => number;
  /**
   * Reconcile only the keys of one segment (keySegments: its first hex digits, e.g. '0123'),
   * one step of a large table's reconciliation. Default: the whole table.
   */
  segment?: string;
}

/** Finds every row of `entity` that differs between Supabase and D1 (reads only). */
export async function reconcileEntity(
  db: D1Database,
  supabase: ReconcileSupabase,
  entity: EntityDefinition,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const requestsBefore = supabase.requests();
  let d1RowsRead = 0;

  // One pass over D1, range by range, hashing each row once at the finest bucket length.
  const fine = new Map<string, Digest>();
  let d1Rows = 0;
  const segment = options.segment ?? null;
  for (const range of segment === null ? scanRanges() : segmentScanRanges(segment)) {
    const r = await readD1Range(db, entity, range);
    d1RowsRead += r.rowsRead;
    for (const row of r.rows) {
      const key = d1ValueText(row[entity.key]);
      // A NULL key (SQLite allows one in a TEXT PRIMARY KEY) cannot be compared by key.
      if (key === null) continue;
      d1Rows += 1;
      addRow(fine, bucketOf(key, MAX_PREFIX_LENGTH), rowHash(canonicalRowText(entity, row)));
    }
  }
  // A segment holds about len/16 of the table: size the buckets for the whole table.
  const tableRows = segment === null ? d1Rows : Math.round((d1Rows * 16) / segment.length);
  const prefixLength = Math.min(MAX_PREFIX_LENGTH, Math.max(1, options.prefixLength ?? prefixLengthFor(tableRows)));
  const d1Digests = rollUp(fine, prefixLength);

  const upstream = await supabase.rangeDigests(entity, prefixLength, segment === null ? null : segment.split(''));
  const differing = differingBuckets(d1Digests, upstream.buckets);
  const bucketsCompared = new Set([...d1Digests.keys(), ...upstream.buckets.keys()]).size;

  // Descent: both sides' rows of the differing buckets, group by group.
  const d1Versions: RowVersion[] = [];
  const upstreamVersions: RowVersion[] = [];
  const rowsIn = (b: string): number => Math.max(d1Digests.get(b)?.count ?? 0, upstream.buckets.get(b)?.count ?? 0);
  for (const group of planDescent(differing, rowsIn, options.maxRowsPerRequest ?? 20_000)) {
    upstreamVersions.push(...(await supabase.rangeRows(entity, group)));
    const r = await readD1Prefixes(db, entity, group);
    d1RowsRead += r.rowsRead;
    const wanted = new Set(group);
    for (const row of r.rows) {
      const id = d1ValueText(row[entity.key]);
      // A key shorter than the prefix length falls in an enclosing range too: keep its own bucket only.
      if (id === null || !wanted.has(bucketOf(id, prefixLength))) continue;
      d1Versions.push({ id, version: d1ValueText(row[entity.cursorColumn]), hash: rowHash(canonicalRowText(entity, row)) });
    }
  }
  const { same: _same, ...drift } = diffRows(d1Versions, upstreamVersions);

  let pendingPush: string[] = [];
  if (pushes(entity)) {
    const pending = await pendingOutboxIds(db, entity, options.pushCursor ?? 0, driftIds(drift));
    d1RowsRead += pending.rowsRead;
    pendingPush = [...pending.ids].sort();
  }

  return {
    entity: entity.name,
    prefixLength,
    rowsCompared: Math.max(d1Rows, upstream.total),
    supabaseRows: upstream.total,
    d1Rows,
    bucketsCompared,
    bucketsDiffering: differing.length,
    supabaseRequests: supabase.requests() - requestsBefore,
    d1RowsRead,
    ...drift,
    pendingPush,
    durationMs: now() - started,
  };
}

/** Whether a report found no differing row. */
export function isClean(report: RowDrift): boolean {
  return driftIds(report).length === 0;
}

/** What a repair did. */
export interface RepairResult {
  /** Supabase rows D1 took (inserted or overwritten). */
  applied: number;
  /** D1 rows deleted because Supabase has no such row. */
  deleted: number;
  /** Rows whose D1 version was queued for push. */
  requeued: string[];
  /** Rows with pending outbox entries, left to the push. */
  leftPending: string[];
  /** Rows only in Supabase of a table D1 is the truth for (emails): reported, not deleted. */
  supabaseOnly: string[];
  /** Supabase rows that do not fit the registry (the pull would quarantine them): not applied. */
  rejected: { id: string; reason: string }[];
  /** Rows whose D1 version changed after the report saw it: an edge or pull write since, left as they are. */
  changedSince: number;
  supabaseRequests: number;
  d1RowsRead: number;
}

/** Knobs of a repair. */
export interface RepairOptions {
  /** The lease's fence: every D1 write is refused once a newer run of the entity has written. */
  fence: Fence;
  /** The push cursor: outbox entries after it are pending (pushed entities). Default 0. */
  pushCursor?: number;
}

/**
 * Repairs the rows a report found, by the entity's policy (planRepair), touching only them.
 * Supabase's rows are read again at repair time, so a row changed upstream since the report is
 * repaired to its current state; a D1 row is overwritten or deleted only while it still has the
 * version the report saw (an edge write made since survives), and every D1 write is invisible to
 * the outbox triggers.
 */
export async function repairDrift(
  db: D1Database,
  supabase: ReconcileSupabase,
  entity: EntityDefinition,
  report: ReconcileReport,
  options: RepairOptions,
): Promise<RepairResult> {
  const requestsBefore = supabase.requests();
  const result: RepairResult = {
    applied: 0,
    deleted: 0,
    requeued: [],
    leftPending: [],
    supabaseOnly: [],
    rejected: [],
    changedSince: 0,
    supabaseRequests: 0,
    d1RowsRead: 0,
  };
  const ids = driftIds(report);
  if (ids.length === 0) return result;

  // Pending entries are read again: the push may have moved on since the report.
  let pending = new Set<string>();
  if (pushes(entity)) {
    const p = await pendingOutboxIds(db, entity, options.pushCursor ?? 0, ids);
    pending = p.ids;
    result.d1RowsRead += p.rowsRead;
  }
  const plan = planRepair(entity, report, pending);
  result.leftPending = plan.leftPending;
  result.supabaseOnly = plan.supabaseOnly;

  if (plan.takeFromSupabase.length > 0) {
    const found = await supabase.readRows(entity, plan.takeFromSupabase);
    const apply: Row[] = [];
    const present = new Set<string>();
    for (const raw of found) {
      const checked = toD1Row(entity, raw);
      if (checked.ok) {
        apply.push(checked.row);
        present.add(String(checked.row[entity.key]));
      } else {
        result.rejected.push({ id: checked.id, reason: checked.reason });
        present.add(checked.id);
      }
    }
    const seen = Object.fromEntries(apply.map((r) => [String(r[entity.key]), report.versions[String(r[entity.key])]?.d1 ?? null]));
    result.applied = await applyRepairRows(db, entity, apply, seen, options.fence);
    result.changedSince = apply.length - result.applied;
    // Not in Supabase (any more): D1's row goes, unless it changed after the report saw it.
    const gone: Tombstone[] = plan.takeFromSupabase.flatMap((id) => {
      const seen = report.versions[id]?.d1;
      return present.has(id) || seen === null || seen === undefined ? [] : [{ id, deletedAt: seen }];
    });
    result.deleted = await applyTombstones(db, entity, gone, options.fence);
  }

  if (plan.requeue.length > 0) {
    await enqueueRows(db, entity, plan.requeue, options.fence);
    result.requeued = plan.requeue;
  }
  result.supabaseRequests = supabase.requests() - requestsBefore;
  return result;
}
