/**
 * Prometheus metrics for the request path. Label values come only from config (model names) or fixed enums,
 * never from caller input, so cardinality is bounded and nothing secret can leak into a label.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventSink } from '../core/gates.ts';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gatehouse_requests_total',
    help: 'Requests by protocol, outcome and served model',
    labelNames: ['protocol', 'outcome', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'gatehouse_request_duration_seconds',
    help: 'End-to-end request latency as seen by the gateway',
    labelNames: ['protocol', 'stream'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'gatehouse_overhead_seconds',
    help: 'Latency the gateway itself added (total minus time waiting on upstreams)',
    labelNames: ['protocol', 'stream'] as const,
    buckets: OVERHEAD_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'gatehouse_upstream_duration_seconds',
    help: 'Upstream attempt latency (to full response, or to first event when streaming)',
    labelNames: ['provider', 'stream'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'gatehouse_upstream_errors_total',
    help: 'Failed upstream attempts by provider and kind (timeout, connect, reset, status, bad_response)',
    labelNames: ['provider', 'kind'] as const,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'gatehouse_fallbacks_total',
    help: 'Requests served by a fallback model after the requested one failed',
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });
  readonly fallbacksSkipped = new Counter({
    name: 'gatehouse_fallbacks_skipped_total',
    help: 'Fallback models skipped because a directive, policy rule or safeguard refused them for the principal',
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'gatehouse_config_reloads_total',
    help: 'Config reload attempts by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly refusals = new Counter({
    name: 'gatehouse_refusals_total',
    help: 'Requests refused (by a gate) or whose reply was withheld (output moderation), by code and by the classifier label that decided (none when no classifier did)',
    labelNames: ['code', 'label'] as const,
    registers: [this.registry],
  });

  constructor() {
    // prom-client's own names already start with process_ / nodejs_: gatehouse_process_cpu_seconds_total, not
    // gatehouse_process_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
  }
}

/**
 * Counts refusals from the one-per-request event, off the request path. Codes come from the gates (fixed strings)
 * and labels from the classifier's label set, so cardinality stays bounded; children are cached per pair because
 * prom-client hashes its label values on every labels() call.
 */
export function refusalMetricsSink(metrics: GatewayMetrics): EventSink {
  const children = new Map<string, { inc(): void }>();
  return {
    name: 'refusal-metrics',
    onEvent(ev) {
      if (ev.outcome !== 'refused' && ev.outcome !== 'moderated') return;
      const code = ev.code ?? 'unknown';
      const label = ev.ref?.classifier ?? 'none';
      const key = `${code}\0${label}`;
      let c = children.get(key);
      if (!c) children.set(key, (c = metrics.refusals.labels(code, label)));
      c.inc();
    },
  };
}
