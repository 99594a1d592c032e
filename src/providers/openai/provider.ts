/** OpenAI-compatible upstreams: OpenAI, vLLM, Ollama, llama.cpp server, and anything else speaking /chat/completions. */
import { HttpProvider, keyAndHeaders } from '../http-provider.ts';
import type { ProviderType } from '../types.ts';
import { openaiConfigSchema, type OpenAIProviderConfig } from './config.ts';
import { openaiDialect } from './dialect.ts';

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
    super(opts.name, { baseUrl: opts.baseUrl, headers, connections: opts.connections }, openaiDialect);
  }
}

/** `type: openai` in config: the registry's entry. */
export const openaiProviderType = {
  type: 'openai',
  dialect: 'openai',
  configSchema: openaiConfigSchema,
  create: (name, p, env) => new OpenAICompatibleProvider({ name, baseUrl: p.baseUrl, connections: p.connections, ...keyAndHeaders(p, env) }),
} as const satisfies ProviderType<OpenAIProviderConfig>;
