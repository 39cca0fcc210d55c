// The schema cache: tables, columns and functions of the `public` schema, read from pg_catalog.
// Every identifier that reaches SQL is looked up here first (and then double-quoted).

import type { Queryer } from './databases.ts';

/** A column of a table or view, from pg_attribute. */
export interface ColumnInfo {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  /**
   * The column's default as SQL text from pg_catalog (`pg_get_expr`), as PostgREST's schema cache
   * reads it: identity columns as `nextval('seq')`, domain defaults, null for generated columns.
   * Used only for `Prefer: missing=default`; it comes from the database, never from a request.
   */
  defaultSql: string | null;
}

/** A table or view of the `public` schema. */
export interface TableInfo {
  name: string;
  columns: Map<string, ColumnInfo>;
  primaryKey: string[];
  /** Column sets of the primary key and the unique indexes (for one-to-one relationships). */
  uniques: string[][];
}

/** A foreign key between two tables of the `public` schema. */
export interface ForeignKey {
  /** The constraint name (usable as an embedding hint). */
  name: string;
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

/** An input argument of a function. */
export interface FunctionArg {
  name: string;
  type: string;
  hasDefault: boolean;
}

/** A function of the `public` schema callable through /rpc. */
export interface FunctionInfo {
  name: string;
  /** Input arguments in declaration order. */
  args: FunctionArg[];
  returnsSet: boolean;
  /** `scalar` (incl. arrays), `composite` (row type, RETURNS TABLE, OUT params) or `void`. */
  returnKind: 'scalar' | 'composite' | 'void';
  /** Column names of a composite result. */
  resultColumns: string[];
  /** `v`olatile, `s`table or `i`mmutable: PostgREST runs all but volatile POST calls read-only. */
  volatility: 'v' | 's' | 'i';
}

/** The schema cache of one database. */
export interface Catalog {
  tables: Map<string, TableInfo>;
  functions: Map<string, FunctionInfo[]>;
  foreignKeys: ForeignKey[];
}

const TABLES_SQL = `
SELECT coalesce(json_agg(json_build_object(
  'name', c.relname,
  'columns', (SELECT coalesce(json_agg(json_build_object(
       'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
       'notNull', a.attnotnull, 'hasDefault', a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
       'defaultSql', CASE
         WHEN a.attgenerated <> '' OR a.attidentity = 'a' THEN NULL
         WHEN a.attidentity = 'd' THEN format('nextval(%L::regclass)', pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname))
         WHEN ad.adbin IS NOT NULL THEN pg_get_expr(ad.adbin, ad.adrelid)
         WHEN ty.typbasetype <> 0 THEN pg_get_expr(ty.typdefaultbin, 0)
       END) ORDER BY a.attnum), '[]')
     FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  'primaryKey', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
     FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE i.indrelid = c.oid AND i.indisprimary),
  'uniques', (SELECT coalesce(json_agg((SELECT json_agg(a.attname ORDER BY a.attname)
       FROM unnest(i.indkey) AS k(attnum) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum)), '[]')
     FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey)))
)), '[]')::text AS catalog
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`;

const FUNCTIONS_SQL = `
SELECT coalesce(json_agg(json_build_object(
  'name', p.proname,
  'returnsSet', p.proretset,
  'volatility', p.provolatile,
  'returnType', format_type(p.prorettype, NULL),
  'typtype', t.typtype,
  'nDefaults', p.pronargdefaults,
  'args', (SELECT coalesce(json_agg(json_build_object(
       'name', coalesce(p.proargnames[k.i], ''), 'type', format_type(k.typ, NULL), 'mode', coalesce(p.proargmodes[k.i], 'i')) ORDER BY k.i), '[]')
     FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS k(typ, i)),
  'rowColumns', (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]')
     FROM pg_attribute a WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
)), '[]')::text AS catalog
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type t ON t.oid = p.prorettype
WHERE n.nspname = 'public' AND p.prokind = 'f'`;

const FOREIGN_KEYS_SQL = `
SELECT coalesce(json_agg(json_build_object(
  'name', con.conname, 'table', c.relname, 'refTable', rc.relname,
  'columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
  'refColumns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
) ORDER BY c.relname, con.conname), '[]')::text AS catalog
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND n.nspname = 'public' AND rn.nspname = 'public'`;

interface RawTable {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  uniques: string[][];
}
interface RawFunction {
  name: string;
  returnsSet: boolean;
  volatility: 'v' | 's' | 'i';
  returnType: string;
  typtype: string;
  nDefaults: number;
  args: { name: string; type: string; mode: string }[];
  rowColumns: string[];
}

function firstText(rows: Record<string, unknown>[], column: string): string {
  const v = rows[0]?.[column];
  if (typeof v !== 'string') throw new Error(`catalog query returned no ${column}`);
  return v;
}

/** Reads the schema cache (tables, views, columns, keys, foreign keys, functions) of the `public` schema. */
export async function loadCatalog(db: Queryer): Promise<Catalog> {
  const rawTables = JSON.parse(firstText(await db.query(TABLES_SQL), 'catalog')) as RawTable[];
  const rawFunctions = JSON.parse(firstText(await db.query(FUNCTIONS_SQL), 'catalog')) as RawFunction[];
  const foreignKeys = JSON.parse(firstText(await db.query(FOREIGN_KEYS_SQL), 'catalog')) as ForeignKey[];
  const tables = new Map<string, TableInfo>();
  for (const t of rawTables) {
    tables.set(t.name, { name: t.name, columns: new Map(t.columns.map((c) => [c.name, c])), primaryKey: t.primaryKey, uniques: t.uniques });
  }
  const functions = new Map<string, FunctionInfo[]>();
  for (const f of rawFunctions) {
    const inputs = f.args.filter((a) => a.mode === 'i' || a.mode === 'b' || a.mode === 'v');
    const outputs = f.args.filter((a) => a.mode === 'o' || a.mode === 'b' || a.mode === 't');
    const firstDefault = inputs.length - f.nDefaults;
    const args = inputs.map((a, i) => ({ name: a.name, type: a.type, hasDefault: i >= firstDefault }));
    let returnKind: FunctionInfo['returnKind'] = 'scalar';
    let resultColumns: string[] = [];
    if (f.returnType === 'void') returnKind = 'void';
    else if (f.typtype === 'c') {
      returnKind = 'composite';
      resultColumns = f.rowColumns;
    } else if (f.returnType === 'record' && outputs.length > 0) {
      returnKind = 'composite';
      resultColumns = outputs.map((o) => o.name);
    }
    const info: FunctionInfo = { name: f.name, args, returnsSet: f.returnsSet, returnKind, resultColumns, volatility: f.volatility };
    const list = functions.get(f.name) ?? [];
    list.push(info);
    functions.set(f.name, list);
  }
  return { tables, functions, foreignKeys };
}

/**
 * Picks the overload whose named arguments match the given keys exactly as PostgREST does:
 * every key is an argument and every argument without a default is given.
 */
export function resolveFunction(catalog: Catalog, name: string, keys: string[]): FunctionInfo | null {
  const candidates = catalog.functions.get(name) ?? [];
  const keySet = new Set(keys);
  for (const f of candidates) {
    const names = new Set(f.args.map((a) => a.name));
    if (f.args.some((a) => a.name === '')) continue; // unnamed arguments cannot be called by name
    if (!keys.every((k) => names.has(k))) continue;
    if (!f.args.every((a) => a.hasDefault || keySet.has(a.name))) continue;
    return f;
  }
  return null;
}
