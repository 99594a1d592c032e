/** The Anthropic Messages wire dialect: path, request body, response parser and stream reader. */
import { parseUpstreamResponse, upstreamRequestBody, UpstreamStreamReader } from '../../protocol/anthropic.ts';
import type { WireDialect } from '../http-provider.ts';

/** `defaultMaxTokens` is sent when the caller gave no max_tokens (OpenAI makes it optional, Anthropic requires it). */
export function anthropicDialect(defaultMaxTokens: number): WireDialect {
  return {
    path: '/v1/messages',
    requestBody: (req, model) => upstreamRequestBody(req, model, defaultMaxTokens),
    parseResponse: parseUpstreamResponse,
    streamReader: (emit) => {
      const reader = new UpstreamStreamReader(emit);
      return {
        onEvent: (event, data) => reader.event(event, data),
        get finished() {
          return reader.finished;
        },
      };
    },
  };
}
