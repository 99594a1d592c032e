/**
 * Gateway overhead benchmark. In one run, against the same no-op upstream:
 *   upstream  — the upstream called directly (what a client would see with no proxy at all)
 *   bare      — bench/bare-proxy.ts, the floor for any node:http + undici proxy
 *   gateway   — Gatehouse with auth, validation, translation, routing, metrics and logging
 * For each: latency p50/p99 at a fixed 1,000 req/s, and throughput at saturation; streaming and not.
 * Added latency = target p50/p99 minus the upstream's own in the same run.
 *
 * Usage: node --import tsx bench/gateway.bench.ts [--duration 10] [--rate 1000] [--connections 64]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixedRate, saturate, type LoadResult } from './loadgen.ts';
import { createKey, startLoggingToFile, startProcess } from './support.ts';
import { stringify } from 'yaml';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, rate: { type: 'string', default: '1000' }, connections: { type: 'string', default: '64' } },
});
const duration = Number(values.duration);
const rate = Number(values.rate);
const connections = Number(values.connections);


/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; NaN elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ, 100 on every mainstream Linux build

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const upstream = await startProcess(['bench/noop-upstream.ts']);
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const bare = await startProcess(['bench/bare-proxy.ts'], { UPSTREAM: upstreamUrl });

const storeUrl = `sqlite:${join(dir, 'store.db')}`;
const configPath = join(dir, 'bench.yaml');
writeFileSync(
  configPath,
  stringify({
    server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
    store: { url: storeUrl },
    providers: { noop: { type: 'openai', baseUrl: `${upstreamUrl}/v1`, connections: 128 } },
    models: [{ name: 'bench', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
  }),
);
const key = createKey(configPath, 'bench');
const gateway = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', configPath], join(dir, 'gateway.log'));



const targets: { name: string; url: string; headers: Record<string, string> }[] = [
  { name: 'upstream', url: `${upstreamUrl}/v1/chat/completions`, headers: {} },
  { name: 'bare', url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {} },
  { name: 'gateway', url: `http://127.0.0.1:${gateway.port}/v1/chat/completions`, headers: { authorization: `Bearer ${key}` } },
];
const bodies = {
  plain: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say ok eight times.' }] }),
  stream: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'Say ok eight times.' }] }),
};
// The upstream itself ignores the model name; the bare proxy forwards the body untouched.

interface Row { mode: string; target: string; p50: number; p99: number; rps: number; errors: number; cpuUs: number }
const rows: Row[] = [];
for (const [mode, body] of Object.entries(bodies)) {
  for (const t of targets) {
    const target = { url: t.url, headers: { 'content-type': 'application/json', ...t.headers }, body };
    await fixedRate(target, 500, 2, 16); // warm-up (JIT, pools)
    // CPU per request of the process under test (for `upstream`, the upstream itself) at the fixed rate: the
    // quantity that decides saturation, and far less noisy than throughput on a shared machine.
    const pid = (t.name === 'upstream' ? upstream : t.name === 'bare' ? bare : gateway).proc.pid;
    const cpu0 = cpuMs(pid);
    const fixed: LoadResult = await fixedRate(target, rate, duration, connections);
    const cpuUs = ((cpuMs(pid) - cpu0) * 1000) / (fixed.requests + fixed.errors);
    const sat: LoadResult = await saturate(target, duration, connections);
    rows.push({ mode, target: t.name, p50: fixed.p50, p99: fixed.p99, rps: sat.rps, errors: fixed.errors + sat.errors, cpuUs });
  }
}
for (const p of [upstream.proc, bare.proc, gateway.proc]) p.kill('SIGTERM');

const get = (mode: string, target: string) => rows.find((r) => r.mode === mode && r.target === target)!;
console.log(`\nGateway overhead — ${rate} req/s fixed rate and saturation, ${connections} connections, ${duration}s per run`);
console.log('mode    target    p50 ms  p99 ms  sat req/s  CPU µs/req  errors');
for (const r of rows) console.log(`${r.mode.padEnd(7)} ${r.target.padEnd(9)} ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${r.rps.toFixed(0).padStart(9)}  ${r.cpuUs.toFixed(0).padStart(10)}  ${r.errors}`);
console.log('\nmode    added p50 ms (gateway / bare)   added p99 ms (gateway / bare)   saturation gateway/bare');
for (const mode of Object.keys(bodies)) {
  const u = get(mode, 'upstream');
  const b = get(mode, 'bare');
  const g = get(mode, 'gateway');
  const a50 = g.p50 - u.p50;
  const b50 = b.p50 - u.p50;
  const a99 = g.p99 - u.p99;
  const b99 = b.p99 - u.p99;
  console.log(
    `${mode.padEnd(7)} ${a50.toFixed(3)} / ${b50.toFixed(3)} (ratio ${(a50 / Math.max(b50, 0.01)).toFixed(2)})`.padEnd(40) +
      `${a99.toFixed(3)} / ${b99.toFixed(3)} (ratio ${(a99 / Math.max(b99, 0.01)).toFixed(2)})`.padEnd(32) +
      `${(g.rps / b.rps).toFixed(2)} (${g.rps.toFixed(0)} / ${b.rps.toFixed(0)} req/s)`,
  );
}
process.exit(0);
