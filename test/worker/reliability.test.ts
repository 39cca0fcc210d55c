// Regression tests for the loss paths found in review (issue "Reliability"): each test is named
// after the timeline that used to lose, resurrect or wedge data.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Lease } from '../../src/types.ts';
import { canonicalFromMillis } from '../../src/timestamps.ts';
import { d1Rows, fireAlarm, insertEmails, testCoordinator, testDatabase, uniqueName, wipeD1, type TestDatabase } from './helpers.ts';

beforeEach(wipeD1);

type Stub = Awaited<ReturnType<typeof testCoordinator>>;

/**
 * One manual run. A real alarm (armed by a run that ended 'more' or failed) may hold the lease:
 * then wait for that run to end (the event itself, bounded) and run again.
 */
async function syncOnce(stub: Stub, entity: string) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const r = await stub.syncNow(entity);
    if (r.ran) return r.run;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('a run held the lease for more than 5 s');
}

async function caughtUp(stub: Stub, entity: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const run = await syncOnce(stub, entity);
    if (run.outcome === 'caught-up') return;
    if (run.outcome !== 'more') throw new Error(`run ended ${run.outcome}: ${run.error ?? ''}`);
  }
  throw new Error('not caught up in 10 runs');
}

async function supabaseRow(db: TestDatabase, table: string, id: string): Promise<Record<string, unknown> | undefined> {
  return (await db.sql(`select * from ${table} where id = $1`, [id]))[0];
}

/** Moves the stored lease's expiry into the past, as if its holder had crashed long ago. */
async function expireLease(stub: Stub): Promise<void> {
  await runInDurableObject(stub, (_i, state) => {
    const row = state.storage.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'lease'`).toArray()[0];
    if (!row) throw new Error('no lease to expire');
    const lease = JSON.parse(row.value) as Lease;
    state.storage.sql.exec(
      `UPDATE meta SET value = ? WHERE key = 'lease'`,
      JSON.stringify({ ...lease, expiresAt: new Date(0).toISOString() }),
    );
  });
}

/** Waits until the stand-in has received `n` requests matching `key` (the event itself, bounded). */
async function requestsSeen(db: TestDatabase, key: string, n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const s = (await db.stats()) as { requests?: Record<string, number> };
    if ((s.requests?.[key] ?? 0) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the stand-in never saw ${n} × ${key}`);
}

const iso = (offsetMs: number): string => canonicalFromMillis(Date.now() + offsetMs);

describe('pull: the commit horizon belongs to the cycle', () => {
  it('a cycle spread over two runs never commits past a row whose transaction was still open, so a late commit behind the frontier is still pulled', async () => {
    const db = testDatabase(uniqueName('horizon'));
    const [a, b, c, late] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await db.sql(`insert into campaigns (id, name, updated_at) values ($1, 'a', $4), ($2, 'b', $4), ($3, 'c', $5)`, [
      a,
      b,
      c,
      iso(-600_000),
      iso(-10_000),
    ]);
    // Pages of two, one page per run: the cycle needs two runs. Lag one minute. Paused, so no
    // alarm runs the second run before the test has moved time on.
    const stub = await testCoordinator('campaigns', db, { pageSize: 2, maxPagesPerRun: 1, safetyLagMs: 60_000 });
    await stub.pause('campaigns');
    expect((await syncOnce(stub, 'campaigns')).outcome).toBe('more');
    // Time passes (as if the second run came minutes later): a per-run horizon would now be past c.
    await stub.configure('campaigns', { safetyLagMs: 0, maxPagesPerRun: 10 });
    expect((await syncOnce(stub, 'campaigns')).outcome).toBe('caught-up');
    const status = await stub.status('campaigns');
    // The committed cursor stayed at the last row older than the first run's horizon.
    expect(status.pull?.cursor?.id).toBe([a, b].sort()[1]);
    // The transaction that was open when the frontier passed commits, behind c.
    await db.sql(`insert into campaigns (id, name, updated_at) values ($1, 'late', $2)`, [late, iso(-30_000)]);
    await caughtUp(stub, 'campaigns');
    expect((await d1Rows('campaigns', [late])).map((r) => r.name)).toEqual(['late']);
  });
});

describe('push: deletes made in Supabase win over older edge writes', () => {
  it('a push does not re-create a prospect deleted in Supabase after the edge write, and D1 follows the delete', async () => {
    const db = testDatabase(uniqueName('resurrect'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name) values ($1, 'x')`, [id]);
    const stub = await testCoordinator('prospects', db);
    await caughtUp(stub, 'prospects');
    await env.DB.prepare(`UPDATE prospects SET name = 'edge edit' WHERE id = ?1`).bind(id).run(); // 10:02
    await db.sql(`delete from prospects where id = $1`, [id]); // 10:05
    await caughtUp(stub, 'prospects'); // 10:10: the push runs before the pull
    expect(await supabaseRow(db, 'prospects', id)).toBeUndefined();
    expect(await d1Rows('prospects', [id])).toHaveLength(0);
    const [conflict] = await stub.conflicts('prospects');
    expect(conflict).toMatchObject({ rowId: id, direction: 'push', winner: 'supabase' });
    expect(conflict?.reason).toMatch(/deleted in Supabase/);
  });

  it('a reset with scope all re-sends every edge row without resurrecting rows deleted in Supabase', async () => {
    const db = testDatabase(uniqueName('reset-all'));
    const ids = Array.from({ length: 30 }, () => crypto.randomUUID());
    await db.sql(`insert into prospects (id, name) select jsonb_array_elements_text($1::jsonb)::uuid, 'p'`, [JSON.stringify(ids)]);
    const stub = await testCoordinator('prospects', db);
    await stub.pause('prospects');
    await caughtUp(stub, 'prospects');
    const gone = ids.slice(0, 10);
    await db.sql(`delete from prospects where id::text in (select jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(gone)]);
    const reset = await stub.resetCursor('prospects', { scope: 'all' });
    expect(reset.ok).toBe(true);
    await caughtUp(stub, 'prospects');
    expect(
      (await db.sql(`select id from prospects where id::text in (select jsonb_array_elements_text($1::jsonb))`, [JSON.stringify(ids)]))
        .length,
    ).toBe(20);
    expect(await d1Rows('prospects', ids)).toHaveLength(20);
    expect(await d1Rows('prospects', gone)).toHaveLength(0);
  });

  it('emails stay source-wins: a Supabase delete of an email is drift and D1 puts it back', async () => {
    const db = testDatabase(uniqueName('email-back'));
    const id = crypto.randomUUID();
    await insertEmails([{ id, to_email: 'a@example.com', from_email: 'b@example.com', direction: 'outbound', status: 'sent' }]);
    const stub = await testCoordinator('emails', db);
    await caughtUp(stub, 'emails');
    await db.sql(`delete from emails where id = $1`, [id]);
    await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(id).run();
    await caughtUp(stub, 'emails');
    expect(await supabaseRow(db, 'emails', id)).toMatchObject({ status: 'opened' });
  });
});

describe('pull: a tombstone never deletes a row that exists in Supabase', () => {
  it('a delete and re-insert of one key in one transaction leaves the row on both sides', async () => {
    const db = testDatabase(uniqueName('reinsert'));
    const id = crypto.randomUUID();
    await db.sql(`insert into campaigns (id, name) values ($1, 'first')`, [id]);
    const stub = await testCoordinator('campaigns', db);
    await caughtUp(stub, 'campaigns');
    await db.sql(`do $$ begin
      delete from campaigns where id = '${id}';
      insert into campaigns (id, name) values ('${id}', 'again');
    end $$`);
    await caughtUp(stub, 'campaigns');
    await stub.resetCursor('campaigns', {}); // and again after a full re-read
    await caughtUp(stub, 'campaigns');
    expect((await d1Rows('campaigns', [id])).map((r) => r.name)).toEqual(['again']);
  });

  it('an import that started before a delete and inserts the key after it leaves the row on both sides', async () => {
    const db = testDatabase(uniqueName('import'));
    const id = crypto.randomUUID();
    await db.sql(`insert into campaigns (id, name, updated_at) values ($1, 'old', $2)`, [id, iso(-60_000)]);
    const stub = await testCoordinator('campaigns', db);
    await caughtUp(stub, 'campaigns');
    const importStarted = iso(-5_000);
    await db.sql(`delete from campaigns where id = $1`, [id]);
    // The import's transaction began before the delete: its rows carry that earlier now().
    await db.sql(`insert into campaigns (id, name, updated_at) values ($1, 'imported', $2)`, [id, importStarted]);
    await caughtUp(stub, 'campaigns');
    expect((await d1Rows('campaigns', [id])).map((r) => r.name)).toEqual(['imported']);
    expect(await db.sql(`select 1 from sync_tombstones where row_id = $1`, [id])).toHaveLength(0);
  });
});

describe('push: keys Supabase cannot hold never wedge a run', () => {
  it('deleting a quarantined email whose key is not a uuid lets every later run succeed and leaves the quarantine', async () => {
    const db = testDatabase(uniqueName('bad-key'));
    const good = crypto.randomUUID();
    await insertEmails([
      { id: 'not-a-uuid', to_email: 'a@example.com', from_email: 'b@example.com', direction: 'outbound', status: 'sent' },
      { id: good, to_email: 'a@example.com', from_email: 'b@example.com', direction: 'outbound', status: 'sent' },
    ]);
    const stub = await testCoordinator('emails', db);
    await caughtUp(stub, 'emails');
    expect((await stub.status('emails')).quarantined).toBe(1);
    await env.DB.prepare(`DELETE FROM emails WHERE id = 'not-a-uuid'`).run();
    const next = await syncOnce(stub, 'emails');
    expect(next).toMatchObject({ outcome: 'caught-up', error: null });
    const status = await stub.status('emails');
    expect(status.quarantined).toBe(0);
    expect(status.push?.pending).toBe(0);
    expect(await supabaseRow(db, 'emails', good)).toBeDefined();
  });

  it('a failing push of a two-way entity does not starve its pull', async () => {
    const db = testDatabase(uniqueName('starve'));
    const stub = await testCoordinator('prospects', db);
    await env.DB.prepare(`INSERT INTO prospects (id, name) VALUES (?1, 'edge')`).bind(crypto.randomUUID()).run();
    const [row] = await db.sql<{ id: string }>(`insert into prospects (name) values ('from supabase') returning id::text as id`);
    await db.faults({ errorRate: 1, errorStatus: 500, onlyPaths: 'rpc/sync_apply_push' });
    const run = await syncOnce(stub, 'prospects');
    expect(run.outcome).toBe('failed');
    expect(run.error).toMatch(/push prospects page: 500/);
    expect((await d1Rows('prospects', [row?.id ?? ''])).map((r) => r.name)).toEqual(['from supabase']);
    await db.clearFaults();
    await caughtUp(stub, 'prospects');
    expect((await stub.status('prospects')).healthy).toBe(true);
  });
});

describe('push: one request per page, whatever its size', () => {
  it('resetting 2,000 two-way prospects pushes them in pages of one body each, with no URL growing with the page', async () => {
    const db = testDatabase(uniqueName('long-url'));
    await db.sql(`insert into prospects (name) select 'p' || g from generate_series(1, 2000) g`);
    const stub = await testCoordinator('prospects', db, { pageSize: 500 });
    await stub.pause('prospects');
    await caughtUp(stub, 'prospects');
    expect(await env.DB.prepare(`SELECT count(*) AS n FROM prospects`).first('n')).toBe(2000);
    expect((await stub.resetCursor('prospects', { scope: 'all' })).ok).toBe(true);
    await db.resetStats();
    await caughtUp(stub, 'prospects');
    const { requests } = (await db.stats()) as { requests: Record<string, number> };
    // 2,000 rows in pages of 500: four pushes, each one request with the page in its body.
    expect(requests['POST rpc/sync_apply_push']).toBe(4);
    expect(Object.keys(requests).filter((k) => /^(GET|POST|PATCH|DELETE) prospects$/.test(k) && !k.startsWith('GET'))).toEqual([]);
    // Nothing changed: the re-sent versions were already there.
    expect(await db.sql(`select 1 from prospects where updated_at > now() - interval '1 minute' and name = 'never'`)).toHaveLength(0);
  });
});

describe('versions: re-sending a version changes nothing', () => {
  it('a re-sent email keeps the updated_at D1 gave it instead of being re-stamped', async () => {
    const db = testDatabase(uniqueName('restamp'));
    const id = crypto.randomUUID();
    await insertEmails([{ id, to_email: 'a@example.com', from_email: 'b@example.com', direction: 'outbound', status: 'sent' }]);
    const stub = await testCoordinator('emails', db);
    await stub.pause('emails');
    await caughtUp(stub, 'emails');
    const d1 = (await d1Rows('emails', [id]))[0]?.updated_at;
    const first = await db.sql<{ ts: string }>(
      `select to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts from emails where id = $1`,
      [id],
    );
    expect(first[0]?.ts).toBe(d1);
    await stub.resetCursor('emails', { scope: 'requeue' }); // re-sends every row, as a crash re-send does
    await caughtUp(stub, 'emails');
    const again = await db.sql<{ ts: string }>(
      `select to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts from emails where id = $1`,
      [id],
    );
    expect(again[0]?.ts).toBe(d1);
  });
});

describe('versions: a write on top of a version is always newer', () => {
  it('an edge write on top of a Supabase version stamped ten minutes ahead still wins on both sides', async () => {
    const db = testDatabase(uniqueName('skew-sb'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'ahead', $2)`, [id, iso(600_000)]);
    const stub = await testCoordinator('prospects', db);
    await caughtUp(stub, 'prospects');
    await env.DB.prepare(`UPDATE prospects SET name = 'edge after' WHERE id = ?1`).bind(id).run();
    await caughtUp(stub, 'prospects');
    expect(await supabaseRow(db, 'prospects', id)).toMatchObject({ name: 'edge after' });
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('edge after');
  });

  it('a Supabase write on top of an edge version stamped ten minutes ahead still wins on both sides', async () => {
    const db = testDatabase(uniqueName('skew-d1'));
    const id = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO prospects (id, name, updated_at) VALUES (?1, 'edge ahead', ?2)`).bind(id, iso(600_000)).run();
    const stub = await testCoordinator('prospects', db);
    await caughtUp(stub, 'prospects');
    await db.sql(`update prospects set name = 'supabase after' where id = $1`, [id]);
    await caughtUp(stub, 'prospects');
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('supabase after');
    expect(await supabaseRow(db, 'prospects', id)).toMatchObject({ name: 'supabase after' });
  });

  it('an edge delete of a version stamped ahead is newer than that version and reaches Supabase', async () => {
    const db = testDatabase(uniqueName('skew-del'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'ahead', $2)`, [id, iso(600_000)]);
    const stub = await testCoordinator('prospects', db);
    await caughtUp(stub, 'prospects');
    await env.DB.prepare(`DELETE FROM prospects WHERE id = ?1`).bind(id).run();
    await caughtUp(stub, 'prospects');
    expect(await supabaseRow(db, 'prospects', id)).toBeUndefined();
    expect(await d1Rows('prospects', [id])).toHaveLength(0);
  });

  it('two edge writes in the same millisecond are two strictly newer versions and two outbox entries', async () => {
    const id = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x', 'b@x', 'outbound')`).bind(id).run();
    const before = await env.DB.prepare(`SELECT count(*) AS n FROM sync_outbox WHERE row_id = ?1`).bind(id).first<number>('n');
    const [, one, , two] = await env.DB.batch([
      env.DB.prepare(`UPDATE emails SET status = 'sent' WHERE id = ?1`).bind(id),
      env.DB.prepare(`SELECT updated_at FROM emails WHERE id = ?1`).bind(id),
      env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id = ?1`).bind(id),
      env.DB.prepare(`SELECT updated_at FROM emails WHERE id = ?1`).bind(id),
    ]);
    const t1 = (one?.results[0] as { updated_at: string }).updated_at;
    const t2 = (two?.results[0] as { updated_at: string }).updated_at;
    expect(t2 > t1).toBe(true);
    const after = await env.DB.prepare(`SELECT count(*) AS n FROM sync_outbox WHERE row_id = ?1`).bind(id).first<number>('n');
    expect((after ?? 0) - (before ?? 0)).toBe(2);
  });
});

describe('keys and timestamps outside the canonical range', () => {
  it('refuses an upper-case key at write time with a clear error, in every synced table', async () => {
    const upper = crypto.randomUUID().toUpperCase();
    await expect(
      env.DB.prepare(`INSERT INTO emails (id, to_email, from_email, direction) VALUES (?1, 'a@x', 'b@x', 'outbound')`).bind(upper).run(),
    ).rejects.toThrow(/emails\.id must be lower case/);
    await expect(env.DB.prepare(`INSERT INTO prospects (id, name) VALUES (?1, 'x')`).bind(upper).run()).rejects.toThrow(
      /prospects\.id must be lower case/,
    );
    const lower = crypto.randomUUID();
    await env.DB.prepare(`INSERT INTO prospects (id, name) VALUES (?1, 'x')`).bind(lower).run();
    await expect(env.DB.prepare(`UPDATE prospects SET id = upper(id) WHERE id = ?1`).bind(lower).run()).rejects.toThrow(
      /must be lower case/,
    );
  });

  it('quarantines a row with updated_at = infinity, keeps it visible, and every other row, earlier or later, stays equal', async () => {
    const db = testDatabase(uniqueName('infinity'));
    const [before, inf, after] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await db.sql(
      `insert into campaigns (id, name, updated_at) values ($1, 'before', now() - interval '1 hour'), ($2, 'forever', 'infinity')`,
      [before, inf],
    );
    const stub = await testCoordinator('campaigns', db);
    await caughtUp(stub, 'campaigns');
    await db.sql(`insert into campaigns (id, name) values ($1, 'after')`, [after]);
    await caughtUp(stub, 'campaigns');
    expect((await d1Rows('campaigns', [before, inf, after])).map((r) => r.name).sort()).toEqual(['after', 'before']);
    const status = await stub.status('campaigns');
    expect(status.pull?.cursor?.ts).not.toMatch(/infinity/);
    expect(status.pull?.frontier?.ts ?? '').not.toMatch(/infinity/);
    const quarantined = await stub.quarantined('campaigns');
    expect(quarantined).toMatchObject([{ rowId: inf, direction: 'pull' }]);
    expect(quarantined[0]?.reason).toMatch(/updated_at/);
  });
});

describe('lease fencing', () => {
  it('a run held past its lease cannot write: its late D1 upsert and its late saves are refused while the run that took over proceeds', async () => {
    const db = testDatabase(uniqueName('fence'));
    const id = crypto.randomUUID();
    await db.sql(`insert into campaigns (id, name) values ($1, 'v1')`, [id]);
    const stub = await testCoordinator('campaigns', db);
    // The first run reads v1, then its answer is held on a slow link.
    await db.faults({ responseDelayMs: 3_000, onlyPaths: 'rpc/sync_pull_page', count: 1 });
    const first = stub.syncNow('campaigns');
    await requestsSeen(db, 'POST rpc/sync_pull_page', 1);
    await db.sql(`update campaigns set name = 'v2' where id = $1`, [id]);
    await expireLease(stub); // the first run's lease runs out while it waits
    const second = await syncOnce(stub, 'campaigns');
    expect(second.outcome).toBe('caught-up');
    const positionAfterSecond = (await stub.status('campaigns')).pull;

    const late = await first;
    if (!late.ran) throw new Error('the first run never ran');
    expect(late.run.outcome).toBe('fenced');
    expect(late.run.error).toMatch(/newer run/);
    expect((await d1Rows('campaigns', [id]))[0]?.name).toBe('v2');
    const status = await stub.status('campaigns');
    expect(status.pull).toEqual(positionAfterSecond);
    expect(status.lastRun?.runId).toBe(second.runId);
    const ledger = (await stub.runs('campaigns', 500))
      .filter((r) => r.runId === late.run.runId || r.runId === second.runId)
      .map((r) => ({ runId: r.runId, outcome: r.outcome }));
    expect(ledger).toEqual(
      expect.arrayContaining([
        { runId: late.run.runId, outcome: 'fenced' },
        { runId: second.runId, outcome: 'caught-up' },
      ]),
    );
    expect(ledger).toHaveLength(2);
  });

  it('Supabase refuses a push page from a run whose epoch is older than one that already pushed', async () => {
    const db = testDatabase(uniqueName('fence-sb'));
    const id = crypto.randomUUID();
    await insertEmails([{ id, to_email: 'a@example.com', from_email: 'b@example.com', direction: 'outbound', status: 'sent' }]);
    const stub = await testCoordinator('emails', db);
    // A newer run (an epoch far in the future) has pushed already.
    await db.sql(`insert into sync_fences (entity, epoch) values ('emails', 9007199254740000)`);
    const run = await syncOnce(stub, 'emails');
    expect(run.outcome).toBe('fenced');
    expect(run.error).toMatch(/Supabase refused push emails page: sync fenced/);
    expect(await supabaseRow(db, 'emails', id)).toBeUndefined();
    // The fenced run changed nothing of the coordinator's state.
    expect((await stub.status('emails')).push?.confirmedSeq).toBe(0);
  });
});

describe('status while a run is in progress', () => {
  it('does not report a missing alarm while an alarm run holds the lease (the run arms the next one)', async () => {
    const db = testDatabase(uniqueName('alarm-status'));
    await db.sql(`insert into campaigns (name) values ('x')`);
    const stub = await testCoordinator('campaigns', db);
    await db.faults({ responseDelayMs: 1_500, onlyPaths: 'rpc/sync_pull_page', count: 1 });
    const run = fireAlarm(stub);
    await requestsSeen(db, 'POST rpc/sync_pull_page', 1);
    const during = await stub.status('campaigns');
    expect(during.lease?.trigger).toBe('alarm');
    expect(during.problems).toEqual([]);
    expect(await run).toBe(true);
    expect((await stub.status('campaigns')).nextAlarmAt).not.toBeNull();
  });
});

describe('pull: a run budget of one page', () => {
  it('a cycle whose rows ended in one run goes on with its tombstones in the next, instead of re-reading the last row page forever', async () => {
    const db = testDatabase(uniqueName('one-page'));
    const [keep, gone] = [crypto.randomUUID(), crypto.randomUUID()];
    await db.sql(`insert into campaigns (id, name) values ($1, 'keep'), ($2, 'gone')`, [keep, gone]);
    const stub = await testCoordinator('campaigns', db);
    await stub.pause('campaigns');
    await caughtUp(stub, 'campaigns');
    await db.sql(`delete from campaigns where id = $1`, [gone]);
    // Pages of one row: a full page of rows does not bring the tombstones with it.
    await stub.configure('campaigns', { maxPagesPerRun: 1, pageSize: 1 });
    const reads: string[] = [];
    for (let i = 0; i < 6; i++) {
      const run = await syncOnce(stub, 'campaigns');
      reads.push(`${run.outcome} ${run.stats.rowsRead}`);
      if (run.outcome === 'caught-up') break;
    }
    // The rows' end with the first tombstone (a full page: more may follow); then the
    // tombstones' end, read alone: the rows are not read again.
    expect(reads).toEqual(['more 1', 'caught-up 0']);
    expect((await d1Rows('campaigns', [keep, gone])).map((r) => r.name)).toEqual(['keep']);
  });
});

describe('pull: an edge delete not pushed yet', () => {
  it('a pull never re-creates a two-way row deleted at the edge while the push of that delete is failing', async () => {
    const db = testDatabase(uniqueName('edge-delete'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name) values ($1, 'v1')`, [id]);
    const stub = await testCoordinator('prospects', db);
    await stub.pause('prospects');
    await caughtUp(stub, 'prospects');
    await db.sql(`update prospects set name = 'v2 in supabase' where id = $1`, [id]);
    await env.DB.prepare(`DELETE FROM prospects WHERE id = ?1`).bind(id).run(); // later than v2
    await db.faults({ errorRate: 1, errorStatus: 503, onlyPaths: 'rpc/sync_apply_push' });
    const failed = await syncOnce(stub, 'prospects'); // the push fails, the pull reads v2
    expect(failed.outcome).toBe('failed');
    expect(await d1Rows('prospects', [id])).toHaveLength(0);
    await db.clearFaults();
    await caughtUp(stub, 'prospects');
    expect(await d1Rows('prospects', [id])).toHaveLength(0);
    expect(await supabaseRow(db, 'prospects', id)).toBeUndefined();
  });
});

describe('versions: a re-insert is a write on top of the deletion', () => {
  it('a prospect deleted and re-inserted in Supabase after a version stamped ten minutes ahead reaches D1 as the newer version', async () => {
    const db = testDatabase(uniqueName('reinsert-ahead'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'ahead', $2)`, [id, iso(600_000)]);
    const stub = await testCoordinator('prospects', db);
    await stub.pause('prospects');
    await caughtUp(stub, 'prospects');
    await db.sql(`delete from prospects where id = $1`, [id]);
    await db.sql(`insert into prospects (id, name) values ($1, 'again')`, [id]);
    await caughtUp(stub, 'prospects');
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('again');
    expect(await supabaseRow(db, 'prospects', id)).toMatchObject({ name: 'again' });
  });

  it('the same in one statement that deletes and re-inserts the key: the row stays and is the newer version on both sides', async () => {
    const db = testDatabase(uniqueName('reinsert-cte'));
    const id = crypto.randomUUID();
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'ahead', $2)`, [id, iso(600_000)]);
    const stub = await testCoordinator('prospects', db);
    await stub.pause('prospects');
    await caughtUp(stub, 'prospects');
    await db.sql(
      `with gone as (delete from prospects where id = $1 returning id) insert into prospects (id, name) select $1, 'again' from gone`,
      [id],
    );
    expect(await db.sql(`select 1 from sync_tombstones where row_id = $1`, [id])).toHaveLength(0);
    await caughtUp(stub, 'prospects');
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('again');
    expect(await supabaseRow(db, 'prospects', id)).toMatchObject({ name: 'again' });
  });
});
