import { describe, expect, it } from 'vitest';
import { entity } from '../../shared/fixtures.ts';
import { diffRows, planRepair, type RowDrift, type RowVersion } from '../../../src/integrity/drift.ts';

const T1 = '2026-11-29T10:00:00.000000Z';
const T2 = '2026-11-29T10:00:00.000001Z';
const v = (id: string, version: string, hash: string): RowVersion => ({ id, version, hash });

describe('diffRows classifies each differing row', () => {
  const d1 = [v('same', T1, 'h0'), v('extra', T1, 'h1'), v('older', T1, 'h2'), v('newer', T2, 'h3'), v('edited', T1, 'h4')];
  const supabase = [v('same', T1, 'h0'), v('missing', T1, 'h5'), v('older', T2, 'h6'), v('newer', T1, 'h7'), v('edited', T1, 'h8')];
  const drift = diffRows(d1, supabase);

  it('missing, extra, older, newer, same version with other content; equal rows are only counted', () => {
    expect(drift).toMatchObject({
      missing: ['missing'],
      extra: ['extra'],
      olderInD1: ['older'],
      newerInD1: ['newer'],
      sameVersionOtherContent: ['edited'],
      same: 1,
    });
  });

  it('keeps both versions of every differing row, null for the side without it', () => {
    expect(drift.versions).toEqual({
      missing: { d1: null, supabase: T1 },
      extra: { d1: T1, supabase: null },
      older: { d1: T1, supabase: T2 },
      newer: { d1: T2, supabase: T1 },
      edited: { d1: T1, supabase: T1 },
    });
    expect(drift.versions['same']).toBeUndefined();
  });

  it('reports nothing for identical sides', () => {
    expect(diffRows(supabase, supabase)).toMatchObject({
      missing: [],
      extra: [],
      olderInD1: [],
      newerInD1: [],
      sameVersionOtherContent: [],
      same: 5,
    });
  });
});

describe("planRepair follows the entity's policy", () => {
  const drift: RowDrift = {
    missing: ['m'],
    extra: ['x'],
    olderInD1: ['o'],
    newerInD1: ['n', 'np'],
    sameVersionOtherContent: ['s'],
    versions: {},
  };

  it('pull-only replicas: Supabase wins every row, pending or not', () => {
    expect(planRepair(entity('campaigns'), drift, new Set(['np']))).toEqual({
      takeFromSupabase: ['m', 'n', 'np', 'o', 's', 'x'],
      requeue: [],
      leftPending: [],
      supabaseOnly: [],
    });
  });

  it('two-way prospects: pending rows are left to the push, every other row follows Supabase, a newer D1 version too (soak seed 499: a Supabase writer set updated_at into the past)', () => {
    expect(planRepair(entity('prospects'), drift, new Set(['np', 'o']))).toEqual({
      takeFromSupabase: ['m', 'n', 's', 'x'],
      requeue: [],
      leftPending: ['np', 'o'],
      supabaseOnly: [],
    });
  });

  it('emails (D1 is the truth): every row D1 holds is re-queued, rows only in Supabase are reported, pending rows left alone', () => {
    expect(planRepair(entity('emails'), drift, new Set(['np']))).toEqual({
      takeFromSupabase: [],
      requeue: ['n', 'o', 's', 'x'],
      leftPending: ['np'],
      supabaseOnly: ['m'],
    });
  });
});
