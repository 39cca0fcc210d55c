// Fault injection for one database: errors at a rate, 429 rate limiting with Retry-After,
// added latency and connections dropped mid-response. Off by default. Only /rest/v1 requests
// are affected (never the /_dev endpoints, so tests can always clear faults).

import { ApiError } from './errors.ts';

/** The faults injected into one database's /rest/v1 requests (`PUT /_dev/faults`). */
export interface FaultConfig {
  /** Probability 0..1 of answering `errorStatus` instead of running the request. */
  errorRate?: number;
  /** Status used for injected errors; default 503. */
  errorStatus?: number;
  /** `rate` is the probability 0..1 of answering 429 with `Retry-After: retryAfterSeconds` (default 1). */
  rateLimit?: { rate: number; retryAfterSeconds?: number };
  /** Added before the request is handled. */
  latencyMs?: number;
  /** Added after the request ran (its transaction committed), before the answer is sent: a slow link. */
  responseDelayMs?: number;
  /** Probability 0..1 that the request runs but the connection is destroyed mid-response. */
  dropRate?: number;
  /** Only requests whose path (e.g. `/rest/v1/prospects`) contains this string are affected. */
  onlyPaths?: string;
  /** Only the next N matching requests are affected; then faults switch off. */
  count?: number;
}

/** What happens to one request: nothing, an injected error, or a dropped connection. */
export type FaultDecision =
  | { kind: 'none'; latencyMs: number; responseDelayMs?: number }
  | { kind: 'error'; latencyMs: number; error: ApiError }
  | { kind: 'drop'; latencyMs: number; responseDelayMs?: number };

function probability(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ApiError(400, 'DEV400', `${name} must be a number between 0 and 1`);
  return v;
}

function nonNegative(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ApiError(400, 'DEV400', `${name} must be a non-negative number`);
  return v;
}

/** Validates a faults body from `PUT /_dev/faults`. */
export function parseFaultConfig(body: unknown): FaultConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'DEV400', 'faults body must be a JSON object');
  const b = body as Record<string, unknown>;
  const known = new Set(['errorRate', 'errorStatus', 'rateLimit', 'latencyMs', 'responseDelayMs', 'dropRate', 'onlyPaths', 'count']);
  for (const k of Object.keys(b)) if (!known.has(k)) throw new ApiError(400, 'DEV400', `unknown fault option "${k}"`);
  const config: FaultConfig = {};
  const errorRate = probability(b['errorRate'], 'errorRate');
  if (errorRate !== undefined) config.errorRate = errorRate;
  const errorStatus = nonNegative(b['errorStatus'], 'errorStatus');
  if (errorStatus !== undefined) {
    if (!Number.isInteger(errorStatus) || errorStatus < 400 || errorStatus > 599)
      throw new ApiError(400, 'DEV400', 'errorStatus must be an HTTP error status (400-599)');
    config.errorStatus = errorStatus;
  }
  if (b['rateLimit'] !== undefined) {
    const rl = b['rateLimit'];
    if (typeof rl !== 'object' || rl === null) throw new ApiError(400, 'DEV400', 'rateLimit must be an object { rate, retryAfterSeconds }');
    const r = rl as Record<string, unknown>;
    const rate = probability(r['rate'], 'rateLimit.rate');
    if (rate === undefined) throw new ApiError(400, 'DEV400', 'rateLimit.rate is required');
    const retryAfterSeconds = nonNegative(r['retryAfterSeconds'], 'rateLimit.retryAfterSeconds');
    config.rateLimit = retryAfterSeconds === undefined ? { rate } : { rate, retryAfterSeconds: Math.round(retryAfterSeconds) };
  }
  const latencyMs = nonNegative(b['latencyMs'], 'latencyMs');
  if (latencyMs !== undefined) config.latencyMs = latencyMs;
  const responseDelayMs = nonNegative(b['responseDelayMs'], 'responseDelayMs');
  if (responseDelayMs !== undefined) config.responseDelayMs = responseDelayMs;
  const dropRate = probability(b['dropRate'], 'dropRate');
  if (dropRate !== undefined) config.dropRate = dropRate;
  if (b['onlyPaths'] !== undefined) {
    if (typeof b['onlyPaths'] !== 'string') throw new ApiError(400, 'DEV400', 'onlyPaths must be a string');
    config.onlyPaths = b['onlyPaths'];
  }
  const count = nonNegative(b['count'], 'count');
  if (count !== undefined) {
    if (!Number.isInteger(count)) throw new ApiError(400, 'DEV400', 'count must be an integer');
    config.count = count;
  }
  return config;
}

/** Holds a database's fault config and decides per request. */
export class FaultController {
  private config: FaultConfig | null = null;
  private remaining: number | null = null;
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  set(config: FaultConfig): void {
    this.config = config;
    this.remaining = config.count ?? null;
  }

  clear(): void {
    this.config = null;
    this.remaining = null;
  }

  /** What `GET /_dev/faults` shows. */
  describe(): { active: boolean; config: FaultConfig | null; remaining: number | null } {
    return { active: this.config !== null, config: this.config, remaining: this.remaining };
  }

  /** Decides what happens to one /rest/v1 request. */
  decide(path: string): FaultDecision {
    const c = this.config;
    if (c === null) return { kind: 'none', latencyMs: 0 };
    if (c.onlyPaths !== undefined && !path.includes(c.onlyPaths)) return { kind: 'none', latencyMs: 0 };
    if (this.remaining !== null) {
      if (this.remaining <= 0) {
        this.clear();
        return { kind: 'none', latencyMs: 0 };
      }
      this.remaining -= 1;
      if (this.remaining <= 0) this.config = null; // this was the last affected request
    }
    const latencyMs = c.latencyMs ?? 0;
    if (c.rateLimit !== undefined && this.random() < c.rateLimit.rate) {
      const retryAfter = c.rateLimit.retryAfterSeconds ?? 1;
      return {
        kind: 'error',
        latencyMs,
        error: new ApiError(429, 'FAULT429', 'Too Many Requests (injected by the local Supabase stand-in)', null, null, {
          'Retry-After': String(retryAfter),
        }),
      };
    }
    if (c.errorRate !== undefined && this.random() < c.errorRate) {
      const status = c.errorStatus ?? 503;
      return { kind: 'error', latencyMs, error: new ApiError(status, `FAULT${status}`, `Injected fault: HTTP ${status}`) };
    }
    const after = c.responseDelayMs === undefined ? {} : { responseDelayMs: c.responseDelayMs };
    if (c.dropRate !== undefined && this.random() < c.dropRate) return { kind: 'drop', latencyMs, ...after };
    return { kind: 'none', latencyMs, ...after };
  }
}

/** Request counts per `METHOD table` (or `METHOD rpc/fn`) for one database. */
export class RequestStats {
  private counts = new Map<string, number>();
  private total = 0;

  record(method: string, resource: string): void {
    const key = `${method} ${resource}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total += 1;
  }

  reset(): void {
    this.counts.clear();
    this.total = 0;
  }

  snapshot(): { total: number; requests: Record<string, number> } {
    return { total: this.total, requests: Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b))) };
  }
}
