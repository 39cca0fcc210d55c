import { describe, expect, it } from 'vitest';
import {
  canonicalFromMillis,
  canonicalTimestamp,
  InvalidTimestampError,
  millisFromCanonical,
  parseTimestamp,
} from '../../../src/timestamps.ts';

describe('canonicalTimestamp', () => {
  it('keeps microseconds and pads to six digits', () => {
    expect(canonicalTimestamp('2026-11-29T06:29:16.123456+00:00')).toBe('2026-11-29T06:29:16.123456Z');
    expect(canonicalTimestamp('2026-11-29T06:29:16.12+00:00')).toBe('2026-11-29T06:29:16.120000Z');
    expect(canonicalTimestamp('2026-11-29T06:29:16+00:00')).toBe('2026-11-29T06:29:16.000000Z');
  });

  it('converts offsets to UTC, across midnight and month ends', () => {
    expect(canonicalTimestamp('2026-03-01T01:30:00.000001+02:00')).toBe('2026-02-28T23:30:00.000001Z');
    expect(canonicalTimestamp('2026-12-31T23:00:00.5-05:30')).toBe('2027-01-01T04:30:00.500000Z');
    expect(canonicalTimestamp('2026-11-29 06:29:16.1+0100')).toBe('2026-11-29T05:29:16.100000Z');
  });

  it('reads Z, a space separator, and no offset as UTC', () => {
    expect(canonicalTimestamp('2026-11-29T06:29:16.000001Z')).toBe('2026-11-29T06:29:16.000001Z');
    expect(canonicalTimestamp('2026-11-29 06:29:16')).toBe('2026-11-29T06:29:16.000000Z');
  });

  it('truncates beyond microseconds rather than rounding into the next second', () => {
    expect(canonicalTimestamp('2026-11-29T06:29:59.9999999Z')).toBe('2026-11-29T06:29:59.999999Z');
  });

  it('orders as text exactly as the times order', () => {
    const times = [
      '2026-11-29T06:29:16.000002+00:00',
      '2026-11-29T06:29:16.000001+00:00',
      '2026-11-29T07:29:16.000001+01:00', // same instant as the one above
      '2026-11-29T06:29:15.999999+00:00',
    ].map(canonicalTimestamp);
    expect([...times].sort()).toEqual([times[3], times[1], times[2], times[0]]);
    expect(times[1]).toBe(times[2]);
  });

  it('rejects what is not a timestamp, naming the value', () => {
    expect(() => canonicalTimestamp('yesterday')).toThrow(InvalidTimestampError);
    expect(() => canonicalTimestamp('2026-02-30T00:00:00Z')).toThrow(/not a valid date/);
    expect(() => canonicalTimestamp('2026-11-29T25:00:00Z')).toThrow(InvalidTimestampError);
  });
});

describe('the fast path for UTC timestamps', () => {
  /** The general parser's verdict: the canonical text, or the error's message. */
  const verdict = (parse: (v: string) => string, v: string): string => {
    try {
      return parse(v);
    } catch (e) {
      return `invalid: ${(e as Error).message}`;
    }
  };
  // A small deterministic generator (no Math.random: a failure must reproduce).
  let seed = 42;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[next(xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  };

  it('agrees with the general parser on 20,000 timestamps near and past every boundary', () => {
    const zones = ['', 'Z', 'z', '+00', '-00', '+00:00', '-00:00', '+0000', '-0000', '+01', '-05:30', '+14:00', '+0', 'UTC', ' '];
    const fractions = ['', '.', '.1', '.12', '.123456', '.1234567', '.123456789', '.1234567890', '.000000', '.5x'];
    for (let i = 0; i < 20_000; i++) {
      const year = pick([0, 99, 999, 1000, 1900, 1970, 2000, 2024, 2026, 2100, 9999]);
      const month = next(14); // 0 and 13 are out of range
      const day = next(33);
      const hour = next(26);
      const minute = next(62);
      const second = next(62);
      const sep = pick(['T', ' ', 't', '_']);
      const v = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${sep}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${pick(fractions)}${pick(zones)}`;
      expect(verdict(canonicalTimestamp, v), v).toBe(verdict(parseTimestamp, v));
    }
  });

  it('agrees on leap days, month ends and what Postgres writes', () => {
    for (const v of [
      '2024-02-29T23:59:59.999999+00:00',
      '2023-02-29T00:00:00+00:00',
      '2000-02-29 12:00:00+00',
      '1900-02-29 12:00:00+00',
      '2026-04-31T00:00:00Z',
      '2026-12-31T23:59:59.9+00:00',
      '2026-11-30 05:00:00+00',
      '2026-11-30T05:00:00.1234+00:00',
      ' 2026-11-30T05:00:00Z',
      '2026-11-30T05:00:00Z ',
      '2026-11-30T05:00',
      '2026-11-30',
      'infinity',
      '-infinity',
      '',
    ]) {
      expect(verdict(canonicalTimestamp, v), v).toBe(verdict(parseTimestamp, v));
    }
    expect(canonicalTimestamp('2026-11-30T05:00:00.1234+00:00')).toBe('2026-11-30T05:00:00.123400Z');
  });
});

describe('millisecond conversions', () => {
  it('round-trips the engine clock', () => {
    const ms = Date.UTC(2026, 10, 29, 6, 29, 16, 123);
    expect(canonicalFromMillis(ms)).toBe('2026-11-29T06:29:16.123000Z');
    expect(millisFromCanonical(canonicalFromMillis(ms))).toBe(ms);
  });
});
