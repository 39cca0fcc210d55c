/**
 * The harness's model of what was written, per row: every write the schedule made, on which
 * side, the version it produced (updated_at, or the delete time) and the version the writing
 * side held just before (read in the same statement or batch as the write). From it:
 *
 * - emails: D1 is the truth and only the schedule writes D1 emails, so the model knows D1's
 *   final state exactly (and Supabase must match D1);
 * - campaigns: Supabase is the truth and only the schedule writes it (the same, the other way);
 * - prospects (two-way, last-write-wins): a write made on top of a version is causally after
 *   it and must win over it, whatever the clocks said; writes that did not see each other are
 *   concurrent and the newer updated_at wins (a delete counts as a version stamped with its
 *   delete time). The expected final row is the causally-latest write, ties between concurrent
 *   writes broken by timestamp. Where that cannot be decided (a write on top of a version the
 *   schedule never wrote — e.g. one the engine re-stamped — or two concurrent writes with the
 *   same timestamp), the model only requires both sides to be equal.
 */
import type { CanonRow } from './rows.ts';

/** One write the schedule made to one row. */
export interface WriteEvent {
  side: 'supabase' | 'd1';
  op: 'upsert' | 'delete';
  /** The version: the row's canonical updated_at after the write, or the delete time. */
  ts: string;
  /** The version the writing side held just before the write (canonical), null when it had no row. */
  prevTs: string | null;
  /** The row as the writing side holds it right after the write (upserts). */
  row?: CanonRow;
  /** Writes in one Supabase statement or transaction share a group (and now()). */
  group: number;
  /** Global order of the write in the case. */
  seq: number;
  /** The step that made it, for messages. */
  step: number;
  what: string;
}

/** What the model expects of one row at the end. */
export type Expectation =
  | { kind: 'present'; row: CanonRow; because: WriteEvent; why: string }
  | { kind: 'absent'; because: WriteEvent; why: string }
  /** Cannot be decided: only "both sides equal" is required. */
  | { kind: 'equal-only'; reason: string };

/** Per entity and row id, the writes in order. */
export class WriteModel {
  private readonly events = new Map<string, Map<string, WriteEvent[]>>();
  private seq = 0;
  private groupSeq = 0;

  /** A fresh group id for writes made by one statement or transaction. */
  group(): number {
    this.groupSeq += 1;
    return this.groupSeq;
  }

  record(entity: string, id: string, event: Omit<WriteEvent, 'seq'>): void {
    let byId = this.events.get(entity);
    if (!byId) {
      byId = new Map();
      this.events.set(entity, byId);
    }
    let list = byId.get(id);
    if (!list) {
      list = [];
      byId.set(id, list);
    }
    this.seq += 1;
    list.push({ ...event, seq: this.seq });
  }

  /** Every id the case wrote for an entity, sorted. */
  ids(entity: string): string[] {
    return [...(this.events.get(entity)?.keys() ?? [])].sort();
  }

  history(entity: string, id: string): WriteEvent[] {
    return this.events.get(entity)?.get(id) ?? [];
  }

  /** A row's writes as one line: "#3 sb insert @…Z | #7 d1 update @…Z". */
  describe(entity: string, id: string): string {
    return this.history(entity, id)
      .map((e) => `#${e.step} ${e.side === 'supabase' ? 'sb' : 'd1'} ${e.what} @${e.ts}${e.prevTs ? ` (on ${e.prevTs})` : ''}`)
      .join(' | ');
  }

  /** The last-write-wins expectation of a two-way row (see the file comment). */
  twoWay(entity: string, id: string): Expectation {
    const list = this.history(entity, id);
    if (list.length === 0) return { kind: 'equal-only', reason: 'no writes recorded' };
    const parent = new Map<WriteEvent, WriteEvent | null>();
    for (const [i, e] of list.entries()) {
      const earlier = list.slice(0, i);
      const prevInGroup = earlier.at(-1);
      if (e.prevTs === null) {
        // A re-insert in the statement or transaction that deleted the row follows that delete.
        parent.set(e, prevInGroup?.group === e.group && prevInGroup.op === 'delete' ? prevInGroup : null);
        continue;
      }
      const base = [...earlier].reverse().find((x) => x.op === 'upsert' && x.ts === e.prevTs);
      if (!base) {
        return {
          kind: 'equal-only',
          reason: `write #${e.step} (${e.side} ${e.what}) was made on top of version ${e.prevTs}, which the schedule never wrote`,
        };
      }
      parent.set(e, base);
    }
    const ancestors = new Set<WriteEvent>();
    for (const e of list) {
      for (let p = parent.get(e) ?? null; p && !ancestors.has(p); p = parent.get(p) ?? null) ancestors.add(p);
    }
    const heads = list.filter((e) => !ancestors.has(e));
    const newest = heads.reduce((a, b) => (b.ts > a.ts ? b : a));
    const tied = heads.filter((h) => h !== newest && h.ts === newest.ts);
    if (tied.length > 0) {
      return {
        kind: 'equal-only',
        reason: `concurrent writes #${newest.step} and #${tied.map((t) => t.step).join(', #')} share the version ${newest.ts}`,
      };
    }
    const why =
      heads.length === 1
        ? `write #${newest.step} (${newest.side} ${newest.what}) is causally the last`
        : `write #${newest.step} (${newest.side} ${newest.what} @${newest.ts}) is the newest of the concurrent writes #${heads.map((h) => h.step).join(', #')}`;
    if (newest.op === 'delete') return { kind: 'absent', because: newest, why };
    if (!newest.row) return { kind: 'equal-only', reason: `write #${newest.step} was not read back` };
    return { kind: 'present', row: newest.row, because: newest, why };
  }

  /** The truth side's final state of a row written on one side only (emails: D1, campaigns: Supabase). */
  truth(entity: string, id: string): Expectation {
    const last = this.history(entity, id).at(-1);
    if (!last) return { kind: 'equal-only', reason: 'no writes recorded' };
    const why = `write #${last.step} (${last.side} ${last.what}) is the last`;
    if (last.op === 'delete') return { kind: 'absent', because: last, why };
    if (!last.row) return { kind: 'equal-only', reason: `write #${last.step} was not read back` };
    return { kind: 'present', row: last.row, because: last, why };
  }
}
