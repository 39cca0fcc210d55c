// Benchmarks (npm run bench): the workerd project of vitest.config.ts, pointed at
// bench/worker/**/*.bench.test.ts, one file at a time so the timings do not compete for the
// two cores. Not part of `npm test`: bench/run.ts runs this config and writes docs/benchmarks.md.
import { defineConfig } from 'vitest/config';
import { dashboardBundlePlugin, workerdTestPlugin } from './test/workerd-plugin.ts';

export default defineConfig({
  plugins: [dashboardBundlePlugin(), workerdTestPlugin()],
  test: {
    name: 'bench',
    include: ['bench/worker/**/*.bench.test.ts'],
    globalSetup: ['test/worker/global-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    // Workerd tests cannot read process.env: bench/run.ts's --rows and scale runs arrive here
    // (bench/worker/config.ts).
    provide: {
      benchRows: process.env['BENCH_ROWS'] ?? '',
      benchScale: process.env['BENCH_SCALE'] ?? '',
    },
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
