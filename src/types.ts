/** Wire types shared by the coordinator, the HTTP API and the dashboard. */
import type { Direction } from './entities.ts';
import type { Cursor } from './sync/cursor.ts';
import type { RunStats } from './sync/run.ts';

/** The lease a run holds while it works; other triggers coalesce with it (see src/lease). */
export interface Lease {
  runId: string;
  trigger: RunTrigger;
  /** Fencing token: grows with every lease; writes from an older epoch are refused. */
  epoch: number;
  startedAt: string;
  /** Renewed before every page; a run past it has lost the lease. */
  expiresAt: string;
}

/** What started a run. */
export type RunTrigger = 'alarm' | 'manual' | 'full-resync';

/**
 * How a run ended. caught-up: reached the end; more: budget or full page, continues at once;
 * failed: backing off; fenced: it lost its lease to a newer run and stopped writing.
 */
export type RunOutcome = 'caught-up' | 'more' | 'failed' | 'fenced';

/** One finished run. */
export interface RunSummary {
  runId: string;
  trigger: RunTrigger;
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  stats: RunStats;
  error: string | null;
  /** When the next run was scheduled for, ISO 8601 (null when paused). */
  nextRunAt: string | null;
}

/** The answer to "sync now": the run, or the run it coalesced with. */
export type SyncNowResult =
  | { ran: true; run: RunSummary }
  | { ran: false; reason: 'coalesced'; lease: Lease };

/** Per-entity tunables; stored overrides on top of the engine defaults. */
export interface CoordinatorSettings {
  intervalMs: number;
  pageSize: number;
  maxPagesPerRun: number;
  maxRunMs: number;
  safetyLagMs: number;
  requestTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Everything an operator needs to know about one entity's coordinator. */
export interface EntityStatus {
  entity: string;
  direction: Direction;
  paused: boolean;
  healthy: boolean;
  /** Why the entity is not healthy (empty when healthy). */
  problems: string[];
  pull: {
    cursor: Cursor | null;
    frontier: Cursor | null;
    tombstoneCursor: Cursor | null;
    /** True while a backlog is being drained across chained runs. */
    backlog: boolean;
  } | null;
  push: {
    confirmedSeq: number;
    pending: number;
    oldestPendingAt: string | null;
    oldestPendingAgeSeconds: number | null;
  } | null;
  lease: Lease | null;
  lastRun: RunSummary | null;
  lastSuccessAt: string | null;
  errorStreak: number;
  nextAlarmAt: string | null;
  conflicts: number;
  quarantined: number;
  settings: CoordinatorSettings;
}
