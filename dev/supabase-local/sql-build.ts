// AST → parameterised SQL. Pure: takes catalog entries, returns `{ text, params }`.
// Rules: every identifier is checked against the catalog and double-quoted; every value is a
// bound parameter (sent untyped so Postgres infers the column's type, as PostgREST's unknown
// literals do); JSON is produced by Postgres (json_agg / to_json), never by JavaScript.

import type { FunctionInfo, TableInfo } from './catalog.ts';
import type { Param } from './databases.ts';
import { columnNotFound, payloadColumnNotFound } from './errors.ts';
import { likePattern, type Condition, type FilterNode, type OrderTerm, type SelectList } from './query-parse.ts';

export interface SqlQuery {
  text: string;
  params: Param[];
}

/** Collects bound parameters and hands out their `$n` placeholders. */
export class Params {
  readonly values: Param[] = [];
  add(value: Param): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function tableRef(table: TableInfo): string {
  return `"public".${quoteIdent(table.name)}`;
}

/** Maps a column name to qualified SQL, throwing 42703 when it does not exist. */
export type ColumnResolver = (column: string) => string;

export function tableColumns(table: TableInfo): ColumnResolver {
  return (column) => {
    if (!table.columns.has(column)) throw columnNotFound(table.name, column);
    return `${tableRef(table)}.${quoteIdent(column)}`;
  };
}

export function relationColumns(alias: string, relationName: string, columns: readonly string[]): ColumnResolver {
  const known = new Set(columns);
  return (column) => {
    if (!known.has(column)) throw columnNotFound(relationName, column);
    return `${alias}.${quoteIdent(column)}`;
  };
}

const COMPARISON: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE' };

function conditionSql(c: Condition, col: ColumnResolver, params: Params): string {
  const ref = col(c.column);
  let sql: string;
  switch (c.op) {
    case 'in':
      sql = c.value.length === 0 ? 'false' : `${ref} IN (${c.value.map((v) => params.add(v)).join(', ')})`;
      break;
    case 'is':
      sql = `${ref} ${{ null: 'IS NULL', not_null: 'IS NOT NULL', true: 'IS TRUE', false: 'IS FALSE', unknown: 'IS UNKNOWN' }[c.value]}`;
      break;
    case 'like':
    case 'ilike':
      sql = `${ref} ${COMPARISON[c.op]} ${params.add(likePattern(c.value))}`;
      break;
    default:
      sql = `${ref} ${COMPARISON[c.op]} ${params.add(c.value)}`;
  }
  return c.negated ? `NOT (${sql})` : sql;
}

function nodeSql(node: FilterNode, col: ColumnResolver, params: Params): string {
  if (node.kind === 'cond') return conditionSql(node, col, params);
  const inner = node.children.map((child) => `(${nodeSql(child, col, params)})`).join(node.kind === 'or' ? ' OR ' : ' AND ');
  return node.negated ? `NOT (${inner})` : `(${inner})`;
}

export function whereSql(filters: readonly FilterNode[], col: ColumnResolver, params: Params): string {
  if (filters.length === 0) return '';
  return ` WHERE ${filters.map((f) => nodeSql(f, col, params)).join(' AND ')}`;
}

export function orderSql(order: readonly OrderTerm[], col: ColumnResolver): string {
  if (order.length === 0) return '';
  const terms = order.map((o) => {
    let s = col(o.column);
    if (o.direction !== null) s += o.direction === 'asc' ? ' ASC' : ' DESC';
    if (o.nulls !== null) s += o.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST';
    return s;
  });
  return ` ORDER BY ${terms.join(', ')}`;
}

function selectListSql(select: SelectList, col: ColumnResolver, star: string): string {
  if (select === null) return star;
  return select.map((c) => `${col(c)} AS ${quoteIdent(c)}`).join(', ');
}

function rowJson(stripNulls: boolean): string {
  return stripNulls ? 'json_strip_nulls(row_to_json(_pgrst_row))' : '_pgrst_row';
}

/** The final SELECT over a `_pgrst_page` CTE: page_count, body (JSON array) and first (JSON object). */
function aggregate(stripNulls: boolean, totalSql: string, order = ''): string {
  const row = rowJson(stripNulls);
  const source = order === '' ? '_pgrst_page' : `(SELECT * FROM _pgrst_page${order})`;
  return `SELECT ${totalSql} AS total, count(*)::text AS page_count, coalesce(json_agg(${row}), '[]')::text AS body, (json_agg(${row}) -> 0)::text AS first FROM ${source} AS _pgrst_row`;
}

export interface ReadOptions {
  select: SelectList;
  filters: readonly FilterNode[];
  order: readonly OrderTerm[];
  offset: number;
  limit: number;
  count: boolean;
  stripNulls: boolean;
}

/** GET/HEAD on a table or view. Returns columns total, page_count, body, first. */
export function buildRead(table: TableInfo, o: ReadOptions): SqlQuery {
  const params = new Params();
  const col = tableColumns(table);
  const where = whereSql(o.filters, col, params);
  const cols = selectListSql(o.select, col, `${tableRef(table)}.*`);
  const order = orderSql(o.order, col);
  const limit = params.add(String(o.limit));
  const offset = params.add(String(o.offset));
  const total = o.count ? `(SELECT count(*) FROM ${tableRef(table)}${where})::text` : 'NULL::text';
  const text = `WITH _pgrst_page AS (SELECT ${cols} FROM ${tableRef(table)}${where}${order} LIMIT ${limit}::bigint OFFSET ${offset}::bigint) ${aggregate(o.stripNulls, total)}`;
  return { text, params: params.values };
}

/** The columns of `table` read through `alias` (e.g. a mutation's CTE), checked against the catalog. */
export function aliasColumns(table: TableInfo, alias: string): ColumnResolver {
  return (column) => {
    if (!table.columns.has(column)) throw columnNotFound(table.name, column);
    return `${alias}.${quoteIdent(column)}`;
  };
}

/** `*` spelled out from the catalog, so a helper column of the source (e.g. `_pgrst_inserted`) never leaks. */
function starColumns(table: TableInfo, alias: string): string {
  return [...table.columns.keys()].map((c) => `${alias}.${quoteIdent(c)}`).join(', ');
}

interface MutationShape {
  select: SelectList;
  stripNulls: boolean;
  /** Orders the returned representation. */
  order: readonly OrderTerm[];
}

/**
 * Wraps a data-modifying statement (without RETURNING) as PostgREST does: the statement returns
 * whole rows into a CTE, and the representation (select, order) is read from that CTE. `inserted`
 * (upserts) counts the rows that were inserted rather than updated (`xmax = 0`).
 */
function mutationSql(table: TableInfo, statement: string, shape: MutationShape, countInserted: boolean): string {
  const ref = tableRef(table);
  const marker = countInserted ? `(${ref}.xmax::text = '0')` : 'false';
  const col = aliasColumns(table, '_pgrst_t');
  const cols = selectListSql(shape.select, col, starColumns(table, '_pgrst_t'));
  const order = orderSql(shape.order, col);
  const row = rowJson(shape.stripNulls);
  return `WITH _pgrst_mut AS (${statement} RETURNING ${ref}.*, ${marker} AS _pgrst_inserted), `
    + `_pgrst_page AS (SELECT ${cols} FROM _pgrst_mut AS _pgrst_t${order}) `
    + `SELECT NULL::text AS total, count(*)::text AS page_count, coalesce(json_agg(${row}), '[]')::text AS body, (json_agg(${row}) -> 0)::text AS first, `
    + `(SELECT count(*) FROM _pgrst_mut WHERE _pgrst_inserted)::text AS inserted FROM _pgrst_page AS _pgrst_row`;
}

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
export function buildInsert(table: TableInfo, o: InsertOptions): SqlQuery {
  const params = new Params();
  const payload = params.add(o.payload);
  const ref = tableRef(table);
  checkPayloadColumns(table, o.columns);
  let conflict = '';
  if (o.onConflict !== null && o.resolution !== null) {
    for (const c of o.onConflict) if (!table.columns.has(c)) throw columnNotFound(table.name, c);
    const target = ` ON CONFLICT (${o.onConflict.map(quoteIdent).join(', ')})`;
    conflict = o.resolution === 'ignore-duplicates' || o.columns.length === 0
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
  return { text: mutationSql(table, statement, o, o.resolution === 'merge-duplicates'), params: params.values };
}

export interface UpdateOptions extends MutationShape {
  payload: string;
  columns: string[];
  filters: readonly FilterNode[];
}

/** PATCH: `UPDATE … SET col = body.col … WHERE filters`. */
export function buildUpdate(table: TableInfo, o: UpdateOptions): SqlQuery {
  const params = new Params();
  const ref = tableRef(table);
  checkPayloadColumns(table, o.columns);
  const payload = params.add(o.payload);
  const set = o.columns.map((c) => `${quoteIdent(c)} = _pgrst_rec.${quoteIdent(c)}`).join(', ');
  const where = whereSql(o.filters, tableColumns(table), params);
  const statement = `UPDATE ${ref} SET ${set} FROM (SELECT * FROM json_populate_record(NULL::${ref}, ${payload}::json)) AS _pgrst_rec${where}`;
  return { text: mutationSql(table, statement, o, false), params: params.values };
}

export interface DeleteOptions extends MutationShape {
  filters: readonly FilterNode[];
}

/** DELETE with filters. */
export function buildDelete(table: TableInfo, o: DeleteOptions): SqlQuery {
  const params = new Params();
  const ref = tableRef(table);
  const where = whereSql(o.filters, tableColumns(table), params);
  return { text: mutationSql(table, `DELETE FROM ${ref}${where}`, o, false), params: params.values };
}

export interface RpcOptions {
  /** JSON object text with the named arguments (keys already checked against fn.args). */
  args: string;
  argNames: string[];
  select: SelectList;
  filters: readonly FilterNode[];
  order: readonly OrderTerm[];
  offset: number;
  limit: number;
  count: boolean;
  stripNulls: boolean;
}

/**
 * Function call. Arguments are decoded by Postgres from the JSON body with json_to_record (so
 * arrays, json and big numbers keep their exact value), then passed by name.
 * Scalar / single composite / void results come back in `body` (single value); sets as a page.
 */
export function buildRpc(fn: FunctionInfo, o: RpcOptions): SqlQuery {
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
      return { text: `SELECT ${o.stripNulls ? 'json_strip_nulls(row_to_json(_pgrst_row))' : 'row_to_json(_pgrst_row)'}::text AS body${lateral}`, params: params.values };
    }
    return { text: `SELECT to_json(${call})::text AS body${from}`, params: params.values };
  }
  const lateral = from === '' ? ` FROM ${call}` : `${from} CROSS JOIN LATERAL ${call}`;
  const limit = (): string => ` LIMIT ${params.add(String(o.limit))}::bigint OFFSET ${params.add(String(o.offset))}::bigint`;
  if (fn.returnKind !== 'composite') {
    if (o.filters.length || o.order.length || o.select !== null) {
      throw columnNotFound(fn.name, (o.select ?? [])[0] ?? o.order[0]?.column ?? 'filter');
    }
    const total = o.count ? '(SELECT count(*) FROM _pgrst_src)::text' : 'NULL::text';
    const text = `WITH _pgrst_src AS (SELECT _pgrst_set._pgrst_value${lateral} AS _pgrst_set(_pgrst_value)), _pgrst_page AS (SELECT * FROM _pgrst_src${limit()}) `
      + `SELECT ${total} AS total, count(*)::text AS page_count, coalesce(json_agg(_pgrst_row._pgrst_value), '[]')::text AS body, (json_agg(_pgrst_row._pgrst_value) -> 0)::text AS first FROM _pgrst_page AS _pgrst_row`;
    return { text, params: params.values };
  }
  const col = relationColumns('_pgrst_set', fn.name, fn.resultColumns);
  const cols = selectListSql(o.select, col, '_pgrst_set.*');
  const where = whereSql(o.filters, col, params);
  const order = orderSql(o.order, col);
  const total = o.count ? `(SELECT count(*)${lateral} AS _pgrst_set${where})::text` : 'NULL::text';
  const text = `WITH _pgrst_page AS (SELECT ${cols}${lateral} AS _pgrst_set${where}${order}${limit()}) ${aggregate(o.stripNulls, total)}`;
  return { text, params: params.values };
}
