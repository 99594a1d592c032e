/**
 * Meter: aggregates RequestEvents into per-day usage rows in memory and writes them to the store in one
 * batched transaction every flushIntervalMs (never a DB write per request). `record()` is synchronous and
 * allocation-light: one Map lookup and a few additions.
 *
 * If a flush fails (store down), the batch is merged back and retried on the next tick; usage is lost only if
 * the process dies before the store comes back. The audit log remains the durable per-request record.
 */
import type { Db } from '../store/db.ts';
import type { RequestEvent } from '../core/types.ts';
import type { z } from 'zod';
import { configSchema, type MeterConfig } from './config.ts';
import { utcDay } from './usage.ts';
import type { MeterMetrics } from './metrics.ts';
import type { Counter } from 'prom-client';

interface Row {
  day: string;
  keyId: string;
  accountId: string;
  orgId: string;
  model: string;
  requests: number;
  refused: number;
  estimated: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

const COLUMNS = '(day, key_id, account_id, org_id, model, requests, refused, estimated, input_tokens, output_tokens, cost_usd)';
const ON_CONFLICT = `ON CONFLICT (day, key_id, account_id, org_id, model) DO UPDATE SET
  requests = meter_usage_daily.requests + excluded.requests,
  refused = meter_usage_daily.refused + excluded.refused,
  estimated = meter_usage_daily.estimated + excluded.estimated,
  input_tokens = meter_usage_daily.input_tokens + excluded.input_tokens,
  output_tokens = meter_usage_daily.output_tokens + excluded.output_tokens,
  cost_usd = meter_usage_daily.cost_usd + excluded.cost_usd`;
/** Rows per statement: 11 parameters each stays far below SQLite's and PostgreSQL's parameter limits. */
const ROWS_PER_STATEMENT = 200;

/** One multi-row upsert (rows have distinct keys: they come from one Map). */
function upsertSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const b = r * 11;
    tuples.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}, $${b + 10}, $${b + 11})`);
  }
  return `INSERT INTO meter_usage_daily ${COLUMNS} VALUES ${tuples.join(', ')} ${ON_CONFLICT}`;
}

export class Meter {
  readonly config: MeterConfig;
  private pending = new Map<string, Row>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  lastError: string | null = null;

  constructor(
    private readonly db: Db,
    config: z.input<typeof configSchema> = {},
    private readonly metrics: MeterMetrics | null = null,
  ) {
    this.config = configSchema.parse(config);
    this.timer = setInterval(() => void this.flush().catch(() => {}), this.config.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * prom-client hashes a labels object on every inc(); model names are few (the catalogue), so the labelled
   * children are looked up once per model.
   */
  private readonly counters = new Map<string, { input: Counter.Internal; output: Counter.Internal; cost: Counter.Internal }>();
  private countersFor(model: string, m: MeterMetrics) {
    let c = this.counters.get(model);
    if (!c) {
      c = { input: m.tokens.labels(model, 'input'), output: m.tokens.labels(model, 'output'), cost: m.cost.labels(model) };
      this.counters.set(model, c);
    }
    return c;
  }

  /** UTC day of a time, formatted once per day rather than once per request. */
  private day = { start: 0, end: 0, text: '' };
  private dayOf(time: number): string {
    if (time >= this.day.start && time < this.day.end) return this.day.text;
    const start = time - (((time % 86_400_000) + 86_400_000) % 86_400_000);
    this.day = { start, end: start + 86_400_000, text: utcDay(time) };
    return this.day.text;
  }

  /** Buffer one request's usage. Synchronous; never touches the store. */
  record(event: RequestEvent): void {
    // Usage is what keys did with models: a request without a valid key, or one rejected as invalid before any
    // decision (unknown model, malformed body), names no account or no real model and makes no row. The audit
    // log still records it.
    if (event.keyId === null || event.outcome === 'invalid') return;
    const model = event.modelServed ?? event.modelRequested;
    const day = this.dayOf(event.time);
    const keyId = event.keyId ?? '';
    const accountId = event.accountId ?? '';
    const orgId = event.orgId ?? '';
    const k = `${day}\u0000${keyId}\u0000${accountId}\u0000${orgId}\u0000${model}`;
    let row = this.pending.get(k);
    if (!row) {
      row = { day, keyId, accountId, orgId, model, requests: 0, refused: 0, estimated: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      this.pending.set(k, row);
    }
    row.requests++;
    if (event.outcome === 'refused') row.refused++;
    if (event.usageEstimated) row.estimated++;
    // A malformed count (NaN, negative) must not poison a whole day's row: count it as zero.
    const inT = event.inputTokens > 0 ? event.inputTokens : 0;
    const outT = event.outputTokens > 0 ? event.outputTokens : 0;
    const cost = event.costUsd > 0 && Number.isFinite(event.costUsd) ? event.costUsd : 0;
    row.inputTokens += inT;
    row.outputTokens += outT;
    row.costUsd += cost;
    if (this.metrics) {
      const c = this.countersFor(model, this.metrics);
      if (inT) c.input.inc(inT);
      if (outT) c.output.inc(outT);
      if (cost) c.cost.inc(cost);
    }
    if (this.pending.size >= this.config.maxPendingRows && !this.flushing) void this.flush().catch(() => {});
  }

  /** Write everything buffered so far. Concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.pending.size ? this.flush() : undefined));
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.db
      .transaction(async (tx) => {
        const rows = [...batch.values()];
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
          const params: unknown[] = [];
          for (const r of chunk) params.push(r.day, r.keyId, r.accountId, r.orgId, r.model, r.requests, r.refused, r.estimated, r.inputTokens, r.outputTokens, r.costUsd);
          await tx.query(upsertSql(chunk.length), params);
        }
      })
      .then(
        () => {
          this.lastError = null;
        },
        (e: unknown) => {
          this.lastError = e instanceof Error ? e.message : String(e);
          for (const [k, r] of batch) this.merge(k, r);
          throw e;
        },
      )
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private merge(k: string, r: Row): void {
    const cur = this.pending.get(k);
    if (!cur) return void this.pending.set(k, r);
    cur.requests += r.requests;
    cur.refused += r.refused;
    cur.estimated += r.estimated;
    cur.inputTokens += r.inputTokens;
    cur.outputTokens += r.outputTokens;
    cur.costUsd += r.costUsd;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
