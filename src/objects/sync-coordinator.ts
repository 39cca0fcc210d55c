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
import { enqueueAllRows, enqueueRows, outboxBacklog, writeSyncLog } from '../stores/d1.ts';
import { createSupabaseStore, SupabaseError } from '../stores/supabase.ts';
import type { Cursor } from '../sync/cursor.ts';
import { runPull } from '../sync/pull.ts';
import { runPush } from '../sync/push.ts';
import { emptyStats, initialPullPosition, type PassSink, type PullPosition, type RunLease, type RunStats } from '../sync/run.ts';
import { nextRunAt, type RunEnding } from '../sync/schedule.ts';
import { canonicalFromMillis, millisFromCanonical } from '../sync/timestamps.ts';
import type { CoordinatorSettings, EntityStatus, Lease, RunOutcome, RunSummary, RunTrigger, SyncNowResult } from '../types.ts';
import { CoordinatorStore, type StoredConflict, type StoredQuarantine } from './coordinator-store.ts';
import { effectiveSettings, leaseDurationMs, SettingsOverridesSchema, type SettingsOverrides } from './settings.ts';

/** Where a reset moves the positions. */
export interface ResetTarget {
  /** Pull: null (or absent) = from the beginning; a cursor = continue after it. */
  cursor?: Cursor | null;
  /** Which direction to reset on a two-way entity; default both. */
  scope?: 'all' | 'pull' | 'push';
}

/** The answer to a state change that must not race a run. */
export type MutationResult = { ok: true; status: EntityStatus } | { ok: false; reason: 'lease-held'; lease: Lease };

const QUARANTINE_RETRY_BATCH = 100;
/** Quarantined rows re-queued for push are not queued again for this long. */
const QUARANTINE_REQUEUE_MS = 3_600_000;

/** The Durable Object class bound as SYNC_COORDINATOR. */
export class SyncCoordinator extends DurableObject<Env> {
  private readonly store: CoordinatorStore;

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
    const epoch = nextEpoch(this.store.get<number>('lease_epoch') ?? 0, Date.now());
    this.store.set('lease_epoch', epoch);
    if (pulls(def) && scope !== 'push') {
      const cursor = target.cursor ?? null;
      const position: PullPosition = { ...initialPullPosition(), cursor, frontier: cursor };
      this.store.set('pull', position);
    }
    if (pushes(def) && scope !== 'pull') await enqueueAllRows(this.env.DB, def, { entity: def.name, epoch });
    this.log({ event: 'cursor_reset', entity: def.name, scope, cursor: target.cursor ?? null });
    if (!this.store.get<boolean>('paused')) await this.arm(Date.now());
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
    if (!this.store.get<boolean>('paused') && (await this.ctx.storage.getAlarm()) === null) {
      await this.arm(Date.now());
    }
    const alarm = await this.ctx.storage.getAlarm();
    return { nextAlarmAt: alarm === null ? null : new Date(alarm).toISOString() };
  }

  /** Conflict history, newest first. */
  async conflicts(entity: string, limit = 100): Promise<StoredConflict[]> {
    this.bind(entity);
    return this.store.conflicts(Math.max(1, Math.min(limit, 500)));
  }

  /** Quarantined rows, most recently seen first. */
  async quarantined(entity: string, limit = 100): Promise<StoredQuarantine[]> {
    this.bind(entity);
    return this.store.quarantined(Math.max(1, Math.min(limit, 500)));
  }

  /** Stores setting overrides (validated); returns the effective settings. */
  async configure(entity: string, overrides: SettingsOverrides): Promise<CoordinatorSettings> {
    const def = this.bind(entity);
    const parsed = SettingsOverridesSchema.parse(overrides);
    this.store.set('settings', { ...this.store.get<SettingsOverrides>('settings'), ...parsed });
    return this.settings(def);
  }

  /**
   * Points this coordinator at another database path on the same Supabase origin. For tests
   * and the local stand-in's per-database URLs; the service key never leaves that origin.
   */
  async useSupabaseUrl(entity: string, url: string): Promise<void> {
    this.bind(entity);
    if (new URL(url).origin !== new URL(this.env.SUPABASE_URL).origin) {
      throw new Error('the Supabase URL override must keep the configured origin');
    }
    this.store.set('supabase_url', url);
  }

  /** The scheduler: one run, then the next alarm. Never throws, so the platform never retries blindly. */
  override async alarm(): Promise<void> {
    if (this.store.get<string>('entity') === undefined && !this.ctx.id.name) return;
    if (this.store.get<boolean>('paused')) return;
    try {
      await this.run('alarm');
    } catch (e) {
      // Only failures outside a run land here (bad vars, storage); runs record their own.
      this.log({ event: 'alarm_failed', entity: this.store.get<string>('entity'), error: describeError(e) });
      await this.arm(Date.now() + 60_000);
    }
  }

  // ---- the run ------------------------------------------------------------------------

  private async run(trigger: RunTrigger): Promise<SyncNowResult> {
    const def = this.bind();
    const settings = this.settings(def);
    const startedMs = Date.now();
    const durationMs = leaseDurationMs(settings, def);
    const taken = takeLease(this.store.get<Lease>('lease'), this.store.get<number>('lease_epoch') ?? 0, {
      runId: crypto.randomUUID(), trigger, now: startedMs, durationMs,
    });
    if (!taken.taken) {
      // Coalesce; make sure an alarm follows the holder in case it never finishes.
      if (trigger === 'alarm') await this.arm(Date.parse(taken.held.expiresAt) + 1_000);
      return { ran: false, reason: 'coalesced', lease: taken.held };
    }
    const { runId, epoch } = taken.lease;
    this.store.set('lease', taken.lease); // taken before any outside I/O
    this.store.set('lease_epoch', epoch);
    const lease: RunLease = {
      epoch,
      renew: () => this.store.set('lease', renewLease(this.store.get<Lease>('lease'), runId, Date.now(), durationMs)),
    };

    const stats = emptyStats();
    let ending: RunEnding;
    let error: string | null = null;
    try {
      const caughtUp = await this.passes(def, settings, stats, startedMs, lease, runId);
      ending = caughtUp ? { kind: 'caught-up' } : { kind: 'more' };
    } catch (e) {
      if (e instanceof LeaseLostError) {
        return { ran: true, run: await this.fenced(def, taken.lease, trigger, stats, describeError(e)) };
      }
      error = describeError(e);
      const retryAfterMs = retryAfterOf(e);
      ending = { kind: 'failed', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    return { ran: true, run: await this.finish(def, settings, taken.lease, trigger, stats, ending, error) };
  }

  /**
   * Runs the entity's passes: push first (edge writes reach Supabase before its rows are read
   * back), then pull. A failing push never starves the pull; both failures are reported.
   */
  private async passes(
    def: EntityDefinition,
    settings: CoordinatorSettings,
    total: RunStats,
    startedMs: number,
    lease: RunLease,
    runId: string,
  ): Promise<boolean> {
    const url = this.store.get<string>('supabase_url') ?? this.env.SUPABASE_URL;
    const key = serviceRoleKey(this.env);
    if (!url || !key) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set (wrangler secret put)');
    const supabase = createSupabaseStore({ url, serviceRoleKey: key, requestTimeoutMs: settings.requestTimeoutMs });
    const budget = { maxPages: settings.maxPagesPerRun, deadline: startedMs + settings.maxRunMs };
    const now = (): number => Date.now();
    // Saves are fenced too: a run that lost its lease never overwrites the positions, conflicts
    // or quarantine of the run that took over.
    const holding = (): void => checkLease(this.store.get<Lease>('lease'), runId, Date.now());
    const sink = this.sink(holding);
    const failures: unknown[] = [];
    let caughtUp = true;

    if (pushes(def)) {
      try {
        const due = this.store.dueForRetry(now(), QUARANTINE_RETRY_BATCH);
        if (due.length > 0) {
          await enqueueRows(this.env.DB, def, due, { entity: def.name, epoch: lease.epoch });
          holding();
          this.store.postponeRetry(due, now() + QUARANTINE_REQUEUE_MS);
        }
        const result = await runPush(
          {
            entity: def, supabase, db: this.env.DB, pageSize: settings.pageSize, budget, now, sink, lease,
            save: (seq) => { holding(); this.store.set('push_seq', seq); },
          },
          this.store.get<number>('push_seq') ?? 0,
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
            entity: def, supabase, db: this.env.DB, pageSize: settings.pageSize, safetyLagMs: settings.safetyLagMs,
            budget, now, sink, lease, save: (p) => { holding(); this.store.set('pull', p); },
          },
          this.store.get<PullPosition>('pull') ?? initialPullPosition(),
        );
        addStats(total, result.stats);
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

  /** A run that lost its lease: its ledger entry and a log line, and nothing of the run that took over is touched. */
  private async fenced(def: EntityDefinition, lease: Lease, trigger: RunTrigger, stats: RunStats, error: string): Promise<RunSummary> {
    const summary: RunSummary = {
      runId: lease.runId, trigger, startedAt: lease.startedAt, finishedAt: new Date().toISOString(),
      outcome: 'fenced', stats, error, nextRunAt: null,
    };
    this.store.set('lease', releaseLease(this.store.get<Lease>('lease'), lease.runId) ?? undefined);
    this.log({ event: 'sync_run', entity: def.name, direction: def.direction, runId: lease.runId, epoch: lease.epoch, trigger, outcome: 'fenced', ...stats, error });
    await this.ledger(def, summary);
    return summary;
  }

  private async finish(
    def: EntityDefinition,
    settings: CoordinatorSettings,
    lease: Lease,
    trigger: RunTrigger,
    stats: RunStats,
    ending: RunEnding,
    error: string | null,
  ): Promise<RunSummary> {
    const finishedMs = Date.now();
    const streak = ending.kind === 'failed' ? (this.store.get<number>('error_streak') ?? 0) + 1 : 0;
    this.store.set('error_streak', streak);
    if (ending.kind !== 'failed') this.store.set('last_success_at', new Date(finishedMs).toISOString());
    const next = this.store.get<boolean>('paused')
      ? null
      : nextRunAt(finishedMs, ending, streak, { intervalMs: settings.intervalMs, backoffBaseMs: settings.backoffBaseMs, backoffMaxMs: settings.backoffMaxMs }, Math.random);
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
    };
    this.store.set('last_run', summary);
    this.store.trimConflicts();
    this.store.set('lease', releaseLease(this.store.get<Lease>('lease'), lease.runId) ?? undefined);
    if (next !== null) await this.arm(next);

    this.log({ event: 'sync_run', entity: def.name, direction: def.direction, runId: lease.runId, epoch: lease.epoch, trigger, outcome, ...stats, error, errorStreak: streak, nextRunAt: summary.nextRunAt });
    await this.ledger(def, summary);
    return summary;
  }

  /** Appends the run to D1's sync_log audit trail; a failure to do so is logged, never thrown. */
  private async ledger(def: EntityDefinition, summary: RunSummary): Promise<void> {
    try {
      await writeSyncLog(this.env.DB, {
        runId: summary.runId, entity: def.name, direction: def.direction, trigger: summary.trigger,
        startedAt: summary.startedAt, finishedAt: summary.finishedAt, outcome: summary.outcome, ...summary.stats, error: summary.error,
      });
    } catch (e) {
      this.log({ event: 'sync_log_write_failed', entity: def.name, runId: summary.runId, error: describeError(e) });
    }
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Binds this object to its entity on first use and refuses any other entity afterwards. */
  private bind(name?: string): EntityDefinition {
    const stored = this.store.get<string>('entity');
    const wanted = name ?? stored ?? this.ctx.id.name;
    if (wanted === undefined) throw new Error('this coordinator has not been bound to an entity yet');
    const def = findEntity(wanted);
    if (!def) throw new Error(`unknown entity: ${wanted}`);
    if (stored !== undefined && stored !== wanted) throw new Error(`this coordinator syncs ${stored}, not ${wanted}`);
    if (stored === undefined) this.store.set('entity', wanted);
    return def;
  }

  private settings(def: EntityDefinition): CoordinatorSettings {
    return effectiveSettings(def, engineDefaults(this.env), this.store.get<SettingsOverrides>('settings') ?? {});
  }

  /** The lease of a run in progress, if one holds it and has not expired. */
  private liveLease(now: number): Lease | null {
    const lease = this.store.get<Lease>('lease');
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
        // The log gets the reason's head only: Supabase's details quote the row's values.
        this.log({ event: 'row_quarantined', entity: this.store.get<string>('entity'), direction: q.direction, rowId: q.rowId, reason: q.reason.split(' — ')[0]?.slice(0, 300) });
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
    const paused = this.store.get<boolean>('paused') ?? false;
    const errorStreak = this.store.get<number>('error_streak') ?? 0;
    const lastRun = this.store.get<RunSummary>('last_run') ?? null;
    const lastSuccessAt = this.store.get<string>('last_success_at') ?? null;
    const alarm = await this.ctx.storage.getAlarm();
    const pullPosition = this.store.get<PullPosition>('pull') ?? initialPullPosition();
    const confirmedSeq = this.store.get<number>('push_seq') ?? 0;

    let push: EntityStatus['push'] = null;
    if (pushes(def)) {
      const backlog = await outboxBacklog(this.env.DB, def, confirmedSeq);
      const age = backlog.oldestChangedAt === null ? null : Math.max(0, Math.round((now - millisFromCanonical(backlog.oldestChangedAt)) / 1000));
      push = { confirmedSeq, pending: backlog.pending, oldestPendingAt: backlog.oldestChangedAt, oldestPendingAgeSeconds: age };
    }

    const problems: string[] = [];
    if (paused) problems.push('paused: the alarm loop is stopped (resume to restart it)');
    if (errorStreak > 0 && lastRun?.error) problems.push(`${errorStreak} failed run(s) in a row; last error: ${lastRun.error}`);
    const staleAfter = 3 * settings.intervalMs + settings.maxRunMs;
    if (lastRun && (lastSuccessAt === null || now - Date.parse(lastSuccessAt) > staleAfter)) {
      problems.push(lastSuccessAt === null ? 'no run has succeeded yet' : `no successful run since ${lastSuccessAt}`);
    }
    // While an alarm's run is in progress the platform shows no alarm; the run arms the next one.
    const lease = this.liveLease(now);
    if (!paused && alarm === null && lease === null) problems.push('no alarm armed: the next cron tick re-arms it, or POST /objects/:entity/sync');
    if (push?.oldestPendingAgeSeconds != null && push.oldestPendingAgeSeconds * 1000 > staleAfter) {
      problems.push(`outbox backlog: the oldest unsent change is ${push.oldestPendingAgeSeconds}s old`);
    }

    return {
      entity: def.name,
      direction: def.direction,
      paused,
      healthy: problems.length === 0,
      problems,
      pull: pulls(def)
        ? { cursor: pullPosition.cursor, frontier: pullPosition.frontier, tombstoneCursor: pullPosition.tombstoneCursor, backlog: pullPosition.continuing }
        : null,
      push,
      lease,
      lastRun,
      lastSuccessAt,
      errorStreak,
      nextAlarmAt: alarm === null ? null : new Date(alarm).toISOString(),
      conflicts: this.store.conflictCount(),
      quarantined: this.store.quarantineCount(),
      settings,
    };
  }

  private log(fields: Record<string, unknown>): void {
    console.log(JSON.stringify({ at: canonicalFromMillis(Date.now()), ...fields }));
  }
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
