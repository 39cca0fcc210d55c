import { describe, expect, it } from 'vitest';
import { afterCursorFilter, quotePostgrestValue, safeCursorAfterPage } from '../../../src/sync/cursor.ts';

describe('afterCursorFilter', () => {
  it('builds the keyset predicate with quoted exact strings', () => {
    expect(afterCursorFilter({ ts: '2026-11-29T06:29:16.000001+00:00', id: 'abc' }, 'updated_at', 'id')).toBe(
      'updated_at.gt."2026-11-29T06:29:16.000001+00:00",and(updated_at.eq."2026-11-29T06:29:16.000001+00:00",id.gt."abc")',
    );
  });

  it('escapes quotes and backslashes inside values', () => {
    expect(quotePostgrestValue('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe('safeCursorAfterPage', () => {
  const row = (ts: string, id: string) => ({ cursor: { ts: `raw-${ts}`, id }, canonicalTs: ts });

  it('advances to the last row at or before the horizon', () => {
    const rows = [
      row('2026-01-01T00:00:01.000000Z', 'a'),
      row('2026-01-01T00:00:02.000000Z', 'b'),
      row('2026-01-01T00:00:03.000000Z', 'c'),
    ];
    expect(safeCursorAfterPage(null, rows, '2026-01-01T00:00:02.000000Z')).toEqual({ ts: 'raw-2026-01-01T00:00:02.000000Z', id: 'b' });
  });

  it('keeps the committed cursor when every row is inside the lag window', () => {
    const committed = { ts: 'x', id: 'z' };
    expect(safeCursorAfterPage(committed, [row('2026-01-01T00:00:05.000000Z', 'a')], '2026-01-01T00:00:04.999999Z')).toBe(committed);
  });

  it('never passes a row that is newer than the horizon, even if older ones follow', () => {
    // Cannot happen in keyset order, but the rule must not depend on it.
    const rows = [row('2026-01-01T00:00:05.000000Z', 'a'), row('2026-01-01T00:00:01.000000Z', 'b')];
    expect(safeCursorAfterPage(null, rows, '2026-01-01T00:00:02.000000Z')).toBeNull();
  });
});
