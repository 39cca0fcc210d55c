/**
 * The pull pass: Supabase → D1 for one entity, page by page along the (updated_at, id)
 * keyset, then tombstones the same way. Each page is one Supabase request and one D1 batch;
 * the position is saved only after the D1 write succeeded.
 */
import type { EntityDefinition } from '../entities.ts';
import { applyPulledRows, applyTombstones, type Tombstone } from '../stores/d1.ts';
import type { SupabaseStore } from '../stores/supabase.ts';
import { safeCursorAfterPage, type Cursor } from './cursor.ts';
import { toReplicaRow, type Row } from './rows.ts';
import type { Budget, PassResult, PassSink, PullPosition, RunStats } from './run.ts';
import { emptyStats } from './run.ts';
import { canonicalFromMillis, canonicalTimestamp } from './timestamps.ts';

/** What the pull pass needs from its surroundings. */
export interface PullContext {
  entity: EntityDefinition;
  supabase: SupabaseStore;
  db: D1Database;
  pageSize: number;
  safetyLagMs: number;
  budget: Budget;
  now: () => number;
  sink: PassSink;
  /** Persists the position; called after each page's D1 write. */
  save: (position: PullPosition) => void;
}

interface Keyed {
  cursor: Cursor;
  canonicalTs: string;
}

/** Runs one pull pass from `start`; returns whether it reached the end of the source. */
export async function runPull(ctx: PullContext, start: PullPosition): Promise<PassResult> {
  const stats = emptyStats();
  let position: PullPosition = start.continuing
    ? { ...start }
    : { ...start, frontier: start.cursor, tombstoneFrontier: start.tombstoneCursor };

  const rowsDone = await drain(ctx, stats, position.frontier, async (after, horizon) => {
    const rows = await ctx.supabase.readPage(ctx.entity, after, ctx.pageSize);
    const keyed = await applyRowsPage(ctx, stats, rows);
    const last = keyed.at(-1);
    position = {
      ...position,
      cursor: safeCursorAfterPage(position.cursor, keyed, horizon),
      frontier: last ? last.cursor : position.frontier,
      continuing: true,
    };
    ctx.save(position);
    return { count: rows.length, last: position.frontier };
  });

  let tombstonesDone = !ctx.entity.tombstones;
  if (rowsDone && ctx.entity.tombstones) {
    tombstonesDone = await drain(ctx, stats, position.tombstoneFrontier, async (after, horizon) => {
      const rows = await ctx.supabase.readTombstones(ctx.entity, after, ctx.pageSize);
      const keyed: Keyed[] = rows.map((t) => ({
        cursor: { ts: t.deleted_at, id: String(t.id) },
        canonicalTs: canonicalTimestamp(t.deleted_at),
      }));
      const tombstones: Tombstone[] = rows.map((t, i) => ({ id: t.row_id, deletedAt: keyed[i]?.canonicalTs ?? '' }));
      stats.rowsDeleted += await applyTombstones(ctx.db, ctx.entity, tombstones);
      const last = keyed.at(-1);
      position = {
        ...position,
        tombstoneCursor: safeCursorAfterPage(position.tombstoneCursor, keyed, horizon),
        tombstoneFrontier: last ? last.cursor : position.tombstoneFrontier,
        continuing: true,
      };
      ctx.save(position);
      return { count: rows.length, last: position.tombstoneFrontier };
    });
  }

  const caughtUp = rowsDone && tombstonesDone;
  // A finished cycle starts the next one from the committed cursors, re-reading the lag window.
  position = { ...position, continuing: !caughtUp };
  ctx.save(position);
  return { caughtUp, stats };
}

/** Reads pages until a short page (the end) or the budget runs out; true when the end was reached. */
async function drain(
  ctx: PullContext,
  stats: RunStats,
  from: Cursor | null,
  page: (after: Cursor | null, horizon: string) => Promise<{ count: number; last: Cursor | null }>,
): Promise<boolean> {
  let after = from;
  while (stats.pages < ctx.budget.maxPages && ctx.now() < ctx.budget.deadline) {
    // The horizon is taken before the request: rows newer than it may have uncommitted peers.
    const horizon = canonicalFromMillis(ctx.now() - ctx.safetyLagMs);
    const { count, last } = await page(after, horizon);
    stats.pages += 1;
    stats.rowsRead += count;
    if (count < ctx.pageSize) return true;
    after = last;
  }
  return false;
}

/** Validates a page, quarantines what does not fit, applies the rest; returns the rows' keys in order. */
async function applyRowsPage(ctx: PullContext, stats: RunStats, rows: readonly Row[]): Promise<Keyed[]> {
  const { entity, sink } = ctx;
  const valid: Row[] = [];
  const keyed: Keyed[] = [];
  for (const raw of rows) {
    const ts = String(raw[entity.cursorColumn]);
    keyed.push({ cursor: { ts, id: String(raw[entity.key]) }, canonicalTs: safeCanonical(ts) });
    const checked = toReplicaRow(entity, raw);
    if (checked.ok) {
      valid.push(checked.row);
    } else {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: checked.id, direction: 'pull', reason: checked.reason, payload: raw });
    }
  }
  const result = await applyPulledRows(ctx.db, entity, valid);
  stats.rowsApplied += result.applied;
  stats.rowsSkipped += valid.length - result.applied;
  stats.conflicts += result.conflicts.length;
  for (const c of result.conflicts) {
    sink.conflict({
      rowId: c.id,
      direction: 'pull',
      winner: 'd1',
      supabaseUpdatedAt: c.incomingTs,
      d1UpdatedAt: c.replicaTs,
      reason: 'last-write-wins: the D1 row was written later than the Supabase version',
    });
  }
  sink.release('pull', valid.map((r) => String(r[entity.key])));
  return keyed;
}

/** The canonical form of a cursor timestamp; an unreadable one sorts first so it never holds the cursor back. */
function safeCanonical(ts: string): string {
  try {
    return canonicalTimestamp(ts);
  } catch {
    return '';
  }
}
