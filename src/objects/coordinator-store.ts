/**
 * The SyncCoordinator's persistent state in its SQLite storage: a small key/value table for
 * positions, lease, settings and the last run; the run log; the conflict history; the quarantine.
 * Storage is the truth: nothing here is cached in memory. SQL calls are synchronous, so a
 * read-then-write in one method cannot interleave with another event.
 */
import type { IntegrityJob } from '../integrity/integrity-run.ts';
import type { ResyncJob } from '../integrity/resync.ts';
import { boundedPayload, nextRetryAt } from '../sync/quarantine.ts';
import { IDLE_RUN_LOG_LIMIT, isIdleRun, RUN_LOG_LIMIT, RUN_LOG_TRIM_EVERY } from '../sync/run-log.ts';
import type { ConflictRecord, PullPosition, QuarantineRecord } from '../sync/run.ts';
import type { Direction } from '../entities.ts';
import type {
  ActiveAlert,
  CheckName,
  EntityStatus,
  HeldRow,
  IdleRuns,
  IntegrityRun,
  Lease,
  RunOutcome,
  RunSummary,
  RunTrigger,
  StoredConflict,
  StoredQuarantine,
  SyncLogRun,
} from '../types.ts';
import type { SettingsOverrides } from './settings.ts';

export type { StoredConflict, StoredQuarantine } from '../types.ts';

const SCHEMA_VERSION = 3;
/** Conflict history is bounded: the newest this many are kept. */
export const CONFLICT_HISTORY_LIMIT = 500;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS conflicts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     row_id TEXT NOT NULL,
     direction TEXT NOT NULL,
     winner TEXT NOT NULL,
     supabase_updated_at TEXT,
     d1_updated_at TEXT,
     reason TEXT NOT NULL,
     UNIQUE (row_id, direction, supabase_updated_at, d1_updated_at)
   )`,
  `CREATE TABLE IF NOT EXISTS quarantine (
     direction TEXT NOT NULL,
     row_id TEXT NOT NULL,
     reason TEXT NOT NULL,
     payload TEXT,
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 1,
     next_retry_at INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (direction, row_id)
   )`,
  // The run log (src/sync/run-log.ts): every run, newest kept; idle runs trimmed on their own.
  `CREATE TABLE IF NOT EXISTS runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id TEXT NOT NULL,
     direction TEXT NOT NULL,
     trigger TEXT NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     outcome TEXT NOT NULL,
     idle INTEGER NOT NULL,
     pages INTEGER NOT NULL,
     rows_read INTEGER NOT NULL,
     rows_applied INTEGER NOT NULL,
     rows_deleted INTEGER NOT NULL,
     rows_skipped INTEGER NOT NULL,
     rows_quarantined INTEGER NOT NULL,
     conflicts INTEGER NOT NULL,
     error TEXT,
     pull_newest_applied_at TEXT,
     pull_lag_ms INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS runs_by_idle ON runs (idle, id)`,
  // Rows an integrity fix set aside (src/integrity): not pushed, never retried by themselves.
  `CREATE TABLE IF NOT EXISTS held (
     row_id TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     check_name TEXT NOT NULL,
     held_at TEXT NOT NULL
   )`,
];

/** Held rows are bounded like the conflict history: a fix never holds more than this many. */
export const HELD_LIMIT = 10_000;

/** An integrity job as kept between alarms, with its failed attempts. */
export type StoredIntegrityJob = IntegrityJob & { attempts?: number; lastError?: string };

/** Every key of the meta table and the type of its value (stored as JSON). */
export interface MetaValues {
  schema_version: number;
  /** The entity this object coordinates, bound on first use. */
  entity: string;
  /** The run that holds the lease, if any (src/lease). */
  lease: Lease;
  /** The newest epoch handed out: the next lease's fencing token grows from it. */
  lease_epoch: number;
  /** Where the pull has got to. */
  pull: PullPosition;
  /** The highest outbox sequence number Supabase confirmed. */
  push_seq: number;
  paused: boolean;
  /** When the armed alarm is due (ISO): what health compares the platform's alarm with. */
  next_run_at: string;
  last_run: RunSummary;
  /** The pull lag of the last run that applied pulled rows (status: pull.lastLag). */
  pull_last_lag: NonNullable<NonNullable<EntityStatus['pull']>['lastLag']>;
  last_success_at: string;
  error_streak: number;
  settings: SettingsOverrides;
  /** A per-database path on the Supabase origin (tests and the local stand-in). */
  supabase_url: string;
  integrity_job: StoredIntegrityJob;
  integrity_latest: IntegrityRun;
  integrity_rows: number;
  integrity_quarantined: number;
  resync_job: ResyncJob;
  /** Active alerts by check. */
  alerts: Record<string, ActiveAlert>;
}

/** A meta key. */
export type MetaKey = keyof MetaValues;

/** Typed access to the coordinator's storage. */
export class CoordinatorStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    const current = this.schemaVersion();
    if (current < SCHEMA_VERSION) {
      for (const statement of SCHEMA) this.sql.exec(statement);
      this.set('schema_version', SCHEMA_VERSION);
    }
  }

  private schemaVersion(): number {
    const exists = this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).toArray();
    if (exists.length === 0) return 0;
    return this.get('schema_version') ?? 0;
  }

  /** Reads a meta value; undefined when absent. */
  get<K extends MetaKey>(key: K): MetaValues[K] | undefined {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
    return row ? (JSON.parse(row.value) as MetaValues[K]) : undefined;
  }

  /** Writes a meta value (undefined deletes it). */
  set<K extends MetaKey>(key: K, value: MetaValues[K] | undefined): void {
    if (value === undefined) {
      this.sql.exec('DELETE FROM meta WHERE key = ?', key);
      return;
    }
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      JSON.stringify(value),
    );
  }

  /** Appends a finished run to the run log; every RUN_LOG_TRIM_EVERY-th entry trims it (idle and other runs each to their own limit). */
  addRun(direction: Direction, run: RunSummary): void {
    const idle = isIdleRun(run.outcome, run.stats) ? 1 : 0;
    const s = run.stats;
    const { id } = this.sql
      .exec<{ id: number }>(
        `INSERT INTO runs (run_id, direction, trigger, started_at, finished_at, outcome, idle, pages, rows_read, rows_applied,
         rows_deleted, rows_skipped, rows_quarantined, conflicts, error, pull_newest_applied_at, pull_lag_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        run.runId,
        direction,
        run.trigger,
        run.startedAt,
        run.finishedAt,
        run.outcome,
        idle,
        s.pages,
        s.rowsRead,
        s.rowsApplied,
        s.rowsDeleted,
        s.rowsSkipped,
        s.rowsQuarantined,
        s.conflicts,
        run.error,
        run.pullLag?.newestAppliedAt ?? null,
        run.pullLag?.lagMs ?? null,
      )
      .one();
    if (id % RUN_LOG_TRIM_EVERY !== 0) return;
    for (const [kind, keep] of [
      [0, RUN_LOG_LIMIT],
      [1, IDLE_RUN_LOG_LIMIT],
    ] as const) {
      this.sql.exec(
        'DELETE FROM runs WHERE idle = ?1 AND id <= (SELECT id FROM runs WHERE idle = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)',
        kind,
        keep,
      );
    }
  }

  /** The newest runs, newest first; idle ones left out when asked. */
  runs(entity: string, limit: number, idle: IdleRuns): SyncLogRun[] {
    const where = idle === 'exclude' ? 'WHERE idle = 0' : '';
    return this.sql
      .exec<RunRow>(`SELECT * FROM runs ${where} ORDER BY id DESC LIMIT ?`, limit)
      .toArray()
      .map((r) => ({
        id: r.id,
        runId: r.run_id,
        entity,
        // Written by addRun from the registry and the coordinator's own types.
        direction: r.direction as Direction,
        trigger: r.trigger as RunTrigger,
        outcome: r.outcome as RunOutcome,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        stats: {
          pages: r.pages,
          rowsRead: r.rows_read,
          rowsApplied: r.rows_applied,
          rowsDeleted: r.rows_deleted,
          rowsSkipped: r.rows_skipped,
          rowsQuarantined: r.rows_quarantined,
          conflicts: r.conflicts,
        },
        error: r.error,
        pullLag:
          r.pull_newest_applied_at === null || r.pull_lag_ms === null
            ? null
            : { newestAppliedAt: r.pull_newest_applied_at, lagMs: r.pull_lag_ms },
      }));
  }

  /** Records a conflict unless the same one (row, direction, both versions) is already recorded. */
  addConflict(c: ConflictRecord, at: string): void {
    this.sql.exec(
      `INSERT OR IGNORE INTO conflicts (at, row_id, direction, winner, supabase_updated_at, d1_updated_at, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      at,
      c.rowId,
      c.direction,
      c.winner,
      c.supabaseUpdatedAt,
      c.d1UpdatedAt,
      c.reason,
    );
  }

  /** Drops conflicts beyond the history limit, oldest first. */
  trimConflicts(): void {
    this.sql.exec('DELETE FROM conflicts WHERE id <= (SELECT id FROM conflicts ORDER BY id DESC LIMIT 1 OFFSET ?)', CONFLICT_HISTORY_LIMIT);
  }

  /** Newest first. */
  conflicts(limit: number): StoredConflict[] {
    return this.sql
      .exec<{
        id: number;
        at: string;
        row_id: string;
        direction: string;
        winner: string;
        supabase_updated_at: string | null;
        d1_updated_at: string | null;
        reason: string;
      }>('SELECT * FROM conflicts ORDER BY id DESC LIMIT ?', limit)
      .toArray()
      .map((r) => ({
        id: r.id,
        at: r.at,
        rowId: r.row_id,
        direction: r.direction === 'push' ? 'push' : 'pull',
        winner: r.winner === 'd1' ? 'd1' : 'supabase',
        supabaseUpdatedAt: r.supabase_updated_at,
        d1UpdatedAt: r.d1_updated_at,
        reason: r.reason,
      }));
  }

  conflictCount(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM conflicts').one().n;
  }

  /** Quarantines a row, or refreshes its reason and schedules its next retry when already there. */
  quarantine(q: QuarantineRecord, at: string, now: number): void {
    const previous =
      this.sql
        .exec<{ attempts: number }>('SELECT attempts FROM quarantine WHERE direction = ? AND row_id = ?', q.direction, q.rowId)
        .toArray()[0]?.attempts ?? 0;
    const attempts = previous + 1;
    this.sql.exec(
      `INSERT INTO quarantine (direction, row_id, reason, payload, first_seen, last_seen, attempts, next_retry_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (direction, row_id) DO UPDATE SET
         reason = excluded.reason, payload = excluded.payload, last_seen = excluded.last_seen,
         attempts = excluded.attempts, next_retry_at = excluded.next_retry_at`,
      q.direction,
      q.rowId,
      q.reason,
      boundedPayload(q.payload),
      at,
      at,
      attempts,
      nextRetryAt(now, attempts),
    );
  }

  /** Removes rows that have since applied cleanly. */
  release(direction: 'pull' | 'push', rowIds: readonly string[]): void {
    if (rowIds.length === 0) return;
    this.sql.exec(
      'DELETE FROM quarantine WHERE direction = ? AND row_id IN (SELECT value FROM json_each(?))',
      direction,
      JSON.stringify(rowIds),
    );
  }

  /** Push rows whose retry time has come (they are re-queued; a fix in D1 re-queues them anyway). */
  dueForRetry(now: number, limit: number): string[] {
    return this.sql
      .exec<{ row_id: string }>(
        `SELECT row_id FROM quarantine WHERE direction = 'push' AND next_retry_at <= ? ORDER BY next_retry_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => r.row_id);
  }

  /** Postpones the retry of rows just re-queued, so they are not queued twice. */
  postponeRetry(rowIds: readonly string[], until: number): void {
    if (rowIds.length === 0) return;
    this.sql.exec(
      `UPDATE quarantine SET next_retry_at = ? WHERE direction = 'push' AND row_id IN (SELECT value FROM json_each(?))`,
      until,
      JSON.stringify(rowIds),
    );
  }

  quarantined(limit: number): StoredQuarantine[] {
    return this.sql
      .exec<{
        direction: string;
        row_id: string;
        reason: string;
        payload: string | null;
        first_seen: string;
        last_seen: string;
        attempts: number;
      }>('SELECT * FROM quarantine ORDER BY last_seen DESC LIMIT ?', limit)
      .toArray()
      .map((r) => ({
        direction: r.direction === 'push' ? 'push' : 'pull',
        rowId: r.row_id,
        reason: r.reason,
        payload: r.payload,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
        attempts: r.attempts,
      }));
  }

  /** Sets rows aside (an integrity fix); a row already held keeps its first reason. Returns how many were added. */
  hold(rows: readonly { rowId: string; reason: string; check: CheckName }[], at: string): number {
    const room = Math.max(0, HELD_LIMIT - this.heldCount());
    let added = 0;
    for (const r of rows.slice(0, room)) {
      added += this.sql.exec(
        'INSERT OR IGNORE INTO held (row_id, reason, check_name, held_at) VALUES (?, ?, ?, ?)',
        r.rowId,
        r.reason,
        r.check,
        at,
      ).rowsWritten;
    }
    return added;
  }

  /** Held rows, newest first. */
  heldRows(limit: number): HeldRow[] {
    return this.sql
      .exec<{ row_id: string; reason: string; check_name: string; held_at: string }>(
        'SELECT * FROM held ORDER BY held_at DESC, row_id LIMIT ?',
        limit,
      )
      .toArray()
      .map((r) => ({ rowId: r.row_id, reason: r.reason, check: r.check_name as CheckName, heldAt: r.held_at }));
  }

  /** Every held row id (bounded by HELD_LIMIT). */
  heldIds(): Set<string> {
    return new Set(
      this.sql
        .exec<{ row_id: string }>('SELECT row_id FROM held')
        .toArray()
        .map((r) => r.row_id),
    );
  }

  /** Which of `ids` are held. */
  heldAmong(ids: readonly string[]): Set<string> {
    if (ids.length === 0) return new Set();
    return new Set(
      this.sql
        .exec<{ row_id: string }>('SELECT row_id FROM held WHERE row_id IN (SELECT value FROM json_each(?))', JSON.stringify(ids))
        .toArray()
        .map((r) => r.row_id),
    );
  }

  /** Releases held rows; returns the ids that were held. */
  unhold(ids: readonly string[]): string[] {
    const held = [...this.heldAmong(ids)];
    if (held.length > 0) this.sql.exec('DELETE FROM held WHERE row_id IN (SELECT value FROM json_each(?))', JSON.stringify(held));
    return held;
  }

  heldCount(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM held').one().n;
  }

  /** Every quarantined row id, either direction. */
  quarantinedIds(): Set<string> {
    return new Set(
      this.sql
        .exec<{ row_id: string }>('SELECT row_id FROM quarantine')
        .toArray()
        .map((r) => r.row_id),
    );
  }

  quarantineCount(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM quarantine').one().n;
  }
}

/** A row of the runs table. */
interface RunRow extends Record<string, SqlStorageValue> {
  id: number;
  run_id: string;
  direction: string;
  trigger: string;
  started_at: string;
  finished_at: string;
  outcome: string;
  pages: number;
  rows_read: number;
  rows_applied: number;
  rows_deleted: number;
  rows_skipped: number;
  rows_quarantined: number;
  conflicts: number;
  error: string | null;
  pull_newest_applied_at: string | null;
  pull_lag_ms: number | null;
}
