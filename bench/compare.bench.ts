/**
 * `npm run bench -- compare`: the same no-op upstream (`bench/noop-upstream.ts`) called directly, through the bare
 * node:http + undici proxy (`bench/bare-proxy.ts`, the floor), through the gateway plain (key lookup, validation,
 * translation, routing, metrics, log line) and through the gateway with the full stack (the demo config's policy,
 * directives, classifier, metering, limits, durable audit and abuse detection; every model served by the no-op
 * upstream). Rounds are interleaved so drift hits every target alike. With `taskset` available the targets run on
 * core 1 and this load generator on core 0. Per target and mode: added p50/p99 over the upstream at a fixed
 * open-loop rate, CPU µs per request of the process under test, and closed-loop saturation; every ratio to the bare
 * proxy is printed. `--before DIR` adds the gateway plain and full from another checkout of the repository (its own
 * node_modules; same store and keys), for a before/after comparison in the same run.
 *
 * Usage: node --import tsx bench/compare.bench.ts [--duration 5] [--rate 500] [--rounds 2] [--connections 32] [--before DIR] [--mode plain|stream]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { fixedRate, saturate } from './loadgen.ts';
import { createKey, startLoggingToFile, startProcess } from './support.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, rate: { type: 'string', default: '500' }, rounds: { type: 'string', default: '2' }, connections: { type: 'string', default: '32' }, before: { type: 'string' }, mode: { type: 'string' } },
});
const duration = Number(values.duration);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const root = fileURLToPath(new URL('..', import.meta.url));

const pinned = spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
/** Moves a started process (and its threads) to core 1, away from the load generator. */
const pin = (pid: number | undefined) => {
  if (pinned && pid) spawnSync('taskset', ['-apc', '1', String(pid)], { stdio: 'ignore' });
};
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-compare-'));
const upstream = await startProcess(['bench/noop-upstream.ts']);
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const bare = await startProcess(['bench/bare-proxy.ts'], { UPSTREAM: upstreamUrl });
const noop = { type: 'openai', baseUrl: `${upstreamUrl}/v1`, connections: 128 };

const plainPath = join(dir, 'plain.yaml');
writeFileSync(
  plainPath,
  stringify({
    server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
    store: { url: `sqlite:${join(dir, 'plain.db')}` },
    providers: { noop },
    models: [{ name: 'frontier', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
  }),
);
const full = parseYaml(readFileSync(join(root, 'config/demo.yaml'), 'utf8')) as Record<string, any>;
full.server = { host: '127.0.0.1', port: 0, logLevel: 'info' };
full.store.url = `sqlite:${join(dir, 'full.db')}`;
full.audit.path = join(dir, 'audit', 'audit.jsonl');
full.policy.file = join(root, 'config', full.policy.file as string);
full.limits.defaults.key = { rpm: 100_000_000, tpm: 100_000_000_000 };
full.providers = { noop };
for (const m of full.models as Record<string, unknown>[]) m.provider = 'noop';
const fullPath = join(dir, 'full.yaml');
writeFileSync(fullPath, stringify(full));
const plainKey = createKey(plainPath, 'bench');
const fullKey = createKey(fullPath, 'bench');
const plain = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', plainPath], join(dir, 'plain.log'));
const fullGw = await startLoggingToFile(['src/cli/main.ts', 'serve', '--config', fullPath], join(dir, 'full.log'));
const before = values.before
  ? await (async () => {
      const cli = join(values.before!, 'src/cli/main.ts');
      const fullBeforePath = join(dir, 'full-before.yaml');
      writeFileSync(fullBeforePath, stringify({ ...full, audit: { ...full.audit, path: join(dir, 'audit-before', 'audit.jsonl') } }));
      return [
        { name: 'plain-bef', proc: await startLoggingToFile([cli, 'serve', '--config', plainPath], join(dir, 'plain-before.log')), key: plainKey },
        { name: 'full-bef', proc: await startLoggingToFile([cli, 'serve', '--config', fullBeforePath], join(dir, 'full-before.log')), key: fullKey },
      ];
    })()
  : [];
for (const p of [upstream, bare, plain, fullGw, ...before.map((b) => b.proc)]) pin(p.proc.pid);

const targets = [
  { name: 'upstream', pid: upstream.proc.pid, url: `${upstreamUrl}/v1/chat/completions`, headers: {} as Record<string, string> },
  { name: 'bare', pid: bare.proc.pid, url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {} },
  { name: 'plain', pid: plain.proc.pid, url: `http://127.0.0.1:${plain.port}/v1/chat/completions`, headers: { authorization: `Bearer ${plainKey}` } },
  { name: 'full', pid: fullGw.proc.pid, url: `http://127.0.0.1:${fullGw.port}/v1/chat/completions`, headers: { authorization: `Bearer ${fullKey}` } },
  ...before.map((b) => ({ name: b.name, pid: b.proc.proc.pid, url: `http://127.0.0.1:${b.proc.port}/v1/chat/completions`, headers: { authorization: `Bearer ${b.key}` } })),
];
const prompt = 'Summarise the main causes of the French Revolution in three sentences.';
const bodies = {
  plain: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: prompt }] }),
  stream: JSON.stringify({ model: 'frontier', stream: true, messages: [{ role: 'user', content: prompt }] }),
};
type Row = { round: number; mode: string; target: string; p50: number; p99: number; cpuUs: number; rps: number; errors: number };
const rows: Row[] = [];
const load0 = loadavg()[0]!;
for (let round = 1; round <= rounds; round++) {
  for (const [mode, body] of Object.entries(bodies)) {
    if (values.mode && mode !== values.mode) continue;
    for (const t of targets) {
      const target = { url: t.url, headers: { 'content-type': 'application/json', ...t.headers }, body };
      await fixedRate(target, rate, 1, 16); // warm-up
      const c0 = cpuMs(t.pid);
      const fixed = await fixedRate(target, rate, duration, connections);
      const cpuUs = ((cpuMs(t.pid) - c0) * 1000) / (fixed.requests + fixed.errors);
      const sat = await saturate(target, duration, connections);
      rows.push({ round, mode, target: t.name, p50: fixed.p50, p99: fixed.p99, cpuUs, rps: sat.rps, errors: fixed.errors + sat.errors });
    }
  }
}
for (const p of [upstream, bare, plain, fullGw, ...before.map((b) => b.proc)]) p.proc.kill('SIGTERM');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
console.log(`\nCompare — ${rate} req/s open loop then saturation (${connections} connections), ${duration}s per run, ${rounds} interleaved rounds; ${pinned ? 'targets pinned to core 1, load generator to core 0' : 'not pinned (no taskset)'}; load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
console.log('round mode    target     p50 ms   p99 ms  CPU µs/req  sat req/s  errors');
for (const r of rows) console.log(`${String(r.round).padEnd(5)} ${r.mode.padEnd(7)} ${r.target.padEnd(9)} ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${r.cpuUs.toFixed(0).padStart(10)}  ${r.rps.toFixed(0).padStart(9)}  ${r.errors}`);
const m = (mode: string, target: string, k: 'p50' | 'p99' | 'cpuUs' | 'rps') => median(rows.filter((r) => r.mode === mode && r.target === target).map((r) => r[k]));
console.log('\nmedians (lower median over rounds); ratios to the bare proxy');
console.log('mode    target    added p50 ms  added p99 ms  CPU µs/req (÷ bare)  saturation req/s (÷ bare)');
for (const mode of Object.keys(bodies)) {
  if (values.mode && mode !== values.mode) continue;
  for (const t of targets) {
    const a50 = m(mode, t.name, 'p50') - m(mode, 'upstream', 'p50');
    const a99 = m(mode, t.name, 'p99') - m(mode, 'upstream', 'p99');
    const cpu = m(mode, t.name, 'cpuUs');
    const rps = m(mode, t.name, 'rps');
    console.log(
      `${mode.padEnd(7)} ${t.name.padEnd(9)} ${a50.toFixed(3).padStart(12)}  ${a99.toFixed(3).padStart(12)}  ${cpu.toFixed(0).padStart(8)} (${(cpu / m(mode, 'bare', 'cpuUs')).toFixed(2)})`.padEnd(78) +
        `${rps.toFixed(0).padStart(8)} (${(rps / m(mode, 'bare', 'rps')).toFixed(2)})`,
    );
  }
}
process.exit(0);
