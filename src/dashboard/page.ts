/**
 * The operator dashboard: one self-contained HTML page (no external assets, works offline).
 * The markup is static; the inline script asks for the admin token, reads GET /api/dashboard
 * and fills the page with DOM text nodes only. The script is the client in client/ (TypeScript),
 * bundled by dev/build-dashboard.ts into client.bundle.js; styles live in styles.ts; the numbers
 * the copy quotes come from settings.ts, as the client's do.
 */
import { DASHBOARD_SCRIPT, DASHBOARD_SCRIPT_HASH } from './client.bundle.js';
import { DASHBOARD } from './settings.ts';
import { DASHBOARD_CSS } from './styles.ts';

const MARKUP = String.raw`
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <div class="brand">
    <h1>Sync dashboard</h1>
    <p>Supabase &#8644; D1</p>
  </div>
  <p id="refresh-state" class="refresh-state" data-state="idle"><span class="dot" aria-hidden="true"></span><span id="refresh-text">Not signed in</span></p>
  <button id="forget-token" type="button" hidden>Forget token</button>
</header>

<main id="main" tabindex="-1">
  <section id="login" class="login" aria-labelledby="login-title" hidden>
    <h2 id="login-title">Sign in</h2>
    <p class="help">The dashboard calls the admin API with your token. It is kept only in this browser tab (session storage) until you close the tab or choose &ldquo;Forget token&rdquo;.</p>
    <form id="login-form" novalidate>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required aria-describedby="token-error">
      <p id="token-error" class="form-error" role="alert"></p>
      <button type="submit" class="primary">Open dashboard</button>
    </form>
  </section>

  <div id="app" hidden>
    <h2 id="overview-title" class="visually-hidden" tabindex="-1">Overview</h2>
    <div class="overview" role="group" aria-labelledby="overview-title">
      <div class="tile"><div class="label" id="tile-health-label">Overall</div><div class="value" id="overall-health" aria-labelledby="tile-health-label">&ndash;</div></div>
      <div class="tile"><div class="label">Entities healthy</div><div class="value" id="healthy-count">&ndash;</div></div>
      <div class="tile"><div class="label">Unsynced emails</div><div class="value" id="unsynced-emails">&ndash;</div></div>
      <div class="tile"><div class="label">Pull: last sync</div><div class="value" id="pull-last">&ndash;</div></div>
      <div class="tile"><div class="label">Push: last sync</div><div class="value" id="push-last">&ndash;</div></div>
    </div>

    <div class="toolbar">
      <h2 id="actions-title">All entities</h2>
      <div class="button-row" role="group" aria-labelledby="actions-title">
        <button id="sync-all" type="button" class="primary">Sync all</button>
        <button id="full-resync" type="button" class="danger">Full resync&hellip;</button>
      </div>
    </div>
    <p id="status" class="status-region" role="status" aria-live="polite" aria-atomic="true"></p>

    <section aria-labelledby="entities-title">
      <div class="section-head"><h2 id="entities-title">Entities</h2></div>
      <div id="entities" class="cards"></div>
    </section>

    <section id="runs" class="panel" aria-labelledby="runs-title">
      <div class="section-head">
        <h2 id="runs-title">Recent runs</h2>
        <div class="inline-field">
          <input id="runs-idle" type="checkbox" aria-describedby="runs-caption">
          <label for="runs-idle">Show idle runs</label>
        </div>
        <div class="inline-field">
          <label for="runs-entity">Entity</label>
          <select id="runs-entity"><option value="">All entities</option></select>
        </div>
      </div>
      <p class="help">Bars: rows each run moved (applied + deleted). Line: pull lag, the time from a change&rsquo;s <span class="mono">updated_at</span> in Supabase to its arrival in D1, for the newest change each run applied. Newest run on the right; ${DASHBOARD.chartRuns} runs at most.</p>
      <div id="runs-charts" class="charts"></div>
      <p id="charts-error" class="section-error" role="alert"></p>
      <div class="table-wrap" role="region" aria-labelledby="runs-title" tabindex="0">
        <table>
          <caption id="runs-caption">From the coordinators' run logs, newest first: the ${DASHBOARD.runsShown} newest runs that moved data, failed or had more to do. Idle runs (caught up, nothing changed) are hidden.</caption>
          <thead><tr>
            <th scope="col">Finished</th><th scope="col">Entity</th><th scope="col">Trigger</th><th scope="col">Outcome</th>
            <th scope="col" class="num">Took</th><th scope="col" class="num">Read</th><th scope="col" class="num">Applied</th>
            <th scope="col" class="num">Deleted</th><th scope="col" class="num">Skipped</th><th scope="col" class="num">Quarantined</th>
            <th scope="col" class="num">Conflicts</th><th scope="col" class="num">Pages</th><th scope="col" class="num">Pull lag</th><th scope="col">Run</th><th scope="col">Error</th>
          </tr></thead>
          <tbody id="runs-body"></tbody>
        </table>
      </div>
      <p id="runs-error" class="section-error" role="alert"></p>
    </section>

    <div class="two-col">
      <section class="panel" aria-labelledby="conflicts-title">
        <div class="section-head"><h2 id="conflicts-title">Recent conflicts</h2></div>
        <div class="table-wrap" role="region" aria-labelledby="conflicts-title" tabindex="0">
          <table>
            <caption>The ${DASHBOARD.conflictsPerEntity} newest per entity, merged newest first. The winner's version is the one kept.</caption>
            <thead><tr>
              <th scope="col">When</th><th scope="col">Entity</th><th scope="col">Row id</th><th scope="col">Winner</th>
              <th scope="col">Supabase updated_at</th><th scope="col">D1 updated_at</th><th scope="col">Reason</th>
            </tr></thead>
            <tbody id="conflicts-body"></tbody>
          </table>
        </div>
        <p id="conflicts-error" class="section-error" role="alert"></p>
      </section>

      <section class="panel" aria-labelledby="quarantine-title">
        <div class="section-head"><h2 id="quarantine-title">Quarantined rows</h2></div>
        <div class="table-wrap" role="region" aria-labelledby="quarantine-title" tabindex="0">
          <table>
            <caption>Rows set aside because they failed validation or were refused (the ${DASHBOARD.quarantinePerEntity} most recently seen per entity); they are retried automatically.</caption>
            <thead><tr>
              <th scope="col">Entity</th><th scope="col">Row id</th><th scope="col">Direction</th><th scope="col">Reason</th>
              <th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col" class="num">Attempts</th>
            </tr></thead>
            <tbody id="quarantine-body"></tbody>
          </table>
        </div>
        <p id="quarantine-error" class="section-error" role="alert"></p>
      </section>
    </div>

    <section id="consistency" class="panel" aria-labelledby="integrity-title">
      <div class="section-head">
        <h2 id="integrity-title">Consistency checks</h2>
        <div class="button-row" role="group" aria-labelledby="integrity-title">
          <button id="integrity-run" type="button">Run checks</button>
          <button id="integrity-fix" type="button" class="primary">Run checks and fix</button>
        </div>
      </div>
      <p class="help">&ldquo;Run checks&rdquo; compares both sides row by row (digests of key ranges, descending only where they differ) and runs every check of each entity, reporting only; &ldquo;Run checks and fix&rdquo; also repairs what it finds. On their own, the checks run hourly without the row comparison, and at 03:00 a full resync reconciles every entity with fixes.</p>
      <p id="integrity-result" class="card-result"></p>
      <p id="integrity-error" class="section-error" role="alert"></p>
      <div id="integrity-alerts" class="alerts"></div>
      <div id="integrity-entities" class="cards integrity-cards"></div>
      <h3 id="integrity-history-title" class="subhead">Recent checks</h3>
      <div class="table-wrap" role="region" aria-labelledby="integrity-history-title" tabindex="0">
        <table>
          <caption>The ${DASHBOARD.integrityHistory} newest integrity runs of all entities, newest first. Problems: checks not ok; fixed: rows or entries the fixes repaired.</caption>
          <thead><tr>
            <th scope="col">Checked</th><th scope="col">Entity</th><th scope="col">Trigger</th><th scope="col">Fix</th><th scope="col">Result</th>
            <th scope="col" class="num">Problems</th><th scope="col" class="num">Fixed</th><th scope="col" class="num">D1</th><th scope="col" class="num">Supabase</th>
            <th scope="col" class="num">Drift found</th><th scope="col" class="num">Repaired</th><th scope="col">Details</th>
          </tr></thead>
          <tbody id="integrity-history-body"></tbody>
        </table>
      </div>
    </section>
  </div>
</main>

<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-body">
  <h2 id="confirm-title">Are you sure?</h2>
  <div id="confirm-body"></div>
  <div class="button-row">
    <button id="confirm-cancel" type="button">Cancel</button>
    <button id="confirm-ok" type="button" class="danger solid">Confirm</button>
  </div>
</dialog>
`;

/**
 * The page's Content-Security-Policy: nothing from elsewhere; the page's own script only (by its
 * hash: an injected inline script would not run) and inline style; API calls to this origin.
 */
export const DASHBOARD_CSP = `default-src 'none'; script-src '${DASHBOARD_SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The page's HTML. */
export function renderDashboard(): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<meta name="robots" content="noindex">',
    '<title>Sync dashboard</title>',
    `<style>${DASHBOARD_CSS}</style>`,
    '</head>',
    `<body>${MARKUP}<script>${DASHBOARD_SCRIPT}</script></body>`,
    '</html>',
  ].join('\n');
}
