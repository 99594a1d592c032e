/**
 * The pure part of notifications: which webhook wants which event, the two payload shapes, the HMAC signature (and
 * its verification, for receivers and tests), the retry decision and the backoff delay. Functions of data only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NotificationEvent, NotificationType } from '../core/notify.ts';
import type { WebhookConfig } from './config.ts';

export const SIGNATURE_HEADER = 'gatehouse-signature';
export const EVENT_HEADER = 'gatehouse-event';
export const DELIVERY_HEADER = 'gatehouse-delivery';
export const ATTEMPT_HEADER = 'gatehouse-attempt';
/** Receivers should refuse a signature whose timestamp is further than this from their clock (replays). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** An event as it is queued: the contract's event plus its delivery id and the replica that announced it. */
export interface Envelope extends NotificationEvent {
  id: string;
  source: string;
}

/** Whether a webhook's `events` filter takes this type (`*`, the exact type, or its family `directive.*`). */
export function wants(filter: readonly string[], type: NotificationType): boolean {
  const family = `${type.split('.')[0]}.*`;
  return filter.some((f) => f === '*' || f === type || f === family);
}

/** The generic JSON body. */
export function jsonPayload(e: Envelope): Record<string, unknown> {
  return { id: e.id, type: e.type, time: new Date(e.time).toISOString(), severity: e.severity, summary: e.summary, source: e.source, details: e.details };
}

const EMOJI = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' } as const;

/** Slack mrkdwn needs only these three escaped. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Simple values of `details` become section fields (Slack allows 10, each up to 2000 characters). */
function fields(details: Record<string, unknown>): { type: 'mrkdwn'; text: string }[] {
  const out: { type: 'mrkdwn'; text: string }[] = [];
  for (const [k, v] of Object.entries(details)) {
    if (out.length === 10) break;
    if (v === null || v === undefined) continue;
    const text = Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (!text) continue;
    out.push({ type: 'mrkdwn', text: cut(`*${esc(k)}*\n${esc(text)}`, 2000) });
  }
  return out;
}

/**
 * A Slack incoming-webhook message: `text` (the notification fallback) and Block Kit blocks — a header, the
 * summary, the details as fields, and a context line (type, severity, time, source, id).
 */
export function slackPayload(e: Envelope): Record<string, unknown> {
  const title = `${EMOJI[e.severity]} Gatehouse: ${e.type}`;
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`Gatehouse: ${e.type}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(esc(e.summary), 3000) } },
  ];
  const f = fields(e.details);
  if (f.length) blocks.push({ type: 'section', fields: f });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(`${e.severity} · ${new Date(e.time).toISOString()} · ${esc(e.source)} · ${e.id}`, 3000) }] });
  return { text: cut(`${title} — ${e.summary}`, 3000), blocks };
}

export function payloadFor(format: WebhookConfig['format'], e: Envelope): string {
  return JSON.stringify(format === 'slack' ? slackPayload(e) : jsonPayload(e));
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * A receiver's check: the header parses, its timestamp is within `toleranceSeconds` of `nowSeconds`, and one of its
 * `v1` MACs matches the body (constant-time). Returns why not, or null when it verifies.
 */
export function verifySignature(secret: string, header: string | undefined, body: string, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): string | null {
  if (!header) return 'no signature header';
  let t: number | null = null;
  const macs: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d+$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) macs.push(v);
  }
  if (t === null || macs.length === 0) return 'malformed signature header';
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return 'timestamp outside the tolerance';
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return macs.some((m) => timingSafeEqual(Buffer.from(m), expected)) ? null : 'signature does not match';
}

/** Retry on timeouts, network errors, 408, 425, 429 and 5xx; any other status is final. */
export function retryable(status: number | null): boolean {
  return status === null || status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential (`initial × 2^(attempt−1)`, capped at
 * `max`), with jitter spreading it over 50–100 % of that so receivers coming back are not hit all at once. A
 * `Retry-After` from the receiver (seconds) is honoured up to `max`.
 */
export function retryDelay(attempt: number, cfg: { initialBackoffMs: number; maxBackoffMs: number }, random: number, retryAfterMs?: number): number {
  const base = Math.min(cfg.maxBackoffMs, cfg.initialBackoffMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  const jittered = Math.round(base / 2 + (base / 2) * Math.min(Math.max(random, 0), 1));
  return retryAfterMs !== undefined && retryAfterMs > jittered ? Math.min(retryAfterMs, cfg.maxBackoffMs) : jittered;
}

/** `Retry-After` as seconds or an HTTP date → milliseconds from `now`, or undefined. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
