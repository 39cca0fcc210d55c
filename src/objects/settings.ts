/** Per-entity coordinator settings: engine defaults from the vars, then stored overrides. */
import { z } from 'zod';
import type { EntityDefinition } from '../entities.ts';
import { pushes } from '../entities.ts';
import type { EngineDefaults } from '../env.ts';
import type { CoordinatorSettings } from '../types.ts';

/** Overrides an operator (or a test) may store; each bounded to something sane. */
export const SettingsOverridesSchema = z
  .object({
    intervalMs: z.number().int().min(1000).max(86_400_000),
    // PostgREST caps a read at max-rows (1000 on Supabase); a larger page would look short.
    pageSize: z.number().int().min(1).max(1000),
    maxPagesPerRun: z.number().int().min(1).max(500),
    maxRunMs: z.number().int().min(100).max(600_000),
    safetyLagMs: z.number().int().min(0).max(3_600_000),
    requestTimeoutMs: z.number().int().min(50).max(120_000),
    backoffBaseMs: z.number().int().min(100).max(3_600_000),
    backoffMaxMs: z.number().int().min(100).max(86_400_000),
  })
  .partial()
  .strict();

/** Stored overrides. */
export type SettingsOverrides = z.infer<typeof SettingsOverridesSchema>;

/** The first retry after a failed run waits about this long; each failure in a row doubles it. */
const BACKOFF_BASE_MS = 5_000;
/** Retries wait at most the entity's interval, but never less than a minute nor more than 15. */
const BACKOFF_MAX_FLOOR_MS = 60_000;
const BACKOFF_MAX_CEILING_MS = 15 * 60_000;

/** The effective settings of an entity. */
export function effectiveSettings(entity: EntityDefinition, defaults: EngineDefaults, overrides: SettingsOverrides): CoordinatorSettings {
  const intervalMs = entity.direction === 'push' ? defaults.pushIntervalMs : defaults.pullIntervalMs;
  return {
    intervalMs,
    pageSize: entity.pageSize,
    maxPagesPerRun: defaults.maxPagesPerRun,
    maxRunMs: defaults.maxRunMs,
    safetyLagMs: defaults.safetyLagMs,
    requestTimeoutMs: defaults.requestTimeoutMs,
    backoffBaseMs: BACKOFF_BASE_MS,
    backoffMaxMs: Math.max(BACKOFF_MAX_FLOOR_MS, Math.min(intervalMs, BACKOFF_MAX_CEILING_MS)),
    ...overrides,
  };
}

/**
 * How long a run's lease lasts: past the run's wall budget plus the slowest requests that may
 * still be in flight, so a live run never loses it, and a crashed one frees it soon after.
 */
export function leaseDurationMs(s: CoordinatorSettings, entity: EntityDefinition): number {
  return (
    s.maxRunMs + (pushes(entity) ? REQUESTS_AFTER_DEADLINE.pushing : REQUESTS_AFTER_DEADLINE.pulling) * s.requestTimeoutMs + LEASE_SLACK_MS
  );
}

/**
 * Requests a run may still wait on after its deadline, each up to requestTimeoutMs: a pull page's
 * read and its D1 write; a pushing run also a push page's outbox read and its apply.
 */
const REQUESTS_AFTER_DEADLINE = { pulling: 2, pushing: 4 };
/** Room for the run's bookkeeping after its last request. */
const LEASE_SLACK_MS = 5_000;
