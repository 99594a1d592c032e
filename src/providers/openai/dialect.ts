/** The OpenAI Chat Completions wire dialect: path, request body, response parser and stream reader. */
import { parseUpstreamResponse, upstreamRequestBody, UpstreamStreamReader } from '../../protocol/openai.ts';
import type { WireDialect } from '../http-provider.ts';

export const openaiDialect: WireDialect = {
  path: '/chat/completions',
  requestBody: upstreamRequestBody,
  parseResponse: parseUpstreamResponse,
  streamReader: (emit) => {
    const reader = new UpstreamStreamReader(emit);
    return {
      onEvent: (_event, data) => reader.data(data),
      get finished() {
        return reader.finished;
      },
    };
  },
};
