/**
 * The pull pass: Supabase → D1 for one entity, page by page along the (updated_at, id)
 * keyset, then tombstones the same way. Each page is one Supabase request and one fenced D1
 * batch; the position is saved only after the D1 write succeeded.
 *
 * The commit horizon (now − safety lag) is taken once per cycle, when a cycle starts from the
 * committed cursors, and kept with the position until the cycle reaches the end, across runs:
 * a cycle spread over several runs (a failure, a backlog) never commits past a frontier that
 * went by while older transactions were still open.
 */
import type { EntityDefinition } from '../entities.ts';
import { applyPulledRows, applyTombstones, type Tombstone } from '../stores/d1.ts';
import type { SupabaseStore } from '../stores/supabase.ts';
import { safeCursorAfterPage, type Cursor } from './cursor.ts';
import { toReplicaRow, type Row } from './rows.ts';
import type { Budget, PassResult, PassSink, PullPosition, RunLease, RunStats } from './run.ts';
import { emptyStats } from './run.ts';
import { canonicalFromMillis, cursorTimestamp } from './timestamps.ts';

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
  lease: RunLease;
  /** Persists the position; called after each page's D1 write. */
  save: (position: PullPosition) => void;
}

interface Keyed {
  cursor: Cursor;
  canonicalTs: string;
}

/** Keys of a page in source order, up to the first row the keyset cannot pass. */
interface KeyedPage {
  keyed: Keyed[];
  /** A row sorted after every representable time (`infinity`): nothing finite follows it. */
  end: boolean;
}

/** Runs one pull pass from `start`; returns whether it reached the end of the source. */
export async function runPull(ctx: PullContext, start: PullPosition): Promise<PassResult> {
  const stats = emptyStats();
  const fence = { entity: ctx.entity.name, epoch: ctx.lease.epoch };
  const newCycle = !start.continuing;
  const cycleHorizon = newCycle || start.horizon === null ? canonicalFromMillis(ctx.now() - ctx.safetyLagMs) : start.horizon;
  let position: PullPosition = newCycle
    ? { ...start, frontier: start.cursor, tombstoneFrontier: start.tombstoneCursor, horizon: cycleHorizon }
    : { ...start, horizon: cycleHorizon };

  // A cycle whose rows were all read in an earlier run goes on with its tombstones: re-reading
  // the last row page first would spend a one-page budget on it every time and never get there.
  const rowsDone = (!newCycle && start.rowsDone === true) || await drain(ctx, stats, position.frontier, async (after) => {
    ctx.lease.renew();
    const rows = await ctx.supabase.readPage(ctx.entity, after, ctx.pageSize);
    const page = await applyRowsPage(ctx, stats, rows, fence);
    const last = page.keyed.at(-1);
    position = {
      ...position,
      cursor: safeCursorAfterPage(position.cursor, page.keyed, cycleHorizon),
      frontier: last ? last.cursor : position.frontier,
      continuing: true,
    };
    ctx.save(position);
    return { count: rows.length, last: position.frontier, end: page.end };
  });

  position = { ...position, rowsDone };
  let tombstonesDone = !ctx.entity.tombstones;
  if (rowsDone && ctx.entity.tombstones) {
    tombstonesDone = await drain(ctx, stats, position.tombstoneFrontier, async (after) => {
      ctx.lease.renew();
      const rows = await ctx.supabase.readTombstones(ctx.entity, after, ctx.pageSize);
      const page = keyPage(rows.map((t) => ({ ts: t.deleted_at, id: String(t.id) })));
      const tombstones: Tombstone[] = page.keyed.map((k, i) => ({ id: String(rows[i]?.row_id).toLowerCase(), deletedAt: k.canonicalTs }))
        .filter((t) => t.deletedAt !== '');
      stats.rowsDeleted += await applyTombstones(ctx.db, ctx.entity, tombstones, fence);
      const last = page.keyed.at(-1);
      position = {
        ...position,
        tombstoneCursor: safeCursorAfterPage(position.tombstoneCursor, page.keyed, cycleHorizon),
        tombstoneFrontier: last ? last.cursor : position.tombstoneFrontier,
        continuing: true,
      };
      ctx.save(position);
      return { count: rows.length, last: position.tombstoneFrontier, end: page.end };
    });
  }

  const caughtUp = rowsDone && tombstonesDone;
  // A finished cycle starts the next one from the committed cursors with a new horizon,
  // re-reading the lag window.
  position = caughtUp ? { ...position, continuing: false, horizon: null, rowsDone: false } : position;
  ctx.save(position);
  return { caughtUp, stats };
}

/** Reads pages until the end of the source or the budget runs out; true when the end was reached. */
async function drain(
  ctx: PullContext,
  stats: RunStats,
  from: Cursor | null,
  page: (after: Cursor | null) => Promise<{ count: number; last: Cursor | null; end: boolean }>,
): Promise<boolean> {
  let after = from;
  while (stats.pages < ctx.budget.maxPages && ctx.now() < ctx.budget.deadline) {
    const { count, last, end } = await page(after);
    stats.pages += 1;
    stats.rowsRead += count;
    if (end || count < ctx.pageSize) return true;
    after = last;
  }
  return false;
}

/**
 * Keys a page for the cursor. A time before every representable one (`-infinity`) sorts first
 * and may be passed; one after them (`infinity`, years past 9999) ends the keyset there, so it
 * never carries the cursor past the rows that will come after it in time.
 */
function keyPage(positions: readonly Cursor[]): KeyedPage {
  const keyed: Keyed[] = [];
  for (const cursor of positions) {
    const ts = cursorTimestamp(cursor.ts);
    if (ts.kind === 'after-all') return { keyed, end: true };
    keyed.push({ cursor, canonicalTs: ts.kind === 'before-all' ? '' : ts.canonical });
  }
  return { keyed, end: false };
}

/** Validates a page, quarantines what does not fit, applies the rest; returns the page's keys. */
async function applyRowsPage(
  ctx: PullContext,
  stats: RunStats,
  rows: readonly Row[],
  fence: { entity: string; epoch: number },
): Promise<KeyedPage> {
  const { entity, sink } = ctx;
  const valid: Row[] = [];
  for (const raw of rows) {
    const checked = toReplicaRow(entity, raw);
    if (checked.ok) {
      valid.push(checked.row);
    } else {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: checked.id, direction: 'pull', reason: checked.reason, payload: raw });
    }
  }
  const result = await applyPulledRows(ctx.db, entity, valid, fence);
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
  return keyPage(rows.map((raw) => ({ ts: String(raw[entity.cursorColumn]), id: String(raw[entity.key]) })));
}
