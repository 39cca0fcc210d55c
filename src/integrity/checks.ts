/**
 * The consistency checks of one entity, as pure functions from measurements to CheckResults.
 * The measurements come from src/stores/integrity.ts (D1), reconciliation and the coordinator's
 * status; fixes are filled in later by the orchestrator (`withFix`). Every result carries a
 * one-line summary for operators and details bounded in size (samples of at most 20 ids).
 */
import { pushes, type EntityDefinition } from '../entities.ts';
import type { CheckName, CheckResult, CheckSeverity, DriftSummary, SideCounts } from '../types.ts';

/** At most this many ids in any sample of a result's details. */
export const SAMPLE_LIMIT = 20;

/** Outbox entries older than this count as push backlog (the store query's cut-off). */
export const BACKLOG_AGE_MS = 3_600_000;

/** A backlog entry older than this is an error: the push has not moved for a day. */
export const BACKLOG_ERROR_AGE_MS = 86_400_000;

/** One kind of invalid content in one column, as findInvalidStates measures it. */
export interface InvalidFinding {
  column: string;
  /** value: outside the allowed set; timestamp/date: not canonical; key: not a lower-case uuid. */
  kind: 'value' | 'timestamp' | 'date' | 'key';
  count: number;
  /** Ids of some offending rows. */
  sample: string[];
}

/** What the stale check looks at, from the entity's coordinator status. */
export interface StaleFacts {
  paused: boolean;
  lastSuccessAt: string | null;
  nextAlarmAt: string | null;
  /** A run is in progress: its alarm is re-armed when it ends. */
  leaseHeld: boolean;
  intervalMs: number;
  maxRunMs: number;
  now: number;
}

function result(
  check: CheckName,
  entity: string,
  severity: CheckSeverity,
  count: number,
  summary: string,
  details: CheckResult['details'],
): CheckResult {
  return { check, entity, severity, count: severity === 'ok' ? 0 : count, summary, details, fixed: 0, fix: null };
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

function plural(value: number, one: string, many = `${one}s`): string {
  return `${n(value)} ${value === 1 ? one : many}`;
}

function sample<T>(items: readonly T[]): T[] {
  return items.slice(0, SAMPLE_LIMIT);
}

/** Epoch ms of an ISO/canonical timestamp, or null when absent or unparseable. */
function epochMs(at: string | null): number | null {
  if (at === null) return null;
  // Date.parse is only specified for milliseconds: the canonical form carries microseconds.
  const ms = Date.parse(at.length === 27 && at.endsWith('Z') ? `${at.slice(0, 23)}Z` : at);
  return Number.isNaN(ms) ? null : ms;
}

/** Milliseconds since a timestamp, or null when absent or unparseable. */
function ageMs(at: string | null, now: number): number | null {
  const ms = epochMs(at);
  return ms === null ? null : now - ms;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

/** The result with what the fix did. */
export function withFix(result: CheckResult, fixed: number, fix: string): CheckResult {
  return { ...result, fixed, fix };
}

/** Which checks apply to an entity. */
export function checksFor(entity: EntityDefinition): CheckName[] {
  const has = (column: string): boolean => Object.hasOwn(entity.columns, column);
  const checks: CheckName[] = ['row_counts', 'replica_drift'];
  if (has('prospect_id') && has('direction')) checks.push('orphans');
  if (has('message_id')) checks.push('duplicate_message_ids');
  checks.push('invalid_states');
  if (pushes(entity)) checks.push('push_backlog');
  checks.push('stale_entity', 'quarantine_growth');
  return checks;
}

/**
 * Row counts of both sides. Rows with pending outbox entries or in quarantine (`excused`) may
 * legitimately differ, so they are taken off the difference before it meets the tolerance.
 */
export function rowCountsCheck(
  entity: string,
  counts: { d1: number; supabase: number },
  excused: number,
  tolerance: number,
): { result: CheckResult; counts: SideCounts } {
  const raw = Math.abs(counts.d1 - counts.supabase);
  const difference = Math.max(0, raw - Math.max(0, excused));
  const limit = Math.max(0, tolerance);
  const severity: CheckSeverity = difference === 0 ? 'ok' : difference > limit ? 'error' : 'warning';
  const excusedText = excused > 0 ? `; ${n(excused)} pending push or quarantined not counted` : '';
  const summary =
    difference === 0
      ? `D1 ${plural(counts.d1, 'row')}, Supabase ${plural(counts.supabase, 'row')}${excusedText}`
      : `D1 has ${plural(difference, 'row')} ${counts.d1 < counts.supabase ? 'fewer' : 'more'} than Supabase ` +
        `(${n(counts.d1)} vs ${n(counts.supabase)}${excusedText}; tolerance ${n(limit)})`;
  return {
    result: result('row_counts', entity, severity, difference, summary, {
      d1: counts.d1,
      supabase: counts.supabase,
      excused,
      difference,
      tolerance: limit,
    }),
    counts: { d1: counts.d1, supabase: counts.supabase, difference },
  };
}

/**
 * What reconciliation found. `count` is the differing rows that neither the push (pending outbox
 * entries) nor the quarantine owns: the rows a fix must repair.
 */
export function driftCheck(entity: string, drift: DriftSummary, sampleIds: readonly string[]): CheckResult {
  const unresolved = Math.max(0, drift.found - drift.pendingPush - drift.quarantined);
  // Rows the push or the quarantine owns are reported in the summary, not raised: the push
  // takes them within minutes, and the quarantine shows (and alerts on growth of) the rest.
  const severity: CheckSeverity = unresolved > 0 ? 'error' : 'ok';
  const kinds: [string, number][] = [
    ['missing in D1', drift.missing],
    ['extra in D1', drift.extra],
    ['older in D1', drift.olderInD1],
    ['newer in D1', drift.newerInD1],
    ['same updated_at with other content', drift.sameVersionOtherContent],
  ];
  const parts = kinds.filter(([, count]) => count > 0).map(([label, count]) => `${n(count)} ${label}`);
  const pending =
    (drift.pendingPush > 0 ? `; ${n(drift.pendingPush)} pending push` : '') +
    (drift.quarantined > 0 ? `; ${n(drift.quarantined)} in quarantine` : '');
  const summary =
    drift.found === 0
      ? 'D1 and Supabase hold the same rows'
      : `${plural(drift.found, 'row')} differ${drift.found === 1 ? 's' : ''}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}${pending}`;
  return result('replica_drift', entity, severity, unresolved, summary, {
    missing: drift.missing,
    extra: drift.extra,
    olderInD1: drift.olderInD1,
    newerInD1: drift.newerInD1,
    sameVersionOtherContent: drift.sameVersionOtherContent,
    pendingPush: drift.pendingPush,
    quarantined: drift.quarantined,
    found: drift.found,
    repaired: drift.repaired,
    supabaseRequests: drift.supabaseRequests,
    d1RowsRead: drift.d1RowsRead,
    sample: sample(sampleIds),
  });
}

/** Outbound emails whose prospect is missing in D1: a warning, the email itself is fine. */
export function orphansCheck(entity: string, found: { count: number; sample: readonly { id: string; prospectId: string }[] }): CheckResult {
  const summary =
    found.count === 0
      ? 'every outbound email has its prospect in D1'
      : `${plural(found.count, 'outbound email')} reference${found.count === 1 ? 's' : ''} a prospect missing in D1`;
  return result('orphans', entity, found.count > 0 ? 'warning' : 'ok', found.count, summary, {
    count: found.count,
    sample: sample(found.sample).map((o) => ({ id: o.id, prospectId: o.prospectId })),
  });
}

/** Rows sharing a message_id; every row beyond the first of its group counts. */
export function duplicatesCheck(entity: string, groups: readonly { messageId: string; ids: readonly string[] }[]): CheckResult {
  const duplicated = groups.filter((g) => g.ids.length > 1);
  const count = duplicated.reduce((sum, g) => sum + g.ids.length - 1, 0);
  // At most SAMPLE_LIMIT ids over all sampled groups, whole groups first.
  const sampled: { messageId: string; ids: string[] }[] = [];
  let budget = SAMPLE_LIMIT;
  for (const g of duplicated) {
    if (budget <= 0) break;
    const ids = g.ids.slice(0, budget);
    sampled.push({ messageId: g.messageId, ids });
    budget -= ids.length;
  }
  const summary =
    count === 0
      ? 'no duplicate message_id'
      : `${plural(duplicated.length, 'message_id')} on more than one row (${plural(count, 'extra row')})`;
  return result('duplicate_message_ids', entity, count > 0 ? 'error' : 'ok', count, summary, {
    groups: duplicated.length,
    rows: count,
    sample: sampled,
  });
}

const KIND_TEXT: Record<InvalidFinding['kind'], string> = {
  value: 'outside the allowed values',
  timestamp: 'not canonical timestamps',
  date: 'not YYYY-MM-DD dates',
  key: 'not lower-case uuids',
};

/** Values outside their allowed sets, non-canonical timestamps and dates, keys that are not lower-case uuids. */
export function invalidStatesCheck(entity: string, findings: readonly InvalidFinding[]): CheckResult {
  const found = findings.filter((f) => f.count > 0);
  const count = found.reduce((sum, f) => sum + f.count, 0);
  const summary =
    count === 0
      ? 'every value allowed, every timestamp and key canonical'
      : `${plural(count, 'invalid value')}: ${found.map((f) => `${f.column} ${n(f.count)} ${KIND_TEXT[f.kind]}`).join(', ')}`;
  return result('invalid_states', entity, count > 0 ? 'error' : 'ok', count, summary, {
    findings: found.map((f) => ({ column: f.column, kind: f.kind, count: f.count, sample: sample(f.sample) })),
  });
}

/**
 * Push backlog: outbox entries older than an hour. A warning beyond `threshold` entries; an
 * error once the oldest is a day old, whatever the threshold (the push has stopped moving).
 */
export function backlogCheck(
  entity: string,
  aged: { count: number; oldestAt: string | null },
  threshold: number,
  now: number,
): CheckResult {
  const age = aged.count > 0 ? ageMs(aged.oldestAt, now) : null;
  const dayOld = age !== null && age > BACKLOG_ERROR_AGE_MS;
  const severity: CheckSeverity = dayOld ? 'error' : aged.count > Math.max(0, threshold) ? 'warning' : 'ok';
  const oldest = age === null ? '' : `, the oldest ${formatAge(age)} old`;
  const summary =
    aged.count === 0
      ? 'no outbox entry older than an hour'
      : `${plural(aged.count, 'outbox entry', 'outbox entries')} older than an hour${oldest}` +
        (severity === 'ok' ? ` (within the threshold of ${n(threshold)})` : '');
  return result('push_backlog', entity, severity, aged.count, summary, {
    count: aged.count,
    threshold,
    oldestAt: aged.oldestAt,
    oldestAgeSeconds: seconds(age),
  });
}

function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${n(minutes)} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${n(hours)} h`;
  return `${n(Math.floor(hours / 24))} days`;
}

/**
 * Stale entity: no successful run within three intervals, or (not paused, no run in progress)
 * no alarm due within one interval; maxRunMs of slack on both, as a run may take that long.
 * A paused entity is only a warning: it was paused on purpose.
 */
export function staleCheck(entity: string, facts: StaleFacts): CheckResult {
  const sinceSuccess = ageMs(facts.lastSuccessAt, facts.now);
  const alarmAt = epochMs(facts.nextAlarmAt);
  const untilAlarm = alarmAt === null ? null : alarmAt - facts.now;
  const successLimit = 3 * facts.intervalMs + facts.maxRunMs;
  const alarmLimit = facts.intervalMs + facts.maxRunMs;
  const reasons: string[] = [];
  if (facts.paused) {
    reasons.push('paused: no runs until resumed');
  } else {
    if (sinceSuccess === null) reasons.push('no successful run yet');
    else if (sinceSuccess > successLimit) reasons.push(`no successful run for ${formatAge(sinceSuccess)}`);
    // A run in progress re-arms the alarm when it ends.
    if (!facts.leaseHeld && (untilAlarm === null || untilAlarm > alarmLimit)) {
      reasons.push(untilAlarm === null ? 'no alarm set' : `next alarm only in ${formatAge(untilAlarm)}`);
    }
  }
  const severity: CheckSeverity = facts.paused ? 'warning' : reasons.length > 0 ? 'error' : 'ok';
  const summary = reasons.length === 0 ? 'runs on schedule' : reasons.join('; ');
  return result('stale_entity', entity, severity, 1, summary, {
    paused: facts.paused,
    leaseHeld: facts.leaseHeld,
    lastSuccessAt: facts.lastSuccessAt,
    lastSuccessAgeSeconds: seconds(sinceSuccess),
    nextAlarmAt: facts.nextAlarmAt,
    nextAlarmInSeconds: untilAlarm === null ? null : Math.ceil(untilAlarm / 1000),
    intervalMs: facts.intervalMs,
    maxRunMs: facts.maxRunMs,
    reasons,
  });
}

/** Quarantine that grew since the previous integrity run (null: no previous run to compare with). */
export function quarantineGrowthCheck(entity: string, now: number, previous: number | null): CheckResult {
  const growth = previous === null ? 0 : Math.max(0, now - previous);
  const summary =
    growth > 0
      ? `quarantine grew by ${n(growth)} to ${n(now)} since the previous check`
      : `${plural(now, 'row')} in quarantine${previous === null ? '' : `, ${n(previous)} at the previous check`}`;
  return result('quarantine_growth', entity, growth > 0 ? 'warning' : 'ok', growth, summary, { now, previous });
}
