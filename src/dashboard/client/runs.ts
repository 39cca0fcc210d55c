/** "Recent runs": a small chart per entity and the table, both from the coordinators' run logs. */
import type { IdleRuns, SyncLogRun } from '../../types.ts';
import { DASHBOARD } from '../settings.ts';
import { badge, byId, cell, el, emptyRow, setChildren, svgEl, timeEl } from './dom.ts';
import { CHART, chartModel, type ChartModel } from './chart-model.ts';
import { briefError, count, duration, outcomeTone, plural, shortId, shortTime } from './format.ts';
import { idPart } from './cards.ts';

/** Fills the runs table. */
export function renderRuns(runs: readonly SyncLogRun[], idle: IdleRuns): void {
  const rows = runs.map((r) => {
    const took = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
    return el('tr', {}, [
      el('th', { attrs: { scope: 'row' }, className: 'nowrap' }, [timeEl(r.finishedAt)]),
      cell(r.entity),
      cell(r.trigger),
      cell([badge(r.outcome, outcomeTone(r.outcome))]),
      cell(duration(took), 'num nowrap'),
      cell(r.stats.rowsRead, 'num'),
      cell(r.stats.rowsApplied, 'num'),
      cell(r.stats.rowsDeleted, 'num'),
      cell(r.stats.rowsSkipped, 'num'),
      cell(r.stats.rowsQuarantined, 'num'),
      cell(r.stats.conflicts, 'num'),
      cell(r.stats.pages, 'num'),
      cell(r.pullLag ? duration(r.pullLag.lagMs) : null, 'num nowrap'),
      cell([el('span', { className: 'mono', text: shortId(r.runId), title: r.runId })]),
      r.error ? el('td', { className: 'error-cell', text: briefError(r.error), title: r.error }) : cell(''),
    ]);
  });
  const empty = idle === 'exclude' ? 'No run has moved data or failed yet (idle runs are hidden).' : 'No runs recorded yet.';
  setChildren(byId('runs-body'), rows.length > 0 ? rows : [emptyRow(15, empty)]);
  byId('runs-caption').textContent = runsCaption(idle);
}

/** The runs table's caption for the switch's state. */
export function runsCaption(idle: IdleRuns): string {
  return idle === 'exclude'
    ? `From the coordinators' run logs, newest first: the ${DASHBOARD.runsShown} newest runs that moved data, failed or had more to do. Idle runs (caught up, nothing changed) are hidden.`
    : `From the coordinators' run logs, newest first: the ${DASHBOARD.runsShown} newest runs, idle ones included.`;
}

/** One chart per entity (only the chosen one when the table is filtered). */
export function renderCharts(
  charts: Readonly<Record<string, readonly SyncLogRun[]>>,
  names: readonly string[],
  only: string,
  idle: IdleRuns,
): void {
  const shown = only ? names.filter((n) => n === only) : names;
  setChildren(
    byId('runs-charts'),
    shown.map((name) => chartFigure(name, charts[name] ?? [], idle)),
  );
}

function chartFigure(entity: string, runs: readonly SyncLogRun[], idle: IdleRuns): HTMLElement {
  const model = chartModel(runs, DASHBOARD.chartRuns);
  const id = `chart-${idPart(entity)}`;
  const which = idle === 'exclude' ? ' that moved data or failed' : '';
  const figure = el('figure', { className: 'chart', attrs: { 'data-chart-entity': entity, 'aria-labelledby': `${id}-title` } }, [
    el('figcaption', { attrs: { id: `${id}-title` } }, [
      el('strong', { text: entity }),
      el('span', { className: 'muted', text: ` \u00b7 last ${plural(model.bars.length, 'run')}${which}` }),
    ]),
  ]);
  if (model.bars.length === 0) {
    figure.append(el('p', { className: 'muted chart-empty', text: `No runs${which} recorded yet.` }));
    return figure;
  }
  figure.append(
    chartSvg(entity, model),
    legend(model, runs.length > 0 && model.lag.length === 0 && runs.every((r) => r.direction === 'push')),
  );
  return figure;
}

function chartSvg(entity: string, model: ChartModel): SVGSVGElement {
  const now = Date.now();
  const first = model.bars[0]?.run.finishedAt ?? '';
  const last = model.bars.at(-1)?.run.finishedAt ?? '';
  const newestLag = model.lag.at(-1);
  const summary =
    `${entity}: ${plural(model.bars.length, 'run')} from ${shortTime(first, now)} to ${shortTime(last, now)}; ` +
    `${count(model.totalMoved)} rows moved${model.failed > 0 ? `; ${plural(model.failed, 'failed run')}` : ''}` +
    `${newestLag ? `; newest pull lag ${duration(newestLag.lagMs)}, largest ${duration(model.maxLagMs)}` : ''}.`;
  const bars = model.bars.map((b) =>
    svgEl(
      'rect',
      {
        class: b.failed ? 'bar failed' : 'bar',
        x: b.x,
        y: b.y,
        width: b.width,
        height: b.height,
        'data-run-id': b.run.runId,
      },
      [
        svgEl('title', {}, [
          `${shortTime(b.run.finishedAt, now)} \u00b7 ${b.run.outcome} \u00b7 ${plural(b.moved, 'row')} moved${b.run.pullLag ? ` \u00b7 lag ${duration(b.run.pullLag.lagMs)}` : ''}`,
        ]),
      ],
    ),
  );
  const lag = model.lag.length > 1 ? [svgEl('polyline', { class: 'lag', points: model.lag.map((p) => `${p.x},${p.y}`).join(' ') })] : [];
  const dots = model.lag.map((p) =>
    svgEl('circle', { class: 'lag-dot', cx: p.x, cy: p.y, r: 2.2, 'data-lag-ms': p.lagMs }, [
      svgEl('title', {}, [`${shortTime(p.run.finishedAt, now)} \u00b7 pull lag ${duration(p.lagMs)}`]),
    ]),
  );
  return svgEl(
    'svg',
    {
      viewBox: `0 0 ${CHART.width} ${CHART.height}`,
      role: 'img',
      'aria-label': summary,
      focusable: 'false',
    },
    [
      svgEl('title', {}, [summary]),
      svgEl('line', {
        class: 'axis',
        x1: 0,
        y1: CHART.height - CHART.bottom + 0.5,
        x2: CHART.width,
        y2: CHART.height - CHART.bottom + 0.5,
      }),
      svgEl('g', { class: 'bars' }, bars),
      ...lag,
      svgEl('g', { class: 'lag-dots' }, dots),
    ],
  );
}

function legend(model: ChartModel, pushOnly: boolean): HTMLElement {
  return el('p', { className: 'chart-legend' }, [
    el('span', { className: 'key bar-key', attrs: { 'aria-hidden': 'true' } }),
    ` rows moved (largest ${count(model.maxMoved)})`,
    model.failed > 0
      ? el('span', {}, [' ', el('span', { className: 'key bar-key failed', attrs: { 'aria-hidden': 'true' } }), ' failed'])
      : null,
    ' ',
    pushOnly
      ? el('span', { className: 'muted', text: '\u00b7 push only: its freshness is the pending age on the card' })
      : el('span', {}, [
          el('span', { className: 'key lag-key', attrs: { 'aria-hidden': 'true' } }),
          model.lag.length > 0 ? ` pull lag (largest ${duration(model.maxLagMs)})` : ' pull lag (no run applied rows)',
        ]),
    el('span', { className: 'muted', text: ' \u00b7 oldest left' }),
  ]);
}
