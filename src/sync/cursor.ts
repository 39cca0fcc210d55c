/**
 * Keyset cursor math for pull: a position in the source ordered by (updated_at, id).
 * Both parts are kept as the exact strings PostgREST returned.
 */
import type { Cursor } from '../types.ts';

/**
 * The cursor that may be committed after reading `rows` (in source order, each with its
 * canonical timestamp) in a cycle whose `horizon` is the cycle's start − safety lag:
 * the last row at or before the horizon. Rows newer than the horizon may still have
 * concurrent, not-yet-committed neighbours behind them, so they are read again next cycle.
 */
export function safeCursorAfterPage(
  committed: Cursor | null,
  rows: readonly { cursor: Cursor; canonicalTs: string }[],
  horizon: string,
): Cursor | null {
  let safe = committed;
  for (const row of rows) {
    if (row.canonicalTs > horizon) break;
    safe = row.cursor;
  }
  return safe;
}
