/**
 * Seeded, replayable convergence cases (test/worker/convergence/): each case writes on both
 * sides, injects faults, evicts and crashes coordinators and races runs, then quiesces and
 * checks that both sides converged (nothing lost, duplicated or resurrected), that no two runs
 * of a coordinator overlapped and that no persisted position moved backwards.
 *
 *   npm test -- test/worker/convergence.test.ts                       50 cases (seeds 1..50)
 *   CONVERGENCE_SEED=17 npm test -- test/worker/convergence.test.ts   replay one case
 *   npm run test:soak                                                 500 cases, summary in test-results/
 */
import { afterAll, assert, beforeAll, it } from 'vitest';
import { dropTestDatabases, fileTestDatabase, testDatabase, uniqueName, type TestDatabase } from './helpers.ts';
import { convergenceConfig, muteEngineLogs } from './convergence/config.ts';
import { caseMessage, summarize, summaryLine, type CaseResult } from './convergence/report.ts';
import { runCase } from './convergence/world.ts';

const config = convergenceConfig();
/** Cases per `it` block. */
const BLOCK = 10;
/** Generous: a case takes one to a few seconds; a block must not time out on a loaded machine. */
const CASE_BUDGET_MS = 30_000;
/** Keeps the assertion message readable when many cases fail. */
const MAX_MESSAGE_CHARS = 60_000;

const results: CaseResult[] = [];
let startedAt = 0;
let unmute = (): void => undefined;
/**
 * One stand-in database for every case of the file, emptied before each case (creating one
 * costs about 4 s; CONVERGENCE_FRESH_DB=1 creates one per case instead).
 */
let shared: (TestDatabase & { drop(): Promise<void> }) | null = null;

beforeAll(() => {
  startedAt = Date.now();
  if (config.verbose < 2) unmute = muteEngineLogs();
  if (!config.freshDatabase) shared = fileTestDatabase(uniqueName('convergence'));
});
afterAll(async () => {
  unmute();
  await shared?.drop();
});

const blocks: number[][] = [];
for (let i = 0; i < config.seeds.length; i += BLOCK) blocks.push(config.seeds.slice(i, i + BLOCK));

for (const seeds of blocks) {
  const first = seeds[0];
  const last = seeds.at(-1);
  it(
    `converges: ${seeds.length === 1 ? `seed ${first}` : `seeds ${first}–${last}`}`,
    async () => {
      const failing: CaseResult[] = [];
      for (const seed of seeds) {
        const db = shared ?? testDatabase(uniqueName(`convergence-${seed}`));
        const result = await runCase(seed, db, { emptyDatabase: shared !== null });
        if (!shared) await dropTestDatabases();
        results.push(result);
        if (config.verbose >= 1) {
          console.info(
            `seed ${seed}: ${result.durationMs} ms, ${result.steps} steps, ${result.runs} runs, ${result.quiesceRounds} quiesce rounds (${Object.entries(
              result.phaseMs,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')} ms), ${result.failures.length} failure(s) ${[...new Set(result.failures.map((f) => f.kind))].join(' ')}`,
          );
        }
        if (result.failures.length > 0) failing.push(result);
      }
      if (failing.length > 0) {
        const text = failing.map(caseMessage).join('\n\n');
        const head = `${failing.length} of ${seeds.length} case(s) failed (seeds ${failing.map((f) => f.seed).join(', ')}):\n\n`;
        assert.fail(head + (text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}\n… (truncated)` : text));
      }
    },
    seeds.length * CASE_BUDGET_MS,
  );
}

it('convergence summary', ({ task }) => {
  const summary = summarize(results, Date.now() - startedAt);
  const line = summaryLine(summary);
  console.info(line);
  // Read by test/convergence-reporter.ts (npm run test:soak) and written to test-results/.
  (task.meta as Record<string, unknown>)['convergence'] = { mode: config.mode, line, ...summary };
});
