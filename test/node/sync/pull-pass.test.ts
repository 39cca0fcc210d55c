// The pull pass's orchestration, driven in Node with in-memory stand-ins for its two stores
// (PassD1, SupabaseStore): the order of its reads, writes and saves, which a run against the
// real stores (test/worker/pull.test.ts) cannot pin down.
import { describe, expect, it } from 'vitest';
import type { EntityDefinition, Row } from '../../../src/entities.ts';
import type { ApplyResult, Fence, PassD1, Tombstone } from '../../../src/stores/d1-contract.ts';
import type { PullPage, PullRead, SupabaseStore } from '../../../src/stores/supabase.ts';
import { runPull, type PullContext } from '../../../src/sync/pull.ts';
import { initialPullPosition, type PullPosition } from '../../../src/sync/run.ts';

const things: EntityDefinition = {
  name: 'things',
  table: 'things',
  key: 'id',
  cursorColumn: 'updated_at',
  direction: 'pull',
  pageSize: 2,
  conflictPolicy: 'last-write-wins',
  tombstones: true,
  columns: { id: { type: 'uuid' }, name: { type: 'text' }, updated_at: { type: 'timestamp' } },
};

/** Rows one minute apart, in keyset order. */
function rows(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `thing ${i}`,
    updated_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString().replace('Z', '+00:00'),
  }));
}

/** A Supabase that serves `source` by keyset pages and logs each read. */
function supabaseOver(source: readonly Row[], log: string[]): SupabaseStore {
  return {
    readPull(_entity: EntityDefinition, read: PullRead): Promise<PullPage> {
      const after = read.rows?.after ?? null;
      const start = after === null ? 0 : source.findIndex((r) => r.id === after.id) + 1;
      const page = read.rows ? source.slice(start, start + read.limit) : [];
      log.push(`read ${read.rows ? `rows after ${start}` : 'tombstones only'}`);
      return Promise.resolve({ rows: [...page], tombstones: read.tombstones ? [] : null });
    },
    applyPush: () => Promise.reject(new Error('a pull never pushes')),
  };
}

/** A D1 whose writes wait until the test lets each one finish (or fail). */
function gatedD1(log: string[]): PassD1 & { release(error?: Error): void; applied: Row[] } {
  const waiting: ((error?: Error) => void)[] = [];
  const applied: Row[] = [];
  return {
    applied,
    applyPulled(_entity: EntityDefinition, page: readonly Row[], _fence: Fence, _tombstones?: readonly Tombstone[]): Promise<ApplyResult> {
      log.push(`apply ${page.length} from ${String(page[0]?.name)}`);
      return new Promise((resolve, reject) => {
        waiting.push((error) => {
          if (error) {
            reject(error);
            return;
          }
          applied.push(...page);
          log.push(`applied ${page.length}`);
          // The fake writes every row: the newest written is the page's newest.
          const newestApplied = page
            .map((r) => String(r['updated_at']))
            .reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);
          resolve({ applied: page.length, newestApplied, conflicts: [], deleted: 0 });
        });
      });
    },
    readOutbox: () => Promise.reject(new Error('a pull never reads the outbox')),
    release(error?: Error) {
      const next = waiting.shift();
      if (!next) throw new Error('no write is waiting');
      next(error);
    },
  };
}

function context(source: readonly Row[], log: string[], d1: PassD1, saved: PullPosition[]): PullContext {
  return {
    entity: things,
    supabase: supabaseOver(source, log),
    d1,
    pageSize: 2,
    safetyLagMs: 0,
    budget: { maxPages: 100, deadline: Number.MAX_SAFE_INTEGER },
    now: () => Date.UTC(2026, 1, 1),
    sink: { conflict: () => undefined, quarantine: () => undefined, release: () => undefined },
    lease: { epoch: 1, renew: () => undefined },
    save: (p) => saved.push(p),
  };
}

/** Lets the pass run until it waits on something outside it (a write the test holds). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('pull pass: reads ahead, saves behind', () => {
  it('reads the next page while the current one is written, and saves a position only after its write', async () => {
    const log: string[] = [];
    const saved: PullPosition[] = [];
    const d1 = gatedD1(log);
    const done = runPull(context(rows(5), log, d1, saved), initialPullPosition());

    await settle();
    // Page 2 was asked for before page 1's write began; nothing is saved yet.
    expect(log).toEqual(['read rows after 0', 'read rows after 2', 'apply 2 from thing 0']);
    expect(saved).toEqual([]);

    d1.release();
    await settle();
    expect(saved.map((p) => p.cursor?.id.slice(-1))).toEqual(['1']);
    expect(log.slice(3)).toEqual(['applied 2', 'read rows after 4', 'apply 2 from thing 2']);

    d1.release();
    await settle();
    d1.release(); // the short page ends the rows: no read follows it
    const result = await done;
    expect(result.caughtUp).toBe(true);
    expect(d1.applied.map((r) => r.name)).toEqual(['thing 0', 'thing 1', 'thing 2', 'thing 3', 'thing 4']);
    expect(log.filter((l) => l.startsWith('read'))).toHaveLength(3);
    expect(saved.at(-1)).toMatchObject({ cursor: { id: rows(5)[4]?.id }, continuing: false });
  });

  it('a failed write saves nothing past the last page written, and the read already sent is dropped without an unhandled rejection', async () => {
    const log: string[] = [];
    const saved: PullPosition[] = [];
    const d1 = gatedD1(log);
    const done = runPull(context(rows(6), log, d1, saved), initialPullPosition());
    await settle();
    d1.release();
    await settle();
    d1.release(new Error('D1 is down'));
    await expect(done).rejects.toThrow('D1 is down');
    // Only page 1's position was saved; page 3, read ahead, was never applied.
    expect(saved).toHaveLength(1);
    expect(saved[0]?.cursor?.id).toBe(rows(6)[1]?.id);
    expect(d1.applied).toHaveLength(2);
  });
});
