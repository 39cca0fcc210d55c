/**
 * The scale chart of docs/benchmarks.md: rows/s and workerd's peak memory against table size,
 * as a hand-written SVG (no dependencies). Two panels sharing a logarithmic size axis.
 */

/** One line of a panel: a value per table size (null where not measured). */
export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: readonly { rows: number; value: number | null }[];
}

interface Panel {
  title: string;
  unit: string;
  series: readonly Series[];
}

const W = 380;
const H = 260;
const M = { left: 62, right: 14, top: 34, bottom: 64 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function sizeLabel(rows: number): string {
  if (rows >= 1_000_000) return `${rows / 1_000_000}M`;
  if (rows >= 1_000) return `${rows / 1_000}k`;
  return String(rows);
}

/** A round step for about five ticks up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function panel(p: Panel, sizes: readonly number[], dx: number): string {
  const out: string[] = [];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const lo = Math.log10(Math.min(...sizes));
  const hi = Math.log10(Math.max(...sizes));
  const x = (rows: number): number => dx + M.left + (hi === lo ? pw / 2 : ((Math.log10(rows) - lo) / (hi - lo)) * pw);
  const values = p.series.flatMap((s) => s.points.map((pt) => pt.value ?? 0));
  const step = niceStep(Math.max(1, ...values));
  const top = Math.ceil(Math.max(1, ...values) / step) * step;
  const y = (v: number): number => M.top + ph - (v / top) * ph;
  out.push(`<text x="${dx + M.left}" y="20" font-weight="bold">${esc(p.title)}</text>`);
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${dx + M.left}" x2="${dx + M.left + pw}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${dx + M.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(v.toLocaleString('en'))}</text>`);
  }
  for (const rows of sizes) {
    out.push(`<line x1="${x(rows)}" x2="${x(rows)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(rows)}" y="${M.top + ph + 16}" text-anchor="middle">${sizeLabel(rows)}</text>`);
  }
  out.push(`<text x="${dx + M.left + pw / 2}" y="${M.top + ph + 32}" text-anchor="middle">rows in the table (log scale)</text>`);
  out.push(`<text transform="translate(${dx + 14} ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(p.unit)}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.filter((pt): pt is { rows: number; value: number } => pt.value !== null);
    if (pts.length > 0) {
      const d = pts.map((pt, j) => `${j === 0 ? 'M' : 'L'}${x(pt.rows).toFixed(1)},${y(pt.value).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      for (const pt of pts) out.push(`<circle cx="${x(pt.rows).toFixed(1)}" cy="${y(pt.value).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const lx = dx + M.left + (i % 2) * (pw / 2);
    const ly = H - 22 + Math.floor(i / 2) * 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    out.push(`<text x="${lx + 20}" y="${ly}">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

/** The SVG: rows/s on the left, peak memory on the right. */
export function scaleChart(sizes: readonly number[], speed: readonly Series[], memory: readonly Series[], caption: string): string {
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 18}" viewBox="0 0 ${2 * W} ${H + 18}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel({ title: 'Pull speed', unit: 'rows/s', series: speed }, sorted, 0),
    panel({ title: 'Peak memory (RSS, sampled from outside)', unit: 'MiB', series: memory }, sorted, W),
    `<text x="8" y="${H + 12}" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
