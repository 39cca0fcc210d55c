/**
 * The reads reconciliation needs on both sides. Supabase: three rpc functions
 * (supabase/migrations/20261129000300_reconcile.sql), each one request whose size does not
 * grow in its URL. D1: plain SELECTs of the registry's columns by key range, every statement
 * reporting the rows it read (D1 bills them). Table and column names come from the registry only.
 */
import { createClient } from '@supabase/supabase-js';
import { z } from 'zod';
import { type EntityDefinition, type Row, columnNames } from '../entities.ts';
import { parseDigest, prefixRange, type Digest, type KeyRange } from '../integrity/digest.ts';
import type { RowVersion } from '../integrity/drift.ts';
import { ident } from './sql.ts';
import { SupabaseError } from './supabase.ts';
import { parseRetryAfter } from './retry-after.ts';

/** Keys per sync_read_rows request (the function takes at most 10,000). */
const READ_CHUNK = 1000;

/** Supabase's digests of a table's buckets. */
export interface SupabaseDigests {
  total: number;
  buckets: Map<string, Digest>;
}

/** The Supabase reads of reconciliation; `requests()` counts the HTTP requests made so far. */
export interface ReconcileSupabase {
  requests(): number;
  /** The table's row count (one HEAD request, count=exact). */
  count(entity: EntityDefinition): Promise<number>;
  /** Digests of every bucket of `prefixLength` key characters (under `prefixes` when given). */
  rangeDigests(entity: EntityDefinition, prefixLength: number, prefixes: readonly string[] | null): Promise<SupabaseDigests>;
  /** (key, version, hash) of every row under the prefixes. */
  rangeRows(entity: EntityDefinition, prefixes: readonly string[]): Promise<RowVersion[]>;
  /** The registry's columns of the rows with these keys, as PostgREST returns rows. */
  readRows(entity: EntityDefinition, ids: readonly string[]): Promise<Row[]>;
}

const DigestsSchema = z.object({
  total: z.number(),
  buckets: z.array(z.tuple([z.string(), z.number(), z.string().regex(/^\d+$/)])),
});
const RowVersionsSchema = z.array(z.tuple([z.string(), z.string().nullable(), z.string().regex(/^[0-9a-f]{16}$/)]));
const RowsSchema = z.array(z.record(z.string(), z.unknown()));

/** The registry's columns as the rpc functions take them: [{name, type}] in registry order. */
export function registryColumns(entity: EntityDefinition): { name: string; type: string }[] {
  return Object.entries(entity.columns).map(([name, spec]) => ({ name, type: spec.type }));
}

interface StoreOptions {
  url: string;
  serviceRoleKey: string;
  requestTimeoutMs: number;
}

type RpcResponse = PromiseLike<{
  data: unknown;
  error: { message?: string; code?: string; details?: string | null; hint?: string | null } | null;
  status: number;
}>;

/** Creates the supabase-js backed reads (supabase-js' own retries off, like the sync store's). */
export function createReconcileSupabase(options: StoreOptions): ReconcileSupabase {
  let lastRetryAfter: string | null = null;
  let requests = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    requests += 1;
    const response = await fetch(input, init);
    lastRetryAfter = response.headers.get('retry-after');
    return response;
  };
  const client = createClient(options.url, options.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: countingFetch },
    db: { retry: false },
  });

  async function rpc<T>(operation: string, fn: string, args: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    lastRetryAfter = null;
    const { data, error, status } = await (client.rpc(fn, args).abortSignal(AbortSignal.timeout(options.requestTimeoutMs)) as RpcResponse);
    if (error) throw new SupabaseError(operation, status, error, parseRetryAfter(lastRetryAfter, Date.now()));
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new SupabaseError(operation, 200, { message: `${fn} answered an unexpected shape`, hint: 'apply supabase/migrations' });
    }
    return parsed.data;
  }

  return {
    requests: () => requests,

    async count(entity) {
      lastRetryAfter = null;
      const { count, error, status } = await client
        .from(entity.table)
        .select(entity.key, { count: 'exact', head: true })
        .abortSignal(AbortSignal.timeout(options.requestTimeoutMs));
      if (error) throw new SupabaseError(`count ${entity.table}`, status, error, parseRetryAfter(lastRetryAfter, Date.now()));
      if (typeof count !== 'number')
        throw new SupabaseError(`count ${entity.table}`, status, { message: 'no count in the answer (Content-Range)' });
      return count;
    },

    async rangeDigests(entity, prefixLength, prefixes) {
      const r = await rpc(
        `digest ${entity.table} ranges`,
        'sync_range_digests',
        {
          p_table: entity.table,
          p_columns: registryColumns(entity),
          p_prefix_len: prefixLength,
          p_prefixes: prefixes,
        },
        DigestsSchema,
      );
      return { total: r.total, buckets: new Map(r.buckets.map(([p, n, s]) => [p, parseDigest(n, s)])) };
    },

    async rangeRows(entity, prefixes) {
      const r = await rpc(
        `read ${entity.table} row hashes`,
        'sync_range_rows',
        {
          p_table: entity.table,
          p_columns: registryColumns(entity),
          p_version: entity.cursorColumn,
          p_prefixes: prefixes,
        },
        RowVersionsSchema,
      );
      return r.map(([id, version, hash]) => ({ id, version, hash }));
    },

    async readRows(entity, ids) {
      const rows: Row[] = [];
      for (let i = 0; i < ids.length; i += READ_CHUNK) {
        rows.push(
          ...(await rpc(
            `read ${entity.table} rows by key`,
            'sync_read_rows',
            {
              p_table: entity.table,
              p_columns: registryColumns(entity),
              p_keys: ids.slice(i, i + READ_CHUNK),
            },
            RowsSchema,
          )),
        );
      }
      return rows;
    },
  };
}

/** Rows read from D1 and what D1 counted for them. */
export interface D1Read {
  rows: Row[];
  /** D1's rows_read (the billed measure; the row count where D1 does not report it). */
  rowsRead: number;
}

/** D1's rows_read of a statement (the billed measure), or its row count where D1 does not report it. */
export function rowsRead(result: D1Result): number {
  const billed = (result.meta as { rows_read?: number } | undefined)?.rows_read;
  return typeof billed === 'number' ? billed : result.results.length;
}

function read(result: D1Result<Row>): D1Read {
  return { rows: result.results, rowsRead: rowsRead(result) };
}

/** The registry's columns of the D1 rows whose key is in [range.from, range.to). */
export async function readD1Range(db: D1Database, entity: EntityDefinition, range: KeyRange): Promise<D1Read> {
  const key = ident(entity.key);
  const cols = columnNames(entity).map(ident).join(', ');
  const where: string[] = [];
  const params: string[] = [];
  if (range.from !== null) where.push(`${key} >= ?${params.push(range.from)}`);
  if (range.to !== null) where.push(`${key} < ?${params.push(range.to)}`);
  const sql = `SELECT ${cols} FROM ${ident(entity.table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return read(
    await db
      .prepare(sql)
      .bind(...params)
      .all<Row>(),
  );
}

/**
 * The registry's columns of the D1 rows under the prefixes, in one statement: a primary-key
 * range per prefix (CROSS JOIN keeps the ranges the outer loop, so each is an index seek).
 */
export async function readD1Prefixes(db: D1Database, entity: EntityDefinition, prefixes: readonly string[]): Promise<D1Read> {
  if (prefixes.length === 0) return { rows: [], rowsRead: 0 };
  const key = ident(entity.key);
  const cols = columnNames(entity)
    .map((c) => `t.${ident(c)}`)
    .join(', ');
  const ranges = prefixes.map((p) => {
    const r = prefixRange(p);
    return [r.from, r.to];
  });
  const sql =
    `SELECT ${cols} FROM json_each(?1) AS r CROSS JOIN ${ident(entity.table)} AS t ` +
    `ON t.${key} >= r.value ->> '$[0]' AND t.${key} < r.value ->> '$[1]'`;
  return read(await db.prepare(sql).bind(JSON.stringify(ranges)).all<Row>());
}

/** Which of `ids` have outbox entries after the push cursor `afterSeq` (changes the push still owns). */
export async function pendingOutboxIds(
  db: D1Database,
  entity: EntityDefinition,
  afterSeq: number,
  ids: readonly string[],
): Promise<{ ids: Set<string>; rowsRead: number }> {
  if (ids.length === 0) return { ids: new Set(), rowsRead: 0 };
  const r = await db
    .prepare('SELECT DISTINCT row_id FROM sync_outbox WHERE entity = ?1 AND seq > ?2 AND row_id IN (SELECT value FROM json_each(?3))')
    .bind(entity.name, afterSeq, JSON.stringify(ids))
    .all<{ row_id: string }>();
  return { ids: new Set(r.results.map((x) => x.row_id)), rowsRead: rowsRead(r) };
}
