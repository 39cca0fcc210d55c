// npm run test:soak: the convergence harness (test/worker/convergence.test.ts) over 500 seeds
// (CONVERGENCE_CASES, from CONVERGENCE_FIRST_SEED), 100 per vitest process (CONVERGENCE_CHUNK),
// then one summary line and test-results/convergence-summary.json over all of them.
//
// Why chunks: one workerd isolate cannot host the whole soak. @cloudflare/vitest-pool-workers
// wraps its Durable Object wrapper class's prototype in one more Proxy for every instance it
// constructs (createProxyPrototypeClass), and every case constructs several coordinators (new
// ones, and again after each crash); after about 250 cases every RPC overflows the stack.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const chunk = count('CONVERGENCE_CHUNK', 100);
const firstSeed = count('CONVERGENCE_FIRST_SEED', 1);
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const dir = 'test-results/convergence-soak';
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const started = Date.now();
const parts: Summary[] = [];
const missing: string[] = [];
let failedChunks = 0;
for (let from = firstSeed; from < firstSeed + cases; from += chunk) {
  const n = Math.min(chunk, firstSeed + cases - from);
  const range = `${from}..${from + n - 1}`;
  const file = `${dir}/seeds-${from}-${from + n - 1}.json`;
  process.stdout.write(`\n== convergence soak: seeds ${range} ==\n`);
  const run = spawnSync(
    process.execPath,
    [vitest, 'run', '--project', 'worker', 'test/worker/convergence.test.ts', '--reporter=default', '--reporter=./test/convergence-reporter.ts'],
    { stdio: 'inherit', env: { ...process.env, CONVERGENCE_CASES: String(n), CONVERGENCE_FIRST_SEED: String(from), CONVERGENCE_SUMMARY_FILE: file } },
  );
  if (run.status !== 0) failedChunks += 1;
  try {
    parts.push(JSON.parse(readFileSync(file, 'utf8')) as Summary);
  } catch {
    missing.push(range); // the chunk crashed before its summary test ran
  }
}

const summary = mergeSummaries(parts);
const line = summaryLine({ ...summary, durationMs: Date.now() - started });
const out = 'test-results/convergence-summary.json';
writeFileSync(out, `${JSON.stringify({ writtenAt: new Date().toISOString(), mode: `soak: seeds ${firstSeed}..${firstSeed + cases - 1} in chunks of ${chunk}`, line, missingChunks: missing, ...summary, wallMs: Date.now() - started }, null, 2)}\n`);
process.stdout.write(`\n${line}${missing.length ? `; no summary from seeds ${missing.join(', ')}` : ''}\nwritten to ${out}\n`);
process.exitCode = failedChunks > 0 || missing.length > 0 ? 1 : 0;
