/**
 * Before/after CPU per request on a shared, busy machine: the gateway from this checkout and from another one
 * (`--before DIR`, its own node_modules or a link to these) run side by side with the same config on the same no-op
 * upstream, and each round loads BOTH at the same fixed open-loop rate at the same time, so whatever else the
 * machine is doing hits both alike; each process's user + system CPU (from /proc) is divided by the requests it
 * answered. Rounds repeat; the per-round ratio after ÷ before is the figure to read (paired, so the neighbours'
 * load cancels to first order). Targets are pinned to core 1 and the load generator to core 0 when `taskset` works.
 *
 * Usage: node --import tsx bench/paired.ts --before DIR [--target full|plain] [--mode plain|stream]
 *        [--rate 300] [--duration 5] [--rounds 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { fixedRate } from './loadgen.ts';
import { createKey, startLoggingToFile, startProcess } from './support.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    target: { type: 'string', default: 'full' },
    mode: { type: 'string', default: 'plain' },
    rate: { type: 'string', default: '300' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
  },
});
if (!values.before) throw new Error('--before DIR is required (a checkout of the code to compare against)');
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-paired-'));
const pinned = spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
const pin = (pid: number | undefined) => {
  if (pinned && pid) spawnSync('taskset', ['-apc', '1', String(pid)], { stdio: 'ignore' });
};
function cpuMs(pid: number | undefined): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const upstream = await startProcess(['bench/noop-upstream.ts']);
const noop = { type: 'openai', baseUrl: `http://127.0.0.1:${upstream.port}/v1`, connections: 128 };
/** One config per side (each its own store and audit log: a log has one writer). */
function config(side: string): string {
  let c: Record<string, any>;
  if (values.target === 'plain') {
    c = {
      server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
      store: { url: `sqlite:${join(dir, `${side}.db`)}` },
      providers: { noop },
      models: [{ name: 'frontier', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
    };
  } else {
    c = parseYaml(readFileSync(join(root, 'config/demo.yaml'), 'utf8')) as Record<string, any>;
    c.server = { host: '127.0.0.1', port: 0, logLevel: 'info' };
    c.store.url = `sqlite:${join(dir, `${side}.db`)}`;
    c.audit.path = join(dir, `audit-${side}`, 'audit.jsonl');
    c.policy.file = join(root, 'config', c.policy.file as string);
    c.limits.defaults.key = { rpm: 100_000_000, tpm: 100_000_000_000 };
    c.providers = { noop };
    for (const m of c.models as Record<string, unknown>[]) m.provider = 'noop';
  }
  const path = join(dir, `${side}.yaml`);
  writeFileSync(path, stringify(c));
  return path;
}
const sides = await Promise.all(
  [
    { name: 'after', cli: join(root, 'src/cli/main.ts') },
    { name: 'before', cli: join(values.before, 'src/cli/main.ts') },
  ].map(async (s) => {
    const path = config(s.name);
    const key = createKey(path, 'bench');
    const proc = await startLoggingToFile([s.cli, 'serve', '--config', path], join(dir, `${s.name}.log`));
    pin(proc.proc.pid);
    return { ...s, key, proc };
  }),
);
pin(upstream.proc.pid);

const body = JSON.stringify({ model: 'frontier', stream: values.mode === 'stream', messages: [{ role: 'user', content: 'Summarise the main causes of the French Revolution in three sentences.' }] });
const targetOf = (s: (typeof sides)[number]) => ({ url: `http://127.0.0.1:${s.proc.port}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body });
await Promise.all(sides.map((s) => fixedRate(targetOf(s), 200, 2, 16))); // warm-up

const rate = Number(values.rate);
const duration = Number(values.duration);
const load0 = loadavg()[0]!;
const ratios: number[] = [];
console.log(`paired ${values.target} ${values.mode}, ${rate} req/s each for ${duration}s per round; ${pinned ? 'pinned' : 'not pinned'}`);
console.log('round  after µs/req  before µs/req  after ÷ before  after p50 / p99 ms  before p50 / p99 ms  errors  load');
for (let round = 1; round <= Number(values.rounds); round++) {
  const c0 = sides.map((s) => cpuMs(s.proc.proc.pid));
  const results = await Promise.all(sides.map((s) => fixedRate(targetOf(s), rate, duration, 32)));
  const us = sides.map((s, i) => ((cpuMs(s.proc.proc.pid) - c0[i]!) * 1000) / (results[i]!.requests + results[i]!.errors));
  ratios.push(us[0]! / us[1]!);
  const [a, b] = results as [Awaited<ReturnType<typeof fixedRate>>, Awaited<ReturnType<typeof fixedRate>>];
  console.log(
    `${String(round).padEnd(5)}  ${us[0]!.toFixed(0).padStart(12)}  ${us[1]!.toFixed(0).padStart(13)}  ${ratios.at(-1)!.toFixed(3).padStart(14)}  ${`${a.p50.toFixed(2)} / ${a.p99.toFixed(1)}`.padStart(18)}  ${`${b.p50.toFixed(2)} / ${b.p99.toFixed(1)}`.padStart(19)}  ${String(a.errors + b.errors).padStart(6)}  ${loadavg()[0]!.toFixed(2)}`,
  );
}
const sorted = [...ratios].sort((x, y) => x - y);
console.log(`median after ÷ before ${sorted[Math.floor((sorted.length - 1) / 2)]!.toFixed(3)} (range ${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}); load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
for (const s of sides) s.proc.proc.kill('SIGTERM');
upstream.proc.kill('SIGTERM');
process.exit(0);
