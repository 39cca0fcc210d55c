/**
 * Conflict decisions for push: given the edge (D1) version of a row and the replica's
 * (Supabase) version time, decide whether the edge version is sent and whether it is a conflict.
 */
import type { ConflictPolicy } from '../entities.ts';
import type { ConflictRecord } from './run.ts';

/** The decision for one row: send it or not, and the conflict to record, if any. */
export interface PushDecision {
  send: boolean;
  conflict: ConflictRecord | null;
}

/**
 * `edgeTs` is the D1 row's updated_at (or the delete time), `replicaTs` Supabase's current
 * updated_at (both canonical), null when Supabase has no such row. The replica changed later
 * than the edge when replicaTs > edgeTs: source-wins overwrites it, last-write-wins keeps it.
 */
export function decidePush(
  rowId: string,
  op: 'upsert' | 'delete',
  edgeTs: string,
  replicaTs: string | null,
  policy: ConflictPolicy,
): PushDecision {
  if (replicaTs === null) return { send: op === 'upsert', conflict: null };
  if (replicaTs <= edgeTs) return { send: true, conflict: null };
  const edgeWins = policy === 'source-wins';
  return {
    send: edgeWins,
    conflict: {
      rowId,
      direction: 'push',
      winner: edgeWins ? 'd1' : 'supabase',
      supabaseUpdatedAt: replicaTs,
      d1UpdatedAt: edgeTs,
      reason: edgeWins
        ? `source-wins: Supabase's copy changed after the D1 ${op}; D1's version overwrites it`
        : `last-write-wins: Supabase's copy changed after the D1 ${op}; Supabase's version is kept`,
    },
  };
}
