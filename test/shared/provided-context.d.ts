// What the workerd project's global setup provides to the tests (vitest `inject`).
export {};

declare module 'vitest' {
  interface ProvidedContext {
    supabaseUrl: string;
    supabaseServiceRoleKey: string;
    /** The global setup's webhook receiver: ALERT_WEBHOOK_URL of the tests, and where they read what arrived. */
    alertWebhookUrl: string;
    alertReceiverUrl: string;
    /** The dashboard client as dev/build-dashboard.ts builds it now (test/worker/dashboard.test.ts). */
    dashboardScript: string;
    /** CONVERGENCE_* environment variables for test/worker/convergence.test.ts ('' when unset). */
    convergenceCases: string;
    convergenceSeed: string;
    convergenceFirstSeed: string;
    convergenceFreshDb: string;
    convergenceVerbose: string;
    /** BENCH_ROWS and BENCH_SCALE for the benchmarks (bench/worker/config.ts; '' when unset). */
    benchRows: string;
    benchScale: string;
  }
}
