/** The two ingress protocols behind one interface, so the request path is written once. */
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.ts';
import * as anthropic from '../protocol/anthropic.ts';
import type { GatewayError } from '../protocol/errors.ts';
import * as openai from '../protocol/openai.ts';

export interface StreamWriter {
  write(ev: StreamEvent): string;
  error(err: GatewayError): string;
}

export interface IngressProtocol {
  readonly name: 'openai' | 'anthropic';
  /** Validates a decoded body. JSON text embedded in it (tool arguments) is held to `maxJsonDepth` (default 64). */
  parseRequest(body: unknown, maxJsonDepth?: number): CanonicalRequest;
  responseBody(res: CanonicalResponse, publicModel: string, created: number): string;
  errorBody(err: GatewayError): string;
  streamWriter(id: string, publicModel: string, created: number, includeUsage: boolean): StreamWriter;
  responseId(requestId: string): string;
}

export const OPENAI: IngressProtocol = {
  name: 'openai',
  parseRequest: openai.parseRequest,
  responseBody: openai.responseBody,
  errorBody: openai.errorBody,
  streamWriter: (id, model, created, includeUsage) => new openai.StreamSerializer(id, model, created, includeUsage),
  responseId: (requestId) => `chatcmpl-${requestId.replace(/-/g, '')}`,
};

export const ANTHROPIC: IngressProtocol = {
  name: 'anthropic',
  parseRequest: anthropic.parseRequest,
  responseBody: (res, model) => anthropic.responseBody(res, model),
  errorBody: anthropic.errorBody,
  streamWriter: (id, model) => new anthropic.StreamSerializer(id, model),
  responseId: (requestId) => `msg_${requestId.replace(/-/g, '')}`,
};

const bound = new Map<string, IngressProtocol>();

/**
 * The protocol with `maxJsonDepth` bound into parseRequest, for a request path that calls it with the body alone.
 * One object per (protocol, limit), made on first use, so the hot path allocates nothing.
 */
export function withJsonDepth(protocol: IngressProtocol, maxJsonDepth: number): IngressProtocol {
  const key = `${protocol.name}:${maxJsonDepth}`;
  let p = bound.get(key);
  if (!p) {
    const parse = protocol.parseRequest;
    p = { ...protocol, parseRequest: (body) => parse(body, maxJsonDepth) };
    bound.set(key, p);
  }
  return p;
}
