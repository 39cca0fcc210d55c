// Benchmarks (npm run bench): the workerd project of vitest.config.ts, pointed at
// bench/worker/**/*.bench.test.ts, one file at a time so the timings do not compete for the
// two cores. Not part of `npm test`: bench/run.ts runs this config and writes docs/benchmarks.md.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations('./migrations'),
          SUPABASE_URL: inject<string>('supabaseUrl'),
          SUPABASE_SERVICE_ROLE_KEY: inject<string>('supabaseServiceRoleKey'),
          ADMIN_TOKEN: 'test-admin-token',
        },
      },
    })),
  ],
  test: {
    name: 'bench',
    include: ['bench/worker/**/*.bench.test.ts'],
    globalSetup: ['test/worker/global-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
