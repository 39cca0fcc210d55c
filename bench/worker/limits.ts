/**
 * The local limits of a pull, each measured with no engine around it: what the stand-in can
 * serve by keyset pages alone (`limit, read`), and what D1 can take by bulk statements alone
 * (`limit, apply`). The engine's pull cannot be faster than the slower of the two; issue 10
 * asks for half of it.
 */
import { env } from 'cloudflare:workers';
import { type EntityDefinition, columnNames, type Row } from '../../src/entities.ts';
import { ident } from '../../src/stores/sql.ts';
import { toD1Row } from '../../src/sync/rows.ts';
import type { TimeWindow } from '../lines.ts';
import { clockTick, countingD1, type D1Counts } from './measure.ts';
import { afterCursorFilter } from '../../src/stores/postgrest-filter.ts';
import type { Cursor } from '../../src/types.ts';

/** Supabase's max-rows: the largest page PostgREST serves. */
export const LIMIT_PAGE = 1000;

/** What a limit pass did, in workerd's wall time. */
export interface LimitPass {
  rows: number;
  ms: number;
  window: TimeWindow;
}

interface Source {
  /** The database's base URL on the stand-in (`…/db/<name>`), as supabase-js takes it. */
  url: string;
  serviceRoleKey: string;
}

/**
 * One keyset page as a plain PostgREST GET: the registry's columns, ordered by (cursor column,
 * key), after the cursor by the engine's keyset filter (src/sync/cursor.ts). The engine itself
 * now reads through the sync_pull_page rpc (rows and tombstones in one request); this is the
 * table read alone, the floor under either.
 */
async function readPage(source: Source, entity: EntityDefinition, after: Cursor | null, limit: number): Promise<Row[]> {
  const params = new URLSearchParams({
    select: columnNames(entity).join(','),
    order: `${entity.cursorColumn}.asc,${entity.key}.asc`,
    limit: String(limit),
  });
  if (after) params.set('or', `(${afterCursorFilter(after, entity.cursorColumn, entity.key)})`);
  const res = await fetch(`${source.url}/rest/v1/${entity.table}?${params.toString()}`, {
    headers: { apikey: source.serviceRoleKey, authorization: `Bearer ${source.serviceRoleKey}`, accept: 'application/json' },
  });
  if (!res.ok) throw new Error(`limit read ${entity.table} after ${JSON.stringify(after)}: ${res.status} ${await res.text()}`);
  return await res.json<Row[]>();
}

function cursorOf(entity: EntityDefinition, row: Row | undefined): Cursor | null {
  if (!row) return null;
  return { ts: String(row[entity.cursorColumn]), id: String(row[entity.key]) };
}

/**
 * Reads the whole table by keyset pages and parses each page, keeping nothing but the cursor:
 * the rate the stand-in serves (and workerd parses) pages at.
 */
export async function readAll(source: Source, entity: EntityDefinition, pageSize = LIMIT_PAGE): Promise<LimitPass> {
  let after: Cursor | null = null;
  let rows = 0;
  let ms = 0;
  const start = Date.now();
  for (;;) {
    const t0 = Date.now();
    const page = await readPage(source, entity, after, pageSize);
    ms += Date.now() - t0;
    rows += page.length;
    after = cursorOf(entity, page.at(-1)) ?? after;
    if (page.length < pageSize) break;
  }
  return { rows, ms, window: { start, end: Date.now() } };
}

/** The plain bulk upsert: one statement per page, rows as a JSON parameter (`json_each`). */
function upsertSql(entity: EntityDefinition): string {
  const cols = columnNames(entity);
  const values = cols.map((c) => `j.value ->> '$.${c}'`).join(', ');
  const updates = cols
    .filter((c) => c !== entity.key)
    .map((c) => `${ident(c)} = excluded.${ident(c)}`)
    .join(', ');
  // `WHERE true` resolves SQLite's INSERT … SELECT … ON CONFLICT parsing ambiguity.
  return (
    `INSERT INTO ${ident(entity.table)} (${cols.map(ident).join(', ')}) SELECT ${values} FROM json_each(?1) AS j WHERE true ` +
    `ON CONFLICT (${ident(entity.key)}) DO UPDATE SET ${updates}`
  );
}

/**
 * Applies the table to D1 by bulk statements of `pageSize` rows, with no Supabase in between:
 * each page's payload is read (uncounted: the caller resets the stand-in's stats after),
 * converted and serialised first, and only the D1 statement is timed. The caller switches the
 * outbox triggers off (the engine's apply guard), as the engine's apply does.
 */
export async function applyAll(source: Source, entity: EntityDefinition, counts: D1Counts, pageSize = LIMIT_PAGE): Promise<LimitPass> {
  const db = countingD1(env.DB, counts);
  const sql = upsertSql(entity);
  let rows = 0;
  let ms = 0;
  let first = 0;
  let after: Cursor | null = null;
  for (;;) {
    // Reading page by page keeps memory flat at 1M rows; none of it is timed.
    const page = await readPage(source, entity, after, pageSize);
    after = cursorOf(entity, page.at(-1)) ?? after;
    const replica: Row[] = [];
    for (const raw of page) {
      const checked = toD1Row(entity, raw);
      if (!checked.ok) throw new Error(`limit apply: ${entity.table} row ${checked.id}: ${checked.reason}`);
      replica.push(checked.row);
    }
    const payload = JSON.stringify(replica);
    await clockTick();
    const t0 = Date.now();
    if (first === 0) first = t0;
    if (replica.length > 0) await db.prepare(sql).bind(payload).run();
    ms += Date.now() - t0;
    rows += replica.length;
    if (page.length < pageSize) break;
  }
  return { rows, ms, window: { start: first, end: Date.now() } };
}
