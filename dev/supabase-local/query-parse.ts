// Pure parsing of PostgREST's query-string syntax into a small AST. No I/O, no SQL here;
// names are not checked against the catalog yet (sql-build.ts does that).
//
// Grammar handled (subset of https://docs.postgrest.org/en/latest/references/api/tables_views.html):
//   select=*            select=a,b,c
//   <col>=[not.]<op>.<value>             top-level filter; the value is taken literally
//   or=(f,f,...)  and=(...)  not.or=(...)  not.and=(...)
//     where f is  <col>.[not.]<op>.<value>  |  [not.]or(...)  |  [not.]and(...)
//     and values inside the tree may be double-quoted ("a,b" with \" and \\ escapes)
//   in.(a,"b,c",d)      is.null|not_null|true|false|unknown
//   order=a.desc.nullslast,b.asc,c
//   limit=N  offset=N  columns=a,b  on_conflict=a,b

import { parseError } from './errors.ts';

export const FILTER_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'is', 'like', 'ilike'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export type IsValue = 'null' | 'not_null' | 'true' | 'false' | 'unknown';

export type Condition =
  | { kind: 'cond'; column: string; negated: boolean; op: 'in'; value: string[] }
  | { kind: 'cond'; column: string; negated: boolean; op: 'is'; value: IsValue }
  | { kind: 'cond'; column: string; negated: boolean; op: Exclude<FilterOp, 'in' | 'is'>; value: string };

export interface Logic {
  kind: 'and' | 'or';
  negated: boolean;
  children: FilterNode[];
}

export type FilterNode = Condition | Logic;

export interface OrderTerm {
  column: string;
  direction: 'asc' | 'desc' | null;
  nulls: 'first' | 'last' | null;
}

/** `null` means `*` (every column). */
export type SelectList = string[] | null;

export interface ParsedQuery {
  select: SelectList;
  filters: FilterNode[];
  order: OrderTerm[];
  limit: number | null;
  offset: number | null;
  columns: string[] | null;
  onConflict: string[] | null;
  /** Query parameters that are neither reserved words nor filters (used for GET rpc args). */
  rawParams: Array<[string, string]>;
}

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict', 'or', 'and', 'not.or', 'not.and']);

function isFilterOp(s: string): s is FilterOp {
  return (FILTER_OPS as readonly string[]).includes(s);
}

const IS_VALUES: readonly IsValue[] = ['null', 'not_null', 'true', 'false', 'unknown'];

/** Plain column name as it may appear in select/order/columns; quoting or JSON paths are not supported. */
function checkName(rawName: string, where: string): string {
  // "quoted" names are accepted (supabase-js quotes columns= entries); the quotes are not part of the name
  const name = /^"[^"]+"$/.test(rawName) ? rawName.slice(1, -1) : rawName;
  if (name === '') throw parseError(`"failed to parse ${where}"`, 'Empty column name');
  if (/[():"!]|->/.test(name)) {
    throw parseError(
      `"failed to parse ${where} parameter (${name})"`,
      'Renaming, casting, embedding, JSON paths and quoted names are not supported by the local stand-in',
    );
  }
  return name;
}

export function parseSelect(raw: string): SelectList {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed === '*') return null;
  const parts = trimmed.split(',').map((p) => p.trim());
  if (parts.includes('*')) {
    if (parts.length === 1) return null;
    throw parseError('"failed to parse select parameter (' + raw + ')"', 'Mixing * with other columns is not supported by the local stand-in');
  }
  return parts.map((p) => checkName(p, 'select'));
}

export function parseNameList(raw: string, where: string): string[] {
  return raw.split(',').map((p) => checkName(p.trim(), where));
}

export function parseOrder(raw: string): OrderTerm[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((term) => {
    const parts = term.trim().split('.');
    const column = checkName(parts[0] ?? '', 'order');
    let direction: OrderTerm['direction'] = null;
    let nulls: OrderTerm['nulls'] = null;
    for (const modifier of parts.slice(1)) {
      if ((modifier === 'asc' || modifier === 'desc') && direction === null && nulls === null) direction = modifier;
      else if ((modifier === 'nullsfirst' || modifier === 'nullslast') && nulls === null) nulls = modifier === 'nullsfirst' ? 'first' : 'last';
      else throw parseError(`"failed to parse order (${raw})"`, `unexpected "${modifier}" expecting "asc", "desc", "nullsfirst" or "nullslast"`);
    }
    return { column, direction, nulls };
  });
}

function parseNonNegInt(raw: string, name: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw parseError(`"failed to parse ${name} parameter (${raw})"`, 'expecting a non-negative integer');
  return Number(raw);
}

/** Builds a condition from an operator expression `[not.]op.value` (value already unquoted where needed). */
function makeCondition(column: string, negated: boolean, op: string, value: string | string[]): Condition {
  if (!isFilterOp(op)) {
    throw parseError(`"failed to parse filter (${op})"`, `unknown or unsupported operator "${op}"`);
  }
  if (op === 'in') {
    if (!Array.isArray(value)) throw parseError('"failed to parse filter (in)"', 'in expects a list: in.(a,b,c)');
    return { kind: 'cond', column, negated, op, value };
  }
  if (Array.isArray(value)) throw parseError(`"failed to parse filter (${op})"`, 'unexpected list value');
  if (op === 'is') {
    const v = value.toLowerCase();
    const found = IS_VALUES.find((x) => x === v);
    if (found === undefined) throw parseError(`"failed to parse filter (is.${value})"`, 'is expects null, not_null, true, false or unknown');
    return { kind: 'cond', column, negated, op, value: found };
  }
  return { kind: 'cond', column, negated, op, value };
}

/** Parses `(a,"b,c",d)` starting at `s[pos] === '('`; returns the items and the index after `)`. */
function parseList(s: string, pos: number): { items: string[]; end: number } {
  if (s[pos] !== '(') throw parseError(`"failed to parse list (${s})"`, 'expecting "("');
  const items: string[] = [];
  let i = pos + 1;
  if (s[i] === ')') return { items, end: i + 1 };
  for (;;) {
    let item: string;
    if (s[i] === '"') {
      const q = parseQuoted(s, i);
      item = q.value;
      i = q.end;
    } else {
      let j = i;
      while (j < s.length && s[j] !== ',' && s[j] !== ')') j++;
      item = s.slice(i, j);
      i = j;
    }
    items.push(item);
    if (s[i] === ',') { i++; continue; }
    if (s[i] === ')') return { items, end: i + 1 };
    throw parseError(`"failed to parse list (${s})"`, 'unterminated list, expecting "," or ")"');
  }
}

/** Parses a double-quoted value with backslash escapes starting at `s[pos] === '"'`. */
function parseQuoted(s: string, pos: number): { value: string; end: number } {
  let out = '';
  let i = pos + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') {
      const next = s[i + 1];
      if (next === undefined) break;
      out += next;
      i += 2;
      continue;
    }
    if (c === '"') return { value: out, end: i + 1 };
    out += c;
    i++;
  }
  throw parseError(`"failed to parse logic tree (${s})"`, 'unterminated double-quoted value');
}

/** Top-level filter value `[not.]op.value` for column `column`. Values are literal (no unquoting). */
export function parseTopFilter(column: string, raw: string): Condition {
  checkName(column, 'filter');
  let rest = raw;
  let negated = false;
  if (rest.startsWith('not.')) { negated = true; rest = rest.slice(4); }
  const dot = rest.indexOf('.');
  if (dot < 0) throw parseError(`"failed to parse filter (${raw})"`, 'expecting an operator: op.value');
  const op = rest.slice(0, dot);
  const valueRaw = rest.slice(dot + 1);
  if (op === 'in') {
    const { items, end } = parseList(valueRaw, 0);
    if (end !== valueRaw.length) throw parseError(`"failed to parse filter (${raw})"`, 'unexpected characters after the list');
    return makeCondition(column, negated, op, items);
  }
  return makeCondition(column, negated, op, valueRaw);
}

/** Parses the value of `or=` / `and=`: `(item,item,...)`. */
export function parseLogicTree(kind: 'and' | 'or', negated: boolean, raw: string): Logic {
  const parser = new LogicParser(raw);
  const children = parser.parseGroup();
  if (parser.pos !== raw.length) throw parseError(`"failed to parse logic tree (${raw})"`, `unexpected "${raw.slice(parser.pos)}"`);
  return { kind, negated, children };
}

class LogicParser {
  readonly s: string;
  pos = 0;
  constructor(s: string) { this.s = s; }

  fail(expecting: string): never {
    throw parseError(`"failed to parse logic tree (${this.s})" (line 1, column ${this.pos + 1})`, `unexpected ${this.pos < this.s.length ? `"${this.s[this.pos]}"` : 'end of input'} expecting ${expecting}`);
  }

  parseGroup(): FilterNode[] {
    if (this.s[this.pos] !== '(') this.fail('"("');
    this.pos++;
    const children: FilterNode[] = [];
    for (;;) {
      children.push(this.parseItem());
      const c = this.s[this.pos];
      if (c === ',') { this.pos++; continue; }
      if (c === ')') { this.pos++; return children; }
      this.fail('"," or ")"');
    }
  }

  parseItem(): FilterNode {
    let negated = false;
    if (this.s.startsWith('not.', this.pos)) {
      const after = this.s.slice(this.pos + 4);
      if (after.startsWith('and(') || after.startsWith('or(')) { negated = true; this.pos += 4; }
    }
    for (const kind of ['and', 'or'] as const) {
      if (this.s.startsWith(`${kind}(`, this.pos)) {
        this.pos += kind.length;
        return { kind, negated, children: this.parseGroup() };
      }
    }
    if (negated) this.fail('a logic group');
    // <column>.[not.]<op>.<value>
    let column: string;
    if (this.s[this.pos] === '"') {
      const q = parseQuoted(this.s, this.pos);
      column = q.value;
      this.pos = q.end;
    } else {
      const start = this.pos;
      while (this.pos < this.s.length && !'.,()"'.includes(this.s[this.pos] ?? '')) this.pos++;
      column = this.s.slice(start, this.pos);
    }
    if (column === '') this.fail('a column name');
    checkName(column, 'logic tree');
    if (this.s[this.pos] !== '.') this.fail('"."');
    this.pos++;
    let condNegated = false;
    if (this.s.startsWith('not.', this.pos)) { condNegated = true; this.pos += 4; }
    const opStart = this.pos;
    while (this.pos < this.s.length && /[a-z_]/.test(this.s[this.pos] ?? '')) this.pos++;
    const op = this.s.slice(opStart, this.pos);
    if (op === '') this.fail('an operator');
    if (this.s[this.pos] !== '.') this.fail('"."');
    this.pos++;
    if (op === 'in') {
      const { items, end } = parseList(this.s, this.pos);
      this.pos = end;
      return makeCondition(column, condNegated, op, items);
    }
    let value: string;
    if (this.s[this.pos] === '"') {
      const q = parseQuoted(this.s, this.pos);
      value = q.value;
      this.pos = q.end;
    } else {
      const start = this.pos;
      while (this.pos < this.s.length && this.s[this.pos] !== ',' && this.s[this.pos] !== ')') this.pos++;
      value = this.s.slice(start, this.pos);
    }
    return makeCondition(column, condNegated, op, value);
  }
}

/**
 * Splits a query string into the PostgREST AST. `argNames` (for rpc) lists parameters that are
 * function arguments rather than filters.
 */
export function parseQuery(params: URLSearchParams, argNames: ReadonlySet<string> = new Set()): ParsedQuery {
  const out: ParsedQuery = { select: null, filters: [], order: [], limit: null, offset: null, columns: null, onConflict: null, rawParams: [] };
  for (const [key, value] of params) {
    if (argNames.has(key) && !RESERVED.has(key)) { out.rawParams.push([key, value]); continue; }
    switch (key) {
      case 'select': out.select = parseSelect(value); break;
      case 'order': out.order = parseOrder(value); break;
      case 'limit': out.limit = parseNonNegInt(value, 'limit'); break;
      case 'offset': out.offset = parseNonNegInt(value, 'offset'); break;
      case 'columns': out.columns = parseNameList(value, 'columns'); break;
      case 'on_conflict': out.onConflict = parseNameList(value, 'on_conflict'); break;
      case 'or': case 'and': out.filters.push(parseLogicTree(key, false, value)); break;
      case 'not.or': out.filters.push(parseLogicTree('or', true, value)); break;
      case 'not.and': out.filters.push(parseLogicTree('and', true, value)); break;
      default: out.filters.push(parseTopFilter(key, value));
    }
  }
  return out;
}

/** Translates PostgREST's `*` wildcard in like/ilike patterns to SQL's `%`. */
export function likePattern(value: string): string {
  return value.replaceAll('*', '%');
}
