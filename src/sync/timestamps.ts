/**
 * Canonical timestamps: every timestamp stored in D1 is 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
 * (27 characters, UTC, microseconds), so comparing the text compares the time.
 * Conversion is string arithmetic on purpose: a JS Date keeps milliseconds only and
 * would lose Postgres' microseconds.
 */

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Thrown for text that is not a timestamp; its message names the offending value. */
export class InvalidTimestampError extends Error {}

/**
 * Returns the canonical form of a Postgres/ISO timestamp string, or throws
 * InvalidTimestampError. A value without an offset is taken as UTC.
 */
export function canonicalTimestamp(value: string): string {
  const m = TIMESTAMP.exec(value.trim());
  if (!m) throw new InvalidTimestampError(`not a timestamp: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const micros = (frac + '000000').slice(0, 6);
  const offsetMinutes = parseOffsetMinutes(zone);
  // Date.UTC works in whole milliseconds; the sub-second part is carried separately.
  const wallMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(wallMs) || !sameFields(wallMs, y, mo, d, h, mi, s)) {
    throw new InvalidTimestampError(`not a valid date: ${JSON.stringify(value)}`);
  }
  const utc = new Date(wallMs - offsetMinutes * 60_000).toISOString(); // ...SS.000Z
  return `${utc.slice(0, 19)}.${micros}Z`;
}

/** Where a cursor timestamp sorts: a canonical time, or before/after every canonical one. */
export type CursorTimestamp = { kind: 'canonical'; canonical: string } | { kind: 'before-all' } | { kind: 'after-all' };

/**
 * Classifies a timestamp read from Postgres for keyset use. Postgres also has `-infinity`,
 * `infinity`, BC dates and years past 9999, none of which has a canonical form: the first two
 * kinds sort before every canonical time, the others after.
 */
export function cursorTimestamp(value: string): CursorTimestamp {
  try {
    return { kind: 'canonical', canonical: canonicalTimestamp(value) };
  } catch (error) {
    if (!(error instanceof InvalidTimestampError)) throw error;
    const v = value.trim().toLowerCase();
    return v.startsWith('-') || v.endsWith('bc') ? { kind: 'before-all' } : { kind: 'after-all' };
  }
}

/** Canonical form of a millisecond epoch time (the engine's clock). */
export function canonicalFromMillis(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

/** Milliseconds since the epoch of a canonical timestamp (sub-millisecond part dropped). */
export function millisFromCanonical(canonical: string): number {
  return Date.parse(`${canonical.slice(0, 23)}Z`);
}

function parseOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes);
}

function sameFields(ms: number, ...fields: (string | undefined)[]): boolean {
  const iso = new Date(ms).toISOString();
  const [y, mo, d, h, mi, s] = fields;
  return iso.startsWith(`${y}-${mo}-${d}T${h}:${mi}:${s}`);
}
