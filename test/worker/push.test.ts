import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { email } from '../shared/fixtures.ts';
import { insertEmails, syncUntilCaughtUp, testCoordinator, testDatabase, uniqueName, wipeD1, type TestDatabase } from './helpers.ts';

beforeEach(wipeD1);

async function count(db: TestDatabase, where = 'true'): Promise<number> {
  return (await db.sql<{ n: number }>(`select count(*)::int as n from emails where ${where}`))[0]?.n ?? -1;
}

describe('push: emails through the outbox', () => {
  it('sends 10,000 emails written to D1 in pages, then their later updates and deletes', async () => {
    const db = testDatabase(uniqueName('emails10k'));
    const rows = Array.from({ length: 10_000 }, (_, i) => email(i));
    await insertEmails(rows);
    const stub = await testCoordinator('emails', db, { pageSize: 500, maxPagesPerRun: 8 });
    expect((await stub.status('emails')).push?.pending).toBe(10_000);

    await db.resetStats();
    const { runs } = await syncUntilCaughtUp(stub, 'emails');
    expect(runs).toBe(3); // 20 pages of 500 at 8 pages per run: 8, 8, 4
    const { requests } = (await db.stats()) as { requests: Record<string, number> };
    expect(requests).toEqual({ 'POST rpc/sync_apply_push': 20 }); // one request per page, nothing else
    expect(await count(db)).toBe(10_000);
    const status = await stub.status('emails');
    expect(status.push?.pending).toBe(0);
    expect(status.push?.oldestPendingAt).toBeNull();

    const opened = rows.slice(0, 300).map((r) => r.id as string);
    const removed = rows.slice(9_900).map((r) => r.id as string);
    await env.DB.prepare(
      `UPDATE emails SET opened_at = '2026-11-29T07:00:00.000001Z', status = 'opened' WHERE id IN (SELECT value FROM json_each(?1))`,
    )
      .bind(JSON.stringify(opened))
      .run();
    await env.DB.prepare(`UPDATE emails SET replied_at = '2026-11-29T08:00:00.000000Z', status = 'replied' WHERE id = ?1`)
      .bind(opened[0])
      .run();
    await env.DB.prepare(`DELETE FROM emails WHERE id IN (SELECT value FROM json_each(?1))`).bind(JSON.stringify(removed)).run();
    expect((await stub.status('emails')).push?.pending).toBe(401); // 300 opened, 1 replied, 100 deleted

    await syncUntilCaughtUp(stub, 'emails');
    expect(await count(db)).toBe(9_900);
    expect(await count(db, `opened_at = '2026-11-29T07:00:00.000001Z' and status in ('opened', 'replied')`)).toBe(300);
    const replied = await db.sql<{ status: string; replied_at: string }>(
      `select status, to_json(replied_at) #>> '{}' as replied_at from emails where id = $1`,
      [opened[0]],
    );
    expect(replied[0]).toEqual({ status: 'replied', replied_at: '2026-11-29T08:00:00+00:00' });
    // Pushed rows keep the edge write's own updated_at, to the microsecond.
    const d1 = await env.DB.prepare(`SELECT updated_at FROM emails WHERE id = ?1`).bind(opened[1]).first<{ updated_at: string }>();
    const sb = await db.sql<{ updated_at: string }>(
      `select to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_at from emails where id = $1`,
      [opened[1]],
    );
    expect(sb[0]?.updated_at).toBe(d1?.updated_at);
    expect(
      (await env.DB.prepare(`SELECT count(*) AS n FROM sync_outbox WHERE entity = 'emails'`).first<{ n: number }>())?.n,
    ).toBeLessThanOrEqual(401);
  });

  it('re-sends after a crash between the Supabase write and the cursor save, without duplicates or loss', async () => {
    const db = testDatabase(uniqueName('resend'));
    const rows = Array.from({ length: 50 }, (_, i) => email(i));
    await insertEmails(rows);
    const stub = await testCoordinator('emails', db);
    await syncUntilCaughtUp(stub, 'emails');
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(rows[0]?.id).run();
    await env.DB.prepare(`DELETE FROM emails WHERE id = ?1`).bind(rows[1]?.id).run();
    const seqBefore = (await stub.status('emails')).push?.confirmedSeq ?? -1;
    await syncUntilCaughtUp(stub, 'emails');
    // The crash: Supabase has the page, but the cursor save was lost.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(`UPDATE meta SET value = ? WHERE key = 'push_seq'`, JSON.stringify(seqBefore));
    });
    expect((await stub.status('emails')).push?.pending).toBe(2);
    const again = await stub.syncNow('emails');
    if (!again.ran) throw new Error('coalesced');
    expect(again.run.stats.rowsRead).toBe(2);
    expect(await count(db)).toBe(49);
    expect(await count(db, `status = 'opened'`)).toBe(1);
    expect((await stub.status('emails')).push?.pending).toBe(0);
  });

  it('survives a connection dropped mid-response and sends everything on the next run', async () => {
    const db = testDatabase(uniqueName('drop'));
    await insertEmails(Array.from({ length: 30 }, (_, i) => email(i)));
    const stub = await testCoordinator('emails', db);
    await db.faults({ dropRate: 1, count: 1 });
    const failed = await stub.syncNow('emails');
    if (!failed.ran) throw new Error('coalesced');
    expect(failed.run.outcome).toBe('failed');
    await db.clearFaults();
    await syncUntilCaughtUp(stub, 'emails');
    expect(await count(db)).toBe(30);
  });
});

describe('push: the outbox', () => {
  it('records one entry per edge write, whether or not the writer sets updated_at', async () => {
    const row = email(1);
    await insertEmails([row]);
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(row.id).run();
    await env.DB.prepare(`UPDATE emails SET status = 'clicked', updated_at = '2030-01-01T00:00:00.000000Z' WHERE id = ?1`)
      .bind(row.id)
      .run();
    await env.DB.prepare(`DELETE FROM emails WHERE id = ?1`).bind(row.id).run();
    const entries = await env.DB.prepare(`SELECT op FROM sync_outbox WHERE row_id = ?1 ORDER BY seq`).bind(row.id).all<{ op: string }>();
    expect(entries.results.map((e) => e.op)).toEqual(['upsert', 'upsert', 'upsert', 'delete']);
  });

  it('bumps updated_at on an edge update that does not set it', async () => {
    const row = email(2);
    await insertEmails([row]);
    const before = await env.DB.prepare(`SELECT updated_at FROM emails WHERE id = ?1`).bind(row.id).first<{ updated_at: string }>();
    await new Promise((r) => setTimeout(r, 5));
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(row.id).run();
    const after = await env.DB.prepare(`SELECT updated_at FROM emails WHERE id = ?1`).bind(row.id).first<{ updated_at: string }>();
    expect(after?.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect((after?.updated_at ?? '') > (before?.updated_at ?? '')).toBe(true);
  });
});

describe('push: rows Supabase rejects', () => {
  it('quarantines the one email that violates a constraint and lands the rest of its page', async () => {
    const db = testDatabase(uniqueName('reject'));
    const rows = Array.from({ length: 40 }, (_, i) => email(i));
    const bad = email(99, { status: 'teleported' }); // violates the status CHECK constraint
    await insertEmails([...rows.slice(0, 17), bad, ...rows.slice(17)]);
    const stub = await testCoordinator('emails', db);
    const run = await stub.syncNow('emails');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.outcome).toBe('caught-up');
    expect(run.run.stats.rowsQuarantined).toBe(1);
    expect(await count(db)).toBe(40);
    const q = await stub.quarantined('emails');
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ rowId: bad.id, direction: 'push' });
    expect(q[0]?.reason).toMatch(/23514|check constraint/i);

    // Fixing the row in D1 sends it and releases it from quarantine.
    await env.DB.prepare(`UPDATE emails SET status = 'sent' WHERE id = ?1`).bind(bad.id).run();
    await syncUntilCaughtUp(stub, 'emails');
    expect(await count(db)).toBe(41);
    expect(await stub.quarantined('emails')).toHaveLength(0);
  });

  it('quarantines a D1 row that fails the registry schema before sending anything', async () => {
    const db = testDatabase(uniqueName('schema'));
    await insertEmails([email(1), email(2, { id: 'not-a-uuid' })]);
    const stub = await testCoordinator('emails', db);
    const run = await stub.syncNow('emails');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.rowsQuarantined).toBe(1);
    expect(await count(db)).toBe(1);
    expect((await stub.quarantined('emails'))[0]?.reason).toMatch(/id: not a uuid/);
  });
});

describe('push: conflicts', () => {
  it('records a conflict when the Supabase copy was edited after the D1 write, and source-wins overwrites it', async () => {
    const db = testDatabase(uniqueName('srcwins'));
    const row = email(1);
    await insertEmails([row]);
    const stub = await testCoordinator('emails', db);
    await syncUntilCaughtUp(stub, 'emails');
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(row.id).run();
    await new Promise((r) => setTimeout(r, 5));
    await db.sql(`update emails set subject = 'edited in the dashboard' where id = $1`, [row.id]);
    const run = await stub.syncNow('emails');
    if (!run.ran) throw new Error('coalesced');
    expect(run.run.stats.conflicts).toBe(1);
    const [conflict] = await stub.conflicts('emails');
    expect(conflict).toMatchObject({ rowId: row.id, direction: 'push', winner: 'd1' });
    expect((conflict?.supabaseUpdatedAt ?? '') > (conflict?.d1UpdatedAt ?? '')).toBe(true);
    const [sb] = await db.sql<{ subject: string; status: string }>(`select subject, status from emails where id = $1`, [row.id]);
    expect(sb).toEqual({ subject: 'Quick question about Hotel 1', status: 'opened' });
  });
});

describe('status', () => {
  it('reports pending outbox rows and the age of the oldest', async () => {
    const db = testDatabase(uniqueName('pending'));
    await insertEmails([email(1), email(2), email(3)]);
    const stub = await testCoordinator('emails', db);
    // The changes were made five seconds ago (planted rather than slept through).
    await env.DB.prepare(`UPDATE sync_outbox SET changed_at = ?1 WHERE entity = 'emails'`)
      .bind(new Date(Date.now() - 5_000).toISOString().replace('Z', '000Z'))
      .run();
    const status = await stub.status('emails');
    expect(status.push?.pending).toBe(3);
    expect(status.push?.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(5);
  });
});

describe('recovery', () => {
  it('resetting the push cursor re-sends every current row', async () => {
    const db = testDatabase(uniqueName('reset'));
    await insertEmails(Array.from({ length: 25 }, (_, i) => email(i)));
    const stub = await testCoordinator('emails', db);
    await syncUntilCaughtUp(stub, 'emails');
    await db.sql(`delete from emails`); // rows lost on the Supabase side
    expect(await count(db)).toBe(0);
    const reset = await stub.resetCursor('emails', {});
    expect(reset.ok).toBe(true);
    expect((await stub.status('emails')).push?.pending).toBe(25);
    await syncUntilCaughtUp(stub, 'emails');
    expect(await count(db)).toBe(25);
  });
});
