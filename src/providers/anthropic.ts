/** Anthropic Messages API upstream. */
import { parseUpstreamResponse, upstreamRequestBody, UpstreamStreamReader } from '../protocol/anthropic.ts';
import { z } from 'zod';
import { HttpProvider, httpConfigFields, keyAndHeaders } from './http-provider.ts';
import type { ProviderType } from './types.ts';

export interface AnthropicOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  version: string;
  /** Used when the caller gave no max_tokens (OpenAI makes it optional, Anthropic requires it). */
  defaultMaxTokens: number;
  headers?: Record<string, string>;
  connections: number;
}

export class AnthropicProvider extends HttpProvider {
  constructor(opts: AnthropicOptions) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': opts.version, ...(opts.headers ?? {}) };
    if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
    super(
      opts.name,
      { baseUrl: opts.baseUrl, headers, connections: opts.connections },
      {
        path: '/v1/messages',
        requestBody: (req, model) => upstreamRequestBody(req, model, opts.defaultMaxTokens),
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
      },
    );
  }
}

export const anthropicConfigSchema = z
  .object({
    type: z.literal('anthropic'),
    ...httpConfigFields,
    version: z.string().default('2023-06-01'),
    defaultMaxTokens: z.number().int().min(1).default(4096),
  })
  .strict();

/** `type: anthropic` in config. */
export const anthropicProviderType = {
  type: 'anthropic',
  dialect: 'anthropic',
  configSchema: anthropicConfigSchema,
  create: (name, p, env) =>
    new AnthropicProvider({ name, baseUrl: p.baseUrl, connections: p.connections, version: p.version, defaultMaxTokens: p.defaultMaxTokens, ...keyAndHeaders(p, env) }),
} as const satisfies ProviderType<z.infer<typeof anthropicConfigSchema>>;
