/**
 * The Overview page: totals and charts over a selectable window (1 h, 24 h, 7 d) from
 * `GET /admin/v1/console/overview` (the audit log, bucketed by the gateway), and metered usage by model from
 * `GET /admin/v1/usage`. Charts are inline SVG drawn here (no chart library), each an image with a title and
 * description, followed by the same numbers as a table.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ErrorLine, errorText, Heading } from '../main';

type Json = any;
type Window = '1h' | '24h' | '7d';
const WINDOWS: { id: Window; label: string }[] = [
  { id: '1h', label: '1 h' },
  { id: '24h', label: '24 h' },
  { id: '7d', label: '7 d' },
];

interface Bucket { start: number; requests: number; refused: number; rerouted: number; errors: number; costUsd: number }
interface Series {
  window: Window; from: number; to: number; bucketMs: number; buckets: Bucket[];
  totals: { requests: number; served: number; refused: number; rerouted: number; errors: number; invalid: number; costUsd: number };
  refusalsByCode: { code: string; count: number }[];
  refusalsByLabel: { label: string; count: number }[];
  models: { requested: string | null; served: string | null; count: number }[];
}

const W = 640;
const H = 180;
const PAD = { left: 60, right: 8, top: 8, bottom: 22 };

const tick = (ms: number, span: Window) => {
  const iso = new Date(ms).toISOString();
  return span === '7d' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16);
};

/** One chart: an SVG image with a title and description (what a screen reader announces), and the table. */
function Chart({ id, title, summary, svg, table }: { id: string; title: string; summary: string; svg: Json; table: Json }) {
  return (
    <figure class="chart" data-testid={`chart-${id}`} aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      <svg role="img" aria-labelledby={`${id}-title ${id}-desc`} viewBox={`0 0 ${W} ${svg.height ?? H}`} width="100%" preserveAspectRatio="xMinYMin meet">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {svg.body}
      </svg>
      <details>
        <summary>{title}: table</summary>
        {table}
      </details>
    </figure>
  );
}

/** Stacked columns over time (one colour a part), with a y axis at 0 and the maximum. */
function columns(s: Series, parts: { key: string; cls: string; value: (b: Bucket) => number }[], format: (v: number) => string) {
  const totals = s.buckets.map((b) => parts.reduce((a, p) => a + p.value(b), 0));
  const max = Math.max(...totals, 0) || 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / s.buckets.length;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const last = s.buckets.length - 1;
  return {
    body: (
      <g>
        <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
        <text class="tick" x={PAD.left - 4} y={y(0)} text-anchor="end">0</text>
        <text class="tick" x={PAD.left - 4} y={y(max) + 10} text-anchor="end">{format(max)}</text>
        {s.buckets.map((b, i) => {
          let base = 0;
          return (
            <g key={b.start}>
              {parts.map((p) => {
                const v = p.value(b);
                const top = y(base + v);
                const h = y(base) - top;
                base += v;
                return v > 0 ? <rect class={p.cls} x={PAD.left + i * bw + 1} y={top} width={Math.max(1, bw - 2)} height={h}><title>{`${tick(b.start, s.window)}: ${format(v)} ${p.key}`}</title></rect> : null;
              })}
            </g>
          );
        })}
        {[0, Math.floor(last / 2), last].map((i) => (
          <text key={i} class="tick" x={PAD.left + i * bw + bw / 2} y={H - 6} text-anchor="middle">{tick(s.buckets[i]!.start, s.window)}</text>
        ))}
      </g>
    ),
  };
}

/** Horizontal bars, one a row, labelled with the name and the count. */
function bars(rows: { name: string; value: number; cls?: string }[]) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const rowH = 22;
  const labelW = 260;
  const plotW = W - labelW - 60;
  return {
    height: Math.max(rowH, rows.length * rowH) + 4,
    body: (
      <g>
        {rows.length === 0 ? <text class="tick" x={4} y={16}>none in this window</text> : null}
        {rows.map((r, i) => (
          <g key={r.name}>
            <text class="label" x={labelW - 6} y={i * rowH + 15} text-anchor="end">{r.name.length > 40 ? `${r.name.slice(0, 39)}…` : r.name}</text>
            <rect class={r.cls ?? 'part-a'} x={labelW} y={i * rowH + 4} width={Math.max(1, (r.value / max) * plotW)} height={rowH - 8} />
            <text class="label" x={labelW + (r.value / max) * plotW + 4} y={i * rowH + 15}>{r.value}</text>
          </g>
        ))}
      </g>
    ),
  };
}

function CountTable({ head, rows }: { head: string[]; rows: (string | number)[][] }) {
  return (
    <table>
      <thead><tr>{head.map((h) => <th scope="col" key={h}>{h}</th>)}</tr></thead>
      <tbody>{rows.map((r, i) => <tr key={i}>{r.map((c, j) => (j === 0 ? <th scope="row" key={j}>{c}</th> : <td key={j}>{c}</td>))}</tr>)}</tbody>
    </table>
  );
}

export function Overview() {
  const [span, setSpan] = useState<Window>('24h');
  const [series, setSeries] = useState<Series | null>(null);
  const [usage, setUsage] = useState<Json[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [usageErr, setUsageErr] = useState<string | null>(null);
  useEffect(() => {
    void api('GET', '/usage?groupBy=model').then((r) => (r.status === 200 ? setUsage(r.body.rows) : setUsageErr(errorText(r))));
  }, []);
  useEffect(() => {
    let live = true;
    void api('GET', `/console/overview?window=${span}`).then((r) => {
      if (!live) return;
      if (r.status !== 200) return setErr(errorText(r));
      setErr(null);
      setSeries(r.body);
    });
    return () => {
      live = false;
    };
  }, [span]);
  const t = series?.totals;
  const money = (v: number) => v.toFixed(6);
  const label = WINDOWS.find((w) => w.id === span)!.label;
  return (
    <main id="main">
      <Heading>Overview</Heading>
      <div role="group" aria-label="Window" class="window-picker">
        {WINDOWS.map((w) => (
          <button type="button" key={w.id} class={w.id === span ? '' : 'secondary'} aria-pressed={w.id === span} onClick={() => setSpan(w.id)}>{`Last ${w.label}`}</button>
        ))}
      </div>
      <ErrorLine text={err} />
      <div class="stats" aria-label={`Totals, last ${label}`} data-testid="overview-window" data-window={series?.window ?? ''}>
        <div class="stat">Requests<b data-testid="total-requests">{t ? t.requests : '…'}</b></div>
        <div class="stat">Refused<b data-testid="total-refused">{t ? t.refused : '…'}</b></div>
        <div class="stat">Served by another model<b data-testid="total-rerouted">{t ? t.rerouted : '…'}</b></div>
        <div class="stat">Spend (USD)<b>{t ? money(t.costUsd) : '…'}</b></div>
      </div>
      {series ? (
        <div class="charts">
          <Chart
            id="traffic"
            title={`Requests over the last ${label}`}
            summary={`${series.totals.requests} requests in ${series.buckets.length} intervals of ${series.bucketMs / 60000} minutes: ${series.totals.served} served, ${series.totals.refused} refused, ${series.totals.errors} failed.`}
            svg={columns(series, [
              { key: 'served', cls: 'part-a', value: (b) => b.requests - b.refused - b.errors },
              { key: 'refused', cls: 'part-bad', value: (b) => b.refused },
              { key: 'failed', cls: 'part-c', value: (b) => b.errors },
            ], String)}
            table={<CountTable head={['From (UTC)', 'Requests', 'Refused', 'Served by another model', 'Failed']} rows={series.buckets.map((b) => [when(b.start), b.requests, b.refused, b.rerouted, b.errors])} />}
          />
          <Chart
            id="codes"
            title="Refusals by code"
            summary={series.refusalsByCode.length ? series.refusalsByCode.map((c) => `${c.code}: ${c.count}`).join('; ') : 'No refusals in this window.'}
            svg={bars(series.refusalsByCode.map((c) => ({ name: c.code, value: c.count, cls: 'part-bad' })))}
            table={<CountTable head={['Code', 'Refusals']} rows={series.refusalsByCode.map((c) => [c.code, c.count])} />}
          />
          <Chart
            id="labels"
            title="Classifier refusals by label"
            summary={series.refusalsByLabel.length ? series.refusalsByLabel.map((c) => `${c.label}: ${c.count}`).join('; ') : 'No classifier refusals in this window.'}
            svg={bars(series.refusalsByLabel.map((c) => ({ name: c.label, value: c.count, cls: 'part-bad' })))}
            table={<CountTable head={['Label', 'Refusals']} rows={series.refusalsByLabel.map((c) => [c.label, c.count])} />}
          />
          <Chart
            id="models"
            title="Requested and served models"
            summary={series.models.map((m) => `${m.requested ?? '—'} served by ${m.served ?? 'none'}: ${m.count}`).join('; ') || 'No requests in this window.'}
            svg={bars(series.models.map((m) => ({ name: `${m.requested ?? '—'} → ${m.served ?? 'not served'}`, value: m.count, cls: m.served === null ? 'part-bad' : m.served !== m.requested ? 'part-c' : 'part-a' })))}
            table={<CountTable head={['Requested', 'Served by', 'Requests']} rows={series.models.map((m) => [m.requested ?? '—', m.served ?? 'not served', m.count])} />}
          />
          <Chart
            id="spend"
            title={`Spend over the last ${label} (USD)`}
            summary={`${money(series.totals.costUsd)} USD metered in the window.`}
            svg={columns(series, [{ key: 'USD', cls: 'part-a', value: (b) => b.costUsd }], (v) => v.toPrecision(2))}
            table={<CountTable head={['From (UTC)', 'Spend (USD)']} rows={series.buckets.map((b) => [when(b.start), money(b.costUsd)])} />}
          />
        </div>
      ) : null}
      <h2>Metered usage by model (all recorded days)</h2>
      <ErrorLine text={usageErr} />
      <table>
        <thead><tr><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Refused</th><th scope="col">Input tokens</th><th scope="col">Output tokens</th><th scope="col">Spend (USD)</th></tr></thead>
        <tbody>
          {(usage ?? []).map((r) => <tr key={r.model}><td>{r.model}</td><td>{r.requests}</td><td>{r.refused}</td><td>{r.inputTokens}</td><td>{r.outputTokens}</td><td>{money(r.costUsd)}</td></tr>)}
        </tbody>
      </table>
    </main>
  );
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
