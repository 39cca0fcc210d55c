/**
 * The canonical row text and its 64-bit hash, the unit both sides of reconciliation compare.
 *
 * Defined once for both sides; the Postgres twin is sync_private.row_text_sql() in
 * supabase/migrations/20261129000300_reconcile.sql, and the two must stay byte-identical.
 * Per registry column, in registry order, concatenated with no separator:
 *   NULL      → '~'
 *   any other → '<n>:<value>', <value> the column's text in the D1 representation and <n> its
 *               length in UTF-8 bytes, in decimal.
 * Every field starts with '~' or a digit and says where it ends, so NULL, '' ('0:'), the text
 * 'null' ('4:null') and '~' ('1:~') are distinct and no value can move a field boundary.
 * The D1 representation: uuids lower case, timestamps 'YYYY-MM-DDTHH:MM:SS.ffffffZ', booleans
 * 0/1, integers in decimal, dates YYYY-MM-DD, text as is. Here the value is taken as D1 stores
 * it, never re-canonicalised: a D1 value in another form (an upper-case uuid, a short
 * timestamp) is a difference, as it would be for the pull's upsert.
 */
import type { EntityDefinition } from '../entities.ts';
import { md5 } from './md5.ts';

const encoder = new TextEncoder();

/** The text of one D1 value; null for SQL NULL. */
export function d1ValueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  // D1 returns INTEGER as a number; String() is plain decimal below 1e21 (Postgres' int8 max is ~9.2e18).
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    // A BLOB never matches a Postgres value of a registry type: it shows as a difference.
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return `blob:${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  return JSON.stringify(value);
}

/** The canonical row text of a D1 row over the entity's registry columns, in registry order. */
export function canonicalRowText(entity: EntityDefinition, row: Readonly<Record<string, unknown>>): string {
  let text = '';
  for (const column of Object.keys(entity.columns)) {
    const value = d1ValueText(row[column]);
    text += value === null ? '~' : `${encoder.encode(value).length}:${value}`;
  }
  return text;
}

/** The first 64 bits of md5(text) as 16 hex digits: what Postgres' left(md5(text), 16) returns. */
export function rowHash(text: string): string {
  const digest = md5(encoder.encode(text));
  let hex = '';
  for (let i = 0; i < 8; i++) hex += (digest[i] ?? 0).toString(16).padStart(2, '0');
  return hex;
}
