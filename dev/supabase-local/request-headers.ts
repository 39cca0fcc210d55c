// Pure parsing of the request headers PostgREST looks at: Prefer, Range, Accept, *-Profile.

import { ApiError } from './errors.ts';

/** How a request's transaction ends: PostgREST's `db-tx-end` setting. */
export type TxEnd = 'commit' | 'commit-allow-override' | 'rollback' | 'rollback-allow-override';

/** The `db-tx-end` values, for validating the CLI flag and the server option. */
export const TX_END_VALUES: readonly TxEnd[] = ['commit', 'commit-allow-override', 'rollback', 'rollback-allow-override'];

/** The preferences PostgREST understands, each taken from its first occurrence. */
export interface Preferences {
  return: 'minimal' | 'representation' | 'headers-only' | null;
  count: 'exact' | 'planned' | 'estimated' | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missing: 'default' | 'null' | null;
  /** `tx=commit|rollback`, only when the server's tx end allows overriding (else null). */
  tx: 'commit' | 'rollback' | null;
  handling: 'strict' | 'lenient' | null;
  /** `params=single-object` (understood, so not invalid, but not supported: see rest.ts). */
  params: 'single-object' | null;
  /** Preferences PostgREST would not accept (reported with `handling=strict`). */
  invalid: string[];
}

const ACCEPTED: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  tx: ['commit', 'rollback'],
  handling: ['strict', 'lenient'],
  params: ['single-object'],
};

/**
 * Parses the `Prefer` header values (comma separated, several headers allowed) like PostgREST
 * v12: the first occurrence of each preference wins, `tx=` is honoured only when `txEnd` allows
 * an override, and anything else is invalid (ignored unless `handling=strict`, see
 * {@link checkStrictPreferences}).
 */
export function parsePrefer(values: string[], txEnd: TxEnd = 'commit'): Preferences {
  const prefs: Preferences = {
    return: null,
    count: null,
    resolution: null,
    missing: null,
    tx: null,
    handling: null,
    params: null,
    invalid: [],
  };
  const allowTx = txEnd === 'commit-allow-override' || txEnd === 'rollback-allow-override';
  const found: Record<string, string> = {};
  for (const token of values
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '')) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? '' : token.slice(eq + 1);
    const accepted = ACCEPTED[key];
    if (!accepted?.includes(value)) {
      prefs.invalid.push(token);
      continue;
    }
    found[key] ??= value;
  }
  prefs.return = (found['return'] ?? null) as Preferences['return'];
  prefs.count = (found['count'] ?? null) as Preferences['count'];
  prefs.resolution = (found['resolution'] ?? null) as Preferences['resolution'];
  prefs.missing = (found['missing'] ?? null) as Preferences['missing'];
  prefs.tx = allowTx ? ((found['tx'] ?? null) as Preferences['tx']) : null;
  prefs.handling = (found['handling'] ?? null) as Preferences['handling'];
  prefs.params = (found['params'] ?? null) as Preferences['params'];
  return prefs;
}

/** `handling=strict` with a preference PostgREST does not accept: 400 PGRST122 (v12 wording). */
export function checkStrictPreferences(prefs: Preferences): void {
  if (prefs.handling === 'strict' && prefs.invalid.length > 0) {
    throw new ApiError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${prefs.invalid.join(', ')}`,
    );
  }
}

/** Whether the request's transaction is rolled back: the server's tx end, unless overridden. */
export function rollsBack(prefs: Preferences, txEnd: TxEnd): boolean {
  if (prefs.tx !== null) return prefs.tx === 'rollback';
  return txEnd === 'rollback' || txEnd === 'rollback-allow-override';
}

/** A preference that a response may report as applied. */
export type AppliedPreference = 'resolution' | 'missing' | 'return' | 'params' | 'count' | 'tx' | 'handling';

/**
 * The `Preference-Applied` value: PostgREST lists the honoured preferences in this fixed order
 * (resolution, missing, return, params, count, tx, handling), whatever their order in the request;
 * each kind of request reports only some of them (`which`).
 */
export function preferenceApplied(prefs: Preferences, which: readonly AppliedPreference[]): string | null {
  const order: AppliedPreference[] = ['resolution', 'missing', 'return', 'params', 'count', 'tx', 'handling'];
  const parts = order.filter((k) => which.includes(k) && prefs[k] !== null).map((k) => `${k}=${String(prefs[k])}`);
  return parts.length > 0 ? parts.join(', ') : null;
}

/** The rows a `Range` header asks for. */
export interface RequestedRange {
  offset: number;
  limit: number | null;
}

/** `Range: 0-9` → offset 0, limit 10; `Range: 5-` → offset 5, no limit. Malformed ranges are ignored like PostgREST does. */
export function parseRangeHeader(value: string | undefined): RequestedRange | null {
  if (value === undefined) return null;
  const m = /^\s*(?:items=)?(\d+)-(\d*)\s*$/.exec(value);
  if (m === null) return null;
  const lower = Number(m[1]);
  if (m[2] === '' || m[2] === undefined) return { offset: lower, limit: null };
  const upper = Number(m[2]);
  if (upper < lower) {
    throw new ApiError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
    );
  }
  return { offset: lower, limit: upper - lower + 1 };
}

/** Combines the Range header with limit/offset query parameters and the server's max-rows cap. */
export function effectiveRange(
  header: RequestedRange | null,
  limit: number | null,
  offset: number | null,
  maxRows: number,
): { offset: number; limit: number } {
  const start = offset ?? header?.offset ?? 0;
  const limits = [limit, header?.limit ?? null, maxRows].filter((x): x is number => x !== null);
  return { offset: start, limit: Math.min(...limits) };
}

/** A JSON array of rows, or one object (`application/vnd.pgrst.object+json`). */
export type ResponseShape = 'array' | 'object';

/** What the `Accept` header asks for. */
export interface AcceptInfo {
  shape: ResponseShape;
  stripNulls: boolean;
}

/** Interprets the Accept header: array (default), single object (`.single()`), stripped nulls. */
export function parseAccept(value: string | undefined): AcceptInfo {
  if (value === undefined || value.trim() === '') return { shape: 'array', stripNulls: false };
  const candidates = value.split(',').map((s) => s.trim().toLowerCase());
  for (const c of candidates) {
    const [type, ...params] = c.split(';').map((s) => s.trim());
    const stripNulls = params.includes('nulls=stripped');
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return { shape: 'object', stripNulls };
    if (type === 'application/json' || type === 'application/vnd.pgrst.array+json' || type === '*/*' || type === 'application/*')
      return { shape: 'array', stripNulls };
  }
  throw new ApiError(406, 'PGRST107', `None of these media types are available: ${value}`);
}

/** Only the `public` schema is exposed. */
export function checkProfile(value: string | undefined): void {
  if (value !== undefined && value !== '' && value !== 'public') {
    throw new ApiError(406, 'PGRST106', 'Invalid schema: ' + value, null, 'Only the following schemas are exposed: public');
  }
}
