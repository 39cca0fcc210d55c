import { describe, expect, it } from 'vitest';
import { checkLease, isLive, LeaseLostError, nextEpoch, releaseLease, renewLease, takeLease } from '../../../src/lease/lease.ts';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const take = (current: Parameters<typeof takeLease>[0], previousEpoch = 0, now = T0) =>
  takeLease(current, previousEpoch, { runId: `run-${now}`, trigger: 'alarm', now, durationMs: 60_000 });

describe('lease: take', () => {
  it('takes a free lease with an epoch at least the clock and an expiry one duration away', () => {
    const r = take(null);
    expect(r.taken).toBe(true);
    if (!r.taken) return;
    expect(r.lease).toMatchObject({
      runId: `run-${T0}`,
      trigger: 'alarm',
      epoch: T0,
      startedAt: '2026-11-29T10:00:00.000Z',
      expiresAt: '2026-11-29T10:01:00.000Z',
    });
  });

  it('coalesces with a live lease and reports the holder', () => {
    const first = take(null);
    if (!first.taken) throw new Error('not taken');
    const second = take(first.lease, first.lease.epoch, T0 + 59_999);
    expect(second).toEqual({ taken: false, held: first.lease });
  });

  it('takes over a lease left by a crashed run once it expired, with a strictly newer epoch', () => {
    const first = take(null, 0, T0);
    if (!first.taken) throw new Error('not taken');
    const second = take(first.lease, first.lease.epoch, T0 + 60_000);
    expect(second.taken).toBe(true);
    if (second.taken) expect(second.lease.epoch).toBeGreaterThan(first.lease.epoch);
  });

  it('keeps epochs growing even when the clock goes back', () => {
    expect(nextEpoch(T0 + 5_000, T0)).toBe(T0 + 5_001);
    const r = take(null, T0 + 5_000, T0);
    if (r.taken) expect(r.lease.epoch).toBe(T0 + 5_001);
  });
});

describe('lease: renew, check, release', () => {
  const held = (() => {
    const r = take(null);
    if (!r.taken) throw new Error('not taken');
    return r.lease;
  })();

  it('renews a live lease of the same run from now', () => {
    const renewed = renewLease(held, held.runId, T0 + 30_000, 60_000);
    expect(renewed.expiresAt).toBe('2026-11-29T10:01:30.000Z');
    expect(renewed.epoch).toBe(held.epoch);
  });

  it('refuses to renew an expired lease: the run lost it even if nobody took it yet', () => {
    expect(() => renewLease(held, held.runId, T0 + 60_000, 60_000)).toThrow(LeaseLostError);
  });

  it('refuses a run whose lease another run took over', () => {
    expect(() => checkLease({ ...held, runId: 'other' }, held.runId, T0)).toThrow(/lost its lease: run other holds it/);
    expect(() => checkLease(null, held.runId, T0)).toThrow(/no lease is held/);
  });

  it('releases only its own lease', () => {
    expect(releaseLease(held, held.runId)).toBeNull();
    const other = { ...held, runId: 'other' };
    expect(releaseLease(other, held.runId)).toBe(other);
  });

  it('is live until its expiry instant', () => {
    expect(isLive(held, T0 + 59_999)).toBe(true);
    expect(isLive(held, T0 + 60_000)).toBe(false);
    expect(isLive(null, T0)).toBe(false);
  });
});
