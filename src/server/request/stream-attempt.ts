/**
 * Upstream attempts, streaming. A stream commits to an attempt only when content arrives, so an upstream that
 * opens a stream and dies before saying anything can still fall back; after the first byte a break ends the
 * stream with the protocol's error event. Output moderation releases text as the moderator says.
 */
import type { StreamEvent } from '../../core/canonical.ts';
import type { Verdict } from '../../core/types.ts';
import { GatewayError } from '../../protocol/errors.ts';
import { UpstreamFailure, type AttemptOptions } from '../../providers/types.ts';
import type { CatalogueModel } from '../catalogue.ts';
import { account, asFailure, countFailure, walkPlan } from './attempts.ts';
import type { Attempting, PathParts } from './phases.ts';
import { failureError } from './errors.ts';
import type { StreamWriter } from './state.ts';

type StopEvent = Extract<StreamEvent, { type: 'stop' }>;

export async function streamRequest(parts: PathParts, a: Attempting): Promise<void> {
  const run = new StreamRun(parts, a);
  const r = await walkPlan(parts, a, (target, remaining) => run.attempt(target, remaining));
  if (r === 'done') return;
  const { state, res } = a;
  if (a.signal.aborted && res.destroyed) return parts.outcomes.clientClosed(state, res);
  state.outcome = 'upstream_error';
  return parts.outcomes.finishWithError(state, res, failureError(r, state.skipped));
}

/** One streaming request across its attempts; the fields under "this attempt" are reset for each. */
class StreamRun {
  // What the upstream streamed, for the output count when its usage never arrives (a disconnect, a break).
  private streamedText = '';
  private usageIn: number | undefined;
  private usageOut: number | undefined;
  private moderatedStop: Verdict | undefined;
  private readonly created: number;
  // this attempt
  private target!: CatalogueModel;
  private t0 = 0;
  private writer: StreamWriter | null = null;
  private stopEvent: StopEvent | null = null;
  private heldStart: StreamEvent | null = null;
  // Events parsed from one upstream read go out as one string in one res.write, not one write per event:
  // every res.write costs the Writable machinery and its own chunked-encoding frame.
  private pending = '';

  constructor(
    private readonly parts: PathParts,
    private readonly a: Attempting,
  ) {
    this.created = Math.floor(a.state.time / 1000);
  }

  async attempt(target: CatalogueModel, remaining: number): Promise<UpstreamFailure | 'done'> {
    this.target = target;
    this.t0 = performance.now();
    this.writer = null;
    this.stopEvent = null;
    this.heldStart = null;
    const opts: AttemptOptions = { upstreamModel: target.config.upstreamModel, signal: this.a.signal, timeoutMs: Math.min(target.config.timeoutMs, remaining), idleTimeoutMs: target.config.idleTimeoutMs };
    const span = this.a.state.span?.attempt(target.config.name, target.config.upstreamModel, target.provider.name);
    if (span) opts.traceparent = span.traceparent();
    try {
      await target.provider.stream(this.a.req, opts, this.onEvent);
    } catch (err) {
      this.flush(); // what was streamed goes out before anything written below
      const f = asFailure(err);
      span?.end({ 'gatehouse.committed': this.writer !== null }, f.kind);
      return this.broke(f);
    }
    this.flush();
    span?.end({ 'gatehouse.committed': this.writer !== null });
    if (!this.writer) return new UpstreamFailure('bad_response', 'The upstream stream was empty.');
    await this.finish(this.writer);
    return 'done';
  }

  private readonly flush = (): void => {
    if (!this.pending) return;
    const s = this.pending;
    this.pending = '';
    this.a.res.write(s);
  };

  private send(s: string): void {
    if (!s) return;
    if (!this.pending) queueMicrotask(this.flush);
    this.pending += s;
  }

  private readonly onEvent = (ev: StreamEvent): void => {
    const state = this.a.state;
    if (state.responseText !== null) {
      if (ev.type === 'text_delta') state.responseText += ev.text;
      else if (ev.type === 'tool_start') state.responseText += `\n[tool ${ev.name}] `;
      else if (ev.type === 'tool_delta') state.responseText += ev.json;
    }
    if (this.moderatedStop) return;
    if (!this.writer && ev.type === 'start') {
      this.heldStart = ev;
      if (ev.inputTokens !== undefined) this.usageIn = ev.inputTokens;
      return;
    }
    const writer = this.writer ?? this.commit();
    if (ev.type === 'start') {
      if (ev.inputTokens !== undefined) this.usageIn = ev.inputTokens;
    } else if (ev.type === 'text_delta') {
      this.streamedText += ev.text;
      if (this.a.moderator) return this.moderate(writer, ev.index, ev.text);
    } else if (ev.type === 'stop') {
      this.stopEvent = ev;
      if (ev.usage.inputTokens !== undefined) this.usageIn = ev.usage.inputTokens;
      if (ev.usage.outputTokens !== undefined) this.usageOut = ev.usage.outputTokens;
      return; // written after accounting + audit, in finish
    }
    this.send(writer.write(ev));
  };

  private moderate(writer: StreamWriter, index: number, text: string): void {
    const r = this.a.moderator!.push(text);
    if (r.release) this.send(writer.write({ type: 'text_delta', index, text: r.release }));
    if (r.verdict && r.verdict.action !== 'allow') this.moderatedStop = r.verdict;
  }

  /** First content event: commit to this attempt and send headers now (no fallback after this point). */
  private commit(): StreamWriter {
    const { state, res, model, req } = this.a;
    const { parts, target } = this;
    parts.children.get(parts.deps.metrics.upstreamDuration, `${target.provider.name}\0true`, () => [target.provider.name, 'true']).observe((performance.now() - this.t0) / 1000);
    state.upstreamMs += performance.now() - this.t0;
    state.modelServed = target.config.name;
    if (target !== model) parts.deps.metrics.fallbacks.labels(model.config.name, target.config.name).inc();
    const writer = state.protocol.streamWriter(state.protocol.responseId(state.requestId), target.config.name, this.created, req.includeUsage);
    this.writer = writer;
    state.writer = writer;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': state.requestId,
      'x-gatehouse-served-model': target.config.name,
    });
    this.send(writer.write(this.heldStart ?? { type: 'start', id: state.requestId, model: target.config.name }));
    return writer;
  }

  /** The upstream failed: before the first byte another attempt may follow; after it the stream ends in error. */
  private async broke(f: UpstreamFailure): Promise<UpstreamFailure | 'done'> {
    const { state, res, signal } = this.a;
    if (!this.writer) {
      state.upstreamMs += performance.now() - this.t0;
      countFailure(this.parts, this.target, f);
      return f;
    }
    countFailure(this.parts, this.target, f);
    const counting = this.account();
    if (counting) await counting;
    if (signal.aborted || res.destroyed) {
      this.parts.outcomes.clientClosed(state, res);
      return 'done';
    }
    state.outcome = 'stream_error';
    state.status = 502;
    state.code = 'upstream_stream_broken';
    const error = new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_stream_broken', message: 'The upstream stream broke before completion.' });
    await this.parts.outcomes.endStream(state, res, this.writer, error);
    return 'done';
  }

  /** The upstream ended: the moderator's last word, accounting, the record, then the stop event. */
  private async finish(w: StreamWriter): Promise<void> {
    const { state, res, moderator } = this.a;
    if (moderator && !this.moderatedStop) {
      const r = moderator.end();
      if (r.release) res.write(w.write({ type: 'text_delta', index: 0, text: r.release }));
      if (r.verdict && r.verdict.action !== 'allow') this.moderatedStop = r.verdict;
    }
    const counting = this.account();
    if (counting) await counting;
    const usage = { inputTokens: state.inputTokens, outputTokens: state.outputTokens };
    const stop = this.moderatedStop;
    if (stop) {
      state.outcome = 'moderated';
      state.code = stop.action === 'refuse' ? stop.code : 'output_moderated';
      if (stop.ref) state.verdictRef = stop.ref;
      return this.parts.outcomes.endStream(state, res, w, { type: 'stop', stopReason: 'content_filter', usage });
    }
    return this.parts.outcomes.endStream(state, res, w, { type: 'stop', stopReason: this.stopEvent?.stopReason ?? 'end_turn', usage });
  }

  private account(): void | Promise<void> {
    return account(this.parts, this.a.state, this.target, this.a.req, this.usageIn ?? -1, this.usageOut ?? -1, this.streamedText);
  }
}
