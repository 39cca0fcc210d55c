/**
 * The run lease: the one run of an entity that may work right now. Pure: the coordinator keeps
 * the lease in its storage and passes the clock in.
 *
 * A lease carries an epoch, a fencing token that only grows (max(previous + 1, now in ms), so it
 * keeps growing even if the object's storage were lost). Every write a run makes carries its
 * epoch and is refused, inside the D1 batch or the Supabase transaction, once a newer epoch
 * has written: a run that outlived its lease cannot overwrite the run that took over.
 */
import type { Lease, RunTrigger } from '../types.ts';

/** Thrown when a run finds that its lease expired or was taken over: it must stop writing. */
export class LeaseLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaseLostError';
  }
}

/** The epoch after `previous`: strictly greater, and at least the clock. */
export function nextEpoch(previous: number, now: number): number {
  return Math.max(previous + 1, Math.floor(now));
}

/** Whether a stored lease still holds at `now`. */
export function isLive(lease: Lease | null | undefined, now: number): boolean {
  return lease != null && Date.parse(lease.expiresAt) > now;
}

/** The outcome of trying to take the lease. */
export type TakeResult = { taken: true; lease: Lease } | { taken: false; held: Lease };

/** Takes the lease unless a live one is held; the new lease gets the next epoch. */
export function takeLease(
  current: Lease | null | undefined,
  previousEpoch: number,
  request: { runId: string; trigger: RunTrigger; now: number; durationMs: number },
): TakeResult {
  if (current != null && isLive(current, request.now)) return { taken: false, held: current };
  return {
    taken: true,
    lease: {
      runId: request.runId,
      trigger: request.trigger,
      epoch: nextEpoch(Math.max(previousEpoch, current?.epoch ?? 0), request.now),
      startedAt: new Date(request.now).toISOString(),
      expiresAt: new Date(request.now + request.durationMs).toISOString(),
    },
  };
}

/**
 * Checks that `runId` still holds a live lease and extends it by `durationMs` from now; throws
 * LeaseLostError when it expired or another run took it. Called before every page.
 */
export function renewLease(current: Lease | null | undefined, runId: string, now: number, durationMs: number): Lease {
  checkLease(current, runId, now);
  return { ...current, expiresAt: new Date(now + durationMs).toISOString() };
}

/** Throws LeaseLostError unless `runId` holds a live lease at `now`. */
export function checkLease(current: Lease | null | undefined, runId: string, now: number): asserts current is Lease {
  if (current?.runId !== runId) {
    throw new LeaseLostError(`run ${runId} lost its lease: ${current ? `run ${current.runId} holds it` : 'no lease is held'}`);
  }
  if (!isLive(current, now)) {
    throw new LeaseLostError(`run ${runId} lost its lease: it expired at ${current.expiresAt}`);
  }
}

/** What to store after `runId` ends: nothing when it held the lease, else the lease as it is. */
export function releaseLease(current: Lease | null | undefined, runId: string): Lease | null {
  return current != null && current.runId !== runId ? current : null;
}
