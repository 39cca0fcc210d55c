// Pure parsing of the request headers PostgREST looks at: Prefer, Range, Accept, *-Profile.

import { ApiError } from './errors.ts';

export interface Preferences {
  return: 'minimal' | 'representation' | 'headers-only' | null;
  count: 'exact' | 'planned' | 'estimated' | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missing: 'default' | 'null' | null;
  /** The preferences that were honoured, echoed in `Preference-Applied`. */
  applied: string[];
}

/** Parses one or more `Prefer` header values (comma separated). Unknown preferences are ignored, as PostgREST does by default. */
export function parsePrefer(values: string[]): Preferences {
  const prefs: Preferences = { return: null, count: null, resolution: null, missing: null, applied: [] };
  for (const token of values.flatMap((v) => v.split(','))) {
    const [rawKey, rawValue] = token.split('=', 2).map((s) => s.trim());
    const value = rawValue ?? '';
    switch (rawKey) {
      case 'return':
        if (value === 'minimal' || value === 'representation' || value === 'headers-only') { prefs.return = value; prefs.applied.push(`return=${value}`); }
        break;
      case 'count':
        if (value === 'exact' || value === 'planned' || value === 'estimated') { prefs.count = value; prefs.applied.push(`count=${value}`); }
        break;
      case 'resolution':
        if (value === 'merge-duplicates' || value === 'ignore-duplicates') { prefs.resolution = value; prefs.applied.push(`resolution=${value}`); }
        break;
      case 'missing':
        if (value === 'default' || value === 'null') { prefs.missing = value; prefs.applied.push(`missing=${value}`); }
        break;
      default:
        break;
    }
  }
  return prefs;
}

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
    throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', 'The lower boundary must be lower than or equal to the upper boundary in the Range header.');
  }
  return { offset: lower, limit: upper - lower + 1 };
}

/** Combines the Range header with limit/offset query parameters and the server's max-rows cap. */
export function effectiveRange(header: RequestedRange | null, limit: number | null, offset: number | null, maxRows: number): { offset: number; limit: number } {
  const start = offset ?? header?.offset ?? 0;
  const limits = [limit, header?.limit ?? null, maxRows].filter((x): x is number => x !== null);
  return { offset: start, limit: Math.min(...limits) };
}

export type ResponseShape = 'array' | 'object';

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
    if (type === 'application/json' || type === 'application/vnd.pgrst.array+json' || type === '*/*' || type === 'application/*') return { shape: 'array', stripNulls };
  }
  throw new ApiError(406, 'PGRST107', `None of these media types are available: ${value}`);
}

/** Only the `public` schema is exposed. */
export function checkProfile(value: string | undefined): void {
  if (value !== undefined && value !== '' && value !== 'public') {
    throw new ApiError(406, 'PGRST106', 'Invalid schema: ' + value, null, 'Only the following schemas are exposed: public');
  }
}
