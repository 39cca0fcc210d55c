// The D1 side of the consistency checks (src/stores/integrity.ts) against real D1 in workerd:
// each query finds exactly the planted problems and nothing on clean data, and the integrity
// history is written, read and trimmed. D1 is shared within the file: every test starts empty.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { entity } from '../shared/fixtures.ts';
import {
  agedOutboxBacklog,
  countD1Rows,
  findDuplicateMessageIds,
  findInvalidStates,
  findOrphanEmails,
  pendingRowIds,
  readIntegrityHistory,
  writeIntegrityRun,
} from '../../src/stores/integrity.ts';
import type { CheckResult, DriftSummary, IntegrityRun } from '../../src/types.ts';

type Table = 'campaigns' | 'mailboxes' | 'prospects' | 'emails';

const TABLES = ['campaigns', 'mailboxes', 'prospects', 'emails', 'sync_outbox', 'integrity_results'];

beforeEach(async () => {
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
    ...TABLES.map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
  ]);
});

const T = '2026-11-29T10:00:00.000000Z';
const uuid = (): string => crypto.randomUUID();
/** A lower-case uuid that sorts by n (for predictable samples). */
const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function insert(table: string, row: Record<string, unknown>): D1PreparedStatement {
  const cols = Object.keys(row);
  return env.DB.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `?${i + 1}`).join(', ')})`).bind(
    ...Object.values(row),
  );
}

/** Writes rows the way the pull does: invisible to the outbox triggers. */
async function plant(table: Table, rows: readonly Record<string, unknown>[]): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
    ...rows.map((r) => insert(table, r)),
    env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
  ]);
}

const campaign = (n: number, over: Record<string, unknown> = {}) => ({
  id: id(n),
  name: `c${n}`,
  status: 'active',
  starts_on: '2026-11-01',
  ends_on: null,
  created_at: T,
  updated_at: T,
  ...over,
});
const mailbox = (n: number, over: Record<string, unknown> = {}) => ({
  id: id(n),
  email: `m${n}@example.com`,
  status: 'active',
  last_used_at: null,
  created_at: T,
  updated_at: T,
  ...over,
});
const prospect = (n: number, over: Record<string, unknown> = {}) => ({
  id: id(n),
  name: `p${n}`,
  stage: 'new',
  created_at: T,
  updated_at: T,
  ...over,
});
const email = (n: number, over: Record<string, unknown> = {}) => ({
  id: id(n),
  prospect_id: null,
  to_email: 'to@example.com',
  from_email: 'from@example.com',
  message_id: null,
  direction: 'outbound',
  status: 'sent',
  sent_at: T,
  created_at: T,
  updated_at: T,
  ...over,
});

/** A clean dataset: valid rows of every synced table, emails pointing at existing prospects, unique message_ids. */
async function plantClean(): Promise<void> {
  await plant('campaigns', [campaign(1), campaign(2, { status: 'archived', starts_on: null, ends_on: '2026-12-31' })]);
  await plant('mailboxes', [mailbox(1), mailbox(2, { status: 'error', last_used_at: '2026-11-29T23:59:59.999999Z' })]);
  await plant('prospects', [prospect(1), prospect(2, { stage: 'won' })]);
  await plant('emails', [
    email(1, { prospect_id: id(1), message_id: '<a@x>' }),
    email(2, { prospect_id: id(2), message_id: '<b@x>', direction: 'inbound', status: 'replied' }),
    email(3, { prospect_id: null, message_id: null, sent_at: null }),
    email(4, { prospect_id: id(1), message_id: null }),
  ]);
}

describe('on a clean dataset every query finds nothing', () => {
  beforeEach(plantClean);

  it('no invalid states in any table', async () => {
    for (const name of ['campaigns', 'mailboxes', 'prospects', 'emails'] as const) {
      const r = await findInvalidStates(env.DB, entity(name));
      expect(r.findings, name).toEqual([]);
      expect(r.rowsRead, name).toBeGreaterThan(0);
    }
  });

  it('no orphans, no duplicate message_ids, no backlog', async () => {
    expect(await findOrphanEmails(env.DB, entity('emails'))).toMatchObject({ count: 0, sample: [], prospectIds: [] });
    expect((await findDuplicateMessageIds(env.DB, entity('emails'))).groups).toEqual([]);
    expect(await agedOutboxBacklog(env.DB, entity('emails'), 0, '2100-01-01T00:00:00.000000Z')).toMatchObject({ count: 0, oldestAt: null });
    expect((await pendingRowIds(env.DB, entity('emails'), 0)).ids.size).toBe(0);
  });
});

describe('countD1Rows', () => {
  it('counts the rows of the entity table and reports rows read', async () => {
    expect((await countD1Rows(env.DB, entity('campaigns'))).count).toBe(0);
    await plant('campaigns', [campaign(1), campaign(2), campaign(3)]);
    const r = await countD1Rows(env.DB, entity('campaigns'));
    expect(r.count).toBe(3);
    expect(r.rowsRead).toBeGreaterThanOrEqual(1);
    expect((await countD1Rows(env.DB, entity('mailboxes'))).count).toBe(0);
  });
});

describe('pendingRowIds', () => {
  it('distinct row ids with outbox entries after the push cursor, of this entity only', async () => {
    // Edge writes: the triggers record them.
    await env.DB.batch([insert('prospects', prospect(1)), insert('prospects', prospect(2))]);
    const cursor = (await env.DB.prepare('SELECT max(seq) AS s FROM sync_outbox').first<{ s: number }>())?.s ?? 0;
    await env.DB.batch([
      insert('prospects', prospect(3)),
      env.DB.prepare('UPDATE prospects SET name = ?1 WHERE id = ?2').bind('renamed', id(3)),
      env.DB.prepare('UPDATE prospects SET name = ?1 WHERE id = ?2').bind('renamed', id(1)),
      insert('emails', email(9)),
    ]);
    const r = await pendingRowIds(env.DB, entity('prospects'), cursor);
    expect([...r.ids].sort()).toEqual([id(1), id(3)]);
    expect(r.truncated).toBe(false);
    expect(r.rowsRead).toBeGreaterThan(0);
    expect([...(await pendingRowIds(env.DB, entity('prospects'), 0)).ids].sort()).toEqual([id(1), id(2), id(3)]);
    expect([...(await pendingRowIds(env.DB, entity('emails'), 0)).ids]).toEqual([id(9)]);
  });

  it('stops at the limit and says so', async () => {
    await env.DB.batch([1, 2, 3, 4, 5].map((n) => insert('prospects', prospect(n))));
    const r = await pendingRowIds(env.DB, entity('prospects'), 0, 3);
    expect(r.ids.size).toBe(3);
    expect(r.truncated).toBe(true);
    expect((await pendingRowIds(env.DB, entity('prospects'), 0, 5)).truncated).toBe(false);
  });
});

describe('findOrphanEmails', () => {
  it('finds exactly the outbound emails whose prospect is missing in D1', async () => {
    const [missingA, missingB, missingInbound] = [id(900), id(901), id(902)];
    await plant('prospects', [prospect(1)]);
    await plant('emails', [
      email(10, { prospect_id: id(1) }), // prospect present
      email(11, { prospect_id: missingA }),
      email(12, { prospect_id: missingB }),
      email(13, { prospect_id: missingA }),
      email(14, { prospect_id: missingInbound, direction: 'inbound' }), // inbound: not an orphan
      email(15, { prospect_id: null }), // no prospect at all: not an orphan
    ]);
    const r = await findOrphanEmails(env.DB, entity('emails'));
    expect(r.count).toBe(3);
    expect(r.sample).toEqual([
      { id: id(11), prospectId: missingA },
      { id: id(12), prospectId: missingB },
      { id: id(13), prospectId: missingA },
    ]);
    expect(r.prospectIds).toEqual([missingA, missingB]);
    expect(r.rowsRead).toBeGreaterThan(0);
  });

  it('bounds the sample, not the count', async () => {
    await plant(
      'emails',
      Array.from({ length: 30 }, (_, i) => email(100 + i, { prospect_id: id(1000 + (i % 4)) })),
    );
    const r = await findOrphanEmails(env.DB, entity('emails'), 5);
    expect(r.count).toBe(30);
    expect(r.sample.map((s) => s.id)).toEqual([100, 101, 102, 103, 104].map(id));
    expect(r.prospectIds).toEqual([1000, 1001, 1002, 1003].map(id));
  });

  it('an email stops being an orphan once its prospect arrives', async () => {
    await plant('emails', [email(10, { prospect_id: id(1) })]);
    expect((await findOrphanEmails(env.DB, entity('emails'))).count).toBe(1);
    await plant('prospects', [prospect(1)]);
    expect((await findOrphanEmails(env.DB, entity('emails'))).count).toBe(0);
  });
});

describe('findDuplicateMessageIds', () => {
  it('groups rows sharing a message_id, earliest first (created_at, then id); NULL is not a duplicate', async () => {
    await plant('emails', [
      email(1, { message_id: '<m1>', created_at: '2026-11-29T10:00:00.000003Z' }),
      email(2, { message_id: '<m1>', created_at: '2026-11-29T10:00:00.000001Z' }),
      email(3, { message_id: '<m1>', created_at: '2026-11-29T10:00:00.000002Z' }),
      email(5, { message_id: '<m2>' }),
      email(4, { message_id: '<m2>' }),
      email(6, { message_id: '<single>' }),
      email(7, { message_id: null }),
      email(8, { message_id: null }),
    ]);
    const r = await findDuplicateMessageIds(env.DB, entity('emails'));
    expect(r.groups).toEqual([
      { messageId: '<m1>', ids: [id(2), id(3), id(1)] },
      { messageId: '<m2>', ids: [id(4), id(5)] },
    ]);
    expect(r.truncated).toBe(false);
    expect(r.rowsRead).toBeGreaterThan(0);
  });

  it('returns at most `limit` groups and says when there are more', async () => {
    await plant(
      'emails',
      Array.from({ length: 10 }, (_, i) => email(i + 1, { message_id: `<m${Math.floor(i / 2)}>` })),
    );
    const r = await findDuplicateMessageIds(env.DB, entity('emails'), 3);
    expect(r.groups.map((g) => g.messageId)).toEqual(['<m0>', '<m1>', '<m2>']);
    expect(r.truncated).toBe(true);
    expect((await findDuplicateMessageIds(env.DB, entity('emails'), 5)).truncated).toBe(false);
  });
});

/** Plants a campaign with a non-canonical key (the canonical-key trigger refuses them since migration 0004: rows from before it). */
async function plantLegacyKeyCampaign(key: string): Promise<void> {
  const trigger = await env.DB.prepare(
    `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'campaigns_canonical_key_insert'`,
  ).first<{ sql: string }>();
  if (!trigger) throw new Error('campaigns_canonical_key_insert missing');
  await env.DB.batch([
    env.DB.prepare('DROP TRIGGER campaigns_canonical_key_insert'),
    insert('campaigns', campaign(0, { id: key })),
    env.DB.prepare(trigger.sql),
  ]);
}

describe('findInvalidStates', () => {
  it('values outside the allowed set (case matters), NULL and allowed values pass', async () => {
    await plant('prospects', [
      prospect(1),
      prospect(2, { stage: 'customer' }),
      prospect(3, { stage: 'Won' }),
      prospect(4, { stage: 'lost' }),
    ]);
    const r = await findInvalidStates(env.DB, entity('prospects'));
    expect(r.findings).toEqual([{ column: 'stage', kind: 'value', count: 2, sample: [id(2), id(3)] }]);
  });

  it('timestamps: the canonical 27-character form only, not seconds-only, space, lower case, offsets, infinity or impossible times', async () => {
    const bad = [
      '2026-11-29T10:00:00Z',
      '2026-11-29T10:00:00.000Z',
      '2026-11-29 10:00:00.000000Z',
      '2026-11-29t10:00:00.000000z',
      '2026-11-29T10:00:00.000000+00:00',
      'infinity',
      '-infinity',
      '2026-13-01T00:00:00.000000Z',
      '2026-02-30T00:00:00.000000Z',
      '2026-11-29T25:00:00.000000Z',
      '',
    ];
    await plant('mailboxes', [
      mailbox(1, { last_used_at: T }),
      mailbox(2, { last_used_at: null }),
      mailbox(3, { last_used_at: '2024-02-29T23:59:59.999999Z' }),
      ...bad.map((value, i) => mailbox(10 + i, { last_used_at: value })),
    ]);
    const r = await findInvalidStates(env.DB, entity('mailboxes'));
    expect(r.findings).toEqual([{ column: 'last_used_at', kind: 'timestamp', count: bad.length, sample: bad.map((_, i) => id(10 + i)) }]);
  });

  it('dates: YYYY-MM-DD that exist', async () => {
    await plant('campaigns', [
      campaign(1),
      campaign(2, { starts_on: '2024-02-29' }),
      campaign(3, { starts_on: '2026-1-05' }),
      campaign(4, { starts_on: '2026-02-30' }),
      campaign(5, { ends_on: '2026-11-29T00:00:00.000000Z' }),
    ]);
    const r = await findInvalidStates(env.DB, entity('campaigns'));
    expect(r.findings).toEqual([
      { column: 'starts_on', kind: 'date', count: 2, sample: [id(3), id(4)] },
      { column: 'ends_on', kind: 'date', count: 1, sample: [id(5)] },
    ]);
  });

  it('keys: only lower-case 8-4-4-4-12 hex uuids', async () => {
    await plant('campaigns', [campaign(1), campaign(2, { id: 'not-a-uuid' }), campaign(3, { id: uuid().replaceAll('-', '') })]);
    const upper = uuid().toUpperCase();
    await plantLegacyKeyCampaign(upper);
    // The trigger is back: an upper-case key is still refused.
    await expect(plant('campaigns', [campaign(4, { id: uuid().toUpperCase() })])).rejects.toThrow(/lower case/);
    const r = await findInvalidStates(env.DB, entity('campaigns'));
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ column: 'id', kind: 'key', count: 3 });
    expect(new Set(r.findings[0]?.sample)).toEqual(
      new Set(['not-a-uuid', upper, (await env.DB.prepare(`SELECT id FROM campaigns WHERE length(id) = 32`).first<{ id: string }>())?.id]),
    );
  });

  it('every kind at once in one table, each counted on its own', async () => {
    await plant('emails', [
      email(1),
      email(2, { direction: 'sideways' }),
      email(3, { status: 'SENT', sent_at: 'infinity' }),
      email(4, { status: 'lost', direction: 'inbound', updated_at: '2026-11-29T10:00:00Z' }),
      email(5, { id: 'e-5' }),
    ]);
    const r = await findInvalidStates(env.DB, entity('emails'));
    expect(r.findings).toEqual([
      { column: 'id', kind: 'key', count: 1, sample: ['e-5'] },
      { column: 'direction', kind: 'value', count: 1, sample: [id(2)] },
      { column: 'status', kind: 'value', count: 2, sample: [id(3), id(4)] },
      { column: 'sent_at', kind: 'timestamp', count: 1, sample: [id(3)] },
      { column: 'updated_at', kind: 'timestamp', count: 1, sample: [id(4)] },
    ]);
  });

  it('bounds each sample, not the count', async () => {
    await plant(
      'campaigns',
      Array.from({ length: 25 }, (_, i) => campaign(i + 1, { status: 'deleted' })),
    );
    const r = await findInvalidStates(env.DB, entity('campaigns'), 20);
    expect(r.findings).toEqual([{ column: 'status', kind: 'value', count: 25, sample: Array.from({ length: 20 }, (_, i) => id(i + 1)) }]);
    expect((await findInvalidStates(env.DB, entity('campaigns'), 2)).findings[0]?.sample).toEqual([id(1), id(2)]);
  });

  it('scans once when clean; reads samples only for conditions that found something', async () => {
    await plant(
      'campaigns',
      Array.from({ length: 50 }, (_, i) => campaign(i + 1)),
    );
    const clean = await findInvalidStates(env.DB, entity('campaigns'));
    expect(clean.rowsRead).toBe(50);
    await plant('campaigns', [campaign(51, { status: 'deleted' })]);
    const dirty = await findInvalidStates(env.DB, entity('campaigns'));
    // The counting scan plus one sample query over the table.
    expect(dirty.rowsRead).toBe(51 * 2);
  });
});

describe('agedOutboxBacklog', () => {
  it('counts entries after the cursor changed before the cut-off, and the oldest', async () => {
    const outbox = (entityName: string, changedAt: string) =>
      env.DB.prepare(`INSERT INTO sync_outbox (entity, row_id, op, changed_at) VALUES (?1, ?2, 'upsert', ?3)`).bind(
        entityName,
        uuid(),
        changedAt,
      );
    await env.DB.batch([
      outbox('emails', '2026-11-29T07:00:00.000000Z'), // confirmed (before the cursor)
      outbox('emails', '2026-11-29T08:00:00.000000Z'),
      outbox('emails', '2026-11-29T09:30:00.000000Z'),
      outbox('emails', '2026-11-29T10:59:59.999999Z'),
      outbox('emails', '2026-11-29T11:00:00.000000Z'), // not older than the cut-off
      outbox('prospects', '2026-11-29T06:00:00.000000Z'), // another entity
    ]);
    const first = (await env.DB.prepare(`SELECT min(seq) AS s FROM sync_outbox`).first<{ s: number }>())?.s ?? 0;
    const r = await agedOutboxBacklog(env.DB, entity('emails'), first, '2026-11-29T11:00:00.000000Z');
    expect(r).toMatchObject({ count: 3, oldestAt: '2026-11-29T08:00:00.000000Z' });
    expect(r.rowsRead).toBeGreaterThan(0);
    expect(await agedOutboxBacklog(env.DB, entity('emails'), 0, '2026-11-29T11:00:00.000000Z')).toMatchObject({
      count: 4,
      oldestAt: '2026-11-29T07:00:00.000000Z',
    });
    expect(await agedOutboxBacklog(env.DB, entity('emails'), first, '2026-11-29T08:00:00.000000Z')).toMatchObject({
      count: 0,
      oldestAt: null,
    });
  });
});

const DRIFT: DriftSummary = {
  missing: 2,
  extra: 1,
  olderInD1: 0,
  newerInD1: 0,
  sameVersionOtherContent: 0,
  pendingPush: 0,
  quarantined: 0,
  found: 3,
  repaired: 3,
  supabaseRequests: 2,
  d1RowsRead: 80,
};

function check(name: CheckResult['check'], entityName: string, severity: CheckResult['severity'], count = 0, fixed = 0): CheckResult {
  return {
    check: name,
    entity: entityName,
    severity,
    count,
    summary: `${name} summary`,
    details: { n: count },
    fixed,
    fix: fixed > 0 ? `fixed ${fixed}` : null,
  };
}

function run(runId: string, entityName: string, finishedAt: string, over: Partial<IntegrityRun> = {}): IntegrityRun {
  return {
    runId,
    entity: entityName,
    startedAt: finishedAt,
    finishedAt,
    trigger: 'hourly',
    fix: false,
    reconciled: false,
    ok: true,
    counts: { d1: 40, supabase: 40, difference: 0 },
    drift: null,
    error: null,
    checks: [check('row_counts', entityName, 'ok'), check('invalid_states', entityName, 'ok')],
    ...over,
  };
}

const at = (minute: number): string => `2026-11-29T10:${String(minute).padStart(2, '0')}:00.000000Z`;

describe('integrity history', () => {
  it('writes one row per check with the run facts, counts on row_counts and drift on replica_drift', async () => {
    await writeIntegrityRun(
      env.DB,
      run('r1', 'campaigns', at(1), {
        trigger: 'daily',
        fix: true,
        reconciled: true,
        ok: false,
        drift: DRIFT,
        counts: { d1: 38, supabase: 40, difference: 2 },
        checks: [
          check('row_counts', 'campaigns', 'error', 2, 2),
          check('replica_drift', 'campaigns', 'error', 3, 3),
          check('invalid_states', 'campaigns', 'ok'),
        ],
      }),
    );
    const rows = (await env.DB.prepare('SELECT * FROM integrity_results ORDER BY id').all()).results;
    expect(rows.map((r) => [r['run_id'], r['checked_at'], r['check_name'], r['entity'], r['severity'], r['count'], r['fixed']])).toEqual([
      ['r1', at(1), 'row_counts', 'campaigns', 'error', 2, 2],
      ['r1', at(1), 'replica_drift', 'campaigns', 'error', 3, 3],
      ['r1', at(1), 'invalid_states', 'campaigns', 'ok', 0, 0],
    ]);
    const details = rows.map((r) => JSON.parse(String(r['details'])) as Record<string, unknown>);
    const runFacts = { trigger: 'daily', fix: true, reconciled: true, ok: false, startedAt: at(1), error: null };
    expect(details[0]).toEqual({
      summary: 'row_counts summary',
      fix: 'fixed 2',
      details: { n: 2 },
      run: runFacts,
      counts: { d1: 38, supabase: 40, difference: 2 },
    });
    expect(details[1]).toEqual({ summary: 'replica_drift summary', fix: 'fixed 3', details: { n: 3 }, run: runFacts, drift: DRIFT });
    expect(details[2]).toEqual({ summary: 'invalid_states summary', fix: null, details: { n: 0 }, run: runFacts });
  });

  it('a failed run without checks still leaves one row', async () => {
    await writeIntegrityRun(env.DB, run('r-err', 'emails', at(2), { ok: false, checks: [], counts: null, error: 'Supabase unreachable' }));
    const rows = (await env.DB.prepare('SELECT check_name, severity, count FROM integrity_results').all()).results;
    expect(rows).toEqual([{ check_name: 'run', severity: 'error', count: 0 }]);
    const { runs } = await readIntegrityHistory(env.DB, { runs: 5 });
    expect(runs).toEqual([
      {
        runId: 'r-err',
        entity: 'emails',
        checkedAt: at(2),
        trigger: 'hourly',
        fix: false,
        reconciled: false,
        ok: false,
        problems: 0,
        fixed: 0,
        error: 'Supabase unreachable',
        counts: null,
        drift: null,
        checks: [],
      },
    ]);
  });

  it('reads runs newest first with their checks, problems and fixed; per entity or overall', async () => {
    await writeIntegrityRun(env.DB, run('a1', 'campaigns', at(1)));
    await writeIntegrityRun(
      env.DB,
      run('b1', 'emails', at(2), {
        ok: false,
        fix: true,
        reconciled: true,
        drift: DRIFT,
        checks: [
          check('row_counts', 'emails', 'warning', 1, 0),
          check('replica_drift', 'emails', 'error', 3, 3),
          check('push_backlog', 'emails', 'ok'),
        ],
      }),
    );
    await writeIntegrityRun(env.DB, run('a2', 'campaigns', at(3)));

    const all = await readIntegrityHistory(env.DB, { runs: 10 });
    expect(all.runs.map((r) => `${r.entity}:${r.runId}`)).toEqual(['campaigns:a2', 'emails:b1', 'campaigns:a1']);
    expect(all.rowsRead).toBeGreaterThan(0);
    expect(all.runs[1]).toEqual({
      runId: 'b1',
      entity: 'emails',
      checkedAt: at(2),
      trigger: 'hourly',
      fix: true,
      reconciled: true,
      ok: false,
      problems: 2,
      fixed: 3,
      error: null,
      counts: { d1: 40, supabase: 40, difference: 0 },
      drift: DRIFT,
      checks: [
        { check: 'row_counts', severity: 'warning', count: 1, fixed: 0, summary: 'row_counts summary' },
        { check: 'replica_drift', severity: 'error', count: 3, fixed: 3, summary: 'replica_drift summary' },
        { check: 'push_backlog', severity: 'ok', count: 0, fixed: 0, summary: 'push_backlog summary' },
      ],
    });
    expect(all.runs[0]).toMatchObject({ ok: true, problems: 0, fixed: 0, checks: [{ check: 'row_counts' }, { check: 'invalid_states' }] });

    expect((await readIntegrityHistory(env.DB, { runs: 2 })).runs.map((r) => r.runId)).toEqual(['a2', 'b1']);
    expect((await readIntegrityHistory(env.DB, { entity: 'campaigns', runs: 10 })).runs.map((r) => r.runId)).toEqual(['a2', 'a1']);
    expect((await readIntegrityHistory(env.DB, { entity: 'campaigns', runs: 1 })).runs.map((r) => r.runId)).toEqual(['a2']);
    expect((await readIntegrityHistory(env.DB, { entity: 'mailboxes', runs: 10 })).runs).toEqual([]);
    expect((await readIntegrityHistory(env.DB, { runs: 0 })).runs).toEqual([]);
  });

  it("trims an entity's history to its newest runs, leaving other entities alone", async () => {
    await writeIntegrityRun(env.DB, run('other', 'emails', at(0)));
    for (let i = 1; i <= 6; i += 1) await writeIntegrityRun(env.DB, run(`c${i}`, 'campaigns', at(i)), 3);
    const campaigns = await readIntegrityHistory(env.DB, { entity: 'campaigns', runs: 50 });
    expect(campaigns.runs.map((r) => r.runId)).toEqual(['c6', 'c5', 'c4']);
    expect(campaigns.runs.every((r) => r.checks.length === 2)).toBe(true);
    expect((await readIntegrityHistory(env.DB, { entity: 'emails', runs: 50 })).runs.map((r) => r.runId)).toEqual(['other']);
    const left = await env.DB.prepare(`SELECT count(*) AS n FROM integrity_results WHERE entity = 'campaigns'`).first<{ n: number }>();
    expect(left?.n).toBe(6);
  });

  it('reads the history through the (entity, id) index', async () => {
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN SELECT id FROM integrity_results WHERE entity = ?1 ORDER BY id DESC`)
      .bind('campaigns')
      .all<{ detail: string }>();
    expect(plan.results.map((p) => p.detail).join(' ')).toContain('integrity_results_entity_id');
  });
});
