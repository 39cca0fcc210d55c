import { describe, expect, it } from 'vitest';
import { summarizeStatuses } from '../../src/status-summary.ts';
import type { EntityStatus } from '../../src/types.ts';

function status(entity: string, over: Partial<EntityStatus>): EntityStatus {
  return {
    entity,
    direction: 'pull',
    paused: false,
    healthy: true,
    problems: [],
    pull: null,
    push: null,
    lease: null,
    lastRun: null,
    lastSuccessAt: null,
    errorStreak: 0,
    nextAlarmAt: null,
    conflicts: 0,
    quarantined: 0,
    held: 0,
    jobs: [],
    integrity: null,
    settings: {
      intervalMs: 1,
      pageSize: 1,
      maxPagesPerRun: 1,
      maxRunMs: 1,
      safetyLagMs: 0,
      requestTimeoutMs: 1,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
    },
    ...over,
  };
}

const pull = { cursor: null, frontier: null, tombstoneCursor: null, backlog: false, lastLag: null };
const stats = { pages: 1, rowsRead: 5, rowsApplied: 4, rowsDeleted: 1, rowsSkipped: 0, rowsQuarantined: 0, conflicts: 0 };

describe('summarizeStatuses', () => {
  it('summarises each direction like the original spec, with unsyncedEmails', () => {
    const s = summarizeStatuses(
      [
        status('prospects', {
          direction: 'both',
          pull,
          push: { confirmedSeq: 1, pending: 2, oldestPendingAt: null, oldestPendingAgeSeconds: null },
          lastSuccessAt: '2026-11-29T06:00:00.000Z',
        }),
        status('campaigns', {
          pull,
          lastSuccessAt: '2026-11-29T05:00:00.000Z',
          lastRun: {
            runId: 'r',
            trigger: 'alarm',
            startedAt: '',
            finishedAt: '',
            outcome: 'failed',
            stats,
            error: 'x',
            nextRunAt: null,
            pullLag: null,
          },
          healthy: false,
        }),
        status('emails', {
          direction: 'push',
          push: { confirmedSeq: 9, pending: 7, oldestPendingAt: null, oldestPendingAgeSeconds: null },
          lastSuccessAt: null,
        }),
      ],
      new Date('2026-11-29T07:00:00.000Z'),
    );
    expect(s.healthy).toBe(false);
    expect(s.unsyncedEmails).toBe(7);
    expect(s.supabaseToD1).toEqual({
      entities: ['prospects', 'campaigns'],
      lastSyncAt: '2026-11-29T05:00:00.000Z',
      recordsSynced: 5,
      errors: 1,
      pendingCount: 2,
      healthy: false,
    });
    expect(s.d1ToSupabase).toMatchObject({ entities: ['prospects', 'emails'], lastSyncAt: null, pendingCount: 9, healthy: true });
    expect(s.checkedAt).toBe('2026-11-29T07:00:00.000Z');
  });
});
