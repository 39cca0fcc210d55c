/**
 * Runs one convergence case: fresh coordinators for prospects (two-way), campaigns (pull) and
 * emails (push) against an empty stand-in database, the seed's schedule of writes, faults,
 * evictions and runs, then quiescing and the invariants. Engine misbehaviour becomes a Failure
 * with the seed; only a bug in the harness itself becomes a 'harness-error'.
 */
import { abortAllDurableObjects, evictDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { TestSyncCoordinator } from '../test-coordinator.ts';
import { canonicalFromMillis } from '../../../src/timestamps.ts';
import type { EntityStatus, SyncNowResult, Cursor } from '../../../src/types.ts';
import { entity as entityDef } from '../../shared/fixtures.ts';
import {
  d1Rows,
  emptyTestDatabase,
  expireCrashedLease,
  fireAlarm,
  freshStub,
  testCoordinator,
  wipeD1,
  type TestDatabase,
} from '../helpers.ts';
import { checkNoOverlap, checkPulled, checkPushed, checkTwoWay, compareCursor, type LoggedRun, type Sides } from './invariants.ts';
import { WriteModel } from './model.ts';
import { at } from './prng.ts';
import type { CaseResult, Failure } from './report.ts';
import { canonicalRow, canonTs, d1Value, insertValues, pgLiteral, pgParam, updateValues, type CanonRow, type Values } from './rows.ts';
import {
  CASE_ENTITIES,
  describeStep,
  planCase,
  type CaseEntity,
  type CasePlan,
  type D1Table,
  type Step,
  type SupabaseTable,
} from './schedule.ts';

type Stub = DurableObjectStub<TestSyncCoordinator>;

/**
 * Settings of the harness's coordinators, on top of helpers.ts' FAST.
 *
 * Late commits: the schedule writes them only seconds in the past (1–60 s), while the rows that
 * exist before the first sync were written hours ago. With a 10-minute safety lag the committed
 * pull cursor moves past the old rows (so "never backwards" is exercised) but never into the
 * window the late commits land in, so every late commit is re-read. A row committed behind the
 * committed cursor is by design only caught by reconciliation, which the harness does not
 * drive, so the schedule never writes one.
 *
 * Backoff: the harness drives runs itself (fireAlarm, syncNow); a failed run backs off an hour,
 * so no alarm fires by itself. Only a run that ends with `more` (small page budgets) arms an
 * alarm 100 ms out, which workerd fires for real, as in production.
 */
const HARNESS_SETTINGS = { safetyLagMs: 600_000, backoffBaseMs: 3_600_000, backoffMaxMs: 3_600_000 };

const MAX_QUIESCE_ROUNDS = 30;
/** Runs one quiescing cycle may take (a cycle re-reads the lag window page by page; cases hold tens of rows). */
const MAX_RUNS_PER_CYCLE = 60;
/** Rounds that end unsettled in the very same way before quiescing is declared stuck. */
const STUCK_ROUNDS = 3;
/** How long quiescing waits for a live run that holds the lease (polled, never a fixed sleep past a deadline). */
const LEASE_WAIT_MS = 5_000;
/** How long an eviction step waits for a graceful eviction before aborting every object instead. */
const GRACEFUL_EVICT_MS = 25;

const PG_TYPES: Record<string, string> = {
  uuid: 'uuid',
  text: 'text',
  integer: 'integer',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  date: 'date',
};

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the case of `seed` against `db` (emptied first). Never throws. */
export async function runCase(seed: number, db: TestDatabase, options: { emptyDatabase?: boolean } = {}): Promise<CaseResult> {
  const started = Date.now();
  const run = new CaseRun(planCase(seed), db);
  try {
    await run.timed('setup', () => run.setup(options.emptyDatabase ?? true));
    await run.timed('steps', () => run.runSteps());
    await run.settle();
  } catch (e) {
    run.failures.push({
      kind: 'harness-error',
      message: `the harness failed at step ${run.stepIndex} (${run.currentStep}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    });
  } finally {
    await run.teardown();
  }
  return run.result(Date.now() - started);
}

class CaseRun {
  readonly plan: CasePlan;
  readonly db: TestDatabase;
  readonly model = new WriteModel();
  readonly failures: Failure[] = [];
  stubs = {} as Record<CaseEntity, Stub>;
  /** Every id the case used, per table. */
  readonly caseIds: Record<CaseEntity, Set<string>> = { prospects: new Set(), campaigns: new Set(), emails: new Set() };
  stepIndex = 0;
  currentStep = 'setup';
  private caseStartMs = 0;
  private faultsActive = false;
  private readonly counters = {
    faultsInjected: 0,
    evictions: 0,
    crashesMidRun: 0,
    leasesPlanted: 0,
    runs: 0,
    quiesceRounds: 0,
    rowsCompared: 0,
    driftRepaired: 0,
  };
  private readonly seen = new Map<string, { cursor: Cursor | null; seq: number | null; at: string }>();
  private readonly reported = new Set<string>();
  /** Wall time per phase of the case (ms), for finding where a soak spends its time. */
  private readonly phaseMs: Record<string, number> = {};

  /** Runs one phase of the case, adding its wall time to phaseMs. */
  async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      this.phaseMs[phase] = (this.phaseMs[phase] ?? 0) + Date.now() - started;
    }
  }

  constructor(plan: CasePlan, db: TestDatabase) {
    this.plan = plan;
    this.db = db;
  }

  result(durationMs: number): CaseResult {
    return {
      seed: this.plan.seed,
      steps: this.plan.steps.length,
      ...this.counters,
      failures: this.failures,
      phaseMs: { ...this.phaseMs },
      schedule: this.plan.steps.map((s, i) => `#${i + 1} ${describeStep(s)}`),
      durationMs,
    };
  }

  // ---- setup and teardown ---------------------------------------------------------------

  async setup(emptyDatabase: boolean): Promise<void> {
    await Promise.all([emptyDatabase ? emptyTestDatabase(this.db) : null, wipeD1()]);
    this.caseStartMs = Date.now();
    const stubs = await Promise.all(
      CASE_ENTITIES.map((entity) => testCoordinator(entity, this.db, { ...HARNESS_SETTINGS, ...this.plan.settings[entity] })),
    );
    for (const [i, entity] of CASE_ENTITIES.entries()) this.stubs[entity] = stubs[i] as Stub;
    const now = Date.now();
    const history = (table: SupabaseTable): { id: string; values: Values; ts: string }[] =>
      this.plan.initial.supabase[table].map((r) => ({
        id: r.id,
        values: insertValues(table, r.value),
        ts: canonicalFromMillis(now - (r.ageMs ?? 0)),
      }));
    const edge = (table: D1Table): { id: string; values: Values }[] =>
      this.plan.initial.d1[table].map((r) => ({ id: r.id, values: insertValues(table, r.value) }));
    await Promise.all([
      this.sbInsert('prospects', history('prospects'), 'history insert'),
      this.sbInsert('campaigns', history('campaigns'), 'history insert'),
      this.d1Insert('prospects', edge('prospects'), 'insert'),
      this.d1Insert('emails', edge('emails'), 'insert'),
    ]);
    await this.checkPositions('setup');
  }

  /**
   * Stops the coordinators' alarm loops, so they never run during later cases (which reuse the
   * database and D1), and lets a run that an alarm started finish before the next case starts.
   */
  async teardown(): Promise<void> {
    await this.db.clearFaults().catch(() => undefined);
    for (const entity of CASE_ENTITIES) {
      const stub = this.stubs[entity];
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a setup that failed part-way left some stubs unset
      if (!stub) continue;
      await stub.pause(entity).catch(() => undefined);
      await this.waitForLease(entity).catch(() => undefined);
    }
  }

  // ---- the schedule ---------------------------------------------------------------------

  async runSteps(): Promise<void> {
    for (const [i, step] of this.plan.steps.entries()) {
      this.stepIndex = i + 1;
      this.currentStep = describeStep(step);
      await this.step(step);
      await this.checkPositions(`after step #${this.stepIndex} (${this.currentStep})`, this.mayHaveRun(step));
    }
  }

  /**
   * The coordinators whose positions the step may have moved: a position moves only inside a
   * run, so a coordinator that did not run since it was last read cannot have moved. Runs come
   * from the step itself, or from alarms that fire by themselves (only coordinators with a small
   * page budget arm those), so those are read after every step.
   */
  private mayHaveRun(step: Step): CaseEntity[] {
    const selfFiring = CASE_ENTITIES.filter((e) => this.plan.settings[e].maxPagesPerRun < 50);
    switch (step.kind) {
      case 'alarm':
      case 'sync-now':
      case 'race':
        return [...new Set([step.entity, ...selfFiring])];
      case 'crash-mid-run':
      case 'evict':
        return [...CASE_ENTITIES];
      default:
        return selfFiring;
    }
  }

  private async step(step: Step): Promise<void> {
    switch (step.kind) {
      case 'sb-insert': {
        const reused = step.reuse === null ? undefined : at(await this.absentIds(step.table, 'supabase'), step.reuse);
        const ids = reused ? [reused] : step.ids;
        await this.sbInsert(
          step.table,
          ids.map((id, k) => ({ id, values: insertValues(step.table, step.value + k) })),
          reused ? 're-insert' : 'insert',
        );
        return;
      }
      case 'sb-update': {
        const id = at(await this.sbIds(step.table), step.pick);
        if (id) await this.sbUpdate(step.table, [id], updateValues(step.table, step.value), undefined, 'update');
        return;
      }
      case 'sb-bulk-update': {
        const ids = await this.sbIds(step.table);
        const chosen = ids.slice(0, step.count);
        if (chosen.length > 0)
          await this.sbUpdate(step.table, chosen, updateValues(step.table, step.value), undefined, `bulk update x${chosen.length}`);
        return;
      }
      case 'sb-delete': {
        const id = at(await this.sbIds(step.table), step.pick);
        if (id) await this.sbDelete(step.table, id);
        return;
      }
      case 'sb-delete-reinsert': {
        const id = at(await this.sbIds(step.table), step.pick);
        if (id) await this.sbDeleteReinsert(step.table, id, insertValues(step.table, step.value), step.form);
        return;
      }
      case 'sb-late-commit':
      case 'sb-skew-ahead': {
        const offset = step.kind === 'sb-late-commit' ? -step.agoMs : step.aheadMs;
        const ts = this.explicitTs(offset, step.value);
        const what =
          step.kind === 'sb-late-commit'
            ? `late commit ${step.mode} (-${Math.round(step.agoMs / 1000)}s)`
            : `clock-ahead ${step.mode} (+${Math.round(step.aheadMs / 1000)}s)`;
        const existing = step.mode === 'update' ? at(await this.sbIds(step.table), step.pick) : undefined;
        if (existing) await this.sbUpdate(step.table, [existing], updateValues(step.table, step.value), ts, what);
        else
          await this.sbInsert(
            step.table,
            [{ id: step.id, values: insertValues(step.table, step.value), ts }],
            what.replace('update', 'insert'),
          );
        return;
      }
      case 'd1-insert': {
        const reused = step.reuse === null ? undefined : at(await this.absentIds(step.table, 'd1'), step.reuse);
        const ids = reused ? [reused] : step.ids;
        const rows = ids.map((id, k) => ({ id, values: insertValues(step.table, step.value + k, { invalid: step.invalid }) }));
        await this.d1Insert(step.table, rows, `${reused ? 're-insert' : 'insert'}${step.invalid ? ' (invalid for supabase)' : ''}`);
        return;
      }
      case 'd1-update': {
        const id = at(await this.d1Ids(step.table), step.pick);
        if (id) await this.d1Update(step.table, id, updateValues(step.table, step.value), undefined, 'update');
        return;
      }
      case 'd1-delete': {
        const id = at(await this.d1Ids(step.table), step.pick);
        if (id) await this.d1Delete(step.table, id);
        return;
      }
      case 'd1-skew-ahead': {
        const id = at(await this.d1Ids(step.table), step.pick);
        if (id)
          await this.d1Update(
            step.table,
            id,
            updateValues(step.table, step.value),
            this.explicitTs(step.aheadMs, step.value),
            `clock-ahead update (+${Math.round(step.aheadMs / 1000)}s)`,
          );
        return;
      }
      case 'both-edit': {
        const inD1 = new Set(await this.d1Ids('prospects'));
        const id = at(
          (await this.sbIds('prospects')).filter((x) => inD1.has(x)),
          step.pick,
        );
        if (!id) return;
        const sb = (): Promise<void> =>
          this.sbUpdate('prospects', [id], updateValues('prospects', step.value), undefined, 'edit (both sides)');
        const d1 = (): Promise<void> =>
          this.d1Update('prospects', id, updateValues('prospects', step.value + 1), undefined, 'edit (both sides)');
        if (step.supabaseFirst) {
          await sb();
          await d1();
        } else {
          await d1();
          await sb();
        }
        return;
      }
      case 'faults-on':
        await this.db.faults(step.spec);
        this.faultsActive = true;
        this.counters.faultsInjected += 1;
        return;
      case 'faults-off':
        await this.db.clearFaults();
        this.faultsActive = false;
        return;
      case 'evict':
        await this.evict(step.entity);
        return;
      case 'crash-mid-run':
        await this.crashMidRun(step);
        return;
      case 'alarm':
        await this.runOnce(step.entity, 'alarm');
        return;
      case 'sync-now':
        await this.runOnce(step.entity, 'sync-now');
        return;
      case 'race':
        await Promise.all([this.runOnce(step.entity, 'alarm'), this.runOnce(step.entity, 'sync-now')]);
        return;
    }
  }

  /** A timestamp `offsetMs` from now, with microseconds, canonical. */
  private explicitTs(offsetMs: number, value: number): string {
    return `${canonicalFromMillis(Date.now() + offsetMs).slice(0, 23)}${String(value % 1000).padStart(3, '0')}Z`;
  }

  // ---- Supabase writes (the dashboard's way: SQL, triggers stamp updated_at) -------------

  private async sbIds(table: SupabaseTable | CaseEntity): Promise<string[]> {
    const rows = await this.db.sql<{ id: string }>(`select id::text as id from ${table}`);
    return rows
      .map((r) => r.id)
      .filter((id) => this.caseIds[table].has(id))
      .sort();
  }

  /** Ids the case used for `table` that `side` does not hold now (for re-inserts). */
  private async absentIds(table: CaseEntity, side: 'supabase' | 'd1'): Promise<string[]> {
    const present = new Set(side === 'supabase' ? await this.sbIds(table) : await this.d1Ids(table));
    return [...this.caseIds[table]].filter((id) => !present.has(id)).sort();
  }

  private cast(table: string, column: string): string {
    const spec = entityDef(table).columns[column];
    return PG_TYPES[spec?.type ?? 'text'] ?? 'text';
  }

  private recordSupabaseRows(table: CaseEntity, rows: Record<string, unknown>[], what: string, group: number): void {
    for (const raw of rows) {
      const row = canonicalRow(table, raw);
      const prev = raw['prev_updated_at'];
      this.model.record(table, String(raw['id']), {
        side: 'supabase',
        op: 'upsert',
        ts: String(row['updated_at']),
        prevTs: prev === null || prev === undefined ? null : canonTs(prev),
        row,
        group,
        step: this.stepIndex,
        what,
      });
    }
  }

  private async sbInsert(table: SupabaseTable, rows: { id: string; values: Values; ts?: string }[], what: string): Promise<void> {
    const first = rows[0];
    if (!first) return;
    for (const r of rows) this.caseIds[table].add(r.id);
    const valueColumns = Object.keys(first.values);
    const columns = ['id', ...valueColumns, ...(first.ts !== undefined ? ['created_at', 'updated_at'] : [])];
    const params: (string | null)[] = [];
    const tuples = rows.map((r) => {
      const values: (string | null)[] = [
        r.id,
        ...valueColumns.map((c) => pgParam(r.values[c] ?? null)),
        ...(r.ts !== undefined ? [r.ts, r.ts] : []),
      ];
      return `(${values
        .map((v, k) => {
          params.push(v);
          return `$${params.length}::${this.cast(table, columns[k] as string)}`;
        })
        .join(', ')})`;
    });
    // `on conflict do nothing`: an alarm that fires by itself may push the same id in between.
    const inserted = await this.db.sql(
      `insert into ${table} (${columns.join(', ')}) values ${tuples.join(', ')} on conflict (id) do nothing returning *`,
      params,
    );
    this.recordSupabaseRows(table, inserted, what, this.model.group());
  }

  private async sbUpdate(table: SupabaseTable, ids: string[], values: Values, ts: string | undefined, what: string): Promise<void> {
    const params: (string | null)[] = [`{${ids.join(',')}}`];
    const sets = Object.entries(values).map(([c, v]) => {
      params.push(pgParam(v));
      return `${c} = $${params.length}::${this.cast(table, c)}`;
    });
    if (ts !== undefined) {
      params.push(ts);
      // A long transaction's UPDATE leaves updated_at to set_updated_at, which stamps
      // max(its start, previous + 1 µs): a late commit never goes behind the version it changed.
      // (An explicit older value on top of a newer version is a backdating writer: drift, which
      // reconciliation repairs, not incremental sync.) Other explicit values are kept as written.
      sets.push(
        what.startsWith('late commit')
          ? `updated_at = greatest($${params.length}::timestamptz, old.prev_updated_at + interval '1 microsecond')`
          : `updated_at = $${params.length}::timestamptz`,
      );
    }
    // The subquery reads the version each row had before this statement (same snapshot).
    const updated = await this.db.sql(
      `update ${table} as t set ${sets.join(', ')} from (select id as old_id, updated_at as prev_updated_at from ${table} where id = any($1::uuid[])) as old ` +
        `where t.id = old.old_id returning t.*, old.prev_updated_at`,
      params,
    );
    this.recordSupabaseRows(table, updated, what, this.model.group());
  }

  private async tombstoneTs(table: string, id: string): Promise<string | null> {
    const [t] = await this.db.sql<{ deleted_at: string | null }>(
      `select max(deleted_at) as deleted_at from sync_tombstones where table_name = $1 and row_id = $2`,
      [table, id],
    );
    return t?.deleted_at ? canonTs(t.deleted_at) : null;
  }

  private async sbDelete(table: SupabaseTable, id: string): Promise<void> {
    const [gone] = await this.db.sql<{ id: string; prev_updated_at: string; deleted_at: string }>(
      `delete from ${table} where id = $1::uuid returning id::text as id, updated_at as prev_updated_at, now() as deleted_at`,
      [id],
    );
    if (!gone) return;
    const ts = (await this.tombstoneTs(table, id)) ?? canonTs(gone.deleted_at);
    this.model.record(table, id, {
      side: 'supabase',
      op: 'delete',
      ts,
      prevTs: canonTs(gone.prev_updated_at),
      group: this.model.group(),
      step: this.stepIndex,
      what: 'delete',
    });
  }

  /** Deletes a row and inserts it again under the same id in one statement or one transaction (they share now()). */
  private async sbDeleteReinsert(table: SupabaseTable, id: string, values: Values, form: 'one-statement' | 'transaction'): Promise<void> {
    const [before] = await this.db.sql<{ updated_at: string }>(`select updated_at from ${table} where id = $1::uuid`, [id]);
    if (!before) return;
    const columns = ['id', ...Object.keys(values)];
    const literals = [pgLiteral(id), ...Object.values(values).map(pgLiteral)];
    const typed = literals.map((l, k) => `${l}::${this.cast(table, columns[k] as string)}`);
    let used = form;
    if (form === 'one-statement') {
      try {
        // The insert reads the delete's output, so the delete runs first (same statement, same now()).
        await this.db.sql(
          `with gone as (delete from ${table} where id = ${pgLiteral(id)}::uuid returning id) insert into ${table} (${columns.join(', ')}) select ${typed.join(', ')} from gone`,
        );
      } catch {
        used = 'transaction'; // Postgres refused the one-statement form: do it as a transaction
      }
    }
    if (used === 'transaction') {
      await this.db.sql(
        `begin; delete from ${table} where id = ${pgLiteral(id)}::uuid; insert into ${table} (${columns.join(', ')}) values (${typed.join(', ')}); commit`,
      );
    }
    const [row] = await this.db.sql(`select * from ${table} where id = $1::uuid`, [id]);
    // The tombstone's time; if the re-insert cleared the tombstone, the statement's now() (the row's version).
    const deletedAt = (await this.tombstoneTs(table, id)) ?? (row ? canonTs(row['updated_at']) : null);
    const group = this.model.group();
    if (deletedAt) {
      this.model.record(table, id, {
        side: 'supabase',
        op: 'delete',
        ts: deletedAt,
        prevTs: canonTs(before.updated_at),
        group,
        step: this.stepIndex,
        what: `delete (+ re-insert, ${used})`,
      });
    }
    if (row) this.recordSupabaseRows(table, [row], `re-insert (after delete, ${used})`, group);
  }

  // ---- D1 writes (the Worker's way: plain statements, no sync flags) ----------------------

  private async d1Ids(table: CaseEntity): Promise<string[]> {
    const r = await env.DB.prepare(`SELECT id FROM ${table} WHERE id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify([...this.caseIds[table]]))
      .all<{ id: string }>();
    return r.results.map((x) => x.id).sort();
  }

  private async d1Insert(table: D1Table, rows: { id: string; values: Values }[], what: string): Promise<void> {
    const first = rows[0];
    if (!first) return;
    for (const r of rows) this.caseIds[table].add(r.id);
    const columns = ['id', ...Object.keys(first.values)];
    // OR IGNORE: an alarm that fires by itself may pull the same id in between (then nothing is written).
    const statements = rows.map((r) =>
      env.DB.prepare(
        `INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, k) => `?${k + 1}`).join(', ')})`,
      ).bind(r.id, ...Object.keys(first.values).map((c) => d1Value(r.values[c] ?? null))),
    );
    const read = env.DB.prepare(`SELECT * FROM ${table} WHERE id IN (SELECT value FROM json_each(?1))`).bind(
      JSON.stringify(rows.map((r) => r.id)),
    );
    const results = await env.DB.batch([...statements, read]);
    const written = new Set(rows.filter((_, k) => (results[k]?.meta.changes ?? 0) > 0).map((r) => r.id));
    const group = this.model.group();
    for (const raw of (results.at(-1)?.results ?? []) as Record<string, unknown>[]) {
      if (!written.has(String(raw['id']))) continue;
      const row = canonicalRow(table, raw);
      this.model.record(table, String(raw['id']), {
        side: 'd1',
        op: 'upsert',
        ts: String(row['updated_at']),
        prevTs: null,
        row,
        group,
        step: this.stepIndex,
        what,
      });
    }
  }

  private async d1Update(table: D1Table, id: string, values: Values, ts: string | undefined, what: string): Promise<void> {
    const sets = Object.keys(values).map((c, k) => `${c} = ?${k + 2}`);
    const binds = Object.values(values).map(d1Value);
    if (ts !== undefined) {
      sets.push(`updated_at = ?${binds.length + 2}`);
      binds.push(ts);
    }
    const [before, , after] = await env.DB.batch([
      env.DB.prepare(`SELECT updated_at FROM ${table} WHERE id = ?1`).bind(id),
      env.DB.prepare(`UPDATE ${table} SET ${sets.join(', ')} WHERE id = ?1`).bind(id, ...binds),
      env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?1`).bind(id),
    ]);
    const prev = (before?.results[0] as { updated_at?: string } | undefined)?.updated_at;
    const raw = after?.results[0] as Record<string, unknown> | undefined;
    if (prev === undefined || !raw) return; // the row was gone: nothing written
    const row = canonicalRow(table, raw);
    this.model.record(table, id, {
      side: 'd1',
      op: 'upsert',
      ts: String(row['updated_at']),
      prevTs: canonTs(prev),
      row,
      group: this.model.group(),
      step: this.stepIndex,
      what,
    });
  }

  private async d1Delete(table: D1Table, id: string): Promise<void> {
    const [before, , outbox, clock] = await env.DB.batch([
      env.DB.prepare(`SELECT updated_at FROM ${table} WHERE id = ?1`).bind(id),
      env.DB.prepare(`DELETE FROM ${table} WHERE id = ?1`).bind(id),
      // The delete's version is the time the outbox recorded for it (what the push compares).
      env.DB.prepare(
        `SELECT changed_at FROM sync_outbox WHERE entity = ?2 AND row_id = ?1 AND op = 'delete' ORDER BY seq DESC LIMIT 1`,
      ).bind(id, table),
      env.DB.prepare(`SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z' AS now`),
    ]);
    const prev = (before?.results[0] as { updated_at?: string } | undefined)?.updated_at;
    if (prev === undefined) return;
    const changedAt = (outbox?.results[0] as { changed_at?: string } | undefined)?.changed_at;
    const d1Now = (clock?.results[0] as { now?: string } | undefined)?.now;
    this.model.record(table, id, {
      side: 'd1',
      op: 'delete',
      ts: canonTs(changedAt ?? d1Now ?? canonicalFromMillis(Date.now())),
      prevTs: canonTs(prev),
      group: this.model.group(),
      step: this.stepIndex,
      what: 'delete',
    });
  }

  // ---- runs, evictions, crashes -----------------------------------------------------------

  private engineError(entity: string, what: string, e: unknown): void {
    this.failures.push({
      kind: 'engine-error',
      entity,
      message: `${what} threw at step #${this.stepIndex} (${this.currentStep}): ${errorText(e)}`,
    });
  }

  private async runOnce(entity: CaseEntity, how: 'alarm' | 'sync-now'): Promise<SyncNowResult | null> {
    this.counters.runs += 1;
    try {
      if (how === 'alarm') {
        await fireAlarm(this.stubs[entity]);
        return null;
      }
      return await this.stubs[entity].syncNow(entity);
    } catch (e) {
      this.engineError(entity, how === 'alarm' ? 'the alarm' : 'syncNow', e);
      return null;
    }
  }

  /**
   * Evicts an idle coordinator. A graceful eviction (evictDurableObject) waits until the object
   * has no active references, and an object that fetched recently keeps its outbound connection
   * for about 10 s: when the graceful eviction has not happened within GRACEFUL_EVICT_MS, every
   * object is aborted instead (the same loss of memory, without the wait; the pending graceful
   * eviction then settles at once).
   */
  private async evict(entity: CaseEntity): Promise<void> {
    const before = Date.now();
    const graceful = evictDurableObject(this.stubs[entity]).then(
      () => 'evicted' as const,
      (e: unknown) => (/not currently running/i.test(String(e)) ? ('idle' as const) : ('refused' as const)),
    );
    const outcome = await Promise.race([graceful, delay(GRACEFUL_EVICT_MS).then(() => 'slow' as const)]);
    if (outcome === 'idle') return; // not running: nothing in memory to lose
    this.counters.evictions += 1;
    if (outcome === 'evicted') {
      // A graceful eviction lets requests drain; a run it cut short left its lease behind.
      if (await expireCrashedLease(this.stubs[entity], before)) this.counters.leasesPlanted += 1;
      return;
    }
    await abortAllDurableObjects();
    const abortedAt = Date.now();
    await graceful;
    await this.afterAbort(abortedAt);
  }

  /** New stubs for every coordinator, and the leases of runs that died with their instance expired. */
  private async afterAbort(abortedAt: number): Promise<void> {
    for (const entity of CASE_ENTITIES) this.stubs[entity] = freshStub(this.stubs[entity]);
    // Every instance is gone: a lease taken before the abort belongs to a dead run.
    for (const entity of CASE_ENTITIES) {
      if (await expireCrashedLease(this.stubs[entity], abortedAt)) this.counters.leasesPlanted += 1;
    }
  }

  /** Starts a run without awaiting it, and aborts every Durable Object while it is in flight. */
  private async crashMidRun(step: Extract<Step, { kind: 'crash-mid-run' }>): Promise<void> {
    const slow = step.slow && !this.faultsActive;
    if (slow) await this.db.faults({ latencyMs: 40 });
    const stub = this.stubs[step.entity];
    this.counters.runs += 1;
    const inFlight = (step.via === 'sync-now' ? stub.syncNow(step.entity) : fireAlarm(stub)).then(
      () => 'finished' as const,
      () => 'aborted' as const,
    );
    // Positions the abort somewhere inside the run; nothing waits on a lease or an alarm here.
    await delay(step.delayMs);
    await abortAllDurableObjects();
    const abortedAt = Date.now();
    this.counters.evictions += 1;
    this.counters.crashesMidRun += 1;
    const settled = await Promise.race([inFlight, delay(20_000).then(() => 'hung' as const)]);
    if (settled === 'hung') throw new Error('a run aborted by abortAllDurableObjects() did not settle within 20 s');
    await this.afterAbort(abortedAt);
    if (slow) await this.db.clearFaults();
  }

  // ---- positions ------------------------------------------------------------------------

  /** Reads coordinators' status and checks that no persisted position moved backwards. */
  private async checkPositions(label: string, entities: readonly CaseEntity[] = CASE_ENTITIES): Promise<void> {
    if (entities.length === 0) return;
    const statuses = await Promise.all(entities.map((entity) => this.stubs[entity].status(entity).catch((e: unknown) => e)));
    for (const [i, entity] of entities.entries()) {
      const answer: unknown = statuses[i];
      if (answer instanceof Error || typeof answer !== 'object' || answer === null) {
        this.engineError(entity, 'status', answer);
        continue;
      }
      const status = answer as EntityStatus;
      const positions: [string, Cursor | null | undefined, number | null | undefined][] = [
        ['pull.cursor', status.pull?.cursor, undefined],
        ['pull.tombstoneCursor', status.pull?.tombstoneCursor, undefined],
        ['push.confirmedSeq', undefined, status.push?.confirmedSeq],
      ];
      for (const [field, cursor, seq] of positions) {
        if (cursor === undefined && seq === undefined) continue;
        const key = `${entity}:${field}`;
        const prev = this.seen.get(key);
        const now = { cursor: cursor ?? null, seq: seq ?? null, at: label };
        const backwards =
          prev !== undefined && (seq !== undefined ? (seq ?? 0) < (prev.seq ?? 0) : compareCursor(now.cursor, prev.cursor) < 0);
        if (prev !== undefined && backwards) {
          if (!this.reported.has(key)) {
            this.reported.add(key);
            const show = (p: typeof now): string => (p.seq !== null ? String(p.seq) : JSON.stringify(p.cursor));
            this.failures.push({
              kind: 'cursor-backwards',
              entity,
              message: `${field} moved backwards: ${show(prev)} (${prev.at}) → ${show(now)} (${label})`,
            });
          }
          continue; // keep the high-water mark
        }
        this.seen.set(key, now);
      }
    }
  }

  // ---- the end: quiesce, then the invariants ---------------------------------------------

  async settle(): Promise<void> {
    this.currentStep = 'quiesce';
    await this.db.clearFaults();
    this.faultsActive = false;
    let quiet = await this.timed('quiesce', () => this.quiesce());
    // The engine's backstop, as the 03:00 cron runs it: reconciliation with fix finds what
    // incremental sync cannot see (e.g. a Supabase writer that set updated_at into the past),
    // then the sync runs settle again. How much it repaired is counted, not hidden.
    if (quiet) {
      this.currentStep = 'reconcile';
      await this.timed('reconcile', () => this.reconcileAll());
      quiet = await this.timed('quiesce', () => this.quiesce());
    }
    this.currentStep = 'checks';
    await this.timed('checks', async () => {
      await this.checkRows();
      await this.checkLedger();
      if (quiet) await this.checkHealth();
    });
  }

  /** An integrity run with fix and reconciliation per entity, to its end. */
  private async reconcileAll(): Promise<void> {
    await Promise.all(
      CASE_ENTITIES.map(async (entity) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const r = await this.stubs[entity].runIntegrity(entity, { fix: true, reconcile: true, trigger: 'daily' });
          if (r.status === 'done') {
            this.counters.driftRepaired += r.run.drift?.repaired ?? 0;
            if (r.run.error) this.failures.push({ kind: 'no-quiesce', message: `${entity}: the reconciliation failed: ${r.run.error}` });
            return;
          }
          await this.waitForLease(entity);
        }
        this.failures.push({ kind: 'no-quiesce', message: `${entity}: the reconciliation did not finish in 20 attempts` });
      }),
    );
  }

  /** Sync rounds until two rounds in a row change nothing and end caught up; false when it never happens. */
  private async quiesce(): Promise<boolean> {
    let cleanRounds = 0;
    let notes: string[] = [];
    let sameNotes = 0;
    for (let round = 1; round <= MAX_QUIESCE_ROUNDS; round++) {
      this.counters.quiesceRounds = round;
      // The coordinators are independent objects: their cycles run side by side.
      const cycles = await Promise.all(CASE_ENTITIES.map((entity) => this.cycle(entity)));
      const roundNotes = CASE_ENTITIES.flatMap((entity, i) => (cycles[i] === null ? [] : [`${entity}: ${cycles[i]}`]));
      await this.checkPositions(`quiesce round ${round}`);
      // Two clean rounds: the second one's pulls all started from their committed cursors.
      if (roundNotes.length === 0) {
        if (++cleanRounds >= 2) return true;
      } else {
        cleanRounds = 0;
        sameNotes = roundNotes.join('; ') === notes.join('; ') ? sameNotes + 1 : 1;
        notes = roundNotes;
        // The same unsettled outcome round after round is a loop (rows flip back and forth, or a
        // pass never reaches its end): waiting for the remaining rounds only costs time.
        if (sameNotes >= STUCK_ROUNDS) {
          this.failures.push({
            kind: 'no-quiesce',
            message: `sync runs are stuck: ${STUCK_ROUNDS} rounds in a row ended the same way: ${notes.join('; ')} (rows checked as they are; health not checked)`,
          });
          return false;
        }
      }
    }
    this.failures.push({
      kind: 'no-quiesce',
      message: `sync runs did not settle in ${MAX_QUIESCE_ROUNDS} rounds; the last unsettled round: ${notes.join('; ')} (rows checked as they are; health not checked)`,
    });
    return false;
  }

  /** Runs one coordinator until a run ends caught up; null when that cycle changed nothing. */
  private async cycle(entity: CaseEntity): Promise<string | null> {
    let changes = 0;
    let idle = 0;
    for (let i = 0; i < MAX_RUNS_PER_CYCLE; i++) {
      const r = await this.runOnce(entity, 'sync-now');
      if (r === null) return 'syncNow threw';
      if (!r.ran) {
        const held = await this.waitForLease(entity);
        if (held)
          return `coalesced: run ${String(held['runId'])} still holds the lease after ${LEASE_WAIT_MS} ms (${JSON.stringify(held)})`;
        // The holder (an alarm of a coordinator that chains its own runs) counts with what it
        // changed, read from its run summary. Counting every coalesce as a change made loaded
        // machines report "1 row(s) changed" round after round (no-quiesce) with nothing changing:
        // a slow syncNow loses the race to the +100 ms alarm of the previous 'more' run.
        const holder = (await this.stubs[entity].status(entity)).lastRun;
        changes += holder?.runId === r.lease.runId ? holder.stats.rowsApplied + holder.stats.rowsDeleted : 1;
        continue;
      }
      const s = r.run.stats;
      changes += s.rowsApplied + s.rowsDeleted;
      if (r.run.outcome === 'failed') return `run failed: ${r.run.error ?? '(no error)'}`;
      if (r.run.outcome === 'caught-up') return changes === 0 ? null : `${changes} row(s) changed`;
      // A run that ends `more` without reading anything made no progress; a few in a row will
      // not catch up however many follow.
      idle = s.rowsRead === 0 ? idle + 1 : 0;
      if (idle >= 3) return `runs end "${r.run.outcome}" without reading a row (${s.pages} page(s) each): the pass never reaches its end`;
    }
    return `no caught-up run in ${MAX_RUNS_PER_CYCLE} runs`;
  }

  /** Polls status until no live lease is held; returns the lease still held after LEASE_WAIT_MS, else null. */
  private async waitForLease(entity: CaseEntity): Promise<Record<string, unknown> | null> {
    const until = Date.now() + LEASE_WAIT_MS;
    for (;;) {
      const lease = (await this.stubs[entity].status(entity)).lease as Record<string, unknown> | null;
      if (!lease) return null;
      if (Date.now() >= until) return lease;
      await delay(10);
    }
  }

  private async sides(table: CaseEntity, ids: readonly string[]): Promise<Sides> {
    const wanted = new Set(ids);
    const d1 = new Map((await d1Rows(table, ids)).map((r) => [String(r['id']), canonicalRow(table, r)] as const));
    const sb = new Map<string, CanonRow>();
    for (const r of await this.db.sql(`select * from ${table}`)) {
      const id = String(r['id']);
      if (wanted.has(id)) sb.set(id, canonicalRow(table, r));
    }
    return { d1, supabase: sb };
  }

  private async checkRows(): Promise<void> {
    for (const table of CASE_ENTITIES) {
      const ids = [...new Set([...this.caseIds[table], ...this.model.ids(table)])].sort();
      const sides = await this.sides(table, ids);
      const check = table === 'prospects' ? checkTwoWay : table === 'emails' ? checkPushed : checkPulled;
      const r = check(table, ids, sides, this.model);
      this.failures.push(...r.failures);
      this.counters.rowsCompared += r.compared;
      const dupes = await env.DB.prepare(
        `SELECT lower(id) AS k, group_concat(id, ' ') AS ids, count(*) AS n FROM ${table}
         WHERE lower(id) IN (SELECT lower(value) FROM json_each(?1)) GROUP BY lower(id) HAVING count(*) > 1`,
      )
        .bind(JSON.stringify(ids))
        .all<{ k: string; ids: string; n: number }>();
      for (const d of dupes.results) {
        this.failures.push({
          kind: 'duplicated',
          entity: table,
          ids: d.ids.split(' '),
          message: `${d.n} D1 rows whose ids differ only by case: ${d.ids}`,
        });
      }
    }
  }

  private async checkLedger(): Promise<void> {
    const since = new Date(this.caseStartMs).toISOString();
    const runs: LoggedRun[] = [];
    for (const entity of CASE_ENTITIES) {
      // Each coordinator's run log, oldest first.
      const log = (await this.stubs[entity].runs(entity, 500, 'include')).reverse();
      for (const r of log) {
        if (r.startedAt < since) continue;
        runs.push({
          run_id: r.runId,
          entity,
          trigger: r.trigger,
          started_at: r.startedAt,
          finished_at: r.finishedAt,
          outcome: r.outcome,
          error: r.error,
        });
      }
    }
    this.failures.push(...checkNoOverlap(runs));
  }

  private async checkHealth(): Promise<void> {
    for (const entity of CASE_ENTITIES) {
      const s = await this.stubs[entity].status(entity);
      if (s.healthy) continue;
      // The state behind the verdict, so a rare failure explains itself from its report alone.
      const last = s.lastRun
        ? `${s.lastRun.trigger} run ${s.lastRun.outcome} at ${s.lastRun.finishedAt}, next at ${s.lastRun.nextRunAt ?? 'none'}`
        : 'none';
      const state = `alarm ${s.nextAlarmAt ?? 'none'}; lease ${s.lease ? `${s.lease.trigger} until ${s.lease.expiresAt}` : 'none'}; last run ${last}; read at ${new Date().toISOString()}`;
      this.failures.push({
        kind: 'unhealthy',
        entity,
        message: `not healthy after quiescing: ${s.problems.join('; ') || '(no reason given)'} (${state})`,
      });
    }
  }
}
