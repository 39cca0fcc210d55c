// npm run test:soak: the convergence harness (test/worker/convergence.test.ts) over 500 seeds
// (CONVERGENCE_CASES, from CONVERGENCE_FIRST_SEED), in vitest processes of 25 seeds
// (CONVERGENCE_CHUNK), two of them at a time (CONVERGENCE_PARALLEL), then one summary line and
// test-results/convergence-summary.json over all of them.
//
// Why chunks: one workerd isolate cannot host the whole soak. @cloudflare/vitest-pool-workers
// wraps its Durable Object wrapper class's prototype in one more Proxy for every instance it
// constructs (createProxyPrototypeClass), and every case constructs several coordinators (new
// ones, and again after each crash); every RPC walks that chain, so a case gets slower the more
// cases its process ran before (measured: 1.4 s a case over the first 20, 3.2 s by the 100th),
// and after about 250 cases every RPC overflows the stack. Small chunks keep every case near
// the fast end; a process costs about 7 s to start.
// Why two at a time: a case spends much of its time waiting (retry backoff, Retry-After, planted
// latency), so a second process uses what the first leaves idle. Each process starts its own
// stand-in on a free port; their output goes to test-results/convergence-soak/*.log.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mergeSummaries, summaryLine, type Summary } from './worker/convergence/report.ts';

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const cases = count('CONVERGENCE_CASES', 500);
const chunk = count('CONVERGENCE_CHUNK', 25);
const parallel = count('CONVERGENCE_PARALLEL', 2);
const firstSeed = count('CONVERGENCE_FIRST_SEED', 1);
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const dir = 'test-results/convergence-soak';
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

interface Chunk {
  from: number;
  to: number;
}
const chunks: Chunk[] = [];
for (let from = firstSeed; from < firstSeed + cases; from += chunk)
  chunks.push({ from, to: Math.min(from + chunk, firstSeed + cases) - 1 });

const started = Date.now();
const seconds = (): string => ((Date.now() - started) / 1000).toFixed(0).padStart(5);

/** Runs one chunk in its own vitest process; resolves with its exit code. */
function runChunk({ from, to }: Chunk): Promise<number> {
  const log = createWriteStream(`${dir}/seeds-${from}-${to}.log`);
  process.stdout.write(`${seconds()} s  seeds ${from}..${to}: started (log: ${dir}/seeds-${from}-${to}.log)\n`);
  const child = spawn(
    process.execPath,
    [
      vitest,
      'run',
      '--project',
      'worker',
      'test/worker/convergence.test.ts',
      '--reporter=default',
      '--reporter=./test/convergence-reporter.ts',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CONVERGENCE_CASES: String(to - from + 1),
        CONVERGENCE_FIRST_SEED: String(from),
        CONVERGENCE_SUMMARY_FILE: `${dir}/seeds-${from}-${to}.json`,
      },
    },
  );
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  return new Promise((done) => {
    child.on('close', (code) => {
      log.end();
      process.stdout.write(`${seconds()} s  seeds ${from}..${to}: ${code === 0 ? 'passed' : `FAILED (exit ${code}); see the log`}\n`);
      done(code ?? 1);
    });
  });
}

const queue = [...chunks];
const codes: number[] = [];
await Promise.all(
  Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) codes.push(await runChunk(next));
  }),
);

const parts: Summary[] = [];
const missing: string[] = [];
for (const { from, to } of chunks) {
  try {
    parts.push(JSON.parse(readFileSync(`${dir}/seeds-${from}-${to}.json`, 'utf8')) as Summary);
  } catch {
    missing.push(`${from}..${to}`); // the chunk crashed before its summary test ran
  }
}

const summary = mergeSummaries(parts);
const wallMs = Date.now() - started;
const line = summaryLine({ ...summary, durationMs: wallMs });
const out = 'test-results/convergence-summary.json';
const mode = `soak: seeds ${firstSeed}..${firstSeed + cases - 1} in chunks of ${chunk}, ${parallel} at a time`;
writeFileSync(
  out,
  `${JSON.stringify({ writtenAt: new Date().toISOString(), mode, line, missingChunks: missing, ...summary, wallMs }, null, 2)}\n`,
);
process.stdout.write(`\n${line}${missing.length ? `; no summary from seeds ${missing.join(', ')}` : ''}\nwritten to ${out}\n`);
process.exitCode = codes.some((c) => c !== 0) || missing.length > 0 ? 1 : 0;
