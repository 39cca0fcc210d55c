import { describe, expect, it } from 'vitest';
import { afterCursorFilter, quotePostgrestValue } from '../../../src/stores/postgrest-filter.ts';

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
