/** The dashboard's stylesheet, inlined into the page (the CSP allows inline styles only). */
export const DASHBOARD_CSS = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6f9;
  --surface: #ffffff;
  --surface-2: #f8fafc;
  --text: #111827;
  --muted: #4b5563;
  --border: #d7dde5;
  --accent: #1d4ed8;
  --accent-text: #ffffff;
  --focus: #2563eb;
  --ok-bg: #dcfce7; --ok-fg: #14532d;
  --bad-bg: #fee2e2; --bad-fg: #7f1d1d;
  --warn-bg: #fef3c7; --warn-fg: #78350f;
  --info-bg: #e0e7ff; --info-fg: #1e3a8a;
  --neutral-bg: #e5e7eb; --neutral-fg: #1f2937;
  --danger: #b91c1c;
  --radius: 10px;
  --shadow: 0 1px 2px rgb(15 23 42 / 6%), 0 1px 8px rgb(15 23 42 / 4%);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120;
    --surface: #111a2e;
    --surface-2: #16213a;
    --text: #e5e9f0;
    --muted: #a8b3c4;
    --border: #2a3753;
    --accent: #2563eb;
    --focus: #93c5fd;
    --ok-bg: #14532d; --ok-fg: #dcfce7;
    --bad-bg: #7f1d1d; --bad-fg: #fee2e2;
    --warn-bg: #78350f; --warn-fg: #fef3c7;
    --info-bg: #1e3a8a; --info-fg: #e0e7ff;
    --neutral-bg: #334155; --neutral-fg: #f1f5f9;
    --danger: #f87171;
    --shadow: none;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
[hidden] { display: none !important; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.25rem; }
h2 { font-size: 1.1rem; }
h3 { font-size: 1.05rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip { position: absolute; left: 0.5rem; top: -3rem; background: var(--surface); color: var(--text); padding: 0.5rem 0.75rem; z-index: 10; }
.skip:focus { top: 0.5rem; }
.mono { font-family: var(--mono); font-size: 0.85em; overflow-wrap: anywhere; }
.muted { color: var(--muted); }

/* ---- top bar ---- */
.topbar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.25rem;
  padding: 0.75rem clamp(1rem, 3vw, 2rem);
  background: var(--surface); border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: baseline; gap: 0.75rem; flex-wrap: wrap; margin-right: auto; }
.brand p { margin: 0; color: var(--muted); font-size: 0.9rem; }
.refresh-state { margin: 0; font-size: 0.875rem; color: var(--muted); display: flex; align-items: center; gap: 0.4rem; }
.refresh-state .dot { width: 0.6rem; height: 0.6rem; border-radius: 50%; background: var(--muted); flex: none; }
.refresh-state[data-state="ok"] .dot { background: #16a34a; }
.refresh-state[data-state="failed"] { color: var(--danger); font-weight: 600; }
.refresh-state[data-state="failed"] .dot { background: var(--danger); }

main { padding: 1rem clamp(1rem, 3vw, 2rem) 3rem; max-width: 1500px; margin: 0 auto; }
main:focus { outline: none; }
section { margin-top: 1.5rem; }
.section-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; margin-bottom: 0.75rem; }
.section-head p { margin: 0; }

/* ---- buttons and forms ---- */
button {
  font: inherit; font-size: 0.9rem; font-weight: 600;
  min-height: 2.5rem; padding: 0.35rem 0.75rem;
  border-radius: 8px; border: 1px solid var(--border);
  background: var(--surface-2); color: var(--text); cursor: pointer;
}
button:hover { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.primary:hover { filter: brightness(1.08); }
button.danger { color: var(--danger); border-color: currentColor; background: var(--surface); }
button.danger.solid { background: var(--danger); border-color: var(--danger); color: #fff; }
button.link { background: none; border: none; color: var(--accent); padding: 0.25rem 0.5rem; min-height: 2rem; text-decoration: underline; }
button[aria-disabled="true"] { opacity: 0.6; cursor: progress; }
.button-row { display: flex; flex-wrap: wrap; gap: 0.5rem; }
label { font-weight: 600; }
input, select {
  font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--muted); border-radius: 8px; padding: 0.45rem 0.6rem; min-height: 2.5rem;
}
.inline-field { display: flex; align-items: center; gap: 0.5rem; font-size: 0.9rem; }

/* ---- login ---- */
.login { max-width: 28rem; margin: 3rem auto; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 1.5rem; box-shadow: var(--shadow); }
.login form { display: grid; gap: 0.5rem; margin-top: 1rem; }
.login input { width: 100%; }
.login button { justify-self: start; margin-top: 0.5rem; }
.help { margin: 0; color: var(--muted); font-size: 0.875rem; }
.form-error { margin: 0; color: var(--danger); font-weight: 600; }
.form-error:empty { display: none; }

/* ---- overview ---- */
.overview { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); margin-top: 0; }
.tile { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 0.85rem 1rem; box-shadow: var(--shadow); }
.tile .label { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; font-weight: 600; }
.tile .value { font-size: 1.5rem; font-weight: 700; margin-top: 0.15rem; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1rem; margin-top: 1rem; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 0.75rem 1rem; box-shadow: var(--shadow); }
.toolbar h2 { font-size: 1rem; margin-right: auto; }
.status-region { margin: 0.75rem 0 0; padding: 0.6rem 0.9rem; border-radius: 8px; border-left: 4px solid var(--accent); background: var(--info-bg); color: var(--info-fg); }
.status-region:empty { display: none; }
.status-region[data-tone="ok"] { background: var(--ok-bg); color: var(--ok-fg); border-color: #16a34a; }
.status-region[data-tone="error"] { background: var(--bad-bg); color: var(--bad-fg); border-color: var(--danger); }
.status-region time { font-weight: 600; margin-right: 0.4rem; }

/* ---- badges ---- */
.badge { display: inline-flex; align-items: center; gap: 0.3rem; font-size: 0.78rem; font-weight: 700; padding: 0.1rem 0.55rem; border-radius: 999px; background: var(--neutral-bg); color: var(--neutral-fg); white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok-fg); }
.badge.bad { background: var(--bad-bg); color: var(--bad-fg); }
.badge.warn { background: var(--warn-bg); color: var(--warn-fg); }
.badge.info { background: var(--info-bg); color: var(--info-fg); }
.badge.ok::before { content: "\2713"; }
.badge.bad::before { content: "!"; }

/* ---- entity cards ---- */
.cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 20rem), 1fr)); align-items: start; }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1rem 1.1rem; display: grid; gap: 0.75rem; }
.card[data-healthy="false"] { border-top: 4px solid var(--danger); }
.card[data-healthy="true"] { border-top: 4px solid #16a34a; }
.card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.5rem; }
.card-head h3 { margin-right: auto; font-size: 1.15rem; }
.problems { margin: 0; padding: 0.5rem 0.75rem 0.5rem 1.75rem; background: var(--bad-bg); color: var(--bad-fg); border-radius: 8px; font-size: 0.875rem; }
.problems:empty { display: none; }
.fields { display: grid; grid-template-columns: minmax(5.5rem, max-content) 1fr; gap: 0.3rem 0.9rem; margin: 0; font-size: 0.9rem; }
.fields dt { color: var(--muted); font-weight: 600; }
.fields dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.fields .error-text { color: var(--danger); display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; line-clamp: 2; overflow: hidden; }
.stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.4rem; margin: 0; }
.stats div { background: var(--surface-2); border: 1px solid var(--border); border-radius: 8px; padding: 0.3rem 0.5rem; text-align: center; }
.stats dt { font-size: 0.75rem; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stats dd { margin: 0; font-weight: 700; font-variant-numeric: tabular-nums; }
.stats-caption { font-size: 0.8rem; color: var(--muted); margin: 0 0 0.3rem; font-weight: 600; }
.card-result { margin: 0; font-size: 0.85rem; padding: 0.4rem 0.6rem; border-radius: 6px; background: var(--surface-2); }
.card-result:empty { display: none; }
.card-result[data-tone="error"] { background: var(--bad-bg); color: var(--bad-fg); }
.card-result[data-tone="ok"] { background: var(--ok-bg); color: var(--ok-fg); }
.card .button-row { border-top: 1px solid var(--border); padding-top: 0.75rem; }
.card .button-row button { flex: 1 1 auto; }

/* ---- tables ---- */
.panel { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1rem 1.1rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
caption { text-align: left; padding: 0.5rem 0.75rem; color: var(--muted); font-size: 0.8rem; caption-side: bottom; }
th, td { padding: 0.45rem 0.6rem; text-align: left; vertical-align: top; border-bottom: 1px solid var(--border); }
thead th { background: var(--surface-2); font-size: 0.8rem; color: var(--muted); white-space: nowrap; }
tbody th { font-weight: 600; }
tbody tr:last-child > * { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 1rem; }
td.error-cell { color: var(--danger); min-width: 16rem; max-width: 32rem; }
td .mono { overflow-wrap: normal; }
.nowrap { white-space: nowrap; }
.two-col { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 34rem), 1fr)); }
.two-col section { margin-top: 0; }
.section-error { color: var(--danger); font-weight: 600; margin: 0.5rem 0 0; }
.section-error:empty { display: none; }
pre.json { margin: 0.5rem 0 0; padding: 0.75rem; background: var(--surface-2); border-radius: 8px; overflow: auto; max-height: 20rem; font-family: var(--mono); font-size: 0.8rem; }

/* ---- recent runs: switch and charts ---- */
input[type="checkbox"] { min-height: 0; width: 1.15rem; height: 1.15rem; padding: 0; accent-color: var(--accent); }
#runs > .help { margin: -0.25rem 0 0.75rem; max-width: 70rem; }
.charts { display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 17rem), 1fr)); margin-bottom: 0.75rem; }
.chart { margin: 0; padding: 0.6rem 0.75rem; background: var(--surface-2); border: 1px solid var(--border); border-radius: 8px; min-width: 0; }
.chart figcaption { font-size: 0.85rem; margin-bottom: 0.35rem; }
.chart svg { display: block; width: 100%; height: auto; overflow: visible; }
.chart .axis { stroke: var(--border); stroke-width: 1; }
.chart .bar { fill: var(--accent); opacity: 0.8; }
.chart .bar.failed { fill: var(--danger); opacity: 1; }
.chart .lag { fill: none; stroke: #d97706; stroke-width: 1.5; stroke-linejoin: round; }
.chart .lag-dot { fill: #d97706; }
.chart-legend, .chart-empty { margin: 0.35rem 0 0; font-size: 0.78rem; color: var(--muted); }
.chart-legend .key { display: inline-block; width: 0.7rem; height: 0.7rem; border-radius: 2px; vertical-align: -0.05rem; }
.chart-legend .bar-key { background: var(--accent); opacity: 0.8; }
.chart-legend .bar-key.failed { background: var(--danger); opacity: 1; }
.chart-legend .lag-key { height: 0.2rem; vertical-align: 0.2rem; background: #d97706; }

/* ---- consistency ---- */
#consistency > .help { margin: -0.25rem 0 0.75rem; max-width: 70rem; }
#consistency .card-result { margin-bottom: 0.75rem; }
.subhead { font-size: 1rem; margin: 1.25rem 0 0.5rem; }
.alerts .subhead { margin-top: 0.5rem; }
.alerts > p { margin: 0; }
.integrity-cards { margin-top: 1rem; }
.integrity-cards .card { background: var(--surface-2); box-shadow: none; }
.integrity-cards .card > p { margin: 0; font-size: 0.875rem; }
.stats dd[data-tone="bad"] { color: var(--danger); }
.stats dd[data-tone="ok"] { color: #15803d; }
.drift-kinds { margin: 0.3rem 0 0; font-size: 0.85rem; color: var(--muted); }
.check-list { margin: 0; padding: 0; list-style: none; display: grid; gap: 0.5rem; font-size: 0.875rem; }
.check-list li { padding: 0.45rem 0.6rem; border-radius: 8px; background: var(--surface); border: 1px solid var(--border); overflow-wrap: anywhere; }
.fix-text { margin-top: 0.25rem; color: var(--ok-fg); background: var(--ok-bg); padding: 0.2rem 0.45rem; border-radius: 6px; }
.fix-text.partial { color: var(--warn-fg); background: var(--warn-bg); }
.all-ok { margin: 0; font-size: 0.875rem; color: var(--muted); }
.job { margin: 0; font-size: 0.875rem; }
.card > .error-text { margin: 0; color: var(--danger); font-size: 0.875rem; overflow-wrap: anywhere; }
details.held summary { cursor: pointer; font-weight: 600; font-size: 0.9rem; }
details.held[open] summary { margin-bottom: 0.4rem; }
details.held .help { margin-bottom: 0.4rem; }
details.held button { min-height: 2rem; padding: 0.2rem 0.55rem; font-size: 0.8rem; }
td.details-cell { min-width: 16rem; max-width: 36rem; overflow-wrap: anywhere; }
@media (prefers-color-scheme: dark) {
  .stats dd[data-tone="ok"] { color: #4ade80; }
}

/* ---- confirmation dialog ---- */
dialog { border: 1px solid var(--border); border-radius: var(--radius); padding: 1.25rem 1.4rem; max-width: min(34rem, calc(100vw - 2rem)); background: var(--surface); color: var(--text); box-shadow: 0 20px 50px rgb(0 0 0 / 30%); }
dialog::backdrop { background: rgb(15 23 42 / 55%); }
dialog p, dialog ul { margin: 0.75rem 0 0; }
dialog li + li { margin-top: 0.35rem; }
dialog .button-row { justify-content: flex-end; margin-top: 1.25rem; }

@media (max-width: 40rem) {
  body { font-size: 14px; }
  .toolbar h2 { width: 100%; }
  .overview { gap: 0.6rem; }
  .tile { padding: 0.6rem 0.75rem; }
  .tile .value { font-size: 1.2rem; }
  .topbar { gap: 0.25rem 0.75rem; }
  .refresh-state { flex: 1 1 12rem; }
}
@media (prefers-reduced-motion: no-preference) {
  button { transition: border-color 120ms, filter 120ms; }
}
`;
