/**
 * D1 access for the sync passes: bulk statements over a JSON parameter (`json_each`), so a
 * page costs one round trip whatever its size. Table and column names come from the
 * registry only.
 */
import { pushes, type EntityDefinition, type Row, columnNames } from '../entities.ts';
import { LeaseLostError } from '../lease/lease.ts';
import type { ApplyResult, Fence, OutboxChange, OutboxPage, PassD1, Tombstone } from './d1-contract.ts';
import { jsonChunks } from './json-chunks.ts';
import { ident } from './sql.ts';

// Upserting an older epoch fires the sync_fence_monotonic trigger, which fails the whole batch.
// The run's own epoch again is not rewritten (D1 bills rows written): one fence write per run.
const FENCE =
  'INSERT INTO sync_fence (entity, epoch) VALUES (?1, ?2) ON CONFLICT (entity) DO UPDATE SET epoch = excluded.epoch WHERE excluded.epoch <> sync_fence.epoch';

/** Runs a batch that starts with the fence; a refused epoch becomes LeaseLostError. */
async function fencedBatch(db: D1Database, fence: Fence, statements: D1PreparedStatement[]): Promise<D1Result[]> {
  try {
    const [, ...results] = await db.batch([db.prepare(FENCE).bind(fence.entity, fence.epoch), ...statements]);
    return results;
  } catch (error) {
    if (error instanceof Error && error.message.includes('sync_fenced')) {
      throw new LeaseLostError(`D1 refused a write of ${fence.entity} from epoch ${fence.epoch}: a newer run has written`, {
        cause: error,
      });
    }
    throw error;
  }
}

const GUARD_ON = 'UPDATE sync_apply_guard SET applying = 1 WHERE id = 1';
const GUARD_OFF = 'UPDATE sync_apply_guard SET applying = 0 WHERE id = 1';

const statements = new WeakMap<EntityDefinition, { upsert: string; conflicts: string; tombstones: string }>();

function pullStatements(entity: EntityDefinition): { upsert: string; conflicts: string; tombstones: string } {
  let s = statements.get(entity);
  if (s) return s;
  const t = ident(entity.table);
  const key = ident(entity.key);
  const ts = ident(entity.cursorColumn);
  const cols = columnNames(entity);
  const colList = cols.map(ident).join(', ');
  const values = cols.map((c) => `j.value ->> '$.${c}'`).join(', ');
  const nonKey = cols.filter((c) => c !== entity.key);
  const updates = nonKey.map((c) => `${ident(c)} = excluded.${ident(c)}`);
  const excludedList = nonKey.map((c) => `excluded.${ident(c)}`).join(', ');
  const currentList = nonKey.map((c) => `${t}.${ident(c)}`).join(', ');
  // A pull-only replica takes Supabase's row whenever it differs: a newer D1 version is drift.
  // A two-way table keeps the newer version (last-write-wins); an identical one (a re-read of
  // the lag window) is never rewritten.
  const guard = pushes(entity)
    ? `WHERE excluded.${ts} > ${t}.${ts} OR (excluded.${ts} = ${t}.${ts} AND (${excludedList}) IS NOT (${currentList}))`
    : `WHERE (${excludedList}) IS NOT (${currentList})`;
  // A two-way row deleted at the edge after the incoming version, with the delete not pushed
  // yet, stays deleted: the push is about to send that delete. (`WHERE …` also resolves
  // SQLite's INSERT … SELECT … ON CONFLICT parsing ambiguity, as `WHERE true` does.)
  const notDeletedLater = pushes(entity)
    ? `NOT EXISTS (SELECT 1 FROM sync_outbox AS o WHERE o.entity = ?2 AND o.row_id = j.value ->> '$.${entity.key}' ` +
      `AND o.op = 'delete' AND o.changed_at >= j.value ->> '$.${entity.cursorColumn}')`
    : 'true';
  s = {
    // Rows whose D1 version is newer than the incoming one: last-write-wins kept D1's. Run
    // right after the upsert, and only when it wrote fewer rows than it was given (changes()):
    // a page written whole has no conflict, and a bulk pull then skips the lookups (a tenth of
    // its time). Over [key, version] pairs, not the rows: parsing the page twice cost as much.
    conflicts:
      `SELECT t.${key} AS id, t.${ts} AS d1_ts, j.value ->> 1 AS supabase_ts ` +
      `FROM json_each(CASE WHEN changes() < ?2 THEN ?1 ELSE '[]' END) AS j JOIN ${t} AS t ON t.${key} = j.value ->> 0 ` +
      `WHERE t.${ts} > j.value ->> 1`,
    // RETURNING lists the rows written (inserted, or updated past the guard), not those skipped:
    // the pull's freshness is the lag of the newest row it actually applied.
    upsert:
      `INSERT INTO ${t} (${colList}) SELECT ${values} FROM json_each(?1) AS j WHERE ${notDeletedLater} ` +
      `ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')} ${guard} RETURNING ${ts} AS ts`,
    // A row re-created or edited after the delete is newer than the tombstone and stays. The
    // tombstones are grouped once and joined by key: a correlated subquery re-read the whole
    // list per deleted row (D1 billed 161,603 rows read for 400 tombstones).
    tombstones:
      `DELETE FROM ${t} WHERE rowid IN (SELECT t.rowid FROM ` +
      `(SELECT j.value ->> '$.id' AS id, max(j.value ->> '$.deletedAt') AS deleted_at FROM json_each(?1) AS j GROUP BY 1) AS g ` +
      `JOIN ${t} AS t ON t.${key} = g.id WHERE t.${ts} <= g.deleted_at)`,
  };
  statements.set(entity, s);
  return s;
}

/**
 * Applies Supabase's rows, then its deletes, to D1 in one fenced batch (one transaction, one
 * round trip), invisible to the outbox triggers. Two-way tables keep a newer D1 version
 * (last-write-wins) and report it as a conflict; pull-only replicas always take Supabase's row.
 * A row written after its delete stays.
 */
export async function applyPulledRows(
  db: D1Database,
  entity: EntityDefinition,
  rows: readonly Row[],
  fence: Fence,
  tombstones: readonly Tombstone[] = [],
): Promise<ApplyResult> {
  if (rows.length === 0 && tombstones.length === 0) return { applied: 0, newestApplied: null, conflicts: [], deleted: 0 };
  const s = pullStatements(entity);
  const lww = pushes(entity);
  // One upsert and one conflicts read per chunk: a page of large rows stays under D1's cap on a bound value.
  const chunks = jsonChunks(rows);
  const versions = (chunk: readonly Row[]): string => JSON.stringify(chunk.map((r) => [r[entity.key], r[entity.cursorColumn]]));
  const perChunk = chunks.flatMap((chunk) =>
    lww
      ? [db.prepare(s.upsert).bind(chunk.json, entity.name), db.prepare(s.conflicts).bind(versions(chunk.rows), chunk.rows.length)]
      : [db.prepare(s.upsert).bind(chunk.json)],
  );
  const del = jsonChunks(tombstones).map((chunk) => db.prepare(s.tombstones).bind(chunk.json));
  const results = await fencedBatch(db, fence, [db.prepare(GUARD_ON), ...perChunk, ...del, db.prepare(GUARD_OFF)]);
  const found: { id: string; d1_ts: string; supabase_ts: string }[] = [];
  let applied = 0;
  let newestApplied: string | null = null;
  let deleted = 0;
  let at = 1; // after the guard
  for (const _chunk of chunks) {
    const upserted = results[at++];
    applied += upserted?.meta.changes ?? 0;
    // Canonical timestamps compare as text.
    for (const r of (upserted?.results ?? []) as { ts: string }[]) if (newestApplied === null || r.ts > newestApplied) newestApplied = r.ts;
    if (lww) found.push(...((results[at++]?.results ?? []) as typeof found));
  }
  for (const _statement of del) deleted += results[at++]?.meta.changes ?? 0;
  return {
    applied,
    newestApplied,
    conflicts: found.map((c) => ({ id: c.id, d1Ts: c.d1_ts, supabaseTs: c.supabase_ts })),
    deleted,
  };
}

/**
 * Applies Supabase's rows as a repair (reconciliation): each row is written only while D1 still
 * holds the version the report saw (`seen`: null = no row), so an edge write made since is never
 * overwritten, whatever the versions say. One fenced batch, invisible to the outbox triggers.
 * Returns the rows written.
 */
export async function applyRepairRows(
  db: D1Database,
  entity: EntityDefinition,
  rows: readonly Row[],
  seen: Readonly<Record<string, string | null>>,
  fence: Fence,
): Promise<number> {
  if (rows.length === 0) return 0;
  const t = ident(entity.table);
  const key = ident(entity.key);
  const cols = columnNames(entity);
  const values = cols.map((c) => `j.value ->> '$.${c}'`).join(', ');
  const updates = cols
    .filter((c) => c !== entity.key)
    .map((c) => `${ident(c)} = excluded.${ident(c)}`)
    .join(', ');
  // Each row carries the version the report saw; the join keeps only rows D1 still holds at that
  // version (IS: no row on both counts), one index lookup per row. A row the report saw and an
  // edge delete removed since, or one written since, is left alone.
  const sql =
    `INSERT INTO ${t} (${cols.map(ident).join(', ')}) SELECT ${values} FROM json_each(?1) AS j ` +
    `LEFT JOIN ${t} AS c ON c.${key} = j.value ->> '$.${entity.key}' ` +
    `WHERE c.${ident(entity.cursorColumn)} IS j.value ->> '$.__seen' ` +
    `ON CONFLICT (${key}) DO UPDATE SET ${updates}`;
  const payload = rows.map((r) => ({ ...r, __seen: seen[String(r[entity.key])] ?? null }));
  const upserts = jsonChunks(payload).map((chunk) => db.prepare(sql).bind(chunk.json));
  const results = await fencedBatch(db, fence, [db.prepare(GUARD_ON), ...upserts, db.prepare(GUARD_OFF)]);
  return results.slice(1, 1 + upserts.length).reduce((n, r) => n + r.meta.changes, 0);
}

/** Applies Supabase's deletes in one fenced batch, invisible to the outbox triggers; a row written after the delete stays. */
export async function applyTombstones(
  db: D1Database,
  entity: EntityDefinition,
  tombstones: readonly Tombstone[],
  fence: Fence,
): Promise<number> {
  return (await applyPulledRows(db, entity, [], fence, tombstones)).deleted;
}

/**
 * Prunes outbox entries already confirmed (seq ≤ confirmedSeq) and reads the next page after
 * it, joined with each row's current state: one D1 round trip.
 */
export async function readOutboxPage(
  db: D1Database,
  entity: EntityDefinition,
  confirmedSeq: number,
  limit: number,
  fence: Fence,
): Promise<OutboxPage> {
  const t = ident(entity.table);
  const key = ident(entity.key);
  const cols = columnNames(entity)
    .map((c) => `t.${ident(c)}`)
    .join(', ');
  const page = `SELECT seq, row_id, changed_at FROM sync_outbox WHERE entity = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`;
  const [, summary, rows] = await fencedBatch(db, fence, [
    db.prepare('DELETE FROM sync_outbox WHERE entity = ?1 AND seq <= ?2').bind(entity.name, confirmedSeq),
    db.prepare(`SELECT max(seq) AS last_seq, count(*) AS entries FROM (${page})`).bind(entity.name, confirmedSeq, limit),
    db
      .prepare(
        `SELECT o.row_id AS __row_id, max(o.changed_at) AS __changed_at, t.${key} AS __present, ${cols} ` +
          `FROM (${page}) AS o LEFT JOIN ${t} AS t ON t.${key} = o.row_id GROUP BY o.row_id ORDER BY max(o.seq)`,
      )
      .bind(entity.name, confirmedSeq, limit),
  ]);
  const head = (summary?.results[0] ?? {}) as { last_seq?: number | null; entries?: number };
  const changes = ((rows?.results ?? []) as Row[]).map((r): OutboxChange => {
    const { __row_id, __changed_at, __present, ...row } = r;
    return { id: String(__row_id), changedAt: String(__changed_at), row: __present === null ? null : row };
  });
  return { lastSeq: head.last_seq ?? null, entries: head.entries ?? 0, changes };
}

/** Changes (outbox entries) not yet pushed, and the change time of the oldest (the first in seq order: an index seek, not a scan). */
export async function outboxBacklog(
  db: D1Database,
  entity: EntityDefinition,
  afterSeq: number,
): Promise<{ pending: number; oldestChangedAt: string | null }> {
  const r = await db
    .prepare(
      `SELECT count(*) AS pending,
         (SELECT changed_at FROM sync_outbox WHERE entity = ?1 AND seq > ?2 ORDER BY seq LIMIT 1) AS oldest
       FROM sync_outbox WHERE entity = ?1 AND seq > ?2`,
    )
    .bind(entity.name, afterSeq)
    .first<{ pending: number; oldest: string | null }>();
  return { pending: r?.pending ?? 0, oldestChangedAt: r?.oldest ?? null };
}

/** Queues every current row of the table for push (recovery: "force resync" of a pushed table). */
export async function enqueueAllRows(db: D1Database, entity: EntityDefinition, fence: Fence): Promise<number> {
  const [r] = await fencedBatch(db, fence, [
    db
      .prepare(`INSERT INTO sync_outbox (entity, row_id, op) SELECT ?1, ${ident(entity.key)}, 'upsert' FROM ${ident(entity.table)}`)
      .bind(entity.name),
  ]);
  return r?.meta.changes ?? 0;
}

/** Deletes rows the way an edge writer does: the outbox records the deletes, so the push sends them. */
export async function deleteRows(db: D1Database, entity: EntityDefinition, ids: readonly string[], fence: Fence): Promise<number> {
  if (ids.length === 0) return 0;
  const [r] = await fencedBatch(db, fence, [
    db
      .prepare(`DELETE FROM ${ident(entity.table)} WHERE ${ident(entity.key)} IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify(ids)),
  ]);
  return r?.meta.changes ?? 0;
}

/** Queues chosen rows for push again (quarantined rows being retried). */
export async function enqueueRows(db: D1Database, entity: EntityDefinition, ids: readonly string[], fence: Fence): Promise<void> {
  if (ids.length === 0) return;
  await fencedBatch(db, fence, [
    db
      .prepare(`INSERT INTO sync_outbox (entity, row_id, op) SELECT ?1, j.value, 'upsert' FROM json_each(?2) AS j`)
      .bind(entity.name, JSON.stringify(ids)),
  ]);
}

/** The passes' D1 over a binding. */
export function createPassD1(db: D1Database): PassD1 {
  return {
    applyPulled: (entity, rows, fence, tombstones) => applyPulledRows(db, entity, rows, fence, tombstones),
    readOutbox: (entity, confirmedSeq, limit, fence) => readOutboxPage(db, entity, confirmedSeq, limit, fence),
  };
}
