import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.ts';

/** What kind of upstream failure happened; decides whether a fallback may be tried. */
export type FailureKind = 'timeout' | 'connect' | 'reset' | 'status' | 'bad_response' | 'aborted';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
  /** Client errors (4xx other than 408/429) are the caller's fault: retrying elsewhere would fail the same way. */
  get retryable(): boolean {
    if (this.kind === 'aborted') return false;
    if (this.kind !== 'status' || this.status === undefined) return true;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/**
 * What an attempt needs of the caller's cancellation. An AbortSignal satisfies it; the gateway passes a lighter
 * object (no EventTarget, no Event per abort), one per request.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A CancelSignal the gateway aborts itself: listeners are called once, on the first abort. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | null = null;
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1;
    if (i >= 0) this.listeners!.splice(i, 1);
  }
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners) for (const l of listeners) l();
  }
}

export interface AttemptOptions {
  upstreamModel: string;
  /** Caller disconnect or overall deadline. */
  signal: CancelSignal;
  /** Time allowed for the whole response (non-streaming) or until the first event (streaming). */
  timeoutMs: number;
  /** Streaming: longest silence between events after the first (default: no bound but the overall deadline). */
  idleTimeoutMs?: number;
  /** W3C traceparent of the attempt's span, sent upstream so its spans join the request's trace (tracing on). */
  traceparent?: string;
}

/** One upstream. Adapters translate the canonical model to the provider's wire format and back. */
export interface Provider {
  readonly name: string;
  complete(req: CanonicalRequest, opts: AttemptOptions): Promise<CanonicalResponse>;
  /**
   * Streams events to `onEvent` and resolves when the upstream stream ended cleanly. Rejects with
   * UpstreamFailure otherwise; the caller knows whether any event was delivered before the failure.
   */
  stream(req: CanonicalRequest, opts: AttemptOptions, onEvent: (ev: StreamEvent) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * A provider type as the registry (registry.ts) knows it: the `type:` word in config, the zod schema of its config
 * entry (a strict object whose `type` is that literal), the wire dialect it speaks upstream, and its factory.
 */
export interface ProviderType<C extends { type: string }> {
  readonly type: C['type'];
  /** The wire protocol spoken upstream (`protocol/<dialect>.ts`), or null for an in-process provider. */
  readonly dialect: 'openai' | 'anthropic' | null;
  readonly configSchema: { parse(input: unknown): C };
  /** Builds the provider named `name`; provider keys are read from `env` by variable name, never from the file. */
  create(name: string, config: C, env: NodeJS.ProcessEnv): Provider;
}
