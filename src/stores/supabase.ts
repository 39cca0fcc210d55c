/**
 * Supabase access for the sync passes, through supabase-js (PostgREST). Every call is one
 * HTTP request with a timeout; retries belong to the coordinator's alarm loop, so
 * supabase-js' own retries are off. Failures become SupabaseError with a kind the passes
 * act on.
 */
import { createClient } from '@supabase/supabase-js';
import { z } from 'zod';
import { type EntityDefinition, type Row, columnNames } from '../entities.ts';
import { LeaseLostError } from '../lease/lease.ts';
import type { Cursor } from '../types.ts';
import { parseRetryAfter } from './retry-after.ts';

/**
 * transient: worth retrying later (network, timeout, 5xx, 429);
 * rejected: Supabase refused the data itself (constraint, bad value): isolate the rows;
 * fatal: configuration or schema problem (auth, unknown table or column): an operator must act.
 */
export type SupabaseErrorKind = 'transient' | 'rejected' | 'fatal';

/** A failed Supabase request, with PostgREST's error fields and what to do about it. */
export class SupabaseError extends Error {
  readonly kind: SupabaseErrorKind;
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;

  constructor(
    operation: string,
    status: number,
    error: { message?: string; code?: string; details?: string | null; hint?: string | null },
    retryAfterMs?: number,
  ) {
    const code = error.code ?? '';
    // Network failures put a stack trace in details: keep only its first line.
    const details = error.details?.split('\n')[0];
    const parts = [error.message ?? 'request failed', details === error.message ? undefined : details, error.hint].filter((p) => p);
    super(`${operation}: ${status || 'no response'}${code ? ` ${code}` : ''}: ${parts.join(' — ')}`.slice(0, 1000));
    this.name = 'SupabaseError';
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.kind = classify(status, code);
  }
}

function classify(status: number, code: string): SupabaseErrorKind {
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'transient';
  // Postgres classes 22 (data exception) and 23 (integrity constraint violation).
  if (/^2[23]/.test(code)) return 'rejected';
  return 'fatal';
}

/** A raw tombstone row from sync_tombstones. */
export interface TombstoneRow {
  id: number | string;
  row_id: string;
  deleted_at: string;
}

/** One change of a push page: the edge version of a row (ts = its updated_at) or its delete (ts = when). */
export type PushChange = { op: 'upsert'; id: string; ts: string; row: Row } | { op: 'delete'; id: string; ts: string };

const PushApplyResultSchema = z.object({
  written: z.number(),
  deleted: z.number(),
  unchanged: z.number(),
  /** Rows whose versions disagreed, and which side's version won. */
  conflicts: z.array(
    z.object({
      id: z.string(),
      op: z.enum(['upsert', 'delete']),
      winner: z.enum(['supabase', 'd1']),
      supabase_ts: z.string().nullable(),
      supabase_deleted: z.boolean(),
      d1_ts: z.string(),
    }),
  ),
  /** Where Supabase's version won: its current row, or its deletion, for D1 to take. */
  winners: z.array(z.object({ id: z.string(), row: z.record(z.string(), z.unknown()).nullable(), deleted_at: z.string().nullable() })),
  /** Changes Postgres refused (a data or constraint error), with its error. */
  rejected: z.array(z.object({ id: z.string().nullable(), code: z.string(), message: z.string() })),
});

/** What sync_apply_push did with a page. */
export type PushApplyResult = z.infer<typeof PushApplyResultSchema>;

/**
 * What one pull read asks for: the rows after a keyset position (omitted once the cycle's rows
 * are read) and the tombstones after theirs (omitted for tables without deletes to pull).
 */
export interface PullRead {
  rows?: { after: Cursor | null };
  tombstones?: { after: Cursor | null };
  limit: number;
}

/** One pull read's answer; `tombstones` is null when they were not read (more rows come first). */
export interface PullPage {
  rows: Row[];
  tombstones: TombstoneRow[] | null;
}

/**
 * The shape of sync_pull_page's answer. Rows are only checked to be objects here: each is
 * checked against the registry by the pass (a per-row schema here cost as much as that check).
 */
function isPullPage(data: unknown): data is PullPage {
  if (typeof data !== 'object' || data === null) return false;
  const { rows, tombstones } = data as Record<string, unknown>;
  if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return false;
  if (tombstones === null) return true;
  return (
    Array.isArray(tombstones) &&
    tombstones.every((t: unknown) => {
      const o = t as Record<string, unknown> | null;
      return (
        typeof o === 'object' &&
        o !== null &&
        (typeof o['id'] === 'number' || typeof o['id'] === 'string') &&
        typeof o['row_id'] === 'string' &&
        typeof o['deleted_at'] === 'string'
      );
    })
  );
}

/** Supabase operations the passes need. */
export interface SupabaseStore {
  /**
   * Reads a page of rows and, once they reach their end within it, a page of tombstones, in
   * one request (supabase/migrations: sync_pull_page).
   */
  readPull(entity: EntityDefinition, read: PullRead): Promise<PullPage>;
  /**
   * Applies a push page in one request and one Postgres transaction (supabase/migrations:
   * sync_apply_push): decision and write together, fenced by the lease epoch.
   */
  applyPush(entity: EntityDefinition, epoch: number, changes: readonly PushChange[]): Promise<PushApplyResult>;
}

/** The SQLSTATE sync_apply_push raises for an epoch older than one that already wrote. */
const FENCED_CODE = 'PT409';

interface StoreOptions {
  url: string;
  serviceRoleKey: string;
  requestTimeoutMs: number;
}

/** Creates the supabase-js backed store. */
export function createSupabaseStore(options: StoreOptions): SupabaseStore {
  // Remembers the Retry-After of the latest response: supabase-js does not expose headers.
  let lastRetryAfter: string | null = null;
  const trackingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    lastRetryAfter = response.headers.get('retry-after');
    return response;
  };
  const client = createClient(options.url, options.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: trackingFetch },
    db: { retry: false },
  });
  const timeout = (): AbortSignal => AbortSignal.timeout(options.requestTimeoutMs);

  async function run<T>(
    operation: string,
    request: PromiseLike<{
      data: unknown;
      error: { message?: string; code?: string; details?: string | null; hint?: string | null } | null;
      status: number;
    }>,
  ): Promise<T> {
    lastRetryAfter = null;
    const { data, error, status } = await request;
    if (error?.code === FENCED_CODE) {
      throw new LeaseLostError(`Supabase refused ${operation}: ${error.message ?? 'fenced'}`);
    }
    if (error) throw new SupabaseError(operation, status, error, parseRetryAfter(lastRetryAfter, Date.now()));
    return data as T;
  }

  return {
    async readPull(entity, read) {
      const operation = `read ${entity.table} page`;
      const rows = read.rows?.after ?? null;
      const tombstones = read.tombstones?.after ?? null;
      const query = client
        .rpc('sync_pull_page', {
          p_table: entity.table,
          p_columns: columnNames(entity),
          p_rows: read.rows !== undefined,
          p_after_ts: rows?.ts ?? null,
          p_after_key: rows?.id ?? null,
          p_tombstones: read.tombstones !== undefined,
          p_tombstones_after_ts: tombstones?.ts ?? null,
          p_tombstones_after_id: tombstones?.id ?? null,
          p_limit: read.limit,
        })
        .abortSignal(timeout());
      const page = await run<unknown>(operation, query);
      if (!isPullPage(page)) {
        throw new SupabaseError(operation, 200, {
          message: 'sync_pull_page answered an unexpected shape',
          hint: 'apply supabase/migrations',
        });
      }
      return page;
    },

    async applyPush(entity, epoch, changes) {
      const operation = `push ${entity.table} page`;
      const query = client
        .rpc('sync_apply_push', { p_table: entity.table, p_epoch: epoch, p_policy: entity.conflictPolicy, p_changes: changes })
        .abortSignal(timeout());
      const parsed = PushApplyResultSchema.safeParse(await run<unknown>(operation, query));
      if (!parsed.success) {
        throw new SupabaseError(operation, 200, {
          message: 'sync_apply_push answered an unexpected shape',
          hint: 'apply supabase/migrations',
        });
      }
      return parsed.data;
    },
  };
}
