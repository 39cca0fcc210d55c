import { describe, expect, it } from 'vitest';
import { entity } from '../../shared/fixtures.ts';
import {
  backlogCheck,
  checksFor,
  driftCheck,
  duplicatesCheck,
  invalidStatesCheck,
  orphansCheck,
  quarantineGrowthCheck,
  rowCountsCheck,
  SAMPLE_LIMIT,
  staleCheck,
  withFix,
  type StaleFacts,
} from '../../../src/integrity/checks.ts';
import type { DriftSummary } from '../../../src/types.ts';

const ids = (n: number, prefix = 'r'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-29T12:00:00.000Z');
/** NOW minus `ms`, in the canonical 27-character form. */
const canonicalAgo = (ms: number): string => `${new Date(NOW - ms).toISOString().slice(0, 23)}000Z`;

describe('checksFor: which checks apply to which entity', () => {
  it('orphans and duplicate message_ids only for emails; push backlog only for pushed entities', () => {
    expect(checksFor(entity('emails'))).toEqual([
      'row_counts',
      'replica_drift',
      'orphans',
      'duplicate_message_ids',
      'invalid_states',
      'push_backlog',
      'stale_entity',
      'quarantine_growth',
    ]);
    expect(checksFor(entity('prospects'))).toEqual([
      'row_counts',
      'replica_drift',
      'invalid_states',
      'push_backlog',
      'stale_entity',
      'quarantine_growth',
    ]);
    for (const name of ['campaigns', 'mailboxes']) {
      expect(checksFor(entity(name))).toEqual(['row_counts', 'replica_drift', 'invalid_states', 'stale_entity', 'quarantine_growth']);
    }
  });

  it('orphans needs both prospect_id and direction', () => {
    const base = entity('emails');
    const { direction: _d, ...columns } = base.columns;
    expect(checksFor({ ...base, columns })).not.toContain('orphans');
    expect(checksFor({ ...base, columns })).toContain('duplicate_message_ids');
  });
});

describe('withFix', () => {
  it('records what the fix did and leaves the finding as it was', () => {
    const found = orphansCheck('emails', { count: 3, sample: [] });
    const fixed = withFix(found, 2, 'fetched 2 prospects, held 1 email');
    expect(fixed).toEqual({ ...found, fixed: 2, fix: 'fetched 2 prospects, held 1 email' });
    expect(found).toMatchObject({ fixed: 0, fix: null });
  });
});

describe('rowCountsCheck', () => {
  it('is ok on equal counts, and reports both sides', () => {
    const { result, counts } = rowCountsCheck('campaigns', { d1: 40, supabase: 40 }, 0, 0);
    expect(result).toMatchObject({ check: 'row_counts', entity: 'campaigns', severity: 'ok', count: 0, fixed: 0, fix: null });
    expect(counts).toEqual({ d1: 40, supabase: 40, difference: 0 });
    expect(result.summary).toBe('D1 40 rows, Supabase 40 rows');
  });

  it('takes rows with pending outbox entries or in quarantine off the difference, never below 0', () => {
    expect(rowCountsCheck('prospects', { d1: 103, supabase: 100 }, 3, 0).result.severity).toBe('ok');
    const { result, counts } = rowCountsCheck('prospects', { d1: 100, supabase: 101 }, 5, 0);
    expect(counts.difference).toBe(0);
    expect(result).toMatchObject({ severity: 'ok', details: { d1: 100, supabase: 101, excused: 5, difference: 0, tolerance: 0 } });
  });

  it('with the default tolerance 0, one row is an error', () => {
    const { result, counts } = rowCountsCheck('campaigns', { d1: 39, supabase: 40 }, 0, 0);
    expect(result).toMatchObject({ severity: 'error', count: 1 });
    expect(counts.difference).toBe(1);
    expect(result.summary).toBe('D1 has 1 row fewer than Supabase (39 vs 40; tolerance 0)');
  });

  it('tolerance boundary: a warning up to and including it, an error one beyond', () => {
    expect(rowCountsCheck('c', { d1: 1050, supabase: 1000 }, 0, 50).result).toMatchObject({ severity: 'warning', count: 50 });
    expect(rowCountsCheck('c', { d1: 1051, supabase: 1000 }, 0, 50).result).toMatchObject({ severity: 'error', count: 51 });
    expect(rowCountsCheck('c', { d1: 1001, supabase: 1000 }, 0, 50).result).toMatchObject({ severity: 'warning', count: 1 });
    // The excused rows come off first: 60 apart, 10 excused, 50 left = within tolerance.
    expect(rowCountsCheck('c', { d1: 1060, supabase: 1000 }, 10, 50).result).toMatchObject({ severity: 'warning', count: 50 });
  });

  it('says which side has more', () => {
    expect(rowCountsCheck('c', { d1: 1_002, supabase: 1_000 }, 1, 0).result.summary).toBe(
      'D1 has 1 row more than Supabase (1,002 vs 1,000; 1 pending push or quarantined not counted; tolerance 0)',
    );
  });
});

const CLEAN: DriftSummary = {
  missing: 0,
  extra: 0,
  olderInD1: 0,
  newerInD1: 0,
  sameVersionOtherContent: 0,
  pendingPush: 0,
  quarantined: 0,
  found: 0,
  repaired: 0,
  supabaseRequests: 1,
  d1RowsRead: 40,
};

describe('driftCheck', () => {
  it('is ok when reconciliation found nothing', () => {
    const r = driftCheck('campaigns', CLEAN, []);
    expect(r).toMatchObject({ check: 'replica_drift', severity: 'ok', count: 0, summary: 'D1 and Supabase hold the same rows' });
    expect(r.details).toMatchObject({ supabaseRequests: 1, d1RowsRead: 40, sample: [] });
  });

  it('is an error for rows not left to the push, with per-kind counts', () => {
    const drift = { ...CLEAN, missing: 2, extra: 1, newerInD1: 1, sameVersionOtherContent: 1, pendingPush: 1, found: 5, repaired: 4 };
    const r = driftCheck('prospects', drift, ['a', 'b', 'c', 'd', 'e']);
    expect(r).toMatchObject({ severity: 'error', count: 4, fixed: 0, fix: null });
    expect(r.details).toMatchObject({
      missing: 2,
      extra: 1,
      olderInD1: 0,
      newerInD1: 1,
      sameVersionOtherContent: 1,
      pendingPush: 1,
      found: 5,
      repaired: 4,
    });
    expect(r.summary).toBe(
      '5 rows differ: 2 missing in D1, 1 extra in D1, 1 newer in D1, 1 same updated_at with other content; 1 pending push',
    );
  });

  it('raises nothing when every differing row is pending push or in quarantine, and says so', () => {
    const r = driftCheck('prospects', { ...CLEAN, olderInD1: 2, missing: 1, pendingPush: 2, quarantined: 1, found: 3 }, ['a', 'b', 'c']);
    expect(r).toMatchObject({ severity: 'ok', count: 0 });
    expect(r.summary).toBe('3 rows differ: 1 missing in D1, 2 older in D1; 2 pending push; 1 in quarantine');
  });

  it('bounds the sample to 20 ids', () => {
    const r = driftCheck('campaigns', { ...CLEAN, missing: 500, found: 500 }, ids(500));
    expect(r.details['sample']).toEqual(ids(SAMPLE_LIMIT));
  });
});

describe('orphansCheck', () => {
  it('is ok without orphans', () => {
    expect(orphansCheck('emails', { count: 0, sample: [] })).toMatchObject({ check: 'orphans', severity: 'ok', count: 0 });
  });

  it('is a warning (the email is fine, its prospect is missing), with a bounded sample', () => {
    const sample = ids(30).map((id) => ({ id, prospectId: `p-${id}` }));
    const r = orphansCheck('emails', { count: 30, sample });
    expect(r).toMatchObject({ severity: 'warning', count: 30, summary: '30 outbound emails reference a prospect missing in D1' });
    expect(r.details['sample']).toEqual(sample.slice(0, 20));
    expect(orphansCheck('emails', { count: 1, sample: sample.slice(0, 1) }).summary).toBe(
      '1 outbound email references a prospect missing in D1',
    );
  });
});

describe('duplicatesCheck', () => {
  it('is ok without groups, and ignores a group of one', () => {
    expect(duplicatesCheck('emails', [])).toMatchObject({ check: 'duplicate_message_ids', severity: 'ok', count: 0 });
    expect(duplicatesCheck('emails', [{ messageId: 'm', ids: ['a'] }])).toMatchObject({ severity: 'ok', count: 0 });
  });

  it('counts the rows beyond the first of each group, as an error', () => {
    const r = duplicatesCheck('emails', [
      { messageId: 'm1', ids: ['a', 'b'] },
      { messageId: 'm2', ids: ['c', 'd', 'e'] },
    ]);
    expect(r).toMatchObject({ severity: 'error', count: 3, summary: '2 message_ids on more than one row (3 extra rows)' });
    expect(r.details).toEqual({
      groups: 2,
      rows: 3,
      sample: [
        { messageId: 'm1', ids: ['a', 'b'] },
        { messageId: 'm2', ids: ['c', 'd', 'e'] },
      ],
    });
  });

  it('samples at most 20 ids over all groups', () => {
    const groups = Array.from({ length: 10 }, (_, g) => ({ messageId: `m${g}`, ids: ids(7, `g${g}-`) }));
    const r = duplicatesCheck('emails', groups);
    expect(r.count).toBe(60);
    const sample = r.details['sample'] as { messageId: string; ids: string[] }[];
    expect(sample.flatMap((g) => g.ids)).toHaveLength(20);
    expect(sample.map((g) => g.ids.length)).toEqual([7, 7, 6]);
    expect(sample[0]?.ids[0]).toBe('g0-0');
  });
});

describe('invalidStatesCheck', () => {
  it('is ok without findings (or with empty ones)', () => {
    expect(invalidStatesCheck('prospects', [])).toMatchObject({ check: 'invalid_states', severity: 'ok', count: 0 });
    expect(invalidStatesCheck('prospects', [{ column: 'stage', kind: 'value', count: 0, sample: [] }])).toMatchObject({
      severity: 'ok',
      details: { findings: [] },
    });
  });

  it('is an error naming each column and kind, samples bounded', () => {
    const r = invalidStatesCheck('emails', [
      { column: 'status', kind: 'value', count: 25, sample: ids(25) },
      { column: 'sent_at', kind: 'timestamp', count: 2, sample: ['x', 'y'] },
      { column: 'id', kind: 'key', count: 1, sample: ['ABC'] },
    ]);
    expect(r).toMatchObject({ severity: 'error', count: 28 });
    expect(r.summary).toBe(
      '28 invalid values: status 25 outside the allowed values, sent_at 2 not canonical timestamps, id 1 not lower-case uuids',
    );
    expect(r.details['findings']).toEqual([
      { column: 'status', kind: 'value', count: 25, sample: ids(20) },
      { column: 'sent_at', kind: 'timestamp', count: 2, sample: ['x', 'y'] },
      { column: 'id', kind: 'key', count: 1, sample: ['ABC'] },
    ]);
  });
});

describe('backlogCheck', () => {
  it('is ok with nothing older than an hour', () => {
    expect(backlogCheck('emails', { count: 0, oldestAt: null }, 0, NOW)).toMatchObject({
      check: 'push_backlog',
      severity: 'ok',
      count: 0,
      summary: 'no outbox entry older than an hour',
    });
  });

  it('threshold 0: any aged entry is a warning', () => {
    const r = backlogCheck('emails', { count: 1, oldestAt: canonicalAgo(2 * HOUR) }, 0, NOW);
    expect(r).toMatchObject({ severity: 'warning', count: 1, summary: '1 outbox entry older than an hour, the oldest 2 h old' });
    expect(r.details).toEqual({ count: 1, threshold: 0, oldestAt: canonicalAgo(2 * HOUR), oldestAgeSeconds: 7200 });
  });

  it('threshold boundary: ok up to it, a warning beyond', () => {
    expect(backlogCheck('emails', { count: 50, oldestAt: canonicalAgo(2 * HOUR) }, 50, NOW)).toMatchObject({ severity: 'ok', count: 0 });
    expect(backlogCheck('emails', { count: 51, oldestAt: canonicalAgo(2 * HOUR) }, 50, NOW)).toMatchObject({
      severity: 'warning',
      count: 51,
    });
  });

  it('24 h boundary: an error once the oldest is older than a day, whatever the threshold', () => {
    expect(backlogCheck('emails', { count: 5, oldestAt: canonicalAgo(24 * HOUR) }, 0, NOW).severity).toBe('warning');
    expect(backlogCheck('emails', { count: 5, oldestAt: canonicalAgo(24 * HOUR + 1) }, 0, NOW).severity).toBe('error');
    const r = backlogCheck('emails', { count: 5, oldestAt: canonicalAgo(3 * 24 * HOUR) }, 100, NOW);
    expect(r).toMatchObject({ severity: 'error', count: 5, summary: '5 outbox entries older than an hour, the oldest 3 days old' });
  });

  it('reads microsecond timestamps', () => {
    const r = backlogCheck('emails', { count: 1, oldestAt: '2026-11-28T11:59:59.999999Z' }, 0, NOW);
    expect(r.severity).toBe('error');
  });
});

describe('staleCheck', () => {
  const INTERVAL = 60_000;
  const MAX_RUN = 25_000;
  const fresh: StaleFacts = {
    paused: false,
    lastSuccessAt: canonicalAgo(INTERVAL),
    nextAlarmAt: canonicalAgo(-INTERVAL),
    leaseHeld: false,
    intervalMs: INTERVAL,
    maxRunMs: MAX_RUN,
    now: NOW,
  };

  it('is ok for an entity running on schedule', () => {
    expect(staleCheck('campaigns', fresh)).toMatchObject({ check: 'stale_entity', severity: 'ok', count: 0, summary: 'runs on schedule' });
  });

  it('last success boundary: three intervals plus maxRunMs', () => {
    const limit = 3 * INTERVAL + MAX_RUN;
    expect(staleCheck('c', { ...fresh, lastSuccessAt: canonicalAgo(limit) }).severity).toBe('ok');
    const r = staleCheck('c', { ...fresh, lastSuccessAt: canonicalAgo(limit + 1) });
    expect(r).toMatchObject({ severity: 'error', count: 1, summary: 'no successful run for 3 min' });
    expect(staleCheck('c', { ...fresh, lastSuccessAt: null })).toMatchObject({ severity: 'error', summary: 'no successful run yet' });
  });

  it('alarm boundary: one due within one interval plus maxRunMs; an overdue alarm counts as due', () => {
    const limit = INTERVAL + MAX_RUN;
    expect(staleCheck('c', { ...fresh, nextAlarmAt: canonicalAgo(-limit) }).severity).toBe('ok');
    expect(staleCheck('c', { ...fresh, nextAlarmAt: canonicalAgo(-limit - 1) })).toMatchObject({
      severity: 'error',
      summary: 'next alarm only in 1 min',
    });
    expect(staleCheck('c', { ...fresh, nextAlarmAt: canonicalAgo(5_000) }).severity).toBe('ok');
    expect(staleCheck('c', { ...fresh, nextAlarmAt: null })).toMatchObject({ severity: 'error', summary: 'no alarm set' });
  });

  it('a run in progress (lease held) needs no alarm: it re-arms when it ends', () => {
    expect(staleCheck('c', { ...fresh, nextAlarmAt: null, leaseHeld: true }).severity).toBe('ok');
    // The lease excuses the alarm only, not a missing success.
    expect(staleCheck('c', { ...fresh, nextAlarmAt: null, leaseHeld: true, lastSuccessAt: null }).severity).toBe('error');
  });

  it('both reasons at once', () => {
    const r = staleCheck('c', { ...fresh, lastSuccessAt: null, nextAlarmAt: null });
    expect(r.summary).toBe('no successful run yet; no alarm set');
    expect(r.details['reasons']).toEqual(['no successful run yet', 'no alarm set']);
  });

  it('paused is a warning with that reason, not an error, even without alarm or recent success', () => {
    const r = staleCheck('c', { ...fresh, paused: true, nextAlarmAt: null, lastSuccessAt: canonicalAgo(7 * 24 * HOUR) });
    expect(r).toMatchObject({ severity: 'warning', count: 1, summary: 'paused: no runs until resumed' });
    expect(r.details).toMatchObject({ paused: true, reasons: ['paused: no runs until resumed'] });
  });

  it('reports the ages it judged by', () => {
    expect(staleCheck('c', fresh).details).toMatchObject({
      lastSuccessAgeSeconds: 60,
      nextAlarmInSeconds: 60,
      intervalMs: INTERVAL,
      maxRunMs: MAX_RUN,
    });
  });
});

describe('quarantineGrowthCheck', () => {
  it('is ok on the first run (nothing to compare with), when unchanged or when it shrank', () => {
    expect(quarantineGrowthCheck('emails', 5, null)).toMatchObject({
      check: 'quarantine_growth',
      severity: 'ok',
      count: 0,
      details: { now: 5, previous: null },
    });
    expect(quarantineGrowthCheck('emails', 5, 5).severity).toBe('ok');
    expect(quarantineGrowthCheck('emails', 2, 5).severity).toBe('ok');
  });

  it('is a warning when it grew, counting the growth', () => {
    const r = quarantineGrowthCheck('emails', 7, 5);
    expect(r).toMatchObject({
      severity: 'warning',
      count: 2,
      summary: 'quarantine grew by 2 to 7 since the previous check',
      details: { now: 7, previous: 5 },
    });
  });
});
