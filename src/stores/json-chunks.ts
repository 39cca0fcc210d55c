/**
 * Splits rows into JSON arrays no larger than a byte budget, for statements that take a page as
 * one bound JSON value: D1 caps a bound value at 2 MB, so a page of large rows is sent as
 * several values (in one batch) instead of failing every time it is retried.
 */

/** The largest JSON value one statement binds; below D1's 2 MB cap with room for the rest. */
export const MAX_BOUND_JSON_BYTES = 1_000_000;

/** One chunk: its rows and their JSON array. */
export interface JsonChunk<T> {
  rows: T[];
  json: string;
}

/** The rows as JSON arrays in order, each within `maxBytes` (UTF-8) unless a single row is larger. */
export function jsonChunks<T>(rows: readonly T[], maxBytes = MAX_BOUND_JSON_BYTES): JsonChunk<T>[] {
  const chunks: JsonChunk<T>[] = [];
  let parts: string[] = [];
  let members: T[] = [];
  let bytes = 2; // the brackets
  const encoder = new TextEncoder();
  const close = (): void => {
    chunks.push({ rows: members, json: `[${parts.join(',')}]` });
    parts = [];
    members = [];
    bytes = 2;
  };
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = encoder.encode(text).length + 1; // and its comma
    if (parts.length > 0 && bytes + size > maxBytes) close();
    parts.push(text);
    members.push(row);
    bytes += size;
  }
  if (parts.length > 0) close();
  return chunks;
}
