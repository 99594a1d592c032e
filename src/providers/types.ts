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

export interface AttemptOptions {
  upstreamModel: string;
  /** Caller disconnect or overall deadline. */
  signal: AbortSignal;
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
