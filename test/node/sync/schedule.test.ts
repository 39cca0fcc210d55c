import { describe, expect, it } from 'vitest';
import { CONTINUE_DELAY_MS, nextRunAt } from '../../../src/sync/schedule.ts';

const settings = { intervalMs: 600_000, backoffBaseMs: 5_000, backoffMaxMs: 300_000 };
const now = 1_000_000;

describe('nextRunAt', () => {
  it('waits the interval when caught up', () => {
    expect(nextRunAt(now, { kind: 'caught-up' }, 0, settings, Math.random)).toBe(now + 600_000);
  });

  it('continues almost at once when there is more', () => {
    expect(nextRunAt(now, { kind: 'more' }, 0, settings, Math.random)).toBe(now + CONTINUE_DELAY_MS);
  });

  it('backs off exponentially with jitter in the upper half, capped', () => {
    const at = (streak: number, r: number) => nextRunAt(now, { kind: 'failed' }, streak, settings, () => r) - now;
    expect(at(1, 0)).toBe(2_500);
    expect(at(1, 0.999999)).toBeCloseTo(5_000, -1);
    expect(at(3, 0)).toBe(10_000);
    expect(at(3, 0.999999)).toBeCloseTo(20_000, -1);
    expect(at(30, 0.999999)).toBeLessThanOrEqual(300_000);
    expect(at(30, 0)).toBe(150_000);
  });

  it('never retries before a Retry-After', () => {
    expect(nextRunAt(now, { kind: 'failed', retryAfterMs: 30_000 }, 1, settings, () => 0)).toBe(now + 30_000);
  });
});
