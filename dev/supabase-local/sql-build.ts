// Requests → parameterised SQL statements. Pure: takes catalog entries, returns `{ text, params }`.
// Rules: every identifier is checked against the catalog and double-quoted; every value is a
// bound parameter (sent untyped so Postgres infers the column's type, as PostgREST's unknown
// literals do); JSON is produced by Postgres (json_agg / to_json), never by JavaScript. The
// select list, filters and order are built by select-build.ts.

import type { Catalog, FunctionInfo, TableInfo } from './catalog.ts';
import type { Param } from './databases.ts';
import { columnNotFound, parseError, payloadColumnNotFound } from './errors.ts';
import type { EmbedParams, FilterNode, OrderTerm, SelectList } from './query-parse.ts';
import { buildContext, orderSql, Params, quoteIdent, selectSql, tableRef, tableScope, whereSql, type Scope } from './select-build.ts';

/** Re-exported for callers (and tests) that build SQL through this module. */
export { Params, quoteIdent, tableRef } from './select-build.ts';

/** A statement and its parameters. */
export interface SqlQuery {
  text: string;
  params: Param[];
}

/** What shapes the rows a statement returns: select list, embedded parameters, settings. */
export interface ShapeOptions {
  select: SelectList;
  stripNulls: boolean;
  /** Parameters addressed to embedded resources. */
  embedded?: ReadonlyMap<string, EmbedParams>;
  /** Whether `count()`/`sum()`… are allowed (PostgREST's db-aggregates-enabled). */
  aggregatesEnabled?: boolean;
}

function rowJson(stripNulls: boolean): string {
  return stripNulls ? 'json_strip_nulls(row_to_json(_pgrst_row))' : '_pgrst_row';
}

/** The final SELECT over a `_pgrst_page` CTE: total, page_count, body (JSON array) and first (JSON object). */
function aggregate(stripNulls: boolean, totalSql: string): string {
  const row = rowJson(stripNulls);
  return `SELECT ${totalSql} AS total, count(*)::text AS page_count, coalesce(json_agg(${row}), '[]')::text AS body, (json_agg(${row}) -> 0)::text AS first FROM _pgrst_page AS _pgrst_row`;
}

/** Options of a read (GET/HEAD) on a table or view. */
export interface ReadOptions extends ShapeOptions {
  filters: readonly FilterNode[];
  order: readonly OrderTerm[];
  offset: number;
  limit: number;
  count: boolean;
}

/** GET/HEAD on a table or view. Returns columns total, page_count, body, first. */
export function buildRead(catalog: Catalog, table: TableInfo, o: ReadOptions): SqlQuery {
  const params = new Params();
  const ctx = buildContext(catalog, params, o.aggregatesEnabled ?? false, o.embedded ?? new Map());
  const scope = tableScope(table, '_pgrst_t');
  const shape = selectSql(o.select, scope, ctx);
  const where = whereSql(o.filters, scope, params, shape.exists, shape.inner);
  const order = orderSql(o.order, scope, params);
  const limit = params.add(String(o.limit));
  const offset = params.add(String(o.offset));
  const from = `${tableRef(table)} AS _pgrst_t`;
  const total = o.count ? `(SELECT count(*) FROM ${from}${where})::text` : 'NULL::text';
  const text = `WITH _pgrst_page AS (SELECT ${shape.list} FROM ${from}${where}${shape.groupBy}${order} LIMIT ${limit}::bigint OFFSET ${offset}::bigint) ${aggregate(o.stripNulls, total)}`;
  return { text, params: params.values };
}

/** The representation of a write: select and order over the written rows. */
export interface MutationShape extends ShapeOptions {
  /** Orders the returned representation. */
  order: readonly OrderTerm[];
}

/**
 * Wraps a data-modifying statement (without RETURNING) as PostgREST does: the statement returns
 * whole rows into a CTE, and the representation (select, embeds, order) is read from that CTE.
 * `inserted` (upserts) counts the rows that were inserted rather than updated (`xmax = 0`).
 */
function mutationSql(
  catalog: Catalog,
  table: TableInfo,
  statement: string,
  shape: MutationShape,
  params: Params,
  countInserted: boolean,
): string {
  const ref = tableRef(table);
  const marker = countInserted ? `(${ref}.xmax::text = '0')` : 'false';
  const ctx = buildContext(catalog, params, shape.aggregatesEnabled ?? false, shape.embedded ?? new Map());
  const scope: Scope = tableScope(table, '_pgrst_t');
  const select = selectSql(shape.select, scope, ctx);
  if (select.groupBy !== '')
    throw parseError(
      '"failed to parse select parameter"',
      'Aggregates in the representation of a write are not supported by the local stand-in',
    );
  const order = orderSql(shape.order, scope, params);
  const inner = select.inner.length ? ` WHERE ${select.inner.join(' AND ')}` : '';
  const row = rowJson(shape.stripNulls);
  return (
    `WITH _pgrst_mut AS (${statement} RETURNING ${ref}.*, ${marker} AS _pgrst_inserted), ` +
    `_pgrst_page AS (SELECT ${select.list} FROM _pgrst_mut AS _pgrst_t${inner}${order}) ` +
    `SELECT NULL::text AS total, count(*)::text AS page_count, coalesce(json_agg(${row}), '[]')::text AS body, (json_agg(${row}) -> 0)::text AS first, ` +
    `(SELECT count(*) FROM _pgrst_mut WHERE _pgrst_inserted)::text AS inserted FROM _pgrst_page AS _pgrst_row`
  );
}

/** Options of a POST (insert / upsert). */
export interface InsertOptions extends MutationShape {
  /** Raw JSON payload text (object or array), passed to Postgres untouched. */
  payload: string;
  /** Columns written (the keys of the payload, or `columns=`); absent keys are NULL unless `missingDefault`. */
  columns: string[];
  /** `Prefer: missing=default`: a key absent from an object takes the column's default. */
  missingDefault: boolean;
  /** Conflict target for upserts (null = plain insert). */
  onConflict: string[] | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
}

/** Throws PGRST204 for a payload / `columns=` column the table does not have. */
export function checkPayloadColumns(table: TableInfo, columns: readonly string[]): void {
  for (const c of columns) if (!table.columns.has(c)) throw payloadColumnNotFound(table.name, c);
}

/**
 * The record of one payload element. With missing=default, an object of the columns' defaults
 * (SQL from the catalog, evaluated per element) is merged under the element, as PostgREST does,
 * so a missing key takes the default while an explicit null stays null.
 */
function elementRecord(table: TableInfo, columns: readonly string[], missingDefault: boolean, params: Params): string {
  if (!missingDefault) return '_pgrst_elem.val';
  const defaults = columns.flatMap((c) => {
    const expr = table.columns.get(c)?.defaultSql ?? null;
    return expr === null ? [] : [`jsonb_build_object(${params.add(c)}::text, ${expr})`];
  });
  if (defaults.length === 0) return '_pgrst_elem.val';
  return `(${defaults.join(' || ')} || _pgrst_elem.val::jsonb)::json`;
}

/** POST (insert / upsert): one INSERT … SELECT over the payload's elements, in payload order. */
export function buildInsert(catalog: Catalog, table: TableInfo, o: InsertOptions): SqlQuery {
  const params = new Params();
  const payload = params.add(o.payload);
  const ref = tableRef(table);
  checkPayloadColumns(table, o.columns);
  let conflict = '';
  if (o.onConflict !== null && o.resolution !== null) {
    for (const c of o.onConflict) if (!table.columns.has(c)) throw columnNotFound(table.name, c);
    const target = ` ON CONFLICT (${o.onConflict.map(quoteIdent).join(', ')})`;
    conflict =
      o.resolution === 'ignore-duplicates' || o.columns.length === 0
        ? `${target} DO NOTHING`
        : `${target} DO UPDATE SET ${o.columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
  }
  const record = elementRecord(table, o.columns, o.missingDefault, params);
  const body = `(SELECT CASE WHEN json_typeof(${payload}::json) = 'array' THEN ${payload}::json ELSE json_build_array(${payload}::json) END AS val) AS _pgrst_body`;
  const elements = `FROM ${body} CROSS JOIN LATERAL json_array_elements(_pgrst_body.val) WITH ORDINALITY AS _pgrst_elem(val, pos)`;
  // Objects without keys insert one row of defaults each: a SELECT with no columns, as PostgREST builds it.
  const statement = o.columns.length
    ? `INSERT INTO ${ref} (${o.columns.map(quoteIdent).join(', ')}) SELECT ${o.columns.map((c) => `_pgrst_rec.${quoteIdent(c)}`).join(', ')} ${elements} CROSS JOIN LATERAL json_populate_record(NULL::${ref}, ${record}) AS _pgrst_rec ORDER BY _pgrst_elem.pos${conflict}`
    : `INSERT INTO ${ref} SELECT ${elements}${conflict}`;
  return { text: mutationSql(catalog, table, statement, o, params, o.resolution === 'merge-duplicates'), params: params.values };
}

/** Options of a PATCH. */
export interface UpdateOptions extends MutationShape {
  payload: string;
  columns: string[];
  filters: readonly FilterNode[];
}

/** PATCH: `UPDATE … SET col = body.col … WHERE filters`. */
export function buildUpdate(catalog: Catalog, table: TableInfo, o: UpdateOptions): SqlQuery {
  const params = new Params();
  const ref = tableRef(table);
  checkPayloadColumns(table, o.columns);
  const payload = params.add(o.payload);
  const set = o.columns.map((c) => `${quoteIdent(c)} = _pgrst_rec.${quoteIdent(c)}`).join(', ');
  const where = whereSql(o.filters, tableScope(table, ref), params);
  const statement = `UPDATE ${ref} SET ${set} FROM (SELECT * FROM json_populate_record(NULL::${ref}, ${payload}::json)) AS _pgrst_rec${where}`;
  return { text: mutationSql(catalog, table, statement, o, params, false), params: params.values };
}

/** Options of a DELETE. */
export interface DeleteOptions extends MutationShape {
  filters: readonly FilterNode[];
}

/** DELETE with filters. */
export function buildDelete(catalog: Catalog, table: TableInfo, o: DeleteOptions): SqlQuery {
  const params = new Params();
  const ref = tableRef(table);
  const where = whereSql(o.filters, tableScope(table, ref), params);
  return { text: mutationSql(catalog, table, `DELETE FROM ${ref}${where}`, o, params, false), params: params.values };
}

/** Options of a function call. */
export interface RpcOptions extends ShapeOptions {
  /** JSON object text with the named arguments (keys already checked against fn.args). */
  args: string;
  argNames: string[];
  filters: readonly FilterNode[];
  order: readonly OrderTerm[];
  offset: number;
  limit: number;
  count: boolean;
}

/**
 * Function call. Arguments are decoded by Postgres from the JSON body with json_to_record (so
 * arrays, json and big numbers keep their exact value), then passed by name.
 * Scalar / single composite / void results come back in `body` (single value); sets as a page.
 */
export function buildRpc(catalog: Catalog, fn: FunctionInfo, o: RpcOptions): SqlQuery {
  const params = new Params();
  const fnRef = `"public".${quoteIdent(fn.name)}`;
  const types = new Map(fn.args.map((a) => [a.name, a.type]));
  let from = '';
  let call = `${fnRef}()`;
  if (o.argNames.length > 0) {
    const defs = o.argNames.map((n) => `${quoteIdent(n)} ${types.get(n) ?? 'text'}`).join(', ');
    from = ` FROM json_to_record(${params.add(o.args)}::json) AS _pgrst_args(${defs})`;
    call = `${fnRef}(${o.argNames.map((n) => `${quoteIdent(n)} := _pgrst_args.${quoteIdent(n)}`).join(', ')})`;
  }
  if (!fn.returnsSet) {
    if (fn.returnKind === 'void') return { text: `SELECT ${call}::text AS body${from}`, params: params.values };
    if (fn.returnKind === 'composite') {
      const lateral = from === '' ? ` FROM ${call} AS _pgrst_row` : `${from} CROSS JOIN LATERAL ${call} AS _pgrst_row`;
      return {
        text: `SELECT ${o.stripNulls ? 'json_strip_nulls(row_to_json(_pgrst_row))' : 'row_to_json(_pgrst_row)'}::text AS body${lateral}`,
        params: params.values,
      };
    }
    return { text: `SELECT to_json(${call})::text AS body${from}`, params: params.values };
  }
  const lateral = from === '' ? ` FROM ${call}` : `${from} CROSS JOIN LATERAL ${call}`;
  const limit = (): string => ` LIMIT ${params.add(String(o.limit))}::bigint OFFSET ${params.add(String(o.offset))}::bigint`;
  if (fn.returnKind !== 'composite') {
    if (o.filters.length || o.order.length || o.select !== null) {
      throw columnNotFound(fn.name, o.order[0]?.column ?? 'filter');
    }
    const total = o.count ? '(SELECT count(*) FROM _pgrst_src)::text' : 'NULL::text';
    const text =
      `WITH _pgrst_src AS (SELECT _pgrst_set._pgrst_value${lateral} AS _pgrst_set(_pgrst_value)), _pgrst_page AS (SELECT * FROM _pgrst_src${limit()}) ` +
      `SELECT ${total} AS total, count(*)::text AS page_count, coalesce(json_agg(_pgrst_row._pgrst_value), '[]')::text AS body, (json_agg(_pgrst_row._pgrst_value) -> 0)::text AS first FROM _pgrst_page AS _pgrst_row`;
    return { text, params: params.values };
  }
  const ctx = buildContext(catalog, params, o.aggregatesEnabled ?? false, o.embedded ?? new Map());
  const scope: Scope = { name: fn.name, alias: '_pgrst_set', columns: fn.resultColumns, table: null };
  const shape = selectSql(o.select, scope, ctx);
  const where = whereSql(o.filters, scope, params, shape.exists, shape.inner);
  const order = orderSql(o.order, scope, params);
  const total = o.count ? `(SELECT count(*)${lateral} AS _pgrst_set${where})::text` : 'NULL::text';
  const text = `WITH _pgrst_page AS (SELECT ${shape.list}${lateral} AS _pgrst_set${where}${shape.groupBy}${order}${limit()}) ${aggregate(o.stripNulls, total)}`;
  return { text, params: params.values };
}
