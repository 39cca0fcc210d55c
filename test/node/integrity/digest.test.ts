import { describe, expect, it } from 'vitest';
import {
  addRow,
  bucketOf,
  differingBuckets,
  parseDigest,
  planDescent,
  prefixLengthFor,
  prefixRange,
  rollUp,
  scanRanges,
  type Digest,
} from '../../../src/integrity/digest.ts';

const inRange = (key: string, r: { from: string | null; to: string | null }): boolean =>
  (r.from === null || key >= r.from) && (r.to === null || key < r.to);

describe('bucket digests', () => {
  it('sum 64-bit hashes mod 2^64, so a full bucket wraps around instead of growing', () => {
    const digests = new Map<string, Digest>();
    addRow(digests, 'a', 'ffffffffffffffff');
    addRow(digests, 'a', '0000000000000002');
    expect(digests.get('a')).toEqual({ count: 2, sum: 1n });
  });

  it('merge: rolling up fine buckets gives the digests of hashing at the coarse length directly', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({
      key: ((i * 2654435761) >>> 0).toString(16).padStart(8, '0'),
      hash: ((i * 40503) >>> 0).toString(16).padStart(8, '0') + ((i * 977) >>> 0).toString(16).padStart(8, '0'),
    }));
    const fine = new Map<string, Digest>();
    const coarse = new Map<string, Digest>();
    for (const r of rows) {
      addRow(fine, bucketOf(r.key, 4), r.hash);
      addRow(coarse, bucketOf(r.key, 2), r.hash);
    }
    expect(rollUp(fine, 2)).toEqual(coarse);
  });

  it('a row counted twice changes the digest (a sum, not an xor, which would cancel it out)', () => {
    const once = new Map<string, Digest>();
    const twice = new Map<string, Digest>();
    addRow(once, 'a', '1234567890abcdef');
    addRow(twice, 'a', '1234567890abcdef');
    addRow(twice, 'a', '1234567890abcdef');
    addRow(once, 'a', '0000000000000000');
    expect(differingBuckets(once, twice)).toEqual(['a']);
  });

  it('reads Postgres sums given in decimal, up to 2^64 - 1', () => {
    expect(parseDigest(3, '18446744073709551615')).toEqual({ count: 3, sum: 18446744073709551615n });
  });

  it('differ when a bucket is on one side only, or its count or sum differs; equal buckets do not', () => {
    const d1 = new Map<string, Digest>([
      ['0', { count: 1, sum: 5n }],
      ['1', { count: 2, sum: 5n }],
      ['2', { count: 1, sum: 5n }],
      ['3', { count: 1, sum: 1n }],
    ]);
    const sb = new Map<string, Digest>([
      ['0', { count: 1, sum: 5n }],
      ['1', { count: 1, sum: 5n }],
      ['2', { count: 1, sum: 6n }],
      ['4', { count: 1, sum: 1n }],
    ]);
    expect(differingBuckets(d1, sb)).toEqual(['1', '2', '3', '4']);
  });
});

describe('the descent plan', () => {
  it('chooses about 32 rows a bucket: one hex digit for small tables, 4,096 buckets for 20,000 to 131,072 rows, at most 4 digits', () => {
    expect(prefixLengthFor(0)).toBe(1);
    expect(prefixLengthFor(500)).toBe(1);
    expect(prefixLengthFor(5_000)).toBe(2);
    expect(prefixLengthFor(20_000)).toBe(3);
    expect(prefixLengthFor(100_000)).toBe(3);
    expect(prefixLengthFor(1_000_000)).toBe(4);
    expect(prefixLengthFor(100_000_000)).toBe(4);
  });

  it('groups differing buckets into requests of at most maxRows rows, a bucket larger than that alone', () => {
    const sizes: Record<string, number> = { a: 400, b: 400, c: 300, d: 2_000, e: 10 };
    expect(planDescent(['a', 'b', 'c', 'd', 'e'], (b) => sizes[b] ?? 0, 1_000)).toEqual([['a', 'b'], ['c'], ['d'], ['e']]);
    expect(planDescent([], () => 0, 1_000)).toEqual([]);
  });

  it('full-scan ranges hold every key exactly once, upper-case and non-uuid keys included', () => {
    const keys = [
      '',
      '0',
      '00000000-0000-0000-0000-000000000000',
      '0fff',
      '1',
      '9z',
      'a',
      'ABC',
      'f',
      'ffffffff-ffff',
      'zzz',
      '~',
      'é',
      '😀',
    ];
    for (const key of keys)
      expect(
        scanRanges().filter((r) => inRange(key, r)),
        key,
      ).toHaveLength(1);
  });

  it('a prefix range holds exactly the keys that start with the prefix', () => {
    expect(prefixRange('ab')).toEqual({ from: 'ab', to: 'ac' });
    expect(prefixRange('9')).toEqual({ from: '9', to: ':' });
    expect(prefixRange('f')).toEqual({ from: 'f', to: 'g' });
    for (const key of ['ab', 'ab0', 'abffffff-ffff', 'ac', 'aa', 'a', 'b']) {
      expect(inRange(key, prefixRange('ab')), key).toBe(key.startsWith('ab'));
    }
  });
});
