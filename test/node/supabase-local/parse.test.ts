// Pure parsing/building units of the stand-in: query syntax, headers, SQL splitting, SQL building.
import { describe, expect, it } from 'vitest';
import type { TableInfo } from '../../../dev/supabase-local/catalog.ts';
import { parseLogicTree, parseOrder, parseQuery, parseTopFilter } from '../../../dev/supabase-local/query-parse.ts';
import { effectiveRange, parsePrefer, parseRangeHeader } from '../../../dev/supabase-local/request-headers.ts';
import { buildRead, quoteIdent } from '../../../dev/supabase-local/sql-build.ts';
import { splitStatements } from '../../../dev/supabase-local/sql-split.ts';

describe('query-parse', () => {
  it('parses the keyset logic tree with quoted microsecond timestamps', () => {
    const t = '2026-01-01T00:00:00.000001+00:00';
    expect(parseLogicTree('or', false, `(updated_at.gt."${t}",and(updated_at.eq."${t}",id.gt.5))`)).toEqual({
      kind: 'or', negated: false, children: [
        { kind: 'cond', column: 'updated_at', negated: false, op: 'gt', value: t },
        { kind: 'and', negated: false, children: [
          { kind: 'cond', column: 'updated_at', negated: false, op: 'eq', value: t },
          { kind: 'cond', column: 'id', negated: false, op: 'gt', value: '5' },
        ] },
      ],
    });
  });

  it('handles escapes, not., in-lists and unquoted values with dots', () => {
    const tree = parseLogicTree('and', true, '(a.eq."x\\"y\\\\z",b.not.in.(1,"2,3"),not.or(c.is.null,d.like.*.com))');
    expect(tree.negated).toBe(true);
    expect(tree.children).toEqual([
      { kind: 'cond', column: 'a', negated: false, op: 'eq', value: 'x"y\\z' },
      { kind: 'cond', column: 'b', negated: true, op: 'in', value: ['1', '2,3'] },
      { kind: 'or', negated: true, children: [
        { kind: 'cond', column: 'c', negated: false, op: 'is', value: 'null' },
        { kind: 'cond', column: 'd', negated: false, op: 'like', value: '*.com' },
      ] },
    ]);
  });

  it('top-level filters take the value literally', () => {
    expect(parseTopFilter('name', 'eq."quoted"')).toEqual({ kind: 'cond', column: 'name', negated: false, op: 'eq', value: '"quoted"' });
    expect(parseTopFilter('t', 'not.gte.2026-01-01T00:00:00+00:00')).toMatchObject({ negated: true, op: 'gte', value: '2026-01-01T00:00:00+00:00' });
  });

  it('order terms, reserved parameters and errors', () => {
    expect(parseOrder('a.desc.nullslast,b,c.nullsfirst')).toEqual([
      { column: 'a', direction: 'desc', nulls: 'last' },
      { column: 'b', direction: null, nulls: null },
      { column: 'c', direction: null, nulls: 'first' },
    ]);
    const q = parseQuery(new URLSearchParams('select=id,name&limit=10&offset=5&columns="a","b"&on_conflict=code&id=gt.3'));
    expect(q).toMatchObject({ select: [{ kind: 'field', field: { column: 'id' } }, { kind: 'field', field: { column: 'name' } }], limit: 10, offset: 5, columns: ['a', 'b'], onConflict: ['code'] });
    expect(q.filters).toHaveLength(1);
    expect(() => parseQuery(new URLSearchParams('id=between.1'))).toThrow(/failed to parse/);
    expect(() => parseLogicTree('or', false, '(a.eq.1,b.eq.2')).toThrow(/failed to parse logic tree/);
  });
});

describe('request headers', () => {
  it('Prefer, Range and the max-rows cap', () => {
    expect(parsePrefer(['return=representation, count=exact', 'resolution=merge-duplicates', 'missing=default', 'tx=rollback'])).toMatchObject({ tx: null,
      return: 'representation', count: 'exact', resolution: 'merge-duplicates', missing: 'default',
    });
    expect(parseRangeHeader('0-9')).toEqual({ offset: 0, limit: 10 });
    expect(parseRangeHeader('5-')).toEqual({ offset: 5, limit: null });
    expect(parseRangeHeader('garbage')).toBeNull();
    expect(effectiveRange({ offset: 0, limit: 10 }, 5, null, 1000)).toEqual({ offset: 0, limit: 5 });
    expect(effectiveRange(null, 5000, 20, 1000)).toEqual({ offset: 20, limit: 1000 });
  });
});

describe('sql-split', () => {
  it('splits on top-level semicolons only', () => {
    const script = `create function f() returns int as $$ select 1; $$ language sql; -- a; comment
      insert into t values ('a;b', E'c\\';d', "weird;name"); /* x; /* nested; */ y */ select $tag$;$tag$;`;
    expect(splitStatements(script)).toHaveLength(3);
  });
});

describe('sql-build', () => {
  const table: TableInfo = {
    name: 'we"ird',
    columns: new Map([['id', { name: 'id', type: 'bigint', notNull: true, hasDefault: false, defaultSql: null }]]),
    primaryKey: ['id'],
    uniques: [['id']],
  };

  it('quotes identifiers and binds every value', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    const catalog = { tables: new Map([[table.name, table]]), functions: new Map(), foreignKeys: [] };
    const q = buildRead(catalog, table, {
      select: [{ kind: 'field', field: { column: 'id', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null }], filters: [{ kind: 'cond', column: 'id', negated: false, op: 'eq', value: "1'; drop table x; --" }],
      order: [], offset: 0, limit: 10, count: true, stripNulls: false,
    });
    expect(q.text).toContain('_pgrst_t."id" = $1');
    expect(q.text).toContain('FROM "public"."we""ird" AS _pgrst_t');
    expect(q.text).not.toContain('drop table');
    expect(q.params).toEqual(["1'; drop table x; --", '10', '0']);
    expect(() => buildRead(catalog, table, { select: [{ kind: 'field', field: { column: 'nope', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null }], filters: [], order: [], offset: 0, limit: 1, count: false, stripNulls: false })).toThrow(/does not exist/);
  });
});
