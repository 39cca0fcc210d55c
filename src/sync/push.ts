/**
 * The push pass: D1 → Supabase for one entity, from the outbox that D1 triggers fill.
 * Per page: one D1 batch (prune confirmed + read next page joined with current rows), one
 * Supabase read of the replica versions (conflict check), one bulk upsert, one bulk delete.
 * The cursor (outbox seq) moves only after Supabase accepted the page, so a crash re-sends;
 * upserts and deletes by primary key are idempotent.
 */
import type { EntityDefinition } from '../entities.ts';
import { readOutboxPage, type OutboxChange } from '../stores/d1.ts';
import { SupabaseError, type SupabaseStore } from '../stores/supabase.ts';
import { decidePush } from './conflicts.ts';
import { toSourceRow, type Row } from './rows.ts';
import type { Budget, PassResult, PassSink, RunStats } from './run.ts';
import { emptyStats } from './run.ts';
import { canonicalTimestamp } from './timestamps.ts';

/** What the push pass needs from its surroundings. */
export interface PushContext {
  entity: EntityDefinition;
  supabase: SupabaseStore;
  db: D1Database;
  pageSize: number;
  budget: Budget;
  now: () => number;
  sink: PassSink;
  /** Persists the confirmed outbox sequence; called after each page Supabase accepted. */
  save: (confirmedSeq: number) => void;
}

/** Runs one push pass after `confirmedSeq`; returns whether the outbox was drained. */
export async function runPush(ctx: PushContext, confirmedSeq: number): Promise<PassResult> {
  const stats = emptyStats();
  let seq = confirmedSeq;
  while (stats.pages < ctx.budget.maxPages && ctx.now() < ctx.budget.deadline) {
    const page = await readOutboxPage(ctx.db, ctx.entity, seq, ctx.pageSize);
    if (page.lastSeq === null) return { caughtUp: true, stats };
    stats.pages += 1;
    stats.rowsRead += page.changes.length;
    await pushChanges(ctx, stats, page.changes);
    seq = page.lastSeq;
    ctx.save(seq);
    if (page.entries < ctx.pageSize) return { caughtUp: true, stats };
  }
  return { caughtUp: false, stats };
}

async function pushChanges(ctx: PushContext, stats: RunStats, changes: readonly OutboxChange[]): Promise<void> {
  const { entity, sink } = ctx;
  const upserts: { id: string; ts: string; row: Row }[] = [];
  const deletes: { id: string; ts: string }[] = [];
  for (const change of changes) {
    if (change.row === null) {
      deletes.push({ id: change.id, ts: change.changedAt });
      continue;
    }
    const checked = toSourceRow(entity, change.row);
    if (!checked.ok) {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: change.id, direction: 'push', reason: checked.reason, payload: change.row });
      continue;
    }
    upserts.push({ id: change.id, ts: String(checked.row[entity.cursorColumn]), row: checked.row });
  }
  if (upserts.length + deletes.length === 0) return;

  const versions = await ctx.supabase.readVersions(entity, [...upserts.map((u) => u.id), ...deletes.map((d) => d.id)]);
  const replicaTs = (id: string): string | null => {
    const v = versions.get(id);
    return v === undefined ? null : canonicalTimestamp(v);
  };

  const toUpsert: { id: string; row: Row }[] = [];
  for (const u of upserts) {
    const decision = decidePush(u.id, 'upsert', u.ts, replicaTs(u.id), entity.conflictPolicy);
    if (decision.conflict) {
      stats.conflicts += 1;
      sink.conflict(decision.conflict);
    }
    if (decision.send) toUpsert.push(u);
    else stats.rowsSkipped += 1;
  }
  const toDelete: string[] = [];
  const goneAlready: string[] = [];
  for (const d of deletes) {
    const decision = decidePush(d.id, 'delete', d.ts, replicaTs(d.id), entity.conflictPolicy);
    if (decision.conflict) {
      stats.conflicts += 1;
      sink.conflict(decision.conflict);
    }
    if (decision.send) toDelete.push(d.id);
    else if (decision.conflict) stats.rowsSkipped += 1;
    else goneAlready.push(d.id); // neither side has the row: nothing left to push
  }

  const accepted = await sendIsolating(ctx, stats, toUpsert, (rows) => ctx.supabase.upsert(entity, rows.map((r) => r.row)));
  stats.rowsApplied += accepted.length;
  const deleted = await sendIsolating(ctx, stats, toDelete.map((id) => ({ id, row: null })), (rows) =>
    ctx.supabase.delete(entity, rows.map((r) => r.id)),
  );
  stats.rowsDeleted += deleted.length;
  sink.release('push', [...accepted, ...deleted, ...goneAlready]);
}

/**
 * Sends a batch; when Supabase rejects the data itself (constraint, bad value), splits it in
 * halves until the offending rows are alone, quarantines them with Supabase's error and sends
 * the rest. Returns the ids Supabase accepted. Transient and fatal errors propagate.
 */
async function sendIsolating<T extends { id: string; row: Row | null }>(
  ctx: PushContext,
  stats: RunStats,
  batch: readonly T[],
  send: (rows: readonly T[]) => Promise<void>,
): Promise<string[]> {
  if (batch.length === 0) return [];
  try {
    await send(batch);
    return batch.map((b) => b.id);
  } catch (error) {
    if (!(error instanceof SupabaseError) || error.kind !== 'rejected') throw error;
    if (batch.length === 1) {
      const only = batch[0];
      if (only) {
        stats.rowsQuarantined += 1;
        ctx.sink.quarantine({ rowId: only.id, direction: 'push', reason: error.message, payload: only.row });
      }
      return [];
    }
    const mid = Math.ceil(batch.length / 2);
    const left = await sendIsolating(ctx, stats, batch.slice(0, mid), send);
    const right = await sendIsolating(ctx, stats, batch.slice(mid), send);
    return [...left, ...right];
  }
}
