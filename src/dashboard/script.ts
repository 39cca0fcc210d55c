/**
 * The dashboard's client code, inlined into the page as plain browser JavaScript.
 *
 * Rules it keeps: API data reaches the page only through textContent and DOM APIs (never
 * innerHTML); the admin token lives in sessionStorage and a 401 forgets it; every action shows
 * its result or the API's error in the aria-live status region; the periodic refresh updates
 * existing elements in place, so focus and scroll position survive it.
 *
 * (Kept as a String.raw literal: no backticks or dollar-brace sequences inside.)
 */
export const DASHBOARD_SCRIPT = String.raw`
(function () {
  'use strict';

  var TOKEN_KEY = 'sync-dashboard:admin-token';
  var REFRESH_MS = 5000;
  var RUNS_LIMIT = 30;
  var CONFLICTS_PER_ENTITY = 20;
  var INTEGRITY_HISTORY = 20;

  var DIRECTIONS = {
    pull: 'pull \u00b7 Supabase \u2192 D1',
    push: 'push \u00b7 D1 \u2192 Supabase',
    both: 'both \u00b7 two-way'
  };

  var state = {
    token: null,
    timer: null,
    refreshing: false,
    refreshQueued: false,
    lastRefreshAt: null,
    lastFailure: null,
    cards: {},
    statuses: {},
    entityNames: [],
    /** The label of the integrity run request in flight, or null. */
    integrityInFlight: null,
    /** data-key -> true for held-row buttons whose request is in flight. */
    heldBusy: {},
    /** entity -> whether its held-rows list is expanded (kept across refreshes). */
    heldOpen: {}
  };

  function $(id) { return document.getElementById(id); }

  // ---- small DOM helpers (text only) ---------------------------------------------------

  /** Creates an element; props: className, text, attrs {name: value}, title. Children: nodes or strings. */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    props = props || {};
    if (props.className) node.className = props.className;
    if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
    if (props.title) node.title = props.title;
    if (props.attrs) {
      Object.keys(props.attrs).forEach(function (name) { node.setAttribute(name, props.attrs[name]); });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function setChildren(node, children) {
    node.replaceChildren.apply(node, children.filter(function (c) { return c !== null && c !== undefined; }).map(function (c) {
      return typeof c === 'string' ? document.createTextNode(c) : c;
    }));
  }

  function badge(text, tone) { return el('span', { className: 'badge' + (tone ? ' ' + tone : ''), text: text }); }

  // ---- formatting ----------------------------------------------------------------------

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  /** "just now", "12 s ago", "3 min ago", "in 4 min", "2 h ago", "5 d ago". */
  function relative(iso) {
    var ms = Date.parse(iso);
    if (isNaN(ms)) return String(iso);
    var diff = ms - Date.now();
    var abs = Math.abs(diff);
    if (abs < 5000) return diff > 0 ? 'in a moment' : 'just now';
    var text;
    if (abs < 60000) text = Math.round(abs / 1000) + ' s';
    else if (abs < 3600000) text = Math.round(abs / 60000) + ' min';
    else if (abs < 86400000) text = (Math.round(abs / 360000) / 10) + ' h';
    else text = (Math.round(abs / 8640000) / 10) + ' d';
    return diff > 0 ? 'in ' + text : text + ' ago';
  }

  /** "06:46:00" today, "Nov 28, 06:46" on other days. */
  function shortTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    if (d.toDateString() === new Date().toDateString()) return d.toLocaleTimeString();
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ', ' + d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  function localTime(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }

  /** A <time> element: relative text, exact local time as tooltip, ISO in datetime. */
  function timeEl(iso, style) {
    if (!iso) return el('span', { className: 'muted', text: 'never' });
    var text = style === 'absolute' ? localTime(iso) : relative(iso);
    return el('time', { text: text, title: localTime(iso) + ' (' + iso + ')', attrs: { datetime: iso } });
  }

  function duration(ms) {
    if (!isFinite(ms) || ms < 0) return '\u2013';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (Math.round(ms / 100) / 10) + ' s';
    return (Math.round(ms / 6000) / 10) + ' min';
  }

  function seconds(s) { return duration(s * 1000); }

  function outcomeTone(outcome) {
    if (outcome === 'caught-up') return 'ok';
    if (outcome === 'failed') return 'bad';
    return 'info';
  }

  function shortId(id) { return String(id).slice(0, 8); }

  /** Long errors (with stack lines) as their first line, at most 300 characters; the full text goes in a tooltip. */
  function briefError(text) {
    var first = String(text).split('\n')[0];
    return first.length > 300 ? first.slice(0, 299) + '\u2026' : first;
  }

  // ---- API -----------------------------------------------------------------------------

  function AuthError() { this.message = 'not signed in'; }

  /** fetch with the token; resolves { ok, status, data }; a 401 signs out and rejects with AuthError. */
  function api(method, path, body) {
    if (!state.token) return Promise.reject(new AuthError());
    var headers = { authorization: 'Bearer ' + state.token, accept: 'application/json' };
    var init = { method: method, headers: headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (res.status === 401) {
          signOut('The server rejected the token (401). Enter it again.');
          throw new AuthError();
        }
        return { ok: res.ok, status: res.status, data: data, text: text };
      });
    });
  }

  /** The API's error as one line: "409 run_in_progress: a sync run holds the lease ...". */
  function errorText(res) {
    var err = res.data && res.data.error;
    if (err && err.message) {
      var line = res.status + ' ' + err.code + ': ' + err.message;
      if (Array.isArray(err.details)) {
        line += ' (' + err.details.map(function (d) { return (d.path ? d.path + ': ' : '') + d.message; }).join('; ') + ')';
      }
      return line;
    }
    return 'HTTP ' + res.status + (res.text ? ': ' + res.text.slice(0, 200) : '');
  }

  function describeError(e) {
    if (e && e.message) return e.message;
    return String(e);
  }

  // ---- sign in / out -------------------------------------------------------------------

  function readToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function writeToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives in memory for this page only */ }
  }

  function showLogin(message) {
    $('app').hidden = true;
    $('forget-token').hidden = true;
    $('login').hidden = false;
    $('token-error').textContent = message || '';
    $('token').value = '';
    setRefreshState('idle', 'Not signed in');
    $('token').focus();
  }

  function signOut(message) {
    state.token = null;
    writeToken(null);
    clearTimeout(state.timer);
    state.timer = null;
    clearData();
    showLogin(message);
  }

  /** Removes every rendered value, so nothing stays on screen after signing out. */
  function clearData() {
    setChildren($('entities'), []);
    state.cards = {};
    state.statuses = {};
    state.entityNames = [];
    ['runs-body', 'conflicts-body', 'quarantine-body'].forEach(function (id) { setChildren($(id), []); });
    clearIntegrity();
    state.heldOpen = {};
    ['overall-health', 'healthy-count', 'unsynced-emails', 'pull-last', 'push-last'].forEach(function (id) { $(id).textContent = '\u2013'; });
    say('', null);
    state.lastRefreshAt = null;
    state.lastFailure = null;
  }

  function signIn(token) {
    state.token = token;
    writeToken(token);
    $('login').hidden = true;
    $('app').hidden = false;
    $('forget-token').hidden = false;
    setRefreshState('loading', 'Loading\u2026');
  }

  // ---- status messages -----------------------------------------------------------------

  /** Writes the aria-live status region; tone: 'ok' | 'error' | 'info' | null. */
  function say(message, tone) {
    var region = $('status');
    if (!message) { setChildren(region, []); region.removeAttribute('data-tone'); return; }
    region.setAttribute('data-tone', tone || 'info');
    var now = new Date().toISOString();
    setChildren(region, [el('time', { text: new Date(now).toLocaleTimeString(), attrs: { datetime: now } }), message]);
  }

  function setRefreshState(kind, text) {
    $('refresh-state').setAttribute('data-state', kind);
    $('refresh-text').textContent = text;
  }

  function showRefreshState() {
    if (!state.token) return;
    var last = state.lastRefreshAt ? new Date(state.lastRefreshAt).toLocaleTimeString() : 'never';
    if (state.lastFailure) {
      setRefreshState('failed', 'Refresh failed: ' + state.lastFailure + ' \u00b7 last good ' + last + ' \u00b7 retrying every 5 s');
    } else {
      setRefreshState('ok', 'Updated ' + last + ' \u00b7 refreshes every 5 s');
    }
  }

  // ---- entity cards --------------------------------------------------------------------

  var FIELDS = [
    ['lastSync', 'Last sync'],
    ['lastRun', 'Last run'],
    ['pending', 'Pending'],
    ['nextRun', 'Next run'],
    ['errorStreak', 'Error streak'],
    ['cursor', 'Cursor'],
    ['lease', 'Lease'],
    ['flagged', 'Flagged rows'],
    ['interval', 'Interval']
  ];

  var STATS = [
    ['rowsRead', 'Read'], ['rowsApplied', 'Applied'], ['rowsDeleted', 'Deleted'],
    ['rowsSkipped', 'Skipped'], ['rowsQuarantined', 'Quarantined'], ['conflicts', 'Conflicts']
  ];

  /** Builds one card's fixed structure; refreshes only change the text inside it. */
  function createCard(name) {
    var id = 'entity-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
    var card = { name: name, fields: {}, stats: {} };
    card.title = el('h3', { text: name, attrs: { id: id + '-title' } });
    card.direction = badge('', null);
    card.health = badge('', null);
    card.paused = badge('Paused', 'warn');
    card.running = badge('Running', 'info');
    card.problems = el('ul', { className: 'problems', attrs: { 'aria-label': 'Problems' } });

    var fields = el('dl', { className: 'fields' });
    FIELDS.forEach(function (f) {
      var dd = el('dd');
      card.fields[f[0]] = dd;
      fields.appendChild(el('dt', { text: f[1] }));
      fields.appendChild(dd);
    });

    var stats = el('dl', { className: 'stats' });
    STATS.forEach(function (s) {
      var dd = el('dd', { text: '\u2013' });
      card.stats[s[0]] = dd;
      stats.appendChild(el('div', null, [el('dt', { text: s[1] }), dd]));
    });
    card.statsCaption = el('p', { className: 'stats-caption', text: 'Rows in the last run' });

    card.result = el('p', { className: 'card-result' });

    card.syncButton = actionButton('Sync now', name, '');
    card.pauseButton = actionButton('Pause', name, '');
    card.resetButton = actionButton('Reset cursor\u2026', name, 'danger');
    card.syncButton.addEventListener('click', function () { syncEntity(card); });
    card.pauseButton.addEventListener('click', function () { togglePause(card); });
    card.resetButton.addEventListener('click', function () { resetEntity(card); });

    card.root = el('article', { className: 'card', attrs: { 'aria-labelledby': id + '-title', 'data-entity': name } }, [
      el('div', { className: 'card-head' }, [card.title, card.direction, card.health, card.paused, card.running]),
      card.problems,
      fields,
      el('div', null, [card.statsCaption, stats]),
      card.result,
      el('div', { className: 'button-row', attrs: { role: 'group', 'aria-label': 'Actions for ' + name } },
        [card.syncButton, card.pauseButton, card.resetButton])
    ]);
    return card;
  }

  /** A real button whose accessible name includes the entity ("Sync now prospects"). */
  function actionButton(label, entity, className) {
    var b = el('button', { className: className, attrs: { type: 'button' } });
    b.appendChild(el('span', { className: 'visible-label', text: label }));
    b.appendChild(el('span', { className: 'visually-hidden', text: ' ' + entity }));
    return b;
  }

  function setButtonLabel(button, label) {
    var visible = button.querySelector('.visible-label');
    if (visible && visible.textContent !== label) visible.textContent = label;
  }

  function updateCard(card, s) {
    card.root.setAttribute('data-healthy', String(s.healthy));
    card.direction.textContent = DIRECTIONS[s.direction] || s.direction;
    card.health.textContent = s.healthy ? 'Healthy' : 'Needs attention';
    card.health.className = 'badge ' + (s.healthy ? 'ok' : 'bad');
    card.paused.hidden = !s.paused;
    card.running.hidden = !s.lease;
    setChildren(card.problems, (s.problems || []).map(function (p) { return el('li', { text: briefError(p), title: p }); }));
    setButtonLabel(card.pauseButton, s.paused ? 'Resume' : 'Pause');
    card.pauseButton.setAttribute('data-action', s.paused ? 'resume' : 'pause');

    var f = card.fields;
    setChildren(f.lastSync, s.lastSuccessAt
      ? [timeEl(s.lastSuccessAt), el('span', { className: 'muted', text: ' \u00b7 ' + shortTime(s.lastSuccessAt) })]
      : [el('span', { className: 'muted', text: 'never succeeded' })]);

    var run = s.lastRun;
    if (run) {
      var took = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
      setChildren(f.lastRun, [
        badge(run.outcome, outcomeTone(run.outcome)), ' ',
        run.trigger + ', ', timeEl(run.finishedAt), ', took ' + duration(took) + ' \u00b7 ',
        el('span', { className: 'mono', text: 'run ' + shortId(run.runId), title: run.runId }),
        run.error ? el('span', { className: 'error-text', text: 'Error: ' + briefError(run.error), title: run.error }) : null
      ]);
      STATS.forEach(function (st) { card.stats[st[0]].textContent = String(run.stats[st[0]]); });
      card.statsCaption.textContent = 'Rows in the last run (' + plural(run.stats.pages, 'page') + ')';
    } else {
      card.statsCaption.textContent = 'Rows in the last run';
      setChildren(f.lastRun, [el('span', { className: 'muted', text: 'no run yet' })]);
      STATS.forEach(function (st) { card.stats[st[0]].textContent = '\u2013'; });
    }

    var pending = [];
    if (s.push) {
      pending.push(plural(s.push.pending, 'change') + ' to push');
      if (s.push.oldestPendingAgeSeconds !== null && s.push.pending > 0) pending.push('oldest ' + seconds(s.push.oldestPendingAgeSeconds) + ' old');
    }
    if (s.pull) pending.push(s.pull.backlog ? 'pull backlog: draining over chained runs' : 'pull: no backlog');
    f.pending.textContent = pending.join(' \u00b7 ');

    if (s.nextAlarmAt) setChildren(f.nextRun, [timeEl(s.nextAlarmAt), el('span', { className: 'muted', text: ' \u00b7 ' + shortTime(s.nextAlarmAt) })]);
    else setChildren(f.nextRun, [el('span', { className: 'muted', text: s.paused ? 'not scheduled (paused)' : 'not scheduled' })]);

    setChildren(f.errorStreak, [s.errorStreak > 0 ? badge(plural(s.errorStreak, 'failed run') + ' in a row', 'bad') : el('span', { text: '0' })]);

    var cursor = [];
    if (s.pull) {
      if (s.pull.cursor) {
        cursor.push(el('span', { className: 'mono', text: 'pull ts ' + s.pull.cursor.ts }), el('br'),
          el('span', { className: 'mono', text: 'pull id ' + s.pull.cursor.id }));
      } else {
        cursor.push(el('span', { text: 'pull: from the beginning' }));
      }
    }
    if (s.push) {
      if (cursor.length) cursor.push(el('br'));
      cursor.push(el('span', { className: 'mono', text: 'push seq ' + s.push.confirmedSeq }));
    }
    setChildren(f.cursor, cursor);

    if (s.lease) {
      setChildren(f.lease, [
        el('span', { className: 'mono', text: 'run ' + shortId(s.lease.runId), title: s.lease.runId }),
        ' (' + s.lease.trigger + '), expires ', timeEl(s.lease.expiresAt)
      ]);
    } else {
      setChildren(f.lease, [el('span', { className: 'muted', text: 'free (no run in progress)' })]);
    }

    setChildren(f.flagged, [
      s.conflicts > 0 ? badge(plural(s.conflicts, 'conflict'), 'warn') : plural(s.conflicts, 'conflict'),
      ' \u00b7 ',
      s.quarantined > 0 ? badge(s.quarantined + ' quarantined', 'bad') : s.quarantined + ' quarantined'
    ]);

    f.interval.textContent = s.settings ? 'every ' + duration(s.settings.intervalMs) + ' when caught up' : '\u2013';
  }

  function renderEntities(statuses) {
    var container = $('entities');
    var names = statuses.map(function (s) { return s.entity; });
    if (names.join('|') !== state.entityNames.join('|')) {
      // The set of entities changed (first load): build the cards and the runs filter once.
      state.entityNames = names;
      var cards = {};
      names.forEach(function (n) { cards[n] = state.cards[n] || createCard(n); });
      state.cards = cards;
      setChildren(container, names.map(function (n) { return cards[n].root; }));
      var select = $('runs-entity');
      var chosen = select.value;
      setChildren(select, [el('option', { text: 'All entities', attrs: { value: '' } })].concat(
        names.map(function (n) { return el('option', { text: n, attrs: { value: n } }); })));
      select.value = names.indexOf(chosen) >= 0 ? chosen : '';
    }
    state.statuses = {};
    statuses.forEach(function (s) {
      state.statuses[s.entity] = s;
      updateCard(state.cards[s.entity], s);
    });
  }

  function renderOverview(data) {
    var health = $('overall-health');
    setChildren(health, [data.healthy ? badge('Healthy', 'ok') : badge('Needs attention', 'bad')]);
    var healthy = data.entities.filter(function (s) { return s.healthy; }).length;
    $('healthy-count').textContent = healthy + ' / ' + data.entities.length;
    $('unsynced-emails').textContent = String(data.unsyncedEmails);
    setChildren($('pull-last'), [data.supabaseToD1 && data.supabaseToD1.lastSyncAt ? timeEl(data.supabaseToD1.lastSyncAt) : el('span', { className: 'muted', text: 'never' })]);
    setChildren($('push-last'), [data.d1ToSupabase && data.d1ToSupabase.lastSyncAt ? timeEl(data.d1ToSupabase.lastSyncAt) : el('span', { className: 'muted', text: 'never' })]);
  }

  // ---- tables --------------------------------------------------------------------------

  function cell(content, className) {
    return el('td', { className: className }, Array.isArray(content) ? content : [content === null || content === undefined ? '\u2013' : String(content)]);
  }

  function emptyRow(colspan, text) {
    return el('tr', null, [el('td', { className: 'empty', text: text, attrs: { colspan: String(colspan) } })]);
  }

  function renderRuns(runs) {
    var rows = runs.map(function (r) {
      var took = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(r.finishedAt)]),
        cell(r.entity), cell(r.trigger),
        cell([badge(r.outcome, outcomeTone(r.outcome))]),
        cell(duration(took), 'num nowrap'),
        cell(r.stats.rowsRead, 'num'), cell(r.stats.rowsApplied, 'num'), cell(r.stats.rowsDeleted, 'num'),
        cell(r.stats.rowsSkipped, 'num'), cell(r.stats.rowsQuarantined, 'num'), cell(r.stats.conflicts, 'num'),
        cell(r.stats.pages, 'num'),
        cell([el('span', { className: 'mono', text: shortId(r.runId), title: r.runId })]),
        r.error ? el('td', { className: 'error-cell', text: briefError(r.error), title: r.error }) : cell('')
      ]);
    });
    setChildren($('runs-body'), rows.length ? rows : [emptyRow(14, 'No runs recorded yet.')]);
  }

  function renderConflicts(list) {
    var rows = list.map(function (c) {
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(c.at)]),
        cell(c.entity),
        cell([el('span', { className: 'mono', text: c.rowId })]),
        cell([badge(c.winner === 'supabase' ? 'Supabase' : 'D1', 'info')]),
        cell(c.supabaseUpdatedAt ? [el('span', { className: 'mono', text: c.supabaseUpdatedAt })] : 'none'),
        cell(c.d1UpdatedAt ? [el('span', { className: 'mono', text: c.d1UpdatedAt })] : 'none'),
        cell(c.reason)
      ]);
    });
    setChildren($('conflicts-body'), rows.length ? rows : [emptyRow(7, 'No conflicts recorded.')]);
  }

  function renderQuarantine(list) {
    var rows = list.map(function (q) {
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' }, text: q.entity }),
        cell([el('span', { className: 'mono', text: q.rowId })]),
        cell(q.direction),
        cell(q.reason),
        cell([timeEl(q.firstSeen)], 'nowrap'),
        cell([timeEl(q.lastSeen)], 'nowrap'),
        cell(q.attempts, 'num')
      ]);
    });
    setChildren($('quarantine-body'), rows.length ? rows : [emptyRow(7, 'No quarantined rows.')]);
  }

  // ---- consistency (GET /api/integrity, POST /api/integrity/run) -----------------------

  var CHECK_LABELS = {
    row_counts: 'Row counts',
    replica_drift: 'Replica drift',
    orphans: 'Orphan emails',
    duplicate_message_ids: 'Duplicate message_ids',
    invalid_states: 'Invalid states',
    push_backlog: 'Push backlog',
    stale_entity: 'Stale entity',
    quarantine_growth: 'Quarantine growth'
  };

  var DRIFT_KINDS = [
    ['missing', 'missing in D1'],
    ['extra', 'extra in D1'],
    ['olderInD1', 'older in D1'],
    ['newerInD1', 'newer in D1'],
    ['sameVersionOtherContent', 'same updated_at, other content'],
    ['pendingPush', 'left to the push (pending outbox entries)']
  ];

  /** The data-key attribute lets a re-render put focus back on "the same" control. */
  function keyed(node, key) { node.setAttribute('data-key', key); return node; }

  function checkLabel(name) { return CHECK_LABELS[name] || name; }

  /** A problem its fix fully repaired counts as settled (the server's afterFixes). */
  function settled(c) { return c.severity !== 'ok' && c.fix !== null && c.fixed >= c.count; }

  function openProblems(checks) { return checks.filter(function (c) { return c.severity !== 'ok' && !settled(c); }); }

  function driftKindsText(drift) {
    var parts = DRIFT_KINDS.filter(function (k) { return drift[k[0]] > 0; }).map(function (k) { return drift[k[0]] + ' ' + k[1]; });
    return parts.length ? parts.join(', ') : 'no differing rows';
  }

  /** The latest run as one badge: not checked, run failed, consistent, repaired, or N problems. */
  function runBadge(run) {
    if (!run) return badge('Not checked yet', null);
    if (run.error) return badge('Run failed', 'bad');
    var open = openProblems(run.checks);
    if (!open.length) {
      return run.checks.some(settled) ? badge('Repaired', 'ok') : badge('Consistent', 'ok');
    }
    var errors = open.some(function (c) { return c.severity === 'error'; });
    return badge(plural(open.length, 'problem'), errors ? 'bad' : 'warn');
  }

  /** The answer of POST /api/integrity/run for one entity, as one line. */
  function describeIntegrityRun(run) {
    if (run.error) return 'run failed: ' + briefError(run.error);
    var fixed = run.checks.filter(settled);
    var open = openProblems(run.checks);
    var parts = [];
    if (fixed.length) {
      parts.push('repaired ' + fixed.map(function (c) { return checkLabel(c.check).toLowerCase() + ' (' + c.fixed + ')'; }).join(', '));
    }
    if (open.length) parts.push(plural(open.length, 'problem') + ': ' + open.map(function (c) { return c.summary; }).join('; '));
    return parts.length ? parts.join('; ') : 'consistent';
  }

  function describeIntegrityResult(d) {
    return d.runs.map(function (r) {
      if (r.status === 'done') return r.entity + ': ' + describeIntegrityRun(r.run);
      if (r.status === 'running') return r.entity + ': running (' + r.job.progress + '), continues in the background';
      return r.entity + ': queued behind sync run ' + shortId(r.lease.runId) + ', starts when it ends';
    }).join(' \u00b7 ');
  }

  function statBox(label, value, tone) {
    var dd = el('dd', { text: value === null || value === undefined ? '\u2013' : String(value) });
    if (tone) dd.setAttribute('data-tone', tone);
    return el('div', null, [el('dt', { text: label }), dd]);
  }

  function checkItem(c) {
    var fixedAll = settled(c);
    var head = [
      fixedAll ? badge('repaired', 'ok') : badge(c.severity, c.severity === 'error' ? 'bad' : 'warn'), ' ',
      el('strong', { text: checkLabel(c.check) }), ': ', el('span', { text: c.summary })
    ];
    var item = el('li', { attrs: { 'data-check': c.check } }, head);
    if (c.fix) item.appendChild(el('div', { className: 'fix-text' + (fixedAll ? '' : ' partial'), text: 'Fix: ' + c.fix + ' (' + c.fixed + ' of ' + c.count + ' repaired)' }));
    return item;
  }

  function jobLine(job) {
    var what = job.kind === 'resync' ? 'Full resync' : 'Integrity run';
    var progress = job.kind === 'resync' ? 'phase ' + job.phase + ' \u00b7 ' + job.progress : job.progress;
    return el('p', { className: 'job' }, [
      badge('In progress', 'info'), ' ',
      what + ' (' + job.trigger + (job.fix ? ', with fix' : ', report only') + '): ',
      el('strong', { text: progress }), ' \u00b7 asked ', timeEl(job.requestedAt)
    ]);
  }

  function heldBlock(e) {
    if (!e.heldCount) return el('p', { className: 'muted', text: 'No held rows.' });
    var open = !!state.heldOpen[e.entity];
    var rows = e.held.map(function (h) {
      var release = keyed(actionButton('Release', 'row ' + h.rowId, ''), 'release:' + e.entity + ':' + h.rowId);
      var remove = keyed(actionButton('Delete\u2026', 'row ' + h.rowId, 'danger'), 'delete:' + e.entity + ':' + h.rowId);
      release.addEventListener('click', function () { releaseHeld(e.entity, h.rowId, release); });
      remove.addEventListener('click', function () { deleteHeld(e, h.rowId, remove); });
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' } }, [el('span', { className: 'mono', text: h.rowId })]),
        cell(checkLabel(h.check)),
        cell(h.reason),
        cell([timeEl(h.heldAt)], 'nowrap'),
        el('td', { className: 'nowrap' }, [release, ' ', remove])
      ]);
    });
    var more = e.heldCount > e.held.length ? ' (the ' + e.held.length + ' newest shown)' : '';
    var details = el('details', { className: 'held' }, [
      keyed(el('summary', { text: plural(e.heldCount, 'held row') + more }), 'held:' + e.entity),
      el('p', { className: 'help', text: 'Set aside by a fix: not pushed and not retried until released (queued again) or deleted.' }),
      el('div', { className: 'table-wrap', attrs: { role: 'region', 'aria-label': 'Held rows of ' + e.entity, tabindex: '0' } }, [
        el('table', null, [
          el('thead', null, [el('tr', null, ['Row id', 'Check', 'Reason', 'Held', 'Actions'].map(function (t) {
            return el('th', { text: t, attrs: { scope: 'col' } });
          }))]),
          el('tbody', null, rows)
        ])
      ])
    ]);
    details.open = open;
    details.addEventListener('toggle', function () { state.heldOpen[e.entity] = details.open; });
    return details;
  }

  /** One entity's consistency card, rebuilt on every refresh (focus is put back by data-key). */
  /** The entity's newest run in the history that compared rows, or null. */
  function lastCompared(history, entity) {
    return history.filter(function (h) { return h.entity === entity && h.drift; })[0] || null;
  }

  function integrityCard(e, history) {
    var id = 'integrity-' + e.entity.replace(/[^A-Za-z0-9_-]/g, '_');
    var run = e.latest;
    var head = [el('h3', { text: e.entity, attrs: { id: id + '-title' } }), runBadge(run)];
    if (e.alerts.length) head.push(badge(plural(e.alerts.length, 'alert'), 'bad'));
    if (e.jobs.length) head.push(badge('Running', 'info'));
    var parts = [el('div', { className: 'card-head' }, head)];

    if (run) {
      var took = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
      parts.push(el('dl', { className: 'fields' }, [
        el('dt', { text: 'Checked' }),
        el('dd', null, [timeEl(run.finishedAt), ' \u00b7 ' + run.trigger + ', ' + (run.fix ? 'with fix' : 'report only') + ', ' +
          (run.reconciled ? 'every row compared' : 'counts only') + ', took ' + duration(took)]),
        el('dt', { text: 'Run' }),
        el('dd', null, [el('span', { className: 'mono', text: shortId(run.runId), title: run.runId })])
      ]));
      var c = run.counts;
      parts.push(el('div', null, [
        el('p', { className: 'stats-caption', text: 'Rows on each side' }),
        el('dl', { className: 'stats', attrs: { 'data-part': 'counts' } }, [
          statBox('D1', c ? c.d1 : null), statBox('Supabase', c ? c.supabase : null),
          statBox('Difference', c ? c.difference : null, c && c.difference > 0 ? 'bad' : null)
        ])
      ]));
      var d = run.drift;
      if (d) {
        parts.push(el('div', null, [
          el('p', { className: 'stats-caption', text: 'Drift (rows that differ)' }),
          el('dl', { className: 'stats', attrs: { 'data-part': 'drift' } }, [
            statBox('Found', d.found, d.found > 0 ? 'bad' : null),
            statBox('Repaired', run.fix ? d.repaired : 'not asked', run.fix && d.repaired > 0 ? 'ok' : null),
            statBox('D1 reads', d.d1RowsRead)
          ]),
          el('p', { className: 'drift-kinds', text: driftKindsText(d) + ' \u00b7 ' + plural(d.supabaseRequests, 'Supabase request') })
        ]));
      } else {
        // Hourly runs only count: say what the last run that compared rows found.
        var compared = lastCompared(history, e.entity);
        parts.push(el('p', { className: 'muted' }, compared
          ? ['Drift: not compared in this run (counts only). Last compared ', timeEl(compared.checkedAt), ': ' +
            plural(compared.drift.found, 'row') + ' differed (' + driftKindsText(compared.drift) + ')' +
            (compared.fix ? ', ' + compared.drift.repaired + ' repaired.' : '.')]
          : ['Drift: not compared in this run (counts only), nor in the recent history.']));
      }
      var problems = run.checks.filter(function (ch) { return ch.severity !== 'ok'; });
      if (problems.length) parts.push(el('ul', { className: 'check-list', attrs: { 'aria-label': 'Checks not ok' } }, problems.map(checkItem)));
      else parts.push(el('p', { className: 'all-ok', text: 'All ' + run.checks.length + ' checks ok: ' + run.checks.map(function (ch) { return checkLabel(ch.check); }).join(', ') + '.' }));
      if (run.error) parts.push(el('p', { className: 'error-text', text: 'Run failed: ' + briefError(run.error), title: run.error }));
    } else {
      parts.push(el('p', { className: 'muted', text: 'No integrity run recorded yet.' }));
    }

    e.jobs.forEach(function (job) { parts.push(jobLine(job)); });
    parts.push(heldBlock(e));

    var check = keyed(actionButton('Check', e.entity, ''), 'check:' + e.entity);
    var fix = keyed(actionButton('Check and fix', e.entity, ''), 'fix:' + e.entity);
    check.addEventListener('click', function () { runChecks(false, [e.entity]); });
    fix.addEventListener('click', function () { runChecks(true, [e.entity]); });
    parts.push(el('div', { className: 'button-row', attrs: { role: 'group', 'aria-label': 'Consistency actions for ' + e.entity } }, [check, fix]));

    var tone = !run ? null : (run.error || openProblems(run.checks).length) ? 'false' : 'true';
    var attrs = { 'aria-labelledby': id + '-title', 'data-integrity-entity': e.entity };
    if (tone) attrs['data-healthy'] = tone;
    if (run) attrs['data-run-id'] = run.runId;
    return el('article', { className: 'card', attrs: attrs }, parts);
  }

  function alertsBlock(entities) {
    var alerts = [].concat.apply([], entities.map(function (e) { return e.alerts; }));
    var title = el('h3', { className: 'subhead', text: 'Active alerts', attrs: { id: 'integrity-alerts-title' } });
    if (!alerts.length) return [title, el('p', { className: 'muted', text: 'No active alerts.' })];
    alerts.sort(function (a, b) { return a.since < b.since ? -1 : a.since > b.since ? 1 : 0; });
    var rows = alerts.map(function (a) {
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' }, text: a.entity }),
        cell([badge(checkLabel(a.check), 'bad')]),
        cell(a.summary),
        cell([timeEl(a.since)], 'nowrap'),
        cell(a.lastSentAt ? [timeEl(a.lastSentAt)] : [el('span', { className: 'muted', text: 'logged only' })], 'nowrap')
      ]);
    });
    return [title, el('div', { className: 'table-wrap', attrs: { role: 'region', 'aria-labelledby': 'integrity-alerts-title', tabindex: '0' } }, [
      el('table', null, [
        el('caption', { text: 'Problems the latest runs still see; a "resolved" message follows when one clears.' }),
        el('thead', null, [el('tr', null, ['Entity', 'Check', 'Summary', 'Since', 'Last sent'].map(function (t) {
          return el('th', { text: t, attrs: { scope: 'col' } });
        }))]),
        el('tbody', null, rows)
      ])
    ])];
  }

  function historyResult(h) {
    if (h.error) return badge('failed', 'bad');
    if (h.ok) return h.problems > 0 ? badge('repaired', 'ok') : badge('ok', 'ok');
    var errors = h.checks.some(function (c) { return c.severity === 'error'; });
    return badge('problems', errors ? 'bad' : 'warn');
  }

  function renderIntegrityHistory(history) {
    var rows = history.map(function (h) {
      var notOk = h.checks.filter(function (c) { return c.severity !== 'ok'; }).map(function (c) {
        return checkLabel(c.check) + ': ' + c.summary + (c.fixed > 0 ? ' (' + c.fixed + ' fixed)' : '');
      });
      if (h.error) notOk.unshift('Run failed: ' + briefError(h.error));
      return el('tr', null, [
        el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(h.checkedAt)]),
        cell(h.entity), cell(h.trigger), cell(h.fix ? 'yes' : 'no'),
        cell([historyResult(h)]),
        cell(h.problems, 'num'), cell(h.fixed, 'num'),
        cell(h.counts ? h.counts.d1 : null, 'num'), cell(h.counts ? h.counts.supabase : null, 'num'),
        cell(h.drift ? h.drift.found : null, 'num'), cell(h.drift && h.fix ? h.drift.repaired : null, 'num'),
        notOk.length ? el('td', { className: 'details-cell', text: notOk.join(' \u00b7 ') }) : cell([el('span', { className: 'muted', text: 'all checks ok' })])
      ]);
    });
    setChildren($('integrity-history-body'), rows.length ? rows : [emptyRow(12, 'No integrity runs recorded yet.')]);
  }

  /** Renders GET /api/integrity; a refresh keeps focus on the control that had it. */
  function renderIntegrity(res) {
    var box = $('consistency');
    if (!res.ok) {
      $('integrity-error').textContent = 'Could not load consistency results: ' + errorText(res);
      return;
    }
    $('integrity-error').textContent = '';
    var data = res.data;
    var active = document.activeElement;
    var focusKey = active && box.contains(active) ? active.getAttribute('data-key') : null;

    setChildren($('integrity-alerts'), alertsBlock(data.entities));
    setChildren($('integrity-entities'), data.entities.map(function (e) { return integrityCard(e, data.history); }));
    renderIntegrityHistory(data.history);
    showIntegrityBusy();

    if (focusKey) {
      var again = Array.prototype.filter.call(box.querySelectorAll('[data-key]'), function (n) { return n.getAttribute('data-key') === focusKey; })[0];
      if (again) again.focus();
    }
  }

  function clearIntegrity() {
    ['integrity-alerts', 'integrity-entities', 'integrity-history-body'].forEach(function (id) { setChildren($(id), []); });
    ['integrity-result', 'integrity-error'].forEach(function (id) { $(id).textContent = ''; $(id).removeAttribute('data-tone'); });
  }

  /** While a run request is in flight every run button is aria-disabled (one request at a time). */
  function showIntegrityBusy() {
    var busy = !!state.integrityInFlight;
    var buttons = [$('integrity-run'), $('integrity-fix')].concat(Array.prototype.slice.call(
      $('integrity-entities').querySelectorAll('[data-key^="check:"], [data-key^="fix:"]')));
    buttons.forEach(function (b) { setBusy(b, busy); });
    Object.keys(state.heldBusy).forEach(function (key) {
      var b = Array.prototype.filter.call($('integrity-entities').querySelectorAll('[data-key]'), function (n) { return n.getAttribute('data-key') === key; })[0];
      if (b) setBusy(b, true);
    });
  }

  function integritySay(message, tone) {
    say(message, tone);
    var line = $('integrity-result');
    line.setAttribute('data-tone', tone);
    line.textContent = message;
  }

  /** POST /api/integrity/run for every entity (or the ones named), then refresh. */
  function runChecks(fix, entities) {
    if (state.integrityInFlight) return Promise.resolve();
    var label = (fix ? 'Run checks and fix' : 'Run checks') + (entities ? ' (' + entities.join(', ') + ')' : '');
    var body = { fix: fix };
    if (entities) body.entities = entities;
    state.integrityInFlight = label;
    showIntegrityBusy();
    say(label + '\u2026', 'info');
    $('integrity-result').removeAttribute('data-tone');
    $('integrity-result').textContent = label + '\u2026';
    return api('POST', '/api/integrity/run', body).then(function (res) {
      if (res.ok) integritySay(label + ': ' + describeIntegrityResult(res.data), 'ok');
      else integritySay(label + ' failed: ' + errorText(res), 'error');
    }, function (e) {
      if (e instanceof AuthError) return;
      integritySay(label + ' failed: ' + describeError(e), 'error');
    }).then(function () {
      state.integrityInFlight = null;
      showIntegrityBusy();
      return refresh();
    });
  }

  /** Release or delete one held row; refused (409) while a run holds the entity's lease. */
  function heldAction(entity, rowId, button, verb) {
    var key = button.getAttribute('data-key');
    if (state.heldBusy[key]) return Promise.resolve();
    state.heldBusy[key] = true;
    setBusy(button, true);
    var label = (verb === 'release' ? 'Release ' : 'Delete ') + entity + ' row ' + shortId(rowId);
    say(label + '\u2026', 'info');
    return api('POST', '/objects/' + encodeURIComponent(entity) + '/held/' + verb, { ids: [rowId] }).then(function (res) {
      if (res.ok) {
        var done = verb === 'release' ? res.data.released : res.data.deleted;
        integritySay(label + ': ' + (done.length ? (verb === 'release' ? 'released; it is queued again' : 'deleted from D1; the push sends the delete') : 'it was no longer held'), 'ok');
      } else if (res.status === 409) {
        integritySay(label + ' refused \u2013 a run is in progress: ' + conflictText(res), 'error');
      } else {
        integritySay(label + ' failed: ' + errorText(res), 'error');
      }
    }, function (e) {
      if (e instanceof AuthError) return;
      integritySay(label + ' failed: ' + describeError(e), 'error');
    }).then(function () {
      delete state.heldBusy[key];
      setBusy(button, false);
      return refresh();
    });
  }

  function releaseHeld(entity, rowId, button) { return heldAction(entity, rowId, button, 'release'); }

  function deleteHeld(e, rowId, button) {
    confirmAction({
      title: 'Delete held row ' + shortId(rowId) + ' of ' + e.entity + '?',
      items: [
        'Row ' + rowId + ' is deleted from D1 as an edge writer would delete it, and stops being held.',
        e.direction === 'pull'
          ? 'Only D1 changes: this entity is a replica of Supabase, so the next reconciliation with fix brings the row back while Supabase has it.'
          : 'The next push sends the delete to Supabase.',
        e.direction === 'pull' ? 'Releasing it instead only stops holding it.' : 'Releasing it instead queues it for the push again, unchanged.'
      ],
      confirmLabel: 'Delete row',
      returnFocus: button
    }, function () { return heldAction(e.entity, rowId, button, 'delete'); });
  }

  // ---- refresh -------------------------------------------------------------------------

  function getJson(path) {
    return api('GET', path).then(function (res) {
      if (!res.ok) throw new Error(errorText(res));
      return res.data;
    });
  }

  /** Loads a section; a failure shows in that section and does not stop the others. */
  function section(promise, render, errorId) {
    return promise.then(function (value) {
      render(value);
      $(errorId).textContent = '';
    }, function (e) {
      if (e instanceof AuthError) throw e;
      $(errorId).textContent = 'Could not load: ' + describeError(e);
    });
  }

  function refresh() {
    if (!state.token) return Promise.resolve();
    if (state.refreshing) { state.refreshQueued = true; return Promise.resolve(); }
    state.refreshing = true;
    clearTimeout(state.timer);
    var wasFailing = !!state.lastFailure;

    return getJson('/api/sync/status').then(function (status) {
      if (!state.token) return;
      renderOverview(status);
      renderEntities(status.entities);
      var names = status.entities.map(function (s) { return s.entity; });
      var filter = $('runs-entity').value;
      var logPath = '/api/sync/log?limit=' + RUNS_LIMIT + (filter ? '&entity=' + encodeURIComponent(filter) : '');

      var conflicts = Promise.all(names.map(function (n) {
        return getJson('/objects/' + encodeURIComponent(n) + '/conflicts?limit=' + CONFLICTS_PER_ENTITY).then(function (d) {
          return d.conflicts.map(function (c) { return Object.assign({ entity: n }, c); });
        });
      })).then(function (lists) {
        return [].concat.apply([], lists).sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; });
      });
      var quarantine = Promise.all(names.map(function (n) {
        return getJson('/objects/' + encodeURIComponent(n) + '/quarantine?limit=50').then(function (d) {
          return d.rows.map(function (q) { return Object.assign({ entity: n }, q); });
        });
      })).then(function (lists) {
        return [].concat.apply([], lists).sort(function (a, b) { return a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0; });
      });

      return Promise.all([
        section(getJson(logPath).then(function (d) { return d.runs; }), renderRuns, 'runs-error'),
        section(conflicts, renderConflicts, 'conflicts-error'),
        section(quarantine, renderQuarantine, 'quarantine-error'),
        api('GET', '/api/integrity?history=' + INTEGRITY_HISTORY).then(renderIntegrity, function (e) {
          if (e instanceof AuthError) throw e;
          $('integrity-error').textContent = 'Could not load consistency results: ' + describeError(e);
        })
      ]);
    }).then(function () {
      state.lastRefreshAt = Date.now();
      state.lastFailure = null;
      if (wasFailing) say('The dashboard is receiving data again.', 'ok');
    }, function (e) {
      if (e instanceof AuthError) return;
      state.lastFailure = describeError(e);
      if (!wasFailing) say('Refresh failed: ' + state.lastFailure, 'error');
    }).then(function () {
      state.refreshing = false;
      showRefreshState();
      if (!state.token) return;
      if (state.refreshQueued) { state.refreshQueued = false; refresh(); return; }
      state.timer = setTimeout(refresh, REFRESH_MS);
    });
  }

  // ---- actions -------------------------------------------------------------------------

  function isBusy(button) { return button.getAttribute('aria-disabled') === 'true'; }

  function setBusy(button, busy) {
    if (busy) { button.setAttribute('aria-disabled', 'true'); button.setAttribute('aria-busy', 'true'); }
    else { button.removeAttribute('aria-disabled'); button.removeAttribute('aria-busy'); }
  }

  /**
   * Runs one API action: marks the button busy (aria-disabled keeps focus on it), reports the
   * result or the API's error in the status region (and on the card), then refreshes.
   */
  function act(button, card, label, method, path, body, describe) {
    if (isBusy(button)) return Promise.resolve();
    setBusy(button, true);
    say(label + '\u2026', 'info');
    if (card) { card.result.removeAttribute('data-tone'); card.result.textContent = label + '\u2026'; }
    return api(method, path, body).then(function (res) {
      var message;
      var tone;
      if (res.ok) { message = label + ': ' + describe(res.data); tone = 'ok'; }
      else if (res.status === 409) { message = label + ' refused \u2013 a run is in progress: ' + conflictText(res); tone = 'error'; }
      else { message = label + ' failed: ' + errorText(res); tone = 'error'; }
      say(message, tone);
      if (card) { card.result.setAttribute('data-tone', tone); card.result.textContent = message; }
    }, function (e) {
      if (e instanceof AuthError) return;
      var message = label + ' failed: ' + describeError(e);
      say(message, 'error');
      if (card) { card.result.setAttribute('data-tone', 'error'); card.result.textContent = message; }
    }).then(function () {
      setBusy(button, false);
      return refresh();
    });
  }

  function conflictText(res) {
    var err = res.data && res.data.error;
    var lease = err && err.details && err.details.lease;
    var text = err ? err.message : 'HTTP 409';
    if (lease) text += ' (run ' + shortId(lease.runId) + ', ' + lease.trigger + ', lease expires ' + relative(lease.expiresAt) + ')';
    return text;
  }

  function describeRun(result) {
    if (!result) return 'no answer';
    if (result.ran === false) {
      return 'a run was already in progress (run ' + shortId(result.lease.runId) + ', ' + result.lease.trigger + '); joined it';
    }
    var run = result.run;
    var s = run.stats;
    var text = run.outcome + ' \u2013 ' + s.rowsRead + ' read, ' + s.rowsApplied + ' applied, ' + s.rowsDeleted + ' deleted, ' +
      s.rowsQuarantined + ' quarantined, ' + s.conflicts + ' conflicts (' + plural(s.pages, 'page') + ')';
    if (run.error) text += '; error: ' + briefError(run.error);
    return text;
  }

  function syncEntity(card) {
    return act(card.syncButton, card, 'Sync ' + card.name, 'POST', '/objects/' + encodeURIComponent(card.name) + '/sync', {}, describeRun);
  }

  function togglePause(card) {
    var resume = card.pauseButton.getAttribute('data-action') === 'resume';
    var path = '/objects/' + encodeURIComponent(card.name) + (resume ? '/resume' : '/pause');
    return act(card.pauseButton, card, (resume ? 'Resume ' : 'Pause ') + card.name, 'POST', path, {}, function (s) {
      return s.paused ? 'paused; the alarm loop is stopped (manual syncs still work)' : 'running; a run starts now, then every ' + duration(s.settings.intervalMs);
    });
  }

  function resetEntity(card) {
    var s = currentStatus(card.name);
    var items = [];
    if (!s || s.pull) items.push('Pull: the cursor goes back to the beginning, so the next runs re-read every row from Supabase and upsert it into D1. The replica is not emptied; rows stay readable throughout.');
    if (!s || s.push) items.push('Push: every current D1 row is queued again and re-sent to Supabase (upserts are idempotent).');
    items.push(s && s.paused ? 'The entity is paused: the reset takes effect at the next manual sync or on resume. If a run is in progress the reset is refused.' : 'A sync starts right away. If a run is in progress the reset is refused; try again when it ends.');
    confirmAction({
      title: 'Reset the ' + card.name + ' cursor?',
      items: items,
      confirmLabel: 'Reset cursor',
      returnFocus: card.resetButton
    }, function () {
      return act(card.resetButton, card, 'Reset ' + card.name, 'POST', '/objects/' + encodeURIComponent(card.name) + '/reset', {}, function (status) {
        var parts = ['cursor reset'];
        if (status.pull) parts.push('pull re-reads from the beginning');
        if (status.push) parts.push(plural(status.push.pending, 'change') + ' queued to push');
        return parts.join('; ');
      });
    });
  }

  function syncAll() {
    var button = $('sync-all');
    return act(button, null, 'Sync all', 'POST', '/api/sync/full', {}, function (d) {
      return d.runs.map(function (r) {
        return r.entity + ': ' + (r.result.ran ? r.result.run.outcome + (r.result.run.error ? ' (' + briefError(r.result.run.error) + ')' : '') : 'joined a run in progress');
      }).join(' \u00b7 ');
    });
  }

  function fullResync() {
    confirmAction({
      title: 'Run a full resync?',
      items: [
        'Every pulled entity (Supabase \u2192 D1) resets its cursor to the beginning and re-reads all rows from Supabase, upserting them into D1.',
        'The replica is not emptied: reads keep working, and rows are overwritten in place only where Supabase has the same or a newer version.',
        'Emails (push) are not affected; use "Reset cursor" on emails to re-send them.',
        'Entities with a run in progress are skipped; the result lists them.'
      ],
      confirmLabel: 'Start full resync',
      returnFocus: $('full-resync')
    }, function () {
      return act($('full-resync'), null, 'Full resync', 'POST', '/admin/resync', {}, function (d) {
        return d.resync.map(function (r) {
          return r.entity + ': ' + (r.reset ? (r.run && r.run.ran ? r.run.run.outcome : 'reset, joined a run') : 'skipped (' + r.reason + ')');
        }).join(' \u00b7 ');
      });
    });
  }

  /** The entity's latest status (for the confirmation texts), or null before the first refresh. */
  function currentStatus(name) { return state.statuses[name] || null; }

  // ---- confirmation dialog -------------------------------------------------------------

  var pendingConfirm = null;

  function confirmAction(options, onConfirm) {
    var dialog = $('confirm');
    $('confirm-title').textContent = options.title;
    setChildren($('confirm-body'), [el('ul', null, options.items.map(function (t) { return el('li', { text: t }); }))]);
    $('confirm-ok').textContent = options.confirmLabel;
    pendingConfirm = { onConfirm: onConfirm, returnFocus: options.returnFocus };
    dialog.showModal();
    $('confirm-cancel').focus();
  }

  function closeConfirm(confirmed) {
    var dialog = $('confirm');
    var pending = pendingConfirm;
    pendingConfirm = null;
    if (dialog.open) dialog.close();
    if (!pending) return;
    if (pending.returnFocus) pending.returnFocus.focus();
    if (confirmed) pending.onConfirm();
    else say('Cancelled: nothing was changed.', 'info');
  }

  // ---- wiring --------------------------------------------------------------------------

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = $('token').value.trim();
    if (!token) {
      $('token-error').textContent = 'Enter the admin token.';
      $('token').focus();
      return;
    }
    $('token-error').textContent = '';
    signIn(token);
    refresh().then(function () {
      if (state.token) $('overview-title').focus();
    });
  });

  $('forget-token').addEventListener('click', function () {
    signOut('Token forgotten. Enter it again to continue.');
  });
  $('sync-all').addEventListener('click', syncAll);
  $('full-resync').addEventListener('click', fullResync);
  $('integrity-run').addEventListener('click', function () { runChecks(false, null); });
  $('integrity-fix').addEventListener('click', function () { runChecks(true, null); });
  $('runs-entity').addEventListener('change', function () { refresh(); });
  $('confirm-ok').addEventListener('click', function () { closeConfirm(true); });
  $('confirm-cancel').addEventListener('click', function () { closeConfirm(false); });
  $('confirm').addEventListener('cancel', function (event) { event.preventDefault(); closeConfirm(false); });

  var saved = readToken();
  if (saved) {
    signIn(saved);
    refresh();
  } else {
    showLogin('');
  }
})();
`;
