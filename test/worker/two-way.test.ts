import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { d1Rows, testCoordinator, testDatabase, uniqueName, wipeD1, type TestDatabase } from './helpers.ts';

beforeEach(wipeD1);

/** An edge write the way the Worker does it: a plain INSERT with the D1 defaults. */
async function edgeInsert(id: string, name: string): Promise<void> {
  await env.DB.prepare(`INSERT INTO prospects (id, name, email_bounced) VALUES (?1, ?2, 0)`).bind(id, name).run();
}

async function supabaseProspect(db: TestDatabase, id: string): Promise<{ name: string; email_bounced: boolean } | undefined> {
  return (await db.sql<{ name: string; email_bounced: boolean }>(`select name, email_bounced from prospects where id = $1`, [id]))[0];
}

async function requests(db: TestDatabase): Promise<Record<string, number>> {
  const s = (await db.stats()) as { requests?: Record<string, number> };
  return s.requests ?? {};
}

async function sync(stub: Awaited<ReturnType<typeof testCoordinator>>): Promise<void> {
  const r = await stub.syncNow('prospects');
  if (!r.ran) throw new Error('coalesced');
  if (r.run.outcome !== 'caught-up') throw new Error(`run ended ${r.run.outcome}: ${r.run.error ?? ''}`);
}

describe('prospects both ways', () => {
  it('a key deleted and re-inserted at the edge while the delete is stamped ahead of the clock: the re-insert is newer than the delete and wins over Supabase (soak seed 312)', async () => {
    const db = testDatabase(uniqueName('reinsert-ahead'));
    const stub = await testCoordinator('prospects', db);
    // Supabase's version is ten minutes ahead of the clock (a writer with a fast clock).
    const [row] = await db.sql<{ id: string; updated_at: string }>(
      `insert into prospects (name, updated_at) values ('upstream', now() + interval '10 minutes') returning id::text as id, updated_at::text`,
    );
    const id = row?.id ?? '';
    await sync(stub);
    // The edge deletes it (stamped just after that future version) and inserts it again (the wall clock).
    await env.DB.prepare('DELETE FROM prospects WHERE id = ?1').bind(id).run();
    await edgeInsert(id, 'reinserted at the edge');
    const [stored] = await d1Rows('prospects', [id]);
    const deleteStamp = await env.DB.prepare(`SELECT changed_at FROM sync_outbox WHERE row_id = ?1 AND op = 'delete'`)
      .bind(id)
      .first<{ changed_at: string }>();
    expect(String(stored?.updated_at) > String(deleteStamp?.changed_at)).toBe(true);
    await sync(stub);
    await sync(stub);
    expect((await supabaseProspect(db, id))?.name).toBe('reinserted at the edge');
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('reinserted at the edge');
  });

  it('an edge write and a Supabase write to different rows both end on both sides', async () => {
    const db = testDatabase(uniqueName('both'));
    const edgeId = crypto.randomUUID();
    const [sb] = await db.sql<{ id: string }>(`insert into prospects (name) values ('from supabase') returning id::text as id`);
    await edgeInsert(edgeId, 'from the edge');
    const stub = await testCoordinator('prospects', db);
    await sync(stub);
    expect((await supabaseProspect(db, edgeId))?.name).toBe('from the edge');
    expect((await d1Rows('prospects', [sb?.id ?? ''])).map((r) => r.name)).toEqual(['from supabase']);
  });

  it('concurrent writes to the same row converge to the later one on both sides', async () => {
    const db = testDatabase(uniqueName('same'));
    const stub = await testCoordinator('prospects', db);
    const [a] = await db.sql<{ id: string }>(`insert into prospects (name) values ('a0') returning id::text as id`);
    const [b] = await db.sql<{ id: string }>(`insert into prospects (name) values ('b0') returning id::text as id`);
    const idA = a?.id ?? '';
    const idB = b?.id ?? '';
    await sync(stub);

    // Row A: Supabase writes first, the edge later → the edge wins.
    await db.sql(`update prospects set name = 'a-supabase' where id = $1`, [idA]);
    await new Promise((r) => setTimeout(r, 5));
    await env.DB.prepare(`UPDATE prospects SET name = 'a-edge' WHERE id = ?1`).bind(idA).run();
    // Row B: the edge writes first, Supabase later → Supabase wins.
    await env.DB.prepare(`UPDATE prospects SET name = 'b-edge', email_bounced = 1 WHERE id = ?1`).bind(idB).run();
    await new Promise((r) => setTimeout(r, 5));
    await db.sql(`update prospects set name = 'b-supabase' where id = $1`, [idB]);

    await sync(stub);
    await sync(stub);
    expect((await d1Rows('prospects', [idA]))[0]?.name).toBe('a-edge');
    expect((await supabaseProspect(db, idA))?.name).toBe('a-edge');
    expect((await d1Rows('prospects', [idB]))[0]?.name).toBe('b-supabase');
    expect(await supabaseProspect(db, idB)).toEqual({ name: 'b-supabase', email_bounced: false });
    const conflicts = await stub.conflicts('prospects');
    expect(conflicts.some((c) => c.rowId === idB && c.winner === 'supabase')).toBe(true);
  });

  // Any request that can write prospects: the table routes, and the push function.
  const WRITE = /^(POST|PATCH|DELETE) prospects$|^POST rpc\/sync_apply_push$/;

  it('one change causes a bounded number of writes: nothing echoes back', async () => {
    const db = testDatabase(uniqueName('echo'));
    const stub = await testCoordinator('prospects', db);
    const id = crypto.randomUUID();
    await edgeInsert(id, 'edge');
    await db.resetStats();
    for (let i = 0; i < 4; i++) await sync(stub);
    const counts = await requests(db);
    const writes = Object.entries(counts)
      .filter(([k]) => WRITE.test(k))
      .reduce((n, [, v]) => n + v, 0);
    expect(writes).toBe(1);
    const outbox = await env.DB.prepare(`SELECT count(*) AS n FROM sync_outbox WHERE entity = 'prospects' AND seq > ?1`)
      .bind((await stub.status('prospects')).push?.confirmedSeq ?? 0)
      .first<{ n: number }>();
    expect(outbox?.n).toBe(0);

    // A Supabase edit reaches D1 and is not pushed back either.
    await db.sql(`update prospects set name = 'edited in supabase' where id = $1`, [id]);
    await db.resetStats();
    for (let i = 0; i < 3; i++) await sync(stub);
    expect((await d1Rows('prospects', [id]))[0]?.name).toBe('edited in supabase');
    const after = await requests(db);
    expect(Object.entries(after).filter(([k]) => WRITE.test(k)).length).toBe(0);
  });

  it('an edge delete reaches Supabase, and a Supabase delete reaches D1', async () => {
    const db = testDatabase(uniqueName('deletes'));
    const stub = await testCoordinator('prospects', db);
    const edgeId = crypto.randomUUID();
    await edgeInsert(edgeId, 'edge');
    const [sb] = await db.sql<{ id: string }>(`insert into prospects (name) values ('sb') returning id::text as id`);
    await sync(stub);
    await env.DB.prepare(`DELETE FROM prospects WHERE id = ?1`).bind(edgeId).run();
    await db.sql(`delete from prospects where id = $1`, [sb?.id]);
    await sync(stub);
    await sync(stub);
    expect(await supabaseProspect(db, edgeId)).toBeUndefined();
    expect(await d1Rows('prospects', [sb?.id ?? '', edgeId])).toHaveLength(0);
  });
});
