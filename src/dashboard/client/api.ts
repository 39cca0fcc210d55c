/** The admin API as the page calls it: the token from this tab's session storage, JSON both ways. */
import type { Lease } from '../../types.ts';
import { relative, shortId } from './format.ts';

const TOKEN_KEY = 'sync-dashboard:admin-token';

/** Thrown for any call without a token, and after a 401 (which signs out). */
export class AuthError extends Error {
  constructor() {
    super('not signed in');
    this.name = 'AuthError';
  }
}

/** The API's error body: { error: { code, message, details } }. */
export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}

/** An answer: the data of a 2xx, or the error of anything else. */
export type ApiResponse<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError | null; text: string };

/** The signed-in token and what to do when the server rejects it. */
export interface Session {
  token: string | null;
  /** Called on a 401, before the call rejects with AuthError. */
  onUnauthorized(): void;
}

/** The token kept in this tab, or null. */
export function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or, with null, forgets) the token in this tab. */
export function writeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives in memory for this page only
  }
}

function isApiError(value: unknown): value is { error: ApiError } {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error: unknown = value.error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

/** Calls the API with the token; a 401 signs out and rejects with AuthError. */
export async function api<T>(session: Session, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResponse<T>> {
  if (!session.token) throw new AuthError();
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}`, accept: 'application/json' };
  const init: RequestInit = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    data = null;
  }
  if (res.status === 401) {
    session.onUnauthorized();
    throw new AuthError();
  }
  // The Worker answers its own types (src/types.ts) on 2xx; this is where they are taken at its word.
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  return { ok: false, status: res.status, error: isApiError(data) ? data.error : null, text };
}

/** The API's error as one line: "409 run_in_progress: a sync run holds the lease …". */
export function errorText(res: { status: number; error: ApiError | null; text: string }): string {
  const err = res.error;
  if (err) {
    let line = `${res.status} ${err.code}: ${err.message}`;
    if (Array.isArray(err.details)) {
      const issues = (err.details as unknown[]).map((d) => {
        const issue = typeof d === 'object' && d !== null ? (d as { path?: unknown; message?: unknown }) : {};
        return `${typeof issue.path === 'string' && issue.path ? `${issue.path}: ` : ''}${typeof issue.message === 'string' ? issue.message : ''}`;
      });
      line += ` (${issues.join('; ')})`;
    }
    return line;
  }
  return `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}`;
}

/** A 409's text, with the run that holds the lease. */
export function conflictText(res: { error: ApiError | null }): string {
  const err = res.error;
  const details = err?.details;
  const lease = typeof details === 'object' && details !== null && 'lease' in details ? (details.lease as Lease) : null;
  let text = err ? err.message : 'HTTP 409';
  if (lease) text += ` (run ${shortId(lease.runId)}, ${lease.trigger}, lease expires ${relative(lease.expiresAt, Date.now())})`;
  return text;
}

/** Any thrown value as one line. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
