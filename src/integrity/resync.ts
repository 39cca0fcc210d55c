/**
 * A full resync without an empty window, as a resumable job of three phases:
 * start (under the lease: the pull position goes back to the beginning, or a pushed table's rows
 * are queued again) → reread (the ordinary sync runs re-read every row, upserting in place, so
 * readers never see a row disappear) → sweep (an integrity run with fix and reconciliation
 * removes the rows absent upstream, except those with pending outbox entries, which the push
 * owns). Pure: the coordinator persists the job and acts on its phase.
 */
import type { IntegrityJobStatus, IntegrityTrigger } from '../types.ts';

/** A persisted resync. */
export interface ResyncJob {
  trigger: IntegrityTrigger;
  requestedAt: string;
  phase: 'start' | 'reread' | 'sweep';
  /** When the re-read began (ms): only a run started after it can finish it. */
  rereadFrom: number | null;
}

/** A resync asked for now; a pending one is kept (asking twice does not restart it). */
export function requestResync(pending: ResyncJob | undefined, trigger: IntegrityTrigger, now: number): ResyncJob {
  return pending ?? { trigger, requestedAt: new Date(now).toISOString(), phase: 'start', rereadFrom: null };
}

/** The job once its start step ran. */
export function resyncStarted(job: ResyncJob, now: number): ResyncJob {
  return { ...job, phase: 'reread', rereadFrom: now };
}

/** After a sync run: a caught-up run that started during the re-read completes it. */
export function afterSyncRun(job: ResyncJob, caughtUp: boolean, runStartedMs: number): ResyncJob {
  if (job.phase !== 'reread' || !caughtUp || job.rereadFrom === null || runStartedMs < job.rereadFrom) return job;
  return { ...job, phase: 'sweep' };
}

/** The job as the status shows it. */
export function resyncStatus(job: ResyncJob): IntegrityJobStatus {
  const progress = {
    start: 'waiting for the lease to start',
    reread: 're-reading every row (the sync runs upsert in place)',
    sweep: 'removing rows absent upstream (reconciliation with fix)',
  }[job.phase];
  return { kind: 'resync', requestedAt: job.requestedAt, trigger: job.trigger, fix: true, phase: job.phase, progress };
}
