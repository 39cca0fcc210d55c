import { describe, expect, it } from 'vitest';
import { ENTITIES, type EntityDefinition } from '../../../src/entities.ts';
import { checkResetCursor } from '../../../src/http/cursor-param.ts';

const prospects = ENTITIES.prospects as EntityDefinition;
const textKeyed: EntityDefinition = { ...prospects, name: 'notes', columns: { ...prospects.columns, id: { type: 'text' } } };
const UUID = '5b0f6c1e-8a7d-4a55-9a7e-0d5f0c1e2a11';

describe('checkResetCursor', () => {
  it('stores the timestamp canonical (UTC, microseconds) from either field', () => {
    expect(checkResetCursor({ updated_at: '2026-11-29 06:44:58.123+01', id: UUID }, prospects)).toEqual({
      ok: true,
      cursor: { ts: '2026-11-29T05:44:58.123000Z', id: UUID },
    });
    expect(checkResetCursor({ ts: '2026-11-29T06:44:58.123456Z', id: UUID }, prospects)).toEqual({
      ok: true,
      cursor: { ts: '2026-11-29T06:44:58.123456Z', id: UUID },
    });
  });

  it.each([
    'garbage',
    'infinity',
    '-infinity',
    'now',
    'epoch',
    '2026-02-30T00:00:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01',
    '10000-01-01T00:00:00Z',
    '9999-12-31T23:59:59-01:00',
    '2026-01-01T00:00:00+16:00',
    '2026-01-01T00:00:00+01:60',
    '2026-01-01T00:00:00Z\u0000',
  ])('refuses the timestamp %j, naming the field it came in', (ts) => {
    const viaTs = checkResetCursor({ ts, id: UUID }, prospects);
    expect(viaTs.ok).toBe(false);
    expect(!viaTs.ok && viaTs.issues.map((i) => i.path)).toEqual(['cursor.ts']);
    const viaUpdatedAt = checkResetCursor({ updated_at: ts, id: UUID }, prospects);
    expect(!viaUpdatedAt.ok && viaUpdatedAt.issues.map((i) => i.path)).toEqual(['cursor.updated_at']);
  });

  it('keeps UTC years within 0000-9999 after applying the offset', () => {
    expect(checkResetCursor({ ts: '9999-12-31T22:59:59-01:00', id: UUID }, prospects)).toEqual({
      ok: true,
      cursor: { ts: '9999-12-31T23:59:59.000000Z', id: UUID },
    });
    expect(checkResetCursor({ ts: '9999-12-31T23:59:59.999999Z', id: UUID }, prospects).ok).toBe(true);
  });

  it('wants a canonical lower-case uuid for uuid keys, and says which form to use', () => {
    const upper = checkResetCursor({ ts: '2026-01-01T00:00:00Z', id: UUID.toUpperCase() }, prospects);
    expect(upper.ok).toBe(false);
    expect(!upper.ok && upper.issues).toEqual([
      { path: 'cursor.id', message: expect.stringContaining(`lower case, as Postgres returns it: "${UUID}"`) },
    ]);
    for (const id of ['x', `{${UUID}}`, UUID.replace(/-/g, ''), ` ${UUID}`, `${UUID}\u0000`, 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
      const r = checkResetCursor({ ts: '2026-01-01T00:00:00Z', id }, prospects);
      expect(!r.ok && r.issues.map((i) => i.path), id).toEqual(['cursor.id']);
    }
  });

  it('takes any id without a NUL for text keys', () => {
    expect(checkResetCursor({ ts: '2026-01-01T00:00:00Z', id: 'ABC' }, textKeyed).ok).toBe(true);
    expect(checkResetCursor({ ts: '2026-01-01T00:00:00Z', id: 'a\u0000b' }, textKeyed).ok).toBe(false);
  });

  it('reports every problem at once', () => {
    const r = checkResetCursor({ updated_at: 'garbage', id: 'x' }, prospects);
    expect(!r.ok && r.issues.map((i) => i.path)).toEqual(['cursor.updated_at', 'cursor.id']);
  });
});
