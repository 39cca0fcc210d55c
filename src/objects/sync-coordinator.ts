/**
 * SyncCoordinator: one Durable Object per synced entity. It owns the entity's positions,
 * lease, conflict history and quarantine (in its SQLite storage) and its alarm, which is the
 * scheduler: two runs of one entity never overlap, and a failed run always re-arms.
 * The sync logic lives in src/sync; this class does the I/O around it.
 */
import { DurableObject } from 'cloudflare:workers';
import { findEntity, pulls, pushes, type EntityDefinition } from '../entities.ts';
import { engineDefaults, serviceRoleKey, type Env } from '../env.ts';
import { checkLease, isLive, LeaseLostError, nextEpoch, releaseLease, renewLease, takeLease } from '../lease/lease.ts';
import { alertPayload, planAlerts } from '../integrity/alerts.ts';
import { afterFixes, jobProgress, mergeIntegrityJob, newIntegrityJob, stepIntegrity } from '../integrity/integrity-run.ts';
import { afterSyncRun, requestResync, resyncStarted, resyncStatus } from '../integrity/resync.ts';
import { deliverAlert } from '../stores/alert-webhook.ts';
import { createPassD1, deleteRows, enqueueAllRows, enqueueRows, outboxBacklog } from '../stores/d1.ts';
import { writeIntegrityRun } from '../stores/integrity.ts';
import { createReconcileSupabase } from '../stores/reconcile.ts';
import { createSupabaseStore, SupabaseError } from '../stores/supabase.ts';
import { runPull } from '../sync/pull.ts';
import { runPush } from '../sync/push.ts';
import * as quarantine from '../sync/quarantine.ts';
import { emptyStats, initialPullPosition, type PassSink, type PullPosition, type RunLease } from '../sync/run.ts';
import { healthProblems } from '../sync/health.ts';
import { nextRunAt, type RunEnding } from '../sync/schedule.ts';
import { canonicalFromMillis, millisFromCanonical } from '../timestamps.ts';
import {
  LIST_LIMIT_MAX,
  type CoordinatorSettings,
  type Cursor,
  type EntityIntegrity,
  type EntityStatus,
  type HeldRow,
  type IdleRuns,
  type IntegrityJobStatus,
  type IntegrityRequestResult,
  type IntegrityRun,
  type IntegrityTrigger,
  type Lease,
  type PullLag,
  type ResetScope,
  type RunOutcome,
  type RunStats,
  type RunSummary,
  type RunTrigger,
  type SyncLogRun,
  type SyncNowResult,
} from '../types.ts';
import { CoordinatorStore, type StoredConflict, type StoredIntegrityJob, type StoredQuarantine } from './coordinator-store.ts';
import { effectiveSettings, leaseDurationMs } from './settings.ts';

/** Where a reset moves the positions. */
export interface ResetTarget {
  /** Pull: null (or absent) = from the beginning; a cursor = continue after it. */
  cursor?: Cursor | null;
  /** Which side to reset; default both. */
  scope?: ResetScope;
}

/** The answer to a state change that must not race a run. */
export type MutationResult = { ok: true; status: EntityStatus } | { ok: false; reason: 'lease-held'; lease: Lease };

/** An alarm that failed outside a run (bad vars, storage) tries again after this long. */
const ALARM_RETRY_MS = 60_000;
/** A quarantined row's reason as logged: long enough for the cause, short of a whole row. */
const LOGGED_REASON_CHARS = 300;
/** An integrity step that failed this many times in a row ends its run with the error. */
const INTEGRITY_MAX_ATTEMPTS = 3;
/** How soon the alarm comes back for unfinished integrity work. */
const JOB_CONTINUE_MS = 200;

/** What an operator asks of an integrity run. */
export interface IntegrityRequest {
  fix: boolean;
  /** Compare every row of both sides (a digest pass), not only counts. */
  reconcile: boolean;
  trigger: IntegrityTrigger;
}

/** A persisted integrity job with its failed attempts. */

/** The Durable Object class bound as SYNC_COORDINATOR. */
export class SyncCoordinator extends DurableObject<Env> {
  protected readonly store: CoordinatorStore;
  /** Set by an integrity step whose fix asks for a sync right after it (a push backlog). */
  private syncAfterJobs = false;
  /** Set when an alarm's sync coalesced with an integrity run: the sync is due when it ends. */
  private syncMissed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new CoordinatorStore(ctx.storage.sql);
  }

  // ---- RPC ----------------------------------------------------------------------------

  /** The entity's state for operators. */
  async status(entity: string): Promise<EntityStatus> {
    return this.buildStatus(this.bind(entity));
  }

  /** Runs a sync now, or reports the run it coalesced with. */
  async syncNow(entity: string, trigger: RunTrigger = 'manual'): Promise<SyncNowResult> {
    this.bind(entity);
    return this.run(trigger);
  }

  /** Moves the positions back (or to a given cursor); pushed entities re-send every current row. */
  async resetCursor(entity: string, target: ResetTarget = {}): Promise<MutationResult> {
    const def = this.bind(entity);
    const lease = this.liveLease(Date.now());
    if (lease) return { ok: false, reason: 'lease-held', lease };
    const scope = target.scope ?? 'all';
    // A new epoch: whatever a run that lost its lease still has in flight is refused from now on.
    const epoch = nextEpoch(this.store.get('lease_epoch') ?? 0, Date.now());
    this.store.set('lease_epoch', epoch);
    if (pulls(def) && scope !== 'requeue') {
      const cursor = target.cursor ?? null;
      const position: PullPosition = { ...initialPullPosition(), cursor, frontier: cursor };
      this.store.set('pull', position);
    }
    if (pushes(def) && scope !== 'pull') await enqueueAllRows(this.env.DB, def, { entity: def.name, epoch });
    this.log({ event: 'cursor_reset', entity: def.name, scope, cursor: target.cursor ?? null });
    if (!this.store.get('paused')) await this.arm(Date.now());
    return { ok: true, status: await this.buildStatus(def) };
  }

  /** Stops the alarm loop; manual runs still work. */
  async pause(entity: string): Promise<EntityStatus> {
    const def = this.bind(entity);
    this.store.set('paused', true);
    await this.ctx.storage.deleteAlarm();
    this.store.set('next_run_at', undefined);
    return this.buildStatus(def);
  }

  /** Restarts the alarm loop with a run right away. */
  async resume(entity: string): Promise<EntityStatus> {
    const def = this.bind(entity);
    this.store.set('paused', false);
    await this.arm(Date.now());
    return this.buildStatus(def);
  }

  /** Arms the alarm if none is set (cron calls this: a lost alarm heals within one tick). */
  async ensureScheduled(entity: string): Promise<{ nextAlarmAt: string | null }> {
    this.bind(entity);
    if (!this.store.get('paused') && (await this.ctx.storage.getAlarm()) === null) {
      await this.arm(Date.now());
    }
    const alarm = await this.ctx.storage.getAlarm();
    return { nextAlarmAt: alarm === null ? null : new Date(alarm).toISOString() };
  }

  /** The run log: the newest runs, newest first (idle ones left out when asked). */
  runs(entity: string, limit = 100, idle: IdleRuns = 'include'): SyncLogRun[] {
    const def = this.bind(entity);
    return this.store.runs(def.name, Math.max(1, Math.min(limit, LIST_LIMIT_MAX)), idle);
  }

  /** Conflict history, newest first. */
  conflicts(entity: string, limit = 100): StoredConflict[] {
    this.bind(entity);
    return this.store.conflicts(Math.max(1, Math.min(limit, LIST_LIMIT_MAX)));
  }

  /** Quarantined rows, most recently seen first. */
  quarantined(entity: string, limit = 100): StoredQuarantine[] {
    this.bind(entity);
    return this.store.quarantined(Math.max(1, Math.min(limit, LIST_LIMIT_MAX)));
  }

  // ---- integrity (src/integrity; docs/operations.md) -----------------------------------

  /**
   * Runs the consistency checks (with their fixes when asked) now if the lease is free, as far
   * as one step's budget allows; otherwise the request is remembered and done by the next
   * alarms. A request while one is pending widens it (fix, reconcile), never drops it.
   */
  async runIntegrity(entity: string, request: IntegrityRequest): Promise<IntegrityRequestResult> {
    this.bind(entity);
    const pending = this.store.get('integrity_job');
    const job = pending
      ? mergeIntegrityJob(pending, request.fix, request.reconcile)
      : newIntegrityJob(crypto.randomUUID(), request.trigger, request.fix, request.reconcile, Date.now());
    this.store.set('integrity_job', job);
    const finished = await this.runJobs();
    const done = finished.find((r) => r.runId === job.runId);
    if (done) return { status: 'done', run: done };
    await this.armForJobs();
    const status = this.jobStatuses().find((j) => j.kind === 'integrity') ?? integrityJobStatus(job);
    const lease = this.liveLease(Date.now());
    return lease ? { status: 'queued', job: status, lease } : { status: 'running', job: status };
  }

  /**
   * Asks for a full resync (re-read everything in place, then remove what is absent upstream).
   * Starts it now when the lease is free; otherwise it starts right after the run holding it.
   */
  async resync(entity: string, trigger: IntegrityTrigger = 'manual'): Promise<IntegrityJobStatus> {
    this.bind(entity);
    this.store.set('resync_job', requestResync(this.store.get('resync_job'), trigger, Date.now()));
    await this.runJobs();
    await this.armForJobs();
    const job = this.store.get('resync_job');
    const integrity = this.store.get('integrity_job');
    if (job) return resyncStatus(job);
    return integrity
      ? integrityJobStatus(integrity)
      : { kind: 'resync', requestedAt: new Date().toISOString(), trigger, fix: true, phase: 'done', progress: 'done' };
  }

  /** The entity's integrity state: the latest run, pending jobs, held rows and active alerts. */
  integrity(entity: string, heldLimit = 100): EntityIntegrity {
    const def = this.bind(entity);
    return {
      entity: def.name,
      direction: def.direction,
      latest: this.store.get('integrity_latest') ?? null,
      jobs: this.jobStatuses(),
      held: this.store.heldRows(Math.max(1, Math.min(heldLimit, LIST_LIMIT_MAX))),
      heldCount: this.store.heldCount(),
      alerts: Object.values(this.store.get('alerts') ?? {}),
    };
  }

  /** Rows held by integrity fixes, newest first. */
  held(entity: string, limit = 100): HeldRow[] {
    this.bind(entity);
    return this.store.heldRows(Math.max(1, Math.min(limit, LIST_LIMIT_MAX)));
  }

  /**
   * Releases held rows: pushed entities queue them again, so the next push sends them.
   * Refused while a run holds the lease (its writes and this one must not interleave).
   */
  async releaseHeld(
    entity: string,
    ids: readonly string[],
  ): Promise<{ ok: true; released: string[] } | { ok: false; reason: 'lease-held'; lease: Lease }> {
    const def = this.bind(entity);
    const lease = this.liveLease(Date.now());
    if (lease) return { ok: false, reason: 'lease-held', lease };
    const released = this.store.heldAmong(ids);
    if (released.size > 0 && pushes(def))
      await enqueueRows(this.env.DB, def, [...released], { entity: def.name, epoch: this.store.get('lease_epoch') ?? 0 });
    const list = this.store.unhold([...released]);
    this.log({ event: 'held_released', entity: def.name, rows: list.length });
    return { ok: true, released: list };
  }

  /** Deletes held rows from D1 as an edge writer would (the push sends the deletes) and forgets them. */
  async deleteHeld(
    entity: string,
    ids: readonly string[],
  ): Promise<{ ok: true; deleted: string[] } | { ok: false; reason: 'lease-held'; lease: Lease }> {
    const def = this.bind(entity);
    const lease = this.liveLease(Date.now());
    if (lease) return { ok: false, reason: 'lease-held', lease };
    const held = [...this.store.heldAmong(ids)];
    await deleteRows(this.env.DB, def, held, { entity: def.name, epoch: this.store.get('lease_epoch') ?? 0 });
    const list = this.store.unhold(held);
    this.log({ event: 'held_deleted', entity: def.name, rows: list.length });
    if (pushes(def) && !this.store.get('paused')) await this.arm(Date.now());
    return { ok: true, deleted: list };
  }

  /** The scheduler: one run, then the next alarm. Never throws, so the platform never retries blindly. */
  override async alarm(): Promise<void> {
    if (this.store.get('entity') === undefined && !this.ctx.id.name) return;
    try {
      // Integrity work asked for by an operator or a cron runs even while the sync loop is paused.
      await this.runJobs();
      if (!this.store.get('paused')) await this.run('alarm');
      await this.armForJobs();
    } catch (e) {
      // Only failures outside a run land here (bad vars, storage); runs record their own.
      this.log({ event: 'alarm_failed', entity: this.store.get('entity'), error: describeError(e) });
      await this.arm(Date.now() + ALARM_RETRY_MS);
    }
  }

  // ---- the run ------------------------------------------------------------------------

  private async run(trigger: RunTrigger): Promise<SyncNowResult> {
    const def = this.bind();
    const settings = this.settings(def);
    const startedMs = Date.now();
    const durationMs = leaseDurationMs(settings, def);
    const taken = takeLease(this.store.get('lease'), this.store.get('lease_epoch') ?? 0, {
      runId: crypto.randomUUID(),
      trigger,
      now: startedMs,
      durationMs,
    });
    if (!taken.taken) {
      // Coalesce; make sure an alarm follows the holder in case it never finishes. An integrity
      // run that holds it brings the missed sync forward when it ends (runJobs).
      if (trigger === 'alarm') await this.arm(Date.parse(taken.held.expiresAt) + 1_000);
      if (trigger === 'alarm' && taken.held.trigger === 'integrity') this.syncMissed = true;
      return { ran: false, reason: 'coalesced', lease: taken.held };
    }
    const { runId, epoch } = taken.lease;
    this.store.set('lease', taken.lease); // taken before any outside I/O
    this.store.set('lease_epoch', epoch);
    const lease: RunLease = {
      epoch,
      renew: () => this.store.set('lease', renewLease(this.store.get('lease'), runId, Date.now(), durationMs)),
    };

    const stats = emptyStats();
    const freshness: { pullLag: PullLag | null } = { pullLag: null };
    let ending: RunEnding;
    let error: string | null = null;
    try {
      const caughtUp = await this.passes(def, settings, stats, freshness, startedMs, lease, runId);
      ending = caughtUp ? { kind: 'caught-up' } : { kind: 'more' };
    } catch (e) {
      if (e instanceof LeaseLostError) {
        return { ran: true, run: this.fenced(def, taken.lease, trigger, stats, describeError(e)) };
      }
      error = describeError(e);
      const retryAfterMs = retryAfterOf(e);
      ending = { kind: 'failed', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { ran: true, run: await this.finish(def, settings, taken.lease, trigger, stats, freshness.pullLag, ending, error) };
  }

  /**
   * Runs the entity's passes: push first (edge writes reach Supabase before its rows are read
   * back), then pull. A failing push never starves the pull; both failures are reported.
   * The pull's freshness (how long its newest applied row took) goes into `freshness`.
   */
  private async passes(
    def: EntityDefinition,
    settings: CoordinatorSettings,
    total: RunStats,
    freshness: { pullLag: PullLag | null },
    startedMs: number,
    lease: RunLease,
    runId: string,
  ): Promise<boolean> {
    const url = this.store.get('supabase_url') ?? this.env.SUPABASE_URL;
    const key = serviceRoleKey(this.env);
    if (!url || !key) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set (wrangler secret put)');
    const supabase = createSupabaseStore({ url, serviceRoleKey: key, requestTimeoutMs: settings.requestTimeoutMs });
    const d1 = createPassD1(this.env.DB);
    const budget = { maxPages: settings.maxPagesPerRun, deadline: startedMs + settings.maxRunMs };
    const now = (): number => Date.now();
    // Saves are fenced too: a run that lost its lease never overwrites the positions, conflicts
    // or quarantine of the run that took over.
    const holding = (): void => checkLease(this.store.get('lease'), runId, Date.now());
    const sink = this.sink(holding);
    const failures: unknown[] = [];
    let caughtUp = true;

    if (pushes(def)) {
      try {
        const due = this.store.dueForRetry(now(), quarantine.RETRY_BATCH);
        if (due.length > 0) {
          await enqueueRows(this.env.DB, def, due, { entity: def.name, epoch: lease.epoch });
          holding();
          this.store.postponeRetry(due, now() + quarantine.REQUEUE_HOLD_MS);
        }
        const result = await runPush(
          {
            entity: def,
            supabase,
            d1,
            pageSize: settings.pageSize,
            budget,
            now,
            sink,
            lease,
            save: (seq) => {
              holding();
              this.store.set('push_seq', seq);
            },
            held: (ids) => this.store.heldAmong(ids),
          },
          this.store.get('push_seq') ?? 0,
        );
        addStats(total, result.stats);
        caughtUp &&= result.caughtUp;
      } catch (e) {
        if (e instanceof LeaseLostError) throw e;
        failures.push(e);
      }
    }
    if (pulls(def)) {
      try {
        const result = await runPull(
          {
            entity: def,
            supabase,
            d1,
            pageSize: settings.pageSize,
            safetyLagMs: settings.safetyLagMs,
            budget,
            now,
            sink,
            lease,
            save: (p) => {
              holding();
              this.store.set('pull', p);
            },
          },
          this.store.get('pull') ?? initialPullPosition(),
        );
        addStats(total, result.stats);
        freshness.pullLag = result.lag ?? null;
        caughtUp &&= result.caughtUp;
      } catch (e) {
        if (e instanceof LeaseLostError) throw e;
        failures.push(e);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new PassesFailedError(failures);
    return caughtUp;
  }

  /** A run that lost its lease: its run log entry and a log line, and nothing of the run that took over is touched. */
  private fenced(def: EntityDefinition, lease: Lease, trigger: RunTrigger, stats: RunStats, error: string): RunSummary {
    const summary: RunSummary = {
      runId: lease.runId,
      trigger,
      startedAt: lease.startedAt,
      finishedAt: new Date().toISOString(),
      outcome: 'fenced',
      stats,
      error,
      nextRunAt: null,
      pullLag: null,
    };
    this.store.set('lease', releaseLease(this.store.get('lease'), lease.runId) ?? undefined);
    return this.record(def, lease.epoch, summary);
  }

  private async finish(
    def: EntityDefinition,
    settings: CoordinatorSettings,
    lease: Lease,
    trigger: RunTrigger,
    stats: RunStats,
    pullLag: PullLag | null,
    ending: RunEnding,
    error: string | null,
  ): Promise<RunSummary> {
    const finishedMs = Date.now();
    const streak = ending.kind === 'failed' ? (this.store.get('error_streak') ?? 0) + 1 : 0;
    this.store.set('error_streak', streak);
    if (ending.kind !== 'failed') this.store.set('last_success_at', new Date(finishedMs).toISOString());
    const next = this.store.get('paused')
      ? null
      : nextRunAt(
          finishedMs,
          ending,
          streak,
          { intervalMs: settings.intervalMs, backoffBaseMs: settings.backoffBaseMs, backoffMaxMs: settings.backoffMaxMs },
          Math.random,
        );
    const outcome: RunOutcome = ending.kind;
    const summary: RunSummary = {
      runId: lease.runId,
      trigger,
      startedAt: lease.startedAt,
      finishedAt: new Date(finishedMs).toISOString(),
      outcome,
      stats,
      error,
      nextRunAt: next === null ? null : new Date(next).toISOString(),
      pullLag,
    };
    this.store.set('last_run', summary);
    if (pullLag !== null) this.store.set('pull_last_lag', { ...pullLag, runId: lease.runId, finishedAt: summary.finishedAt });
    const resync = this.store.get('resync_job');
    if (resync) {
      const next = afterSyncRun(resync, ending.kind === 'caught-up', Date.parse(lease.startedAt));
      if (next.phase === 'sweep' && resync.phase !== 'sweep') {
        // The re-read is complete: now remove what is absent upstream.
        const job = this.store.get('integrity_job');
        this.store.set(
          'integrity_job',
          job ? mergeIntegrityJob(job, true, true) : newIntegrityJob(crypto.randomUUID(), 'resync', true, true, finishedMs),
        );
      }
      this.store.set('resync_job', next);
    }
    this.store.trimConflicts();
    this.store.set('lease', releaseLease(this.store.get('lease'), lease.runId) ?? undefined);
    if (next !== null) await this.arm(next);
    // Integrity work queued behind this run (or a resync's sweep it just made due) comes next,
    // whatever triggered the run: a manual run arms no job alarm otherwise.
    await this.armForJobs();

    return this.record(def, lease.epoch, summary, { errorStreak: streak, nextRunAt: summary.nextRunAt });
  }

  /** A finished run's sync_run log line and its entry in the run log, both from its summary. */
  private record(def: EntityDefinition, epoch: number, summary: RunSummary, extra: Record<string, unknown> = {}): RunSummary {
    this.log({
      event: 'sync_run',
      entity: def.name,
      direction: def.direction,
      runId: summary.runId,
      epoch,
      trigger: summary.trigger,
      outcome: summary.outcome,
      ...summary.stats,
      ...(summary.pullLag === null ? {} : { pullLagMs: summary.pullLag.lagMs }),
      error: summary.error,
      ...extra,
    });
    try {
      this.store.addRun(def.direction, summary);
    } catch (e) {
      // The run is done and its positions saved: a log that cannot be written must not fail it.
      this.log({ event: 'run_log_write_failed', entity: def.name, runId: summary.runId, error: describeError(e) });
    }
    return summary;
  }

  // ---- integrity jobs -----------------------------------------------------------------

  /**
   * One step of the pending integrity work under the entity's lease: a resync's start, then
   * as much of an integrity run as fits the run budget. Returns the runs that finished. Lease
   * held by a sync run: nothing now; the job waits in storage for the next alarm.
   */
  private async runJobs(): Promise<IntegrityRun[]> {
    const resync = this.store.get('resync_job');
    const pending = this.store.get('integrity_job');
    if (resync?.phase !== 'start' && pending === undefined) return [];
    const def = this.bind();
    const settings = this.settings(def);
    const startedMs = Date.now();
    const durationMs = leaseDurationMs(settings, def);
    const taken = takeLease(this.store.get('lease'), this.store.get('lease_epoch') ?? 0, {
      runId: crypto.randomUUID(),
      trigger: 'integrity',
      now: startedMs,
      durationMs,
    });
    if (!taken.taken) return [];
    const { runId, epoch } = taken.lease;
    this.store.set('lease', taken.lease);
    this.store.set('lease_epoch', epoch);
    const holding = (): void => {
      checkLease(this.store.get('lease'), runId, Date.now());
      this.store.set('lease', renewLease(this.store.get('lease'), runId, Date.now(), durationMs));
    };
    const fence = { entity: def.name, epoch };
    const finished: IntegrityRun[] = [];
    try {
      if (resync?.phase === 'start') {
        if (pulls(def)) this.store.set('pull', initialPullPosition());
        else await enqueueAllRows(this.env.DB, def, fence);
        holding();
        this.store.set('resync_job', resyncStarted(resync, Date.now()));
        this.log({ event: 'resync_started', entity: def.name, trigger: resync.trigger });
      }
      const job = this.store.get('integrity_job');
      if (job) {
        const run = await this.stepJob(def, settings, job, fence, holding, startedMs);
        if (run) finished.push(run);
      }
    } catch (e) {
      if (!(e instanceof LeaseLostError)) throw e;
      this.log({ event: 'integrity_fenced', entity: def.name, runId, error: describeError(e) });
    } finally {
      this.store.set('lease', releaseLease(this.store.get('lease'), runId) ?? undefined);
    }
    if (this.syncMissed) {
      this.syncMissed = false;
      if (!this.store.get('paused')) await this.arm(Date.now());
    }
    for (const run of finished) await this.afterIntegrityRun(def, run);
    if (this.syncAfterJobs) {
      // The backlog fix: the push runs now, under its own lease, not at its next alarm.
      this.syncAfterJobs = false;
      await this.run('manual');
    }
    return finished;
  }

  /** Advances the integrity job; a failure is retried by the next alarms, then ends the run with its error. */
  private async stepJob(
    def: EntityDefinition,
    settings: CoordinatorSettings,
    job: StoredIntegrityJob,
    fence: { entity: string; epoch: number },
    holding: () => void,
    startedMs: number,
  ): Promise<IntegrityRun | null> {
    const url = this.store.get('supabase_url') ?? this.env.SUPABASE_URL;
    const key = serviceRoleKey(this.env);
    const defaults = engineDefaults(this.env);
    try {
      if (!url || !key) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set (wrangler secret put)');
      const supabase = createReconcileSupabase({ url, serviceRoleKey: key, requestTimeoutMs: settings.requestTimeoutMs });
      const step = await stepIntegrity(job, {
        db: this.env.DB,
        supabase,
        entity: def,
        fence,
        pushCursor: this.store.get('push_seq') ?? 0,
        now: () => Date.now(),
        deadline: startedMs + settings.maxRunMs,
        holding,
        heldIds: () => this.store.heldIds(),
        quarantinedIds: () => this.store.quarantinedIds(),
        hold: (rows) => {
          this.store.hold(rows, new Date().toISOString());
        },
        facts: () => ({
          paused: this.store.get('paused') ?? false,
          lastSuccessAt: this.store.get('last_success_at') ?? null,
          // A sync alarm that coalesced with this run is re-armed for now when it ends.
          nextAlarmAt: this.syncMissed ? new Date().toISOString() : (this.store.get('next_run_at') ?? null),
          intervalMs: settings.intervalMs,
          maxRunMs: settings.maxRunMs,
          quarantined: this.store.quarantineCount(),
          previousQuarantined: this.store.get('integrity_quarantined') ?? null,
        }),
        countTolerance: defaults.countTolerance,
        backlogThreshold: defaults.backlogThreshold,
        previousRows: this.store.get('integrity_rows') ?? null,
      });
      holding();
      if (step.run === null) {
        this.store.set('integrity_job', { ...step.job, attempts: 0 });
        return null;
      }
      this.store.set('integrity_job', undefined);
      if (step.actions.ensureAlarm) await this.arm(Date.now());
      if (step.actions.triggerSync) this.syncAfterJobs = true;
      return step.run;
    } catch (e) {
      if (e instanceof LeaseLostError) throw e;
      const attempts = (job.attempts ?? 0) + 1;
      const error = describeError(e);
      this.log({ event: 'integrity_step_failed', entity: def.name, runId: job.runId, attempts, error });
      if (attempts < INTEGRITY_MAX_ATTEMPTS) {
        this.store.set('integrity_job', { ...job, attempts, lastError: error });
        return null;
      }
      this.store.set('integrity_job', undefined);
      const now = new Date().toISOString();
      return {
        runId: job.runId,
        entity: def.name,
        startedAt: job.startedAt ?? now,
        finishedAt: now,
        trigger: job.trigger,
        fix: job.fix,
        reconciled: false,
        ok: false,
        counts: null,
        drift: null,
        checks: [],
        error,
      };
    }
  }

  /** Keeps the run (latest here, history in D1), sends what alerts it changes, and ends a resync it swept for. */
  private async afterIntegrityRun(def: EntityDefinition, run: IntegrityRun): Promise<void> {
    this.store.set('integrity_latest', run);
    this.store.set('integrity_quarantined', this.store.quarantineCount());
    if (run.counts) this.store.set('integrity_rows', Math.max(run.counts.d1, run.counts.supabase));
    const resync = this.store.get('resync_job');
    if (resync?.phase === 'sweep' && run.fix && run.reconciled) {
      this.store.set('resync_job', undefined);
    }
    const plan = planAlerts(this.store.get('alerts') ?? {}, afterFixes(run.checks), Date.now());
    this.store.set('alerts', plan.active);
    this.log({
      event: 'integrity_run',
      entity: def.name,
      runId: run.runId,
      trigger: run.trigger,
      fix: run.fix,
      reconciled: run.reconciled,
      ok: run.ok,
      problems: run.checks.filter((c) => c.severity !== 'ok').map((c) => c.check),
      drift: run.drift,
      error: run.error,
    });
    try {
      await writeIntegrityRun(this.env.DB, run);
    } catch (e) {
      this.log({ event: 'integrity_log_write_failed', entity: def.name, runId: run.runId, error: describeError(e) });
    }
    // Delivery never fails the run: deliverAlert does not throw, and logs each attempt.
    for (const message of plan.messages)
      await deliverAlert(this.env.ALERT_WEBHOOK_URL, alertPayload(message, this.env.DASHBOARD_URL ?? null));
  }

  /** Brings the alarm forward while integrity work is pending that an alarm can advance. */
  private async armForJobs(): Promise<void> {
    const resync = this.store.get('resync_job');
    const job = this.store.get('integrity_job');
    // A re-read advances by sync runs: a paused entity's re-read waits for resume.
    const due = job !== undefined || resync?.phase === 'start' || (resync?.phase === 'reread' && !this.store.get('paused'));
    if (!due) return;
    const lease = this.liveLease(Date.now());
    const at = lease ? Date.parse(lease.expiresAt) + 1_000 : Date.now() + JOB_CONTINUE_MS;
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.arm(at);
  }

  private jobStatuses(): IntegrityJobStatus[] {
    const out: IntegrityJobStatus[] = [];
    const resync = this.store.get('resync_job');
    if (resync) out.push(resyncStatus(resync));
    const job = this.store.get('integrity_job');
    if (job) out.push(integrityJobStatus(job));
    return out;
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Binds this object to its entity on first use and refuses any other entity afterwards. */
  protected bind(name?: string): EntityDefinition {
    const stored = this.store.get('entity');
    const wanted = name ?? stored ?? this.ctx.id.name;
    if (wanted === undefined) throw new Error('this coordinator has not been bound to an entity yet');
    const def = findEntity(wanted);
    if (!def) throw new Error(`unknown entity: ${wanted}`);
    if (stored !== undefined && stored !== wanted) throw new Error(`this coordinator syncs ${stored}, not ${wanted}`);
    if (stored === undefined) this.store.set('entity', wanted);
    return def;
  }

  protected settings(def: EntityDefinition): CoordinatorSettings {
    return effectiveSettings(def, engineDefaults(this.env), this.store.get('settings') ?? {});
  }

  /** The lease of a run in progress, if one holds it and has not expired. */
  private liveLease(now: number): Lease | null {
    const lease = this.store.get('lease');
    return lease !== undefined && isLive(lease, now) ? lease : null;
  }

  private async arm(at: number): Promise<void> {
    await this.ctx.storage.setAlarm(at);
    this.store.set('next_run_at', new Date(at).toISOString());
  }

  /** Where a run's passes record conflicts and quarantine; `holding` throws once the run lost its lease. */
  private sink(holding: () => void): PassSink {
    return {
      conflict: (c) => {
        holding();
        this.store.addConflict(c, new Date().toISOString());
      },
      quarantine: (q) => {
        holding();
        this.store.quarantine(q, new Date().toISOString(), Date.now());
        this.log({
          event: 'row_quarantined',
          entity: this.store.get('entity'),
          direction: q.direction,
          rowId: q.rowId,
          reason: q.reason.slice(0, LOGGED_REASON_CHARS),
        });
      },
      release: (direction, ids) => {
        holding();
        this.store.release(direction, ids);
      },
    };
  }

  private async buildStatus(def: EntityDefinition): Promise<EntityStatus> {
    const now = Date.now();
    const settings = this.settings(def);
    const paused = this.store.get('paused') ?? false;
    const errorStreak = this.store.get('error_streak') ?? 0;
    const storedRun = this.store.get('last_run');
    // Runs stored before pullLag existed lack it.
    const lastRun = storedRun === undefined ? null : { ...storedRun, pullLag: storedRun.pullLag ?? null };
    const lastSuccessAt = this.store.get('last_success_at') ?? null;
    const alarm = await this.ctx.storage.getAlarm();
    const pullPosition = this.store.get('pull') ?? initialPullPosition();
    const confirmedSeq = this.store.get('push_seq') ?? 0;
    const latestIntegrity = this.store.get('integrity_latest');

    let push: EntityStatus['push'] = null;
    if (pushes(def)) {
      const backlog = await outboxBacklog(this.env.DB, def, confirmedSeq);
      const age =
        backlog.oldestChangedAt === null ? null : Math.max(0, Math.round((now - millisFromCanonical(backlog.oldestChangedAt)) / 1000));
      push = { confirmedSeq, pending: backlog.pending, oldestPendingAt: backlog.oldestChangedAt, oldestPendingAgeSeconds: age };
    }

    const lease = this.liveLease(now);
    const armedFor = this.store.get('next_run_at');
    const problems = healthProblems({
      now,
      paused,
      intervalMs: settings.intervalMs,
      maxRunMs: settings.maxRunMs,
      errorStreak,
      lastError: lastRun?.error ?? null,
      hasRun: lastRun !== null,
      lastSuccessMs: lastSuccessAt === null ? null : Date.parse(lastSuccessAt),
      alarmMs: alarm,
      armedForMs: armedFor === undefined ? null : Date.parse(armedFor),
      leased: lease !== null,
      oldestPendingAgeMs: push?.oldestPendingAgeSeconds == null ? null : push.oldestPendingAgeSeconds * 1000,
    });

    return {
      entity: def.name,
      direction: def.direction,
      paused,
      healthy: problems.length === 0,
      problems,
      pull: pulls(def)
        ? {
            cursor: pullPosition.cursor,
            frontier: pullPosition.frontier,
            tombstoneCursor: pullPosition.tombstoneCursor,
            backlog: pullPosition.continuing,
            lastLag: this.store.get('pull_last_lag') ?? null,
          }
        : null,
      push,
      lease,
      lastRun,
      lastSuccessAt,
      errorStreak,
      nextAlarmAt: alarm === null ? null : new Date(alarm).toISOString(),
      conflicts: this.store.conflictCount(),
      quarantined: this.store.quarantineCount(),
      held: this.store.heldCount(),
      jobs: this.jobStatuses(),
      integrity: latestIntegrity === undefined ? null : { lastRunAt: latestIntegrity.finishedAt, ok: latestIntegrity.ok },
      settings,
    };
  }

  private log(fields: Record<string, unknown>): void {
    console.log(JSON.stringify({ at: canonicalFromMillis(Date.now()), ...fields }));
  }
}

function integrityJobStatus(job: StoredIntegrityJob): IntegrityJobStatus {
  const progress = jobProgress(job) + (job.lastError ? ` (last attempt failed: ${job.lastError})` : '');
  return {
    kind: 'integrity',
    requestedAt: job.requestedAt,
    trigger: job.trigger,
    fix: job.fix,
    phase: job.startedAt === null ? 'queued' : 'running',
    progress,
  };
}

/** Both passes of a two-way run failed; the message carries both. */
class PassesFailedError extends Error {
  readonly failures: readonly unknown[];
  constructor(failures: readonly unknown[]) {
    super(failures.map((f, i) => `${i === 0 ? 'push' : 'pull'}: ${describeError(f)}`).join('; '));
    this.name = 'PassesFailedError';
    this.failures = failures;
  }
}

/** The longest Retry-After among the failures, if any asked for one. */
function retryAfterOf(e: unknown): number | undefined {
  const failures = e instanceof PassesFailedError ? e.failures : [e];
  const waits = failures.flatMap((f) => (f instanceof SupabaseError && f.retryAfterMs !== undefined ? [f.retryAfterMs] : []));
  return waits.length === 0 ? undefined : Math.max(...waits);
}

function addStats(into: RunStats, from: RunStats): void {
  for (const key of Object.keys(into) as (keyof RunStats)[]) into[key] += from[key];
}

/** An error as one line for status and logs: message and cause, never request headers. */
function describeError(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '';
    return `${e.message}${cause}`.slice(0, 1000);
  }
  return String(e).slice(0, 1000);
}
