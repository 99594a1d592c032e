/**
 * Shared HTTP plumbing for real upstreams: one keep-alive undici Pool per origin, error classification, and
 * a streaming body reader with a first-event timeout.
 */
import { EventEmitter } from 'node:events';
import { Pool, errors as undiciErrors } from 'undici';
import { UpstreamFailure, type AttemptOptions, type CancelSignal } from './types.ts';

export interface HttpUpstreamOptions {
  baseUrl: string;
  headers: Record<string, string>;
  connections: number;
}

export class HttpUpstream {
  private readonly pool: Pool;
  private readonly basePath: string;
  constructor(private readonly opts: HttpUpstreamOptions) {
    const url = new URL(opts.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  /**
   * POSTs JSON; returns status and body stream. Failures are UpstreamFailure. `attemptSignal` comes from
   * attemptTimer(ms, attempt.signal): it already follows the caller's signal, so no AbortSignal.any per attempt.
   */
  async post(path: string, body: string, attempt: AttemptOptions, attemptSignal: AttemptSignal) {
    try {
      const res = await this.pool.request({
        path: this.basePath + path,
        method: 'POST',
        headers: attempt.traceparent ? { ...this.opts.headers, traceparent: attempt.traceparent } : this.opts.headers,
        body,
        signal: attemptSignal,
        headersTimeout: attempt.timeoutMs,
        bodyTimeout: 0, // body idle time is governed by our own timers
      });
      return res;
    } catch (err) {
      throw classify(err, attempt.signal, attemptSignal);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function classify(err: unknown, callerSignal: CancelSignal, timeoutSignal?: { readonly aborted: boolean }): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (callerSignal.aborted) return new UpstreamFailure('aborted', 'The request was cancelled.');
  if (timeoutSignal?.aborted) return new UpstreamFailure('timeout', 'The upstream did not answer in time.');
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new UpstreamFailure('timeout', 'The upstream did not answer in time.');
  }
  if (err instanceof undiciErrors.ConnectTimeoutError) return new UpstreamFailure('connect', 'Timed out connecting to the upstream.');
  const code = (err as { code?: string })?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UpstreamFailure('connect', 'Could not connect to the upstream.');
  }
  if (code === 'UND_ERR_ABORTED' || (err as Error)?.name === 'AbortError') {
    return new UpstreamFailure('timeout', 'The upstream did not answer in time.');
  }
  return new UpstreamFailure('reset', 'The upstream connection was closed unexpectedly.');
}

/** Reads a body stream as text chunks; a timer aborts if no first chunk arrives within `firstMs`. */
export async function readText(body: AsyncIterable<Buffer | string> & { setEncoding?(e: string): unknown }, onText: (s: string) => void): Promise<void> {
  body.setEncoding?.('utf8');
  for await (const chunk of body) onText(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
}

/**
 * An attempt's cancellation signal for undici, which accepts an EventEmitter with `aborted`/`reason` as well as
 * an AbortSignal. Creating an AbortSignal and adding/removing EventTarget listeners cost a few microseconds per
 * request in Node 20 (it showed as ~4 % of the gateway's CPU under load); an EventEmitter costs a fraction.
 */
export class AttemptSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/**
 * The attempt's signal: aborts when `ms` pass (a timeout, cancellable once the first byte arrived) or when
 * `parent` (the caller's signal) aborts. One lightweight signal and one listener on the parent, not
 * AbortSignal.any. classify() checks the caller's signal first, so an abort that came from the parent is still
 * reported as 'aborted', not 'timeout'.
 */
export function attemptTimer(ms: number, parent?: CancelSignal): AttemptTimer {
  const signal = new AttemptSignal();
  let onParentAbort: (() => void) | undefined;
  if (parent) {
    if (parent.aborted) signal.abort(parent.reason);
    else parent.addEventListener('abort', (onParentAbort = () => signal.abort(parent.reason)), { once: true });
  }
  let t = setTimeout(abortOnTimeout, ms, signal);
  t.unref?.();
  let armed = true;
  return {
    signal,
    rearm: (idleMs) => {
      clearTimeout(t);
      armed = idleMs !== undefined;
      if (armed) {
        t = setTimeout(abortOnTimeout, idleMs, signal);
        t.unref?.();
      }
    },
    // refresh() restarts the same timer without allocating: cheap enough for every event of a stream.
    touch: () => {
      if (armed) t.refresh();
    },
    done: () => {
      clearTimeout(t);
      armed = false;
      // The attempt is over: its signal no longer needs to follow the caller's.
      if (onParentAbort) parent!.removeEventListener('abort', onParentAbort);
      onParentAbort = undefined;
    },
  };
}

export interface AttemptTimer {
  signal: AttemptSignal;
  /** Replaces the timeout with one of `idleMs` (none when undefined), restarted by touch(). */
  rearm(idleMs: number | undefined): void;
  /** Restarts the current timeout (another stream event arrived). */
  touch(): void;
  /** The attempt is over: stops the timeout and stops following the caller's signal. */
  done(): void;
}

function abortOnTimeout(signal: AttemptSignal): void {
  signal.abort();
}
