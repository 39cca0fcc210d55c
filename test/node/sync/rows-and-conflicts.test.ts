import { describe, expect, it } from 'vitest';
import { entity } from '../../shared/fixtures.ts';
import { pushConflictRecord } from '../../../src/sync/conflicts.ts';
import { toD1Row, toSupabaseRow } from '../../../src/sync/rows.ts';

const prospects = entity('prospects');
const emails = entity('emails');

const prospect = {
  id: '0b7c6f9e-8a7d-4d5e-9f3a-2b1c0d9e8f7a',
  name: 'Hotel Alpha',
  city: null,
  country: 'PT',
  contact_name: null,
  contact_email: 'a@example.com',
  contact_title: null,
  phone: null,
  website: null,
  linkedin_url: null,
  stage: 'new',
  tier: null,
  score: 7,
  lead_source: null,
  email_bounced: true,
  archived: false,
  created_at: '2026-11-29T06:29:16.5+00:00',
  updated_at: '2026-11-29T06:29:16.123456+00:00',
};

describe('toD1Row (pull)', () => {
  it('canonicalises timestamps and turns booleans into 0/1', () => {
    const r = toD1Row(prospects, prospect);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.row.updated_at).toBe('2026-11-29T06:29:16.123456Z');
    expect(r.row.created_at).toBe('2026-11-29T06:29:16.500000Z');
    expect(r.row.email_bounced).toBe(1);
    expect(r.row.archived).toBe(0);
  });

  it('rejects a row with the reasons and its id', () => {
    const r = toD1Row(prospects, { ...prospect, score: 'high', updated_at: 'never' });
    expect(r).toMatchObject({ ok: false, id: prospect.id });
    if (r.ok) return;
    expect(r.reason).toMatch(/score/);
    expect(r.reason).toMatch(/updated_at: not a timestamp/);
  });

  it('rejects unknown and missing columns', () => {
    const { name: _name, ...missing } = prospect;
    expect(toD1Row(prospects, missing).ok).toBe(false);
    expect(toD1Row(prospects, { ...prospect, extra: 1 }).ok).toBe(false);
  });
});

describe('toSupabaseRow (push)', () => {
  it('turns 0/1 back into booleans and keeps canonical timestamps', () => {
    const d1 = {
      ...prospect,
      email_bounced: 1,
      archived: 0,
      updated_at: '2026-11-29T06:29:16.123456Z',
      created_at: '2026-11-29T06:29:16.500000Z',
    };
    const r = toSupabaseRow(prospects, d1);
    expect(r).toMatchObject({ ok: true, row: { email_bounced: true, archived: false, updated_at: '2026-11-29T06:29:16.123456Z' } });
  });

  it('rejects an email whose id is not a uuid', () => {
    const r = toSupabaseRow(emails, { id: 'nope' });
    expect(r.ok).toBe(false);
  });
});

describe('pushConflictRecord', () => {
  it('records a Supabase version that won under last-write-wins, in canonical form', () => {
    const r = pushConflictRecord({
      id: 'r',
      op: 'upsert',
      winner: 'supabase',
      supabase_ts: '2026-11-29T06:00:00.000002+00:00',
      supabase_deleted: false,
      d1_ts: '2026-11-29T06:00:00.000001Z',
    });
    expect(r).toMatchObject({
      rowId: 'r',
      direction: 'push',
      winner: 'supabase',
      supabaseUpdatedAt: '2026-11-29T06:00:00.000002Z',
      d1UpdatedAt: '2026-11-29T06:00:00.000001Z',
    });
    expect(r.reason).toMatch(/^last-write-wins: .*Supabase's version is kept and D1 takes it/);
  });

  it('says when the winner is a delete made in Supabase after the edge write', () => {
    const r = pushConflictRecord({
      id: 'r',
      op: 'upsert',
      winner: 'supabase',
      supabase_ts: '2026-11-29T06:05:00+00:00',
      supabase_deleted: true,
      d1_ts: '2026-11-29T06:02:00.000000Z',
    });
    expect(r.reason).toMatch(/was deleted in Supabase after the D1 upsert; Supabase's delete is kept/);
  });

  it('records D1 overwriting a later Supabase change under source-wins', () => {
    const r = pushConflictRecord({
      id: 'r',
      op: 'delete',
      winner: 'd1',
      supabase_ts: '2026-11-29T06:05:00+00:00',
      supabase_deleted: false,
      d1_ts: '2026-11-29T06:02:00.000000Z',
    });
    expect(r).toMatchObject({ winner: 'd1', supabaseUpdatedAt: '2026-11-29T06:05:00.000000Z' });
    expect(r.reason).toMatch(/^source-wins: .*D1's delete overwrites it/);
  });
});

describe('the row conversion fast path agrees with the schema', () => {
  // The fast path accepts only what the zod schema accepts; everything else gets zod's verdict.
  it('converts valid rows the same way in both directions and defers every doubtful value to the schema', () => {
    const upper = { ...prospect, id: prospect.id.toUpperCase() };
    const pulled = toD1Row(prospects, upper);
    expect(pulled.ok && pulled.row['id']).toBe(prospect.id.toLowerCase());
    for (const bad of [
      { ...prospect, extra: 1 },
      { ...prospect, score: 1.5 },
      { ...prospect, score: 2 ** 60 },
      { ...prospect, city: undefined },
      { ...prospect, email_bounced: 1 },
      { ...prospect, updated_at: '2026-02-30T00:00:00Z' },
    ]) {
      const r = toD1Row(prospects, bad);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.reason).not.toBe('');
    }
    const d1 = toD1Row(prospects, prospect);
    if (!d1.ok) throw new Error(d1.reason);
    const pushed = toSupabaseRow(prospects, d1.row);
    expect(pushed.ok && pushed.row['email_bounced']).toBe(prospect.email_bounced);
    expect(toSupabaseRow(prospects, { ...d1.row, id: String(d1.row['id']).toUpperCase() }).ok).toBe(false);
  });
});
