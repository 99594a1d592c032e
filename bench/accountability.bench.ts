/**
 * What metering plus the durable audit log add to a request: the same gateway, same upstream, same load, once
 * with both off and once with both on (audit durable before each response completes), alternated `--rounds` times
 * so drift affects both alike; the figure is the difference of the medians. Latency at a fixed 1,000 req/s, from
 * the scheduled send time to the last byte.
 *
 * `--retention` adds a third mode: audit with encrypted text retention (prompt, conversation and reply sealed and
 * made durable before each response completes), against the same baseline.
 *
 * Usage: node --import tsx bench/accountability.bench.ts [--duration 8] [--rate 1000] [--rounds 3] [--retention]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { stringify } from 'yaml';
import { fixedRate, type LoadResult } from './loadgen.ts';
import { createKey, startLoggingToFile, startProcess } from './support.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, rate: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, retention: { type: 'boolean', default: false } } });
const duration = Number(values.duration);
const rate = Number(values.rate);
const rounds = Number(values.rounds);

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-acct-bench-'));
const upstream = await startProcess(['bench/noop-upstream.ts']);
const storeUrl = `sqlite:${join(dir, 'store.db')}`;
const base = {
  server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
  store: { url: storeUrl },
  providers: { noop: { type: 'openai', baseUrl: `http://127.0.0.1:${upstream.port}/v1` } },
  models: [{ name: 'bench', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
};
const offPath = join(dir, 'off.yaml');
const onPath = join(dir, 'on.yaml');
writeFileSync(offPath, stringify({ ...base, meter: { enabled: false } }));
writeFileSync(onPath, stringify({ ...base, meter: { enabled: true }, audit: { path: join(dir, 'audit', 'audit.jsonl'), textHashKey: 'bench-hmac-key' } }));
const retentionPath = join(dir, 'retention.yaml');
writeFileSync(retentionPath, stringify({ ...base, meter: { enabled: true }, audit: { path: join(dir, 'audit-r', 'audit.jsonl'), textHashKey: 'bench-hmac-key', retention: { enabled: true, key: Buffer.alloc(32, 1).toString('base64'), dir: join(dir, 'audit-r', 'text') } } }));
const key = createKey(offPath, 'bench');
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say ok eight times.' }] });

async function measure(configPath: string): Promise<LoadResult> {
  const gw = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', configPath], `${configPath}.log`);
  const target = { url: `http://127.0.0.1:${gw.port}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body };
  await fixedRate(target, 500, 2, 16);
  const r = await fixedRate(target, rate, duration, 64);
  gw.proc.kill('SIGTERM');
  await new Promise((res) => gw.proc.once('exit', res));
  return r;
}

const runs: { mode: string; r: LoadResult }[] = [];
for (let i = 0; i < rounds; i++) {
  runs.push({ mode: 'off', r: await measure(offPath) });
  runs.push({ mode: 'on', r: await measure(onPath) });
  if (values.retention) runs.push({ mode: 'on+retention', r: await measure(retentionPath) });
}
upstream.proc.kill('SIGTERM');
const med = (mode: string, k: 'p50' | 'p99') => {
  const v = runs.filter((x) => x.mode === mode).map((x) => x.r[k]).sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
console.log(`\nMetering + durable audit, ${rate} req/s for ${duration}s per run, alternated ${rounds} times; load average ${loadavg()[0]!.toFixed(2)}`);
for (const x of runs) console.log(`${x.mode.padEnd(12)} p50 ${x.r.p50.toFixed(3)} ms  p99 ${x.r.p99.toFixed(3)} ms  errors ${x.r.errors}`);
const addP50 = med('on', 'p50') - med('off', 'p50');
console.log(`\nadded by metering + audit: p50 ${addP50.toFixed(3)} ms (on ${med('on', 'p50').toFixed(3)} / off ${med('off', 'p50').toFixed(3)}, ratio ${(med('on', 'p50') / med('off', 'p50')).toFixed(2)}), p99 on/off ${med('on', 'p99').toFixed(3)} / ${med('off', 'p99').toFixed(3)} ms`);
if (values.retention) {
  const addR = med('on+retention', 'p50') - med('off', 'p50');
  console.log(`added by metering + audit + encrypted retention: p50 ${addR.toFixed(3)} ms (on+retention ${med('on+retention', 'p50').toFixed(3)} / off ${med('off', 'p50').toFixed(3)}), p99 ${med('on+retention', 'p99').toFixed(3)} ms`);
}
process.exit(0);
