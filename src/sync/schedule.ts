/**
 * Scheduling math for the alarm loop: when the next run of an entity should start.
 * Pure: the coordinator passes the clock and a random source.
 */

/** How a run ended, as far as scheduling cares. */
export type RunEnding =
  | { kind: 'caught-up' }
  | { kind: 'more' } // a full page or the budget ran out: continue right away
  | { kind: 'failed'; retryAfterMs?: number };

/** Scheduling knobs, all in milliseconds. */
export interface ScheduleSettings {
  intervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Delay before continuing a backlog: short, so other events on the object get a turn. */
export const CONTINUE_DELAY_MS = 100;

/**
 * When the next run should start. `errorStreak` counts consecutive failures including the
 * one just ended; `random` returns [0, 1). Backoff is exponential with full jitter over its
 * upper half, never longer than the interval-capped maximum, and never shorter than a
 * server's Retry-After.
 */
export function nextRunAt(now: number, ending: RunEnding, errorStreak: number, settings: ScheduleSettings, random: () => number): number {
  switch (ending.kind) {
    case 'caught-up':
      return now + settings.intervalMs;
    case 'more':
      return now + CONTINUE_DELAY_MS;
    case 'failed': {
      const exp = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, errorStreak - 1));
      const jittered = exp / 2 + random() * (exp / 2);
      return now + Math.max(jittered, ending.retryAfterMs ?? 0);
    }
  }
}
