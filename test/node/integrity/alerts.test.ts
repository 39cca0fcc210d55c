import { describe, expect, it } from 'vitest';
import { ALERT_DETAILS_MAX_CHARS, alertKey, alertPayload, planAlerts, type AlertMessage } from '../../../src/integrity/alerts.ts';
import type { ActiveAlert, CheckName, CheckResult, CheckSeverity } from '../../../src/types.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function result(
  entity: string,
  check: CheckName,
  severity: CheckSeverity,
  summary = `${check} summary`,
  count = severity === 'ok' ? 0 : 3,
): CheckResult {
  return { check, entity, severity, count, summary, details: { sample: ['a'] }, fixed: 0, fix: null };
}

function alert(entity: string, check: CheckName, since: number, lastSentAt: number | null, summary = 'old summary'): ActiveAlert {
  return {
    key: alertKey(entity, check),
    entity,
    check,
    summary,
    since: iso(since),
    lastSentAt: lastSentAt === null ? null : iso(lastSentAt),
  };
}

describe('alertKey', () => {
  it('joins entity and check', () => {
    expect(alertKey('emails', 'duplicate_message_ids')).toBe('emails:duplicate_message_ids');
  });
});

describe('planAlerts sends a problem once per hour, then resolved', () => {
  it('fires a new problem and records it with since = lastSentAt = now', () => {
    const plan = planAlerts({}, [result('emails', 'duplicate_message_ids', 'error', '3 rows share a message_id')], T0);
    expect(plan.messages).toEqual([
      {
        status: 'firing',
        key: 'emails:duplicate_message_ids',
        entity: 'emails',
        check: 'duplicate_message_ids',
        severity: 'error',
        summary: '3 rows share a message_id',
        count: 3,
        details: { sample: ['a'] },
        since: iso(T0),
      } satisfies AlertMessage,
    ]);
    expect(plan.active).toEqual({
      'emails:duplicate_message_ids': {
        key: 'emails:duplicate_message_ids',
        entity: 'emails',
        check: 'duplicate_message_ids',
        summary: '3 rows share a message_id',
        since: iso(T0),
        lastSentAt: iso(T0),
      },
    });
  });

  it('sends nothing for ok results with no active alert', () => {
    const plan = planAlerts({}, [result('emails', 'orphans', 'ok')], T0);
    expect(plan).toEqual({ messages: [], active: {} });
  });

  it('stays silent within the hour but keeps the summary current', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, T0) };
    const plan = planAlerts(active, [result('emails', 'orphans', 'warning', '4 orphans')], T0 + HOUR - 1);
    expect(plan.messages).toEqual([]);
    expect(plan.active['emails:orphans']).toEqual({ ...alert('emails', 'orphans', T0, T0), summary: '4 orphans' });
  });

  it('reminds once the hour has passed, keeping since and moving lastSentAt', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, T0) };
    const plan = planAlerts(active, [result('emails', 'orphans', 'warning', '4 orphans')], T0 + HOUR);
    expect(plan.messages).toMatchObject([
      { status: 'firing', key: 'emails:orphans', severity: 'warning', summary: '4 orphans', since: iso(T0) },
    ]);
    expect(plan.active['emails:orphans']).toMatchObject({ since: iso(T0), lastSentAt: iso(T0 + HOUR) });
  });

  it('honours a custom repeat interval', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, T0) };
    expect(planAlerts(active, [result('emails', 'orphans', 'warning')], T0 + 60_000, 60_000).messages).toHaveLength(1);
    expect(planAlerts(active, [result('emails', 'orphans', 'warning')], T0 + 59_999, 60_000).messages).toHaveLength(0);
  });

  it('sends an alert never sent (lastSentAt null) right away', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, null) };
    const plan = planAlerts(active, [result('emails', 'orphans', 'warning')], T0 + 1);
    expect(plan.messages).toHaveLength(1);
    expect(plan.active['emails:orphans']?.lastSentAt).toBe(iso(T0 + 1));
  });

  it('resolves a cleared problem with what it was, and forgets it', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, T0, '4 orphans') };
    const plan = planAlerts(active, [result('emails', 'orphans', 'ok', 'no orphans')], T0 + 10);
    expect(plan.messages).toEqual([
      {
        status: 'resolved',
        key: 'emails:orphans',
        entity: 'emails',
        check: 'orphans',
        severity: 'ok',
        summary: '4 orphans',
        count: 0,
        details: { sample: ['a'] },
        since: iso(T0),
      } satisfies AlertMessage,
    ]);
    expect(plan.active).toEqual({});
  });

  it('leaves alerts of checks not run, and of other entities, as they are', () => {
    const active = {
      'emails:orphans': alert('emails', 'orphans', T0, T0),
      'prospects:row_counts': alert('prospects', 'row_counts', T0, T0),
      'emails:push_backlog': alert('emails', 'push_backlog', T0, T0),
    };
    const plan = planAlerts(active, [result('emails', 'push_backlog', 'ok')], T0 + 2 * HOUR);
    expect(plan.messages.map((m) => `${m.status} ${m.key}`)).toEqual(['resolved emails:push_backlog']);
    expect(plan.active).toEqual({ 'emails:orphans': active['emails:orphans'], 'prospects:row_counts': active['prospects:row_counts'] });
  });

  it('does not modify the state it was given', () => {
    const active = { 'emails:orphans': alert('emails', 'orphans', T0, T0) };
    const copy = structuredClone(active);
    planAlerts(active, [result('emails', 'orphans', 'ok'), result('emails', 'row_counts', 'error')], T0 + HOUR);
    expect(active).toEqual(copy);
  });

  it('counts a check reported twice in one run once, at its worst severity', () => {
    const plan = planAlerts(
      {},
      [
        result('emails', 'invalid_states', 'warning'),
        result('emails', 'invalid_states', 'error'),
        result('emails', 'invalid_states', 'ok'),
      ],
      T0,
    );
    expect(plan.messages).toMatchObject([{ status: 'firing', severity: 'error' }]);
  });

  it('fires once per problem per hour over three hours of checks every 20 minutes, then resolves', () => {
    let active: Record<string, ActiveAlert> = {};
    const sent: string[] = [];
    for (let i = 0; i < 9; i++) {
      const plan = planAlerts(active, [result('emails', 'orphans', 'warning')], T0 + i * 20 * 60_000);
      active = plan.active;
      sent.push(...plan.messages.map((m) => `${i}:${m.status}`));
    }
    const clean = planAlerts(active, [result('emails', 'orphans', 'ok')], T0 + 9 * 20 * 60_000);
    sent.push(...clean.messages.map((m) => `9:${m.status}`));
    expect(sent).toEqual(['0:firing', '3:firing', '6:firing', '9:resolved']);
  });
});

describe('alertPayload', () => {
  const firing: AlertMessage = {
    status: 'firing',
    key: 'emails:duplicate_message_ids',
    entity: 'emails',
    check: 'duplicate_message_ids',
    severity: 'error',
    summary: '3 rows share a message_id',
    count: 3,
    details: { ids: ['x'] },
    since: '2026-11-29T10:00:00.000Z',
  };

  it('carries a Slack-readable text and the structured fields', () => {
    expect(alertPayload(firing, 'https://sync.example.com/')).toEqual({
      text: '[sync] emails: duplicate_message_ids — 3 rows share a message_id (error, firing since 2026-11-29T10:00:00.000Z) <https://sync.example.com/>',
      status: 'firing',
      problem: 'duplicate_message_ids',
      entity: 'emails',
      severity: 'error',
      summary: '3 rows share a message_id',
      count: 3,
      details: { ids: ['x'] },
      since: '2026-11-29T10:00:00.000Z',
      dashboard: 'https://sync.example.com/',
    });
  });

  it('marks resolved messages and omits the link without a dashboard URL', () => {
    const payload = alertPayload({ ...firing, status: 'resolved', severity: 'ok', count: 0 }, null);
    expect(payload.text).toBe(
      '[sync] RESOLVED emails: duplicate_message_ids — 3 rows share a message_id (was firing since 2026-11-29T10:00:00.000Z)',
    );
    expect(payload).toMatchObject({ status: 'resolved', dashboard: null });
  });

  it('escapes Slack markup in the summary, not in the structured field', () => {
    const payload = alertPayload({ ...firing, summary: 'a <b> & c' }, null);
    expect(payload.text).toContain('a &lt;b&gt; &amp; c');
    expect(payload.summary).toBe('a <b> & c');
  });

  it('keeps small details and bounds large ones to a truncated preview', () => {
    const big = { ids: Array.from({ length: 2000 }, (_, i) => `"id-${i}"`) };
    const details = alertPayload({ ...firing, details: big }, null).details;
    expect(JSON.stringify(details).length).toBeLessThanOrEqual(ALERT_DETAILS_MAX_CHARS);
    expect(details).toMatchObject({ truncated: true, chars: JSON.stringify(big).length });
    expect(JSON.stringify(big).startsWith(String(details['preview']))).toBe(true);
  });
});
