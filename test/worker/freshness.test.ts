// How far D1 trails Supabase: the pull lag each run records (run, status, run log, GET
// /api/dashboard), and the push backlog's age as the page reads it. Rows are planted with a
// known updated_at / changed_at, so the expected numbers are bounded by clock readings taken
// around the call, never by how fast the machine is.
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { canonicalFromMillis, millisFromCanonical } from '../../src/timestamps.ts';
import type { DashboardData, RunSummary } from '../../src/types.ts';
import { testCoordinator, testDatabase, uniqueName } from './helpers.ts';

const BASE = 'http://sync.test';
const auth = { authorization: 'Bearer test-admin-token' };

/** A canonical timestamp `agoMs` before `now`, with microseconds that a JS Date would lose. */
function canonicalAgo(now: number, agoMs: number): string {
  return canonicalFromMillis(now - agoMs).replace(/000Z$/, '456Z');
}

async function ran(result: Promise<{ ran: true; run: RunSummary } | { ran: false }>): Promise<RunSummary> {
  const r = await result;
  if (!r.ran) throw new Error('the run coalesced with another');
  return r.run;
}

async function dashboard(query = ''): Promise<DashboardData> {
  const res = await exports.default.fetch(`${BASE}/api/dashboard${query}`, { headers: auth });
  expect(res.status).toBe(200);
  return res.json<DashboardData>();
}

describe('pull freshness', () => {
  it('records how long the newest applied row took from its updated_at in Supabase to D1, in the run, the status, the run log and the page data', async () => {
    const db = testDatabase(uniqueName('lag'));
    // Named as in production: the dashboard reads the run log of the coordinator named after the entity.
    const stub = await testCoordinator('campaigns', db, {}, 'campaigns');
    const planted = Date.now();
    const newest = canonicalAgo(planted, 2 * 3_600_000); // two hours before
    const older = canonicalAgo(planted, 3 * 3_600_000);
    await db.sql(`insert into campaigns (name, updated_at) values ('older', $1), ('newest', $2)`, [older, newest]);

    const before = Date.now();
    const run = await ran(stub.syncNow('campaigns'));
    const after = Date.now();
    expect(run.stats.rowsApplied).toBe(2);
    expect(run.pullLag?.newestAppliedAt).toBe(newest);
    // The apply happened between the two readings; the lag is counted from the row's updated_at.
    const stamped = millisFromCanonical(newest);
    expect(run.pullLag?.lagMs).toBeGreaterThanOrEqual(before - stamped);
    expect(run.pullLag?.lagMs).toBeLessThanOrEqual(after - stamped);

    const status = await stub.status('campaigns');
    expect(status.pull?.lastLag).toEqual({ ...run.pullLag, runId: run.runId, finishedAt: run.finishedAt });
    const logged = (await stub.runs('campaigns', 500)).find((r) => r.runId === run.runId);
    expect(logged?.pullLag).toEqual({ newestAppliedAt: newest, lagMs: run.pullLag?.lagMs });

    // An idle run applies nothing: no lag of its own, and the entity keeps the last one.
    const idle = await ran(stub.syncNow('campaigns'));
    expect(idle.stats.rowsApplied).toBe(0);
    expect(idle.pullLag).toBeNull();
    expect((await stub.status('campaigns')).pull?.lastLag?.runId).toBe(run.runId);

    // A change made a minute ago arrives about a minute late.
    const edited = canonicalAgo(Date.now(), 60_000);
    await db.sql(`update campaigns set description = 'edited', updated_at = $1 where name = 'older'`, [edited]);
    const beforeEdit = Date.now();
    const next = await ran(stub.syncNow('campaigns'));
    const afterEdit = Date.now();
    expect(next.pullLag?.newestAppliedAt).toBe(edited);
    expect(next.pullLag?.lagMs).toBeGreaterThanOrEqual(beforeEdit - millisFromCanonical(edited));
    expect(next.pullLag?.lagMs).toBeLessThanOrEqual(afterEdit - millisFromCanonical(edited));
    expect((await stub.status('campaigns')).pull?.lastLag?.runId).toBe(next.runId);

    // The page's chart data carries the lag of each run that applied rows (idle runs left out by default).
    const page = await dashboard();
    if (!page.charts.ok) throw new Error(page.charts.error);
    const charted = page.charts.data['campaigns'] ?? [];
    expect(charted.map((r) => r.runId)).toEqual([next.runId, run.runId]);
    expect(charted.map((r) => r.pullLag)).toEqual([next.pullLag, run.pullLag]);
    const all = await dashboard('?idle=include');
    if (!all.charts.ok) throw new Error(all.charts.error);
    expect(all.charts.data['campaigns']?.map((r) => r.runId)).toEqual([next.runId, idle.runId, run.runId]);
  });
});

describe('pull freshness of a late commit', () => {
  it("a late row applied alongside a newer row re-read unchanged from the lag window reports its own lag, not the newer row's", async () => {
    const db = testDatabase(uniqueName('late-lag'));
    // A lag window of ten minutes: rows of the last ten minutes are re-read by every run.
    const stub = await testCoordinator('campaigns', db, { safetyLagMs: 600_000 });
    const recent = canonicalAgo(Date.now(), 60_000);
    await db.sql(`insert into campaigns (name, updated_at) values ('recent', $1)`, [recent]);
    expect((await ran(stub.syncNow('campaigns'))).pullLag?.newestAppliedAt).toBe(recent);

    // Committed late: stamped five minutes ago, older than the row already in D1.
    const late = canonicalAgo(Date.now(), 300_000);
    await db.sql(`insert into campaigns (name, updated_at) values ('late', $1)`, [late]);
    const before = Date.now();
    const run = await ran(stub.syncNow('campaigns'));
    const after = Date.now();
    // Both re-read in one page: the late row written, the recent one skipped as unchanged.
    expect(run.stats).toMatchObject({ rowsRead: 2, rowsApplied: 1, rowsSkipped: 1 });
    expect(run.pullLag?.newestAppliedAt).toBe(late);
    expect(run.pullLag?.lagMs).toBeGreaterThanOrEqual(before - millisFromCanonical(late));
    expect(run.pullLag?.lagMs).toBeLessThanOrEqual(after - millisFromCanonical(late));
  });
});

describe('push freshness', () => {
  it('shows the age of the oldest change not yet pushed, from a planted outbox entry', async () => {
    const plantedAt = Date.now();
    const changedAt = canonicalAgo(plantedAt, 600_000); // ten minutes before
    await env.DB.prepare(`INSERT INTO sync_outbox (entity, row_id, op, changed_at) VALUES ('emails', ?1, 'upsert', ?2)`)
      .bind(crypto.randomUUID(), changedAt)
      .run();

    const before = Date.now();
    const page = await dashboard();
    const after = Date.now();
    const emails = page.status.entities.find((s) => s.entity === 'emails');
    expect(emails?.push?.pending).toBe(1);
    expect(emails?.push?.oldestPendingAt).toBe(changedAt);
    const stamped = millisFromCanonical(changedAt);
    expect(emails?.push?.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(Math.floor((before - stamped) / 1000));
    expect(emails?.push?.oldestPendingAgeSeconds).toBeLessThanOrEqual(Math.ceil((after - stamped) / 1000));
    expect(page.status.unsyncedEmails).toBe(1);
  });
});
