// PostgREST-shaped errors: `{ code, message, details, hint }` plus the HTTP status PostgREST
// would answer with. Database errors are mapped by SQLSTATE following the table in
// https://docs.postgrest.org/en/latest/references/errors.html (status_codes).

/** The JSON body of every error: PostgREST's shape. `details` is a list only for PGRST201. */
export interface ErrorBody {
  code: string;
  message: string;
  details: string | null | readonly object[];
  hint: string | null;
}

/** An error carrying the HTTP status and PostgREST error body to answer with. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string | null | readonly object[];
  readonly hint: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    details: string | null | readonly object[] = null,
    hint: string | null = null,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.hint = hint;
    this.headers = headers;
  }

  body(): ErrorBody {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message };
  }
}

/** PGRST100: the query string could not be parsed. */
export function parseError(message: string, details: string | null = null): ApiError {
  return new ApiError(400, 'PGRST100', message, details);
}

/** PGRST205 (404): the table or view is not in the schema cache. */
export function tableNotFound(table: string): ApiError {
  return new ApiError(404, 'PGRST205', `Could not find the table 'public.${table}' in the schema cache`, null, null);
}

/** 42703 (400): a column the relation does not have, worded like Postgres's error. */
export function columnNotFound(table: string, column: string): ApiError {
  return new ApiError(400, '42703', `column ${table}.${column} does not exist`, null, null);
}

/** PGRST204: a payload / columns= / on_conflict column that the table does not have. */
export function payloadColumnNotFound(table: string, column: string): ApiError {
  return new ApiError(400, 'PGRST204', `Could not find the '${column}' column of '${table}' in the schema cache`);
}

/** PGRST202 (404): no function with that name and these argument names. */
export function functionNotFound(fn: string, argNames: string[]): ApiError {
  const sig = argNames.length ? `(${argNames.join(', ')})` : ' without parameters';
  return new ApiError(
    404,
    'PGRST202',
    `Could not find the function public.${fn}${sig} in the schema cache`,
    `Searched for the function public.${fn}${sig}, but no matches were found in the schema cache.`,
    null,
  );
}

/** PGRST102 (400): the body is not acceptable JSON. */
export function invalidBody(message: string): ApiError {
  return new ApiError(400, 'PGRST102', message);
}

/** PGRST301 (401): no key in the request. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'PGRST301', 'No API key found in request', null, 'No `apikey` request header or url param was found.');
}

/** PGRST301 (401): a key other than the service-role key. */
export function invalidKey(): ApiError {
  return new ApiError(401, 'PGRST301', 'Invalid API key', null, 'Double check your Supabase `anon` or `service_role` API key.');
}

/** PGRST116 (406): a singular response (`.single()`) with other than one row, worded as in PostgREST v12. */
export function singularityError(rows: number): ApiError {
  return new ApiError(406, 'PGRST116', 'JSON object requested, multiple (or no) rows returned', `The result contains ${rows} rows`, null);
}

/** SQLSTATE → HTTP status, as PostgREST does it. */
export function statusForSqlState(code: string): number {
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42501') return 403;
  if (code === 'P0001') return 400;
  if (code === '53400') return 500;
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  const prefixes: [string, number][] = [
    ['08', 503],
    ['09', 500],
    ['0L', 403],
    ['0P', 403],
    ['25', 500],
    ['28', 403],
    ['2D', 500],
    ['38', 500],
    ['39', 500],
    ['3B', 500],
    ['40', 500],
    ['53', 503],
    ['54', 413],
    ['55', 500],
    ['57', 500],
    ['58', 500],
    ['F0', 500],
    ['HV', 500],
    ['P0', 500],
    ['XX', 500],
  ];
  for (const [prefix, status] of prefixes) if (code.startsWith(prefix)) return status;
  return 400;
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

function isPgLikeError(e: unknown): e is PgLikeError & Error {
  return e instanceof Error && typeof (e as PgLikeError).code === 'string' && /^[0-9A-Z]{5}$/.test(String((e as PgLikeError).code));
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Turns anything thrown while serving a request into an ApiError. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isPgLikeError(e)) {
    const code = String(e.code);
    return new ApiError(statusForSqlState(code), code, e.message, str(e.detail), str(e.hint));
  }
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(500, 'XX000', message);
}
