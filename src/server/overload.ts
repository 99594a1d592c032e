/**
 * Overload protection for one process, like a production proxy: a bound on requests handled at once (beyond it a
 * request is answered 503 at once, with `retry-after`, instead of queueing until every client times out), and the
 * event loop's delay measured continuously — a Prometheus gauge and a /readyz line, so a load balancer stops sending
 * traffic to a replica whose loop is stalled.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';
import type { ReadinessCheck } from '../core/gates.ts';

export interface OverloadConfig {
  maxInFlight: number;
  retryAfterSeconds: number;
  readyMaxEventLoopDelayMs: number;
}

/** Length of the window the event-loop delay p99 is taken over. */
const WINDOW_MS = 5_000;

export class OverloadMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  /** p99 event-loop delay (ms) of the last complete window. */
  private lastP99Ms = 0;
  readonly readiness: ReadinessCheck;

  constructor(
    private config: () => OverloadConfig,
    inFlight: () => number,
    registry: Registry,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    const p99 = new Gauge({ name: 'gatehouse_event_loop_delay_p99_seconds', help: 'p99 event-loop delay over the last 5 s window', registers: [registry] });
    new Gauge({
      name: 'gatehouse_requests_in_flight',
      help: 'Chat requests being handled by this process',
      registers: [registry],
      collect(this: Gauge) {
        this.set(inFlight());
      },
    });
    this.timer = setInterval(() => {
      this.lastP99Ms = this.histogram.percentile(99) / 1e6;
      p99.set(this.lastP99Ms / 1000);
      this.histogram.reset();
    }, WINDOW_MS);
    this.timer.unref();
    this.readiness = {
      name: 'load',
      check: () => {
        const c = this.config();
        const n = inFlight();
        const stalled = this.lastP99Ms > c.readyMaxEventLoopDelayMs;
        const full = n >= c.maxInFlight;
        return { ok: !stalled && !full, detail: `${n}/${c.maxInFlight} in flight, event-loop p99 ${this.lastP99Ms.toFixed(1)} ms${stalled ? ' (stalled)' : ''}` };
      },
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
