/**
 * SyncCoordinator: one Durable Object per synced entity. It owns the entity's positions,
 * lease, conflict history and quarantine (in its SQLite storage) and its alarm, which is the
 * scheduler: two runs of one entity never overlap, and a failed run always re-arms.
 * The sync logic lives in src/sync; this class does the I/O around it.
 */
import { DurableObject } from 'cloudflare:workers';
import { findEntity, pulls, pushes, type EntityDefinition } from '../entities.ts';
import { engineDefaults, serviceRoleKey, type Env } from '../env.ts';
import { enqueueAllRows, enqueueRows, outboxBacklog, writeSyncLog } from '../stores/d1.ts';
import { createSupabaseStore, SupabaseError } from '../stores/supabase.ts';
import type { Cursor } from '../sync/cursor.ts';
import { runPull } from '../sync/pull.ts';
import { runPush } from '../sync/push.ts';
import { emptyStats, initialPullPosition, type PassSink, type PullPosition, type RunStats } from '../sync/run.ts';
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

/** The Durable Object class bound as SYNC_COORDINATOR. */
export class SyncCoordinator extends DurableObject<Env> {
  private readonly store: CoordinatorStore;
  /** Identifies this instance in the lease it takes (a restarted object is a new instance). */
  private readonly instanceId = crypto.randomUUID();

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
    if (pulls(def) && scope !== 'push') {
      const cursor = target.cursor ?? null;
      const position: PullPosition = { ...initialPullPosition(), cursor, frontier: cursor };
      this.store.set('pull', position);
    }
    if (pushes(def) && scope !== 'pull') await enqueueAllRows(this.env.DB, def);
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
    const held = this.liveLease(startedMs);
    if (held) {
      // Coalesce; make sure an alarm follows the holder in case it never finishes.
      if (trigger === 'alarm') await this.arm(Date.parse(held.expiresAt) + 1_000);
      return { ran: false, reason: 'coalesced', lease: held };
    }
    const lease: Lease = {
      runId: crypto.randomUUID(),
      trigger,
      holder: this.instanceId,
      startedAt: new Date(startedMs).toISOString(),
      expiresAt: new Date(startedMs + leaseDurationMs(settings, def)).toISOString(),
    };
    this.store.set('lease', lease); // taken before any outside I/O

    const stats = emptyStats();
    let ending: RunEnding;
    let error: string | null = null;
    try {
      const caughtUp = await this.passes(def, settings, stats, startedMs);
      ending = caughtUp ? { kind: 'caught-up' } : { kind: 'more' };
    } catch (e) {
      error = describeError(e);
      ending = { kind: 'failed', ...(e instanceof SupabaseError && e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
    }
    return { ran: true, run: await this.finish(def, settings, lease, trigger, stats, ending, error) };
  }

  private async passes(def: EntityDefinition, settings: CoordinatorSettings, total: RunStats, startedMs: number): Promise<boolean> {
    const url = this.store.get<string>('supabase_url') ?? this.env.SUPABASE_URL;
    const key = serviceRoleKey(this.env);
    if (!url || !key) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set (wrangler secret put)');
    const supabase = createSupabaseStore({ url, serviceRoleKey: key, requestTimeoutMs: settings.requestTimeoutMs });
    const budget = { maxPages: settings.maxPagesPerRun, deadline: startedMs + settings.maxRunMs };
    const now = (): number => Date.now();
    const sink = this.sink();
    let caughtUp = true;

    if (pushes(def)) {
      const due = this.store.dueForRetry(now(), QUARANTINE_RETRY_BATCH);
      if (due.length > 0) {
        await enqueueRows(this.env.DB, def, due);
        this.store.postponeRetry(due, now() + 3_600_000);
      }
      const result = await runPush(
        { entity: def, supabase, db: this.env.DB, pageSize: settings.pageSize, budget, now, sink, save: (seq) => this.store.set('push_seq', seq) },
        this.store.get<number>('push_seq') ?? 0,
      );
      addStats(total, result.stats);
      caughtUp &&= result.caughtUp;
    }
    if (pulls(def)) {
      const result = await runPull(
        {
          entity: def, supabase, db: this.env.DB, pageSize: settings.pageSize, safetyLagMs: settings.safetyLagMs,
          budget, now, sink, save: (p) => this.store.set('pull', p),
        },
        this.store.get<PullPosition>('pull') ?? initialPullPosition(),
      );
      addStats(total, result.stats);
      caughtUp &&= result.caughtUp;
    }
    return caughtUp;
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
    if (this.store.get<Lease>('lease')?.runId === lease.runId) this.store.set('lease', undefined);
    if (next !== null) await this.arm(next);

    this.log({ event: 'sync_run', entity: def.name, direction: def.direction, runId: lease.runId, trigger, outcome, ...stats, error, errorStreak: streak, nextRunAt: summary.nextRunAt });
    try {
      await writeSyncLog(this.env.DB, {
        runId: lease.runId, entity: def.name, direction: def.direction, trigger,
        startedAt: summary.startedAt, finishedAt: summary.finishedAt, outcome, ...stats, error,
      });
    } catch (e) {
      this.log({ event: 'sync_log_write_failed', entity: def.name, runId: lease.runId, error: describeError(e) });
    }
    return summary;
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
    return lease && Date.parse(lease.expiresAt) > now ? lease : null;
  }

  private async arm(at: number): Promise<void> {
    await this.ctx.storage.setAlarm(at);
    this.store.set('next_run_at', new Date(at).toISOString());
  }

  private sink(): PassSink {
    return {
      conflict: (c) => this.store.addConflict(c, new Date().toISOString()),
      quarantine: (q) => {
        this.store.quarantine(q, new Date().toISOString(), Date.now());
        // The log gets the reason's head only: Supabase's details quote the row's values.
        this.log({ event: 'row_quarantined', entity: this.store.get<string>('entity'), direction: q.direction, rowId: q.rowId, reason: q.reason.split(' — ')[0]?.slice(0, 300) });
      },
      release: (direction, ids) => this.store.release(direction, ids),
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
    if (!paused && alarm === null) problems.push('no alarm armed: the next cron tick re-arms it, or POST /objects/:entity/sync');
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
      lease: this.liveLease(now),
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
