import { describe, expect, it } from 'vitest';
import { boundedPayload, FIRST_RETRY_MS, MAX_RETRY_MS, nextRetryAt, PAYLOAD_MAX_CHARS } from '../../../src/sync/quarantine.ts';

describe('quarantine retries', () => {
  const now = 1_000_000;

  it('tries a row again after five minutes, doubling the wait with each failure', () => {
    expect([1, 2, 3, 4].map((n) => nextRetryAt(now, n) - now)).toEqual([
      FIRST_RETRY_MS,
      2 * FIRST_RETRY_MS,
      4 * FIRST_RETRY_MS,
      8 * FIRST_RETRY_MS,
    ]);
    expect(FIRST_RETRY_MS).toBe(300_000);
  });

  it('never waits more than a day, however often a row fails', () => {
    expect(nextRetryAt(now, 9) - now).toBe(256 * FIRST_RETRY_MS); // 21 h 20 min
    expect(nextRetryAt(now, 10) - now).toBe(MAX_RETRY_MS);
    expect(nextRetryAt(now, 1_000) - now).toBe(MAX_RETRY_MS);
    expect(MAX_RETRY_MS).toBe(86_400_000);
  });
});

describe('quarantined payloads', () => {
  it('keeps a payload whole up to the bound and a truncated preview past it', () => {
    const small = { id: 'a', body: 'x'.repeat(100) };
    expect(JSON.parse(boundedPayload(small))).toEqual(small);
    expect(boundedPayload(undefined)).toBe('null');
    const big = { id: 'b', body: 'y'.repeat(PAYLOAD_MAX_CHARS) };
    const kept = JSON.parse(boundedPayload(big)) as { truncated: boolean; preview: string };
    expect(kept.truncated).toBe(true);
    expect(kept.preview).toBe(JSON.stringify(big).slice(0, PAYLOAD_MAX_CHARS));
  });
});
