/**
 * Keyset cursor math for pull: a position in the source ordered by (updated_at, id).
 * Both parts are kept as the exact strings PostgREST returned.
 */

/** A position in a source ordered by (ts, id): everything at or before it has been read. */
export interface Cursor {
  ts: string;
  id: string;
}

/** Quotes a value for PostgREST's logic-tree syntax (or=/and=), escaping \ and ". */
export function quotePostgrestValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The PostgREST `or` filter that selects rows strictly after `cursor` in (tsColumn, idColumn)
 * order: `tsColumn.gt.T,and(tsColumn.eq.T,idColumn.gt.ID)`.
 */
export function afterCursorFilter(cursor: Cursor, tsColumn: string, idColumn: string): string {
  const ts = quotePostgrestValue(cursor.ts);
  const id = quotePostgrestValue(cursor.id);
  return `${tsColumn}.gt.${ts},and(${tsColumn}.eq.${ts},${idColumn}.gt.${id})`;
}

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
