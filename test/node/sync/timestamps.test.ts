import { describe, expect, it } from 'vitest';
import { canonicalFromMillis, canonicalTimestamp, InvalidTimestampError, millisFromCanonical } from '../../../src/sync/timestamps.ts';

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

describe('millisecond conversions', () => {
  it('round-trips the engine clock', () => {
    const ms = Date.UTC(2026, 10, 29, 6, 29, 16, 123);
    expect(canonicalFromMillis(ms)).toBe('2026-11-29T06:29:16.123000Z');
    expect(millisFromCanonical(canonicalFromMillis(ms))).toBe(ms);
  });
});
