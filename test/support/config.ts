/** Builds test configs as YAML files in a temp dir. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function tempDir(prefix = 'gatehouse-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, config: Record<string, unknown>, name = 'gatehouse.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}

/** A catalogue exercising every provider kind and fault; `simUrl` is an HTTP simulator (both protocols). */
export function standardConfig(opts: { simUrl: string; storeUrl: string; port?: number; extra?: Record<string, unknown> }): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: opts.port ?? 0, logLevel: 'info', bodyLimitBytes: 64 * 1024 },
    store: { url: opts.storeUrl },
    routing: { maxAttempts: 3, deadlineMs: 20_000 },
    providers: {
      sim: { type: 'simulator', replyTokens: 12 },
      'sim-down': { type: 'simulator', failStatus: 503 },
      'sim-500': { type: 'simulator', failStatus: 500 },
      'sim-slow': { type: 'simulator', latencyMs: 3000 },
      'sim-break-early': { type: 'simulator', breakAfterChunks: 0 },
      'sim-break-late': { type: 'simulator', breakAfterChunks: 3, tokensPerSecond: 200 },
      'sim-paced': { type: 'simulator', tokensPerSecond: 50, replyTokens: 200 },
      'http-openai': { type: 'openai', baseUrl: `${opts.simUrl}/v1`, apiKeyEnv: 'TEST_UPSTREAM_KEY' },
      'http-anthropic': { type: 'anthropic', baseUrl: opts.simUrl, apiKeyEnv: 'TEST_UPSTREAM_KEY' },
      'http-openai-dead': { type: 'openai', baseUrl: 'http://127.0.0.1:1/v1' },
    },
    models: [
      { name: 'frontier', provider: 'sim', upstreamModel: 'sim-frontier', pricing: { inputPerMTok: 15, outputPerMTok: 75 }, fallbacks: ['lite'] },
      { name: 'lite', provider: 'sim', upstreamModel: 'sim-lite', pricing: { inputPerMTok: 1, outputPerMTok: 4 } },
      { name: 'down-then-lite', provider: 'sim-down', upstreamModel: 'x', fallbacks: ['lite'] },
      { name: 'slow-then-lite', provider: 'sim-slow', upstreamModel: 'x', timeoutMs: 200, fallbacks: ['lite'] },
      { name: 'break-early-then-lite', provider: 'sim-break-early', upstreamModel: 'x', fallbacks: ['lite'] },
      { name: 'break-late', provider: 'sim-break-late', upstreamModel: 'x', fallbacks: ['lite'] },
      { name: 'all-down', provider: 'sim-down', upstreamModel: 'x', fallbacks: ['all-down-2'] },
      { name: 'all-down-2', provider: 'sim-down', upstreamModel: 'x', hidden: true },
      { name: 'all-500', provider: 'sim-500', upstreamModel: 'x' },
      { name: 'all-slow', provider: 'sim-slow', upstreamModel: 'x', timeoutMs: 150 },
      { name: 'paced', provider: 'http-openai', upstreamModel: 'paced-upstream' },
      { name: 'via-openai', provider: 'http-openai', upstreamModel: 'gpt-sim' },
      { name: 'no-usage', provider: 'http-openai', upstreamModel: 'no-usage-upstream', pricing: { inputPerMTok: 1, outputPerMTok: 2 } },
      { name: 'via-anthropic', provider: 'http-anthropic', upstreamModel: 'claude-sim' },
      { name: 'reset-then-anthropic', provider: 'http-openai', upstreamModel: 'reset-upstream', fallbacks: ['via-anthropic'] },
      { name: 'reset-only', provider: 'http-anthropic', upstreamModel: 'reset-upstream' },
      { name: 'refused-port', provider: 'http-openai-dead', upstreamModel: 'x', fallbacks: ['lite'] },
    ],
    ...(opts.extra ?? {}),
  };
}
