import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../src/stores/json-chunks.ts';

describe('jsonChunks', () => {
  it('keeps a small page as one JSON array', () => {
    const rows = [{ id: 'a' }, { id: 'b' }];
    expect(jsonChunks(rows)).toEqual([{ rows, json: JSON.stringify(rows) }]);
    expect(jsonChunks([])).toEqual([]);
  });

  it('splits a page of large rows into arrays within the budget, in order, losing none', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ id: String(i), body: 'é'.repeat(100) })); // 2 bytes a character
    const chunks = jsonChunks(rows, 700);
    for (const c of chunks) {
      expect(new TextEncoder().encode(c.json).length).toBeLessThanOrEqual(700);
      expect(JSON.parse(c.json)).toEqual(c.rows);
    }
    expect(chunks.flatMap((c) => c.rows)).toEqual(rows);
    expect(chunks.length).toBe(4); // 220-byte rows: three to an array
  });

  it('sends a row larger than the budget alone rather than dropping it', () => {
    const big = { id: 'big', body: 'x'.repeat(1000) };
    expect(jsonChunks([{ id: 'a' }, big, { id: 'b' }], 100).map((c) => c.rows.map((r) => r.id))).toEqual([['a'], ['big'], ['b']]);
  });
});
