/** Types shared by the pull and push passes and the coordinator that runs them. */
import type { Cursor, PullLag, RunStats } from '../types.ts';

/** Zeroed counters. */
export function emptyStats(): RunStats {
  return { pages: 0, rowsRead: 0, rowsApplied: 0, rowsDeleted: 0, rowsSkipped: 0, rowsQuarantined: 0, conflicts: 0 };
}

/** A conflict between the two sides' versions of one row, as kept in the history. */
export interface ConflictRecord {
  rowId: string;
  direction: 'pull' | 'push';
  /** Where the version that won lives. */
  winner: 'supabase' | 'd1';
  supabaseUpdatedAt: string | null;
  d1UpdatedAt: string | null;
  reason: string;
}

/** A row set aside because it does not fit, with the reason. */
export interface QuarantineRecord {
  rowId: string;
  direction: 'pull' | 'push';
  reason: string;
  payload: unknown;
}

/** Where each pass has got to; persisted by the coordinator after every page. */
export interface PullPosition {
  /** Committed cursor: everything at or before it is in D1 and can no longer change behind it. */
  cursor: Cursor | null;
  /** Read position of the current cycle; the next run continues here when this one ran out of budget. */
  frontier: Cursor | null;
  tombstoneCursor: Cursor | null;
  tombstoneFrontier: Cursor | null;
  /** Whether the next run continues from the frontiers (true) or re-reads from the cursors. */
  continuing: boolean;
  /** The cycle has read every row and is on its tombstones (a run budget can end between the two). */
  rowsDone?: boolean;
  /**
   * The current cycle's commit horizon (canonical; start of the cycle − safety lag): cursors
   * never pass it until the cycle ends, however many runs it takes. Null between cycles.
   */
  horizon: string | null;
}

/** The pull position before anything has been read. */
export function initialPullPosition(): PullPosition {
  return { cursor: null, frontier: null, tombstoneCursor: null, tombstoneFrontier: null, continuing: false, horizon: null };
}

/** The run's hold on its lease, as the passes see it (src/lease does the bookkeeping). */
export interface RunLease {
  /** The fencing token every write of the run carries. */
  readonly epoch: number;
  /** Checks the lease is still this run's and extends it; throws LeaseLostError when not. Called before every page. */
  renew(): void;
}

/** What a pass reports to the coordinator as it goes. */
export interface PassSink {
  conflict(record: ConflictRecord): void;
  quarantine(record: QuarantineRecord): void;
  /** Rows that applied cleanly leave the quarantine. */
  release(direction: 'pull' | 'push', rowIds: readonly string[]): void;
}

/** Per-run limits that keep one invocation inside Workers' limits. */
export interface Budget {
  maxPages: number;
  /** Epoch ms after which no new page is started. */
  deadline: number;
}

/** How a pass ended: caught up with its source, or stopped with more to do. */
export interface PassResult {
  caughtUp: boolean;
  stats: RunStats;
  /** Pull only: how long the newest change it applied took to reach D1 (null when it applied none). */
  lag?: PullLag | null;
}
