// What each cron trigger does (wrangler.toml: every 10 minutes, and daily at 03:00).

/** The actions of one cron tick. */
export interface CronPlan {
  /** Make sure every coordinator's alarm is armed (self-healing). */
  ensureAlarms: boolean;
  /** Re-read every pulled table from the beginning (the backstop for late commits beyond the lag). */
  fullResync: boolean;
}

/** Maps a cron expression to its plan; an unknown expression only re-arms alarms. */
export function planForCron(cron: string): CronPlan {
  if (cron === '0 3 * * *') return { ensureAlarms: true, fullResync: true };
  return { ensureAlarms: true, fullResync: false };
}
