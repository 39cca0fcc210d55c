/**
 * D1 reads and writes of the consistency checks (src/integrity/checks.ts turns the reads into
 * results): counts, orphans, duplicate message_ids, invalid states, the aged outbox, and the
 * integrity_results history. Every read reports D1's rows_read (D1 bills it, and hourly checks
 * must fit the plan's read allowance). Table and column names come from the registry only.
 */
import { z } from 'zod';
import { findEntity, type EntityDefinition } from '../entities.ts';
import type { InvalidFinding } from '../integrity/checks.ts';
import type {
  CheckName,
  CheckResult,
  CheckSeverity,
  DriftSummary,
  IntegrityHistoryEntry,
  IntegrityRun,
  IntegrityTrigger,
  SideCounts,
} from '../types.ts';

export type { HistoryCheck, IntegrityHistoryEntry } from '../types.ts';
import { rowsRead } from './reconcile.ts';
import { ident } from './sql.ts';

// D1 caps LIKE/GLOB patterns at 50 bytes, too short for '[0-9a-f]' × 32: the shape of a value
// is compared instead, its digits (and hex letters) all turned into '0' by nested replace().
const TIMESTAMP_SHAPE = '0000-00-00T00:00:00.000000Z';
const DATE_SHAPE = '0000-00-00';
const UUID_SHAPE = '00000000-0000-0000-0000-000000000000';

/** SQL: `expr` with every character of `chars` replaced by '0' (replace() is case-sensitive, so 'A'-'F' stay). */
function zeroed(expr: string, chars: string): string {
  return chars.split('').reduce((sql, ch) => `replace(${sql}, '${ch}', '0')`, expr);
}

/** Rows of the entity's table in D1. */
export async function countD1Rows(db: D1Database, entity: EntityDefinition): Promise<{ count: number; rowsRead: number }> {
  const r = await db.prepare(`SELECT count(*) AS n FROM ${ident(entity.table)}`).all<{ n: number }>();
  return { count: r.results[0]?.n ?? 0, rowsRead: rowsRead(r) };
}

/**
 * Distinct row ids with outbox entries after the push cursor: changes the push still owns, so
 * their rows may legitimately differ between the sides. `truncated`: more than `limit` exist.
 */
export async function pendingRowIds(
  db: D1Database,
  entity: EntityDefinition,
  confirmedSeq: number,
  limit = 10_000,
): Promise<{ ids: Set<string>; truncated: boolean; rowsRead: number }> {
  const r = await db
    .prepare('SELECT DISTINCT row_id FROM sync_outbox WHERE entity = ?1 AND seq > ?2 LIMIT ?3')
    .bind(entity.name, confirmedSeq, limit + 1)
    .all<{ row_id: string }>();
  const ids = r.results.slice(0, limit).map((x) => x.row_id);
  return { ids: new Set(ids), truncated: r.results.length > limit, rowsRead: rowsRead(r) };
}

function prospectsEntity(): EntityDefinition {
  const prospects = findEntity('prospects');
  if (!prospects) throw new Error('orphans check: the registry has no prospects entity');
  return prospects;
}

/** Orphans: outbound emails with a prospect_id that has no row in D1's prospects. */
export async function findOrphanEmails(
  db: D1Database,
  entity: EntityDefinition,
  limit = 20,
): Promise<{ count: number; sample: { id: string; prospectId: string }[]; prospectIds: string[]; rowsRead: number }> {
  const prospects = prospectsEntity();
  const t = ident(entity.table);
  const key = ident(entity.key);
  const fk = ident('prospect_id');
  const orphan =
    `e.${ident('direction')} = 'outbound' AND e.${fk} IS NOT NULL ` +
    `AND NOT EXISTS (SELECT 1 FROM ${ident(prospects.table)} AS p WHERE p.${ident(prospects.key)} = e.${fk})`;
  // One scan: the missing prospects with their email counts; the window sums all groups before LIMIT.
  const missing = await db
    .prepare(
      `SELECT prospect_id, total FROM (SELECT e.${fk} AS prospect_id, sum(count(*)) OVER () AS total ` +
        `FROM ${t} AS e WHERE ${orphan} GROUP BY e.${fk}) ORDER BY prospect_id LIMIT ?1`,
    )
    .bind(1000)
    .all<{ prospect_id: string; total: number }>();
  let read = rowsRead(missing);
  const count = missing.results[0]?.total ?? 0;
  if (count === 0) return { count: 0, sample: [], prospectIds: [], rowsRead: read };
  const sampled = await db
    .prepare(`SELECT e.${key} AS id, e.${fk} AS prospect_id FROM ${t} AS e WHERE ${orphan} ORDER BY e.${key} LIMIT ?1`)
    .bind(limit)
    .all<{ id: string; prospect_id: string }>();
  read += rowsRead(sampled);
  return {
    count,
    sample: sampled.results.map((r) => ({ id: r.id, prospectId: r.prospect_id })),
    prospectIds: missing.results.map((r) => r.prospect_id),
    rowsRead: read,
  };
}

/**
 * message_ids on more than one row (NULL is no message_id), at most `limit` of them, each with
 * its row ids earliest first (created_at, then id): the first is the one a fix keeps.
 */
export async function findDuplicateMessageIds(
  db: D1Database,
  entity: EntityDefinition,
  limit = 100,
): Promise<{ groups: { messageId: string; ids: string[] }[]; truncated: boolean; rowsRead: number }> {
  const t = ident(entity.table);
  const key = ident(entity.key);
  const mid = ident('message_id');
  const created = Object.hasOwn(entity.columns, 'created_at') ? `e.${ident('created_at')}, ` : '';
  // The inner GROUP BY walks the message_id index; one more group than asked tells truncation.
  const r = await db
    .prepare(
      `SELECT e.${mid} AS message_id, e.${key} AS id FROM ${t} AS e WHERE e.${mid} IN ` +
        `(SELECT ${mid} FROM ${t} WHERE ${mid} IS NOT NULL GROUP BY ${mid} HAVING count(*) > 1 ORDER BY ${mid} LIMIT ?1) ` +
        `ORDER BY e.${mid}, ${created}e.${key}`,
    )
    .bind(limit + 1)
    .all<{ message_id: string; id: string }>();
  const groups: { messageId: string; ids: string[] }[] = [];
  for (const row of r.results) {
    const last = groups.at(-1);
    if (last?.messageId === row.message_id) last.ids.push(row.id);
    else groups.push({ messageId: row.message_id, ids: [row.id] });
  }
  return { groups: groups.slice(0, limit), truncated: groups.length > limit, rowsRead: rowsRead(r) };
}

interface Condition {
  column: string;
  kind: InvalidFinding['kind'];
  /** True for an offending row; parameters numbered from ?1 in `params`. */
  predicate: string;
  params: string[];
}

function invalidConditions(entity: EntityDefinition): Condition[] {
  const conditions: Condition[] = [];
  const keySpec = entity.columns[entity.key];
  if (keySpec?.type === 'uuid') {
    const k = ident(entity.key);
    // A NULL key (SQLite allows one in a TEXT PRIMARY KEY) is not a uuid either.
    conditions.push({
      column: entity.key,
      kind: 'key',
      predicate: `${k} IS NULL OR ${zeroed(k, '123456789abcdef')} IS NOT '${UUID_SHAPE}'`,
      params: [],
    });
  }
  for (const [name, spec] of Object.entries(entity.columns)) {
    const c = ident(name);
    if (spec.values) {
      // Plain comparisons, not NOT IN: D1 counts every probe of IN's temporary index as a row read.
      const differs = spec.values.map((_v, i) => `${c} <> ?${i + 1}`).join(' AND ');
      conditions.push({ column: name, kind: 'value', predicate: `${c} IS NOT NULL AND ${differs}`, params: [...spec.values] });
    }
    // The shape fixes the form; strftime/date round-trips catch impossible dates and times (month 13, Feb 30).
    if (spec.type === 'timestamp') {
      conditions.push({
        column: name,
        kind: 'timestamp',
        params: [],
        predicate:
          `${c} IS NOT NULL AND NOT (${zeroed(c, '123456789')} IS '${TIMESTAMP_SHAPE}' ` +
          `AND strftime('%Y-%m-%dT%H:%M:%S', substr(${c}, 1, 19)) IS substr(${c}, 1, 19))`,
      });
    }
    if (spec.type === 'date') {
      conditions.push({
        column: name,
        kind: 'date',
        params: [],
        predicate: `${c} IS NOT NULL AND NOT (${zeroed(c, '123456789')} IS '${DATE_SHAPE}' AND date(${c}) IS ${c})`,
      });
    }
  }
  return conditions;
}

/** Renumbers a predicate's ?1.. parameters to start after `offset`. */
function shift(predicate: string, offset: number): string {
  return predicate.replace(/\?(\d+)/g, (_m, d: string) => `?${Number(d) + offset}`);
}

/**
 * Invalid states: values outside the registry's allowed sets, timestamps not in the canonical
 * form, dates not 'YYYY-MM-DD', keys that are not lower-case uuids. One scan of the table counts
 * every condition; samples are read only for the conditions that found something.
 */
export async function findInvalidStates(
  db: D1Database,
  entity: EntityDefinition,
  sampleLimit = 20,
): Promise<{ findings: InvalidFinding[]; rowsRead: number }> {
  const conditions = invalidConditions(entity);
  if (conditions.length === 0) return { findings: [], rowsRead: 0 };
  const t = ident(entity.table);
  const params: string[] = [];
  const counts = conditions.map((c, i) => {
    const sql = `count(CASE WHEN ${shift(c.predicate, params.length)} THEN 1 END) AS c${i}`;
    params.push(...c.params);
    return sql;
  });
  const scan = await db
    .prepare(`SELECT ${counts.join(', ')} FROM ${t}`)
    .bind(...params)
    .all<Record<string, number>>();
  let read = rowsRead(scan);
  const head = scan.results[0] ?? {};
  const found = conditions.map((c, i) => ({ ...c, count: head[`c${i}`] ?? 0 })).filter((c) => c.count > 0);
  if (found.length === 0) return { findings: [], rowsRead: read };

  const key = ident(entity.key);
  const samples = await db.batch<{ id: string | null }>(
    found.map((c) =>
      db
        .prepare(`SELECT ${key} AS id FROM ${t} WHERE ${c.predicate} ORDER BY ${key} LIMIT ?${c.params.length + 1}`)
        .bind(...c.params, sampleLimit),
    ),
  );
  read += samples.reduce((sum, s) => sum + rowsRead(s), 0);
  const findings = found.map((c, i): InvalidFinding => ({
    column: c.column,
    kind: c.kind,
    count: c.count,
    // A NULL key has no id to show; it is still counted.
    sample: (samples[i]?.results ?? []).flatMap((r) => (r.id === null ? [] : [r.id])),
  }));
  return { findings, rowsRead: read };
}

/** Outbox entries after the push cursor changed before `olderThan` (canonical): the push backlog. */
export async function agedOutboxBacklog(
  db: D1Database,
  entity: EntityDefinition,
  confirmedSeq: number,
  olderThan: string,
): Promise<{ count: number; oldestAt: string | null; rowsRead: number }> {
  const r = await db
    .prepare('SELECT count(*) AS n, min(changed_at) AS oldest FROM sync_outbox WHERE entity = ?1 AND seq > ?2 AND changed_at < ?3')
    .bind(entity.name, confirmedSeq, olderThan)
    .all<{ n: number; oldest: string | null }>();
  const head = r.results[0];
  return { count: head?.n ?? 0, oldestAt: head?.oldest ?? null, rowsRead: rowsRead(r) };
}

/** The run's facts repeated on each of its integrity_results rows (a run has no row of its own). */
interface StoredRun {
  trigger: IntegrityTrigger;
  fix: boolean;
  reconciled: boolean;
  ok: boolean;
  startedAt: string;
  error: string | null;
}

/** The `details` column of one integrity_results row. */
interface StoredDetails {
  summary: string;
  fix: string | null;
  details: Record<string, unknown>;
  run: StoredRun;
  counts?: SideCounts | null;
  drift?: DriftSummary | null;
}

/**
 * Records one entity's integrity run, one integrity_results row per check (a failed run
 * without checks still gets a 'run' row), and trims the entity's history to its newest
 * `keepRunsPerEntity` runs, in one batch.
 */
export async function writeIntegrityRun(db: D1Database, run: IntegrityRun, keepRunsPerEntity = 50): Promise<void> {
  const stored: StoredRun = {
    trigger: run.trigger,
    fix: run.fix,
    reconciled: run.reconciled,
    ok: run.ok,
    startedAt: run.startedAt,
    error: run.error,
  };
  const rows: { check: CheckName | 'run'; severity: CheckSeverity; count: number; fixed: number; details: string }[] = run.checks.map(
    (c: CheckResult) => {
      const details: StoredDetails = { summary: c.summary, fix: c.fix, details: c.details, run: stored };
      if (c.check === 'row_counts') details.counts = run.counts;
      if (c.check === 'replica_drift') details.drift = run.drift;
      return { check: c.check, severity: c.severity, count: c.count, fixed: c.fixed, details: JSON.stringify(details) };
    },
  );
  if (rows.length === 0) {
    const details: StoredDetails = {
      summary: run.error ?? 'no checks ran',
      fix: null,
      details: {},
      run: stored,
      counts: run.counts,
      drift: run.drift,
    };
    rows.push({ check: 'run', severity: run.error === null ? 'ok' : 'error', count: 0, fixed: 0, details: JSON.stringify(details) });
  }
  await db.batch([
    db
      .prepare(
        `INSERT INTO integrity_results (run_id, checked_at, check_name, entity, severity, count, details, fixed)
       SELECT ?1, ?2, j.value ->> '$.check', ?3, j.value ->> '$.severity', j.value ->> '$.count', j.value ->> '$.details', j.value ->> '$.fixed'
       FROM json_each(?4) AS j`,
      )
      .bind(run.runId, run.finishedAt, run.entity, JSON.stringify(rows)),
    // A run's rows are inserted together, so everything below the first id of the
    // keepRunsPerEntity-th newest run is older runs: one index range on (entity, id).
    db
      .prepare(
        `DELETE FROM integrity_results WHERE entity = ?1 AND id < (
         SELECT min(first_id) FROM (
           SELECT min(id) AS first_id FROM integrity_results WHERE entity = ?1 GROUP BY run_id ORDER BY max(id) DESC LIMIT ?2))`,
      )
      .bind(run.entity, keepRunsPerEntity),
  ]);
}

const TRIGGERS = ['manual', 'hourly', 'daily', 'resync'] as const satisfies readonly IntegrityTrigger[];
const SEVERITIES: readonly string[] = ['ok', 'warning', 'error'] satisfies CheckSeverity[];
const CHECK_NAMES: readonly string[] = [
  'row_counts',
  'replica_drift',
  'orphans',
  'duplicate_message_ids',
  'invalid_states',
  'push_backlog',
  'stale_entity',
  'quarantine_growth',
] satisfies CheckName[];

function isSeverity(value: string): value is CheckSeverity {
  return SEVERITIES.includes(value);
}

function isCheckName(value: string): value is CheckName {
  return CHECK_NAMES.includes(value);
}

// Tolerant of rows written by older versions: a missing field reads as its default.
const StoredDetailsSchema = z.object({
  summary: z.string().catch(''),
  run: z
    .object({
      trigger: z.enum(TRIGGERS).catch('manual'),
      fix: z.boolean().catch(false),
      reconciled: z.boolean().catch(false),
      ok: z.boolean().nullable().catch(null),
      error: z.string().nullable().catch(null),
    })
    .catch({ trigger: 'manual', fix: false, reconciled: false, ok: null, error: null }),
  counts: z.object({ d1: z.number(), supabase: z.number(), difference: z.number() }).nullable().catch(null),
  drift: z
    .object({
      missing: z.number(),
      extra: z.number(),
      olderInD1: z.number(),
      newerInD1: z.number(),
      sameVersionOtherContent: z.number(),
      pendingPush: z.number(),
      quarantined: z.number().default(0),
      found: z.number(),
      repaired: z.number(),
      supabaseRequests: z.number(),
      d1RowsRead: z.number(),
    })
    .nullable()
    .catch(null),
});

function parseDetails(text: string | null): z.infer<typeof StoredDetailsSchema> {
  let value: unknown = {};
  try {
    value = text === null ? {} : JSON.parse(text);
  } catch {
    // A damaged row still shows in the history, with defaults.
  }
  return StoredDetailsSchema.parse(typeof value === 'object' && value !== null ? value : {});
}

interface HistoryRow {
  run_id: string;
  entity: string;
  checked_at: string;
  check_name: string;
  severity: string;
  count: number;
  fixed: number;
  details: string | null;
}

/** The newest integrity runs, newest first: at most `runs` of the entity's, or of all entities' when none is given. */
export async function readIntegrityHistory(
  db: D1Database,
  options: { entity?: string; runs: number },
): Promise<{ runs: IntegrityHistoryEntry[]; rowsRead: number }> {
  const r = await db
    .prepare(
      `WITH picked AS (
         SELECT entity, run_id, max(id) AS last_id FROM integrity_results
         WHERE ?1 IS NULL OR entity = ?1 GROUP BY entity, run_id ORDER BY last_id DESC LIMIT ?2)
       SELECT r.run_id, r.entity, r.checked_at, r.check_name, r.severity, r.count, r.fixed, r.details
       FROM picked AS p JOIN integrity_results AS r ON r.entity = p.entity AND r.run_id = p.run_id
       ORDER BY p.last_id DESC, r.id`,
    )
    .bind(options.entity ?? null, Math.max(0, options.runs))
    .all<HistoryRow>();
  const runs: IntegrityHistoryEntry[] = [];
  for (const row of r.results) {
    let entry = runs.at(-1);
    const details = parseDetails(row.details);
    if (entry?.runId !== row.run_id || entry.entity !== row.entity) {
      entry = {
        runId: row.run_id,
        entity: row.entity,
        checkedAt: row.checked_at,
        trigger: details.run.trigger,
        fix: details.run.fix,
        reconciled: details.run.reconciled,
        ok: details.run.ok ?? true,
        problems: 0,
        fixed: 0,
        error: details.run.error,
        counts: null,
        drift: null,
        checks: [],
      };
      runs.push(entry);
    }
    entry.counts ??= details.counts;
    entry.drift ??= details.drift;
    const severity: CheckSeverity = isSeverity(row.severity) ? row.severity : 'error';
    // The 'run' row of a run without checks, or a check this version does not know.
    if (!isCheckName(row.check_name)) {
      if (details.run.ok === null && severity !== 'ok') entry.ok = false;
      continue;
    }
    entry.checks.push({ check: row.check_name, severity, count: row.count, fixed: row.fixed, summary: details.summary });
    entry.fixed += row.fixed;
    if (severity !== 'ok') {
      entry.problems += 1;
      if (details.run.ok === null) entry.ok = false;
    }
  }
  return { runs, rowsRead: rowsRead(r) };
}
