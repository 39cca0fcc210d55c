// Writes the convergence harness's summary (test/worker/convergence.test.ts keeps it in the
// summary test's meta) to test-results/convergence-summary.json (or CONVERGENCE_SUMMARY_FILE),
// so docs can quote a run. Used by `npm run test:soak` (test/convergence-soak.ts); add
// `--reporter=./test/convergence-reporter.ts` to any run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class ConvergenceReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const summary = (test.meta() as Record<string, unknown>)['convergence'];
        if (summary === undefined) continue;
        const file = process.env['CONVERGENCE_SUMMARY_FILE'] || 'test-results/convergence-summary.json';
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, `${JSON.stringify({ writtenAt: new Date().toISOString(), ...(summary as object) }, null, 2)}\n`);
        const line = (summary as { line?: unknown }).line;
        process.stdout.write(`\n${typeof line === 'string' ? line : 'convergence summary'}\nwritten to ${file}\n`);
      }
    }
  }
}
