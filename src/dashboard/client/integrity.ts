/** "Consistency checks": alerts, one card per entity, held rows, and the recent checks. */
import type {
  CheckName,
  CheckResult,
  DriftSummary,
  EntityIntegrity,
  IntegrityHistoryEntry,
  IntegrityJobStatus,
  IntegrityRequestResult,
  IntegrityRun,
} from '../../types.ts';
import { actionButton, badge, byId, cell, el, emptyRow, findKeyed, keyed, setBusy, setChildren, timeEl, type Child } from './dom.ts';
import { briefError, duration, plural, shortId } from './format.ts';
import { idPart } from './cards.ts';

const CHECK_LABELS: Record<CheckName, string> = {
  row_counts: 'Row counts',
  replica_drift: 'Replica drift',
  orphans: 'Orphan emails',
  duplicate_message_ids: 'Duplicate message_ids',
  invalid_states: 'Invalid states',
  push_backlog: 'Push backlog',
  stale_entity: 'Stale entity',
  quarantine_growth: 'Quarantine growth',
};

const DRIFT_KINDS = [
  ['missing', 'missing in D1'],
  ['extra', 'extra in D1'],
  ['olderInD1', 'older in D1'],
  ['newerInD1', 'newer in D1'],
  ['sameVersionOtherContent', 'same updated_at, other content'],
  ['pendingPush', 'left to the push (pending outbox entries)'],
] as const satisfies readonly (readonly [keyof DriftSummary, string])[];

/** What the section's buttons do. */
export interface IntegrityActions {
  runChecks(fix: boolean, entities: string[] | null): void;
  releaseHeld(entity: string, rowId: string, button: HTMLButtonElement): void;
  deleteHeld(e: EntityIntegrity, rowId: string, button: HTMLButtonElement): void;
}

/** The section's state across refreshes. */
export const integrityState = {
  /** The label of the run request in flight, or null. */
  inFlight: null as string | null,
  /** data-keys of held-row buttons whose request is in flight. */
  heldBusy: new Set<string>(),
  /** entity -> whether its held-rows list is open. */
  heldOpen: new Map<string, boolean>(),
};

/** A check's name for people. */
export function checkLabel(name: CheckName): string {
  return CHECK_LABELS[name];
}

/** A problem its fix fully repaired counts as settled (the server's afterFixes). */
function settled(c: CheckResult): boolean {
  return c.severity !== 'ok' && c.fix !== null && c.fixed >= c.count;
}

function openProblems(checks: readonly CheckResult[]): CheckResult[] {
  return checks.filter((c) => c.severity !== 'ok' && !settled(c));
}

function driftKindsText(drift: DriftSummary): string {
  const parts = DRIFT_KINDS.filter(([k]) => drift[k] > 0).map(([k, label]) => `${drift[k]} ${label}`);
  return parts.length > 0 ? parts.join(', ') : 'no differing rows';
}

/** The latest run as one badge: not checked, run failed, consistent, repaired, or N problems. */
function runBadge(run: IntegrityRun | null): HTMLElement {
  if (!run) return badge('Not checked yet', null);
  if (run.error) return badge('Run failed', 'bad');
  const open = openProblems(run.checks);
  if (open.length === 0) return run.checks.some(settled) ? badge('Repaired', 'ok') : badge('Consistent', 'ok');
  return badge(plural(open.length, 'problem'), open.some((c) => c.severity === 'error') ? 'bad' : 'warn');
}

/** The answer of POST /api/integrity/run for one entity, as one line. */
function describeIntegrityRun(run: IntegrityRun): string {
  if (run.error) return `run failed: ${briefError(run.error)}`;
  const fixed = run.checks.filter(settled);
  const open = openProblems(run.checks);
  const parts: string[] = [];
  if (fixed.length > 0) parts.push(`repaired ${fixed.map((c) => `${checkLabel(c.check).toLowerCase()} (${c.fixed})`).join(', ')}`);
  if (open.length > 0) parts.push(`${plural(open.length, 'problem')}: ${open.map((c) => c.summary).join('; ')}`);
  return parts.length > 0 ? parts.join('; ') : 'consistent';
}

/** POST /api/integrity/run's answer, one part per entity. */
export function describeIntegrityResult(d: { runs: (IntegrityRequestResult & { entity: string })[] }): string {
  return d.runs
    .map((r) => {
      if (r.status === 'done') return `${r.entity}: ${describeIntegrityRun(r.run)}`;
      if (r.status === 'running') return `${r.entity}: running (${r.job.progress}), continues in the background`;
      return `${r.entity}: queued behind sync run ${shortId(r.lease.runId)}, starts when it ends`;
    })
    .join(' \u00b7 ');
}

function statBox(label: string, value: string | number | null, tone: 'ok' | 'bad' | null = null): HTMLElement {
  const dd = el('dd', { text: value === null ? '\u2013' : String(value) });
  if (tone) dd.setAttribute('data-tone', tone);
  return el('div', {}, [el('dt', { text: label }), dd]);
}

function checkItem(c: CheckResult): HTMLElement {
  const fixedAll = settled(c);
  const item = el('li', { attrs: { 'data-check': c.check } }, [
    fixedAll ? badge('repaired', 'ok') : badge(c.severity, c.severity === 'error' ? 'bad' : 'warn'),
    ' ',
    el('strong', { text: checkLabel(c.check) }),
    ': ',
    el('span', { text: c.summary }),
  ]);
  if (c.fix)
    item.append(
      el('div', { className: `fix-text${fixedAll ? '' : ' partial'}`, text: `Fix: ${c.fix} (${c.fixed} of ${c.count} repaired)` }),
    );
  return item;
}

function jobLine(job: IntegrityJobStatus): HTMLElement {
  const what = job.kind === 'resync' ? 'Full resync' : 'Integrity run';
  const progress = job.kind === 'resync' ? `phase ${job.phase} \u00b7 ${job.progress}` : job.progress;
  return el('p', { className: 'job' }, [
    badge('In progress', 'info'),
    ' ',
    `${what} (${job.trigger}${job.fix ? ', with fix' : ', report only'}): `,
    el('strong', { text: progress }),
    ' \u00b7 asked ',
    timeEl(job.requestedAt),
  ]);
}

function heldBlock(e: EntityIntegrity, actions: IntegrityActions): HTMLElement {
  if (e.heldCount === 0) return el('p', { className: 'muted', text: 'No held rows.' });
  const rows = e.held.map((h) => {
    const release = keyed(actionButton('Release', `row ${h.rowId}`, ''), `release:${e.entity}:${h.rowId}`);
    const remove = keyed(actionButton('Delete\u2026', `row ${h.rowId}`, 'danger'), `delete:${e.entity}:${h.rowId}`);
    release.addEventListener('click', () => actions.releaseHeld(e.entity, h.rowId, release));
    remove.addEventListener('click', () => actions.deleteHeld(e, h.rowId, remove));
    return el('tr', {}, [
      el('th', { attrs: { scope: 'row' } }, [el('span', { className: 'mono', text: h.rowId })]),
      cell(checkLabel(h.check)),
      cell(h.reason),
      cell([timeEl(h.heldAt)], 'nowrap'),
      el('td', { className: 'nowrap' }, [release, ' ', remove]),
    ]);
  });
  const more = e.heldCount > e.held.length ? ` (the ${e.held.length} newest shown)` : '';
  const details = el('details', { className: 'held' }, [
    keyed(el('summary', { text: `${plural(e.heldCount, 'held row')}${more}` }), `held:${e.entity}`),
    el('p', { className: 'help', text: 'Set aside by a fix: not pushed and not retried until released (queued again) or deleted.' }),
    el('div', { className: 'table-wrap', attrs: { role: 'region', 'aria-label': `Held rows of ${e.entity}`, tabindex: '0' } }, [
      el('table', {}, [
        el('thead', {}, [
          el(
            'tr',
            {},
            ['Row id', 'Check', 'Reason', 'Held', 'Actions'].map((t) => el('th', { text: t, attrs: { scope: 'col' } })),
          ),
        ]),
        el('tbody', {}, rows),
      ]),
    ]),
  ]);
  details.open = integrityState.heldOpen.get(e.entity) ?? false;
  details.addEventListener('toggle', () => integrityState.heldOpen.set(e.entity, details.open));
  return details;
}

/** The entity's newest run in the history that compared rows, or null. */
function lastCompared(history: readonly IntegrityHistoryEntry[], entity: string): (IntegrityHistoryEntry & { drift: DriftSummary }) | null {
  for (const h of history) if (h.entity === entity && h.drift) return { ...h, drift: h.drift };
  return null;
}

/** One entity's consistency card, rebuilt on every refresh (focus is put back by data-key). */
function integrityCard(e: EntityIntegrity, history: readonly IntegrityHistoryEntry[], actions: IntegrityActions): HTMLElement {
  const id = `integrity-${idPart(e.entity)}`;
  const run = e.latest;
  const head: Child[] = [el('h3', { text: e.entity, attrs: { id: `${id}-title` } }), runBadge(run)];
  if (e.alerts.length > 0) head.push(badge(plural(e.alerts.length, 'alert'), 'bad'));
  if (e.jobs.length > 0) head.push(badge('Running', 'info'));
  const parts: Child[] = [el('div', { className: 'card-head' }, head)];

  if (run) {
    const took = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
    parts.push(
      el('dl', { className: 'fields' }, [
        el('dt', { text: 'Checked' }),
        el('dd', {}, [
          timeEl(run.finishedAt),
          ` \u00b7 ${run.trigger}, ${run.fix ? 'with fix' : 'report only'}, ${run.reconciled ? 'every row compared' : 'counts only'}, took ${duration(took)}`,
        ]),
        el('dt', { text: 'Run' }),
        el('dd', {}, [el('span', { className: 'mono', text: shortId(run.runId), title: run.runId })]),
      ]),
    );
    const c = run.counts;
    parts.push(
      el('div', {}, [
        el('p', { className: 'stats-caption', text: 'Rows on each side' }),
        el('dl', { className: 'stats', attrs: { 'data-part': 'counts' } }, [
          statBox('D1', c ? c.d1 : null),
          statBox('Supabase', c ? c.supabase : null),
          statBox('Difference', c ? c.difference : null, c && c.difference > 0 ? 'bad' : null),
        ]),
      ]),
    );
    const d = run.drift;
    if (d) {
      parts.push(
        el('div', {}, [
          el('p', { className: 'stats-caption', text: 'Drift (rows that differ)' }),
          el('dl', { className: 'stats', attrs: { 'data-part': 'drift' } }, [
            statBox('Found', d.found, d.found > 0 ? 'bad' : null),
            statBox('Repaired', run.fix ? d.repaired : 'not asked', run.fix && d.repaired > 0 ? 'ok' : null),
            statBox('D1 reads', d.d1RowsRead),
          ]),
          el('p', { className: 'drift-kinds', text: `${driftKindsText(d)} \u00b7 ${plural(d.supabaseRequests, 'Supabase request')}` }),
        ]),
      );
    } else {
      // Hourly runs only count: say what the last run that compared rows found.
      const compared = lastCompared(history, e.entity);
      parts.push(
        el(
          'p',
          { className: 'muted' },
          compared
            ? [
                'Drift: not compared in this run (counts only). Last compared ',
                timeEl(compared.checkedAt),
                `: ${plural(compared.drift.found, 'row')} differed (${driftKindsText(compared.drift)})${compared.fix ? `, ${compared.drift.repaired} repaired.` : '.'}`,
              ]
            : ['Drift: not compared in this run (counts only), nor in the recent history.'],
        ),
      );
    }
    const problems = run.checks.filter((ch) => ch.severity !== 'ok');
    parts.push(
      problems.length > 0
        ? el('ul', { className: 'check-list', attrs: { 'aria-label': 'Checks not ok' } }, problems.map(checkItem))
        : el('p', {
            className: 'all-ok',
            text: `All ${run.checks.length} checks ok: ${run.checks.map((ch) => checkLabel(ch.check)).join(', ')}.`,
          }),
    );
    if (run.error) parts.push(el('p', { className: 'error-text', text: `Run failed: ${briefError(run.error)}`, title: run.error }));
  } else {
    parts.push(el('p', { className: 'muted', text: 'No integrity run recorded yet.' }));
  }

  for (const job of e.jobs) parts.push(jobLine(job));
  parts.push(heldBlock(e, actions));

  const check = keyed(actionButton('Check', e.entity, ''), `check:${e.entity}`);
  const fix = keyed(actionButton('Check and fix', e.entity, ''), `fix:${e.entity}`);
  check.addEventListener('click', () => actions.runChecks(false, [e.entity]));
  fix.addEventListener('click', () => actions.runChecks(true, [e.entity]));
  parts.push(
    el('div', { className: 'button-row', attrs: { role: 'group', 'aria-label': `Consistency actions for ${e.entity}` } }, [check, fix]),
  );

  const attrs: Record<string, string> = { 'aria-labelledby': `${id}-title`, 'data-integrity-entity': e.entity };
  if (run) {
    attrs['data-healthy'] = run.error || openProblems(run.checks).length > 0 ? 'false' : 'true';
    attrs['data-run-id'] = run.runId;
  }
  return el('article', { className: 'card', attrs }, parts);
}

function alertsBlock(entities: readonly EntityIntegrity[]): Child[] {
  const alerts = entities.flatMap((e) => e.alerts).sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
  const title = el('h3', { className: 'subhead', text: 'Active alerts', attrs: { id: 'integrity-alerts-title' } });
  if (alerts.length === 0) return [title, el('p', { className: 'muted', text: 'No active alerts.' })];
  const rows = alerts.map((a) =>
    el('tr', {}, [
      el('th', { attrs: { scope: 'row' }, text: a.entity }),
      cell([badge(checkLabel(a.check), 'bad')]),
      cell(a.summary),
      cell([timeEl(a.since)], 'nowrap'),
      cell(a.lastSentAt ? [timeEl(a.lastSentAt)] : [el('span', { className: 'muted', text: 'logged only' })], 'nowrap'),
    ]),
  );
  return [
    title,
    el('div', { className: 'table-wrap', attrs: { role: 'region', 'aria-labelledby': 'integrity-alerts-title', tabindex: '0' } }, [
      el('table', {}, [
        el('caption', { text: 'Problems the latest runs still see; a "resolved" message follows when one clears.' }),
        el('thead', {}, [
          el(
            'tr',
            {},
            ['Entity', 'Check', 'Summary', 'Since', 'Last sent'].map((t) => el('th', { text: t, attrs: { scope: 'col' } })),
          ),
        ]),
        el('tbody', {}, rows),
      ]),
    ]),
  ];
}

function historyResult(h: IntegrityHistoryEntry): HTMLElement {
  if (h.error) return badge('failed', 'bad');
  if (h.ok) return h.problems > 0 ? badge('repaired', 'ok') : badge('ok', 'ok');
  return badge('problems', h.checks.some((c) => c.severity === 'error') ? 'bad' : 'warn');
}

function renderHistory(history: readonly IntegrityHistoryEntry[]): void {
  const rows = history.map((h) => {
    const notOk = h.checks
      .filter((c) => c.severity !== 'ok')
      .map((c) => `${checkLabel(c.check)}: ${c.summary}${c.fixed > 0 ? ` (${c.fixed} fixed)` : ''}`);
    if (h.error) notOk.unshift(`Run failed: ${briefError(h.error)}`);
    return el('tr', {}, [
      el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(h.checkedAt)]),
      cell(h.entity),
      cell(h.trigger),
      cell(h.fix ? 'yes' : 'no'),
      cell([historyResult(h)]),
      cell(h.problems, 'num'),
      cell(h.fixed, 'num'),
      cell(h.counts ? h.counts.d1 : null, 'num'),
      cell(h.counts ? h.counts.supabase : null, 'num'),
      cell(h.drift ? h.drift.found : null, 'num'),
      cell(h.drift && h.fix ? h.drift.repaired : null, 'num'),
      notOk.length > 0
        ? el('td', { className: 'details-cell', text: notOk.join(' \u00b7 ') })
        : cell([el('span', { className: 'muted', text: 'all checks ok' })]),
    ]);
  });
  setChildren(byId('integrity-history-body'), rows.length > 0 ? rows : [emptyRow(12, 'No integrity runs recorded yet.')]);
}

/** Renders the section; a refresh keeps focus on the control that had it. */
export function renderIntegrity(data: { entities: EntityIntegrity[]; history: IntegrityHistoryEntry[] }, actions: IntegrityActions): void {
  const box = byId('consistency');
  const active = document.activeElement;
  const focusKey = active && box.contains(active) ? active.getAttribute('data-key') : null;

  setChildren(byId('integrity-alerts'), alertsBlock(data.entities));
  setChildren(
    byId('integrity-entities'),
    data.entities.map((e) => integrityCard(e, data.history, actions)),
  );
  renderHistory(data.history);
  showIntegrityBusy();

  if (focusKey) findKeyed(box, focusKey)?.focus();
}

/** Empties the section (signing out). */
export function clearIntegrity(): void {
  for (const id of ['integrity-alerts', 'integrity-entities', 'integrity-history-body']) setChildren(byId(id), []);
  for (const id of ['integrity-result', 'integrity-error']) {
    byId(id).textContent = '';
    byId(id).removeAttribute('data-tone');
  }
  integrityState.heldOpen.clear();
}

/** While a run request is in flight every run button is aria-disabled (one request at a time). */
export function showIntegrityBusy(): void {
  const busy = integrityState.inFlight !== null;
  const entities = byId('integrity-entities');
  const buttons = [
    byId('integrity-run'),
    byId('integrity-fix'),
    ...Array.from(entities.querySelectorAll('[data-key^="check:"], [data-key^="fix:"]')),
  ];
  for (const b of buttons) setBusy(b, busy);
  for (const key of integrityState.heldBusy) {
    const b = findKeyed(entities, key);
    if (b) setBusy(b, true);
  }
}
