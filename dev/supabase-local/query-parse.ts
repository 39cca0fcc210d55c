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

// Pure parsing of PostgREST's query-string syntax into a small AST. No I/O, no SQL here;
// names are not checked against the catalog yet (sql-*.ts do that). Follows PostgREST v12's
// grammar (src/PostgREST/ApiRequest/QueryParams.hs), https://docs.postgrest.org/en/v12/references/api/tables_views.html
//   <field>=[not.]<op>.<value>       top-level filter; the value is taken literally
//     field: col | col->key->>key (JSON path; integer keys index arrays)
//     op: eq neq gt gte lt lte like ilike match imatch in is isdistinct cs cd ov sl sr nxl nxr adj
//         fts plfts phfts wfts (with an optional config: fts(english))
//         eq gt gte lt lte like ilike match imatch with a quantifier: like(any).{a*,b*}
//   or=(f,f,...)  and=(...)  not.or=(...)  not.and=(...)
//     where f is  <field>.[not.]<op>.<value>  |  [not.]or(...)  |  [not.]and(...)
//     and values inside the tree may be double-quoted ("a,b" with \" and \\ escapes)
//   <embed>.<field>=...  <embed>.or=(...)  <embed>.order=  <embed>.limit=  <embed>.offset=
//   in.(a,"b,c",d)      is.null|not_null|true|false|unknown
//   order=a.desc.nullslast,data->k.asc,c
//   limit=N  offset=N  columns=a,b  on_conflict=a,b
//   select=...          see select-parse.ts

import { parseError } from './errors.ts';
import { parseSelect, type SelectItem } from './select-parse.ts';

/** Operators taking a value, mapped to their SQL operator (PostgREST's simple and quantifiable operators). */
export const OPERATORS: Readonly<Record<string, string>> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'LIKE',
  ilike: 'ILIKE',
  match: '~',
  imatch: '~*',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  sl: '<<',
  sr: '>>',
  nxr: '&<',
  nxl: '&>',
  adj: '-|-',
};
/** Operators that take `(any)` / `(all)`. */
export const QUANTIFIABLE: ReadonlySet<string> = new Set(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
/** Full-text search operators and their tsquery function. */
export const FTS_FUNCTIONS: Readonly<Record<string, string>> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
};

/** A filter operator name (`eq`, `cs`, `fts`, …). */
export type FilterOp = string;
/** The values `is.` accepts. */
export type IsValue = 'null' | 'not_null' | 'true' | 'false' | 'unknown';

/** One step of a JSON path: `->key` (json) or `->>key` (text); an integer key indexes an array. */
export interface JsonStep {
  arrow: '->' | '->>';
  key: string;
  index: boolean;
}

/** A column with an optional JSON path. */
export interface Field {
  column: string;
  path: JsonStep[];
}

/** A filter condition. `path` is present only for JSON-path filters, `quantifier` / `config` only when given. */
export type Condition =
  | { kind: 'cond'; column: string; path?: JsonStep[]; negated: boolean; op: 'in'; value: string[] }
  | { kind: 'cond'; column: string; path?: JsonStep[]; negated: boolean; op: 'is'; value: IsValue }
  | {
      kind: 'cond';
      column: string;
      path?: JsonStep[];
      negated: boolean;
      op: string;
      value: string;
      quantifier?: 'any' | 'all';
      config?: string;
    };

/** An `and`/`or` group (possibly negated) of conditions and groups. */
export interface Logic {
  kind: 'and' | 'or';
  negated: boolean;
  children: FilterNode[];
}

/** A filter: a condition or a logic group. */
export type FilterNode = Condition | Logic;

/** One `order=` term. `path` is present only for JSON-path terms. */
export interface OrderTerm {
  column: string;
  path?: JsonStep[];
  direction: 'asc' | 'desc' | null;
  nulls: 'first' | 'last' | null;
}

/** `null` means `*` (every column). */
export type SelectList = SelectItem[] | null;

/** Filters, order and paging of one embedded resource (`<embed>.<param>=`). */
export interface EmbedParams {
  filters: FilterNode[];
  order: OrderTerm[];
  limit: number | null;
  offset: number | null;
}

/** The parsed query string of a request. */
export interface ParsedQuery {
  select: SelectList;
  filters: FilterNode[];
  order: OrderTerm[];
  limit: number | null;
  offset: number | null;
  columns: string[] | null;
  onConflict: string[] | null;
  /** Parameters addressed to an embedded resource, by its alias (or name). */
  embedded: Map<string, EmbedParams>;
  /** Query parameters that are neither reserved words nor filters (used for GET rpc args). */
  rawParams: [string, string][];
}

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict', 'or', 'and', 'not.or', 'not.and']);

const IS_VALUES: readonly IsValue[] = ['null', 'not_null', 'true', 'false', 'unknown'];

/** A plain name (select, order, columns, on_conflict): `"quoted"` allowed, no syntax characters. */
function checkName(rawName: string, where: string): string {
  // "quoted" names are accepted (supabase-js quotes columns= entries); the quotes are not part of the name
  const name = /^"[^"]+"$/.test(rawName) ? rawName.slice(1, -1) : rawName;
  if (name === '') throw parseError(`"failed to parse ${where}"`, 'Empty column name');
  if (/[():"!]|->/.test(name)) {
    throw parseError(`"failed to parse ${where} parameter (${name})"`, `unexpected character in the column name "${name}"`);
  }
  return name;
}

/**
 * Parses `col`, `"col"` or `col->a->>b` (PostgREST's pField). JSON keys may not contain
 * `( - : . , > )` unless double-quoted; an integer key (`->0`, `->-1`) indexes an array.
 */
export function parseField(raw: string, where: string): Field {
  const s = raw.trim();
  const arrow = s.indexOf('->');
  const head = arrow < 0 ? s : s.slice(0, arrow);
  const column = checkName(head.trim(), where);
  const path: JsonStep[] = [];
  let i = arrow < 0 ? s.length : arrow;
  while (i < s.length) {
    const op: JsonStep['arrow'] = s.startsWith('->>', i)
      ? '->>'
      : s.startsWith('->', i)
        ? '->'
        : (() => {
            throw parseError(`"failed to parse ${where} (${raw})"`, `unexpected "${s.slice(i)}" expecting "->" or "->>"`);
          })();
    i += op.length;
    let key: string;
    if (s[i] === '"') {
      const q = parseQuoted(s, i);
      key = q.value;
      i = q.end;
    } else {
      const start = i;
      while (i < s.length && !s.startsWith('->', i) && !'(:.,>)'.includes(s[i] ?? '')) i++;
      key = s.slice(start, i).trim();
    }
    if (key === '') throw parseError(`"failed to parse ${where} (${raw})"`, 'expecting a JSON key after "->"');
    if (i < s.length && !s.startsWith('->', i)) throw parseError(`"failed to parse ${where} (${raw})"`, `unexpected "${s.slice(i)}"`);
    path.push({ arrow: op, key, index: /^-?\d+$/.test(key) });
  }
  return { column, path };
}

/** Parses a select list; kept here for callers that only import query-parse. */
export { parseSelect };

/** Parses a comma-separated list of plain names (`columns=`, `on_conflict=`). */
export function parseNameList(raw: string, where: string): string[] {
  return raw.split(',').map((p) => checkName(p.trim(), where));
}

/** Parses `order=`: `field[.asc|.desc][.nullsfirst|.nullslast]`, comma separated. */
export function parseOrder(raw: string): OrderTerm[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((term) => {
    const parts = term.trim().split('.');
    const fieldRaw = parts[0] ?? '';
    if (fieldRaw.includes('(')) {
      throw parseError(
        `"failed to parse order (${raw})"`,
        'Ordering by an embedded resource (related order) is not supported by the local stand-in',
      );
    }
    const field = parseField(fieldRaw, 'order');
    let direction: OrderTerm['direction'] = null;
    let nulls: OrderTerm['nulls'] = null;
    for (const modifier of parts.slice(1)) {
      if ((modifier === 'asc' || modifier === 'desc') && direction === null && nulls === null) direction = modifier;
      else if ((modifier === 'nullsfirst' || modifier === 'nullslast') && nulls === null)
        nulls = modifier === 'nullsfirst' ? 'first' : 'last';
      else
        throw parseError(
          `"failed to parse order (${raw})"`,
          `unexpected "${modifier}" expecting "asc", "desc", "nullsfirst" or "nullslast"`,
        );
    }
    return { column: field.column, ...(field.path.length ? { path: field.path } : {}), direction, nulls };
  });
}

function parseNonNegInt(raw: string, name: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw parseError(`"failed to parse ${name} parameter (${raw})"`, 'expecting a non-negative integer');
  return Number(raw);
}

/** Splits `op(modifier)` into the operator and its modifier (a quantifier or an fts config). */
function splitOperator(raw: string): { op: string; modifier: string | null } {
  const m = /^([a-z]+)(?:\(([^()]*)\))?$/.exec(raw);
  if (m === null) throw parseError(`"failed to parse filter (${raw})"`, `unknown or unsupported operator "${raw}"`);
  return { op: m[1] ?? '', modifier: m[2] ?? null };
}

/** Builds a condition from an operator expression `[not.]op.value` (value already unquoted where needed). */
function makeCondition(field: Field, negated: boolean, rawOp: string, value: string | string[]): Condition {
  const { op, modifier } = splitOperator(rawOp);
  const base = { kind: 'cond' as const, column: field.column, ...(field.path.length ? { path: field.path } : {}), negated };
  if (op === 'in' || op === 'is' || op === 'isdistinct') {
    if (modifier !== null) throw parseError(`"failed to parse filter (${rawOp})"`, `"${op}" takes no modifier`);
  }
  if (op === 'in') {
    if (!Array.isArray(value)) throw parseError('"failed to parse filter (in)"', 'in expects a list: in.(a,b,c)');
    return { ...base, op, value };
  }
  if (Array.isArray(value)) throw parseError(`"failed to parse filter (${op})"`, 'unexpected list value');
  if (op === 'is') {
    const v = value.toLowerCase();
    const found = IS_VALUES.find((x) => x === v);
    if (found === undefined)
      throw parseError(`"failed to parse filter (is.${value})"`, 'is expects null, not_null, true, false or unknown');
    return { ...base, op, value: found };
  }
  if (op === 'isdistinct') return { ...base, op, value };
  if (FTS_FUNCTIONS[op] !== undefined) {
    if (modifier === '') throw parseError(`"failed to parse filter (${rawOp})"`, 'expecting a text search configuration inside "()"');
    return { ...base, op, value, ...(modifier !== null ? { config: modifier } : {}) };
  }
  if (OPERATORS[op] === undefined) throw parseError(`"failed to parse filter (${rawOp})"`, `unknown or unsupported operator "${op}"`);
  if (modifier !== null) {
    if (!QUANTIFIABLE.has(op) || (modifier !== 'any' && modifier !== 'all')) {
      throw parseError(
        `"failed to parse filter (${rawOp})"`,
        `"${op}" takes no modifier; (any) and (all) apply to eq, gt, gte, lt, lte, like, ilike, match, imatch`,
      );
    }
    return { ...base, op, value, quantifier: modifier };
  }
  return { ...base, op, value };
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
    if (s[i] === ',') {
      i++;
      continue;
    }
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
    out += c ?? '';
    i++;
  }
  throw parseError(`"failed to parse logic tree (${s})"`, 'unterminated double-quoted value');
}

/** Top-level filter value `[not.]op.value` for field `key`. Values are literal (no unquoting). */
export function parseTopFilter(key: string, raw: string): Condition {
  const field = parseField(key, 'filter');
  let rest = raw;
  let negated = false;
  if (rest.startsWith('not.')) {
    negated = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+(?:\([^()]*\))?)\./.exec(rest);
  if (m === null) throw parseError(`"failed to parse filter (${raw})"`, 'expecting an operator: op.value');
  const op = m[1] ?? '';
  const valueRaw = rest.slice(op.length + 1);
  if (op === 'in') {
    const { items, end } = parseList(valueRaw, 0);
    if (end !== valueRaw.length) throw parseError(`"failed to parse filter (${raw})"`, 'unexpected characters after the list');
    return makeCondition(field, negated, op, items);
  }
  return makeCondition(field, negated, op, valueRaw);
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
  constructor(s: string) {
    this.s = s;
  }

  fail(expecting: string): never {
    throw parseError(
      `"failed to parse logic tree (${this.s})" (line 1, column ${this.pos + 1})`,
      `unexpected ${this.pos < this.s.length ? `"${this.s[this.pos]}"` : 'end of input'} expecting ${expecting}`,
    );
  }

  parseGroup(): FilterNode[] {
    if (this.s[this.pos] !== '(') this.fail('"("');
    this.pos++;
    const children: FilterNode[] = [];
    for (;;) {
      children.push(this.parseItem());
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        return children;
      }
      this.fail('"," or ")"');
    }
  }

  parseItem(): FilterNode {
    let negated = false;
    if (this.s.startsWith('not.', this.pos)) {
      const after = this.s.slice(this.pos + 4);
      if (after.startsWith('and(') || after.startsWith('or(')) {
        negated = true;
        this.pos += 4;
      }
    }
    for (const kind of ['and', 'or'] as const) {
      if (this.s.startsWith(`${kind}(`, this.pos)) {
        this.pos += kind.length;
        return { kind, negated, children: this.parseGroup() };
      }
    }
    if (negated) this.fail('a logic group');
    // <field>.[not.]<op>.<value>
    let fieldRaw: string;
    if (this.s[this.pos] === '"') {
      const q = parseQuoted(this.s, this.pos);
      fieldRaw = `"${q.value}"`;
      this.pos = q.end;
    } else {
      const start = this.pos;
      while (this.pos < this.s.length && !'.,()"'.includes(this.s[this.pos] ?? '')) this.pos++;
      fieldRaw = this.s.slice(start, this.pos);
    }
    if (fieldRaw === '') this.fail('a column name');
    const field = parseField(fieldRaw, 'logic tree');
    if (this.s[this.pos] !== '.') this.fail('"."');
    this.pos++;
    let condNegated = false;
    if (this.s.startsWith('not.', this.pos)) {
      condNegated = true;
      this.pos += 4;
    }
    const opStart = this.pos;
    while (this.pos < this.s.length && /[a-z_]/.test(this.s[this.pos] ?? '')) this.pos++;
    if (this.s[this.pos] === '(') {
      const close = this.s.indexOf(')', this.pos);
      if (close < 0) this.fail('")"');
      this.pos = close + 1;
    }
    const op = this.s.slice(opStart, this.pos);
    if (op === '') this.fail('an operator');
    if (this.s[this.pos] !== '.') this.fail('"."');
    this.pos++;
    if (op === 'in') {
      const { items, end } = parseList(this.s, this.pos);
      this.pos = end;
      return makeCondition(field, condNegated, op, items);
    }
    let value: string;
    if (this.s[this.pos] === '"') {
      const q = parseQuoted(this.s, this.pos);
      value = q.value;
      this.pos = q.end;
    } else if (
      this.s[this.pos] === '{' &&
      this.s.indexOf('}', this.pos) > 0 &&
      !/[{]/.test(this.s.slice(this.pos + 1, this.s.indexOf('}', this.pos)))
    ) {
      // A Postgres array literal {a,b} keeps its commas (PostgREST's pPgArray): cs.{a,b} inside or=(…).
      const close = this.s.indexOf('}', this.pos);
      value = this.s.slice(this.pos, close + 1);
      this.pos = close + 1;
    } else {
      const start = this.pos;
      while (this.pos < this.s.length && this.s[this.pos] !== ',' && this.s[this.pos] !== ')') this.pos++;
      value = this.s.slice(start, this.pos);
    }
    return makeCondition(field, condNegated, op, value);
  }
}

const EMBED_PARAMS = new Set(['order', 'limit', 'offset', 'or', 'and', 'not.or', 'not.and']);

function embedParams(q: ParsedQuery, alias: string): EmbedParams {
  let p = q.embedded.get(alias);
  if (p === undefined) {
    p = { filters: [], order: [], limit: null, offset: null };
    q.embedded.set(alias, p);
  }
  return p;
}

/** Applies one `<embed>.<param>=value` parameter. */
function parseEmbedParam(q: ParsedQuery, key: string, value: string): void {
  const dot = key.indexOf('.');
  const alias = key.slice(0, dot);
  const rest = key.slice(dot + 1);
  if (alias === '' || rest === '') throw parseError(`"failed to parse filter (${key})"`, 'expecting <embedded resource>.<column>');
  const p = embedParams(q, alias);
  switch (rest) {
    case 'order':
      p.order = parseOrder(value);
      break;
    case 'limit':
      p.limit = parseNonNegInt(value, `${alias}.limit`);
      break;
    case 'offset':
      p.offset = parseNonNegInt(value, `${alias}.offset`);
      break;
    case 'or':
    case 'and':
      p.filters.push(parseLogicTree(rest, false, value));
      break;
    case 'not.or':
      p.filters.push(parseLogicTree('or', true, value));
      break;
    case 'not.and':
      p.filters.push(parseLogicTree('and', true, value));
      break;
    default:
      if (rest.includes('.') && !EMBED_PARAMS.has(rest)) {
        throw parseError(
          `"failed to parse filter (${key})"`,
          'Filters on embedded resources more than one level deep are not supported by the local stand-in',
        );
      }
      p.filters.push(parseTopFilter(rest, value));
  }
}

/**
 * Splits a query string into the PostgREST AST. `argNames` (for rpc) lists parameters that are
 * function arguments rather than filters.
 */
export function parseQuery(params: URLSearchParams, argNames: ReadonlySet<string> = new Set()): ParsedQuery {
  const out: ParsedQuery = {
    select: null,
    filters: [],
    order: [],
    limit: null,
    offset: null,
    columns: null,
    onConflict: null,
    embedded: new Map(),
    rawParams: [],
  };
  for (const [key, value] of params) {
    if (argNames.has(key) && !RESERVED.has(key)) {
      out.rawParams.push([key, value]);
      continue;
    }
    switch (key) {
      case 'select':
        out.select = parseSelect(value);
        break;
      case 'order':
        out.order = parseOrder(value);
        break;
      case 'limit':
        out.limit = parseNonNegInt(value, 'limit');
        break;
      case 'offset':
        out.offset = parseNonNegInt(value, 'offset');
        break;
      case 'columns':
        out.columns = parseNameList(value, 'columns');
        break;
      case 'on_conflict':
        out.onConflict = parseNameList(value, 'on_conflict');
        break;
      case 'or':
      case 'and':
        out.filters.push(parseLogicTree(key, false, value));
        break;
      case 'not.or':
        out.filters.push(parseLogicTree('or', true, value));
        break;
      case 'not.and':
        out.filters.push(parseLogicTree('and', true, value));
        break;
      default:
        // JSON keys cannot contain ".", so a dot in a parameter name addresses an embedded resource.
        if (key.includes('.') && !key.startsWith('"')) parseEmbedParam(out, key, value);
        else out.filters.push(parseTopFilter(key, value));
    }
  }
  return out;
}

/** Translates PostgREST's `*` wildcard in like/ilike patterns to SQL's `%`. */
export function likePattern(value: string): string {
  return value.replaceAll('*', '%');
}
