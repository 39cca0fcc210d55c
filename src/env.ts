/** The Worker's bindings and vars (see wrangler.toml), and the settings derived from them. */
import { z } from 'zod';
import type { SyncCoordinator } from './objects/sync-coordinator.ts';

/** Bindings, secrets and vars. */
export interface Env {
  DB: D1Database;
  SYNC_COORDINATOR: DurableObjectNamespace<SyncCoordinator>;
  SUPABASE_URL: string;
  SUPABASE_SERVICE_ROLE_KEY?: string;
  /** The original spec's name for the service-role key; accepted as a fallback. */
  SUPABASE_SERVICE_KEY?: string;
  ADMIN_TOKEN?: string;
  PULL_INTERVAL_SECONDS?: string;
  PUSH_INTERVAL_SECONDS?: string;
  SAFETY_LAG_SECONDS?: string;
  MAX_PAGES_PER_RUN?: string;
  MAX_RUN_SECONDS?: string;
  REQUEST_TIMEOUT_SECONDS?: string;
  /** Integrity alerts go here as JSON (Slack-style `text`); a secret: the URL carries the token. */
  ALERT_WEBHOOK_URL?: string;
  /** The dashboard's public URL, linked from alerts. */
  DASHBOARD_URL?: string;
  /** Rows the two sides' counts may differ by before row_counts is an error (default 0). */
  INTEGRITY_COUNT_TOLERANCE?: string;
  /** Outbox entries older than an hour tolerated before push_backlog warns (default 0). */
  INTEGRITY_BACKLOG_THRESHOLD?: string;
}

const seconds = (fallback: number) =>
  z.coerce
    .number()
    .nonnegative()
    .default(fallback)
    .transform((s) => Math.round(s * 1000));

const VarsSchema = z.object({
  PULL_INTERVAL_SECONDS: seconds(600),
  PUSH_INTERVAL_SECONDS: seconds(300),
  SAFETY_LAG_SECONDS: seconds(60),
  MAX_RUN_SECONDS: seconds(20),
  REQUEST_TIMEOUT_SECONDS: seconds(15),
  MAX_PAGES_PER_RUN: z.coerce.number().int().positive().default(8),
  INTEGRITY_COUNT_TOLERANCE: z.coerce.number().int().nonnegative().default(0),
  INTEGRITY_BACKLOG_THRESHOLD: z.coerce.number().int().nonnegative().default(0),
});

/** Engine-wide defaults, in milliseconds, from the vars. */
export interface EngineDefaults {
  pullIntervalMs: number;
  pushIntervalMs: number;
  safetyLagMs: number;
  maxRunMs: number;
  requestTimeoutMs: number;
  maxPagesPerRun: number;
  countTolerance: number;
  backlogThreshold: number;
}

/** Reads the vars; a malformed var is a configuration error naming the var. */
export function engineDefaults(env: Env): EngineDefaults {
  const parsed = VarsSchema.safeParse({
    PULL_INTERVAL_SECONDS: env.PULL_INTERVAL_SECONDS,
    PUSH_INTERVAL_SECONDS: env.PUSH_INTERVAL_SECONDS,
    SAFETY_LAG_SECONDS: env.SAFETY_LAG_SECONDS,
    MAX_RUN_SECONDS: env.MAX_RUN_SECONDS,
    REQUEST_TIMEOUT_SECONDS: env.REQUEST_TIMEOUT_SECONDS,
    MAX_PAGES_PER_RUN: env.MAX_PAGES_PER_RUN,
    INTEGRITY_COUNT_TOLERANCE: env.INTEGRITY_COUNT_TOLERANCE,
    INTEGRITY_BACKLOG_THRESHOLD: env.INTEGRITY_BACKLOG_THRESHOLD,
  });
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`invalid configuration vars: ${names}`);
  }
  const v = parsed.data;
  return {
    pullIntervalMs: v.PULL_INTERVAL_SECONDS,
    pushIntervalMs: v.PUSH_INTERVAL_SECONDS,
    safetyLagMs: v.SAFETY_LAG_SECONDS,
    maxRunMs: v.MAX_RUN_SECONDS,
    requestTimeoutMs: v.REQUEST_TIMEOUT_SECONDS,
    maxPagesPerRun: v.MAX_PAGES_PER_RUN,
    countTolerance: v.INTEGRITY_COUNT_TOLERANCE,
    backlogThreshold: v.INTEGRITY_BACKLOG_THRESHOLD,
  };
}

/** The service-role key under either accepted name. */
export function serviceRoleKey(env: Env): string | undefined {
  return env.SUPABASE_SERVICE_ROLE_KEY || env.SUPABASE_SERVICE_KEY || undefined;
}
