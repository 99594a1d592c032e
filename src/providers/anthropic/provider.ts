/** Anthropic Messages API upstream. */
import { HttpProvider, keyAndHeaders } from '../http-provider.ts';
import type { ProviderType } from '../types.ts';
import { anthropicConfigSchema, type AnthropicProviderConfig } from './config.ts';
import { anthropicDialect } from './dialect.ts';

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
    super(opts.name, { baseUrl: opts.baseUrl, headers, connections: opts.connections }, anthropicDialect(opts.defaultMaxTokens));
  }
}

/** `type: anthropic` in config: the registry's entry. */
export const anthropicProviderType = {
  type: 'anthropic',
  dialect: 'anthropic',
  configSchema: anthropicConfigSchema,
  create: (name, p, env) =>
    new AnthropicProvider({ name, baseUrl: p.baseUrl, connections: p.connections, version: p.version, defaultMaxTokens: p.defaultMaxTokens, ...keyAndHeaders(p, env) }),
} as const satisfies ProviderType<AnthropicProviderConfig>;
