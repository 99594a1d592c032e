/**
 * Soak: the full stack (config/demo.yaml — policy, directives, classifier, metering, limits, audit, abuse — on a
 * scratch store and audit log, its limits raised so traffic is served) compiled, at a fixed request rate for
 * `--minutes`, mixing streaming and non-streaming requests over `--keys` keys and varied prompts. Every 10 s it
 * samples the gateway's RSS (from /proc) and the load's latency and errors. Growth is the RSS at the end (median of
 * the last three samples) over the RSS after warm-up (median of three samples from `--warmup` minutes on).
 * The baseline is the same gateway's idle RSS right after its first 200, measured in the same run.
 *
 * Usage: node --import tsx bench/soak.bench.ts [--minutes 10] [--warmup 1] [--rate 100] [--keys 16]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { fixedRate } from './loadgen.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' }, rate: { type: 'string', default: '100' }, keys: { type: 'string', default: '16' } },
});
const minutes = Number(values.minutes);
const warmupMin = Number(values.warmup);
const rate = Number(values.rate);
const nKeys = Number(values.keys);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/gatehouse.mjs');
if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-soak-'));
const config = parseYaml(readFileSync(join(root, 'config/demo.yaml'), 'utf8')) as Record<string, any>;
config.store.url = `sqlite:${join(dir, 'gatehouse.db')}`;
config.audit.path = join(dir, 'audit', 'audit.jsonl');
config.policy.file = join(root, 'config', config.policy.file as string);
config.limits.defaults.key = { rpm: 1_000_000, tpm: 1_000_000_000 };
config.server.logLevel = 'info';
const cfg = join(dir, 'demo.yaml');
writeFileSync(cfg, stringify(config));
const keys: string[] = [];
for (let i = 0; i < nKeys; i++) {
  const out = execFileSync(process.execPath, [bin, 'keys', 'create', '--config', cfg, '--account', `soak-${i}`, '--nationality', 'US', '--json'], { encoding: 'utf8' });
  keys.push((JSON.parse(out) as { secret: string }).secret);
}

const proc = spawn(process.execPath, [bin, 'serve', '--config', cfg, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise<number>((resolve, reject) => {
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(buf);
    if (m) {
      proc.stdout!.removeAllListeners('data');
      proc.stdout!.resume(); // log lines are drained and dropped: reading them costs the load generator little
      resolve(Number(m[1]));
    }
  });
  proc.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${buf}`)));
});

const rssMiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) / 1024;
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const topics = ['the water cycle', 'sorting algorithms', 'the history of tea', 'photosynthesis', 'how a bicycle gear works', 'prime numbers', 'the Roman road network', 'volcanoes', 'compound interest', 'migratory birds'];
let seq = 0;
const target = () => {
  const i = seq++;
  const body = JSON.stringify({ model: i % 3 === 0 ? 'frontier-lite' : 'frontier', stream: i % 2 === 0, messages: [{ role: 'user', content: `Explain ${topics[i % topics.length]} in a few sentences (${i}).` }] });
  return { url, headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[i % keys.length]}` }, body };
};

await fixedRate(target(), 5, 1, 4); // first 200
await new Promise((r) => setTimeout(r, 1000));
const idle = rssMiB();
console.log(`idle RSS after the first 200: ${idle.toFixed(0)} MiB`);
console.log('min    RSS MiB  p50 ms  p99 ms  req/s  errors');
const samples: { t: number; rss: number }[] = [];
const t0 = performance.now();
while (performance.now() - t0 < minutes * 60_000) {
  const r = await fixedRate(target(), rate, 10, 64);
  const t = (performance.now() - t0) / 60_000;
  const rss = rssMiB();
  samples.push({ t, rss });
  console.log(`${t.toFixed(2).padStart(5)}  ${rss.toFixed(0).padStart(7)}  ${r.p50.toFixed(1).padStart(6)}  ${r.p99.toFixed(1).padStart(6)}  ${(r.requests / 10).toFixed(0).padStart(5)}  ${r.errors}`);
}
proc.kill('SIGTERM');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const after = samples.filter((s) => s.t >= warmupMin);
const start = median(after.slice(0, 3).map((s) => s.rss));
const end = median(samples.slice(-3).map((s) => s.rss));
console.log(`\nsoak ${minutes} min at ${rate} req/s (half streaming, ${nKeys} keys, full demo stack): idle ${idle.toFixed(0)} MiB; RSS after ${warmupMin} min warm-up ${start.toFixed(0)} MiB, at the end ${end.toFixed(0)} MiB; growth ${(((end - start) / start) * 100).toFixed(1)} %; end ÷ idle ${(end / idle).toFixed(2)} (peak ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} MiB)`);
process.exit(0);
