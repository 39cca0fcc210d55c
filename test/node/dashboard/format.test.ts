import { describe, expect, it } from 'vitest';
import { briefError, duration, plural, relative } from '../../../src/dashboard/client/format.ts';

describe('dashboard text', () => {
  it('says how long ago or how soon', () => {
    const now = Date.parse('2026-01-01T12:00:00.000Z');
    expect(relative('2026-01-01T11:59:58.000Z', now)).toBe('just now');
    expect(relative('2026-01-01T11:59:30.000Z', now)).toBe('30 s ago');
    expect(relative('2026-01-01T12:04:00.000Z', now)).toBe('in 4 min');
    expect(relative('2026-01-01T10:00:00.000Z', now)).toBe('2 h ago');
    expect(relative('not a time', now)).toBe('not a time');
  });

  it('writes durations from milliseconds to hours', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(1234)).toBe('1.2 s');
    expect(duration(210_000)).toBe('3.5 min');
    expect(duration(7_560_000)).toBe('2.1 h');
    expect(duration(-1)).toBe('\u2013');
  });

  it('keeps the first line of a long error, and counts in words', () => {
    expect(briefError('first\nstack')).toBe('first');
    expect(briefError('x'.repeat(400))).toHaveLength(300);
    expect(plural(1, 'page')).toBe('1 page');
    expect(plural(2, 'page')).toBe('2 pages');
  });
});
