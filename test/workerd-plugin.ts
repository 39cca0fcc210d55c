// The workerd test environment shared by the tests and the benchmarks: wrangler.toml's Worker
// with its D1 migrations, pointed at the local Supabase stand-in the global setup started.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';

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
