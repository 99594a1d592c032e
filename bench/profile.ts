/**
 * Profiles the compiled gateway (`dist/`, as installed) under load: the full stack (the demo config's safeguards,
 * every model on the no-op upstream, limits raised) or the plain gateway, run with `node --cpu-prof`, driven by
 * `bench/loadgen.ts` at saturation (closed loop) or at a fixed open-loop rate, then summarised: share of samples
 * by area (GC, idle, Node core, each src/ folder, each package) and the top functions by self time. The
 * `.cpuprofile` is kept for a flame graph (Chrome DevTools, speedscope). Not part of `npm run bench` (its name has
 * no `.bench`): a tool, not a figure.
 *
 * Usage: node --import tsx bench/profile.ts [--target full|plain] [--mode plain|stream] [--duration 10]
 *        [--rate N (open loop; default: saturation)] [--connections 32] [--top 40] [--heap]
 *        `--heap` also reports the gateway's memory (from its /metrics) after the warm-up.
 *        `--node-flags="…"` passes V8/Node flags to the gateway (e.g. "--trace-gc"; its output goes to the log file,
 *        whose path is printed).
 *        `--analyse FILE.cpuprofile` only summarises an existing profile.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { fixedRate, saturate } from './loadgen.ts';
import { createKey, startProcess } from './support.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'full' },
    mode: { type: 'string', default: 'plain' },
    duration: { type: 'string', default: '10' },
    rate: { type: 'string' },
    connections: { type: 'string', default: '32' },
    top: { type: 'string', default: '40' },
    heap: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    analyse: { type: 'string' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
/** The load phase on the profile's clock: samples outside it (start-up, warm-up, shutdown) are left out. */
let window: { from: number; to: number } | null = null;
const profilePath = values.analyse ?? (await profileUnderLoad());

async function profileUnderLoad(): Promise<string> {
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-profile-'));
const pinned = spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;

const upstream = await startProcess(['bench/noop-upstream.ts']);
const noop = { type: 'openai', baseUrl: `http://127.0.0.1:${upstream.port}/v1`, connections: 128 };
let config: Record<string, any>;
if (values.target === 'plain') {
  config = {
    server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
    store: { url: `sqlite:${join(dir, 'gw.db')}` },
    providers: { noop },
    models: [{ name: 'frontier', provider: 'noop', upstreamModel: 'noop', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
  };
} else {
  config = parseYaml(readFileSync(join(root, 'config/demo.yaml'), 'utf8')) as Record<string, any>;
  config.server = { host: '127.0.0.1', port: 0, logLevel: 'info' };
  config.store.url = `sqlite:${join(dir, 'gw.db')}`;
  config.audit.path = join(dir, 'audit', 'audit.jsonl');
  config.policy.file = join(root, 'config', config.policy.file as string);
  config.limits.defaults.key = { rpm: 100_000_000, tpm: 100_000_000_000 };
  config.providers = { noop };
  for (const m of config.models as Record<string, unknown>[]) m.provider = 'noop';
}
const configPath = join(dir, 'gw.yaml');
writeFileSync(configPath, stringify(config));
const key = createKey(configPath, 'bench');

const logPath = join(dir, 'gw.log');
const fd = openSync(logPath, 'w');
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
const gw = spawn(process.execPath, [...nodeFlags, '--cpu-prof', '--cpu-prof-dir', dir, join(root, 'bin/gatehouse.mjs'), 'serve', '--config', configPath], { stdio: ['ignore', fd, 'inherit'] });
closeSync(fd);
const port = await new Promise<number>((resolve, reject) => {
  const poll = setInterval(() => {
    const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(readFileSync(logPath, 'utf8'));
    if (m) {
      clearInterval(poll);
      resolve(Number(m[1]));
    }
  }, 50);
  gw.on('exit', (code) => reject(new Error(`gateway exited with ${code}: ${readFileSync(logPath, 'utf8')}`)));
});
for (const pid of [upstream.proc.pid, gw.pid]) if (pinned && pid) spawnSync('taskset', ['-apc', '1', String(pid)], { stdio: 'ignore' });

const body = JSON.stringify({ model: 'frontier', stream: values.mode === 'stream', messages: [{ role: 'user', content: 'Summarise the main causes of the French Revolution in three sentences.' }] });
const target = { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body };
await fixedRate(target, 200, 2, 16); // warm-up (JIT, pools)
if (values.heap) {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const pick = (name: string) => Number(new RegExp(`^gatehouse_${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  console.log(`after warm-up: rss ${pick('process_resident_memory_bytes').toFixed(1)} MiB, heap used ${pick('nodejs_heap_size_used_bytes').toFixed(1)} MiB, external ${pick('nodejs_external_memory_bytes').toFixed(1)} MiB`);
}
const load0 = loadavg()[0]!;
const duration = Number(values.duration);
const loadStart = process.hrtime.bigint() / 1000n; // µs on the monotonic clock V8 stamps samples with
const r = values.rate ? await fixedRate(target, Number(values.rate), duration, Number(values.connections)) : await saturate(target, duration, Number(values.connections));
if (nodeFlags.length > 0) console.log(`gateway log (with the flags' output): ${logPath}`);
console.log(`${values.target} ${values.mode}: ${r.requests} ok, ${r.errors} errors, ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms; load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
gw.kill('SIGTERM');
await new Promise((resolve) => gw.once('exit', resolve));
upstream.proc.kill('SIGTERM');

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
window = { from: Number(loadStart), to: Number(process.hrtime.bigint() / 1000n) };
return join(dir, file);
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let at = profile.startTime;
const span = window as { from: number; to: number } | null; // set by profileUnderLoad (TS cannot see the assignment)
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (span && (at < span.from || at > span.to)) continue;
  self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** The area a frame belongs to: a src/ folder, a package, Node core, or V8's pseudo-frames. */
function area(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/([^/]+)\//.exec(url);
  if (own) return `src/${own[1]}`;
  if (url.startsWith('node:')) return 'node core';
  return url;
}
const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const a = area(n);
  areas.set(a, (areas.get(a) ?? 0) + t);
  const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
console.log(`\nprofile ${profilePath} — ${(total / 1e6).toFixed(1)} s sampled${span ? ' during the load' : ''}`);
console.log('\nself time by area');
for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`${pct(t)}  ${a}`);
console.log('\ntop functions by self time');
for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top))) console.log(`${pct(t)}  ${f}`);
process.exit(0);
