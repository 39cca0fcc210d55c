/**
 * npm run bench: runs the workerd benchmarks (vitest.bench.config.ts, bench/worker/*.bench.test.ts)
 * against the local Supabase stand-in, collects the `BENCH` lines they print, samples the
 * workerd process's memory from outside, and writes docs/benchmarks.md (bench/report.ts) and
 * the scale chart. Progress is echoed; the full vitest output goes to a log file.
 *
 *   npm run bench                  all scenarios, then the scale runs; writes docs/benchmarks.md
 *   npm run bench -- pull push     only files matching the filters; prints the report, writes nothing
 *   npm run bench -- pull --rows N the pull scenario's table size (default 20,000)
 *   npm run bench -- scale         the scale runs alone (pull at 10k and 100k; --rows N [--rows M]
 *                                  or --rows N,M for other sizes); prints, writes nothing
 *   npm run bench -- scale --rows 1000000 --record
 *                                  adds the points to docs/benchmarks-scale.json and rewrites the
 *                                  scale section of docs/benchmarks.md and the chart
 *   npm run bench -- --out FILE    write the report somewhere else
 *   npm run bench -- --from FILE   render the page again from a run's saved lines (printed at the
 *                                  end of every run) without running anything: for report changes
 */
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ENTITIES, pulls, pushes } from '../src/entities.ts';
import { wranglerVars } from './estimate.ts';
import { BENCH_PREFIX, PROGRESS_PREFIX, type BenchLine, type MetricValue } from './lines.ts';
import { memoryIn, sampleMemory, type MemorySample } from './memory.ts';
import { pullRatios, render, scaleSection, scaleSvg, spliceScale, type ScalePoint } from './report.ts';

const root = resolve(import.meta.dirname, '..');
const DEFAULT_SCALE = [10_000, 100_000];

const args = process.argv.slice(2);
let out: string | null = join(root, 'docs/benchmarks.md');
let outGiven = false;
let record = false;
let from: string | null = null;
const rows: number[] = [];
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i] ?? '';
  if (arg === '--out') {
    out = resolve(args[++i] ?? '');
    outGiven = true;
  } else if (arg === '--record') record = true;
  else if (arg === '--from') from = resolve(args[++i] ?? '');
  else if (arg === '--rows') {
    for (const part of (args[++i] ?? '').split(',')) {
      const n = Number(part.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1) {
        console.error(`bench: --rows takes positive integers (e.g. --rows 5000 or --rows 10000,100000), got ${JSON.stringify(part)}`);
        process.exit(2);
      }
      rows.push(n);
    }
  } else filters.push(arg);
}
const scaleOnly = filters.length === 1 && filters[0] === 'scale';
if (filters.includes('scale') && !scaleOnly) {
  console.error('bench: `scale` runs alone (npm run bench -- scale [--rows N]); the full `npm run bench` includes it');
  process.exit(2);
}
if (filters.length > 0 && !outGiven) out = null;
if (!scaleOnly && rows.length > 1) {
  console.error('bench: --rows takes one size outside a scale run');
  process.exit(2);
}

const docs = join(root, 'docs');
const scaleRecordPath = join(docs, 'benchmarks-scale.json');
const chartPath = join(docs, 'benchmarks-scale.svg');

const logPath = join(os.tmpdir(), `bench-${Date.now()}.log`);
const log = createWriteStream(logPath);
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;

/** Runs vitest once with the filters and variables; returns its BENCH lines with memory merged in. */
async function runVitest(label: string, vitestFilters: readonly string[], vars: Record<string, string>): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  const take = (raw: string): void => {
    log.write(`${raw}\n`);
    const line = stripVTControlCharacters(raw);
    const bench = line.indexOf(BENCH_PREFIX + '{');
    if (bench >= 0) {
      const parsed = JSON.parse(line.slice(bench + BENCH_PREFIX.length)) as BenchLine;
      lines.push(parsed);
      if (parsed.kind === 'result')
        console.log(`${elapsed()}  ${label}${parsed.scenario} / ${parsed.variant}: ${JSON.stringify(parsed.metrics)}`);
      return;
    }
    const progress = line.indexOf(PROGRESS_PREFIX);
    if (progress >= 0) {
      console.log(`${elapsed()}  ${label}${line.slice(progress + PROGRESS_PREFIX.length)}`);
      return;
    }
    if (/(FAIL|Test Files|Tests {2}|Error:|×)/.test(line)) console.log(`${elapsed()}  ${line.trim()}`);
  };
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.bench.config.ts', ...vitestFilters], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = child.pid === undefined ? null : sampleMemory(child.pid);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) take(part);
    });
    stream.on('end', () => {
      if (buffered) take(buffered);
    });
  }
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
  sampler?.stop();
  const measured = withMemory(lines, sampler?.samples ?? []);
  if (code !== 0) {
    log.end();
    // A long run (the 1M pull) that fails late still measured something: keep it.
    const partial = logPath.replace(/\.log$/, '.partial.json');
    writeFileSync(partial, JSON.stringify({ label, vars, lines: measured }));
    console.error(
      `bench: vitest failed (exit ${code}) after ${Math.round((Date.now() - started) / 1000)} s; see ${logPath}; ` +
        `what was measured before the failure (memory included) is in ${partial}. docs/benchmarks.md left as it was.`,
    );
    process.exit(code);
  }
  return measured;
}

/** Adds the memory sampled during each timed variant to its metrics. */
function withMemory(lines: readonly BenchLine[], samples: readonly MemorySample[]): BenchLine[] {
  return lines.map((l) => {
    if (l.kind !== 'result' || !l.window) return l;
    const m = memoryIn(samples, l.window);
    if (!m) return l;
    return {
      ...l,
      metrics: {
        ...l.metrics,
        'workerd peak MiB': m.workerdPeakMiB,
        'workerd growth MiB': m.workerdGrowthMiB,
        'stand-in peak MiB': m.standInPeakMiB,
      },
    };
  });
}

/** A scale point from a scale run's lines: the pull's results, with time per row. */
function scalePoint(size: number, lines: readonly BenchLine[], commit: string): ScalePoint {
  const results = lines
    .filter((l): l is Extract<BenchLine, { kind: 'result' }> => l.kind === 'result' && l.scenario === 'pull')
    .map((r) => {
      const ms = r.metrics['wall ms'];
      const missed = r.metrics['rows missed'];
      const done = typeof missed === 'number' ? size - missed : size;
      const metrics: Record<string, MetricValue> = { ...r.metrics };
      if (typeof ms === 'number' && done > 0) metrics['µs / row'] = Math.round((ms * 10_000) / done) / 10;
      return { variant: r.variant, metrics };
    });
  return { rows: size, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), commit, results };
}

function readRecord(): ScalePoint[] {
  if (!existsSync(scaleRecordPath)) return [];
  return (JSON.parse(readFileSync(scaleRecordPath, 'utf8')) as { points: ScalePoint[] }).points;
}

/** Keeps recorded sizes not measured now; the new points replace the ones of the same size. */
function merge(recorded: readonly ScalePoint[], fresh: readonly ScalePoint[]): ScalePoint[] {
  const sizes = new Set(fresh.map((p) => p.rows));
  return [...recorded.filter((p) => !sizes.has(p.rows)), ...fresh].sort((a, b) => a.rows - b.rows);
}

function writeScale(points: readonly ScalePoint[], measuredAt: string): void {
  writeFileSync(scaleRecordPath, `${JSON.stringify({ points }, null, 2)}\n`);
  const svg = scaleSvg(points, measuredAt);
  if (svg) writeFileSync(chartPath, svg);
}

async function scaleRuns(sizes: readonly number[], commit: string): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (const size of sizes) {
    console.log(`${elapsed()}  scale: pull at ${size.toLocaleString('en')} rows (a fresh vitest run)`);
    const lines = await runVitest(`[${size.toLocaleString('en')}] `, ['pull'], { BENCH_ROWS: String(size), BENCH_SCALE: '1' });
    points.push(scalePoint(size, lines, commit));
  }
  return points;
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations', 'supabase', 'dev'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (with uncommitted changes under src/, migrations/, supabase/ or dev/)` : head;
  } catch {
    return '?';
  }
}

if (!from) console.log(`bench: running vitest (full output: ${logPath})`);
const commit = gitCommit();

if (scaleOnly) {
  const points = await scaleRuns(rows.length > 0 ? rows : DEFAULT_SCALE, commit);
  log.end();
  console.log(`\n${scaleSection(points, basename(chartPath)).join('\n')}`);
  for (const p of points) {
    const r = pullRatios(p.results);
    if (r?.ofLimit !== undefined)
      console.log(`${p.rows.toLocaleString('en')} rows: engine ÷ min(limit read, limit apply) = ${r.ofLimit.toFixed(2)}`);
  }
  if (record) {
    const all = merge(readRecord(), points);
    writeScale(all, commit);
    const page = existsSync(join(docs, 'benchmarks.md'))
      ? spliceScale(readFileSync(join(docs, 'benchmarks.md'), 'utf8'), all, basename(chartPath))
      : null;
    if (page) writeFileSync(join(docs, 'benchmarks.md'), page);
    console.log(
      `bench: recorded ${points.length} point(s) in ${scaleRecordPath}, rewrote ${chartPath}${page ? ' and the scale section of docs/benchmarks.md' : ''}`,
    );
  } else {
    console.log('bench: scale run: nothing written (add --record to keep the points)');
  }
  process.exit(0);
}

/** What a run measured, saved next to its log so the page can be rendered again (--from). */
interface SavedRun {
  lines: BenchLine[];
  fresh: ScalePoint[];
  seconds: number;
  commit: string;
}

let saved: SavedRun;
if (from) {
  saved = JSON.parse(readFileSync(from, 'utf8')) as SavedRun;
  log.end();
  console.log(`bench: rendering from ${from} (measured at ${saved.commit})`);
} else {
  const lines = await runVitest('', filters, rows[0] === undefined ? {} : { BENCH_ROWS: String(rows[0]) });
  // The scale runs belong to the full run; a filtered run prints its own scenarios only.
  const fresh = filters.length === 0 ? await scaleRuns(DEFAULT_SCALE, commit) : [];
  log.end();
  saved = { lines, fresh, seconds: Math.round((Date.now() - started) / 1000), commit };
  const savedPath = logPath.replace(/\.log$/, '.json');
  writeFileSync(savedPath, JSON.stringify(saved));
  console.log(`bench: measurements saved in ${savedPath} (npm run bench -- --from ${savedPath} renders them again)`);
}
const { lines, fresh } = saved;
const scale = merge(filters.length === 0 ? readRecord() : [], fresh);
const totalSeconds = saved.seconds;
const vars = wranglerVars(readFileSync(join(root, 'wrangler.toml'), 'utf8'));
const entities = Object.values(ENTITIES);
const report = render({
  lines,
  scale,
  seconds: totalSeconds,
  commit: saved.commit,
  versions: { workerd: version('workerd'), pool: version('@cloudflare/vitest-pool-workers'), pglite: version('@electric-sql/pglite') },
  vars,
  pulled: entities.filter((e) => pulls(e)).map((e) => e.name),
  twoWay: entities.filter((e) => pulls(e) && pushes(e)).map((e) => e.name),
  pushed: entities.filter((e) => pushes(e) && !pulls(e)).map((e) => e.name),
  chartFile: out ? basename(chartPath) : chartPath,
});
if (out) {
  writeFileSync(out, report);
  // The chart and the scale record belong to docs/benchmarks.md: written with it only.
  const withScale = filters.length === 0 && dirname(out) === docs;
  if (withScale) writeScale(scale, saved.commit);
  console.log(`bench: ${totalSeconds} s; wrote ${out}${withScale ? `, ${chartPath} and ${scaleRecordPath}` : ''}`);
} else {
  console.log(`\n${report}`);
  console.log(`bench: ${totalSeconds} s (filtered run: nothing written; add --out FILE to write)`);
}
