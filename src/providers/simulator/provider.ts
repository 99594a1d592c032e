/** The in-process simulator provider and its registry entry (no wire dialect: no sockets at all). */
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../core/canonical.ts';
import { UpstreamFailure, type AttemptOptions, type Provider, type ProviderType } from '../types.ts';
import { simulatorConfigSchema, type SimulatorProviderConfig } from './config.ts';
import { DEFAULT_BEHAVIOUR, simulateComplete, simulateStream, type SimulatorBehaviour } from './engine.ts';

/** The in-process simulator provider: no sockets, so the demo needs no network at all. */
export class SimulatorProvider implements Provider {
  constructor(
    readonly name: string,
    private readonly behaviour: SimulatorBehaviour,
  ) {}

  async complete(req: CanonicalRequest, opts: AttemptOptions): Promise<CanonicalResponse> {
    return withTimeout(opts, (signal) => simulateComplete(req, opts.upstreamModel, this.behaviour, signal));
  }

  async stream(req: CanonicalRequest, opts: AttemptOptions, onEvent: (ev: StreamEvent) => void): Promise<void> {
    let first = false;
    return withTimeout(
      opts,
      (signal) =>
        simulateStream(req, opts.upstreamModel, this.behaviour, signal, (ev) => {
          first = true;
          onEvent(ev);
        }),
      () => first,
    );
  }

  async close(): Promise<void> {}
}

/** Applies the per-attempt timeout (to the whole call, or until the first event when `started` says so). */
async function withTimeout<T>(opts: AttemptOptions, run: (signal: AbortSignal) => Promise<T>, started?: () => boolean): Promise<T> {
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    if (started?.()) return;
    timedOut = true;
    ctrl.abort();
  }, opts.timeoutMs);
  const onCallerAbort = () => ctrl.abort();
  opts.signal.addEventListener('abort', onCallerAbort, { once: true });
  try {
    return await run(ctrl.signal);
  } catch (err) {
    if (timedOut) throw new UpstreamFailure('timeout', 'The upstream did not answer in time.');
    if (opts.signal.aborted) throw new UpstreamFailure('aborted', 'The request was cancelled.');
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onCallerAbort);
  }
}

/** `type: simulator` in config (demos and tests). */
export const simulatorProviderType = {
  type: 'simulator',
  dialect: null,
  configSchema: simulatorConfigSchema,
  create: (name, p) =>
    new SimulatorProvider(name, {
      ...DEFAULT_BEHAVIOUR,
      latencyMs: p.latencyMs,
      tokensPerSecond: p.tokensPerSecond,
      replyTokens: p.replyTokens,
      ...(p.replyText !== undefined ? { replyText: p.replyText } : {}),
      ...(p.failStatus !== undefined ? { failStatus: p.failStatus } : {}),
      ...(p.breakAfterChunks !== undefined ? { breakAfterChunks: p.breakAfterChunks } : {}),
      ...(p.resetConnection !== undefined ? { resetConnection: p.resetConnection } : {}),
    }),
} as const satisfies ProviderType<SimulatorProviderConfig>;
