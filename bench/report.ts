/**
 * docs/benchmarks.md from the BENCH lines of a run (bench/run.ts): the machine, the scenario
 * tables, the issue-10 targets computed from them, the scale tables and chart, and the
 * production estimate.
 */
import os from 'node:os';
import { CONTINUE_DELAY_MS } from '../src/sync/schedule.ts';
import { scaleChart, type Series } from './chart.ts';
import { fits, LATENCY, overlappedMs, PLANS, pullRunCost, runsFor, scaleCost, serialMs, type Cost } from './estimate.ts';
import type { BenchLine, MetricValue } from './lines.ts';

/** A scale measurement of one table size, kept in docs/benchmarks-scale.json across runs. */
export interface ScalePoint {
  rows: number;
  date: string;
  commit: string;
  results: { variant: string; metrics: Record<string, MetricValue> }[];
  /** What a reader must know about this point (an incomplete run, how it was recorded). */
  note?: string;
}

/** Growth within this is noise, not a table held in memory: a few pages' worth of V8 garbage between collections. */
const OWN_MEMORY_SLACK_MIB = 32;

function variantOf(p: ScalePoint, variant: string): { variant: string; metrics: Record<string, MetricValue> } | undefined {
  return p.results.find((x) => x.variant === variant);
}

/**
 * The engine's own memory growth at one table size: the workerd process's growth while the engine
 * pulled, minus its growth while D1 alone took the same rows ("limit, apply"): local D1 lives in
 * that process, and its share grows with the table whoever writes it. Never below zero.
 */
function engineOwnGrowth(p: ScalePoint): number | undefined {
  const engine = num(variantOf(p, 'engine'), 'workerd growth MiB');
  const apply = num(variantOf(p, 'limit, apply'), 'workerd growth MiB');
  return engine === undefined || apply === undefined ? undefined : Math.max(0, engine - apply);
}

/** What the page is made from. */
export interface ReportInput {
  lines: readonly BenchLine[];
  scale: readonly ScalePoint[];
  seconds: number;
  commit: string;
  versions: { workerd: string; pool: string; pglite: string };
  /** wrangler.toml's [vars]. */
  vars: Readonly<Record<string, string>>;
  /** Entities by direction, from the registry: pulled (two-way ones included), of them the two-way ones, and push-only. */
  pulled: readonly string[];
  twoWay: readonly string[];
  pushed: readonly string[];
  chartFile: string;
}

type Result = Extract<BenchLine, { kind: 'result' }>;

export const SCALE_BEGIN = '<!-- scale:begin (bench/run.ts rewrites this section on `npm run bench -- scale --record`) -->';
export const SCALE_END = '<!-- scale:end -->';

function cell(v: MetricValue | undefined): string {
  if (v === undefined || v === null) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 1 });
  return String(v).replace(/\|/g, '\\|');
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en', { maximumFractionDigits: digits });
const seconds = (ms: number): string =>
  ms >= 60_000 ? `${fmt(ms / 60_000)} min` : ms >= 1000 ? `${fmt(ms / 1000)} s` : `${Math.round(ms)} ms`;

function num(r: { metrics: Record<string, MetricValue> } | undefined, key: string): number | undefined {
  const v = r?.metrics[key];
  return typeof v === 'number' ? v : undefined;
}

function results(lines: readonly BenchLine[], scenario: string): Result[] {
  return lines.filter((l): l is Result => l.kind === 'result' && l.scenario === scenario);
}

function table(rows: readonly { variant: string; metrics: Record<string, MetricValue> }[], first = 'variant'): string[] {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics)) if (!columns.includes(k)) columns.push(k);
  const numeric = (c: string): boolean => rows.every((r) => typeof r.metrics[c] !== 'string');
  return [
    `| ${first} | ${columns.join(' | ')} |`,
    `| --- | ${columns.map((c) => (numeric(c) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${cell(r.variant)} | ${columns.map((c) => cell(r.metrics[c])).join(' | ')} |`),
  ];
}

/** A result's counted work; `suffix` reads the idle scenario's per-cycle columns (' / cycle'). */
function cost(r: { metrics: Record<string, MetricValue> } | undefined, suffix = ''): Cost | undefined {
  if (!r) return undefined;
  return {
    supabase: num(r, `Supabase requests${suffix}`) ?? 0,
    d1RoundTrips: num(r, `D1 round trips${suffix}`) ?? 0,
    d1Statements: num(r, `D1 statements${suffix}`) ?? 0,
  };
}

/** The pull's engine/limit/naive comparison of one run or scale point. */
export interface PullRatios {
  rows: number;
  engine: number;
  read?: number;
  apply?: number;
  full?: number;
  /** engine ÷ min(read, apply) */
  ofLimit?: number;
  /** engine ÷ naive full resync */
  ofNaive?: number;
  supabasePer1000?: number;
  d1Per1000?: number;
}

/** Ratios of a pull's variants (by name: engine, limit read/apply, naive full resync). */
export function pullRatios(rs: readonly { variant: string; metrics: Record<string, MetricValue> }[]): PullRatios | undefined {
  const by = (v: string): { variant: string; metrics: Record<string, MetricValue> } | undefined => rs.find((r) => r.variant === v);
  const engine = by('engine');
  const rows = num(engine, 'rows in D1');
  const speed = num(engine, 'rows/s');
  if (!engine || rows === undefined || speed === undefined) return undefined;
  const read = num(by('limit, read'), 'rows/s');
  const apply = num(by('limit, apply'), 'rows/s');
  const full = num(
    rs.find((r) => r.variant.startsWith('naive full resync')),
    'rows/s',
  );
  const limit = read !== undefined && apply !== undefined ? Math.min(read, apply) : undefined;
  const per1000 = (n: number | undefined): number | undefined => (n === undefined || rows === 0 ? undefined : (n * 1000) / rows);
  return {
    rows,
    engine: speed,
    read,
    apply,
    full,
    ofLimit: limit ? speed / limit : undefined,
    ofNaive: full ? speed / full : undefined,
    supabasePer1000: per1000(num(engine, 'Supabase requests')),
    d1Per1000: per1000(num(engine, 'D1 round trips')),
  };
}

function ratioNotes(r: PullRatios): string[] {
  const out: string[] = [];
  if (r.ofLimit !== undefined && r.read !== undefined && r.apply !== undefined) {
    const slower = r.read <= r.apply ? 'limit, read' : 'limit, apply';
    out.push(
      `Engine ÷ local limit: ${fmt(r.engine, 0)} ÷ min(${fmt(r.read, 0)}, ${fmt(r.apply, 0)}) = **${fmt(r.ofLimit, 2)}** (the slower limit is \`${slower}\`; target ≥ 0.5).`,
    );
  }
  if (r.ofNaive !== undefined) out.push(`Engine ÷ naive full resync: **${fmt(r.ofNaive)}×** (target ≥ 20×).`);
  if (r.supabasePer1000 !== undefined && r.d1Per1000 !== undefined) {
    out.push(
      `Per 1,000 rows the engine made **${fmt(r.supabasePer1000, 2)} Supabase requests** and **${fmt(r.d1Per1000, 2)} D1 round trips** ` +
        '(target ≤ 1 each, plus one each for the end of the stream).',
    );
  }
  return out;
}

/** The issue-10 targets, measured. */
function targets(input: ReportInput): string[] {
  const pull = results(input.lines, 'pull');
  const r = pullRatios(pull);
  const engine = pull.find((x) => x.variant === 'engine');
  const push = results(input.lines, 'push');
  const pushEngine = push.find((x) => x.variant.startsWith('engine,') && x.variant.endsWith(' new'));
  const pushNaive = push.find((x) => x.variant.startsWith('naive,') && x.variant.endsWith(' new'));
  const quiet = results(input.lines, 'idle').find((x) => x.variant === 'engine, quiet');
  const rows: [string, string, string][] = [];
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? '–' : ok ? 'yes' : '**no**');
  if (r) {
    rows.push([
      'Pull ≥ 50 % of the local limit (engine ÷ min(limit read, limit apply))',
      r.ofLimit === undefined ? '–' : fmt(r.ofLimit, 2),
      verdict(r.ofLimit === undefined ? undefined : r.ofLimit >= 0.5),
    ]);
    rows.push([
      "Pull ≥ 20× the spec's full resync",
      r.ofNaive === undefined ? '–' : `${fmt(r.ofNaive)}×`,
      verdict(r.ofNaive === undefined ? undefined : r.ofNaive >= 20),
    ]);
    const missed = num(engine, 'rows missed');
    rows.push(['Pull: 0 rows missing', cell(missed), verdict(missed === undefined ? undefined : missed === 0)]);
    const allowance = Math.ceil(r.rows / 1000) + 1;
    const req = num(engine, 'Supabase requests');
    const rt = num(engine, 'D1 round trips');
    rows.push([
      `Pull: ≤ 1 Supabase request per 1,000 rows, plus one (≤ ${allowance} here)`,
      `${cell(req)} (${fmt(r.supabasePer1000 ?? 0, 2)} per 1,000)`,
      verdict(req === undefined ? undefined : req <= allowance),
    ]);
    rows.push([
      `Pull: ≤ 1 D1 round trip per 1,000 rows, plus one (≤ ${allowance} here)`,
      // prospects syncs both ways: its run opens with the push pass, whose empty outbox read is
      // the one round trip beyond the pages; the run log is kept by the coordinator, not in D1.
      `${cell(rt)} (${fmt(r.d1Per1000 ?? 0, 2)} per 1,000): one batch per page, and the push pass's outbox read (prospects syncs both ways)`,
      verdict(rt === undefined ? undefined : rt <= allowance),
    ]);
    const written = num(engine, 'D1 rows written');
    rows.push([
      'Pull: D1 rows written per row = the table plus its indexes, as today (3 for prospects)',
      written === undefined ? '–' : fmt(written / r.rows, 2),
      verdict(written === undefined ? undefined : written / r.rows <= 3.01),
    ]);
  }
  if (pushEngine) {
    const landed = num(pushEngine, 'rows in Supabase') ?? 0;
    const per1000 = landed ? ((num(pushEngine, 'Supabase requests') ?? 0) * 1000) / landed : undefined;
    rows.push([
      'Push ≤ 2 Supabase requests per 1,000 rows',
      per1000 === undefined ? '–' : fmt(per1000, 2),
      verdict(per1000 === undefined ? undefined : per1000 <= 2),
    ]);
    const a = num(pushEngine, 'rows/s');
    const b = num(pushNaive, 'rows/s');
    const x = a !== undefined && b ? a / b : undefined;
    rows.push(["Push ≥ 20× the spec's per-row push", x === undefined ? '–' : `${fmt(x)}×`, verdict(x === undefined ? undefined : x >= 20)]);
  }
  if (quiet) {
    const n = num(quiet, 'Supabase requests / cycle');
    rows.push(['Idle: a quiet cycle of a pulled entity ≤ 1 Supabase request', cell(n), verdict(n === undefined ? undefined : n <= 1)]);
  }
  // Flatness over the smallest and largest table that measured the metric (a hand-recorded
  // point may lack the sampled memory), among the points of this page's commit: a point kept
  // from an older engine says nothing about this one's flatness.
  const points = sameCommit(input.scale, input.commit);
  const flat = (metric: string, label: string, unit: string, digits: number): void => {
    const has = points
      .map((p) => ({
        rows: p.rows,
        v: num(
          p.results.find((x) => x.variant === 'engine'),
          metric,
        ),
      }))
      .filter((p): p is { rows: number; v: number } => p.v !== undefined && p.v > 0);
    const a = has[0];
    const b = has.at(-1);
    if (!a || !b || a === b) return;
    rows.push([
      `Scale: ${label} stays flat (${cell(a.rows)} → ${cell(b.rows)} rows; read as flat within 1.5×)`,
      `${fmt(a.v, digits)} → ${fmt(b.v, digits)} ${unit} (${fmt(b.v / a.v, 2)}×)`,
      verdict(b.v / a.v <= 1.5),
    ]);
  };
  flat('µs / row', 'time per row', 'µs', 1);
  // The process peak holds local D1 too (the table itself, in the same process): shown, but the
  // verdict is on the engine's own share, below.
  const peaks = points
    .map((p) => ({ rows: p.rows, v: num(variantOf(p, 'engine'), 'workerd peak MiB') }))
    .filter((p): p is { rows: number; v: number } => p.v !== undefined && p.v > 0);
  const p0 = peaks[0];
  const p1 = peaks.at(-1);
  if (p0 && p1 && p0 !== p1) {
    rows.push([
      `Scale: workerd peak memory (${cell(p0.rows)} → ${cell(p1.rows)} rows; the process holds local D1 and the table with it)`,
      `${fmt(p0.v, 0)} → ${fmt(p1.v, 0)} MiB (${fmt(p1.v / p0.v, 2)}×)`,
      'shown; judged by the next row',
    ]);
  }
  const own = points
    .map((p) => ({ rows: p.rows, v: engineOwnGrowth(p) }))
    .filter((p): p is { rows: number; v: number } => p.v !== undefined);
  const o0 = own[0];
  const o1 = own.at(-1);
  if (o0 && o1 && o0 !== o1) {
    rows.push([
      `Scale: the engine's own memory stays flat: workerd growth while it pulls, minus D1's growth taking the same rows alone (${cell(o0.rows)} → ${cell(o1.rows)} rows; flat: within 1.5× or ${OWN_MEMORY_SLACK_MIB} MiB)`,
      `${fmt(o0.v, 0)} → ${fmt(o1.v, 0)} MiB`,
      verdict(o1.v <= Math.max(1.5 * o0.v, o0.v + OWN_MEMORY_SLACK_MIB)),
    ]);
  }
  if (rows.length === 0) return [];
  return [
    '## Issue 10 targets',
    '',
    'Computed by `bench/run.ts` from the tables below (ratios within one run; counts are deterministic).',
    '',
    '| target | measured | holds |',
    '| --- | ---: | --- |',
    ...rows.map(([t, m, v]) => `| ${t} | ${m} | ${v} |`),
    '',
  ];
}

/** The scale section (between markers, so a `scale --record` run can rewrite it alone). */
export function scaleSection(points: readonly ScalePoint[], chartFile: string): string[] {
  const md: string[] = [SCALE_BEGIN, '## Scale: pull at 10k, 100k and 1M rows', ''];
  md.push(
    'The pull scenario again at each table size, each size in a fresh vitest run (a fresh workerd and stand-in), ' +
      'engine and limits only (`npm run bench -- scale`; 10k and 100k by default, part of `npm run bench`). ' +
      'The 1M point is a manual run: `npm run bench -- scale --rows 1000000 --record` (it adds its point to ' +
      '`docs/benchmarks-scale.json` and rewrites this section and the chart; a point keeps the date and commit it was measured at). ' +
      '**workerd peak MiB** is the highest VmRSS of the workerd process (the Worker, its Durable Objects and local D1, all in one process), ' +
      'sampled every 100 ms from outside by `bench/run.ts` (/proc) during the variant; **growth** is that peak minus the sample just before ' +
      "the variant started; **stand-in peak MiB** is the Supabase stand-in's (PGlite, holding the table in memory) over the same window.",
  );
  md.push('');
  if (points.length === 0) {
    md.push('_No scale run recorded yet._', '', SCALE_END, '');
    return md;
  }
  const sorted = [...points].sort((a, b) => a.rows - b.rows);
  md.push(`![rows/s and peak memory against table size](${chartFile})`);
  md.push('');
  md.push(
    'The chart and the flatness targets use the points measured at the newest commit; the table keeps every recorded point with its commit. ' +
      "Memory is judged on the engine's own share: local D1 runs inside the workerd process, so the process grows with the table whoever writes it " +
      '(compare the "limit, apply" rows: D1 alone, taking the same rows). The engine\'s own growth is its workerd growth minus that of "limit, apply" at the same size; ' +
      "pages that stream keep it flat, a table held in memory would grow it with the rows. On Cloudflare, D1 is not in the Worker's process.",
  );
  md.push('');
  md.push(
    '| rows | engine rows/s | µs / row | engine ÷ limit | workerd peak MiB | workerd growth MiB | stand-in peak MiB | Supabase requests / 1,000 rows | D1 round trips / 1,000 rows | measured |',
  );
  md.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const p of sorted) {
    const e = p.results.find((r) => r.variant === 'engine');
    const r = pullRatios(p.results);
    md.push(
      `| ${cell(p.rows)} | ${cell(num(e, 'rows/s'))} | ${cell(num(e, 'µs / row'))} | ${r?.ofLimit === undefined ? '–' : fmt(r.ofLimit, 2)} | ` +
        `${cell(num(e, 'workerd peak MiB'))} | ${cell(num(e, 'workerd growth MiB'))} | ${cell(num(e, 'stand-in peak MiB'))} | ` +
        `${r?.supabasePer1000 === undefined ? '–' : fmt(r.supabasePer1000, 2)} | ${r?.d1Per1000 === undefined ? '–' : fmt(r.d1Per1000, 2)} | ${p.date.slice(0, 10)}, ${p.commit}${p.note ? ' (see its note)' : ''} |`,
    );
  }
  md.push('');
  for (const p of sorted) {
    md.push(`### ${cell(p.rows)} rows`);
    md.push('');
    md.push(...table(p.results));
    md.push('');
    if (p.note) md.push(`- ${p.note}`, '');
  }
  md.push(SCALE_END, '');
  return md;
}

/** The scale points measured at `commit`, smallest table first. */
export function sameCommit(points: readonly ScalePoint[], commit: string): ScalePoint[] {
  return points.filter((p) => p.commit === commit).sort((a, b) => a.rows - b.rows);
}

/** The SVG of the scale points measured at `commit` (older points stay in the tables only). */
export function scaleSvg(points: readonly ScalePoint[], commit: string): string | null {
  const sorted = sameCommit(points, commit);
  if (sorted.length === 0) return null;
  const series = (variant: string, metric: string, label: string, color: string, dashed = false): Series => ({
    label,
    color,
    dashed,
    points: sorted.map((p) => ({
      rows: p.rows,
      value:
        num(
          p.results.find((r) => r.variant === variant),
          metric,
        ) ?? null,
    })),
  });
  const dates = [...new Set(sorted.map((p) => p.date.slice(0, 10)))].join(', ');
  return scaleChart(
    sorted.map((p) => p.rows),
    [
      series('engine', 'rows/s', 'engine', '#1f6feb'),
      series('limit, read', 'rows/s', 'limit, read', '#2da44e', true),
      series('limit, apply', 'rows/s', 'limit, apply', '#bf8700', true),
    ],
    [
      series('engine', 'workerd peak MiB', 'workerd (engine)', '#1f6feb'),
      series('engine', 'stand-in peak MiB', 'stand-in (PGlite)', '#8250df', true),
    ],
    `npm run bench -- scale; measured ${dates}; local, noisy 2-core machine: compare the lines, not the absolute values.`,
  );
}

/** The production estimate: counted work at stated latencies, and the plan limits per invocation. */
function estimate(input: ReportInput): string[] {
  const maxPages = Number(input.vars['MAX_PAGES_PER_RUN'] ?? 8);
  const pullInterval = Number(input.vars['PULL_INTERVAL_SECONDS'] ?? 600);
  const pushInterval = Number(input.vars['PUSH_INTERVAL_SECONDS'] ?? 300);
  // The largest measured engine pull is the best base for a 100k-row estimate.
  const candidates = [
    ...input.scale.map((p) => ({
      rows: p.rows,
      r: p.results.find((x) => x.variant === 'engine'),
      from: `the ${cell(p.rows)}-row scale run`,
    })),
    ...results(input.lines, 'pull')
      .filter((x) => x.variant === 'engine')
      .map((r) => ({ rows: num(r, 'rows in D1') ?? 0, r, from: `the ${cell(num(r, 'rows in D1'))}-row pull` })),
  ].filter((c) => c.r && c.rows > 0);
  const base = candidates.sort((a, b) => Math.abs(a.rows - 100_000) - Math.abs(b.rows - 100_000))[0];
  const idle = results(input.lines, 'idle');
  const quietPull = cost(
    idle.find((x) => x.variant === 'engine, quiet'),
    ' / cycle',
  );
  const quietPush = cost(
    idle.find((x) => x.variant.startsWith('engine, push-only quiet')),
    ' / cycle',
  );
  // Measured since the run log left D1; an older saved run lacks it (its two-way cost stands in).
  const quietPullOnly = cost(
    idle.find((x) => x.variant.startsWith('engine, pull-only quiet')),
    ' / cycle',
  );
  const pushEngine = results(input.lines, 'push').find((x) => x.variant.startsWith('engine,') && x.variant.endsWith(' new'));
  const measuredPull = cost(base?.r);
  if (!base || !measuredPull) return [];

  const md: string[] = ['## Production estimate', ''];
  md.push(
    `Counted work at stated production latencies: **Supabase ${LATENCY.supabaseMs} ms a request, D1 ${LATENCY.d1Ms} ms a round trip** ` +
      '(a round trip is one call: a `batch` of statements is one). "Serial" adds every request and round trip; "overlapped" assumes the next page is read ' +
      'while the current one is applied, so the slower side alone sets the pace. Local CPU time is left out. ' +
      `Settings from wrangler.toml: MAX_PAGES_PER_RUN = ${maxPages}, PULL_INTERVAL_SECONDS = ${pullInterval}, PUSH_INTERVAL_SECONDS = ${pushInterval}; ` +
      `each run is one Durable Object alarm invocation, and a run that stops at its page budget re-arms the alarm for the next one.`,
  );
  md.push('');

  // 100k-row initial pull.
  const rows = 100_000;
  const job = scaleCost(measuredPull, base.rows, rows);
  const runs = runsFor(job.supabase, maxPages);
  const quiet = quietPull ?? { supabase: 0, d1RoundTrips: 0, d1Statements: 0 };
  const runOverhead: Cost = { supabase: 0, d1RoundTrips: quiet.d1RoundTrips * runs, d1Statements: quiet.d1Statements * runs };
  const total: Cost = {
    supabase: job.supabase,
    d1RoundTrips: job.d1RoundTrips + runOverhead.d1RoundTrips,
    d1Statements: job.d1Statements + runOverhead.d1Statements,
  };
  md.push(`### A ${cell(rows)}-row initial pull`);
  md.push('');
  md.push(
    `Scaled from ${base.from} (${cell(measuredPull.supabase)} Supabase requests, ${cell(measuredPull.d1RoundTrips)} D1 round trips for ${cell(base.rows)} rows). ` +
      `At ${maxPages} pages a run that is ${cell(runs)} runs, ` +
      (quietPull
        ? `each adding a quiet cycle's fixed D1 work (${fmt(quiet.d1RoundTrips)} round trip${quiet.d1RoundTrips === 1 ? '' : 's'}, from the idle scenario), `
        : 'the idle scenario did not run, so no per-run fixed work is added, ') +
      `and ${cell(runs - 1)} alarm re-arms of ${CONTINUE_DELAY_MS} ms between them (src/sync/schedule.ts).`,
  );
  md.push('');
  const rearm = (runs - 1) * CONTINUE_DELAY_MS;
  md.push('| | runs | Supabase requests | D1 round trips | D1 statements | serial | overlapped |');
  md.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  md.push(
    `| ${cell(rows)}-row initial pull | ${cell(runs)} | ${cell(total.supabase)} | ${cell(total.d1RoundTrips)} | ${cell(total.d1Statements)} | ${seconds(serialMs(total) + rearm)} | ${seconds(overlappedMs(total) + rearm)} |`,
  );
  md.push('');

  // An idle hour.
  md.push('### An idle hour');
  md.push('');
  if (quietPull && quietPush) {
    const pullOnly = input.pulled.filter((e) => !input.twoWay.includes(e));
    const twoWayCycles = (3600 / pullInterval) * input.twoWay.length;
    const pullOnlyCycles = (3600 / pullInterval) * pullOnly.length;
    const pushCycles = (3600 / pushInterval) * input.pushed.length;
    const pullOnlyCost = quietPullOnly ?? quietPull;
    const sum = (k: keyof Cost): number => twoWayCycles * quietPull[k] + pullOnlyCycles * pullOnlyCost[k] + pushCycles * quietPush[k];
    const hour: Cost = { supabase: sum('supabase'), d1RoundTrips: sum('d1RoundTrips'), d1Statements: sum('d1Statements') };
    const pullCycles = twoWayCycles + pullOnlyCycles;
    md.push(
      `Nothing changes for an hour. Pulled entities run every ${pullInterval} s: two-way ones (${input.twoWay.join(', ')}) ${fmt(twoWayCycles)} quiet cycles, ` +
        `each costing what the idle scenario's "engine, quiet" cycle of prospects costs (Supabase requests ${fmt(quietPull.supabase)}, D1 round trips ${fmt(quietPull.d1RoundTrips)}); ` +
        `pull-only ones (${pullOnly.join(', ')}) ${fmt(pullOnlyCycles)} quiet cycles, ` +
        (quietPullOnly
          ? `each at the pull-only quiet cost (Supabase requests ${fmt(quietPullOnly.supabase)}, D1 round trips ${fmt(quietPullOnly.d1RoundTrips)}). `
          : 'counted at the two-way cost (this saved run did not measure a pull-only cycle, so this overcounts them). ') +
        `Pushed-only entities (${input.pushed.join(', ')}) run every ${pushInterval} s: ${fmt(pushCycles)} quiet cycles at the push-only quiet cost ` +
        `(Supabase requests ${fmt(quietPush.supabase)}, D1 round trips ${fmt(quietPush.d1RoundTrips)}). The crons' integrity checks are not counted.`,
    );
    md.push('');
    md.push('| | cycles | Supabase requests | D1 round trips | D1 statements | serial time spent |');
    md.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    md.push(
      `| idle hour | ${fmt(pullCycles + pushCycles)} | ${fmt(hour.supabase)} | ${fmt(hour.d1RoundTrips)} | ${fmt(hour.d1Statements)} | ${seconds(serialMs(hour))} |`,
    );
  } else {
    md.push('_The idle scenario did not run: no idle-hour estimate._');
  }
  md.push('');

  // Plan limits per invocation.
  md.push('### Workers plan limits per invocation');
  md.push('');
  md.push(
    'Each alarm run is one invocation. Limits: subrequests per invocation (Workers Free 50, Workers Paid 10,000; ' +
      '[Workers limits](https://developers.cloudflare.com/workers/platform/limits/), where earlier versions of the page gave Paid 1,000) and ' +
      'D1 queries per Worker invocation (Free 50, Paid 1,000; [D1 limits](https://developers.cloudflare.com/d1/platform/limits/), which counts them ' +
      "as subrequests: here a run's subrequests are its Supabase requests plus its D1 round trips). " +
      'The page does not say whether a `batch` counts as one query or as one per statement; where that decides it, the table says so.',
  );
  md.push('');
  const rowsFor: [string, Cost][] = [];
  rowsFor.push([
    `a production pull run (${maxPages} pages + the end of the stream, scaled from ${base.from})`,
    pullRunCost(measuredPull, maxPages, quiet),
  ]);
  if (quietPull) rowsFor.push(['a quiet pull cycle (prospects)', quietPull]);
  if (quietPush) rowsFor.push(['a quiet push cycle (emails)', quietPush]);
  if (pushEngine) {
    const measured = cost(pushEngine);
    const landed = num(pushEngine, 'rows in Supabase') ?? 0;
    if (measured && measured.supabase > 0) {
      const perPage = landed / measured.supabase;
      rowsFor.push([
        `a production push run (${maxPages} pages of ~${fmt(perPage, 0)} emails, scaled from the push scenario)`,
        {
          supabase: maxPages,
          d1RoundTrips: Math.ceil((maxPages * measured.d1RoundTrips) / measured.supabase),
          d1Statements: Math.ceil((maxPages * measured.d1Statements) / measured.supabase),
        },
      ]);
    }
  }
  rowsFor.push([
    `the whole ${cell(rows)}-row pull in one invocation (no page budget)`,
    { supabase: job.supabase, d1RoundTrips: job.d1RoundTrips, d1Statements: job.d1Statements },
  ]);
  md.push(`| invocation | Supabase requests | D1 round trips | D1 statements | serial time | ${PLANS.map((p) => p.name).join(' | ')} |`);
  md.push(`| --- | ---: | ---: | ---: | ---: | ${PLANS.map(() => '---').join(' | ')} |`);
  for (const [label, c] of rowsFor) {
    md.push(
      `| ${label} | ${cell(c.supabase)} | ${cell(c.d1RoundTrips)} | ${cell(c.d1Statements)} | ${seconds(serialMs(c))} | ${PLANS.map((p) => fits(c, p)).join(' | ')} |`,
    );
  }
  md.push('');
  return md;
}

/** The whole page. */
export function render(input: ReportInput): string {
  const cpus = os.cpus();
  const md: string[] = [];
  md.push('# Benchmarks');
  md.push('');
  md.push('<!-- Generated by `npm run bench` (bench/run.ts). Do not edit by hand: re-run it. -->');
  md.push('');
  md.push(
    "The sync engine against the local limits (the stand-in read alone, D1 written alone) and the seed's naive algorithm (the design note's `syncFromSupabase`, `fullResyncFromSupabase` and " +
      '`syncToSupabase`, kept faithfully, bugs included, in `bench/worker/naive.ts`), on the same data. Everything runs the way the tests do: inside workerd ' +
      '(`@cloudflare/vitest-pool-workers`: real D1, real Durable Objects) against the local Supabase stand-in ' +
      '(`dev/supabase-local`, PostgREST subset over HTTP on localhost, PGlite Postgres), one stand-in database per variant.',
  );
  md.push('');
  md.push('| machine | |');
  md.push('| --- | --- |');
  md.push(`| date | ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} |`);
  md.push(`| CPU | ${cpus[0]?.model ?? '?'}, ${os.availableParallelism()} cores (nproc) |`);
  md.push(`| memory | ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB |`);
  md.push(
    `| load average at the end (1, 5, 15 min) | ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} |`,
  );
  md.push(`| OS | ${os.type()} ${os.release()} (${os.arch()}) |`);
  md.push(`| Node | ${process.version} |`);
  md.push(`| workerd / pool | workerd ${input.versions.workerd}, @cloudflare/vitest-pool-workers ${input.versions.pool} |`);
  md.push(`| stand-in | PGlite ${input.versions.pglite} |`);
  md.push(`| commit | ${input.commit} |`);
  md.push(`| \`npm run bench\` took | ${input.seconds} s |`);
  md.push('');
  md.push(...targets(input));
  md.push('## How to read');
  md.push('');
  md.push(
    "- **wall ms** is measured with `Date.now()` in workerd around awaited I/O. workerd's clock only advances across I/O " +
      '(a Spectre mitigation), so these are wall times of I/O-bound work, with CPU time between two I/O calls counted with the next one.',
  );
  md.push(
    '- **Supabase requests** are counted by the stand-in (`GET <db>/_dev/stats`), per database. **D1 round trips** count calls that ' +
      'reach D1 (`run`/`all`/`first`/`raw`, one per `batch`); **D1 statements** count SQL statements (a batch of 4 counts 4); **D1 rows written** sums ' +
      "D1's `meta.rows_written` (index entries included). The engine's D1 binding is wrapped inside its Durable Object to count them.",
  );
  md.push('- **rows missed** are rows of the source that never reached the other side after the runs shown.');
  md.push(
    "- **workerd peak MiB** (pull and scale tables) is the workerd process's resident memory, sampled every 100 ms from outside the process " +
      "(`bench/memory.ts`) over the variant's time window; workerd holds the Worker, the Durable Objects and local D1 in one process, and does not give memory back " +
      "promptly, so a later variant's peak includes what an earlier one left (the engine runs first).",
  );
  md.push(
    '- Everything is local: no network between workerd, D1 and the stand-in, and local D1 is SQLite in the same process. ' +
      'On Cloudflare and a real Supabase each request and each D1 round trip costs milliseconds to tens of milliseconds, ' +
      'so the request and round-trip columns predict production time better than the wall times here (see the production estimate). Absolute numbers are for this machine; compare the variants.',
  );
  md.push(
    '- Each variant is measured once per `npm run bench`; on this machine wall times of the same variant vary by up to ~30% from run to run. ' +
      'The counts (requests, statements, rows) are deterministic.',
  );
  md.push(
    "- The naive variants keep the seed's `lastSync` in memory instead of KV, and run with the outbox triggers switched off " +
      "(the seed had none; they are disabled through the engine's apply guard flag, so each trigger costs a lookup but no write).",
  );
  md.push('');
  md.push('## How to run');
  md.push('');
  md.push('```sh');
  md.push(
    'npm run bench                           # all scenarios, then the scale runs (10k, 100k); rewrites docs/benchmarks.md and the chart',
  );
  md.push('npm run bench -- pull                   # only bench/worker files matching "pull"; prints the tables, writes nothing');
  md.push('npm run bench -- pull --rows 5000       # the pull scenario at another table size (default 20,000)');
  md.push('npm run bench -- scale                  # the scale runs alone (10k, 100k); prints, writes nothing');
  md.push(
    "npm run bench -- scale --rows 1000000 --record   # the manual 1M run: adds its point to docs/benchmarks-scale.json, this page's scale section and the chart",
  );
  md.push('npm run bench -- push --out /tmp/bench.md');
  md.push('npm run bench -- --from /tmp/bench-<time>.json   # render this page again from a saved run (each run prints its file)');
  md.push('```');
  md.push('');
  md.push(
    'The benchmarks are `bench/worker/*.bench.test.ts`, run by `vitest.bench.config.ts` one file at a time; `npm test` does not run them. ' +
      'Each prints `BENCH {json}` lines that `bench/run.ts` turns into this page; the full vitest output goes to a log file in the temp directory. ' +
      "`--rows` reaches the workerd tests as BENCH_ROWS through vitest's `provide`/`inject` (`bench/worker/config.ts`).",
  );
  md.push('');

  // Files run in vitest's order; the page keeps a fixed one (unknown scenarios last, as they came).
  const order = ['pull', 'bulk', 'push', 'idle', 'status'];
  const rank = (id: string): number => (order.includes(id) ? order.indexOf(id) : order.length);
  const scenarios = input.lines
    .filter((l): l is Extract<BenchLine, { kind: 'scenario' }> => l.kind === 'scenario')
    .map((l, i) => ({ l, i }))
    .sort((a, b) => rank(a.l.id) - rank(b.l.id) || a.i - b.i)
    .map(({ l }) => l);
  for (const s of scenarios) {
    const rs = results(input.lines, s.id);
    const notes = input.lines.filter((l): l is Extract<BenchLine, { kind: 'note' }> => l.kind === 'note' && l.scenario === s.id);
    md.push(`## ${s.title}`);
    md.push('');
    md.push(s.about);
    md.push('');
    md.push(...table(rs));
    md.push('');
    const extra =
      s.id === 'pull'
        ? (() => {
            const r = pullRatios(rs);
            return r ? ratioNotes(r) : [];
          })()
        : [];
    for (const n of [...extra, ...notes.map((n) => n.text)]) md.push(`- ${n}`);
    if (notes.length + extra.length > 0) md.push('');
    if (s.id === 'pull' && input.scale.length > 0) md.push(...scaleSection(input.scale, input.chartFile));
  }
  if (!scenarios.some((s) => s.id === 'pull')) md.push(...scaleSection(input.scale, input.chartFile));
  md.push(...estimate(input));
  return `${md.join('\n').trimEnd()}\n`;
}

/** Replaces the scale section of an existing page (between the markers); null when it has none. */
export function spliceScale(page: string, points: readonly ScalePoint[], chartFile: string): string | null {
  const a = page.indexOf(SCALE_BEGIN);
  const b = page.indexOf(SCALE_END);
  if (a < 0 || b < a) return null;
  return page.slice(0, a) + scaleSection(points, chartFile).join('\n').trimEnd() + page.slice(b + SCALE_END.length);
}
