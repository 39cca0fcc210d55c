/** "Recent conflicts" and "Quarantined rows". */
import type { ConflictEntry, QuarantineEntry } from '../../types.ts';
import { badge, byId, cell, el, emptyRow, setChildren, timeEl } from './dom.ts';

/** Fills the conflicts table. */
export function renderConflicts(list: readonly ConflictEntry[]): void {
  const rows = list.map((c) =>
    el('tr', {}, [
      el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(c.at)]),
      cell(c.entity),
      cell([el('span', { className: 'mono', text: c.rowId })]),
      cell([badge(c.winner === 'supabase' ? 'Supabase' : 'D1', 'info')]),
      cell(c.supabaseUpdatedAt ? [el('span', { className: 'mono', text: c.supabaseUpdatedAt })] : 'none'),
      cell(c.d1UpdatedAt ? [el('span', { className: 'mono', text: c.d1UpdatedAt })] : 'none'),
      cell(c.reason),
    ]),
  );
  setChildren(byId('conflicts-body'), rows.length > 0 ? rows : [emptyRow(7, 'No conflicts recorded.')]);
}

/** Fills the quarantine table. */
export function renderQuarantine(list: readonly QuarantineEntry[]): void {
  const rows = list.map((q) =>
    el('tr', {}, [
      el('th', { attrs: { scope: 'row' }, text: q.entity }),
      cell([el('span', { className: 'mono', text: q.rowId })]),
      cell(q.direction),
      cell(q.reason),
      cell([timeEl(q.firstSeen)], 'nowrap'),
      cell([timeEl(q.lastSeen)], 'nowrap'),
      cell(q.attempts, 'num'),
    ]),
  );
  setChildren(byId('quarantine-body'), rows.length > 0 ? rows : [emptyRow(7, 'No quarantined rows.')]);
}
