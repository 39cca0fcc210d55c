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
    backoffBaseMs: 5_000,
    backoffMaxMs: Math.max(60_000, Math.min(intervalMs, 15 * 60_000)),
    ...overrides,
  };
}

/**
 * How long a run's lease lasts: past the run's wall budget plus the slowest requests that may
 * still be in flight, so a live run never loses it, and a crashed one frees it soon after.
 */
export function leaseDurationMs(s: CoordinatorSettings, entity: EntityDefinition): number {
  const requestsPerPage = pushes(entity) ? 4 : 2;
  return s.maxRunMs + requestsPerPage * s.requestTimeoutMs + 5_000;
}
