/** Text for times, durations and counts (pure: the clock is passed in). */
import type { RunOutcome } from '../../types.ts';

/** "1 page", "3 pages". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "just now", "12 s ago", "3 min ago", "in 4 min", "2 h ago", "5 d ago". */
export function relative(iso: string, now: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const diff = ms - now;
  const abs = Math.abs(diff);
  if (abs < 5000) return diff > 0 ? 'in a moment' : 'just now';
  let text: string;
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 360_000) / 10} h`;
  else text = `${Math.round(abs / 8_640_000) / 10} d`;
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

/** "06:46:00" today, "Nov 28, 06:46" on other days (local time). */
export function shortTime(iso: string, now: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (d.toDateString() === new Date(now).toDateString()) return d.toLocaleTimeString();
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
}

/** The full local date and time. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "850 ms", "1.2 s", "3.5 min", "2.1 h"; "–" for nothing sensible. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '\u2013';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

/** A duration given in seconds. */
export function seconds(s: number): string {
  return duration(s * 1000);
}

/** The badge tone of a run's outcome. */
export function outcomeTone(outcome: RunOutcome): 'ok' | 'bad' | 'info' {
  if (outcome === 'caught-up') return 'ok';
  if (outcome === 'failed') return 'bad';
  return 'info';
}

/** The first 8 characters of an id (runs, rows). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Long errors (with stack lines) as their first line, at most 300 characters; the full text goes in a tooltip. */
export function briefError(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 300 ? `${first.slice(0, 299)}\u2026` : first;
}

/** "1,234". */
export function count(n: number): string {
  return n.toLocaleString('en');
}
