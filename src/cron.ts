// What each cron trigger does (wrangler.toml: every 10 minutes, hourly, and daily at 03:00).

/** The actions of one cron tick. */
export interface CronPlan {
  /** Make sure every coordinator's alarm is armed (self-healing). */
  ensureAlarms: boolean;
  /** The consistency checks without a digest pass (counts, states, backlog, staleness): cheap enough for every hour. */
  integrityChecks: boolean;
  /**
   * A full resync of every entity: re-read in place, then reconcile with fix (which removes rows
   * absent upstream and runs every check with its fix).
   */
  fullResync: boolean;
}

/** Maps a cron expression to its plan; an unknown expression only re-arms alarms. */
export function planForCron(cron: string): CronPlan {
  if (cron === '0 3 * * *') return { ensureAlarms: true, integrityChecks: false, fullResync: true };
  if (cron === '0 * * * *') return { ensureAlarms: true, integrityChecks: true, fullResync: false };
  return { ensureAlarms: true, integrityChecks: false, fullResync: false };
}
