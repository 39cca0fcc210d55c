/**
 * Range digests and the descent plan of reconciliation: pure arithmetic on buckets of keys.
 *
 * A bucket is the set of rows whose key starts with one prefix (a uuid key's first hex digits).
 * Its digest is (count, Σ first 64 bits of md5(canonical row text) mod 2^64), the same numbers
 * Postgres' sync_range_digests() returns. Sums merge: a bucket's digest is the sum of its
 * sub-buckets', so the Worker hashes each D1 row once at the finest length and rolls up; and,
 * unlike xor, a row counted twice never cancels out.
 */

/** One bucket's digest. */
export interface Digest {
  count: number;
  /** Σ of the rows' 64-bit hashes, mod 2^64. */
  sum: bigint;
}

const MOD = 1n << 64n;

/** The finest bucket length the Worker hashes at (16^4 = 65,536 buckets at most). */
export const MAX_PREFIX_LENGTH = 4;

/** The bucket of a key at a prefix length. */
export function bucketOf(key: string, prefixLength: number): string {
  return key.slice(0, prefixLength);
}

/** Adds one row (its 16-hex-digit hash) to its bucket's digest. */
export function addRow(digests: Map<string, Digest>, bucket: string, hash: string): void {
  const d = digests.get(bucket);
  const h = BigInt(`0x${hash}`);
  if (d) {
    d.count += 1;
    d.sum = (d.sum + h) % MOD;
  } else {
    digests.set(bucket, { count: 1, sum: h % MOD });
  }
}

/** Merges digests into buckets of a shorter prefix. */
export function rollUp(digests: ReadonlyMap<string, Digest>, prefixLength: number): Map<string, Digest> {
  const out = new Map<string, Digest>();
  for (const [bucket, d] of digests) {
    const key = bucketOf(bucket, prefixLength);
    const into = out.get(key);
    if (into) {
      into.count += d.count;
      into.sum = (into.sum + d.sum) % MOD;
    } else {
      out.set(key, { count: d.count, sum: d.sum });
    }
  }
  return out;
}

/**
 * The bucket length for a table of `rowCount` rows: about `rowsPerBucket` rows a bucket, so the
 * descent into one differing bucket reads few rows, while the digests of all buckets still fit
 * one response (4,096 buckets ≈ 150 kB of JSON). 1 to MAX_PREFIX_LENGTH hex digits.
 */
export function prefixLengthFor(rowCount: number, rowsPerBucket = 32): number {
  if (rowCount <= rowsPerBucket) return 1;
  const length = Math.ceil(Math.log(rowCount / rowsPerBucket) / Math.log(16));
  return Math.min(MAX_PREFIX_LENGTH, Math.max(1, length));
}

/** The buckets whose digests differ (present on one side only, or other count or sum), sorted. */
export function differingBuckets(d1: ReadonlyMap<string, Digest>, supabase: ReadonlyMap<string, Digest>): string[] {
  const out: string[] = [];
  for (const [bucket, d] of d1) {
    const s = supabase.get(bucket);
    if (s?.count !== d.count || s.sum !== d.sum) out.push(bucket);
  }
  for (const bucket of supabase.keys()) if (!d1.has(bucket)) out.push(bucket);
  return out.sort();
}

/**
 * Groups differing buckets into descent requests of at most `maxRows` rows each (by the larger
 * side's count), in prefix order; a bucket larger than maxRows goes alone.
 */
export function planDescent(buckets: readonly string[], rowsIn: (bucket: string) => number, maxRows: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let rows = 0;
  for (const bucket of buckets) {
    const n = rowsIn(bucket);
    if (current.length > 0 && rows + n > maxRows) {
      groups.push(current);
      current = [];
      rows = 0;
    }
    current.push(bucket);
    rows += n;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** A half-open key range [from, to); null means unbounded. Keys compare as text (D1's BINARY). */
export interface KeyRange {
  from: string | null;
  to: string | null;
}

/**
 * The ranges a full D1 scan reads, one query each so no response holds the whole table: split
 * at the hex digits, the first and last unbounded, so every key is in exactly one range (an
 * upper-case or non-uuid key too).
 */
export function scanRanges(): KeyRange[] {
  const splits = '123456789abcdef'.split('');
  return [null, ...splits].map((from, i) => ({ from, to: splits[i] ?? null }));
}

const HEX = '0123456789abcdef';

/**
 * The key space cut into `count` segments of whole first hex digits (count: 1, 2, 4, 8 or 16),
 * so a large table is reconciled one segment per step, across alarms. A segment is its first
 * digits, e.g. '0123'.
 */
export function keySegments(count: number): string[] {
  const n = [1, 2, 4, 8, 16].find((c) => c >= count) ?? 16;
  const width = 16 / n;
  return Array.from({ length: n }, (_, i) => HEX.slice(i * width, (i + 1) * width));
}

/** How many segments a table of `rowCount` rows is reconciled in: about `rowsPerSegment` rows each. */
export function segmentCountFor(rowCount: number, rowsPerSegment = 30_000): number {
  return keySegments(Math.ceil(Math.max(1, rowCount) / rowsPerSegment)).length;
}

/**
 * The D1 scan ranges of a segment: the scanRanges() of its digits, so the segments of one cut
 * cover every key exactly once (a key that is not lower-case hex falls in one of them too).
 */
export function segmentScanRanges(segment: string): KeyRange[] {
  const all = scanRanges();
  return segment.split('').map((digit) => {
    const range = all[HEX.indexOf(digit)];
    if (!range) throw new Error(`not a hex digit: ${digit}`);
    return range;
  });
}

/** The key range of the keys that start with `prefix`: [prefix, prefix with its last character incremented). */
export function prefixRange(prefix: string): KeyRange {
  if (prefix === '') return { from: null, to: null };
  const last = prefix.codePointAt(prefix.length - 1) ?? 0;
  const head = prefix.slice(0, prefix.length - String.fromCodePoint(last).length);
  return { from: prefix, to: head + String.fromCodePoint(last + 1) };
}

/** A digest as Postgres returns it: [prefix, count, sum in decimal]. */
export function parseDigest(count: number, sum: string): Digest {
  return { count, sum: BigInt(sum) % MOD };
}
