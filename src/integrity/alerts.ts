/**
 * Which integrity problems to alert about, and what an alert says. Pure: the clock comes in as
 * `now`, the previous state as `active`; delivery lives in stores/alert-webhook.ts.
 *
 * The caller keeps the returned state even when a delivery fails: the failure is logged, and the
 * problem is sent again at its next reminder (within `repeatMs`). Marking failed deliveries as
 * unsent would retry them on every run instead, and a webhook that is down would then get a burst
 * of messages per run the moment it comes back.
 */
import type { ActiveAlert, CheckName, CheckResult, CheckSeverity } from '../types.ts';

/** How long a problem that stays present waits before it is sent again. */
export const ALERT_REPEAT_MS = 3_600_000;

/** Largest JSON size of an alert's details; beyond it a truncated preview is sent. */
export const ALERT_DETAILS_MAX_CHARS = 4096;

/** One alert to deliver: a problem found (again) or cleared. */
export interface AlertMessage {
  status: 'firing' | 'resolved';
  key: string;
  entity: string;
  check: CheckName;
  /** The check's severity this run ('ok' when resolved). */
  severity: CheckSeverity;
  /** Firing: what was found; resolved: what the problem was. */
  summary: string;
  count: number;
  details: Record<string, unknown>;
  /** When the problem was first seen (ISO). */
  since: string;
}

/** The JSON body posted to the webhook; `text` alone is what a Slack-style incoming webhook shows. */
export interface AlertPayload {
  text: string;
  status: 'firing' | 'resolved';
  problem: CheckName;
  entity: string;
  severity: CheckSeverity;
  summary: string;
  count: number;
  details: Record<string, unknown>;
  since: string;
  dashboard: string | null;
}

/** The key of an entity's check in the active alerts. */
export function alertKey(entity: string, check: CheckName): string {
  return `${entity}:${check}`;
}

const SEVERITY_RANK: Record<CheckSeverity, number> = { ok: 0, warning: 1, error: 2 };

/**
 * The messages to send for one run's results (after fixes: a repaired problem is ok) and the
 * active alerts that follow. Only keys of checks present in `results` are touched: a check not
 * evaluated this run keeps its alert as it is.
 */
export function planAlerts(
  active: Readonly<Record<string, ActiveAlert>>,
  results: readonly CheckResult[],
  now: number,
  repeatMs: number = ALERT_REPEAT_MS,
): { messages: AlertMessage[]; active: Record<string, ActiveAlert> } {
  const nowIso = new Date(now).toISOString();
  const next = new Map<string, ActiveAlert>(Object.entries(active));
  const messages: AlertMessage[] = [];

  // A check reported twice in one run counts once, at its worst severity.
  const byKey = new Map<string, CheckResult>();
  for (const result of results) {
    const key = alertKey(result.entity, result.check);
    const seen = byKey.get(key);
    if (!seen || SEVERITY_RANK[result.severity] > SEVERITY_RANK[seen.severity]) byKey.set(key, result);
  }

  for (const [key, result] of byKey) {
    const current = next.get(key);
    const base = { key, entity: result.entity, check: result.check, count: result.count, details: result.details };
    if (result.severity === 'ok') {
      if (!current) continue;
      messages.push({ ...base, status: 'resolved', severity: 'ok', summary: current.summary, since: current.since });
      next.delete(key);
      continue;
    }
    if (!current) {
      next.set(key, { key, entity: result.entity, check: result.check, summary: result.summary, since: nowIso, lastSentAt: nowIso });
      messages.push({ ...base, status: 'firing', severity: result.severity, summary: result.summary, since: nowIso });
      continue;
    }
    // lastSentAt null: never sent (state written by an older version, or by hand) — send now.
    const lastSent = current.lastSentAt === null ? Number.NaN : Date.parse(current.lastSentAt);
    const due = Number.isNaN(lastSent) || now - lastSent >= repeatMs;
    // The summary follows the problem (counts change) even when nothing is sent.
    next.set(key, { ...current, summary: result.summary, lastSentAt: due ? nowIso : current.lastSentAt });
    if (due) messages.push({ ...base, status: 'firing', severity: result.severity, summary: result.summary, since: current.since });
  }
  return { messages, active: Object.fromEntries(next) };
}

/** Slack's mrkdwn reads `&`, `<` and `>` as markup; a summary is plain text. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Details bounded in size: a webhook (Slack: 40 KB per message) must not refuse the alert over them. */
function boundedDetails(details: Record<string, unknown>, maxChars: number): Record<string, unknown> {
  const json = JSON.stringify(details);
  if (json.length <= maxChars) return details;
  // The preview is itself escaped once more inside the JSON; shrink it until the whole fits.
  let take = maxChars;
  for (;;) {
    const bounded = { truncated: true, chars: json.length, preview: json.slice(0, take) };
    const over = JSON.stringify(bounded).length - maxChars;
    if (over <= 0 || take === 0) return bounded;
    take = Math.max(0, take - over);
  }
}

/** The webhook body for a message, with a one-line `text` and the dashboard link when known. */
export function alertPayload(message: AlertMessage, dashboardUrl: string | null): AlertPayload {
  const head = message.status === 'resolved' ? '[sync] RESOLVED ' : '[sync] ';
  const tail =
    message.status === 'resolved' ? `(was firing since ${message.since})` : `(${message.severity}, firing since ${message.since})`;
  const link = dashboardUrl === null ? '' : ` <${dashboardUrl}>`;
  const text = `${head}${escapeSlack(message.entity)}: ${message.check} — ${escapeSlack(message.summary)} ${tail}${link}`;
  return {
    text,
    status: message.status,
    problem: message.check,
    entity: message.entity,
    severity: message.severity,
    summary: message.summary,
    count: message.count,
    details: boundedDetails(message.details, ALERT_DETAILS_MAX_CHARS),
    since: message.since,
    dashboard: dashboardUrl,
  };
}
