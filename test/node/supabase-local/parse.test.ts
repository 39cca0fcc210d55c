// Pure parsing/building units of the stand-in: query syntax, headers, SQL splitting, SQL building.
import { describe, expect, it } from 'vitest';
import type { TableInfo } from '../../../dev/supabase-local/catalog.ts';
import { parseField, parseLogicTree, parseOrder, parseQuery, parseTopFilter } from '../../../dev/supabase-local/query-parse.ts';
import { outputName, parseSelect } from '../../../dev/supabase-local/select-parse.ts';
import { effectiveRange, parsePrefer, parseRangeHeader } from '../../../dev/supabase-local/request-headers.ts';
import { buildRead, quoteIdent } from '../../../dev/supabase-local/sql-build.ts';
import { splitStatements } from '../../../dev/supabase-local/sql-split.ts';

describe('query-parse', () => {
  it('parses the keyset logic tree with quoted microsecond timestamps', () => {
    const t = '2026-01-01T00:00:00.000001+00:00';
    expect(parseLogicTree('or', false, `(updated_at.gt."${t}",and(updated_at.eq."${t}",id.gt.5))`)).toEqual({
      kind: 'or',
      negated: false,
      children: [
        { kind: 'cond', column: 'updated_at', negated: false, op: 'gt', value: t },
        {
          kind: 'and',
          negated: false,
          children: [
            { kind: 'cond', column: 'updated_at', negated: false, op: 'eq', value: t },
            { kind: 'cond', column: 'id', negated: false, op: 'gt', value: '5' },
          ],
        },
      ],
    });
  });

  it('handles escapes, not., in-lists and unquoted values with dots', () => {
    const tree = parseLogicTree('and', true, '(a.eq."x\\"y\\\\z",b.not.in.(1,"2,3"),not.or(c.is.null,d.like.*.com))');
    expect(tree.negated).toBe(true);
    expect(tree.children).toEqual([
      { kind: 'cond', column: 'a', negated: false, op: 'eq', value: 'x"y\\z' },
      { kind: 'cond', column: 'b', negated: true, op: 'in', value: ['1', '2,3'] },
      {
        kind: 'or',
        negated: true,
        children: [
          { kind: 'cond', column: 'c', negated: false, op: 'is', value: 'null' },
          { kind: 'cond', column: 'd', negated: false, op: 'like', value: '*.com' },
        ],
      },
    ]);
  });

  it('top-level filters take the value literally', () => {
    expect(parseTopFilter('name', 'eq."quoted"')).toEqual({ kind: 'cond', column: 'name', negated: false, op: 'eq', value: '"quoted"' });
    expect(parseTopFilter('t', 'not.gte.2026-01-01T00:00:00+00:00')).toMatchObject({
      negated: true,
      op: 'gte',
      value: '2026-01-01T00:00:00+00:00',
    });
  });

  it('order terms, reserved parameters and errors', () => {
    expect(parseOrder('a.desc.nullslast,b,c.nullsfirst')).toEqual([
      { column: 'a', direction: 'desc', nulls: 'last' },
      { column: 'b', direction: null, nulls: null },
      { column: 'c', direction: null, nulls: 'first' },
    ]);
    const q = parseQuery(new URLSearchParams('select=id,name&limit=10&offset=5&columns="a","b"&on_conflict=code&id=gt.3'));
    expect(q).toMatchObject({
      select: [
        { kind: 'field', field: { column: 'id' } },
        { kind: 'field', field: { column: 'name' } },
      ],
      limit: 10,
      offset: 5,
      columns: ['a', 'b'],
      onConflict: ['code'],
    });
    expect(q.filters).toHaveLength(1);
    expect(() => parseQuery(new URLSearchParams('id=between.1'))).toThrow(/failed to parse/);
    expect(() => parseLogicTree('or', false, '(a.eq.1,b.eq.2')).toThrow(/failed to parse logic tree/);
  });
});

describe('select-parse', () => {
  it('parses renames, casts, JSON paths, aggregates and embeds', () => {
    expect(parseSelect('*')).toBeNull();
    expect(parseSelect('heading:title,id::text,meta->a->>b,first:meta->list->0')).toEqual([
      { kind: 'field', field: { column: 'title', path: [] }, alias: 'heading', cast: null, aggregate: null, aggregateCast: null },
      { kind: 'field', field: { column: 'id', path: [] }, alias: null, cast: 'text', aggregate: null, aggregateCast: null },
      {
        kind: 'field',
        field: {
          column: 'meta',
          path: [
            { arrow: '->', key: 'a', index: false },
            { arrow: '->>', key: 'b', index: false },
          ],
        },
        alias: null,
        cast: null,
        aggregate: null,
        aggregateCast: null,
      },
      {
        kind: 'field',
        field: {
          column: 'meta',
          path: [
            { arrow: '->', key: 'list', index: false },
            { arrow: '->', key: '0', index: true },
          ],
        },
        alias: 'first',
        cast: null,
        aggregate: null,
        aggregateCast: null,
      },
    ]);
    expect(parseSelect('n:count(),meta->n::int.sum()::text')).toEqual([
      { kind: 'field', field: null, alias: 'n', cast: null, aggregate: 'count', aggregateCast: null },
      {
        kind: 'field',
        field: { column: 'meta', path: [{ arrow: '->', key: 'n', index: false }] },
        alias: null,
        cast: 'int',
        aggregate: 'sum',
        aggregateCast: 'text',
      },
    ]);
    expect(parseSelect('id,owner:sl_owners!owner_fk!inner(name,sl_x(*)),sl_y()')).toEqual([
      { kind: 'field', field: { column: 'id', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null },
      {
        kind: 'embed',
        relation: 'sl_owners',
        alias: 'owner',
        hint: 'owner_fk',
        joinType: 'inner',
        select: [
          { kind: 'field', field: { column: 'name', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null },
          { kind: 'embed', relation: 'sl_x', alias: null, hint: null, joinType: null, select: null },
        ],
      },
      { kind: 'embed', relation: 'sl_y', alias: null, hint: null, joinType: null, select: [] },
    ]);
  });

  it('names outputs like PostgREST and rejects what it cannot express safely', () => {
    const names = (parseSelect('a->b->>c,d->1,e->x->2,f::text,g.max()') ?? []).map((i) => (i.kind === 'field' ? outputName(i) : ''));
    expect(names).toEqual(['c', 'd', 'x', 'f', 'max']);
    expect(() => parseSelect('id::text;drop')).toThrow(/failed to parse select/);
    expect(() => parseSelect('...rel(a)')).toThrow(/failed to parse select/);
    expect(() => parseSelect('rel(a')).toThrow(/failed to parse select/);
    expect(parseField('"we.ird"->k', 'x')).toEqual({ column: 'we.ird', path: [{ arrow: '->', key: 'k', index: false }] });
  });

  it('parses operators with modifiers, embedded parameters and array literals in logic trees', () => {
    expect(parseTopFilter('fts', 'not.wfts(english).fat cats')).toEqual({
      kind: 'cond',
      column: 'fts',
      negated: true,
      op: 'wfts',
      value: 'fat cats',
      config: 'english',
    });
    expect(parseTopFilter('body', 'like(all).{a*,*b}')).toEqual({
      kind: 'cond',
      column: 'body',
      negated: false,
      op: 'like',
      value: '{a*,*b}',
      quantifier: 'all',
    });
    expect(() => parseTopFilter('x', 'cs(any).{1}')).toThrow(/failed to parse filter/);
    expect(parseLogicTree('or', false, '(tags.cs.{a,b},meta->>k.eq.v)').children).toEqual([
      { kind: 'cond', column: 'tags', negated: false, op: 'cs', value: '{a,b}' },
      { kind: 'cond', column: 'meta', path: [{ arrow: '->>', key: 'k', index: false }], negated: false, op: 'eq', value: 'v' },
    ]);
    const q = parseQuery(new URLSearchParams('select=id,items(id)&items.qty=gt.1&items.order=id.desc&items.limit=2&items.or=(id.eq.1)'));
    expect(q.embedded.get('items')).toMatchObject({ limit: 2, order: [{ column: 'id', direction: 'desc' }] });
    expect(q.embedded.get('items')?.filters).toHaveLength(2);
    expect(q.filters).toHaveLength(0);
  });
});

describe('request headers', () => {
  it('Prefer, Range and the max-rows cap', () => {
    expect(
      parsePrefer(['return=representation, count=exact', 'resolution=merge-duplicates', 'missing=default', 'tx=rollback']),
    ).toMatchObject({ tx: null, return: 'representation', count: 'exact', resolution: 'merge-duplicates', missing: 'default' });
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
      select: [{ kind: 'field', field: { column: 'id', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null }],
      filters: [{ kind: 'cond', column: 'id', negated: false, op: 'eq', value: "1'; drop table x; --" }],
      order: [],
      offset: 0,
      limit: 10,
      count: true,
      stripNulls: false,
    });
    expect(q.text).toContain('_pgrst_t."id" = $1');
    expect(q.text).toContain('FROM "public"."we""ird" AS _pgrst_t');
    expect(q.text).not.toContain('drop table');
    expect(q.params).toEqual(["1'; drop table x; --", '10', '0']);
    expect(() =>
      buildRead(catalog, table, {
        select: [{ kind: 'field', field: { column: 'nope', path: [] }, alias: null, cast: null, aggregate: null, aggregateCast: null }],
        filters: [],
        order: [],
        offset: 0,
        limit: 1,
        count: false,
        stripNulls: false,
      }),
    ).toThrow(/does not exist/);
  });
});
