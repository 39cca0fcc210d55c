// Executes one /rest/v1 request against a database: tables (GET/HEAD/POST/PATCH/DELETE) and
// rpc (POST/GET/HEAD). Returns status, headers and body; the HTTP wiring lives in server.ts.

import type { Catalog, FunctionInfo, TableInfo } from './catalog.ts';
import { resolveFunction } from './catalog.ts';
import type { DatabaseEntry, Queryer, Row } from './databases.ts';
import { ApiError, functionNotFound, invalidBody, singularityError, tableNotFound } from './errors.ts';
import { parseQuery, type ParsedQuery } from './query-parse.ts';
import {
  checkProfile,
  checkStrictPreferences,
  effectiveRange,
  parseAccept,
  parsePrefer,
  parseRangeHeader,
  preferenceApplied,
  rollsBack,
  type AcceptInfo,
  type AppliedPreference,
  type Preferences,
  type TxEnd,
} from './request-headers.ts';
import { buildDelete, buildInsert, buildRead, buildRpc, buildUpdate, type SqlQuery } from './sql-build.ts';

/** A /rest/v1 request as rest.ts needs it (decoupled from node:http). */
export interface RestRequest {
  method: string;
  /** What follows /rest/v1/, e.g. `prospects` or `rpc/my_fn`. */
  resource: string;
  search: URLSearchParams;
  header(name: string): string | undefined;
  prefer: string[];
  body: string;
}

/** The answer to a /rest/v1 request. */
export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const OBJECT_TYPE = 'application/vnd.pgrst.object+json; charset=utf-8';

/** Thrown out of a transaction to roll it back while still answering (`tx=rollback`, `db-tx-end=rollback`). */
class RolledBack extends Error {
  readonly response: RestResponse;
  constructor(response: RestResponse) {
    super('rolled back');
    this.response = response;
  }
}

interface PageRow {
  total: number | null;
  count: number;
  body: string;
  first: string | null;
  inserted: number | null;
}

function pageRow(rows: Row[]): PageRow {
  const r = rows[0] ?? {};
  const total = r['total'];
  const first = r['first'];
  const inserted = r['inserted'];
  return {
    total: typeof total === 'string' ? Number(total) : null,
    count: Number(r['page_count'] ?? 0),
    body: typeof r['body'] === 'string' ? r['body'] : '[]',
    first: typeof first === 'string' ? first : null,
    inserted: typeof inserted === 'string' ? Number(inserted) : null,
  };
}

const EMPTY_PAGE: PageRow = { total: null, count: 0, body: '[]', first: null, inserted: 0 };

async function run(db: Queryer, q: SqlQuery): Promise<Row[]> {
  return db.query(q.text, q.params);
}

async function findTable(entry: DatabaseEntry, db: Queryer, name: string): Promise<TableInfo> {
  let table = (await entry.catalog(db)).tables.get(name);
  if (table === undefined) {
    entry.invalidateCatalog(); // maybe created since the schema cache was loaded
    table = (await entry.catalog(db)).tables.get(name);
  }
  if (table === undefined) throw tableNotFound(name);
  return table;
}

async function freshCatalogIf(entry: DatabaseEntry, db: Queryer, test: (c: Catalog) => boolean): Promise<Catalog> {
  const c = await entry.catalog(db);
  if (test(c)) return c;
  entry.invalidateCatalog();
  return entry.catalog(db);
}

/** PostgREST's Content-Range value: `lower-upper/total`, `*` for an empty range or a zero total, `*` for an unknown total. */
function contentRange(lower: number, upper: number, total: number | null): string {
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total ?? '*'}`;
}

/** Content-Range and status for a read, as PostgREST computes them. */
function rangeResponse(offset: number, count: number, total: number | null): { status: number; contentRange: string } {
  const lower = offset;
  const upper = offset + count - 1;
  if (total !== null && lower > total) {
    throw new ApiError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `An offset of ${offset} was requested, but there are only ${total} rows.`,
    );
  }
  const status = total !== null && 1 + upper - lower < total ? 206 : 200;
  return { status, contentRange: contentRange(lower, upper, total) };
}

function prefHeaders(prefs: Preferences, which: readonly AppliedPreference[]): Record<string, string> {
  const value = preferenceApplied(prefs, which);
  return value === null ? {} : { 'Preference-Applied': value };
}

// Which preferences each kind of response reports as applied (PostgREST v12's Response.hs).
const READ_PREFS: AppliedPreference[] = ['count', 'tx', 'handling'];
const INSERT_PREFS: AppliedPreference[] = ['resolution', 'missing', 'return', 'count', 'tx', 'handling'];
const UPDATE_PREFS: AppliedPreference[] = ['missing', 'return', 'count', 'tx', 'handling'];
const DELETE_PREFS: AppliedPreference[] = ['return', 'count', 'tx', 'handling'];
const RPC_PREFS: AppliedPreference[] = ['params', 'count', 'tx', 'handling'];

function pageBody(page: PageRow, accept: AcceptInfo): { body: string; contentType: string } {
  if (accept.shape === 'object') {
    if (page.count !== 1) throw singularityError(page.count);
    return { body: page.first ?? 'null', contentType: OBJECT_TYPE };
  }
  return { body: page.body, contentType: JSON_TYPE };
}

function parseJsonPayload(body: string): unknown {
  if (body.trim() === '') throw invalidBody('Empty or invalid json');
  try {
    return JSON.parse(body);
  } catch {
    throw invalidBody('Empty or invalid json');
  }
}

function checkContentType(req: RestRequest): void {
  const ct = req.header('content-type');
  if (ct === undefined || ct === '') return;
  const type = (ct.split(';')[0] ?? '').trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/vnd.pgrst.object+json' && type !== 'application/vnd.pgrst.object') {
    throw new ApiError(415, 'PGRST107', `Content-Type not acceptable: ${ct}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a request needs from the server: its database and the server's PostgREST settings. */
export interface RestContext {
  entry: DatabaseEntry;
  maxRows: number;
  /** PostgREST's `db-tx-end` (Supabase: `commit`, so `Prefer: tx=rollback` is ignored). */
  txEnd: TxEnd;
  /** PostgREST's `db-aggregates-enabled` (off by default, as on Supabase). */
  aggregatesEnabled: boolean;
}

/** One request's handler, running on `db` (a transaction for writes and rolled-back requests). */
type Handler = (ctx: RestContext, req: RestRequest, db: Queryer, prefs: Preferences) => Promise<RestResponse>;

/** Serves one `/rest/v1/<resource>` request. Errors are thrown as ApiError (server.ts renders them). */
export async function handleRest(ctx: RestContext, req: RestRequest): Promise<RestResponse> {
  const { resource } = req;
  if (resource === '') throw new ApiError(404, 'PGRST205', 'The OpenAPI root is not served by the local Supabase stand-in');
  const prefs = parsePrefer(req.prefer, ctx.txEnd);
  checkStrictPreferences(prefs);
  let handler: Handler;
  let name = resource;
  const method = req.method;
  if (resource.startsWith('rpc/')) {
    handler = handleRpc;
    name = resource.slice(4);
  } else if (resource.includes('/')) throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL`);
  else if (method === 'GET' || method === 'HEAD') handler = handleRead;
  else if (method === 'POST') handler = handleInsert;
  else if (method === 'PATCH') handler = handleUpdate;
  else if (method === 'DELETE') handler = handleDelete;
  else throw new ApiError(405, 'PGRST105', `Method ${method} is not supported by the local Supabase stand-in`);
  const named: RestRequest = { ...req, resource: name };
  const rollback = rollsBack(prefs, ctx.txEnd);
  // Reads run as single statements; writes and rpc calls run in a transaction, so a failed
  // singular check (406) or a rollback preference undoes them, as in PostgREST.
  if (!rollback && handler === handleRead) return handler(ctx, named, ctx.entry.db, prefs);
  try {
    return await ctx.entry.db.transaction(async (tx) => {
      const response = await handler(ctx, named, tx, prefs);
      if (rollback) throw new RolledBack(response);
      return response;
    });
  } catch (e) {
    if (e instanceof RolledBack) return e.response;
    throw e;
  }
}

async function handleRead(ctx: RestContext, req: RestRequest, db: Queryer, prefs: Preferences): Promise<RestResponse> {
  const name = req.resource;
  checkProfile(req.header('accept-profile'));
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  const range = effectiveRange(parseRangeHeader(req.header('range')), q.limit, q.offset, ctx.maxRows);
  const table = await findTable(ctx.entry, db, name);
  const sql = buildRead(await ctx.entry.catalog(db), table, {
    embedded: q.embedded,
    aggregatesEnabled: ctx.aggregatesEnabled,
    select: q.select,
    filters: q.filters,
    order: q.order,
    offset: range.offset,
    limit: range.limit,
    count: prefs.count !== null,
    stripNulls: accept.stripNulls,
  });
  const page = pageRow(await run(db, sql));
  const ranged = rangeResponse(range.offset, page.count, page.total);
  const { body, contentType } = pageBody(page, accept);
  return {
    status: accept.shape === 'object' ? 200 : ranged.status,
    headers: {
      'Content-Type': contentType,
      'Content-Range': ranged.contentRange,
      'Range-Unit': 'items',
      ...prefHeaders(prefs, READ_PREFS),
    },
    body: req.method === 'HEAD' ? '' : body,
  };
}

type MutationKind = 'insert' | 'update' | 'delete';

/**
 * Status, Content-Range and body of a write, as PostgREST v12 answers them: inserts 201 (an
 * upsert with merge-duplicates that inserted no row: 200) with `*` + `/total`; PATCH
 * `0-(n-1)/total`; DELETE `*` + `/total`; 204 for PATCH/DELETE without a representation. The
 * total is the number of affected rows, given only with `Prefer: count=`.
 */
function mutationResponse(
  kind: MutationKind,
  page: PageRow,
  prefs: Preferences,
  accept: AcceptInfo,
  which: readonly AppliedPreference[],
): RestResponse {
  const n = page.count;
  const total = prefs.count !== null ? n : null;
  const range = kind === 'update' ? contentRange(0, n - 1, total) : contentRange(1, 0, total);
  const headers: Record<string, string> = { 'Content-Range': range, ...prefHeaders(prefs, which) };
  let status = kind === 'insert' ? 201 : 204;
  if (kind === 'insert' && prefs.resolution === 'merge-duplicates' && (page.inserted ?? 0) <= 0) status = 200;
  if (prefs.return === 'representation') {
    const { body, contentType } = pageBody(page, accept);
    headers['Content-Type'] = contentType;
    return { status: kind === 'insert' ? status : 200, headers, body };
  }
  return { status, headers, body: '' };
}

/** Runs a mutation; a singular (object) request that does not affect exactly one row fails with 406 (and its transaction rolls back). */
async function runMutation(db: Queryer, sql: SqlQuery, prefs: Preferences, accept: AcceptInfo): Promise<PageRow> {
  const page = pageRow(await run(db, sql));
  if (accept.shape === 'object' && prefs.return === 'representation' && page.count !== 1) throw singularityError(page.count);
  return page;
}

/** The columns a payload writes: `columns=` when given, else the keys (which must match across an array, like PostgREST). */
function payloadColumns(payload: unknown, q: ParsedQuery): string[] {
  if (q.columns !== null) return [...new Set(q.columns)];
  const objects: unknown[] = Array.isArray(payload) ? payload : [payload];
  const first = objects[0];
  if (!isPlainObject(first)) return [];
  const keys = Object.keys(first);
  const keySet = new Set(keys);
  for (const o of objects) {
    if (!isPlainObject(o)) throw invalidBody('All array elements must be JSON objects');
    const k = Object.keys(o);
    if (k.length !== keySet.size || !k.every((x) => keySet.has(x))) throw invalidBody('All object keys must match');
  }
  return keys;
}

async function handleInsert(ctx: RestContext, req: RestRequest, db: Queryer, requested: Preferences): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  checkContentType(req);
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  if (q.filters.length > 0) throw new ApiError(400, 'PGRST100', 'Filters are not supported on inserts by the local Supabase stand-in');
  const table = await findTable(ctx.entry, db, req.resource);
  // Without a conflict target (no primary key, no on_conflict) PostgREST ignores the resolution.
  const onConflict = q.onConflict ?? (table.primaryKey.length > 0 ? table.primaryKey : null);
  const prefs: Preferences = onConflict === null ? { ...requested, resolution: null } : requested;
  const payload = parseJsonPayload(req.body);
  if (!isPlainObject(payload) && !(Array.isArray(payload) && payload.every(isPlainObject)))
    throw invalidBody('Expected a JSON object or an array of JSON objects');
  if (Array.isArray(payload) && payload.length === 0) {
    return mutationResponse('insert', EMPTY_PAGE, prefs, accept, INSERT_PREFS);
  }
  const sql = buildInsert(await ctx.entry.catalog(db), table, {
    embedded: q.embedded,
    payload: req.body,
    columns: payloadColumns(payload, q),
    missingDefault: prefs.missing === 'default',
    onConflict: prefs.resolution !== null ? onConflict : null,
    resolution: prefs.resolution,
    select: q.select,
    stripNulls: accept.stripNulls,
    order: q.order,
  });
  return mutationResponse('insert', await runMutation(db, sql, prefs, accept), prefs, accept, INSERT_PREFS);
}

function rejectLimits(q: ParsedQuery): void {
  if (q.limit !== null || q.offset !== null || q.order.length > 0) {
    throw new ApiError(400, 'PGRST100', 'limit/offset/order on PATCH and DELETE are not supported by the local Supabase stand-in');
  }
}

async function handleUpdate(ctx: RestContext, req: RestRequest, db: Queryer, prefs: Preferences): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  checkContentType(req);
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  rejectLimits(q);
  const table = await findTable(ctx.entry, db, req.resource);
  const payload = parseJsonPayload(req.body);
  if (!isPlainObject(payload)) throw invalidBody('PATCH expects a single JSON object');
  const columns = q.columns !== null ? q.columns.filter((c) => Object.hasOwn(payload, c)) : Object.keys(payload);
  if (columns.length === 0) {
    return mutationResponse('update', EMPTY_PAGE, prefs, accept, UPDATE_PREFS);
  }
  const sql = buildUpdate(await ctx.entry.catalog(db), table, {
    embedded: q.embedded,
    payload: req.body,
    columns,
    filters: q.filters,
    select: q.select,
    stripNulls: accept.stripNulls,
    order: [],
  });
  return mutationResponse('update', await runMutation(db, sql, prefs, accept), prefs, accept, UPDATE_PREFS);
}

async function handleDelete(ctx: RestContext, req: RestRequest, db: Queryer, prefs: Preferences): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  rejectLimits(q);
  const table = await findTable(ctx.entry, db, req.resource);
  const sql = buildDelete(await ctx.entry.catalog(db), table, {
    embedded: q.embedded,
    filters: q.filters,
    select: q.select,
    stripNulls: accept.stripNulls,
    order: [],
  });
  return mutationResponse('delete', await runMutation(db, sql, prefs, accept), prefs, accept, DELETE_PREFS);
}

async function handleRpc(ctx: RestContext, req: RestRequest, db: Queryer, prefs: Preferences): Promise<RestResponse> {
  const fnName = req.resource;
  const method = req.method;
  if (method !== 'POST' && method !== 'GET' && method !== 'HEAD') {
    throw new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
  }
  checkProfile(req.header(method === 'POST' ? 'content-profile' : 'accept-profile'));
  const accept = parseAccept(req.header('accept'));
  let catalog = await freshCatalogIf(ctx.entry, db, (c) => c.functions.has(fnName));
  const overloads = catalog.functions.get(fnName) ?? [];
  const allArgNames = new Set(overloads.flatMap((f) => f.args.map((a) => a.name)));
  let q: ParsedQuery;
  let argsText: string;
  let argNames: string[];
  if (method === 'POST') {
    checkContentType(req);
    q = parseQuery(req.search);
    const payload = req.body.trim() === '' ? {} : parseJsonPayload(req.body);
    if (!isPlainObject(payload)) throw invalidBody('rpc expects a JSON object of named arguments');
    argNames = Object.keys(payload);
    argsText = req.body.trim() === '' ? '{}' : req.body;
  } else {
    q = parseQuery(req.search, allArgNames);
    argNames = q.rawParams.map(([k]) => k);
    argsText = JSON.stringify(Object.fromEntries(q.rawParams));
  }
  let fn: FunctionInfo | null = resolveFunction(catalog, fnName, argNames);
  if (fn === null) {
    ctx.entry.invalidateCatalog();
    catalog = await ctx.entry.catalog(db);
    fn = resolveFunction(catalog, fnName, argNames);
  }
  if (fn === null) throw functionNotFound(fnName, argNames);
  // PostgREST's access modes ("Transactions"): GET/HEAD calls, and POST calls of stable or
  // immutable functions, run READ ONLY, so a function that writes fails (25006 → 405) as there.
  if (method !== 'POST' || fn.volatility !== 'v') await db.query('SET TRANSACTION READ ONLY');
  // PostgREST honours the Range header on GET/HEAD calls only; limit/offset always.
  const rangeHeader = method === 'POST' ? null : parseRangeHeader(req.header('range'));
  const range = effectiveRange(rangeHeader, q.limit, q.offset, ctx.maxRows);
  const counted = prefs.count !== null;
  const sql = buildRpc(catalog, fn, {
    embedded: q.embedded,
    aggregatesEnabled: ctx.aggregatesEnabled,
    args: argsText,
    argNames,
    select: q.select,
    filters: q.filters,
    order: q.order,
    offset: range.offset,
    limit: range.limit,
    count: counted,
    stripNulls: accept.stripNulls,
  });
  const rows = await run(db, sql);
  const headers: Record<string, string> = { ...prefHeaders(prefs, RPC_PREFS) };
  // v12 ignores `return=` on rpc; HEAD answers the headers of GET without the body.
  const noBody = method === 'HEAD';
  if (!fn.returnsSet) {
    // A function returning one value (scalar, composite or void) is one row: 0-0/1 when counted.
    headers['Content-Range'] = contentRange(0, 0, counted ? 1 : null);
    if (fn.returnKind === 'void') return { status: 204, headers, body: '' };
    const value = rows[0]?.['body'];
    headers['Content-Type'] = JSON_TYPE;
    return { status: 200, headers, body: noBody ? '' : typeof value === 'string' ? value : 'null' };
  }
  const page = pageRow(rows);
  const ranged = rangeResponse(range.offset, page.count, page.total);
  const { body, contentType } = pageBody(page, accept);
  headers['Content-Type'] = contentType;
  headers['Content-Range'] = ranged.contentRange;
  return { status: accept.shape === 'object' ? 200 : ranged.status, headers, body: noBody ? '' : body };
}
