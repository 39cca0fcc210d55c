/**
 * The cursor a reset may move an entity to, checked before anything is stored: a pull run
 * sends the stored cursor to Supabase on every page, so a value Postgres cannot read would
 * make every later run fail. Pure: no I/O, the same answer for the same input.
 */
import type { EntityDefinition } from '../entities.ts';
import { canonicalTimestamp, InvalidTimestampError } from '../timestamps.ts';
import type { Cursor } from '../types.ts';

/** One reason a cursor was refused, in the API's `details` shape. */
export interface CursorIssue {
  path: string;
  message: string;
}

/** A cursor as a request gives it: the timestamp under `ts` (status' shape) or `updated_at`. */
export interface CursorInput {
  ts?: string | undefined;
  updated_at?: string | undefined;
  id: string;
}

export type CursorCheck = { ok: true; cursor: Cursor } | { ok: false; issues: CursorIssue[] };

/** What canonicalTimestamp must produce for a storable cursor: four-digit UTC years only. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** A trailing UTC offset as canonicalTimestamp reads it: ±HH, ±HHMM or ±HH:MM. */
const OFFSET = /([+-])(\d{2})(?::?(\d{2}))?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks a cursor against the entity and returns it in stored form: the timestamp canonical
 * (UTC, microseconds), the id as given. Refuses a timestamp canonicalTimestamp does not accept
 * or whose UTC year leaves 0000–9999, an offset Postgres would refuse (beyond ±15:59), and, when
 * the entity's key is a uuid, any id that is not a lower-case canonical uuid (Postgres returns
 * them lower-case; the keyset comparison is on that text).
 */
export function checkResetCursor(input: CursorInput, entity: EntityDefinition): CursorCheck {
  const issues: CursorIssue[] = [];
  const tsField = input.ts !== undefined ? 'ts' : 'updated_at';
  const rawTs = input.ts ?? input.updated_at ?? '';
  const ts = canonicalOrIssue(rawTs);
  if (typeof ts !== 'string') issues.push({ path: `cursor.${tsField}`, message: ts.message });

  const keyType = entity.columns[entity.key]?.type;
  if (keyType === 'uuid' && !UUID.test(input.id)) {
    issues.push({
      path: 'cursor.id',
      message: UUID.test(input.id.toLowerCase())
        ? `${entity.name}.${entity.key} is a uuid and must be given in lower case, as Postgres returns it: ${JSON.stringify(input.id.toLowerCase())}`
        : `${entity.name}.${entity.key} is a uuid; expected a canonical lower-case uuid (8-4-4-4-12 hex digits), got ${JSON.stringify(input.id)}`,
    });
  } else if (input.id.includes('\u0000')) {
    issues.push({ path: 'cursor.id', message: 'the id contains a NUL character, which Postgres text cannot hold' });
  }

  if (issues.length > 0 || typeof ts !== 'string') return { ok: false, issues };
  return { ok: true, cursor: { ts, id: input.id } };
}

function canonicalOrIssue(value: string): string | { message: string } {
  const shown = JSON.stringify(value);
  let canonical: string;
  try {
    canonical = canonicalTimestamp(value);
  } catch (e) {
    if (!(e instanceof InvalidTimestampError)) throw e;
    return { message: `not a timestamp: ${shown}; expected ISO 8601 or Postgres text such as "2026-11-01T00:00:00.000000Z"` };
  }
  const offset = OFFSET.exec(value.trim());
  if (offset && (Number(offset[2]) > 15 || Number(offset[3] ?? 0) > 59)) {
    return { message: `the UTC offset of ${shown} is out of range (at most ±15:59)` };
  }
  if (!CANONICAL.test(canonical)) {
    return { message: `${shown} is outside the years 0000-9999 once converted to UTC` };
  }
  return canonical;
}
