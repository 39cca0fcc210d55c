/**
 * What the sync passes need from D1, and the shapes they exchange with it. The passes take a
 * PassD1 (stores/d1.ts makes the real one over a D1 binding), so a pass can also be driven by
 * another implementation, and this file needs no Workers types.
 */
import type { EntityDefinition, Row } from '../entities.ts';

/** A pulled row that lost to a newer D1 version under last-write-wins. */
export interface ApplyConflict {
  id: string;
  d1Ts: string;
  supabaseTs: string;
}

/** What applying one page did. */
export interface ApplyResult {
  applied: number;
  /** The newest version (canonical updated_at) among the rows the apply wrote; null when it wrote none. */
  newestApplied: string | null;
  conflicts: ApplyConflict[];
  /** Rows the page's tombstones deleted. */
  deleted: number;
}

/** A pulled delete: the row id and when Supabase deleted it (canonical). */
export interface Tombstone {
  id: string;
  deletedAt: string;
}

/** The lease epoch a run's writes carry (see src/lease): D1 refuses them once a newer one wrote. */
export interface Fence {
  entity: string;
  epoch: number;
}

/** One row's pending change from the outbox: its current D1 row, or null when deleted. */
export interface OutboxChange {
  id: string;
  changedAt: string;
  row: Row | null;
}

/** A page of the outbox, collapsed per row. */
export interface OutboxPage {
  /** Highest sequence number in the page; the push cursor moves here once it is sent. */
  lastSeq: number | null;
  entries: number;
  changes: OutboxChange[];
}

/** D1 as the pull and push passes use it: each call is one fenced batch (one round trip). */
export interface PassD1 {
  /** Applies Supabase's rows, then its deletes (see applyPulledRows). */
  applyPulled(entity: EntityDefinition, rows: readonly Row[], fence: Fence, tombstones?: readonly Tombstone[]): Promise<ApplyResult>;
  /** Prunes the confirmed outbox entries and reads the next page (see readOutboxPage). */
  readOutbox(entity: EntityDefinition, confirmedSeq: number, limit: number, fence: Fence): Promise<OutboxPage>;
}
