// Executes one /rest/v1 request against a database: tables (GET/HEAD/POST/PATCH/DELETE) and
// rpc (POST/GET/HEAD). Returns status, headers and body; the HTTP wiring lives in server.ts.

import type { Catalog, FunctionInfo, TableInfo } from './catalog.ts';
import { resolveFunction } from './catalog.ts';
import type { DatabaseEntry, Queryer, Row } from './databases.ts';
import { ApiError, functionNotFound, invalidBody, singularityError, tableNotFound } from './errors.ts';
import { parseQuery, type ParsedQuery } from './query-parse.ts';
import { checkProfile, effectiveRange, parseAccept, parsePrefer, parseRangeHeader, type AcceptInfo, type Preferences } from './request-headers.ts';
import { buildDelete, buildInsert, buildRead, buildRpc, buildUpdate, type InsertGroup, type SqlQuery } from './sql-build.ts';

export interface RestRequest {
  method: string;
  /** What follows /rest/v1/, e.g. `prospects` or `rpc/my_fn`. */
  resource: string;
  search: URLSearchParams;
  header(name: string): string | undefined;
  prefer: string[];
  body: string;
}

export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const OBJECT_TYPE = 'application/vnd.pgrst.object+json; charset=utf-8';

/** Thrown inside a transaction to roll a mutation back (PostgREST does so on singular mismatch). */
class Rollback extends Error {
  readonly error: ApiError;
  constructor(error: ApiError) { super(error.message); this.error = error; }
}

interface PageRow { total: number | null; count: number; body: string; first: string | null }

function pageRow(rows: Row[]): PageRow {
  const r = rows[0] ?? {};
  const total = r['total'];
  const first = r['first'];
  return {
    total: typeof total === 'string' ? Number(total) : null,
    count: Number(r['page_count'] ?? 0),
    body: typeof r['body'] === 'string' ? r['body'] : '[]',
    first: typeof first === 'string' ? first : null,
  };
}

async function run(db: Queryer, q: SqlQuery): Promise<Row[]> {
  return db.query(q.text, q.params);
}

async function findTable(entry: DatabaseEntry, name: string): Promise<TableInfo> {
  let table = (await entry.catalog()).tables.get(name);
  if (table === undefined) {
    entry.invalidateCatalog(); // maybe created since the schema cache was loaded
    table = (await entry.catalog()).tables.get(name);
  }
  if (table === undefined) throw tableNotFound(name);
  return table;
}

async function freshCatalogIf(entry: DatabaseEntry, test: (c: Catalog) => boolean): Promise<Catalog> {
  const c = await entry.catalog();
  if (test(c)) return c;
  entry.invalidateCatalog();
  return entry.catalog();
}

/** Content-Range and status for a read, as PostgREST computes them. */
function rangeResponse(offset: number, count: number, total: number | null): { status: number; contentRange: string } {
  const lower = offset;
  const upper = offset + count - 1;
  if (total !== null && lower > total) {
    throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${offset} was requested, but there are only ${total} rows.`);
  }
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  const status = total !== null && 1 + upper - lower < total ? 206 : 200;
  return { status, contentRange: `${range}/${total ?? '*'}` };
}

function prefHeaders(prefs: Preferences): Record<string, string> {
  return prefs.applied.length ? { 'Preference-Applied': prefs.applied.join(', ') } : {};
}

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

export interface RestContext {
  entry: DatabaseEntry;
  maxRows: number;
}

export async function handleRest(ctx: RestContext, req: RestRequest): Promise<RestResponse> {
  const { resource } = req;
  if (resource === '' ) throw new ApiError(404, 'PGRST205', 'The OpenAPI root is not served by the local Supabase stand-in');
  if (resource.startsWith('rpc/')) return handleRpc(ctx, req, resource.slice(4));
  if (resource.includes('/')) throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL`);
  const method = req.method;
  if (method === 'GET' || method === 'HEAD') return handleRead(ctx, req, resource);
  if (method === 'POST') return handleInsert(ctx, req, resource);
  if (method === 'PATCH') return handleUpdate(ctx, req, resource);
  if (method === 'DELETE') return handleDelete(ctx, req, resource);
  throw new ApiError(405, 'PGRST105', `Method ${method} is not supported by the local Supabase stand-in`);
}

async function handleRead(ctx: RestContext, req: RestRequest, name: string): Promise<RestResponse> {
  checkProfile(req.header('accept-profile'));
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  const prefs = parsePrefer(req.prefer);
  const range = effectiveRange(parseRangeHeader(req.header('range')), q.limit, q.offset, ctx.maxRows);
  const table = await findTable(ctx.entry, name);
  const sql = buildRead(table, { select: q.select, filters: q.filters, order: q.order, offset: range.offset, limit: range.limit, count: prefs.count !== null, stripNulls: accept.stripNulls });
  const page = pageRow(await run(ctx.entry.db, sql));
  const { status, contentRange } = rangeResponse(range.offset, page.count, page.total);
  const { body, contentType } = pageBody(page, accept);
  return {
    status: accept.shape === 'object' ? 200 : status,
    headers: { 'Content-Type': contentType, 'Content-Range': contentRange, 'Range-Unit': 'items', ...prefHeaders(prefs) },
    body: req.method === 'HEAD' ? '' : body,
  };
}

function mutationResponse(page: PageRow, prefs: Preferences, accept: AcceptInfo, created: boolean): RestResponse {
  const n = page.count;
  const total = prefs.count !== null ? String(n) : '*';
  const contentRange = created ? `*/${total}` : `${n > 0 ? `0-${n - 1}` : '*'}/${total}`;
  const headers: Record<string, string> = { 'Content-Range': contentRange, ...prefHeaders(prefs) };
  if (prefs.return === 'representation') {
    const { body, contentType } = pageBody(page, accept);
    headers['Content-Type'] = contentType;
    return { status: created ? 201 : 200, headers, body };
  }
  return { status: created ? 201 : 204, headers, body: '' };
}

/** Runs a mutation; a singular (object) request that does not affect exactly one row is rolled back with 406. */
async function runMutation(ctx: RestContext, sql: SqlQuery, prefs: Preferences, accept: AcceptInfo): Promise<PageRow> {
  const singular = accept.shape === 'object' && prefs.return === 'representation';
  if (!singular) return pageRow(await run(ctx.entry.db, sql));
  try {
    return await ctx.entry.db.transaction(async (tx) => {
      const page = pageRow(await run(tx, sql));
      if (page.count !== 1) throw new Rollback(singularityError(page.count));
      return page;
    });
  } catch (e) {
    if (e instanceof Rollback) throw e.error;
    throw e;
  }
}

/** The columns a payload writes: `columns=` when given, else the keys (which must match across an array, like PostgREST). */
function payloadColumns(payload: unknown, q: ParsedQuery): string[] {
  if (q.columns !== null) return [...new Set(q.columns)];
  const objects = Array.isArray(payload) ? payload : [payload];
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

function insertGroups(payload: unknown, columns: string[], missingDefault: boolean): InsertGroup[] {
  if (!missingDefault) return [{ columns, positions: null }];
  const objects = Array.isArray(payload) ? payload : [payload];
  const groups = new Map<string, InsertGroup>();
  objects.forEach((o, i) => {
    const present = isPlainObject(o) ? columns.filter((c) => Object.hasOwn(o, c)) : [];
    const key = JSON.stringify(present);
    const g = groups.get(key) ?? { columns: present, positions: [] };
    g.positions?.push(i + 1);
    groups.set(key, g);
  });
  return [...groups.values()];
}

async function handleInsert(ctx: RestContext, req: RestRequest, name: string): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  checkContentType(req);
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  if (q.filters.length > 0) throw new ApiError(400, 'PGRST100', 'Filters are not supported on inserts by the local Supabase stand-in');
  const prefs = parsePrefer(req.prefer);
  const table = await findTable(ctx.entry, name);
  const payload = parseJsonPayload(req.body);
  if (!isPlainObject(payload) && !(Array.isArray(payload) && payload.every(isPlainObject))) throw invalidBody('Expected a JSON object or an array of JSON objects');
  if (Array.isArray(payload) && payload.length === 0) {
    return mutationResponse({ total: null, count: 0, body: '[]', first: null }, prefs, accept, true);
  }
  const columns = payloadColumns(payload, q);
  const onConflict = prefs.resolution !== null ? (q.onConflict ?? table.primaryKey) : null;
  const sql = buildInsert(table, {
    payload: req.body,
    groups: insertGroups(payload, columns, prefs.missing === 'default'),
    onConflict: onConflict !== null && onConflict.length > 0 ? onConflict : null,
    resolution: prefs.resolution,
    select: q.select,
    stripNulls: accept.stripNulls,
    order: q.order,
  });
  return mutationResponse(await runMutation(ctx, sql, prefs, accept), prefs, accept, true);
}

function rejectLimits(q: ParsedQuery): void {
  if (q.limit !== null || q.offset !== null || q.order.length > 0) {
    throw new ApiError(400, 'PGRST100', 'limit/offset/order on PATCH and DELETE are not supported by the local Supabase stand-in');
  }
}

async function handleUpdate(ctx: RestContext, req: RestRequest, name: string): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  checkContentType(req);
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  rejectLimits(q);
  const prefs = parsePrefer(req.prefer);
  const table = await findTable(ctx.entry, name);
  const payload = parseJsonPayload(req.body);
  if (!isPlainObject(payload)) throw invalidBody('PATCH expects a single JSON object');
  const columns = q.columns !== null ? q.columns.filter((c) => Object.hasOwn(payload, c)) : Object.keys(payload);
  if (columns.length === 0) {
    return mutationResponse({ total: null, count: 0, body: '[]', first: null }, prefs, accept, false);
  }
  const sql = buildUpdate(table, { payload: req.body, columns, filters: q.filters, select: q.select, stripNulls: accept.stripNulls });
  return mutationResponse(await runMutation(ctx, sql, prefs, accept), prefs, accept, false);
}

async function handleDelete(ctx: RestContext, req: RestRequest, name: string): Promise<RestResponse> {
  checkProfile(req.header('content-profile'));
  const accept = parseAccept(req.header('accept'));
  const q = parseQuery(req.search);
  rejectLimits(q);
  const prefs = parsePrefer(req.prefer);
  const table = await findTable(ctx.entry, name);
  const sql = buildDelete(table, { filters: q.filters, select: q.select, stripNulls: accept.stripNulls });
  return mutationResponse(await runMutation(ctx, sql, prefs, accept), prefs, accept, false);
}

async function handleRpc(ctx: RestContext, req: RestRequest, fnName: string): Promise<RestResponse> {
  const method = req.method;
  if (method !== 'POST' && method !== 'GET' && method !== 'HEAD') {
    throw new ApiError(405, 'PGRST101', 'Only GET and POST verbs are allowed for functions');
  }
  checkProfile(req.header(method === 'POST' ? 'content-profile' : 'accept-profile'));
  const accept = parseAccept(req.header('accept'));
  const prefs = parsePrefer(req.prefer);
  let catalog = await freshCatalogIf(ctx.entry, (c) => c.functions.has(fnName));
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
    catalog = await ctx.entry.catalog();
    fn = resolveFunction(catalog, fnName, argNames);
  }
  if (fn === null) throw functionNotFound(fnName, argNames);
  const range = effectiveRange(parseRangeHeader(req.header('range')), q.limit, q.offset, ctx.maxRows);
  const sql = buildRpc(fn, {
    args: argsText, argNames, select: q.select, filters: q.filters, order: q.order,
    offset: range.offset, limit: range.limit, count: prefs.count !== null, stripNulls: accept.stripNulls,
  });
  const rows = await run(ctx.entry.db, sql);
  const headers: Record<string, string> = { ...prefHeaders(prefs) };
  const noBody = method === 'HEAD' || prefs.return === 'minimal';
  if (!fn.returnsSet) {
    if (fn.returnKind === 'void') return { status: 204, headers, body: '' };
    const value = rows[0]?.['body'];
    headers['Content-Type'] = JSON_TYPE;
    headers['Content-Range'] = '0-0/*';
    return { status: 200, headers, body: noBody ? '' : typeof value === 'string' ? value : 'null' };
  }
  const page = pageRow(rows);
  const { status, contentRange } = rangeResponse(range.offset, page.count, page.total);
  const { body, contentType } = pageBody(page, accept);
  headers['Content-Type'] = contentType;
  headers['Content-Range'] = contentRange;
  return { status: accept.shape === 'object' ? 200 : status, headers, body: noBody ? '' : body };
}
