import { defineConfig } from 'vitest/config';
import { dashboardBundlePlugin, workerdTestPlugin } from './test/workerd-plugin.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [dashboardBundlePlugin(), workerdTestPlugin()],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/worker/global-setup.ts'],
          setupFiles: ['test/worker/apply-migrations.ts'],
          // Workerd tests cannot read process.env: the convergence harness gets its knobs here
          // (test/worker/convergence/config.ts).
          provide: {
            convergenceCases: process.env['CONVERGENCE_CASES'] ?? '',
            convergenceSeed: process.env['CONVERGENCE_SEED'] ?? '',
            convergenceFirstSeed: process.env['CONVERGENCE_FIRST_SEED'] ?? '',
            convergenceFreshDb: process.env['CONVERGENCE_FRESH_DB'] ?? '',
            convergenceVerbose: process.env['CONVERGENCE_VERBOSE'] ?? '',
          },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
