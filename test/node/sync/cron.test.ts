import { describe, expect, it } from 'vitest';
import { planForCron } from '../../../src/cron.ts';

describe('planForCron', () => {
  it('re-arms alarms every ten minutes', () => {
    expect(planForCron('*/10 * * * *')).toEqual({ ensureAlarms: true, integrityChecks: false, fullResync: false });
  });
  it('runs the consistency checks (no digest pass) every hour', () => {
    expect(planForCron('0 * * * *')).toEqual({ ensureAlarms: true, integrityChecks: true, fullResync: false });
  });
  it('adds a full resync at 03:00 (re-read, then reconcile with fix)', () => {
    expect(planForCron('0 3 * * *')).toEqual({ ensureAlarms: true, integrityChecks: false, fullResync: true });
  });
  it('only re-arms on an unknown schedule', () => {
    expect(planForCron('5 4 * * *')).toEqual({ ensureAlarms: true, integrityChecks: false, fullResync: false });
  });
});
