/**
 * What OpenTelemetry tracing adds to a request: two gateway processes with the same config, one without a
 * `tracing:` section (off: the SDK is never loaded) and one exporting every request's spans (sampleRatio 1, a SERVER
 * span, gate spans and the attempt's CLIENT span) over OTLP/HTTP to a collector process that answers 200 to
 * everything. Alternated `--rounds` times against the same no-op upstream: CPU µs per request of the gateway
 * process and p50/p99 at a fixed rate, then saturation; the upstream called directly is the baseline.
 *
 * Usage: node --import tsx bench/tracing.bench.ts [--duration 5] [--rate 500] [--rounds 2] [--connections 32]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { fixedRate, saturate } from './loadgen.ts';
import { createKey, startLoggingToFile, startProcess } from './support.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, rate: { type: 'string', default: '500' }, rounds: { type: 'string', default: '2' }, connections: { type: 'string', default: '32' }, stream: { type: 'boolean', default: false } },
});
const duration = Number(values.duration);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-bench-'));
const upstream = await startProcess(['bench/noop-upstream.ts']);
const collector = await startProcess(['bench/noop-upstream.ts']);
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const storeUrl = `sqlite:${join(dir, 'store.db')}`;
const base = {
  server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
  store: { url: storeUrl },
  providers: { noop: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, connections: 128 } },
  models: [{ name: 'bench', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
};
const offPath = join(dir, 'off.yaml');
const onPath = join(dir, 'on.yaml');
writeFileSync(offPath, stringify(base));
writeFileSync(onPath, stringify({ ...base, tracing: { endpoint: `http://127.0.0.1:${collector.port}/v1/traces`, sampleRatio: 1 } }));
const key = createKey(offPath, 'bench');
const off = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', offPath], join(dir, 'off.log'));
const on = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', onPath], join(dir, 'on.log'));

const body = JSON.stringify({ model: 'bench', stream: values.stream, messages: [{ role: 'user', content: 'Say ok eight times.' }] });
const targets: { name: string; proc: { proc: { pid?: number } }; url: string; headers: Record<string, string> }[] = [
  { name: 'upstream', proc: upstream, url: `${upstreamUrl}/v1/chat/completions`, headers: {} },
  { name: 'tracing off', proc: off, url: `http://127.0.0.1:${off.port}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` } },
  { name: 'tracing on', proc: on, url: `http://127.0.0.1:${on.port}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` } },
];
const rows: { round: number; name: string; p50: number; p99: number; cpuUs: number; rps: number; errors: number }[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const t of targets) {
    const target = { url: t.url, headers: { 'content-type': 'application/json', ...t.headers }, body };
    await fixedRate(target, rate, 1, 16); // warm-up
    const c0 = cpuMs(t.proc.proc.pid);
    const fixed = await fixedRate(target, rate, duration, connections);
    const cpuUs = ((cpuMs(t.proc.proc.pid) - c0) * 1000) / (fixed.requests + fixed.errors);
    const sat = await saturate(target, duration, connections);
    rows.push({ round, name: t.name, p50: fixed.p50, p99: fixed.p99, cpuUs, rps: sat.rps, errors: fixed.errors + sat.errors });
  }
}
for (const p of [upstream.proc, collector.proc, off.proc, on.proc]) p.kill('SIGTERM');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\nTracing overhead — ${values.stream ? 'streaming' : 'non-streaming'}, ${rate} req/s fixed rate then saturation, ${connections} connections, ${duration}s per run, ${rounds} rounds`);
console.log('round target        p50 ms  p99 ms  CPU µs/req  sat req/s  errors');
for (const r of rows) console.log(`${String(r.round).padEnd(5)} ${r.name.padEnd(12)} ${r.p50.toFixed(3).padStart(7)} ${r.p99.toFixed(3).padStart(7)}  ${r.cpuUs.toFixed(0).padStart(10)}  ${r.rps.toFixed(0).padStart(9)}  ${r.errors}`);
const m = (name: string, k: 'p50' | 'p99' | 'cpuUs' | 'rps') => median(rows.filter((r) => r.name === name).map((r) => r[k]));
const u50 = m('upstream', 'p50');
console.log('\nmedians        added p50 ms  CPU µs/req  sat req/s');
for (const n of ['tracing off', 'tracing on']) console.log(`${n.padEnd(14)} ${(m(n, 'p50') - u50).toFixed(3).padStart(12)}  ${m(n, 'cpuUs').toFixed(0).padStart(10)}  ${m(n, 'rps').toFixed(0).padStart(9)}`);
console.log(
  `\ntracing on ÷ off: CPU per request ${(m('tracing on', 'cpuUs') / m('tracing off', 'cpuUs')).toFixed(2)}, saturation ${(m('tracing on', 'rps') / m('tracing off', 'rps')).toFixed(2)}, added p50 ${((m('tracing on', 'p50') - u50) / Math.max(0.01, m('tracing off', 'p50') - u50)).toFixed(2)}`,
);
process.exit(0);
