/**
 * What the buttons do. Each action marks its button busy (aria-disabled keeps focus on it),
 * reports the result or the API's error in the status line (and on the card), then refreshes.
 */
import type { EntityIntegrity, EntityStatus, IntegrityJobStatus, IntegrityRequestResult, SyncNowResult } from '../../types.ts';
import { api, AuthError, conflictText, describeError, errorText, type Session } from './api.ts';
import type { Card, CardActions } from './cards.ts';
import { byId, el, isBusy, setBusy, setChildren } from './dom.ts';
import { briefError, duration, plural, shortId } from './format.ts';
import { describeIntegrityResult, integrityState, showIntegrityBusy, type IntegrityActions } from './integrity.ts';
import { say, type Tone } from './status-line.ts';

/** What the actions need from the page. */
export interface PageContext {
  session: Session;
  refresh(): Promise<void>;
  /** The entity's latest status, or null before the first refresh. */
  status(entity: string): EntityStatus | null;
}

/** Every action of the page, bound to it. */
export interface Actions extends CardActions, IntegrityActions {
  syncAll(): void;
  fullResync(): void;
}

/** Binds the actions to the page. */
export function createActions(page: PageContext): Actions {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the answer's type: act hands it from api<T>() to describe
  async function act<T>(button: HTMLElement, card: Card | null, label: string, path: string, describe: (data: T) => string): Promise<void> {
    if (isBusy(button)) return;
    setBusy(button, true);
    say(`${label}\u2026`, 'info');
    if (card) {
      card.result.removeAttribute('data-tone');
      card.result.textContent = `${label}\u2026`;
    }
    const show = (message: string, tone: Tone): void => {
      say(message, tone);
      if (card) {
        card.result.setAttribute('data-tone', tone);
        card.result.textContent = message;
      }
    };
    try {
      const res = await api<T>(page.session, 'POST', path, {});
      if (res.ok) show(`${label}: ${describe(res.data)}`, 'ok');
      else if (res.status === 409) show(`${label} refused \u2013 a run is in progress: ${conflictText(res)}`, 'error');
      else show(`${label} failed: ${errorText(res)}`, 'error');
    } catch (e) {
      if (!(e instanceof AuthError)) show(`${label} failed: ${describeError(e)}`, 'error');
    }
    setBusy(button, false);
    await page.refresh();
  }

  const entityPath = (name: string, action: string): string => `/objects/${encodeURIComponent(name)}/${action}`;

  function integritySay(message: string, tone: Tone): void {
    say(message, tone);
    const line = byId('integrity-result');
    line.setAttribute('data-tone', tone);
    line.textContent = message;
  }

  /** Release or delete one held row; refused (409) while a run holds the entity's lease. */
  async function heldAction(entity: string, rowId: string, button: HTMLButtonElement, verb: 'release' | 'delete'): Promise<void> {
    const key = button.getAttribute('data-key') ?? '';
    if (integrityState.heldBusy.has(key)) return;
    integrityState.heldBusy.add(key);
    setBusy(button, true);
    const label = `${verb === 'release' ? 'Release' : 'Delete'} ${entity} row ${shortId(rowId)}`;
    say(`${label}\u2026`, 'info');
    try {
      const res = await api<{ released?: string[]; deleted?: string[] }>(page.session, 'POST', entityPath(entity, `held/${verb}`), {
        ids: [rowId],
      });
      if (res.ok) {
        const done = (verb === 'release' ? res.data.released : res.data.deleted) ?? [];
        const outcome =
          done.length === 0
            ? 'it was no longer held'
            : verb === 'release'
              ? 'released; it is queued again'
              : 'deleted from D1; the push sends the delete';
        integritySay(`${label}: ${outcome}`, 'ok');
      } else if (res.status === 409) {
        integritySay(`${label} refused \u2013 a run is in progress: ${conflictText(res)}`, 'error');
      } else {
        integritySay(`${label} failed: ${errorText(res)}`, 'error');
      }
    } catch (e) {
      if (!(e instanceof AuthError)) integritySay(`${label} failed: ${describeError(e)}`, 'error');
    }
    integrityState.heldBusy.delete(key);
    setBusy(button, false);
    await page.refresh();
  }

  return {
    sync(card) {
      void act<SyncNowResult>(card.syncButton, card, `Sync ${card.name}`, entityPath(card.name, 'sync'), describeRun);
    },

    togglePause(card) {
      const resume = card.pauseButton.getAttribute('data-action') === 'resume';
      void act<EntityStatus>(
        card.pauseButton,
        card,
        `${resume ? 'Resume' : 'Pause'} ${card.name}`,
        entityPath(card.name, resume ? 'resume' : 'pause'),
        (s) =>
          s.paused
            ? 'paused; the alarm loop is stopped (manual syncs still work)'
            : `running; a run starts now, then every ${duration(s.settings.intervalMs)}`,
      );
    },

    reset(card) {
      const s = page.status(card.name);
      const items: string[] = [];
      if (!s || s.pull)
        items.push(
          'Pull: the cursor goes back to the beginning, so the next runs re-read every row from Supabase and upsert it into D1. The replica is not emptied; rows stay readable throughout.',
        );
      if (!s || s.push) items.push('Push: every current D1 row is queued again and re-sent to Supabase (upserts are idempotent).');
      items.push(
        s?.paused
          ? 'The entity is paused: the reset takes effect at the next manual sync or on resume. If a run is in progress the reset is refused.'
          : 'A sync starts right away. If a run is in progress the reset is refused; try again when it ends.',
      );
      confirmAction({ title: `Reset the ${card.name} cursor?`, items, confirmLabel: 'Reset cursor', returnFocus: card.resetButton }, () =>
        act<EntityStatus>(card.resetButton, card, `Reset ${card.name}`, entityPath(card.name, 'reset'), (status) => {
          const parts = ['cursor reset'];
          if (status.pull) parts.push('pull re-reads from the beginning');
          if (status.push) parts.push(`${plural(status.push.pending, 'change')} queued to push`);
          return parts.join('; ');
        }),
      );
    },

    syncAll() {
      void act<{ runs: { entity: string; result: SyncNowResult }[] }>(byId('sync-all'), null, 'Sync all', '/api/sync/full', (d) =>
        d.runs
          .map(
            (r) =>
              `${r.entity}: ${r.result.ran ? `${r.result.run.outcome}${r.result.run.error ? ` (${briefError(r.result.run.error)})` : ''}` : 'joined a run in progress'}`,
          )
          .join(' \u00b7 '),
      );
    },

    fullResync() {
      const button = byId('full-resync');
      confirmAction(
        {
          title: 'Run a full resync?',
          items: [
            'Every entity that pulls (Supabase \u2192 D1) re-reads all rows from the beginning and upserts them into D1; emails (push only) queue every current D1 row to be sent to Supabase again.',
            'Nothing is emptied: reads keep working, and rows are overwritten in place only where the source has the same or a newer version.',
            'Then a check with fix removes from D1 the rows Supabase no longer has (emails: D1 is the truth, nothing is deleted).',
            'An entity with a run in progress starts its resync when that run ends.',
          ],
          confirmLabel: 'Start full resync',
          returnFocus: button,
        },
        () =>
          act<{ resync: { entity: string; job: IntegrityJobStatus }[] }>(button, null, 'Full resync', '/admin/resync', (d) =>
            d.resync.map((r) => `${r.entity}: ${r.job.phase} (${r.job.progress})`).join(' \u00b7 '),
          ),
      );
    },

    runChecks(fix, entities) {
      if (integrityState.inFlight !== null) return;
      const label = `${fix ? 'Run checks and fix' : 'Run checks'}${entities ? ` (${entities.join(', ')})` : ''}`;
      integrityState.inFlight = label;
      showIntegrityBusy();
      say(`${label}\u2026`, 'info');
      byId('integrity-result').removeAttribute('data-tone');
      byId('integrity-result').textContent = `${label}\u2026`;
      void (async () => {
        try {
          const res = await api<{ runs: (IntegrityRequestResult & { entity: string })[] }>(
            page.session,
            'POST',
            '/api/integrity/run',
            entities ? { fix, entities } : { fix },
          );
          if (res.ok) integritySay(`${label}: ${describeIntegrityResult(res.data)}`, 'ok');
          else integritySay(`${label} failed: ${errorText(res)}`, 'error');
        } catch (e) {
          if (!(e instanceof AuthError)) integritySay(`${label} failed: ${describeError(e)}`, 'error');
        }
        integrityState.inFlight = null;
        showIntegrityBusy();
        await page.refresh();
      })();
    },

    releaseHeld(entity, rowId, button) {
      void heldAction(entity, rowId, button, 'release');
    },

    deleteHeld(e: EntityIntegrity, rowId, button) {
      const pullOnly = e.direction === 'pull';
      confirmAction(
        {
          title: `Delete held row ${shortId(rowId)} of ${e.entity}?`,
          items: [
            `Row ${rowId} is deleted from D1 as an edge writer would delete it, and stops being held.`,
            pullOnly
              ? 'Only D1 changes: this entity is a replica of Supabase, so the next reconciliation with fix brings the row back while Supabase has it.'
              : 'The next push sends the delete to Supabase.',
            pullOnly ? 'Releasing it instead only stops holding it.' : 'Releasing it instead queues it for the push again, unchanged.',
          ],
          confirmLabel: 'Delete row',
          returnFocus: button,
        },
        () => heldAction(e.entity, rowId, button, 'delete'),
      );
    },
  };
}

/** "Sync now"'s answer as one line. */
function describeRun(result: SyncNowResult): string {
  if (!result.ran) return `a run was already in progress (run ${shortId(result.lease.runId)}, ${result.lease.trigger}); joined it`;
  const { run } = result;
  const s = run.stats;
  let text = `${run.outcome} \u2013 ${s.rowsRead} read, ${s.rowsApplied} applied, ${s.rowsDeleted} deleted, ${s.rowsQuarantined} quarantined, ${s.conflicts} conflicts (${plural(s.pages, 'page')})`;
  if (run.pullLag) text += `; newest change ${duration(run.pullLag.lagMs)} after Supabase`;
  if (run.error) text += `; error: ${briefError(run.error)}`;
  return text;
}

// ---- confirmation dialog -------------------------------------------------------------------

interface Confirmation {
  title: string;
  items: string[];
  confirmLabel: string;
  returnFocus: HTMLElement;
}

let pending: { onConfirm: () => Promise<void>; returnFocus: HTMLElement } | null = null;

/** Asks first (a modal dialog, Cancel focused); runs onConfirm only when confirmed. */
function confirmAction(options: Confirmation, onConfirm: () => Promise<void>): void {
  byId('confirm-title').textContent = options.title;
  setChildren(byId('confirm-body'), [
    el(
      'ul',
      {},
      options.items.map((t) => el('li', { text: t })),
    ),
  ]);
  byId('confirm-ok').textContent = options.confirmLabel;
  pending = { onConfirm, returnFocus: options.returnFocus };
  byId('confirm', HTMLDialogElement).showModal();
  byId('confirm-cancel').focus();
}

/** Closes the dialog; focus goes back to the button that opened it. */
export function closeConfirm(confirmed: boolean): void {
  const dialog = byId('confirm', HTMLDialogElement);
  const was = pending;
  pending = null;
  if (dialog.open) dialog.close();
  if (!was) return;
  was.returnFocus.focus();
  if (confirmed) void was.onConfirm();
  else say('Cancelled: nothing was changed.', 'info');
}
