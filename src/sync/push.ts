/**
 * The push pass: D1 → Supabase for one entity, from the outbox that D1 triggers fill.
 * Per page: one fenced D1 batch (prune confirmed + read the next page joined with current
 * rows) and one Supabase request, sync_apply_push, which decides and writes the whole page in
 * one Postgres transaction (versions, tombstones, policy) and answers with the conflicts, the
 * rows it refused, and the versions of Supabase's that won. Those winners go back to D1 in one
 * more fenced batch, so both sides hold the winner without waiting for a pull.
 * The cursor (outbox seq) moves only after Supabase accepted the page, so a crash re-sends;
 * re-sending a version Supabase already has changes nothing.
 */
import { type EntityDefinition, columnNames, type Row } from '../entities.ts';
import type { Fence, OutboxChange, PassD1 } from '../stores/d1-contract.ts';
import type { PushApplyResult, PushChange, SupabaseStore } from '../stores/supabase.ts';
import { pushConflictRecord } from './conflicts.ts';
import { isCanonicalKey, toD1Row, toSupabaseRow } from './rows.ts';
import type { Budget, PassResult, PassSink, RunLease } from './run.ts';
import { emptyStats } from './run.ts';
import { canonicalTimestamp } from '../timestamps.ts';
import type { RunStats } from '../types.ts';

/** What the push pass needs from its surroundings. */
export interface PushContext {
  entity: EntityDefinition;
  supabase: SupabaseStore;
  d1: PassD1;
  pageSize: number;
  budget: Budget;
  now: () => number;
  sink: PassSink;
  lease: RunLease;
  /** Persists the confirmed outbox sequence; called after each page Supabase accepted. */
  save: (confirmedSeq: number) => void;
  /** Which of these rows an integrity fix set aside: their upserts are not sent (deletes are). */
  held?: (ids: readonly string[]) => ReadonlySet<string>;
}

/** Runs one push pass after `confirmedSeq`; returns whether the outbox was drained. */
export async function runPush(ctx: PushContext, confirmedSeq: number): Promise<PassResult> {
  const stats = emptyStats();
  const fence: Fence = { entity: ctx.entity.name, epoch: ctx.lease.epoch };
  let seq = confirmedSeq;
  while (stats.pages < ctx.budget.maxPages && ctx.now() < ctx.budget.deadline) {
    ctx.lease.renew();
    const page = await ctx.d1.readOutbox(ctx.entity, seq, ctx.pageSize, fence);
    if (page.lastSeq === null) return { caughtUp: true, stats };
    stats.pages += 1;
    stats.rowsRead += page.changes.length;
    await pushPage(ctx, stats, page.changes, fence);
    seq = page.lastSeq;
    ctx.save(seq);
    if (page.entries < ctx.pageSize) return { caughtUp: true, stats };
  }
  return { caughtUp: false, stats };
}

async function pushPage(ctx: PushContext, stats: RunStats, changes: readonly OutboxChange[], fence: Fence): Promise<void> {
  const { entity, sink } = ctx;
  const send: PushChange[] = [];
  const settled: string[] = []; // nothing to send, nothing wrong: leaves the quarantine
  const held = ctx.held?.(changes.filter((c) => c.row !== null).map((c) => c.id)) ?? new Set<string>();
  for (const change of changes) {
    if (change.row !== null && held.has(change.id)) {
      // Held by an integrity fix: released rows are queued again (POST /objects/:entity/held/release).
      stats.rowsSkipped += 1;
      continue;
    }
    if (change.row === null) {
      // A key Supabase cannot hold was never pushed, so its delete has nothing to undo there.
      if (isCanonicalKey(entity, change.id)) send.push({ op: 'delete', id: change.id, ts: canonicalTimestamp(change.changedAt) });
      else settled.push(change.id);
      continue;
    }
    const checked = toSupabaseRow(entity, change.row);
    if (!checked.ok) {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: change.id, direction: 'push', reason: checked.reason, payload: change.row });
      continue;
    }
    send.push({ op: 'upsert', id: change.id, ts: String(checked.row[entity.cursorColumn]), row: checked.row });
  }

  let accepted: string[] = [];
  if (send.length > 0) {
    ctx.lease.renew();
    const result = await ctx.supabase.applyPush(entity, ctx.lease.epoch, send);
    stats.rowsApplied += result.written;
    stats.rowsDeleted += result.deleted;
    stats.rowsSkipped += result.unchanged + result.winners.length;
    stats.conflicts += result.conflicts.length;
    for (const c of result.conflicts) sink.conflict(pushConflictRecord(c));
    const refused = new Set<string>();
    for (const r of result.rejected) {
      const id = r.id ?? '(no id)';
      refused.add(id);
      const change = send.find((c) => c.id === id);
      stats.rowsQuarantined += 1;
      sink.quarantine({
        rowId: id,
        direction: 'push',
        reason: `Supabase refused it: ${r.code}: ${r.message}`,
        payload: change?.op === 'upsert' ? change.row : null,
      });
    }
    await takeWinners(ctx, stats, result.winners, fence);
    accepted = send.filter((c) => !refused.has(c.id)).map((c) => c.id);
  }
  sink.release('push', [...accepted, ...settled]);
}

/** Where Supabase's version won, D1 takes it: the row (last-write-wins guarded) or its deletion. */
async function takeWinners(ctx: PushContext, stats: RunStats, winners: PushApplyResult['winners'], fence: Fence): Promise<void> {
  const { entity, sink } = ctx;
  const rows: Row[] = [];
  const deletions = [];
  const columns = columnNames(entity);
  for (const w of winners) {
    if (w.row === null) {
      if (w.deleted_at !== null) deletions.push({ id: w.id, deletedAt: canonicalTimestamp(w.deleted_at) });
      continue;
    }
    // Supabase may hold columns the registry does not sync.
    const checked = toD1Row(entity, Object.fromEntries(columns.map((c) => [c, w.row?.[c]])));
    if (checked.ok) {
      rows.push(checked.row);
    } else {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: checked.id, direction: 'pull', reason: checked.reason, payload: w.row });
    }
  }
  await ctx.d1.applyPulled(entity, rows, fence, deletions);
}
