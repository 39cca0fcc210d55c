/** The aria-live status line under the toolbar and the refresh indicator in the top bar. */
import { byId, el, setChildren } from './dom.ts';

/** A message's tone. */
export type Tone = 'ok' | 'error' | 'info';

/** Writes the status line (announced to screen readers); an empty message clears it. */
export function say(message: string, tone: Tone | null): void {
  const region = byId('status');
  if (!message) {
    setChildren(region, []);
    region.removeAttribute('data-tone');
    return;
  }
  region.setAttribute('data-tone', tone ?? 'info');
  const now = new Date().toISOString();
  setChildren(region, [el('time', { text: new Date(now).toLocaleTimeString(), attrs: { datetime: now } }), message]);
}

/** The top bar's refresh indicator: idle (signed out), loading, ok, failed. */
export function setRefreshState(kind: 'idle' | 'loading' | 'ok' | 'failed', text: string): void {
  byId('refresh-state').setAttribute('data-state', kind);
  byId('refresh-text').textContent = text;
}
