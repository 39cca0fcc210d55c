// The workerd test environment shared by the tests and the benchmarks: wrangler.toml's Worker
// with its D1 migrations, pointed at the local Supabase stand-in the global setup started.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import type { Plugin } from 'vite';
import { writeDashboardBundle } from '../dev/build-dashboard.ts';

/**
 * Builds the dashboard client before the Worker is loaded (src/dashboard/client.bundle.js is
 * generated, not committed), so any vitest run of the Worker serves the current client, whichever
 * way vitest was started.
 */
export function dashboardBundlePlugin(): Plugin {
  return {
    name: 'dashboard-client-bundle',
    async config() {
      await writeDashboardBundle();
    },
  };
}

/** The Cloudflare test plugin with this project's bindings. */
export function workerdTestPlugin(): ReturnType<typeof cloudflareTest> {
  return cloudflareTest(async ({ inject }) => ({
    wrangler: { configPath: './wrangler.toml' },
    // The production Worker with a coordinator that adds test-only RPCs (test/worker/entry.ts).
    main: './test/worker/entry.ts',
    miniflare: {
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations('./migrations'),
        SUPABASE_URL: inject<string>('supabaseUrl'),
        SUPABASE_SERVICE_ROLE_KEY: inject<string>('supabaseServiceRoleKey'),
        ADMIN_TOKEN: 'test-admin-token',
        ALERT_WEBHOOK_URL: inject<string>('alertWebhookUrl'),
      },
    },
  }));
}
