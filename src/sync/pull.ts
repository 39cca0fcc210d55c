/**
 * The pull pass: Supabase → D1 for one entity, page by page along the (updated_at, id)
 * keyset, then tombstones along theirs. Each page is one Supabase request (sync_pull_page: the
 * rows, and the tombstones once the rows end, so a quiet cycle is one request) and one fenced
 * D1 batch; the next page is read while one is applied. The position is saved only after the
 * D1 write succeeded.
 *
 * The commit horizon (now − safety lag) is taken once per cycle, when a cycle starts from the
 * committed cursors, and kept with the position until the cycle reaches the end, across runs:
 * a cycle spread over several runs (a failure, a backlog) never commits past a frontier that
 * went by while older transactions were still open.
 */
import type { EntityDefinition, Row } from '../entities.ts';
import type { PassD1, Tombstone } from '../stores/d1-contract.ts';
import type { PullPage, PullRead, SupabaseStore } from '../stores/supabase.ts';
import { safeCursorAfterPage } from './cursor.ts';
import { toD1Row, type RowCheck } from './rows.ts';
import type { Budget, PassResult, PassSink, PullPosition, RunLease } from './run.ts';
import { emptyStats } from './run.ts';
import { canonicalFromMillis, cursorTimestamp, millisFromCanonical } from '../timestamps.ts';
import type { Cursor, PullLag, RunStats } from '../types.ts';

/** What the pull pass needs from its surroundings. */
export interface PullContext {
  entity: EntityDefinition;
  supabase: SupabaseStore;
  d1: PassD1;
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

/** A page as read, and each of its rows checked against the registry, in order. */
interface CheckedPage extends PullPage {
  checks: RowCheck[];
  /** The rows' keyset positions (null when rows were not read). */
  rowKeys: KeyedPage | null;
}

/**
 * Runs one pull pass from `start`; returns whether it reached the end of the source. Each
 * request reads a page of rows and, once they end, the tombstones with them; the next page is
 * read while the current one is applied to D1, so Supabase and D1 work side by side.
 */
export async function runPull(ctx: PullContext, start: PullPosition): Promise<PassResult> {
  const stats = emptyStats();
  const fence = { entity: ctx.entity.name, epoch: ctx.lease.epoch };
  const newCycle = !start.continuing;
  const cycleHorizon = newCycle || start.horizon === null ? canonicalFromMillis(ctx.now() - ctx.safetyLagMs) : start.horizon;
  let position: PullPosition = newCycle
    ? { ...start, frontier: start.cursor, tombstoneFrontier: start.tombstoneCursor, horizon: cycleHorizon, rowsDone: false }
    : { ...start, horizon: cycleHorizon };
  // A cycle whose rows were all read in an earlier run goes on with its tombstones: re-reading
  // the last row page first would spend a one-page budget on it every time and never get there.
  let rowsDone = position.rowsDone === true;
  let tombstonesDone = !ctx.entity.tombstones;

  const withinBudget = (): boolean => stats.pages < ctx.budget.maxPages && ctx.now() < ctx.budget.deadline;
  /** Sends the next read; its rows are checked as soon as it arrives (while the previous page is applied). */
  const send = (rowsAfter: Cursor | null, tombstonesAfter: Cursor | null): Promise<CheckedPage> => {
    const read: PullRead = {
      ...(rowsDone ? {} : { rows: { after: rowsAfter } }),
      ...(tombstonesDone ? {} : { tombstones: { after: tombstonesAfter } }),
      limit: ctx.pageSize,
    };
    const answer = ctx.supabase.readPull(ctx.entity, read).then((page): CheckedPage => ({
      ...page,
      checks: page.rows.map((raw) => toD1Row(ctx.entity, raw)),
      rowKeys: read.rows
        ? keyPage(page.rows.map((raw) => ({ ts: String(raw[ctx.entity.cursorColumn]), id: String(raw[ctx.entity.key]) })))
        : null,
    }));
    answer.catch(() => undefined); // awaited below; a page dropped after a failed apply must not go unhandled
    return answer;
  };

  let lag: PullLag | null = null;
  let next: Promise<CheckedPage> | null = withinBudget() ? send(position.frontier, position.tombstoneFrontier) : null;
  while (next !== null) {
    const page = await next;
    stats.pages += 1;
    stats.rowsRead += page.rows.length + (page.tombstones?.length ?? 0);

    // Where this page leaves both keysets, worked out before the apply so the next read overlaps it.
    const rowKeys = page.rowKeys;
    const tombstoneKeys = page.tombstones ? keyPage(page.tombstones.map((t) => ({ ts: t.deleted_at, id: String(t.id) }))) : null;
    const rowFrontier = rowKeys?.keyed.at(-1)?.cursor ?? position.frontier;
    const tombstoneFrontier = tombstoneKeys?.keyed.at(-1)?.cursor ?? position.tombstoneFrontier;
    if (rowKeys && (rowKeys.end || page.rows.length < ctx.pageSize)) rowsDone = true;
    if (tombstoneKeys && (tombstoneKeys.end || (page.tombstones?.length ?? 0) < ctx.pageSize)) tombstonesDone = true;
    next = !(rowsDone && tombstonesDone) && withinBudget() ? send(rowFrontier, tombstoneFrontier) : null;

    const tombstones: Tombstone[] = (tombstoneKeys?.keyed ?? [])
      .map((k, i) => ({ id: String(page.tombstones?.[i]?.row_id).toLowerCase(), deletedAt: k.canonicalTs }))
      .filter((t) => t.deletedAt !== '');
    const newest = await applyPage(ctx, stats, page, tombstones, fence);
    if (newest !== null && (lag === null || newest > lag.newestAppliedAt)) {
      lag = { newestAppliedAt: newest, lagMs: Math.max(0, ctx.now() - millisFromCanonical(newest)) };
    }
    position = {
      ...position,
      cursor: rowKeys ? safeCursorAfterPage(position.cursor, rowKeys.keyed, cycleHorizon) : position.cursor,
      frontier: rowFrontier,
      tombstoneCursor: tombstoneKeys
        ? safeCursorAfterPage(position.tombstoneCursor, tombstoneKeys.keyed, cycleHorizon)
        : position.tombstoneCursor,
      tombstoneFrontier,
      continuing: true,
      rowsDone,
    };
    // Checked and renewed once per page, with the save: both go into one storage commit.
    ctx.lease.renew();
    ctx.save(position);
  }

  const caughtUp = rowsDone && tombstonesDone;
  // A finished cycle starts the next one from the committed cursors with a new horizon,
  // re-reading the lag window.
  position = caughtUp ? { ...position, continuing: false, horizon: null, rowsDone: false } : position;
  ctx.save(position);
  return { caughtUp, stats, lag };
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

/**
 * Validates a page's rows, quarantines what does not fit, applies the rest and the tombstones in
 * one D1 batch. Returns the newest updated_at among the rows the apply wrote (the freshness the
 * run reports), or null when it wrote none.
 */
async function applyPage(
  ctx: PullContext,
  stats: RunStats,
  page: CheckedPage,
  tombstones: readonly Tombstone[],
  fence: { entity: string; epoch: number },
): Promise<string | null> {
  const { entity, sink } = ctx;
  const valid: Row[] = [];
  for (const [i, checked] of page.checks.entries()) {
    if (checked.ok) {
      valid.push(checked.row);
    } else {
      stats.rowsQuarantined += 1;
      sink.quarantine({ rowId: checked.id, direction: 'pull', reason: checked.reason, payload: page.rows[i] });
    }
  }
  const result = await ctx.d1.applyPulled(entity, valid, fence, tombstones);
  stats.rowsApplied += result.applied;
  stats.rowsSkipped += valid.length - result.applied;
  stats.rowsDeleted += result.deleted;
  stats.conflicts += result.conflicts.length;
  for (const c of result.conflicts) {
    sink.conflict({
      rowId: c.id,
      direction: 'pull',
      winner: 'd1',
      supabaseUpdatedAt: c.supabaseTs,
      d1UpdatedAt: c.d1Ts,
      reason: 'last-write-wins: the D1 row was written later than the Supabase version',
    });
  }
  if (valid.length > 0)
    sink.release(
      'pull',
      valid.map((r) => String(r[entity.key])),
    );
  return result.newestApplied;
}
