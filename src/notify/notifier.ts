/**
 * Delivery: `publish(event)` returns at once; each webhook that wants the event gets it in its own bounded queue,
 * and up to `concurrency` deliveries per webhook run in the background (HTTP POST over a keep-alive pool, with a
 * per-attempt timeout). A failed attempt (timeout, network error, 408/425/429/5xx) is retried after an exponential
 * backoff with jitter; after `maxAttempts`, or on any other status, the event is given up for that webhook: logged
 * and counted. A full queue drops its oldest event (logged and counted). Nothing here ever waits on the caller's
 * path: the request path, the admin API and the triggers only append to an array.
 *
 * Events with a dedupe key are first claimed in the store (`Claims`), so a change every replica sees is announced
 * once; a claim the store cannot answer delivers anyway (a duplicate is better than silence when the store fails).
 */
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Agent, request } from 'undici';
import type { NotificationEvent } from '../core/notify.ts';
import type { Claims } from './claims.ts';
import type { NotificationsConfig, WebhookConfig } from './config.ts';
import { ATTEMPT_HEADER, DELIVERY_HEADER, EVENT_HEADER, parseRetryAfter, payloadFor, retryable, retryDelay, signature, SIGNATURE_HEADER, wants, type Envelope } from './format.ts';

export type NotifyLog = (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;

export interface NotifierOptions {
  config: NotificationsConfig;
  /** Webhook name → signing secret (read by the composition root from each webhook's `secretEnv`). */
  secrets?: Readonly<Record<string, string | undefined>>;
  /** Names this process in payloads (`source`). */
  source: string;
  claims?: Claims;
  registry?: Registry;
  log?: NotifyLog;
  now?: () => number;
  random?: () => number;
}

interface Item {
  env: Envelope;
  body: string;
  attempt: number;
  dueAt: number;
  lastError?: string;
}

export interface WebhookStats {
  delivered: number;
  gaveUp: number;
  dropped: number;
  attempts: number;
  queued: number;
  inFlight: number;
}

class Channel {
  readonly queue: Item[] = [];
  inFlight = 0;
  timer: NodeJS.Timeout | null = null;
  timerAt = 0;
  readonly stats: WebhookStats = { delivered: 0, gaveUp: 0, dropped: 0, attempts: 0, queued: 0, inFlight: 0 };
  constructor(
    readonly cfg: WebhookConfig,
    readonly secret: string | undefined,
  ) {}
}

/** Most dedupe keys remembered in-process (past it the memory is cleared; the store still dedupes). */
const MAX_SEEN = 10_000;

export class Notifier {
  private readonly channels: Channel[];
  private readonly agent: Agent;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly seen = new Set<string>();
  private readonly pendingClaims = new Set<Promise<void>>();
  private closed = false;
  private readonly outcomes: Counter<'webhook' | 'type' | 'outcome'> | null;
  private readonly attempts: Counter<'webhook' | 'result'> | null;

  constructor(private readonly opts: NotifierOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.channels = opts.config.webhooks.map((w) => new Channel(w, opts.secrets?.[w.name]));
    this.agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
    const registers = opts.registry ? [opts.registry] : [];
    this.outcomes = opts.registry
      ? new Counter({ name: 'gatehouse_notifications_total', help: 'Notification events per webhook and type by outcome: delivered, gave_up (retries exhausted or a final status), dropped (queue full or shutdown)', labelNames: ['webhook', 'type', 'outcome'], registers })
      : null;
    this.attempts = opts.registry
      ? new Counter({ name: 'gatehouse_notification_attempts_total', help: 'Webhook delivery attempts by result: 2xx, 4xx, 5xx, other (any other status), error (timeout or network)', labelNames: ['webhook', 'result'], registers })
      : null;
    if (opts.registry) {
      const channels = this.channels;
      new Gauge({
        name: 'gatehouse_notifications_queued',
        help: 'Notification events waiting (or waiting for a retry) per webhook',
        labelNames: ['webhook'],
        registers,
        collect() {
          for (const c of channels) this.set({ webhook: c.cfg.name }, c.queue.length + c.inFlight);
        },
      });
    }
  }

  /** True when at least one webhook is configured. */
  get enabled(): boolean {
    return this.channels.length > 0;
  }

  /** Announces an event to every webhook whose filter takes it. Returns at once. */
  publish(event: NotificationEvent): void {
    if (this.closed || this.channels.length === 0) return;
    const targets = this.channels.filter((c) => wants(c.cfg.events, event.type));
    if (targets.length === 0) return;
    const key = event.dedupeKey;
    if (key === undefined) return this.enqueue(targets, event);
    if (this.seen.has(key)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(key);
    if (!this.opts.claims) return this.enqueue(targets, event);
    const p = this.opts.claims
      .claim(key)
      .then(
        (won) => (won ? this.enqueue(targets, event) : undefined),
        (err: Error) => {
          this.opts.log?.('warn', { err: err.message, type: event.type, dedupeKey: key }, 'notification claim failed; delivering anyway');
          this.enqueue(targets, event);
        },
      )
      .finally(() => this.pendingClaims.delete(p));
    this.pendingClaims.add(p);
  }

  /** Per-webhook counters (tests, diagnostics). */
  stats(): Record<string, WebhookStats> {
    const out: Record<string, WebhookStats> = {};
    for (const c of this.channels) out[c.cfg.name] = { ...c.stats, queued: c.queue.length, inFlight: c.inFlight };
    return out;
  }

  /** Resolves when every queue is empty and nothing is in flight, or after `timeoutMs` (returns false then). */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const until = this.now() + timeoutMs;
    for (;;) {
      await Promise.all([...this.pendingClaims]);
      if (this.channels.every((c) => c.queue.length === 0 && c.inFlight === 0)) return true;
      if (this.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops delivering: waits up to `graceMs` for what is queued and due, then drops the rest (counted, logged). */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    await this.idleDue(graceMs);
    this.closed = true;
    for (const c of this.channels) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
      if (c.queue.length > 0) {
        this.opts.log?.('warn', { webhook: c.cfg.name, undelivered: c.queue.length }, 'notifications left undelivered at shutdown');
        for (const item of c.queue.splice(0)) this.count(c, item.env, 'dropped');
      }
    }
    await this.agent.destroy();
  }

  /** Waits while something is in flight or due now (not for retries scheduled later). */
  private async idleDue(graceMs: number): Promise<void> {
    const until = this.now() + graceMs;
    while (this.now() < until) {
      await Promise.all([...this.pendingClaims]);
      const now = this.now();
      if (this.channels.every((c) => c.inFlight === 0 && c.queue.every((i) => i.dueAt > now))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private enqueue(targets: Channel[], event: NotificationEvent): void {
    if (this.closed) return;
    const { dedupeKey: _omit, ...rest } = event;
    const env: Envelope = { ...rest, id: `ntf_${randomUUID()}`, source: this.opts.source };
    const now = this.now();
    for (const c of targets) {
      this.push(c, { env, body: payloadFor(c.cfg.format, env), attempt: 0, dueAt: now });
      this.pump(c);
    }
  }

  private push(c: Channel, item: Item): void {
    if (c.queue.length >= c.cfg.queueSize) {
      const old = c.queue.shift()!;
      this.count(c, old.env, 'dropped');
      this.opts.log?.('warn', { webhook: c.cfg.name, type: old.env.type, id: old.env.id, queueSize: c.cfg.queueSize }, 'notification queue full: oldest event dropped');
    }
    c.queue.push(item);
  }

  private count(c: Channel, env: Envelope, outcome: 'delivered' | 'gave_up' | 'dropped'): void {
    if (outcome === 'delivered') c.stats.delivered++;
    else if (outcome === 'gave_up') c.stats.gaveUp++;
    else c.stats.dropped++;
    this.outcomes?.inc({ webhook: c.cfg.name, type: env.type, outcome });
  }

  private pump(c: Channel): void {
    if (this.closed) return;
    const now = this.now();
    while (c.inFlight < c.cfg.concurrency) {
      let idx = -1;
      for (let i = 0; i < c.queue.length; i++) if (c.queue[i]!.dueAt <= now && (idx < 0 || c.queue[i]!.dueAt < c.queue[idx]!.dueAt)) idx = i;
      if (idx < 0) break;
      const item = c.queue.splice(idx, 1)[0]!;
      c.inFlight++;
      void this.attempt(c, item).finally(() => {
        c.inFlight--;
        this.pump(c);
      });
    }
    // Wake up for the earliest retry still waiting.
    let next = Infinity;
    for (const i of c.queue) if (i.dueAt > now && i.dueAt < next) next = i.dueAt;
    if (next === Infinity || (c.timer && c.timerAt <= next)) return;
    if (c.timer) clearTimeout(c.timer);
    c.timerAt = next;
    c.timer = setTimeout(() => {
      c.timer = null;
      this.pump(c);
    }, next - now);
    c.timer.unref();
  }

  private async attempt(c: Channel, item: Item): Promise<void> {
    item.attempt++;
    c.stats.attempts++;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'gatehouse-notify',
      [EVENT_HEADER]: item.env.type,
      [DELIVERY_HEADER]: item.env.id,
      [ATTEMPT_HEADER]: String(item.attempt),
    };
    if (c.secret) headers[SIGNATURE_HEADER] = signature(c.secret, item.body, Math.floor(this.now() / 1000));
    let status: number | null = null;
    let retryAfterMs: number | undefined;
    try {
      const res = await request(c.cfg.url, { method: 'POST', headers, body: item.body, dispatcher: this.agent, signal: AbortSignal.timeout(c.cfg.timeoutMs) });
      status = res.statusCode;
      const ra = res.headers['retry-after'];
      retryAfterMs = parseRetryAfter(Array.isArray(ra) ? ra[0] : ra, this.now());
      await res.body.dump().catch(() => undefined);
    } catch (err) {
      const e = err as Error;
      item.lastError = e.name === 'TimeoutError' || e.name === 'AbortError' ? `timed out after ${c.cfg.timeoutMs} ms` : e.message;
    }
    this.attempts?.inc({ webhook: c.cfg.name, result: status === null ? 'error' : status >= 200 && status < 300 ? '2xx' : status >= 500 && status < 600 ? '5xx' : status >= 400 && status < 500 ? '4xx' : 'other' });
    if (status !== null && status >= 200 && status < 300) return this.count(c, item.env, 'delivered');
    if (status !== null) item.lastError = `HTTP ${status}`;
    if (this.closed) return this.count(c, item.env, 'dropped');
    if (!retryable(status) || item.attempt >= c.cfg.maxAttempts) {
      this.count(c, item.env, 'gave_up');
      this.opts.log?.('warn', { webhook: c.cfg.name, type: item.env.type, id: item.env.id, attempts: item.attempt, lastError: item.lastError }, `notification given up after ${item.attempt} attempt${item.attempt === 1 ? '' : 's'}`);
      return;
    }
    item.dueAt = this.now() + retryDelay(item.attempt, c.cfg, this.random(), retryAfterMs);
    this.push(c, item);
  }
}
