/**
 * The one outcome handler: every request ends here. The audit record is made durable before the response
 * completes (or the response is replaced by 503 audit_unavailable), then exactly one RequestEvent goes to the
 * metrics, the log line and the sinks.
 */
import type { ServerResponse } from 'node:http';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../core/canonical.ts';
import { GatewayError } from '../../protocol/errors.ts';
import type { CatalogueModel } from '../catalogue.ts';
import type { MetricChildren, RequestPathDeps } from './context.ts';
import { auditUnavailable, internalError } from './errors.ts';
import { toEvent, type RequestState, type StreamWriter } from './state.ts';

export class Outcomes {
  constructor(
    private readonly deps: RequestPathDeps,
    private readonly children: MetricChildren,
  ) {}

  /**
   * The durability point: resolves true once the audit record of this request is durable (or when audit is off).
   * False means the record could not be written and the caller must not complete the response — unless the
   * operator chose `onWriteFailure: serve`, in which case it is true and the failure is only logged.
   */
  async durableAppend(state: RequestState): Promise<boolean> {
    const durable = this.deps.durable();
    if (!durable) return true;
    const ev = toEvent(state);
    state.event = ev;
    try {
      if (state.request && state.responseText !== null) await durable.append(ev, { request: state.request, response: state.responseText });
      else await durable.append(ev);
      return true;
    } catch (err) {
      this.deps.logger.error({ requestId: state.requestId, err: (err as Error).message }, 'audit append failed');
      return !this.deps.refuseWhenUnaudited;
    }
  }

  async finishWithError(state: RequestState, res: ServerResponse, err: GatewayError): Promise<void> {
    state.status = err.status;
    if (!state.code) state.code = err.code;
    if (!(await this.durableAppend(state))) return this.refuseUnaudited(state, res);
    return this.sendError(state, res, err);
  }

  async finishWithBody(state: RequestState, res: ServerResponse, response: CanonicalResponse, target: CatalogueModel): Promise<void> {
    const body = state.protocol.responseBody({ ...response, id: state.requestId.replace(/-/g, '') }, target.config.name, Math.floor(state.time / 1000));
    if (!(await this.durableAppend(state))) {
      // The reply is withheld: a client must never receive a response the log has no record of.
      state.outcome = 'refused';
      return this.refuseUnaudited(state, res);
    }
    if (res.destroyed) return this.clientClosed(state, res);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': state.requestId,
      'x-gatehouse-served-model': target.config.name,
    });
    res.end(body);
    return this.emit(state);
  }

  /** Ends a started stream with `last` (its stop event, or the error it ends with) once the record is durable. */
  async endStream(state: RequestState, res: ServerResponse, writer: StreamWriter, last: StreamEvent | GatewayError): Promise<void> {
    if (!(await this.durableAppend(state))) return this.endStreamUnaudited(state, res, writer);
    res.end(last instanceof GatewayError ? writer.error(last) : writer.write(last));
    return this.emit(state);
  }

  /** The client went away: nothing more is written; the event records 499. */
  clientClosed(state: RequestState, res: ServerResponse): void {
    state.outcome = 'client_closed';
    state.status = 499;
    res.destroy();
    return this.emit(state);
  }

  /**
   * A refusal that carries a safe completion (e.g. a supportive reply to a self-harm request): the caller gets it as
   * a normal assistant reply (200, streaming or not) without any model being called. The outcome stays `refused`
   * with the verdict's code, so audit, metering and metrics count it as the refusal it is;
   * `x-gatehouse-safe-completion` carries the code.
   */
  async safeCompletion(state: RequestState, req: CanonicalRequest, model: CatalogueModel, res: ServerResponse, text: string): Promise<void> {
    if (state.responseText !== null) state.responseText = text;
    if (!(await this.durableAppend(state))) return this.refuseUnaudited(state, res);
    if (res.destroyed) return this.clientClosed(state, res);
    const created = Math.floor(state.time / 1000);
    const name = model.config.name;
    const headers = { 'x-request-id': state.requestId, 'x-gatehouse-safe-completion': state.code ?? 'safe_completion' };
    if (req.stream) {
      const w = state.protocol.streamWriter(state.protocol.responseId(state.requestId), name, created, req.includeUsage);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
      res.end(
        w.write({ type: 'start', id: state.requestId, model: name, inputTokens: 0 }) +
          w.write({ type: 'text_delta', index: 0, text }) +
          w.write({ type: 'block_stop', index: 0 }) +
          w.write({ type: 'stop', stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } }),
      );
      return this.emit(state);
    }
    const response: CanonicalResponse = { id: state.requestId.replace(/-/g, ''), model: name, content: [{ type: 'text', text }], stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } };
    const body = state.protocol.responseBody(response, name, created);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
    return this.emit(state);
  }

  /**
   * Last resort for an exception anywhere on the request path: a log line with the request id, the caller's
   * protocol error (500, or the stream's error event once a stream has started), and the request's audit record.
   */
  async failUnexpectedly(state: RequestState, res: ServerResponse, err: unknown): Promise<void> {
    try {
      const e = err as Error;
      this.deps.logger.error({ requestId: state.requestId, err: { type: e?.name, message: e?.message, stack: e?.stack } }, 'request failed unexpectedly');
      if (state.emitted) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      state.outcome = 'internal_error';
      state.code = 'internal_error';
      const error = internalError(state.requestId);
      state.status = 500;
      if (!res.headersSent) return await this.finishWithError(state, res, error);
      // Mid-stream: the stream ends with the protocol's error event instead of its stop event.
      await this.durableAppend(state);
      if (state.writer && !res.destroyed && !res.writableEnded) res.end(state.writer.error(error));
      else if (!res.writableEnded) res.destroy();
      return this.emit(state);
    } catch (again) {
      this.deps.logger.error({ requestId: state.requestId, err: (again as Error)?.message }, 'request failure could not be reported');
      if (!res.writableEnded) res.destroy();
    }
  }

  /** The response this request was going to get is replaced by 503 audit_unavailable: its record failed. */
  private refuseUnaudited(state: RequestState, res: ServerResponse): void {
    state.status = 503;
    state.code = 'audit_unavailable';
    return this.sendError(state, res, auditUnavailable());
  }

  /** A stream whose record could not be made durable ends with an error event instead of its stop event. */
  private endStreamUnaudited(state: RequestState, res: ServerResponse, writer: StreamWriter): void {
    state.outcome = 'stream_error';
    state.status = 503;
    state.code = 'audit_unavailable';
    if (!res.destroyed) res.end(writer.error(auditUnavailable()));
    return this.emit(state);
  }

  /** Writes an error response (no audit append: the caller has done it or it has just failed). */
  private sendError(state: RequestState, res: ServerResponse, err: GatewayError): void {
    if (!res.headersSent && !res.destroyed) {
      const body = state.protocol.errorBody(err);
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': state.requestId,
      };
      if (err.retryAfter !== undefined) headers['retry-after'] = Math.max(1, Math.ceil(err.retryAfter));
      if (state.protocol.name === 'anthropic') headers['x-should-retry'] = err.status >= 500 || err.status === 429 ? 'true' : 'false';
      res.writeHead(err.status, headers);
      res.end(body);
    }
    return this.emit(state);
  }

  /** The one event of this request, to metrics, the log and the sinks; never twice. */
  private emit(state: RequestState): void {
    if (state.emitted) return;
    state.emitted = true;
    const ev = state.event ?? toEvent(state);
    ev.latencyMs = performance.now() - state.started;
    this.observe(state, ev.latencyMs);
    this.log(state, ev);
    if (state.span) state.span.end(ev);
    for (const sink of this.deps.sinks()) {
      try {
        sink.onEvent(ev);
      } catch (err) {
        this.deps.logger.error({ sink: sink.name, err: (err as Error).message }, 'event sink failed');
      }
    }
  }

  private observe(state: RequestState, latencyMs: number): void {
    const { metrics } = this.deps;
    const streamLabel = state.stream ? 'true' : 'false';
    const model = state.modelServed ?? (this.deps.catalogue().models.has(state.modelRequested) ? state.modelRequested : 'unknown');
    this.children.get(metrics.requests, `${state.protocol.name}\0${state.outcome}\0${model}\0${state.status}`, () => [state.protocol.name, state.outcome, model, String(state.status)]).inc();
    const pk = `${state.protocol.name}\0${streamLabel}`;
    this.children.get(metrics.duration, pk, () => [state.protocol.name, streamLabel]).observe(latencyMs / 1000);
    this.children.get(metrics.overhead, pk, () => [state.protocol.name, streamLabel]).observe(Math.max(0, latencyMs - state.upstreamMs) / 1000);
  }

  private log(state: RequestState, ev: RequestState['event'] & object): void {
    const log = {
      requestId: state.requestId,
      principal: ev.accountId,
      keyId: ev.keyId,
      protocol: ev.protocol,
      stream: ev.stream,
      modelRequested: ev.modelRequested || undefined,
      modelServed: ev.modelServed ?? undefined,
      outcome: ev.outcome,
      status: ev.status,
      code: ev.code,
      latencyMs: Math.round(ev.latencyMs * 100) / 100,
      inputTokens: ev.inputTokens,
      outputTokens: ev.outputTokens,
      traceId: state.traceId,
    };
    if (ev.status >= 500) this.deps.logger.warn(log, 'request');
    else this.deps.logger.info(log, 'request');
  }
}
