/** The API's one error shape: { error: { code, message, details } }, thrown by handlers as HttpError. */

/** An error that carries its HTTP status and machine-readable code. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The JSON error response for any thrown value; unexpected errors become a 500 without internals. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    const body = {
      error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
    };
    return Response.json(body, { status: error.status, headers: error.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {} });
  }
  console.log(JSON.stringify({ event: 'http_error', error: error instanceof Error ? error.message : String(error) }));
  return Response.json({ error: { code: 'internal', message: 'internal error; see the Worker logs' } }, { status: 500 });
}
