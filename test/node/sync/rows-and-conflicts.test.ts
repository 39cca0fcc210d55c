import { describe, expect, it } from 'vitest';
import { ENTITIES } from '../../../src/entities.ts';
import { decidePush } from '../../../src/sync/conflicts.ts';
import { toReplicaRow, toSourceRow } from '../../../src/sync/rows.ts';

const prospects = ENTITIES.prospects!;
const emails = ENTITIES.emails!;

const prospect = {
  id: '0b7c6f9e-8a7d-4d5e-9f3a-2b1c0d9e8f7a', name: 'Hotel Alpha', city: null, country: 'PT', contact_name: null,
  contact_email: 'a@example.com', contact_title: null, phone: null, website: null, linkedin_url: null, stage: 'new',
  tier: null, score: 7, lead_source: null, email_bounced: true, archived: false,
  created_at: '2026-11-29T06:29:16.5+00:00', updated_at: '2026-11-29T06:29:16.123456+00:00',
};

describe('toReplicaRow (pull)', () => {
  it('canonicalises timestamps and turns booleans into 0/1', () => {
    const r = toReplicaRow(prospects, prospect);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.row.updated_at).toBe('2026-11-29T06:29:16.123456Z');
    expect(r.row.created_at).toBe('2026-11-29T06:29:16.500000Z');
    expect(r.row.email_bounced).toBe(1);
    expect(r.row.archived).toBe(0);
  });

  it('rejects a row with the reasons and its id', () => {
    const r = toReplicaRow(prospects, { ...prospect, score: 'high', updated_at: 'never' });
    expect(r).toMatchObject({ ok: false, id: prospect.id });
    if (r.ok) return;
    expect(r.reason).toMatch(/score/);
    expect(r.reason).toMatch(/updated_at: not a timestamp/);
  });

  it('rejects unknown and missing columns', () => {
    const { name: _name, ...missing } = prospect;
    expect(toReplicaRow(prospects, missing).ok).toBe(false);
    expect(toReplicaRow(prospects, { ...prospect, extra: 1 }).ok).toBe(false);
  });
});

describe('toSourceRow (push)', () => {
  it('turns 0/1 back into booleans and keeps canonical timestamps', () => {
    const d1 = { ...prospect, email_bounced: 1, archived: 0, updated_at: '2026-11-29T06:29:16.123456Z', created_at: '2026-11-29T06:29:16.500000Z' };
    const r = toSourceRow(prospects, d1);
    expect(r).toMatchObject({ ok: true, row: { email_bounced: true, archived: false, updated_at: '2026-11-29T06:29:16.123456Z' } });
  });

  it('rejects an email whose id is not a uuid', () => {
    const r = toSourceRow(emails, { id: 'nope' });
    expect(r.ok).toBe(false);
  });
});

describe('decidePush', () => {
  const edge = '2026-11-29T06:00:00.000001Z';
  const later = '2026-11-29T06:00:00.000002Z';

  it('sends without conflict when the replica is not newer', () => {
    expect(decidePush('r', 'upsert', edge, edge, 'last-write-wins')).toEqual({ send: true, conflict: null });
    expect(decidePush('r', 'upsert', edge, null, 'last-write-wins')).toEqual({ send: true, conflict: null });
  });

  it('skips a delete of a row Supabase does not have', () => {
    expect(decidePush('r', 'delete', edge, null, 'source-wins')).toEqual({ send: false, conflict: null });
  });

  it('last-write-wins keeps the newer replica and records it', () => {
    const d = decidePush('r', 'upsert', edge, later, 'last-write-wins');
    expect(d.send).toBe(false);
    expect(d.conflict).toMatchObject({ rowId: 'r', winner: 'supabase', supabaseUpdatedAt: later, d1UpdatedAt: edge });
  });

  it('source-wins overwrites the newer replica and records it', () => {
    const d = decidePush('r', 'delete', edge, later, 'source-wins');
    expect(d.send).toBe(true);
    expect(d.conflict).toMatchObject({ winner: 'd1', direction: 'push' });
  });
});
