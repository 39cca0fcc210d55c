import { describe, expect, it } from 'vitest';
import { ALARM_GRACE_MS, healthProblems, type HealthFacts } from '../../../src/sync/health.ts';

const now = Date.parse('2026-11-30T12:00:00.000Z');
const healthy: HealthFacts = {
  now,
  paused: false,
  intervalMs: 600_000,
  maxRunMs: 25_000,
  errorStreak: 0,
  lastError: null,
  hasRun: true,
  lastSuccessMs: now - 60_000,
  alarmMs: now + 540_000,
  armedForMs: now + 540_000,
  leased: false,
  oldestPendingAgeMs: null,
};
const noAlarm = 'no alarm armed: the next cron tick re-arms it, or POST /objects/:entity/sync';

describe('healthProblems', () => {
  it('finds nothing wrong with an entity that ran recently and has its next alarm armed', () => {
    expect(healthProblems(healthy)).toEqual([]);
  });

  it('reports a pause, a failure streak, staleness and an old backlog, each once', () => {
    expect(
      healthProblems({
        ...healthy,
        paused: true,
        alarmMs: null,
        errorStreak: 2,
        lastError: 'HTTP 503',
        lastSuccessMs: now - 3 * 600_000 - 25_001,
        oldestPendingAgeMs: 3 * 600_000 + 25_001,
      }),
    ).toEqual([
      'paused: the alarm loop is stopped (resume to restart it)',
      '2 failed run(s) in a row; last error: HTTP 503',
      `no successful run since ${new Date(now - 3 * 600_000 - 25_001).toISOString()}`,
      'outbox backlog: the oldest unsent change is 1825s old',
    ]);
  });

  it('does not call a coordinator that never ran stale, but does one whose runs never succeeded', () => {
    expect(healthProblems({ ...healthy, hasRun: false, lastSuccessMs: null })).toEqual([]);
    expect(healthProblems({ ...healthy, lastSuccessMs: null })).toEqual(['no run has succeeded yet']);
  });

  it('sees no missing alarm while a run holds the lease (the platform shows none during its alarm)', () => {
    expect(healthProblems({ ...healthy, alarmMs: null, leased: true })).toEqual([]);
  });

  // Regression: a status read that landed between an alarm firing and its handler taking the
  // lease reported "no alarm armed" (the convergence soak's rare unhealthy on a loaded machine).
  it('status read while an alarm is firing is not a lost alarm', () => {
    expect(healthProblems({ ...healthy, alarmMs: null, armedForMs: now - 5 })).toEqual([]);
    expect(healthProblems({ ...healthy, alarmMs: null, armedForMs: now - ALARM_GRACE_MS + 1 })).toEqual([]);
  });

  it('reports an alarm lost: overdue past the grace, armed for a later time but gone, or never recorded', () => {
    expect(healthProblems({ ...healthy, alarmMs: null, armedForMs: now - ALARM_GRACE_MS })).toEqual([noAlarm]);
    expect(healthProblems({ ...healthy, alarmMs: null, armedForMs: now + 60_000 })).toEqual([noAlarm]);
    expect(healthProblems({ ...healthy, alarmMs: null, armedForMs: null })).toEqual([noAlarm]);
  });

  it('does not report a missing alarm for a paused entity beyond the pause itself', () => {
    expect(healthProblems({ ...healthy, paused: true, alarmMs: null, armedForMs: null })).toEqual([
      'paused: the alarm loop is stopped (resume to restart it)',
    ]);
  });
});
