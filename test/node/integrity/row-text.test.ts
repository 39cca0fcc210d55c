// The canonical row text is defined twice, in SQL (sync_private.row_text_sql) and here; these
// tests hold the two byte-identical on the real migrations (PGlite), over the values that break
// naive encodings, and pin the format itself.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityDefinition, Row } from '../../../src/entities.ts';
import { entity } from '../../shared/fixtures.ts';
import { addRow, bucketOf, type Digest } from '../../../src/integrity/digest.ts';
import { canonicalRowText, d1ValueText, rowHash } from '../../../src/integrity/row-text.ts';
import { toD1Row } from '../../../src/sync/rows.ts';

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'supabase', 'migrations');

const columnsOf = (e: EntityDefinition): string =>
  JSON.stringify(Object.entries(e.columns).map(([name, spec]) => ({ name, type: spec.type })));

describe('the canonical row text format', () => {
  const tiny: EntityDefinition = {
    name: 'tiny',
    table: 'tiny',
    key: 'id',
    cursorColumn: 'updated_at',
    direction: 'pull',
    pageSize: 10,
    conflictPolicy: 'last-write-wins',
    tombstones: false,
    columns: { id: { type: 'uuid' }, note: { type: 'text', nullable: true }, n: { type: 'integer' }, flag: { type: 'boolean' } },
  };

  it('writes each field as <UTF-8 byte length>:<value>, NULL as ~, with no separator', () => {
    expect(canonicalRowText(tiny, { id: 'ab', note: 'é😀', n: -42, flag: 1 })).toBe('2:ab6:é😀3:-421:1');
    expect(canonicalRowText(tiny, { id: 'ab', note: null, n: 0, flag: 0 })).toBe('2:ab~1:01:0');
  });

  it('keeps NULL, the empty string, the text null and a literal ~ apart', () => {
    const texts = [null, '', 'null', '~', '0:', '~~'].map((note) => canonicalRowText(tiny, { id: 'x', note, n: 1, flag: 0 }));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('no value can move a field boundary into the next column', () => {
    // The same characters split differently across two text columns give different texts.
    const two: EntityDefinition = { ...tiny, columns: { a: { type: 'text' }, b: { type: 'text' } } };
    expect(canonicalRowText(two, { a: '1:x', b: '' })).not.toBe(canonicalRowText(two, { a: '', b: '1:x' }));
    expect(canonicalRowText(two, { a: 'ab', b: 'c' })).not.toBe(canonicalRowText(two, { a: 'a', b: 'bc' }));
  });

  it('takes D1 values as stored: integers in decimal, booleans 0/1, missing columns as NULL', () => {
    expect(d1ValueText(-0)).toBe('0');
    expect(d1ValueText(2147483647)).toBe('2147483647');
    expect(d1ValueText(true)).toBe('1');
    expect(d1ValueText(undefined)).toBeNull();
    expect(canonicalRowText(tiny, { id: 'x', n: 1, flag: 0 })).toBe('1:x~1:11:0');
  });

  it('hashes to the first 64 bits of md5 as 16 hex digits', () => {
    expect(rowHash('')).toBe('d41d8cd98f00b204');
  });
});

describe('the same text and digests in Postgres (supabase/migrations on PGlite)', () => {
  let pg: PGlite;

  beforeAll(async () => {
    pg = new PGlite();
    for (const file of readdirSync(MIGRATIONS)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      await pg.exec(readFileSync(join(MIGRATIONS, file), 'utf8'));
    }
    await pg.exec(`
      insert into campaigns (id, name, description, status, daily_limit, sequence_steps, starts_on, ends_on, created_at, updated_at) values
        ('0a000000-0000-4000-8000-000000000001', 'Ünïcödé 😀 漢字', null, 'draft', -5, 0, '2026-02-28', null, '2026-11-29 06:29:16.123456+00', '2026-11-29 06:29:16.000001+00'),
        ('0a000000-0000-4000-8000-000000000002', 'quotes '' " and \\ backslashes \\n', '', 'active', 2147483647, -2147483648, '0001-01-01', '9999-12-31', '1970-01-01 00:00:00+00', '2026-11-29 23:59:59.999999+05:30'),
        ('0a000000-0000-4000-8000-000000000003', e'line\\nbreak\\r\\nand\\ttab', 'null', 'paused', 0, 1, null, null, '1969-12-31 23:59:59.5-01', '2000-02-29 12:00:00+00'),
        ('0A000000-0000-4000-8000-0000000000FF', '~', '~', 'completed', 1, 1, null, null, now(), now());
      insert into mailboxes (id, email, display_name, warmup_enabled, health_score, last_used_at) values
        ('1b000000-0000-4000-8000-000000000001', 'a@example.com', '', true, 0, null),
        ('1b000000-0000-4000-8000-000000000002', 'b@example.com', null, false, null, '2026-01-01 00:00:00.000010+00'),
        ('1b000000-0000-4000-8000-000000000003', 'c@example.com', '4:null', false, -1, '2026-01-01 00:00:00+00');
      insert into prospects (id, name, score, email_bounced, archived, contact_email) values
        ('2c000000-0000-4000-8000-000000000001', 'P', -7, true, false, null),
        ('2c000000-0000-4000-8000-000000000002', '', 0, false, true, '');
      insert into emails (id, prospect_id, to_email, from_email, direction, status, body, sent_at) values
        ('3d000000-0000-4000-8000-000000000001', '2C000000-0000-4000-8000-000000000001', 'x@example.com', 'y@example.com', 'outbound', 'sent', e'<p>\\u00e9</p>\\n', '2026-11-29 06:29:16.1+00');
    `);
  }, 60_000);

  afterAll(async () => {
    await pg.close();
  });

  /** The rows as the pull writes them to D1: PostgREST JSON through the registry's zod schema. */
  async function d1Rows(e: EntityDefinition): Promise<Row[]> {
    const names = Object.keys(e.columns);
    const r = await pg.query<{ row: Row }>(`select to_jsonb(t) as row from public.${e.table} t`);
    return r.rows.map(({ row }) => {
      const checked = toD1Row(e, Object.fromEntries(names.map((n) => [n, row[n]])));
      if (!checked.ok) throw new Error(checked.reason);
      return checked.row;
    });
  }

  for (const name of ['campaigns', 'mailboxes', 'prospects', 'emails']) {
    it(`${name}: Postgres' row text is byte-identical to the Worker's over the D1 row the pull writes`, async () => {
      const e = entity(name);
      const expr = (
        await pg.query<{ sql: string }>(`select sync_private.row_text_sql($1::regclass, $2::jsonb) as sql`, [
          `public.${e.table}`,
          columnsOf(e),
        ])
      ).rows[0]?.sql;
      const fromSql = await pg.query<{ id: string; text: string }>(
        `select t.id::text as id, ${expr ?? ''} as text from public.${e.table} t`,
      );
      const sqlText = new Map(fromSql.rows.map((r) => [r.id, r.text]));
      const rows = await d1Rows(e);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(canonicalRowText(e, row)).toBe(sqlText.get(String(row['id'])));
    });
  }

  it("sync_range_rows hashes and versions match the Worker's", async () => {
    const e = entity('campaigns');
    const r = await pg.query<{ r: [string, string, string][] }>(
      `select public.sync_range_rows('campaigns', $1::jsonb, 'updated_at', '["0"]') as r`,
      [columnsOf(e)],
    );
    const fromSql = new Map((r.rows[0]?.r ?? []).map(([id, version, hash]) => [id, { version, hash }]));
    const rows = await d1Rows(e);
    expect(fromSql.size).toBe(rows.length);
    for (const row of rows) {
      expect(fromSql.get(String(row['id']))).toEqual({ version: row['updated_at'], hash: rowHash(canonicalRowText(e, row)) });
    }
  });

  it('sync_range_digests equal the digests the Worker computes, at every prefix length', async () => {
    const e = entity('mailboxes');
    const rows = await d1Rows(e);
    for (const len of [1, 2, 4, 8]) {
      const r = await pg.query<{ r: { total: number; buckets: [string, number, string][] } }>(
        `select public.sync_range_digests('mailboxes', $1::jsonb, $2, null) as r`,
        [columnsOf(e), len],
      );
      const mine = new Map<string, Digest>();
      for (const row of rows) addRow(mine, bucketOf(String(row['id']), len), rowHash(canonicalRowText(e, row)));
      const theirs = new Map((r.rows[0]?.r.buckets ?? []).map(([p, n, s]) => [p, { count: n, sum: BigInt(s) }]));
      expect(theirs).toEqual(mine);
      expect(r.rows[0]?.r.total).toBe(rows.length);
    }
  });

  it('refuses unregistered tables, columns the table lacks, registry types that do not fit, and builds no SQL from them', async () => {
    const call = (table: string, columns: string): Promise<unknown> =>
      pg.query(`select public.sync_range_digests($1, $2::jsonb, 2, null)`, [table, columns]);
    await expect(call('sync_fences', '[{"name":"entity","type":"text"}]')).rejects.toThrow(/not registered/);
    await expect(call('campaigns; drop table campaigns', '[{"name":"id","type":"uuid"}]')).rejects.toThrow(/not registered/);
    await expect(call('campaigns', '[{"name":"id\\" from pg_authid --","type":"text"}]')).rejects.toThrow(/has no column/);
    await expect(call('campaigns', '[{"name":"name","type":"integer"}]')).rejects.toThrow(/does not fit registry type integer/);
    await expect(call('campaigns', '[]')).rejects.toThrow(/non-empty JSON array/);
    // A prefix is data: one that cannot start a uuid selects nothing.
    const r = await pg.query<{ r: { total: number } }>(
      `select public.sync_range_digests('campaigns', '[{"name":"id","type":"uuid"}]', 1, $1::jsonb) as r`,
      [JSON.stringify(["0') or true --", 'Z'])],
    );
    expect(r.rows[0]?.r.total).toBe(0);
    expect((await pg.query(`select count(*)::int as n from campaigns`)).rows[0]).toEqual({ n: 4 });
  });
});
