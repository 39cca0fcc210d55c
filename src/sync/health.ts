/**
 * An entity's health rules, as the operator's status shows them: pure, from facts the
 * coordinator reads. Each problem is one sentence that says what to do about it.
 */

/** How long past its time an alarm may show as neither armed nor running before it counts as lost. */
export const ALARM_GRACE_MS = 60_000;

/** What the rules look at, read by the coordinator. Times in epoch milliseconds. */
export interface HealthFacts {
  now: number;
  paused: boolean;
  intervalMs: number;
  maxRunMs: number;
  errorStreak: number;
  lastError: string | null;
  /** Whether any run has finished (a coordinator that never ran is not stale). */
  hasRun: boolean;
  lastSuccessMs: number | null;
  /** The platform's alarm, or null when none is armed (or its handler has just started). */
  alarmMs: number | null;
  /** When the coordinator last armed its alarm for (its own record, kept beside the platform's). */
  armedForMs: number | null;
  /** Whether a run holds a live lease. */
  leased: boolean;
  /** The age of the oldest unsent outbox entry, for pushed entities. */
  oldestPendingAgeMs: number | null;
}

/** The problems, in the order the dashboard lists them; none means healthy. */
export function healthProblems(f: HealthFacts): string[] {
  const problems: string[] = [];
  if (f.paused) problems.push('paused: the alarm loop is stopped (resume to restart it)');
  if (f.errorStreak > 0 && f.lastError) problems.push(`${f.errorStreak} failed run(s) in a row; last error: ${f.lastError}`);
  const staleAfter = 3 * f.intervalMs + f.maxRunMs;
  if (f.hasRun && (f.lastSuccessMs === null || f.now - f.lastSuccessMs > staleAfter)) {
    problems.push(
      f.lastSuccessMs === null ? 'no run has succeeded yet' : `no successful run since ${new Date(f.lastSuccessMs).toISOString()}`,
    );
  }
  if (!f.paused && alarmLost(f)) problems.push('no alarm armed: the next cron tick re-arms it, or POST /objects/:entity/sync');
  if (f.oldestPendingAgeMs !== null && f.oldestPendingAgeMs > staleAfter) {
    problems.push(`outbox backlog: the oldest unsent change is ${Math.round(f.oldestPendingAgeMs / 1000)}s old`);
  }
  return problems;
}

/**
 * Whether the alarm loop has stopped. The platform shows no alarm while a run is in progress
 * (its lease says so), and also in the moment an alarm fires before its handler has taken the
 * lease: an alarm the coordinator armed for a time just past is firing, not lost. (Reading it as
 * lost made a status read that landed in that moment report an unhealthy entity on a loaded
 * machine: the convergence soak's rare "no alarm armed".)
 */
function alarmLost(f: HealthFacts): boolean {
  if (f.alarmMs !== null || f.leased) return false;
  const firing = f.armedForMs !== null && f.armedForMs <= f.now && f.now - f.armedForMs < ALARM_GRACE_MS;
  return !firing;
}
