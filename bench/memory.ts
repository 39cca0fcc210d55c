/**
 * Memory of the bench's processes, sampled from outside (Linux /proc): the workerd process
 * vitest-pool-workers starts (the Worker, its Durable Objects and local D1) and the Supabase
 * stand-in (PGlite), found among the descendants of the vitest process. bench/run.ts samples
 * while vitest runs and attributes the samples to a variant by the time window its BENCH line
 * carries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { TimeWindow } from './lines.ts';

/** One sample: resident set sizes in KiB at `t` (epoch ms). */
export interface MemorySample {
  t: number;
  workerdKiB: number;
  standInKiB: number;
}

/** Peak and growth over a window, MiB. */
export interface WindowMemory {
  workerdPeakMiB: number;
  /** Peak minus the last sample before the window: what the variant itself added. */
  workerdGrowthMiB: number;
  standInPeakMiB: number;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised name). */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  return children;
}

/** All descendants of `root`. */
function descendants(root: number): number[] {
  const children = parents();
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(read(`/proc/${pid}/status`));
  return match?.[1] ? Number(match[1]) : 0;
}

/**
 * Samples the RSS of the workerd and stand-in processes under `root` every `everyMs`; the
 * process list is refreshed once a second (workerd starts a while after vitest does).
 */
export function sampleMemory(root: number, everyMs = 100): { samples: MemorySample[]; stop(): void } {
  const samples: MemorySample[] = [];
  let workerd: number[] = [];
  let standIn: number[] = [];
  let refreshedAt = 0;
  const tick = (): void => {
    const now = Date.now();
    if (now - refreshedAt >= 1000) {
      refreshedAt = now;
      workerd = [];
      standIn = [];
      for (const pid of descendants(root)) {
        if (read(`/proc/${pid}/comm`).trim() === 'workerd') workerd.push(pid);
        else if (read(`/proc/${pid}/cmdline`).includes('supabase-local')) standIn.push(pid);
      }
    }
    const sum = (pids: number[]): number => pids.reduce((a, pid) => a + rssKiB(pid), 0);
    samples.push({ t: now, workerdKiB: sum(workerd), standInKiB: sum(standIn) });
  };
  const timer = setInterval(tick, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}

const mib = (kib: number): number => Math.round(kib / 1024);

/** The memory of a window, or null when no sample fell inside it (a step shorter than the sampling). */
export function memoryIn(samples: readonly MemorySample[], window: TimeWindow): WindowMemory | null {
  // A sample is taken every ~100 ms: widen the window by one interval on each side.
  const inside = samples.filter((s) => s.t >= window.start - 100 && s.t <= window.end + 100 && s.workerdKiB > 0);
  if (inside.length === 0) return null;
  const before = samples.filter((s) => s.t < window.start && s.workerdKiB > 0).at(-1) ?? inside[0];
  const peak = Math.max(...inside.map((s) => s.workerdKiB));
  return {
    workerdPeakMiB: mib(peak),
    workerdGrowthMiB: mib(Math.max(0, peak - (before?.workerdKiB ?? peak))),
    standInPeakMiB: mib(Math.max(...inside.map((s) => s.standInKiB))),
  };
}
