/**
 * Conflict records for push: sync_apply_push (supabase/migrations) decides inside Postgres;
 * this turns its answer into the history entry an operator reads.
 */
import type { ConflictRecord } from './run.ts';
import { canonicalTimestamp } from '../timestamps.ts';

/** A conflict as sync_apply_push reports it. */
export interface AppliedConflict {
  id: string;
  op: 'upsert' | 'delete';
  winner: 'supabase' | 'd1';
  /** Supabase's version (or the time of its delete), null when Supabase never had the row. */
  supabase_ts: string | null;
  supabase_deleted: boolean;
  /** The D1 version (or the time of the D1 delete). */
  d1_ts: string;
}

/** The history entry for a push conflict, with a reason that says who won and what follows. */
export function pushConflictRecord(c: AppliedConflict): ConflictRecord {
  const what = c.supabase_deleted ? 'was deleted in Supabase' : "Supabase's copy changed";
  const reason =
    c.winner === 'supabase'
      ? `last-write-wins: the row ${what} after the D1 ${c.op}; Supabase's ${c.supabase_deleted ? 'delete' : 'version'} is kept and D1 takes it`
      : `source-wins: the row ${what} after the D1 ${c.op}; D1's ${c.op === 'delete' ? 'delete' : 'version'} overwrites it`;
  return {
    rowId: c.id,
    direction: 'push',
    winner: c.winner,
    supabaseUpdatedAt: c.supabase_ts === null ? null : canonicalTimestamp(c.supabase_ts),
    d1UpdatedAt: canonicalTimestamp(c.d1_ts),
    reason,
  };
}
