/** The red-team report: a text table for the terminal, a JSON document and a self-contained HTML page. Pure string building. */
import type { Row, TransformSummary, Violation } from './harness.ts';
import type { Rate } from './stats.ts';
import type { Seed } from './types.ts';

export interface ReportMeta {
  target: string;
  seeds: string;
  harmfulSeeds: number;
  benignSeeds: number;
  runSeed: number;
  transforms: number;
  generatedAt: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const fmtRate = (r: Rate) => (r.n === 0 ? '—' : `${pct(r.rate)} [${pct(r.ci[0])}, ${pct(r.ci[1])}] (${r.k}/${r.n})`);

/** The worst category of a transform (highest rate for the label), for the one-line summary. */
function worst(s: TransformSummary, label: 'harmful' | 'benign'): string {
  const cats = s.byCategory.filter((c) => c.label === label && c.cell.n > 0);
  if (cats.length === 0) return '';
  const w = cats.reduce((a, b) => (b.rate.rate > a.rate.rate ? b : a));
  return w.rate.k === 0 ? '' : `${w.category} ${pct(w.rate.rate)}`;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function textReport(meta: ReportMeta, summary: readonly TransformSummary[], violations: readonly Violation[] = []): string {
  const head = ['transform', 'attack success (harmful served) [95% CI]', 'worst category', 'over-refusal (benign refused) [95% CI]', 'worst category', 'routed', 'errors'];
  const rows = summary.map((s) => [
    s.transform,
    fmtRate(s.asr),
    worst(s, 'harmful'),
    fmtRate(s.overRefusal),
    worst(s, 'benign'),
    String(s.harmful.routed + s.benign.routed),
    String(s.harmful.errors + s.benign.errors),
  ]);
  const out = [
    `target: ${meta.target}`,
    `seeds: ${meta.seeds} (${meta.harmfulSeeds} harmful, ${meta.benignSeeds} benign); run seed ${meta.runSeed}; ${meta.transforms} transforms`,
    '',
    table(head, rows),
  ];
  if (violations.length) {
    out.push('', 'BOUND VIOLATIONS:');
    for (const v of violations) out.push(`  ${v.transform}: ${v.metric === 'asr' ? 'attack success' : 'over-refusal'} ${pct(v.measured)} > bound ${pct(v.bound)}`);
  }
  return out.join('\n') + '\n';
}

export function jsonReport(meta: ReportMeta, summary: readonly TransformSummary[], rows: readonly Row[], violations: readonly Violation[] = []): string {
  return JSON.stringify({ meta, violations, summary, rows }, null, 1) + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Cell colour: white at 0, red at 1 (attack success and over-refusal are both failures). */
function shade(r: Rate): string {
  if (r.n === 0) return '#eee';
  const a = Math.min(1, r.rate * 1.6);
  return `rgba(204,0,0,${a.toFixed(2)})`;
}

function cellHtml(r: Rate | undefined): string {
  if (!r || r.n === 0) return '<td class="na">—</td>';
  const tip = `${r.k}/${r.n}; 95% CI ${pct(r.ci[0])}–${pct(r.ci[1])}`;
  return `<td style="background:${shade(r)}" title="${esc(tip)}">${(100 * r.rate).toFixed(0)}</td>`;
}

function matrix(summary: readonly TransformSummary[], label: 'harmful' | 'benign'): string {
  const cats = [...new Set(summary.flatMap((s) => s.byCategory.filter((c) => c.label === label).map((c) => c.category)))].sort();
  if (cats.length === 0) return '<p>No seeds with this label.</p>';
  const head = `<tr><th>transform</th><th>all</th>${cats.map((c) => `<th class="rot"><div>${esc(c)}</div></th>`).join('')}</tr>`;
  const body = summary
    .map((s) => {
      const byCat = new Map(s.byCategory.filter((c) => c.label === label).map((c) => [c.category, c.rate]));
      return `<tr><th>${esc(s.transform)}</th>${cellHtml(label === 'harmful' ? s.asr : s.overRefusal)}${cats.map((c) => cellHtml(byCat.get(c))).join('')}</tr>`;
    })
    .join('\n');
  return `<table class="m">${head}\n${body}</table>`;
}

/** Per transform, the failures themselves: harmful seeds served and benign seeds refused (with the refusal code). */
function failures(summary: readonly TransformSummary[], rows: readonly Row[], seeds: ReadonlyMap<string, Seed>): string {
  const byT = new Map<string, Row[]>();
  for (const r of rows) {
    if ((r.label === 'harmful' && r.outcome === 'served') || (r.label === 'benign' && r.outcome === 'refused')) (byT.get(r.transform) ?? byT.set(r.transform, []).get(r.transform)!).push(r);
  }
  const text = (id: string) => {
    const t = seeds.get(id)?.text ?? '';
    return t.length > 160 ? t.slice(0, 157) + '…' : t;
  };
  return summary
    .map((s) => {
      const list = byT.get(s.transform) ?? [];
      if (list.length === 0) return '';
      const served = list.filter((r) => r.label === 'harmful');
      const refused = list.filter((r) => r.label === 'benign');
      const li = (r: Row, extra: string) => `<li><code>${esc(r.seedId)}</code> [${esc(r.category)}]${extra} ${esc(text(r.seedId))}</li>`;
      return `<details><summary>${esc(s.transform)}: ${served.length} harmful served, ${refused.length} benign refused</summary>
${served.length ? `<p>Harmful served:</p><ul>${served.map((r) => li(r, '')).join('')}</ul>` : ''}${refused.length ? `<p>Benign refused:</p><ul>${refused.map((r) => li(r, ` <i>${esc(r.detail ?? '')}</i>`)).join('')}</ul>` : ''}</details>`;
    })
    .join('\n');
}

export function htmlReport(
  title: string,
  meta: ReportMeta,
  summary: readonly TransformSummary[],
  rows: readonly Row[],
  violations: readonly Violation[] = [],
  seeds: ReadonlyMap<string, Seed> = new Map(),
): string {
  const errors = rows.filter((r) => r.outcome === 'error');
  const errorList = errors.length
    ? `<h2>Errors (${errors.length})</h2><p>Counted neither as served nor refused.</p><pre>${esc(
        errors
          .slice(0, 200)
          .map((r) => `${r.transform}  ${r.seedId}  ${r.detail ?? ''}`)
          .join('\n'),
      )}${errors.length > 200 ? '\n…' : ''}</pre>`
    : '';
  const viol = violations.length
    ? `<h2 class="bad">Bound violations</h2><ul>${violations.map((v) => `<li>${esc(v.transform)}: ${v.metric === 'asr' ? 'attack success' : 'over-refusal'} ${pct(v.measured)} &gt; bound ${pct(v.bound)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
table.m{border-collapse:collapse;font-size:12px}table.m td,table.m th{border:1px solid #ddd;padding:2px 6px;text-align:right}
table.m th{text-align:left;background:#fafafa}td.na{color:#aaa;text-align:center}th.rot{height:140px;vertical-align:bottom;white-space:nowrap}
th.rot div{transform:rotate(-60deg);transform-origin:left bottom;width:24px;position:relative;left:12px}.bad{color:#c00}details{margin:.3em 0}summary{cursor:pointer}li{font-size:13px}</style></head>
<body><h1>${esc(title)}</h1>
<p>Target: <b>${esc(meta.target)}</b>. Seeds: ${esc(meta.seeds)} (${meta.harmfulSeeds} harmful, ${meta.benignSeeds} benign). Run seed ${meta.runSeed}. Generated ${esc(meta.generatedAt)}.</p>
${viol}
<h2>Summary</h2><pre>${esc(textReport(meta, summary))}</pre>
<h2>Attack success rate by transform × harm category (%)</h2>
<p>Share of harmful seeds that were served. Hover a cell for k/n and the 95% Wilson interval.</p>
${matrix(summary, 'harmful')}
<h2>Over-refusal by transform × benign category (%)</h2>
<p>Share of benign seeds that were refused under the same transform.</p>
${matrix(summary, 'benign')}
<h2>The failures, per transform</h2>
${failures(summary, rows, seeds)}
${errorList}
</body></html>
`;
}
