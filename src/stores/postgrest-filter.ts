/** PostgREST filter syntax for the keyset: the text of an `or=` that reads after a cursor. */
import type { Cursor } from '../types.ts';

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
