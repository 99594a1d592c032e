/**
 * The request/response/stream loop shared by every HTTP upstream. A wire dialect (OpenAI Chat Completions,
 * Anthropic Messages) supplies only what differs: the path, the request body, the response parser and the stream
 * reader. Failures become UpstreamFailure so the request path can decide on fallbacks.
 */
import { z } from 'zod';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.ts';
import { SseParser } from '../protocol/sse.ts';
import { attemptTimer, classify, HttpUpstream, readText, type HttpUpstreamOptions } from './http.ts';
import { UpstreamFailure, type AttemptOptions, type Provider } from './types.ts';

export interface StreamReader {
  /** One SSE event (name, data). Throws GatewayError/SyntaxError on malformed or error events. */
  onEvent(event: string, data: string): void;
  /** True once the stream reached its protocol's end (`[DONE]`, `message_stop`). */
  readonly finished: boolean;
}

export interface WireDialect {
  /** Path below the provider's base URL. */
  path: string;
  /** Upstream request body; `req.stream` says which mode. */
  requestBody(req: CanonicalRequest, upstreamModel: string): string;
  parseResponse(json: unknown): CanonicalResponse;
  streamReader(emit: (ev: StreamEvent) => void): StreamReader;
}

export class HttpProvider implements Provider {
  private readonly http: HttpUpstream;
  constructor(
    readonly name: string,
    http: HttpUpstreamOptions,
    private readonly dialect: WireDialect,
  ) {
    this.http = new HttpUpstream(http);
  }

  async complete(req: CanonicalRequest, opts: AttemptOptions): Promise<CanonicalResponse> {
    const timer = attemptTimer(opts.timeoutMs, opts.signal);
    try {
      const res = await this.http.post(this.dialect.path, this.dialect.requestBody({ ...req, stream: false }, opts.upstreamModel), opts, timer.signal);
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
      return this.dialect.parseResponse(json);
    } finally {
      timer.done();
    }
  }

  async stream(req: CanonicalRequest, opts: AttemptOptions, onEvent: (ev: StreamEvent) => void): Promise<void> {
    const timer = attemptTimer(opts.timeoutMs, opts.signal);
    let gotFirst = false;
    const reader = this.dialect.streamReader((ev) => {
      if (!gotFirst) {
        gotFirst = true;
        // The attempt timeout covers the wait for the first event; from then on, the silence between events.
        timer.rearm(opts.idleTimeoutMs);
      } else timer.touch();
      onEvent(ev);
    });
    const parser = new SseParser((event, data) => reader.onEvent(event, data));
    try {
      const res = await this.http.post(this.dialect.path, this.dialect.requestBody({ ...req, stream: true }, opts.upstreamModel), opts, timer.signal);
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
      timer.done();
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** Config fields every HTTP provider type takes (spread into its schema). */
export const httpConfigFields = {
  baseUrl: z.url(),
  /** Name of the environment variable holding the provider key; the key itself never goes in the file. */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name').optional(),
  headers: z.record(z.string(), z.string()).optional(),
  connections: z.number().int().min(1).max(1024).default(128),
};

/** The key from the environment variable named in config, and the extra headers, as optional constructor fields. */
export function keyAndHeaders(p: { apiKeyEnv?: string | undefined; headers?: Record<string, string> | undefined }, env: NodeJS.ProcessEnv): { apiKey?: string; headers?: Record<string, string> } {
  return { ...(p.apiKeyEnv && env[p.apiKeyEnv] ? { apiKey: env[p.apiKeyEnv] } : {}), ...(p.headers ? { headers: p.headers } : {}) };
}
