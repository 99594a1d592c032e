/**
 * `gatehouse redteam` end to end: a gateway process (simulator upstream with no latency, the default classifier, output
 * moderation on as by default, no limits) attacked with every transform × the shipped seeds through the official
 * openai and @anthropic-ai/sdk clients, 8 in flight. Prints the time and rate of each run, the rate of the classifier
 * alone in-process (the baseline, same run) and how many (transform, seed) outcomes agree with it, with the causes of
 * the others.
 * Run: node --import tsx bench/redteam-e2e.bench.ts [--concurrency 8]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runRedteam, type Row } from '../src/redteam/harness.ts';
import { loadTransforms } from '../src/redteam/registry.ts';
import { loadSeedFiles, SHIPPED_SEEDS } from '../src/redteam/seeds.ts';
import { classifierTarget, gatewayTarget } from '../src/redteam/targets.ts';
import { createKey, startLoggingToFile } from './support.ts';

const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '8' } } });
const concurrency = Number(values.concurrency);
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redteam-e2e-'));
const config = join(dir, 'gatehouse.yaml');
writeFileSync(
  config,
  `server: { host: 127.0.0.1, port: 0, logLevel: info, bodyLimitBytes: 1048576 }
store: { url: "sqlite:${join(dir, 'gh.db')}" }
providers:
  simulator: { type: simulator, latencyMs: 0, tokensPerSecond: 0, replyTokens: 8 }
models:
  - { name: frontier, provider: simulator, upstreamModel: sim-frontier-1 }
classify:
  model: default
`,
);
const key = createKey(config, 'redteam-bench');
const { proc, port } = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', config], join(dir, 'gateway.log'));
try {
  const seeds = loadSeedFiles(SHIPPED_SEEDS).seeds;
  const transforms = await loadTransforms();
  let t0 = performance.now();
  const reference = await runRedteam({ seeds, transforms, target: await classifierTarget({ model: 'default' }, 'general') });
  const baseMs = performance.now() - t0;
  console.log(`${transforms.length} transforms × ${seeds.length} seeds = ${reference.length} conversations; concurrency ${concurrency}`);
  console.log(`baseline, classifier alone in-process: ${(baseMs / 1000).toFixed(1)} s, ${((reference.length * 1000) / baseMs).toFixed(0)} conversations/s`);
  const want = new Map(reference.map((r) => [`${r.transform}|${r.seedId}`, r.outcome]));
  for (const protocol of ['openai', 'anthropic'] as const) {
    for (const stream of [false, true]) {
      const target = await gatewayTarget({ url: `http://127.0.0.1:${port}`, key, model: 'frontier', protocol, stream, maxTokens: 16 });
      t0 = performance.now();
      const rows: Row[] = await runRedteam({ seeds, transforms, target, concurrency });
      const ms = performance.now() - t0;
      const diff = new Map<string, number>();
      for (const r of rows) {
        const ref = want.get(`${r.transform}|${r.seedId}`);
        if (ref === r.outcome) continue;
        const k = `${ref} → ${r.outcome} (${r.detail?.slice(0, 40) ?? ''}, ${r.label})`;
        diff.set(k, (diff.get(k) ?? 0) + 1);
      }
      const same = rows.length - [...diff.values()].reduce((a, b) => a + b, 0);
      console.log(
        `${protocol}${stream ? ' streaming' : ''}: ${(ms / 1000).toFixed(1)} s, ${((rows.length * 1000) / ms).toFixed(0)} conversations/s (${(((rows.length * 1000) / ms) / ((reference.length * 1000) / baseMs)).toFixed(3)}× the in-process rate); ` +
          `same outcome as the classifier alone: ${same}/${rows.length}${diff.size ? `; others: ${[...diff].map(([k, v]) => `${v} ${k}`).join('; ')}` : ''}`,
      );
    }
  }
} finally {
  proc.kill('SIGTERM');
}
