/**
 * Production estimate from counted work: local wall times say little about Cloudflare, where
 * every Supabase request and every D1 round trip crosses a network. Pure arithmetic over the
 * counts the bench measured, the stated latencies, and the Workers plan limits.
 */

/** Stated production latencies. */
export interface Latency {
  supabaseMs: number;
  d1Ms: number;
}

export const LATENCY: Latency = { supabaseMs: 30, d1Ms: 10 };

/** Per-invocation limits of a Workers plan (a Durable Object alarm is an invocation). */
export interface PlanLimits {
  name: string;
  /** Subrequests per invocation; D1 queries count here too (the D1 page calls them "read subrequest limits"). */
  subrequests: number;
  d1Queries: number;
}

/**
 * developers.cloudflare.com/workers/platform/limits/ (Subrequests: Free 50/request, Paid
 * 10,000/request; earlier versions of the page said 1,000 for Paid) and
 * developers.cloudflare.com/d1/platform/limits/ (Queries per Worker invocation: 50 Free, 1,000 Paid).
 */
export const PLANS: readonly PlanLimits[] = [
  { name: 'Workers Free', subrequests: 50, d1Queries: 50 },
  { name: 'Workers Paid', subrequests: 10_000, d1Queries: 1_000 },
];

/** The work of one invocation (or of a whole job). */
export interface Cost {
  supabase: number;
  d1RoundTrips: number;
  d1Statements: number;
}

/** Time if every request waits for the one before (no overlap). */
export function serialMs(c: Cost, l: Latency = LATENCY): number {
  return c.supabase * l.supabaseMs + c.d1RoundTrips * l.d1Ms;
}

/** Time if the Supabase reads and the D1 writes overlap perfectly (the next page read while one is applied). */
export function overlappedMs(c: Cost, l: Latency = LATENCY): number {
  return Math.max(c.supabase * l.supabaseMs, c.d1RoundTrips * l.d1Ms);
}

/** How an invocation's cost sits against a plan: 'yes', 'no', or a conditional sentence. */
export function fits(c: Cost, p: PlanLimits): string {
  const subrequests = c.supabase + c.d1RoundTrips;
  if (subrequests > p.subrequests || c.d1RoundTrips > p.d1Queries) return 'no';
  // Whether a batch of n statements counts as one D1 query or n is not stated on the limits page.
  if (c.d1Statements > p.d1Queries || c.supabase + c.d1Statements > p.subrequests) return 'only if a batch counts as one query';
  return 'yes';
}

/**
 * One production pull run at MAX_PAGES_PER_RUN pages, scaled from a measured pull: the pages'
 * Supabase requests (plus one for the end of the stream), the D1 round trips and statements
 * the measurement spent per request, plus a quiet cycle's fixed D1 work (lease, log, outbox).
 * An upper bound: a run that ends early does less.
 */
export function pullRunCost(measured: Cost, maxPagesPerRun: number, quiet: Cost): Cost {
  const requests = Math.min(maxPagesPerRun + 1, measured.supabase);
  const perRequest = (n: number): number => (measured.supabase === 0 ? 0 : n / measured.supabase);
  return {
    supabase: requests,
    d1RoundTrips: Math.ceil(requests * perRequest(measured.d1RoundTrips) + quiet.d1RoundTrips),
    d1Statements: Math.ceil(requests * perRequest(measured.d1Statements) + quiet.d1Statements),
  };
}

/** Scales a measured cost to `rows` (counts grow with the pages). */
export function scaleCost(measured: Cost, measuredRows: number, rows: number): Cost {
  const f = rows / measuredRows;
  return {
    supabase: Math.ceil(measured.supabase * f),
    d1RoundTrips: Math.ceil(measured.d1RoundTrips * f),
    d1Statements: Math.ceil(measured.d1Statements * f),
  };
}

/** Invocations (alarm runs) a job of `supabase` page requests takes at `maxPagesPerRun` pages a run. */
export function runsFor(supabase: number, maxPagesPerRun: number): number {
  return Math.max(1, Math.ceil(supabase / maxPagesPerRun));
}

/** Reads `[vars]` of wrangler.toml (plain `KEY = "value"` lines). */
export function wranglerVars(toml: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inVars = line === '[vars]';
    else if (inVars) {
      const m = /^([A-Z0-9_]+)\s*=\s*"([^"]*)"/.exec(line);
      if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2];
    }
  }
  return vars;
}
