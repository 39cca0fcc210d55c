/**
 * One integrity run of one entity: reconciliation of both sides (one key segment per step, so a
 * large table continues across alarms), then the other checks, each with its fix when asked.
 * The coordinator runs every step under the entity's lease and persists the job between steps;
 * nothing here knows Durable Objects. Checks are pure (checks.ts); reads are in stores/.
 */
import { findEntity, pushes, type EntityDefinition, type Row } from '../entities.ts';
import type { Fence } from '../stores/d1-contract.ts';
import { applyPulledRows } from '../stores/d1.ts';
import {
  agedOutboxBacklog,
  countD1Rows,
  findDuplicateMessageIds,
  findInvalidStates,
  findOrphanEmails,
  pendingRowIds,
} from '../stores/integrity.ts';
import type { ReconcileSupabase } from '../stores/reconcile.ts';
import { toD1Row } from '../sync/rows.ts';
import { canonicalFromMillis } from '../timestamps.ts';
import type { CheckName, CheckResult, DriftSummary, IntegrityRun, IntegrityTrigger, SideCounts } from '../types.ts';
import {
  BACKLOG_AGE_MS,
  backlogCheck,
  checksFor,
  driftCheck,
  duplicatesCheck,
  invalidStatesCheck,
  orphansCheck,
  quarantineGrowthCheck,
  rowCountsCheck,
  staleCheck,
  withFix,
} from './checks.ts';
import { keySegments, segmentCountFor } from './digest.ts';
import { driftIds } from './drift.ts';
import { isClean, reconcileEntity, repairDrift } from './reconcile.ts';

/** Sample ids kept per run for operators (details stay small). */
const SAMPLE = 20;

/** A persisted, resumable integrity run. */
export interface IntegrityJob {
  runId: string;
  trigger: IntegrityTrigger;
  fix: boolean;
  /** Whether to compare every row (a digest pass) or only count. */
  reconcile: boolean;
  requestedAt: string;
  startedAt: string | null;
  /** The key segments of this run (empty until the first step picks them). */
  segments: string[];
  /** Segments done. */
  done: number;
  drift: DriftSummary;
  d1Rows: number;
  supabaseRows: number;
  /** Differing row ids, up to SAMPLE. */
  sample: string[];
  /** Supabase rows that did not fit the registry during repair (the pull quarantines them too). */
  rejected: number;
}

/** A new job, not started. */
export function newIntegrityJob(runId: string, trigger: IntegrityTrigger, fix: boolean, reconcile: boolean, now: number): IntegrityJob {
  return {
    runId,
    trigger,
    fix,
    reconcile,
    requestedAt: new Date(now).toISOString(),
    startedAt: null,
    segments: [],
    done: 0,
    drift: emptyDrift(),
    d1Rows: 0,
    supabaseRows: 0,
    sample: [],
    rejected: 0,
  };
}

/** Merges a later request into a pending job: fix and reconcile only ever widen. */
export function mergeIntegrityJob(job: IntegrityJob, fix: boolean, reconcile: boolean): IntegrityJob {
  // A job that already started keeps its segments; widening reconcile afterwards restarts none.
  return { ...job, fix: job.fix || fix, reconcile: job.reconcile || (job.startedAt === null && reconcile) };
}

/** "key ranges 2/4" and the like, for the status. */
export function jobProgress(job: IntegrityJob): string {
  if (job.startedAt === null) return 'queued';
  if (!job.reconcile) return 'checking';
  return job.done < job.segments.length ? `key ranges ${job.done}/${job.segments.length}` : 'checks';
}

/** What the checks found about the entity that only the coordinator knows. */
export interface CoordinatorFacts {
  paused: boolean;
  lastSuccessAt: string | null;
  nextAlarmAt: string | null;
  intervalMs: number;
  maxRunMs: number;
  quarantined: number;
  /** The quarantine count at the previous integrity run, if any. */
  previousQuarantined: number | null;
}

/** The I/O an integrity step needs; the coordinator wires it. */
export interface IntegrityIO {
  db: D1Database;
  supabase: ReconcileSupabase;
  entity: EntityDefinition;
  fence: Fence;
  /** The push cursor: outbox entries after it are pending. */
  pushCursor: number;
  now: () => number;
  /** A step stops between segments past this time and continues in the next one. */
  deadline: number;
  /** Throws once the run lost its lease (LeaseLostError); called before every write. */
  holding: () => void;
  /** Rows in the entity's quarantine (either direction). */
  quarantinedIds: () => ReadonlySet<string>;
  /** Rows set aside by earlier fixes. */
  heldIds: () => ReadonlySet<string>;
  /** Sets rows aside: not pushed, not retried, until an operator releases them. */
  hold: (rows: readonly { rowId: string; reason: string; check: CheckName }[]) => void;
  facts: () => CoordinatorFacts;
  /** Rows the count may differ by before row_counts is an error (the spec's 50; default 0). */
  countTolerance: number;
  /** Aged outbox entries tolerated before push_backlog warns. */
  backlogThreshold: number;
  /** The table's size at the previous run (sizes the segments); null: ask Supabase. */
  previousRows: number | null;
}

/** What the coordinator does after a finished run. */
export interface IntegrityActions {
  /** Run the push now (a backlog was found and fix was asked). */
  triggerSync: boolean;
  /** Make sure an alarm is due within one interval (the entity looked stale). */
  ensureAlarm: boolean;
}

/** One step: either the job continues (`run` null) or it finished with its run. */
export type IntegrityStep = { job: IntegrityJob; run: null } | { job: IntegrityJob; run: IntegrityRun; actions: IntegrityActions };

/** Advances a job by as many key segments as fit before the deadline; finishes it when all are done. */
export async function stepIntegrity(jobIn: IntegrityJob, io: IntegrityIO): Promise<IntegrityStep> {
  const job: IntegrityJob = { ...jobIn, drift: { ...jobIn.drift }, sample: [...jobIn.sample] };
  job.startedAt ??= new Date(io.now()).toISOString();
  const { entity } = io;

  if (job.reconcile && job.segments.length === 0) {
    const rows = io.previousRows ?? (await io.supabase.count(entity));
    job.drift.supabaseRequests += io.previousRows === null ? 1 : 0;
    job.segments = keySegments(segmentCountFor(rows));
  }
  while (job.reconcile && job.done < job.segments.length) {
    if (job.done > jobIn.done && io.now() >= io.deadline) return { job, run: null };
    const segment = job.segments.length === 1 ? undefined : job.segments[job.done];
    await reconcileSegment(job, io, segment);
    job.done += 1;
  }
  return finish(job, io);
}

/** Reconciles one segment (or the whole table) and repairs it when fix is on. */
async function reconcileSegment(job: IntegrityJob, io: IntegrityIO, segment: string | undefined): Promise<void> {
  const report = await reconcileEntity(io.db, io.supabase, io.entity, {
    pushCursor: io.pushCursor,
    now: io.now,
    ...(segment === undefined ? {} : { segment }),
  });
  const d = job.drift;
  d.missing += report.missing.length;
  d.extra += report.extra.length;
  d.olderInD1 += report.olderInD1.length;
  d.newerInD1 += report.newerInD1.length;
  d.sameVersionOtherContent += report.sameVersionOtherContent.length;
  d.pendingPush += report.pendingPush.length;
  const ids = driftIds(report);
  const pending = new Set(report.pendingPush);
  const quarantined = io.quarantinedIds();
  d.quarantined += ids.filter((id) => !pending.has(id) && quarantined.has(id)).length;
  d.found += ids.length;
  d.supabaseRequests += report.supabaseRequests;
  d.d1RowsRead += report.d1RowsRead;
  job.d1Rows += report.d1Rows;
  job.supabaseRows += report.supabaseRows;
  for (const id of ids) if (job.sample.length < SAMPLE) job.sample.push(id);
  if (!job.fix || isClean(report)) return;
  io.holding();
  const repair = await repairDrift(io.db, io.supabase, io.entity, report, { fence: io.fence, pushCursor: io.pushCursor });
  d.repaired += repair.applied + repair.deleted + repair.requeued.length;
  d.supabaseRequests += repair.supabaseRequests;
  d.d1RowsRead += repair.d1RowsRead;
  job.rejected += repair.rejected.length;
}

/** The checks after reconciliation, their fixes, and the run record. */
async function finish(job: IntegrityJob, io: IntegrityIO): Promise<IntegrityStep> {
  const { entity, db } = io;
  const applies = new Set(checksFor(entity));
  const checks: CheckResult[] = [];
  const actions: IntegrityActions = { triggerSync: false, ensureAlarm: false };
  const drift = job.drift;
  const read = (n: number): void => {
    drift.d1RowsRead += n;
  };

  // Rows in flight (pending outbox entries) or in quarantine may differ without being wrong.
  let pendingCount = 0;
  if (pushes(entity)) {
    const pending = await pendingRowIds(db, entity, io.pushCursor);
    read(pending.rowsRead);
    pendingCount = pending.ids.size;
  }
  const facts = io.facts();

  let sideCounts: { d1: number; supabase: number };
  if (!job.reconcile || (job.fix && drift.repaired > 0)) {
    const d1 = await countD1Rows(db, entity);
    read(d1.rowsRead);
    drift.supabaseRequests += 1;
    sideCounts = { d1: d1.count, supabase: await io.supabase.count(entity) };
  } else {
    sideCounts = { d1: job.d1Rows, supabase: job.supabaseRows };
  }
  const counted = rowCountsCheck(entity.name, sideCounts, pendingCount + facts.quarantined, io.countTolerance);
  const counts: SideCounts = counted.counts;
  checks.push(counted.result);

  if (job.reconcile) {
    const result = driftCheck(entity.name, drift, job.sample);
    checks.push(job.fix && drift.found > 0 ? withFix(result, drift.repaired, repairText(entity, drift, job.rejected)) : result);
  }

  if (applies.has('invalid_states')) {
    const invalid = await findInvalidStates(db, entity);
    read(invalid.rowsRead);
    checks.push(invalidStatesCheck(entity.name, invalid.findings));
  }

  if (applies.has('orphans')) checks.push(await orphans(job, io, read));
  if (applies.has('duplicate_message_ids')) checks.push(await duplicates(job, io, read));

  if (applies.has('push_backlog')) {
    const aged = await agedOutboxBacklog(db, entity, io.pushCursor, canonicalFromMillis(io.now() - BACKLOG_AGE_MS));
    read(aged.rowsRead);
    const result = backlogCheck(entity.name, aged, io.backlogThreshold, io.now());
    if (job.fix && result.severity !== 'ok') {
      actions.triggerSync = true;
      checks.push(withFix(result, 0, 'push triggered now'));
    } else {
      checks.push(result);
    }
  }

  if (applies.has('stale_entity')) {
    const result = staleCheck(entity.name, { ...facts, leaseHeld: false, now: io.now() });
    if (job.fix && result.severity !== 'ok' && !facts.paused) {
      actions.ensureAlarm = true;
      checks.push(withFix(result, 1, 'an alarm is armed to run now'));
    } else {
      checks.push(result);
    }
  }
  if (applies.has('quarantine_growth')) checks.push(quarantineGrowthCheck(entity.name, facts.quarantined, facts.previousQuarantined));

  const finishedAt = new Date(io.now()).toISOString();
  const run: IntegrityRun = {
    runId: job.runId,
    entity: entity.name,
    startedAt: job.startedAt ?? finishedAt,
    finishedAt,
    trigger: job.trigger,
    fix: job.fix,
    reconciled: job.reconcile,
    ok: afterFixes(checks).every((c) => c.severity === 'ok'),
    counts,
    drift: job.reconcile ? drift : null,
    checks,
    error: null,
  };
  return { job, run, actions };
}

/** Outbound emails whose prospect D1 lacks: fetch the prospects by id; hold an email only if its prospect exists nowhere. */
async function orphans(job: IntegrityJob, io: IntegrityIO, read: (n: number) => void): Promise<CheckResult> {
  const { db, entity } = io;
  const found = await findOrphanEmails(db, entity);
  read(found.rowsRead);
  if (!job.fix || found.count === 0) return orphansCheck(entity.name, withoutHeld(found, io.heldIds()));
  const prospects = findEntity('prospects');
  let fetched = 0;
  if (prospects && found.prospectIds.length > 0) {
    const rows = await io.supabase.readRows(prospects, found.prospectIds);
    job.drift.supabaseRequests += Math.ceil(found.prospectIds.length / 1000);
    const apply: Row[] = [];
    for (const raw of rows) {
      const checked = toD1Row(prospects, raw);
      if (checked.ok) apply.push(checked.row);
    }
    io.holding();
    fetched = (await applyPulledRows(db, prospects, apply, io.fence)).applied;
  }
  const before = withoutHeld(found, io.heldIds());
  const after = await findOrphanEmails(db, entity, 1000);
  read(after.rowsRead);
  const held = io.heldIds();
  const toHold = after.sample.filter((o) => !held.has(o.id));
  io.holding();
  io.hold(
    toHold.map((o) => ({
      rowId: o.id,
      reason: `orphan: prospect ${o.prospectId} exists in neither D1 nor Supabase`,
      check: 'orphans' as const,
    })),
  );
  const remaining = Math.max(0, after.count - countHeld(after.sample, held) - toHold.length);
  return withFix(
    orphansCheck(entity.name, before),
    Math.max(0, before.count - remaining),
    `fetched ${fetched} prospect(s) from Supabase; held ${toHold.length} email(s) whose prospect exists nowhere`,
  );
}

/** Duplicate message_ids: keep the earliest email of each, hold the rest. */
async function duplicates(job: IntegrityJob, io: IntegrityIO, read: (n: number) => void): Promise<CheckResult> {
  const { db, entity } = io;
  const found = await findDuplicateMessageIds(db, entity);
  read(found.rowsRead);
  const held = io.heldIds();
  // A group whose later rows are all held is settled: it stays visible as held, not as a problem.
  const open = found.groups.filter((g) => g.ids.slice(1).some((id) => !held.has(id)));
  const result = duplicatesCheck(entity.name, open);
  if (!job.fix || open.length === 0) return result;
  const toHold = open.flatMap((g) =>
    g.ids
      .slice(1)
      .filter((id) => !held.has(id))
      .map((id) => ({
        rowId: id,
        reason: `duplicate message_id ${g.messageId}: ${g.ids[0] ?? '?'} is kept`,
        check: 'duplicate_message_ids' as const,
      })),
  );
  io.holding();
  io.hold(toHold);
  return withFix(result, toHold.length, `kept the earliest email of each message_id, held ${toHold.length}`);
}

/** The checks as alerts see them: a problem its fix fully repaired is ok. */
export function afterFixes(checks: readonly CheckResult[]): CheckResult[] {
  return checks.map((c) => (c.severity !== 'ok' && c.fix !== null && c.fixed >= c.count ? { ...c, severity: 'ok' } : c));
}

function withoutHeld(found: { count: number; sample: { id: string; prospectId: string }[] }, held: ReadonlySet<string>) {
  const heldHere = countHeld(found.sample, held);
  return { count: Math.max(0, found.count - heldHere), sample: found.sample.filter((o) => !held.has(o.id)) };
}

function countHeld(sample: readonly { id: string }[], held: ReadonlySet<string>): number {
  return sample.filter((o) => held.has(o.id)).length;
}

function repairText(entity: EntityDefinition, d: DriftSummary, rejected: number): string {
  const how = entity.direction === 'push' ? 'queued D1’s version for push' : 'took Supabase’s version';
  const parts = [`repaired ${d.repaired} row(s) (${how})`];
  if (d.pendingPush > 0) parts.push(`${d.pendingPush} left to the push (pending outbox entries)`);
  if (rejected > 0) parts.push(`${rejected} Supabase row(s) did not fit the registry (see the quarantine)`);
  return parts.join('; ');
}

function emptyDrift(): DriftSummary {
  return {
    missing: 0,
    extra: 0,
    olderInD1: 0,
    newerInD1: 0,
    sameVersionOtherContent: 0,
    pendingPush: 0,
    quarantined: 0,
    found: 0,
    repaired: 0,
    supabaseRequests: 0,
    d1RowsRead: 0,
  };
}
