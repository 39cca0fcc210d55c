/**
 * Splits rows into JSON arrays no larger than a byte budget, for statements that take a page as
 * one bound JSON value: D1 caps a bound value at 2 MB, so a page of large rows is sent as
 * several values (in one batch) instead of failing every time it is retried.
 */

/** The largest JSON value one statement binds; below D1's 2 MB cap with room for the rest. */
export const MAX_BOUND_JSON_BYTES = 1_000_000;

/** The rows as JSON arrays in order, each within `maxBytes` (UTF-8) unless a single row is larger. */
export function jsonChunks(rows: readonly unknown[], maxBytes = MAX_BOUND_JSON_BYTES): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let bytes = 2; // the brackets
  const encoder = new TextEncoder();
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = encoder.encode(text).length + 1; // and its comma
    if (parts.length > 0 && bytes + size > maxBytes) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(text);
    bytes += size;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}
