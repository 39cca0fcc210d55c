/**
 * Delivers one alert to ALERT_WEBHOOK_URL and logs it. Never throws: an alert that cannot be
 * delivered must not fail the sync or integrity run that raised it (the plan in
 * integrity/alerts.ts sends it again at its next reminder).
 *
 * The URL is a secret (a Slack incoming-webhook URL carries its token in the path): it never
 * reaches a log line or an error string.
 */
import type { AlertPayload } from '../integrity/alerts.ts';
import { canonicalFromMillis } from '../timestamps.ts';

/** How long a delivery may take before it is given up. */
export const ALERT_TIMEOUT_MS = 5000;

/** The outcome of one delivery; error is null when delivered or when no URL is configured. */
export interface AlertDelivery {
  delivered: boolean;
  error: string | null;
}

/** Options of deliverAlert: the timeout, and a fetch to use instead of the global one. */
export interface DeliverAlertOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Posts the payload as JSON to `url` (logged only without one) and writes one structured log line. */
export async function deliverAlert(
  url: string | undefined,
  payload: AlertPayload,
  options: DeliverAlertOptions = {},
): Promise<AlertDelivery> {
  const result = url ? await post(url, payload, options) : { delivered: false, error: null };
  // The summary makes the log line useful on its own in logged-only mode; details stay out (size).
  console.log(
    JSON.stringify({
      at: canonicalFromMillis(Date.now()),
      event: 'alert',
      status: payload.status,
      entity: payload.entity,
      problem: payload.problem,
      severity: payload.severity,
      summary: payload.summary,
      delivered: result.delivered,
      error: result.error,
    }),
  );
  return result;
}

async function post(url: string, payload: AlertPayload, options: DeliverAlertOptions): Promise<AlertDelivery> {
  const timeoutMs = options.timeoutMs ?? ALERT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  try {
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not needed; cancelling it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    return response.ok ? { delivered: true, error: null } : { delivered: false, error: `HTTP ${response.status}` };
  } catch (error) {
    return { delivered: false, error: redact(describe(error, timeoutMs), url) };
  }
}

/** A short reason for a failed fetch: "timed out after 5000 ms", "ECONNREFUSED", the message otherwise. */
function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
    // Node's fetch says only "fetch failed"; the reason is in its cause.
    const cause: unknown = error.cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return typeof code === 'string' ? code : cause.message;
    }
    return error.message;
  }
  return String(error);
}

/** Removes the URL (and its path, which holds a Slack webhook's token) from an error string. */
function redact(text: string, url: string): string {
  let out = text.split(url).join('[webhook]');
  try {
    const { pathname, search } = new URL(url);
    const secret = pathname + search;
    if (secret.length > 1) out = out.split(secret).join('[webhook]');
  } catch {
    // Not a parseable URL: the whole-string replacement above is all there is to do.
  }
  return out.slice(0, 200);
}
