// Crash at every step: the pull and push passes are run against the real stand-in and real D1
// with a failure injected before or after each of their I/O steps in turn (a Supabase request,
// a D1 batch). The position saved up to the crash is all the next run gets, as after an
// eviction; the next run must finish with nothing lost and nothing doubled.
import { env } from 'cloudflare:workers';
import { inject } from 'vitest';
import { beforeEach, describe, expect, it } from 'vitest';
import { entity } from '../shared/fixtures.ts';
import { createPassD1 } from '../../src/stores/d1.ts';
import { createSupabaseStore, type SupabaseStore } from '../../src/stores/supabase.ts';
import { runPull } from '../../src/sync/pull.ts';
import { runPush } from '../../src/sync/push.ts';
import {
  initialPullPosition,
  type ConflictRecord,
  type PassSink,
  type PullPosition,
  type QuarantineRecord,
  type RunLease,
} from '../../src/sync/run.ts';
import { insertEmails, testDatabase, uniqueName, wipeD1, type TestDatabase } from './helpers.ts';

beforeEach(wipeD1);

const prospects = entity('prospects');
const emails = entity('emails');

class InjectedCrash extends Error {}

/** Where to crash: the n-th I/O step (0-based), before it runs or after it completed. */
interface CrashPlan {
  step: number;
  phase: 'before' | 'after';
}

/** Counts I/O steps across D1 and Supabase and crashes at the planned one. */
class StepCounter {
  steps = 0;
  private readonly plan: CrashPlan | null;
  constructor(plan: CrashPlan | null) {
    this.plan = plan;
  }

  async around<T>(io: () => Promise<T>): Promise<T> {
    const step = this.steps++;
    if (this.plan?.step === step && this.plan.phase === 'before') throw new InjectedCrash(`crash before step ${step}`);
    const result = await io();
    if (this.plan?.step === step && this.plan.phase === 'after') throw new InjectedCrash(`crash after step ${step}`);
    return result;
  }
}

function crashingD1(db: D1Database, counter: StepCounter): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch') return (statements: D1PreparedStatement[]) => counter.around(() => target.batch(statements));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function crashingSupabase(store: SupabaseStore, counter: StepCounter): SupabaseStore {
  return {
    readPull: (...args) => counter.around(() => store.readPull(...args)),
    applyPush: (...args) => counter.around(() => store.applyPush(...args)),
  };
}

function store(db: TestDatabase): SupabaseStore {
  return createSupabaseStore({ url: db.url, serviceRoleKey: inject('supabaseServiceRoleKey'), requestTimeoutMs: 10_000 });
}

/** A sink that fails the test on anything unexpected. */
function strictSink(): PassSink & { seen: (ConflictRecord | QuarantineRecord)[] } {
  const seen: (ConflictRecord | QuarantineRecord)[] = [];
  return { seen, conflict: (c) => seen.push(c), quarantine: (q) => seen.push(q), release: () => undefined };
}

// Each run gets a newer epoch, as each lease does.
let lastEpoch = Date.now();
function lease(): RunLease {
  lastEpoch += 1;
  return { epoch: lastEpoch, renew: () => undefined };
}

const budget = () => ({ maxPages: 100, deadline: Date.now() + 60_000 });

async function d1Table(table: 'prospects' | 'emails'): Promise<{ id: string; name?: string; status?: string; updated_at: string }[]> {
  return (
    await env.DB.prepare(`SELECT * FROM ${table} ORDER BY id`).all<{ id: string; name?: string; status?: string; updated_at: string }>()
  ).results;
}

describe('crash at every step of a pull', () => {
  it('recovers from a failure before or after each Supabase read and D1 write of rows and tombstones, with nothing lost or doubled', async () => {
    const db = testDatabase(uniqueName('crash-pull'));
    await db.sql(
      `insert into prospects (name, updated_at) select 'p' || g, now() - make_interval(secs => 100 - g) from generate_series(1, 7) g`,
    );
    const [goneA, goneB] = [crypto.randomUUID(), crypto.randomUUID()];
    const seedGone = async () => {
      await env.DB.batch([
        env.DB.prepare('UPDATE sync_apply_guard SET applying = 1'),
        env.DB.prepare(
          `INSERT INTO prospects (id, name, updated_at) VALUES (?1, 'gone', '2020-01-01T00:00:00.000000Z'), (?2, 'gone', '2020-01-01T00:00:00.000000Z')`,
        ).bind(goneA, goneB),
        env.DB.prepare('UPDATE sync_apply_guard SET applying = 0'),
      ]);
    };
    await db.sql(`insert into prospects (id, name, updated_at) values ($1, 'gone', '2020-01-01'), ($2, 'gone', '2020-01-01')`, [
      goneA,
      goneB,
    ]);
    await db.sql(`delete from prospects where id in ($1, $2)`, [goneA, goneB]);
    const expected = await db.sql<{ id: string; name: string }>(`select id::text as id, name from prospects order by id`);
    expect(expected).toHaveLength(7);

    const pass = (counter: StepCounter, position: PullPosition, save: (p: PullPosition) => void) =>
      runPull(
        {
          entity: prospects,
          supabase: crashingSupabase(store(db), counter),
          d1: createPassD1(crashingD1(env.DB, counter)),
          pageSize: 3,
          safetyLagMs: 0,
          budget: budget(),
          now: Date.now,
          sink: strictSink(),
          lease: lease(),
          save,
        },
        position,
      );

    // A clean run tells how many I/O steps a full pass takes.
    await seedGone();
    const clean = new StepCounter(null);
    expect((await pass(clean, initialPullPosition(), () => undefined)).caughtUp).toBe(true);
    // 3 pages of 3 rows (the last brings the tombstones with it), each a read and a write.
    expect(clean.steps).toBe(6);

    for (let step = 0; step < clean.steps; step++) {
      for (const phase of ['before', 'after'] as const) {
        await wipeD1();
        await seedGone();
        let saved = initialPullPosition();
        const save = (p: PullPosition) => {
          saved = p;
        };
        await expect(pass(new StepCounter({ step, phase }), saved, save)).rejects.toThrow(InjectedCrash);
        // The next run starts from what was saved before the crash.
        const next = await pass(new StepCounter(null), saved, save);
        expect(next.caughtUp, `step ${step} ${phase}`).toBe(true);
        const d1 = await d1Table('prospects');
        expect(
          d1.map((r) => ({ id: r.id, name: r.name })),
          `step ${step} ${phase}`,
        ).toEqual(expected);
      }
    }
  });
});

describe('crash at every step of a push', () => {
  it('recovers from a failure before or after each outbox read, Supabase apply and D1 write, with nothing lost or doubled', async () => {
    const seed = async () => {
      const emailRows = Array.from({ length: 7 }, (_, i) => ({
        id: crypto.randomUUID(),
        to_email: `p${i}@example.com`,
        from_email: 'sales@example.com',
        direction: 'outbound',
        status: 'sent',
      }));
      await insertEmails(emailRows);
      await env.DB.prepare(`UPDATE emails SET status = 'opened' WHERE id IN (?1, ?2)`).bind(emailRows[0]?.id, emailRows[5]?.id).run();
      await env.DB.prepare(`DELETE FROM emails WHERE id = ?1`).bind(emailRows[3]?.id).run();
    };

    const pass = (db: TestDatabase, counter: StepCounter, seq: number, save: (s: number) => void) =>
      runPush(
        {
          entity: emails,
          supabase: crashingSupabase(store(db), counter),
          d1: createPassD1(crashingD1(env.DB, counter)),
          pageSize: 3,
          budget: budget(),
          now: Date.now,
          sink: strictSink(),
          lease: lease(),
          save,
        },
        seq,
      );

    const db = testDatabase(uniqueName('crash-push'));
    await seed();
    const clean = new StepCounter(null);
    expect((await pass(db, clean, 0, () => undefined)).caughtUp).toBe(true);
    expect(clean.steps).toBe(8); // outbox pages and their applies

    for (let step = 0; step < clean.steps; step++) {
      for (const phase of ['before', 'after'] as const) {
        await wipeD1();
        await db.sql('truncate emails'); // no tombstones: each case starts from empty sides
        await seed();
        let saved =
          (await env.DB.prepare(`SELECT coalesce(min(seq), 1) - 1 AS s FROM sync_outbox WHERE entity = 'emails'`).first<number>('s')) ?? 0;
        const save = (s: number) => {
          saved = s;
        };
        await expect(pass(db, new StepCounter({ step, phase }), saved, save)).rejects.toThrow(InjectedCrash);
        const next = await pass(db, new StepCounter(null), saved, save);
        expect(next.caughtUp, `step ${step} ${phase}`).toBe(true);
        const d1 = (await d1Table('emails')).map((r) => ({ id: r.id, status: r.status }));
        const supabase = await db.sql<{ id: string; status: string }>(`select id::text as id, status from emails order by id`);
        expect(supabase, `step ${step} ${phase}`).toEqual(d1);
        expect(d1).toHaveLength(6);
        const pending = await env.DB.prepare(`SELECT count(*) AS n FROM sync_outbox WHERE entity = 'emails' AND seq > ?1`)
          .bind(saved)
          .first<number>('n');
        expect(pending, `step ${step} ${phase}`).toBe(0);
      }
    }
  });
});
