/** OpenAI-compatible upstreams: OpenAI, vLLM, Ollama, llama.cpp server, and anything else speaking /chat/completions. */
import { parseUpstreamResponse, upstreamRequestBody, UpstreamStreamReader } from '../protocol/openai.ts';
import { z } from 'zod';
import { HttpProvider, httpConfigFields, keyAndHeaders } from './http-provider.ts';
import type { ProviderType } from './types.ts';

export interface OpenAICompatibleOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  connections: number;
}

export class OpenAICompatibleProvider extends HttpProvider {
  constructor(opts: OpenAICompatibleOptions) {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    super(
      opts.name,
      { baseUrl: opts.baseUrl, headers, connections: opts.connections },
      {
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
      },
    );
  }
}

export const openaiConfigSchema = z.object({ type: z.literal('openai'), ...httpConfigFields }).strict();

/** `type: openai` in config. */
export const openaiProviderType = {
  type: 'openai',
  dialect: 'openai',
  configSchema: openaiConfigSchema,
  create: (name, p, env) => new OpenAICompatibleProvider({ name, baseUrl: p.baseUrl, connections: p.connections, ...keyAndHeaders(p, env) }),
} as const satisfies ProviderType<z.infer<typeof openaiConfigSchema>>;
