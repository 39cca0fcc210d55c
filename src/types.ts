/** Types shared across layers: the coordinator, the passes, the stores, the HTTP API and the dashboard. */
import type { Direction } from './entities.ts';
import type { OverallStatus } from './status-summary.ts';
import type { ConflictRecord } from './sync/run.ts';

/** The most rows one listing (conflicts, quarantine, held rows, the run log) returns. */
export const LIST_LIMIT_MAX = 500;

/** A position in a source ordered by (ts, id): everything at or before it has been read. */
export interface Cursor {
  ts: string;
  id: string;
}

/** Counters of one run. */
export interface RunStats {
  pages: number;
  rowsRead: number;
  rowsApplied: number;
  rowsDeleted: number;
  rowsSkipped: number;
  rowsQuarantined: number;
  conflicts: number;
}

/** What a reset moves: `all` (default) the pull cursor and the push queue, `pull` the first, `requeue` the second (every current D1 row is sent again). */
export type ResetScope = 'all' | 'pull' | 'requeue';

/**
 * How far D1 trailed Supabase for the newest change a pull applied: that row's `updated_at`, and
 * the time from it to the moment its page was applied in D1.
 */
export interface PullLag {
  /** The row's updated_at as D1 stores it (canonical, microseconds). */
  newestAppliedAt: string;
  /** Milliseconds from newestAppliedAt to the apply; 0 when Supabase's clock is ahead of the Worker's. */
  lagMs: number;
}

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
export type RunTrigger = 'alarm' | 'manual' | 'full-resync' | 'integrity';

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
  /** How long the newest pulled row it applied took to reach D1; null when it applied none (and for runs recorded before this field). */
  pullLag: PullLag | null;
}

/** One run as its coordinator's run log keeps it (GET /api/sync/log, GET /api/dashboard): the summary without its schedule. */
export interface SyncLogRun extends Omit<RunSummary, 'nextRunAt'> {
  /** The entity's run log sequence number: its newer runs have larger ids. */
  id: number;
  entity: string;
  direction: Direction;
}

/**
 * Whether a listing of runs includes idle ones: runs that ended caught-up having changed nothing
 * (no row applied or deleted, none quarantined, no conflict), which an idle engine writes every
 * interval. `exclude` leaves the runs that moved data, failed, were fenced or had more to do.
 */
export type IdleRuns = 'include' | 'exclude';

/** The answer to "sync now": the run, or the run it coalesced with. */
export type SyncNowResult = { ran: true; run: RunSummary } | { ran: false; reason: 'coalesced'; lease: Lease };

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
    /** The last run that applied pulled rows: how long its newest one took to reach D1; null before any. */
    lastLag: (PullLag & { runId: string; finishedAt: string }) | null;
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
  /** Rows set aside by integrity fixes (GET /objects/:entity/held). */
  held: number;
  /** Integrity runs and resyncs asked for and not finished yet. */
  jobs: IntegrityJobStatus[];
  /** When the latest integrity run finished and whether it found nothing left to fix. */
  integrity: { lastRunAt: string; ok: boolean } | null;
  settings: CoordinatorSettings;
}

// ---- integrity (docs/operations.md, "Consistency checks") --------------------------------

/** A JSON scalar. */
export type JsonScalar = string | number | boolean | null;
/**
 * A check's detail value: JSON two levels deep (Durable Object RPC types cannot carry `unknown`,
 * and a recursive JSON type makes them too deep for the compiler).
 */
export type DetailValue =
  JsonScalar | JsonScalar[] | Record<string, JsonScalar | JsonScalar[]> | Record<string, JsonScalar | JsonScalar[]>[];

/** The consistency checks, per entity where they apply. */
export type CheckName =
  | 'row_counts'
  | 'replica_drift'
  | 'orphans'
  | 'duplicate_message_ids'
  | 'invalid_states'
  | 'push_backlog'
  | 'stale_entity'
  | 'quarantine_growth';

/** ok: nothing found; warning: found, not (yet) harmful; error: data differs or is wrong. */
export type CheckSeverity = 'ok' | 'warning' | 'error';

/** One check's outcome in one integrity run. */
export interface CheckResult {
  check: CheckName;
  entity: string;
  severity: CheckSeverity;
  /** How many rows (or entries) the problem concerns; 0 when ok. */
  count: number;
  /** One line for operators: what was found. */
  summary: string;
  /** Check-specific facts (counts per kind, sample ids); bounded in size. */
  details: Record<string, DetailValue>;
  /** How many of `count` the fix repaired (0 without fix). */
  fixed: number;
  /** What the fix did, one line; null without fix or when nothing needed fixing. */
  fix: string | null;
}

/** The counts of both sides, as the row_counts check saw them. */
export interface SideCounts {
  d1: number;
  supabase: number;
  /** |d1 − supabase| not counting rows with pending outbox entries or in quarantine. */
  difference: number;
}

/** What a reconciliation found and repaired. */
export interface DriftSummary {
  missing: number;
  extra: number;
  olderInD1: number;
  newerInD1: number;
  sameVersionOtherContent: number;
  /** Rows with pending outbox entries: left to the push. */
  pendingPush: number;
  /** Other differing rows that are in quarantine (e.g. an `infinity` timestamp): shown there, not repairable here. */
  quarantined: number;
  found: number;
  repaired: number;
  supabaseRequests: number;
  d1RowsRead: number;
}

/** One finished integrity run of one entity. */
export interface IntegrityRun {
  runId: string;
  entity: string;
  startedAt: string;
  finishedAt: string;
  trigger: IntegrityTrigger;
  fix: boolean;
  /** Whether the run compared the rows of both sides (a digest pass), not only counts. */
  reconciled: boolean;
  /** ok when every check is ok (after fixes). */
  ok: boolean;
  counts: SideCounts | null;
  drift: DriftSummary | null;
  checks: CheckResult[];
  /** Set when the run itself failed (Supabase unreachable, lease lost); the checks run so far are kept. */
  error: string | null;
}

/** What asked for an integrity run. */
export type IntegrityTrigger = 'manual' | 'hourly' | 'daily' | 'resync';

/** A row the integrity fixes set aside: not pushed and not retried until an operator releases or deletes it. */
export interface HeldRow {
  rowId: string;
  reason: string;
  check: CheckName;
  heldAt: string;
}

/** An alert that is firing (sent, not yet resolved). */
export interface ActiveAlert {
  /** `${entity}:${check}` */
  key: string;
  entity: string;
  check: CheckName;
  summary: string;
  since: string;
  lastSentAt: string | null;
}

/** Work an entity's coordinator has been asked to do besides its sync runs (resumable, one at a time per kind). */
export interface IntegrityJobStatus {
  kind: 'integrity' | 'resync';
  requestedAt: string;
  trigger: IntegrityTrigger;
  fix: boolean;
  /** For resync: reread (the pull re-reads from the beginning) → sweep (rows absent upstream go). */
  phase: string;
  /** Human-readable progress, e.g. "key ranges 2/4". */
  progress: string;
}

/** GET /api/integrity, per entity. */
export interface EntityIntegrity {
  entity: string;
  direction: Direction;
  latest: IntegrityRun | null;
  jobs: IntegrityJobStatus[];
  held: HeldRow[];
  heldCount: number;
  alerts: ActiveAlert[];
}

/** The answer to "run the checks" (POST /api/integrity/run), per entity. */
export type IntegrityRequestResult =
  | { status: 'done'; run: IntegrityRun }
  /** Started; a large table continues over the next alarms (progress in the job). */
  | { status: 'running'; job: IntegrityJobStatus }
  /** A sync run holds the lease: remembered, done right after it. */
  | { status: 'queued'; job: IntegrityJobStatus; lease: Lease };

/** One check of a run in the history. */
export interface HistoryCheck {
  check: CheckName;
  severity: CheckSeverity;
  count: number;
  fixed: number;
  summary: string;
}

/** One integrity run of one entity, as the history shows it. */
export interface IntegrityHistoryEntry {
  runId: string;
  entity: string;
  checkedAt: string;
  trigger: IntegrityTrigger;
  fix: boolean;
  reconciled: boolean;
  ok: boolean;
  /** Checks that were not ok. */
  problems: number;
  /** Sum of the checks' fixed. */
  fixed: number;
  error: string | null;
  counts: SideCounts | null;
  drift: DriftSummary | null;
  checks: HistoryCheck[];
}

// ---- the coordinator's histories (GET /objects/:entity/conflicts, /quarantine) -----------------

/** A conflict as stored and shown. */
export interface StoredConflict extends ConflictRecord {
  id: number;
  at: string;
}

/** A quarantined row as stored and shown. */
export interface StoredQuarantine {
  direction: 'pull' | 'push';
  rowId: string;
  reason: string;
  /** The row as JSON text (what was read), or null. */
  payload: string | null;
  firstSeen: string;
  lastSeen: string;
  attempts: number;
}

// ---- the operator page (GET /api/dashboard) ------------------------------------------------

/** A conflict of one entity, as the page lists them all. */
export interface ConflictEntry extends StoredConflict {
  entity: string;
}

/** A quarantined row of one entity, as the page lists them all (without the row itself). */
export interface QuarantineEntry extends Omit<StoredQuarantine, 'payload'> {
  entity: string;
}

/** One part of the page's data, or why it could not be read (the other parts still show). */
export type DashboardPart<T> = { ok: true; data: T } | { ok: false; error: string };

/** GET /api/dashboard: everything the operator page shows, in one answer. */
export interface DashboardData {
  generatedAt: string;
  /** As GET /api/sync/status. */
  status: OverallStatus;
  /** The newest runs of every entity (or of `entity`), idle ones left out unless `idle` is include. */
  runs: DashboardPart<{ entity: string | null; idle: IdleRuns; runs: SyncLogRun[] }>;
  /** Per entity its newest runs for the chart, newest first, with the same idle choice. */
  charts: DashboardPart<Record<string, SyncLogRun[]>>;
  /** Every entity's newest conflicts, merged newest first. */
  conflicts: DashboardPart<ConflictEntry[]>;
  /** Every entity's quarantined rows, merged most recently seen first. */
  quarantine: DashboardPart<QuarantineEntry[]>;
  /** As GET /api/integrity. */
  integrity: DashboardPart<{ entities: EntityIntegrity[]; history: IntegrityHistoryEntry[] }>;
}
