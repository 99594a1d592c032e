/**
 * The Overview page's time series, read from the audit log (every request's record carries its arrival time,
 * outcome, refusal code, classifier label, requested and served model and metered cost):
 *   GET /admin/v1/console/overview?window=1h|24h|7d
 * The window ends now and is cut into equal buckets (1h: 12 × 5 min, 24h: 24 × 1 h, 7d: 28 × 6 h); a request
 * falls in the bucket of its arrival time. `overviewSeries` is pure (records in, series out); the route streams the
 * log through it.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { auditRecords } from '../audit/query.ts';
import { asClassifierRefusal } from './classifier-review.ts';

export const WINDOWS = { '1h': { ms: 3_600_000, buckets: 12 }, '24h': { ms: 86_400_000, buckets: 24 }, '7d': { ms: 7 * 86_400_000, buckets: 28 } } as const;
export type OverviewWindow = keyof typeof WINDOWS;

export interface OverviewBucket {
  /** Start of the bucket (epoch ms, inclusive); it ends at `start + bucketMs` (exclusive, the last one inclusive of `to`). */
  start: number;
  requests: number;
  refused: number;
  /** Served by another model than the one requested (a fallback or a route). */
  rerouted: number;
  errors: number;
  costUsd: number;
}

export interface OverviewSeries {
  window: OverviewWindow;
  from: number;
  to: number;
  bucketMs: number;
  buckets: OverviewBucket[];
  totals: { requests: number; served: number; refused: number; rerouted: number; errors: number; invalid: number; costUsd: number };
  /** Refused requests by refusal code, most first. */
  refusalsByCode: { code: string; count: number }[];
  /** The classifier's refusals by the label that refused, most first. */
  refusalsByLabel: { label: string; count: number }[];
  /** Requests by requested and served model (served null: nothing served), most first. */
  models: { requested: string | null; served: string | null; count: number }[];
}

type Rec = Record<string, unknown>;

const sorted = <K extends string>(m: Map<string, number>, key: K) =>
  [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, count]) => ({ [key]: k, count }) as { [P in K]: string } & { count: number });

/** Keeps 1e-9 USD precision so sums of many small costs do not show float noise. */
const roundUsd = (v: number) => Math.round(v * 1e9) / 1e9;

/** Pure: the series of `records` (request records only; others are skipped) over `window` ending at `now`. */
export function overviewSeries(records: Iterable<Rec>, window: OverviewWindow, now: number): OverviewSeries {
  const acc = overviewAccumulator(window, now);
  for (const r of records) acc.add(r);
  return acc.result();
}

export function overviewAccumulator(window: OverviewWindow, now: number) {
  const { ms, buckets: n } = WINDOWS[window];
  const bucketMs = ms / n;
  const from = now - ms;
  const buckets: OverviewBucket[] = Array.from({ length: n }, (_, i) => ({ start: from + i * bucketMs, requests: 0, refused: 0, rerouted: 0, errors: 0, costUsd: 0 }));
  const totals = { requests: 0, served: 0, refused: 0, rerouted: 0, errors: 0, invalid: 0, costUsd: 0 };
  const codes = new Map<string, number>();
  const labels = new Map<string, number>();
  const pairs = new Map<string, { requested: string | null; served: string | null; count: number }>();
  return {
    add(r: Rec): void {
      if (r.kind !== 'request') return;
      const t = Number(r.requestTime ?? r.time);
      if (!Number.isFinite(t) || t < from || t > now) return;
      const b = buckets[Math.min(n - 1, Math.floor((t - from) / bucketMs))]!;
      const cost = typeof r.costUsd === 'number' && Number.isFinite(r.costUsd) ? r.costUsd : 0;
      const requested = typeof r.modelRequested === 'string' ? r.modelRequested : null;
      const served = typeof r.modelServed === 'string' ? r.modelServed : null;
      b.requests++;
      totals.requests++;
      b.costUsd += cost;
      totals.costUsd += cost;
      if (r.action === 'refuse') {
        b.refused++;
        totals.refused++;
        const code = typeof r.code === 'string' ? r.code : 'unknown';
        codes.set(code, (codes.get(code) ?? 0) + 1);
        const c = asClassifierRefusal(r);
        if (c) labels.set(c.label, (labels.get(c.label) ?? 0) + 1);
      } else if (r.action === 'error') {
        b.errors++;
        totals.errors++;
      } else if (r.action === 'invalid') totals.invalid++;
      else totals.served++;
      if (r.action === 'route') {
        b.rerouted++;
        totals.rerouted++;
      }
      const key = JSON.stringify([requested, served]);
      const p = pairs.get(key) ?? { requested, served, count: 0 };
      p.count++;
      pairs.set(key, p);
    },
    result(): OverviewSeries {
      for (const b of buckets) b.costUsd = roundUsd(b.costUsd);
      totals.costUsd = roundUsd(totals.costUsd);
      const models = [...pairs.values()].sort((a, b) => b.count - a.count || String(a.requested).localeCompare(String(b.requested)) || String(a.served).localeCompare(String(b.served)));
      return { window, from, to: now, bucketMs, buckets, totals, refusalsByCode: sorted(codes, 'code'), refusalsByLabel: sorted(labels, 'label'), models };
    },
  };
}

function fail(reply: FastifyReply, status: number, type: string, message: string) {
  return reply.code(status).send({ error: { type, message } });
}

export function registerOverviewRoutes(app: FastifyInstance, deps: { auditPath: string | null; now?: () => number }): void {
  const now = deps.now ?? Date.now;
  app.get('/console/overview', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(q)) if (k !== 'window') return fail(reply, 400, 'invalid_request', `$.query.${k}: unknown parameter (expected window)`);
    const w = q.window === undefined ? '24h' : q.window;
    if (typeof w !== 'string' || !Object.hasOwn(WINDOWS, w)) return fail(reply, 400, 'invalid_request', `$.query.window: expected one of ${Object.keys(WINDOWS).join(', ')}`);
    if (!deps.auditPath) return fail(reply, 503, 'unavailable', 'the audit log is off on this gateway');
    const acc = overviewAccumulator(w as OverviewWindow, now());
    try {
      for await (const rec of auditRecords(deps.auditPath)) acc.add(rec as unknown as Rec);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`audit log cannot be read: ${(e as Error).message}`, { cause: e });
    }
    return acc.result();
  });
}
