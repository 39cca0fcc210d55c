/**
 * Canonical timestamps: every timestamp stored in D1 is 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
 * (27 characters, UTC, microseconds), so comparing the text compares the time.
 * Conversion is string arithmetic on purpose: a JS Date keeps milliseconds only and
 * would lose Postgres' microseconds.
 */

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Thrown for text that is not a timestamp; its message names the offending value. */
export class InvalidTimestampError extends Error {}

/**
 * Returns the canonical form of a Postgres/ISO timestamp string, or throws
 * InvalidTimestampError. A value without an offset is taken as UTC.
 */
export function canonicalTimestamp(value: string): string {
  return canonicalUtc(value) ?? parseTimestamp(value);
}

/**
 * The general parser behind canonicalTimestamp: any offset, surrounding spaces; throws
 * InvalidTimestampError. Exported so tests can hold the fast path to it.
 */
export function parseTimestamp(value: string): string {
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

const DIGIT_0 = 48;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Offsets that mean UTC; none means UTC too. */
const UTC_ZONES = new Set(['', 'Z', 'z', '+00', '-00', '+00:00', '-00:00', '+0000', '-0000']);

/** Two or four digits at `at` as a number, or -1. */
function digits(value: string, at: number, count: 2 | 4): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = value.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The form Postgres writes a timestamptz in a UTC session ('2026-11-30 05:00:00.123456+00',
 * PostgREST: '2026-11-30T05:00:00.123456+00:00', trailing zeros of the fraction dropped),
 * canonicalised by reading characters: no regex, no Date. Pulls canonicalise two timestamps a
 * row, and the general parser cost about 6 µs each, a fifth of a pull's time. Anything else
 * (another offset, a year before 1000, spaces) returns null for parseTimestamp to decide.
 */
function canonicalUtc(value: string): string | null {
  const n = value.length;
  if (n < 20 || n > 35) return null;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  const sep = value[10];
  if (value[4] !== '-' || value[7] !== '-' || (sep !== 'T' && sep !== ' ') || value[13] !== ':' || value[16] !== ':') return null;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
    return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0))) return null;
  let at = 19;
  let micros = '000000';
  if (value[at] === '.') {
    const start = ++at;
    while (at < n && value.charCodeAt(at) >= DIGIT_0 && value.charCodeAt(at) <= DIGIT_0 + 9) at++;
    const count = at - start;
    if (count === 0 || count > 9) return null;
    micros = count >= 6 ? value.slice(start, start + 6) : value.slice(start, at) + '000000'.slice(count);
  }
  if (!UTC_ZONES.has(value.slice(at))) return null;
  return `${value.slice(0, 10)}T${value.slice(11, 19)}.${micros}Z`;
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
