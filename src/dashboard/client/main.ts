/**
 * The operator page's client, bundled into the page at build time (dev/build-dashboard.ts).
 *
 * Rules it keeps: API data reaches the page only through textContent and DOM APIs (never
 * innerHTML); the admin token lives in sessionStorage and a 401 forgets it; every action shows
 * its result or the API's error in the aria-live status line; the periodic refresh is one request
 * (GET /api/dashboard) and updates existing elements in place, so focus and scroll survive it.
 */
import type { DashboardData, DashboardPart, EntityStatus, IdleRuns } from '../../types.ts';
import { DASHBOARD } from '../settings.ts';
import { closeConfirm, createActions } from './actions.ts';
import { api, AuthError, describeError, errorText, readToken, writeToken, type Session } from './api.ts';
import { createCard, renderOverview, updateCard, type Card } from './cards.ts';
import { byId, el, setChildren } from './dom.ts';
import { clearIntegrity, renderIntegrity } from './integrity.ts';
import { renderCharts, renderRuns, runsCaption } from './runs.ts';
import { say, setRefreshState } from './status-line.ts';
import { renderConflicts, renderQuarantine } from './tables.ts';

const state = {
  timer: null as ReturnType<typeof setTimeout> | null,
  refreshing: false,
  refreshQueued: false,
  lastRefreshAt: null as number | null,
  lastFailure: null as string | null,
  cards: new Map<string, Card>(),
  statuses: new Map<string, EntityStatus>(),
  entityNames: [] as string[],
};

const session: Session = {
  token: null,
  onUnauthorized: () => signOut('The server rejected the token (401). Enter it again.'),
};

const actions = createActions({ session, refresh, status: (name) => state.statuses.get(name) ?? null });

// ---- sign in / out ---------------------------------------------------------------------------

function showLogin(message: string): void {
  byId('app').hidden = true;
  byId('forget-token').hidden = true;
  byId('login').hidden = false;
  byId('token-error').textContent = message;
  byId('token', HTMLInputElement).value = '';
  setRefreshState('idle', 'Not signed in');
  byId('token').focus();
}

function signOut(message: string): void {
  session.token = null;
  writeToken(null);
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
  clearData();
  showLogin(message);
}

/** Removes every rendered value, so nothing stays on screen after signing out. */
function clearData(): void {
  setChildren(byId('entities'), []);
  state.cards.clear();
  state.statuses.clear();
  state.entityNames = [];
  for (const id of ['runs-body', 'runs-charts', 'conflicts-body', 'quarantine-body']) setChildren(byId(id), []);
  for (const id of ['runs-error', 'charts-error', 'conflicts-error', 'quarantine-error']) byId(id).textContent = '';
  clearIntegrity();
  for (const id of ['overall-health', 'healthy-count', 'unsynced-emails', 'pull-last', 'push-last']) byId(id).textContent = '\u2013';
  say('', null);
  state.lastRefreshAt = null;
  state.lastFailure = null;
}

function signIn(token: string): void {
  session.token = token;
  writeToken(token);
  byId('login').hidden = true;
  byId('app').hidden = false;
  byId('forget-token').hidden = false;
  setRefreshState('loading', 'Loading\u2026');
}

function showRefreshState(): void {
  if (!session.token) return;
  const last = state.lastRefreshAt === null ? 'never' : new Date(state.lastRefreshAt).toLocaleTimeString();
  const every = `every ${DASHBOARD.refreshSeconds} s`;
  if (state.lastFailure)
    setRefreshState('failed', `Refresh failed: ${state.lastFailure} \u00b7 last good ${last} \u00b7 retrying ${every}`);
  else setRefreshState('ok', `Updated ${last} \u00b7 refreshes ${every}`);
}

// ---- refresh ---------------------------------------------------------------------------------

function renderEntities(statuses: readonly EntityStatus[]): void {
  const names = statuses.map((s) => s.entity);
  if (names.join('|') !== state.entityNames.join('|')) {
    // The set of entities changed (first load): build the cards and the runs filter once.
    state.entityNames = names;
    const cards = new Map(names.map((n) => [n, state.cards.get(n) ?? createCard(n, actions)]));
    state.cards = cards;
    setChildren(
      byId('entities'),
      names.map((n) => cards.get(n)?.root),
    );
    const select = byId('runs-entity', HTMLSelectElement);
    const chosen = select.value;
    setChildren(select, [
      el('option', { text: 'All entities', attrs: { value: '' } }),
      ...names.map((n) => el('option', { text: n, attrs: { value: n } })),
    ]);
    select.value = names.includes(chosen) ? chosen : '';
  }
  state.statuses.clear();
  for (const s of statuses) {
    state.statuses.set(s.entity, s);
    const card = state.cards.get(s.entity);
    if (card) updateCard(card, s);
  }
}

/** Renders one part, or says in its section that it could not be read. */
function part<T>(value: DashboardPart<T>, errorId: string, render: (data: T) => void): void {
  if (value.ok) {
    render(value.data);
    byId(errorId).textContent = '';
  } else {
    byId(errorId).textContent = `Could not load: ${value.error}`;
  }
}

/** What the runs controls ask for. */
function runsQuery(): { entity: string; idle: IdleRuns } {
  return {
    entity: byId('runs-entity', HTMLSelectElement).value,
    idle: byId('runs-idle', HTMLInputElement).checked ? 'include' : 'exclude',
  };
}

function render(data: DashboardData): void {
  renderOverview(data.status);
  renderEntities(data.status.entities);
  const { entity } = runsQuery();
  part(data.runs, 'runs-error', (r) => renderRuns(r.runs, r.idle));
  part(data.charts, 'charts-error', (c) =>
    renderCharts(c, state.entityNames, entity, data.runs.ok ? data.runs.data.idle : runsQuery().idle),
  );
  part(data.conflicts, 'conflicts-error', renderConflicts);
  part(data.quarantine, 'quarantine-error', renderQuarantine);
  part(data.integrity, 'integrity-error', (i) => renderIntegrity(i, actions));
}

async function load(): Promise<void> {
  const { entity, idle } = runsQuery();
  const query = new URLSearchParams({ idle });
  if (entity) query.set('entity', entity);
  const res = await api<DashboardData>(session, 'GET', `/api/dashboard?${query.toString()}`);
  if (!res.ok) throw new Error(errorText(res));
  if (session.token) render(res.data);
}

/** Loads and renders the page's data; one refresh at a time, a second one asked for runs after it. */
async function refresh(): Promise<void> {
  if (!session.token) return;
  if (state.refreshing) {
    state.refreshQueued = true;
    return;
  }
  state.refreshing = true;
  if (state.timer !== null) clearTimeout(state.timer);
  const wasFailing = state.lastFailure !== null;
  try {
    await load();
    state.lastRefreshAt = Date.now();
    state.lastFailure = null;
    if (wasFailing) say('The dashboard is receiving data again.', 'ok');
  } catch (e) {
    if (!(e instanceof AuthError)) {
      state.lastFailure = describeError(e);
      if (!wasFailing) say(`Refresh failed: ${state.lastFailure}`, 'error');
    }
  }
  state.refreshing = false;
  showRefreshState();
  if (!session.token) return;
  if (state.refreshQueued) {
    state.refreshQueued = false;
    void refresh();
    return;
  }
  state.timer = setTimeout(() => void refresh(), DASHBOARD.refreshSeconds * 1000);
}

// ---- wiring ----------------------------------------------------------------------------------

byId('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId('token', HTMLInputElement).value.trim();
  if (!token) {
    byId('token-error').textContent = 'Enter the admin token.';
    byId('token').focus();
    return;
  }
  byId('token-error').textContent = '';
  signIn(token);
  void refresh().then(() => {
    if (session.token) byId('overview-title').focus();
  });
});

byId('forget-token').addEventListener('click', () => signOut('Token forgotten. Enter it again to continue.'));
byId('sync-all').addEventListener('click', () => actions.syncAll());
byId('full-resync').addEventListener('click', () => actions.fullResync());
byId('integrity-run').addEventListener('click', () => actions.runChecks(false, null));
byId('integrity-fix').addEventListener('click', () => actions.runChecks(true, null));
byId('runs-entity').addEventListener('change', () => void refresh());
byId('runs-idle').addEventListener('change', () => {
  byId('runs-caption').textContent = runsCaption(runsQuery().idle);
  void refresh();
});
byId('confirm-ok').addEventListener('click', () => closeConfirm(true));
byId('confirm-cancel').addEventListener('click', () => closeConfirm(false));
byId('confirm').addEventListener('cancel', (event) => {
  event.preventDefault();
  closeConfirm(false);
});

const saved = readToken();
if (saved) {
  signIn(saved);
  void refresh();
} else {
  showLogin('');
}
