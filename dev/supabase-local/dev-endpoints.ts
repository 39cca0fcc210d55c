// The /_dev control endpoints of one database: SQL, faults and request stats.

import type { DatabaseEntry, Param } from './databases.ts';
import { ApiError, invalidBody, toApiError } from './errors.ts';
import { parseFaultConfig } from './faults.ts';
import { firstKeyword, splitStatements } from './sql-split.ts';

/** Status and JSON body of a /_dev answer. */
export interface DevResponse {
  status: number;
  body: string;
}

function json(status: number, value: unknown): DevResponse {
  return { status, body: JSON.stringify(value) };
}

function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw invalidBody('Empty or invalid json');
  }
}

function toParam(v: unknown): Param {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

const WRAPPABLE = new Set(['select', 'values', 'table', 'with']);
const DML = new Set(['insert', 'update', 'delete', 'merge']);

/** Codes Postgres raises while *analysing* the wrapped statement (nothing ran yet), meaning "cannot be wrapped". */
const NOT_WRAPPABLE_CODES = new Set(['0A000', '42601', '42P10']);

/**
 * Runs a script; the rows of its last statement come back as JSON produced by Postgres
 * (json_agg), so timestamps etc. are formatted exactly like PostgREST formats them.
 */
export async function runDevSql(entry: DatabaseEntry, body: string): Promise<DevResponse> {
  const parsed = parseJsonBody(body);
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { sql?: unknown }).sql !== 'string') {
    throw invalidBody('Expected a JSON object { "sql": "...", "params": [...] }');
  }
  const { sql, params: rawParams } = parsed as { sql: string; params?: unknown };
  if (rawParams !== undefined && !Array.isArray(rawParams)) throw invalidBody('"params" must be an array');
  const params = (rawParams ?? []).map(toParam);
  const statements = splitStatements(sql);
  if (params.length > 0 && statements.length > 1) throw invalidBody('"params" can only be used with a single statement');
  const db = entry.db;
  try {
    const last = statements.pop();
    if (last === undefined) return { status: 200, body: '{"rows":[]}' };
    if (statements.length > 0) await db.exec(statements.join(';\n'));
    const keyword = firstKeyword(last);
    if (WRAPPABLE.has(keyword) || (DML.has(keyword) && /\breturning\b/i.test(last))) {
      const wrapped = `WITH _dev_result AS (${last}\n) SELECT coalesce(json_agg(_dev_result), '[]')::text AS rows FROM _dev_result`;
      try {
        const rows = await db.query(wrapped, params);
        const json = rows[0]?.['rows'];
        return { status: 200, body: `{"rows":${typeof json === 'string' ? json : '[]'}}` };
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string' || !NOT_WRAPPABLE_CODES.has(code)) throw e;
      }
    }
    if (params.length > 0) await db.query(last, params);
    else await db.exec(last);
    return { status: 200, body: '{"rows":[]}' };
  } finally {
    entry.invalidateCatalog();
  }
}

/** Serves one /_dev request (sql, faults, stats) of a database. */
export async function handleDev(entry: DatabaseEntry, method: string, path: string, body: string): Promise<DevResponse> {
  try {
    if (path === '/_dev/sql' && method === 'POST') return await runDevSql(entry, body);
    if (path === '/_dev/faults') {
      if (method === 'GET') return json(200, entry.faults.describe());
      if (method === 'PUT' || method === 'POST') {
        entry.faults.set(parseFaultConfig(parseJsonBody(body)));
        return json(200, entry.faults.describe());
      }
      if (method === 'DELETE') {
        entry.faults.clear();
        return json(200, entry.faults.describe());
      }
    }
    if (path === '/_dev/stats' && method === 'GET') return json(200, entry.stats.snapshot());
    if ((path === '/_dev/stats/reset' && method === 'POST') || (path === '/_dev/stats' && method === 'DELETE')) {
      entry.stats.reset();
      return json(200, entry.stats.snapshot());
    }
    throw new ApiError(404, 'DEV404', `No dev endpoint ${method} ${path}`);
  } catch (e) {
    const err = toApiError(e);
    return json(err.status, err.body());
  }
}
