/**
 * Supabase access for the sync passes, through supabase-js (PostgREST). Every call is one
 * HTTP request with a timeout; retries belong to the coordinator's alarm loop, so
 * supabase-js' own retries are off. Failures become SupabaseError with a kind the passes
 * act on.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { EntityDefinition } from '../entities.ts';
import { afterCursorFilter, type Cursor } from '../sync/cursor.ts';
import type { Row } from '../sync/rows.ts';
import { columnNames } from '../sync/rows.ts';
import { parseRetryAfter } from '../sync/schedule.ts';

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

  constructor(operation: string, status: number, error: { message?: string; code?: string; details?: string | null; hint?: string | null }, retryAfterMs?: number) {
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

/** Supabase operations the passes need. */
export interface SupabaseStore {
  readPage(entity: EntityDefinition, after: Cursor | null, limit: number): Promise<Row[]>;
  readTombstones(entity: EntityDefinition, after: Cursor | null, limit: number): Promise<TombstoneRow[]>;
  readVersions(entity: EntityDefinition, ids: readonly string[]): Promise<Map<string, string>>;
  upsert(entity: EntityDefinition, rows: readonly Row[]): Promise<void>;
  delete(entity: EntityDefinition, ids: readonly string[]): Promise<void>;
}

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
  const client: SupabaseClient = createClient(options.url, options.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: trackingFetch },
    db: { retry: false },
  });
  const timeout = (): AbortSignal => AbortSignal.timeout(options.requestTimeoutMs);

  async function run<T>(operation: string, request: PromiseLike<{ data: unknown; error: { message?: string; code?: string; details?: string | null; hint?: string | null } | null; status: number }>): Promise<T> {
    lastRetryAfter = null;
    const { data, error, status } = await request;
    if (error) throw new SupabaseError(operation, status, error, parseRetryAfter(lastRetryAfter, Date.now()));
    return data as T;
  }

  return {
    async readPage(entity, after, limit) {
      let query = client
        .from(entity.table)
        .select(columnNames(entity).join(','))
        .order(entity.cursorColumn, { ascending: true })
        .order(entity.key, { ascending: true })
        .limit(limit);
      if (after) query = query.or(afterCursorFilter(after, entity.cursorColumn, entity.key));
      return (await run<Row[] | null>(`read ${entity.table} page`, query.abortSignal(timeout()))) ?? [];
    },

    async readTombstones(entity, after, limit) {
      let query = client
        .from('sync_tombstones')
        .select('id,row_id,deleted_at')
        .eq('table_name', entity.table)
        .order('deleted_at', { ascending: true })
        .order('id', { ascending: true })
        .limit(limit);
      if (after) query = query.or(afterCursorFilter(after, 'deleted_at', 'id'));
      return (await run<TombstoneRow[] | null>(`read ${entity.table} tombstones`, query.abortSignal(timeout()))) ?? [];
    },

    async readVersions(entity, ids) {
      const versions = new Map<string, string>();
      if (ids.length === 0) return versions;
      const query = client
        .from(entity.table)
        .select(`${entity.key},${entity.cursorColumn}`)
        .in(entity.key, [...ids])
        .abortSignal(timeout());
      const rows = (await run<Row[] | null>(`read ${entity.table} versions`, query)) ?? [];
      for (const row of rows) versions.set(String(row[entity.key]), String(row[entity.cursorColumn]));
      return versions;
    },

    async upsert(entity, rows) {
      if (rows.length === 0) return;
      const query = client
        .from(entity.table)
        .upsert([...rows], { onConflict: entity.key, ignoreDuplicates: false })
        .abortSignal(timeout());
      await run(`upsert ${entity.table}`, query);
    },

    async delete(entity, ids) {
      if (ids.length === 0) return;
      const query = client.from(entity.table).delete().in(entity.key, [...ids]).abortSignal(timeout());
      await run(`delete ${entity.table}`, query);
    },
  };
}
