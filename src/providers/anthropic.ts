/** Anthropic Messages API upstream. */
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.ts';
import { parseUpstreamResponse, upstreamRequestBody, UpstreamStreamReader } from '../protocol/anthropic.ts';
import { SseParser } from '../protocol/sse.ts';
import { attemptTimer, classify, HttpUpstream, readText } from './http.ts';
import { UpstreamFailure, type AttemptOptions, type Provider } from './types.ts';

export interface AnthropicOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  version: string;
  defaultMaxTokens: number;
  headers?: Record<string, string>;
  connections: number;
}

export class AnthropicProvider implements Provider {
  readonly name: string;
  private readonly http: HttpUpstream;
  private readonly defaultMaxTokens: number;
  constructor(opts: AnthropicOptions) {
    this.name = opts.name;
    this.defaultMaxTokens = opts.defaultMaxTokens;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': opts.version, ...(opts.headers ?? {}) };
    if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
    this.http = new HttpUpstream({ baseUrl: opts.baseUrl, headers, connections: opts.connections });
  }

  async complete(req: CanonicalRequest, opts: AttemptOptions): Promise<CanonicalResponse> {
    const timer = attemptTimer(opts.timeoutMs, opts.signal);
    try {
      const res = await this.http.post('/v1/messages', upstreamRequestBody({ ...req, stream: false }, opts.upstreamModel, this.defaultMaxTokens), opts, timer.signal);
      const text = await res.body.text().catch((err: unknown) => {
        throw classify(err, opts.signal, timer.signal);
      });
      if (res.statusCode >= 300) throw new UpstreamFailure('status', `The upstream answered with status ${res.statusCode}.`, res.statusCode);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UpstreamFailure('bad_response', 'The upstream returned invalid JSON.');
      }
      return parseUpstreamResponse(json);
    } finally {
      timer.clear();
    }
  }

  async stream(req: CanonicalRequest, opts: AttemptOptions, onEvent: (ev: StreamEvent) => void): Promise<void> {
    const timer = attemptTimer(opts.timeoutMs, opts.signal);
    let gotFirst = false;
    const reader = new UpstreamStreamReader((ev) => {
      if (!gotFirst) {
        gotFirst = true;
        timer.clear();
      }
      onEvent(ev);
    });
    const parser = new SseParser((event, data) => reader.event(event, data));
    try {
      const res = await this.http.post('/v1/messages', upstreamRequestBody({ ...req, stream: true }, opts.upstreamModel, this.defaultMaxTokens), opts, timer.signal);
      if (res.statusCode >= 300) {
        await res.body.dump().catch(() => undefined);
        throw new UpstreamFailure('status', `The upstream answered with status ${res.statusCode}.`, res.statusCode);
      }
      await readText(res.body, (s) => parser.push(s));
      parser.end();
      if (!reader.finished) throw new UpstreamFailure('reset', 'The upstream stream ended without completing.');
    } catch (err) {
      if (err instanceof SyntaxError) throw new UpstreamFailure('bad_response', 'The upstream sent malformed stream data.');
      if (err instanceof UpstreamFailure) throw err;
      if ((err as { status?: number }).status === 502) throw new UpstreamFailure('bad_response', (err as Error).message);
      throw classify(err, opts.signal, timer.signal);
    } finally {
      timer.clear();
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
