import { describe, expect, it } from 'vitest';
import { safeCursorAfterPage } from '../../../src/sync/cursor.ts';

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
