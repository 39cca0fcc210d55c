// Pure parsing of PostgREST's `select=` parameter (v12 grammar, docs "Tables and Views" >
// Vertical Filtering, "Resource Embedding", "Aggregate Functions"):
//   *                                   every column
//   alias:field::cast                   renaming, casting, JSON paths (data->a->>b)
//   field[::cast].sum()[::cast]         aggregates: sum avg min max count; count() counts rows
//   alias:rel!hint!inner(select)        embedding (hint: a foreign key or column; inner/left)
// Names are not checked against the catalog here (select-build.ts does that).

import { parseError } from './errors.ts';
import { parseField, type Field } from './query-parse.ts';

/** The aggregate functions PostgREST v12 offers. */
export type AggregateFn = 'sum' | 'avg' | 'min' | 'max' | 'count';

/** One `select=` item. */
export type SelectItem =
  | { kind: 'star' }
  | {
      kind: 'field';
      /** null only for `count()` (a row count). */
      field: Field | null;
      alias: string | null;
      /** Cast of the column (before an aggregate). */
      cast: string | null;
      aggregate: AggregateFn | null;
      /** Cast of the aggregate's result. */
      aggregateCast: string | null;
    }
  | {
      kind: 'embed';
      relation: string;
      alias: string | null;
      hint: string | null;
      joinType: 'inner' | 'left' | null;
      /** null means `*`. */
      select: SelectItem[] | null;
    };

/** Type names allowed in casts: identifiers (optionally an array), so nothing but a type name reaches SQL. */
const CAST = /^[A-Za-z_][A-Za-z0-9_]*(\[\])?$/;

function checkCast(cast: string, raw: string): string {
  if (!CAST.test(cast)) throw parseError(`"failed to parse select parameter (${raw})"`, `unexpected cast "${cast}": expecting a type name`);
  return cast;
}

/** Splits on commas outside parentheses and double quotes. */
function splitTopLevel(s: string, raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') {
      depth--;
      if (depth < 0) throw parseError(`"failed to parse select parameter (${raw})"`, 'unexpected ")"');
    } else if (!quoted && depth === 0 && c === ',') {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0 || quoted) throw parseError(`"failed to parse select parameter (${raw})"`, 'unbalanced parentheses or quotes');
  out.push(s.slice(start));
  return out.map((p) => p.trim());
}

/** `alias:rest` (a single colon; `::` is a cast). */
function splitAlias(item: string): { alias: string | null; rest: string } {
  const m = /^([^:()"]+|"[^"]+"):(?!:)(.*)$/s.exec(item);
  if (m === null) return { alias: null, rest: item };
  const alias = (m[1] ?? '').trim();
  return { alias: alias.startsWith('"') ? alias.slice(1, -1) : alias, rest: (m[2] ?? '').trim() };
}

function parseItem(item: string, raw: string): SelectItem {
  if (item === '') throw parseError(`"failed to parse select parameter (${raw})"`, 'empty select item');
  if (item === '*') return { kind: 'star' };
  if (item.startsWith('...')) {
    throw parseError(
      `"failed to parse select parameter (${raw})"`,
      'Spreading embedded resources (...) is not supported by the local stand-in',
    );
  }
  const { alias, rest } = splitAlias(item);
  const count = /^count\(\)(?:::(.+))?$/.exec(rest);
  if (count !== null) {
    return {
      kind: 'field',
      field: null,
      alias,
      cast: null,
      aggregate: 'count',
      aggregateCast: count[1] === undefined ? null : checkCast(count[1], raw),
    };
  }
  const agg = /^(.*)\.(sum|avg|min|max|count)\(\)(?:::(.+))?$/s.exec(rest);
  if (agg !== null) {
    const inner = fieldAndCast(agg[1] ?? '', raw);
    return {
      kind: 'field',
      ...inner,
      alias,
      aggregate: agg[2] as AggregateFn,
      aggregateCast: agg[3] === undefined ? null : checkCast(agg[3], raw),
    };
  }
  const open = rest.indexOf('(');
  if (open >= 0) {
    if (!rest.endsWith(')'))
      throw parseError(
        `"failed to parse select parameter (${raw})"`,
        `unexpected "${rest.slice(rest.lastIndexOf(')') + 1)}" after an embedded resource`,
      );
    const [relation = '', ...modifiers] = rest
      .slice(0, open)
      .split('!')
      .map((p) => p.trim());
    if (!/^[^\s(),.:>"-]+$/.test(relation))
      throw parseError(`"failed to parse select parameter (${raw})"`, `unexpected embedded resource name "${relation}"`);
    let hint: string | null = null;
    let joinType: 'inner' | 'left' | null = null;
    for (const m of modifiers) {
      if ((m === 'inner' || m === 'left') && joinType === null) joinType = m;
      else if (m !== '' && hint === null && !/[(),:"]/.test(m)) hint = m;
      else throw parseError(`"failed to parse select parameter (${raw})"`, `unexpected "!${m}" on the embedded resource ${relation}`);
    }
    const inner = rest.slice(open + 1, -1).trim();
    return { kind: 'embed', relation, alias, hint, joinType, select: inner === '' ? [] : parseList(inner, raw) };
  }
  return { kind: 'field', ...fieldAndCast(rest, raw), alias, aggregate: null, aggregateCast: null };
}

function fieldAndCast(text: string, raw: string): { field: Field; cast: string | null } {
  const cast = text.indexOf('::');
  const field = parseField(cast < 0 ? text : text.slice(0, cast), 'select');
  return { field, cast: cast < 0 ? null : checkCast(text.slice(cast + 2).trim(), raw) };
}

function parseList(s: string, raw: string): SelectItem[] | null {
  const items = splitTopLevel(s, raw).map((p) => parseItem(p, raw));
  return items.length === 1 && items[0]?.kind === 'star' ? null : items;
}

/** Parses `select=`; `null` means `*`. */
export function parseSelect(raw: string): SelectItem[] | null {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed === '*') return null;
  return parseList(trimmed, raw);
}

/** The output name of a field item: its alias, else the aggregate's name, else the last JSON key, else the column. */
export function outputName(item: Extract<SelectItem, { kind: 'field' }>): string {
  if (item.alias !== null) return item.alias;
  if (item.aggregate !== null) return item.aggregate;
  const field = item.field;
  if (field === null) return 'count';
  // PostgREST (Plan.hs lastJsonKey): the last non-index key of the path, else the column.
  const lastKey = [...field.path].reverse().find((s) => !s.index);
  return lastKey === undefined ? field.column : lastKey.key;
}
