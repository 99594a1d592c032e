/** What the phases of the request path share: the injected capabilities and a cache of metric children. */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { CanonicalRequest } from '../../core/canonical.ts';
import type { DurableSink, EventSink, GateInput, RequestGate } from '../../core/gates.ts';
import type { KeyLookupResult, Verdict } from '../../core/types.ts';
import type { LazyTokenCounter, TokenCounter } from '../../meter/tokenizer.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { Tracing } from '../../observability/tracing.ts';
import type { Catalogue } from '../catalogue.ts';

export type { KeyLookupResult };

export interface KeyLookup {
  lookup(secret: string | undefined): KeyLookupResult;
}

/** Incremental output moderation: text goes out only as `release` says; a verdict ends the stream. */
export interface StreamModerator {
  push(text: string): { release: string; verdict?: Verdict };
  end(): { release: string; verdict?: Verdict };
}

export interface RequestPathDeps {
  catalogue(): Catalogue;
  keys: KeyLookup;
  gates(): readonly RequestGate[];
  sinks(): readonly EventSink[];
  durable(): DurableSink | null;
  /** When the durable sink is unhealthy: refuse (503) or serve unaudited. */
  refuseWhenUnaudited: boolean;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Optional prompt hashing/sketching for audit and abuse (keyed hash; never the text). */
  fingerprint?(req: CanonicalRequest): { promptHash?: string; promptSketch?: string; promptShape?: string; reasoningRequested?: boolean };
  /** Optional hook to wrap streamed text (output moderation). */
  moderator?(input: GateInput): StreamModerator | null;
  /** Counts tokens when an upstream reports no usage (default: characters / 4). */
  tokens?: TokenCounter | LazyTokenCounter;
  /** Requests handled at once before new ones are answered 503 overloaded, and the retry-after sent then. */
  overload?: () => { maxInFlight: number; retryAfterSeconds: number };
  /** The tracer when `tracing:` is configured; without it the request path creates no span objects at all. */
  tracing?: () => Tracing | null;
}

export function bearerOrApiKey(req: IncomingMessage): string | undefined {
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const a = req.headers.authorization;
  if (typeof a === 'string' && a.length > 7 && a.slice(0, 7).toLowerCase() === 'bearer ') return a.slice(7).trim();
  return undefined;
}

/**
 * prom-client's labels() hashes its arguments into a key on every call; the label sets here are few and
 * bounded (config model names, fixed enums), so the children are cached per metric and label tuple.
 */
export class MetricChildren {
  private readonly children = new Map<object, Map<string, unknown>>();
  get<T>(metric: { labels(...values: string[]): T }, key: string, values: () => string[]): T {
    let byKey = this.children.get(metric);
    if (!byKey) this.children.set(metric, (byKey = new Map()));
    let c = byKey.get(key) as T | undefined;
    if (c === undefined) {
      c = metric.labels(...values());
      byKey.set(key, c);
    }
    return c;
  }
}
