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
    entityNames: []
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
    ['runs-body', 'conflicts-body', 'quarantine-body', 'integrity'].forEach(function (id) { setChildren($(id), []); });
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

  /** Shows whatever GET /api/integrity returns: a table for arrays of checks, JSON otherwise. */
  function renderIntegrity(res) {
    var box = $('integrity');
    if (res.status === 501) {
      setChildren(box, [el('p', { className: 'muted', text: 'Not available yet: this version of the server does not run consistency checks (GET /api/integrity answers 501).' })]);
      return;
    }
    if (!res.ok) {
      setChildren(box, [el('p', { className: 'section-error', text: 'Could not load consistency results: ' + errorText(res) })]);
      return;
    }
    var data = res.data || {};
    var list = Array.isArray(data) ? data : (data.checks || data.results || null);
    var parts = [];
    var summary = [];
    if (typeof data.healthy === 'boolean') summary.push(data.healthy ? badge('Consistent', 'ok') : badge('Inconsistencies found', 'bad'));
    else if (typeof data.ok === 'boolean') summary.push(data.ok ? badge('Consistent', 'ok') : badge('Inconsistencies found', 'bad'));
    var when = data.checkedAt || data.finishedAt || data.ranAt;
    if (typeof when === 'string') summary.push(' checked ', timeEl(when));
    if (summary.length) parts.push(el('p', null, summary));
    if (Array.isArray(list) && list.length && typeof list[0] === 'object') {
      var columns = [];
      list.forEach(function (row) {
        Object.keys(row || {}).forEach(function (k) { if (columns.indexOf(k) < 0 && columns.length < 8) columns.push(k); });
      });
      var head = el('tr', null, columns.map(function (c) { return el('th', { text: c, attrs: { scope: 'col' } }); }));
      var body = list.map(function (row) {
        return el('tr', null, columns.map(function (c) {
          var v = row ? row[c] : null;
          return cell(v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
        }));
      });
      parts.push(el('div', { className: 'table-wrap', attrs: { role: 'region', 'aria-label': 'Consistency check results', tabindex: '0' } },
        [el('table', null, [el('thead', null, [head]), el('tbody', null, body)])]));
    } else {
      parts.push(el('pre', { className: 'json', text: JSON.stringify(data, null, 2) }));
    }
    setChildren(box, parts);
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
        api('GET', '/api/integrity').then(renderIntegrity, function (e) {
          if (e instanceof AuthError) throw e;
          setChildren($('integrity'), [el('p', { className: 'section-error', text: 'Could not load consistency results: ' + describeError(e) })]);
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
