/**
 * The quarantine's policy: a row that does not fit (pull) or that Supabase refuses (push) is set
 * aside with its reason and tried again later, less often the more it fails, so one bad row never
 * blocks its page nor costs a request every run. A row that later applies cleanly leaves the
 * quarantine by itself (PassSink.release). Storage lives in objects/coordinator-store.ts.
 */

/** A row set aside for the first time is tried again after this long… */
export const FIRST_RETRY_MS = 5 * 60_000;
/** …each failure after that doubles the wait, up to a day. */
export const MAX_RETRY_MS = 24 * 3_600_000;

/** Push rows re-queued from the quarantine in one run, at most. */
export const RETRY_BATCH = 100;
/** A re-queued row is not re-queued again for this long (its push decides its fate first). */
export const REQUEUE_HOLD_MS = 3_600_000;
/** The payload kept with a row, in JSON characters; a longer one is kept as a truncated preview. */
export const PAYLOAD_MAX_CHARS = 20_000;

/** When a row quarantined for the `attempts`-th time (1 = the first) is tried again. */
export function nextRetryAt(now: number, attempts: number): number {
  return now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

/** A payload as stored: its JSON, or a truncated preview when it is too large to keep. */
export function boundedPayload(payload: unknown): string {
  const json = JSON.stringify(payload ?? null);
  return json.length <= PAYLOAD_MAX_CHARS ? json : JSON.stringify({ truncated: true, preview: json.slice(0, PAYLOAD_MAX_CHARS) });
}
