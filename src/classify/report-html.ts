/** HTML evaluation report: the text report plus one precision/recall curve per label as inline SVG. Pure string building. */
import type { Example } from './training/example.ts';
import { ALL_LABELS, type Scores } from './labels.ts';
import { split } from './calibrate.ts';

/** Precision/recall points from sweeping the threshold over every distinct score (descending). */
export function prCurve(pos: readonly number[], neg: readonly number[]): { threshold: number; precision: number; recall: number }[] {
  const all = [...pos.map((s) => [s, 1] as const), ...neg.map((s) => [s, 0] as const)].sort((a, b) => b[0] - a[0]);
  const pts: { threshold: number; precision: number; recall: number }[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i][1]) tp++;
    else fp++;
    if (i + 1 < all.length && all[i + 1][0] === all[i][0]) continue;
    pts.push({ threshold: all[i][0], precision: tp / (tp + fp), recall: pos.length ? tp / pos.length : 0 });
  }
  return pts;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function svg(label: string, pts: ReturnType<typeof prCurve>, threshold: number | undefined): string {
  const W = 320;
  const H = 240;
  const pad = 36;
  const x = (r: number) => pad + r * (W - 2 * pad);
  const y = (p: number) => H - pad - p * (H - 2 * pad);
  const path = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`).join(' ');
  let marker = '';
  if (threshold !== undefined) {
    const at = pts.filter((p) => p.threshold >= threshold).at(-1);
    if (at) marker = `<circle cx="${x(at.recall).toFixed(1)}" cy="${y(at.precision).toFixed(1)}" r="4" fill="#c00"><title>threshold ${threshold}: P=${at.precision.toFixed(3)} R=${at.recall.toFixed(3)}</title></circle>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="precision-recall curve for ${esc(label)}">
<rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#999"/>
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(label)}</text>
<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">recall</text>
<text x="10" y="${H / 2}" font-size="11" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">precision</text>
<text x="${pad}" y="${H - pad + 14}" font-size="10">0</text><text x="${W - pad}" y="${H - pad + 14}" font-size="10" text-anchor="end">1</text>
<text x="${pad - 4}" y="${pad + 4}" font-size="10" text-anchor="end">1</text>
<path d="${path}" fill="none" stroke="#06c" stroke-width="1.5"/>${marker}
</svg>`;
}

export function htmlReport(title: string, textReport: string, examples: readonly Example[], scores: readonly Scores[], thresholds: Partial<Record<string, number>>): string {
  const charts = ALL_LABELS.map((l) => {
    const { pos, neg } = split(l, examples, scores);
    return pos.length && neg.length ? svg(l, prCurve(pos, neg), thresholds[l]) : '';
  }).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow:auto}svg{margin:.5em}</style></head>
<body><h1>${esc(title)}</h1><pre>${esc(textReport)}</pre><h2>Precision / recall (red dot: configured threshold)</h2>
<div>${charts}</div></body></html>\n`;
}
