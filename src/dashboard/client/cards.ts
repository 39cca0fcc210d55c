/** The overview tiles and one card per entity: its status, freshness and actions. */
import type { OverallStatus } from '../../status-summary.ts';
import type { Direction } from '../../entities.ts';
import type { EntityStatus } from '../../types.ts';
import { actionButton, badge, byId, el, setButtonLabel, setChildren, timeEl, type Child } from './dom.ts';
import { briefError, duration, outcomeTone, plural, seconds, shortId, shortTime } from './format.ts';

const DIRECTIONS: Record<Direction, string> = {
  pull: 'pull \u00b7 Supabase \u2192 D1',
  push: 'push \u00b7 D1 \u2192 Supabase',
  both: 'both \u00b7 two-way',
};

const FIELDS = [
  ['lastSync', 'Last sync'],
  ['lastRun', 'Last run'],
  ['freshness', 'Freshness'],
  ['pending', 'Pending'],
  ['nextRun', 'Next run'],
  ['errorStreak', 'Error streak'],
  ['cursor', 'Cursor'],
  ['lease', 'Lease'],
  ['flagged', 'Flagged rows'],
  ['interval', 'Interval'],
] as const;

type Field = (typeof FIELDS)[number][0];

const STATS = [
  ['rowsRead', 'Read'],
  ['rowsApplied', 'Applied'],
  ['rowsDeleted', 'Deleted'],
  ['rowsSkipped', 'Skipped'],
  ['rowsQuarantined', 'Quarantined'],
  ['conflicts', 'Conflicts'],
] as const;

type Stat = (typeof STATS)[number][0];

/** What a card's buttons do. */
export interface CardActions {
  sync(card: Card): void;
  togglePause(card: Card): void;
  reset(card: Card): void;
}

/** One entity's card: built once, then only its text changes (focus survives a refresh). */
export interface Card {
  name: string;
  root: HTMLElement;
  direction: HTMLElement;
  health: HTMLElement;
  paused: HTMLElement;
  running: HTMLElement;
  problems: HTMLElement;
  fields: Record<Field, HTMLElement>;
  stats: Record<Stat, HTMLElement>;
  statsCaption: HTMLElement;
  result: HTMLElement;
  syncButton: HTMLButtonElement;
  pauseButton: HTMLButtonElement;
  resetButton: HTMLButtonElement;
}

/** An id-safe form of an entity name. */
export function idPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Builds one card's fixed structure. */
export function createCard(name: string, actions: CardActions): Card {
  const id = `entity-${idPart(name)}`;
  const fieldList = el('dl', { className: 'fields' });
  const fields = {} as Record<Field, HTMLElement>;
  for (const [key, label] of FIELDS) {
    const dd = el('dd');
    fields[key] = dd;
    fieldList.append(el('dt', { text: label }), dd);
  }
  const statList = el('dl', { className: 'stats' });
  const stats = {} as Record<Stat, HTMLElement>;
  for (const [key, label] of STATS) {
    const dd = el('dd', { text: '\u2013' });
    stats[key] = dd;
    statList.append(el('div', {}, [el('dt', { text: label }), dd]));
  }
  const card: Card = {
    name,
    root: el('article'),
    direction: badge('', null),
    health: badge('', null),
    paused: badge('Paused', 'warn'),
    running: badge('Running', 'info'),
    problems: el('ul', { className: 'problems', attrs: { 'aria-label': 'Problems' } }),
    fields,
    stats,
    statsCaption: el('p', { className: 'stats-caption', text: 'Rows in the last run' }),
    result: el('p', { className: 'card-result' }),
    syncButton: actionButton('Sync now', name, ''),
    pauseButton: actionButton('Pause', name, ''),
    resetButton: actionButton('Reset cursor\u2026', name, 'danger'),
  };
  card.syncButton.addEventListener('click', () => actions.sync(card));
  card.pauseButton.addEventListener('click', () => actions.togglePause(card));
  card.resetButton.addEventListener('click', () => actions.reset(card));
  card.root = el('article', { className: 'card', attrs: { 'aria-labelledby': `${id}-title`, 'data-entity': name } }, [
    el('div', { className: 'card-head' }, [
      el('h3', { text: name, attrs: { id: `${id}-title` } }),
      card.direction,
      card.health,
      card.paused,
      card.running,
    ]),
    card.problems,
    fieldList,
    el('div', {}, [card.statsCaption, statList]),
    card.result,
    el('div', { className: 'button-row', attrs: { role: 'group', 'aria-label': `Actions for ${name}` } }, [
      card.syncButton,
      card.pauseButton,
      card.resetButton,
    ]),
  ]);
  return card;
}

/**
 * How far D1 trails Supabase: for pulls, how long the newest change the last run that applied
 * rows took to arrive; for pushes, how old the oldest change not yet sent is.
 */
function freshness(s: EntityStatus): Child[] {
  const parts: Child[] = [];
  if (s.pull) {
    const lag = s.pull.lastLag;
    parts.push(
      lag
        ? el(
            'span',
            {
              attrs: { 'data-freshness': 'pull', 'data-lag-ms': String(lag.lagMs) },
              title: `updated_at ${lag.newestAppliedAt} in Supabase; applied by run ${lag.runId}`,
            },
            [
              'Pull: ',
              el('strong', { text: duration(lag.lagMs) }),
              ' from Supabase to D1 (newest change, applied ',
              timeEl(lag.finishedAt),
              ')',
            ],
          )
        : el('span', { className: 'muted', attrs: { 'data-freshness': 'pull' }, text: 'Pull: no change applied yet' }),
    );
  }
  if (s.push) {
    if (parts.length > 0) parts.push(el('br'));
    const age = s.push.oldestPendingAgeSeconds;
    parts.push(
      s.push.pending > 0 && age !== null
        ? el('span', { attrs: { 'data-freshness': 'push', 'data-age-seconds': String(age) } }, [
            'Push: oldest unsent change ',
            el('strong', { text: seconds(age) }),
            ' old',
          ])
        : el('span', { className: 'muted', attrs: { 'data-freshness': 'push' }, text: 'Push: nothing waiting' }),
    );
  }
  return parts;
}

/** Puts an entity's status on its card. */
export function updateCard(card: Card, s: EntityStatus): void {
  const now = Date.now();
  card.root.setAttribute('data-healthy', String(s.healthy));
  card.direction.textContent = DIRECTIONS[s.direction];
  card.health.textContent = s.healthy ? 'Healthy' : 'Needs attention';
  card.health.className = `badge ${s.healthy ? 'ok' : 'bad'}`;
  card.paused.hidden = !s.paused;
  card.running.hidden = !s.lease;
  setChildren(
    card.problems,
    s.problems.map((p) => el('li', { text: briefError(p), title: p })),
  );
  setButtonLabel(card.pauseButton, s.paused ? 'Resume' : 'Pause');
  card.pauseButton.setAttribute('data-action', s.paused ? 'resume' : 'pause');

  const f = card.fields;
  setChildren(
    f.lastSync,
    s.lastSuccessAt
      ? [timeEl(s.lastSuccessAt), el('span', { className: 'muted', text: ` \u00b7 ${shortTime(s.lastSuccessAt, now)}` })]
      : [el('span', { className: 'muted', text: 'never succeeded' })],
  );

  const run = s.lastRun;
  if (run) {
    const took = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
    setChildren(f.lastRun, [
      badge(run.outcome, outcomeTone(run.outcome)),
      ' ',
      `${run.trigger}, `,
      timeEl(run.finishedAt),
      `, took ${duration(took)} \u00b7 `,
      el('span', { className: 'mono', text: `run ${shortId(run.runId)}`, title: run.runId }),
      run.error ? el('span', { className: 'error-text', text: `Error: ${briefError(run.error)}`, title: run.error }) : null,
    ]);
    for (const [key] of STATS) card.stats[key].textContent = String(run.stats[key]);
    card.statsCaption.textContent = `Rows in the last run (${plural(run.stats.pages, 'page')})`;
  } else {
    card.statsCaption.textContent = 'Rows in the last run';
    setChildren(f.lastRun, [el('span', { className: 'muted', text: 'no run yet' })]);
    for (const [key] of STATS) card.stats[key].textContent = '\u2013';
  }

  setChildren(f.freshness, freshness(s));

  const pending: string[] = [];
  if (s.push) {
    pending.push(`${plural(s.push.pending, 'change')} to push`);
    if (s.push.oldestPendingAgeSeconds !== null && s.push.pending > 0)
      pending.push(`oldest ${seconds(s.push.oldestPendingAgeSeconds)} old`);
  }
  if (s.pull) pending.push(s.pull.backlog ? 'pull backlog: draining over chained runs' : 'pull: no backlog');
  f.pending.textContent = pending.join(' \u00b7 ');

  if (s.nextAlarmAt)
    setChildren(f.nextRun, [timeEl(s.nextAlarmAt), el('span', { className: 'muted', text: ` \u00b7 ${shortTime(s.nextAlarmAt, now)}` })]);
  else setChildren(f.nextRun, [el('span', { className: 'muted', text: s.paused ? 'not scheduled (paused)' : 'not scheduled' })]);

  setChildren(f.errorStreak, [
    s.errorStreak > 0 ? badge(`${plural(s.errorStreak, 'failed run')} in a row`, 'bad') : el('span', { text: '0' }),
  ]);

  const cursor: Child[] = [];
  if (s.pull) {
    if (s.pull.cursor) {
      cursor.push(
        el('span', { className: 'mono', text: `pull ts ${s.pull.cursor.ts}` }),
        el('br'),
        el('span', { className: 'mono', text: `pull id ${s.pull.cursor.id}` }),
      );
    } else {
      cursor.push(el('span', { text: 'pull: from the beginning' }));
    }
  }
  if (s.push) {
    if (cursor.length > 0) cursor.push(el('br'));
    cursor.push(el('span', { className: 'mono', text: `push seq ${s.push.confirmedSeq}` }));
  }
  setChildren(f.cursor, cursor);

  setChildren(
    f.lease,
    s.lease
      ? [
          el('span', { className: 'mono', text: `run ${shortId(s.lease.runId)}`, title: s.lease.runId }),
          ` (${s.lease.trigger}), expires `,
          timeEl(s.lease.expiresAt),
        ]
      : [el('span', { className: 'muted', text: 'free (no run in progress)' })],
  );

  setChildren(f.flagged, [
    s.conflicts > 0 ? badge(plural(s.conflicts, 'conflict'), 'warn') : plural(s.conflicts, 'conflict'),
    ' \u00b7 ',
    s.quarantined > 0 ? badge(`${s.quarantined} quarantined`, 'bad') : `${s.quarantined} quarantined`,
  ]);

  f.interval.textContent = `every ${duration(s.settings.intervalMs)} when caught up`;
}

/** The four tiles at the top. */
export function renderOverview(data: OverallStatus): void {
  setChildren(byId('overall-health'), [data.healthy ? badge('Healthy', 'ok') : badge('Needs attention', 'bad')]);
  byId('healthy-count').textContent = `${data.entities.filter((s) => s.healthy).length} / ${data.entities.length}`;
  byId('unsynced-emails').textContent = String(data.unsyncedEmails);
  const last = (iso: string | null): Child => (iso ? timeEl(iso) : el('span', { className: 'muted', text: 'never' }));
  setChildren(byId('pull-last'), [last(data.supabaseToD1.lastSyncAt)]);
  setChildren(byId('push-last'), [last(data.d1ToSupabase.lastSyncAt)]);
}
