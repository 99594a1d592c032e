/**
 * Start-up cost of the CLI: the compiled dist/ (what `npm start` and `bin/gatehouse.mjs` run) against the same
 * commands run from the TypeScript sources through tsx (the baseline, measured in the same run), and the cost of
 * the full config validation `serve` and `config check` share; and cold start to the first 200: from spawning
 * `node bin/gatehouse.mjs serve` with the demo config (classifier, policy, audit, limits, abuse; a scratch store and
 * audit log) to its first successful chat completion, against the bare proxy (bench/bare-proxy.ts compiled to
 * plain JS) from spawn to its first 200 in the same run.
 *   node --import tsx bench/startup.bench.ts [--runs N] [--cold-only]
 * Builds dist/ first when it is missing.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { parse as parseYaml, stringify } from 'yaml';
import { startProcess } from './support.ts';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../src/config/load.ts';
import { validateConfigFile } from '../src/server/validate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, 'cold-only': { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const demo = join(root, 'config/demo.yaml');

if (!existsSync(join(root, 'dist/cli/main.js'))) spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function wall(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

const compiled = [join(root, 'bin/gatehouse.mjs')];

/**
 * Spawns `args`, waits for the port it announces on stdout (`LISTENING n` or the gateway's url log line), then
 * POSTs `body` every 5 ms until a 200: wall time from spawn to that 200, and the process's RSS once idle.
 */
async function coldStart(args: string[], env: Record<string, string>, headers: Record<string, string>, body: string): Promise<{ ms: number; rssMiB: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /LISTENING (\d+)/.exec(buf) ?? /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${buf}`)));
  });
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).catch(() => null);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) break;
    if (r && r.status !== 503) throw new Error(`${args.join(' ')}: first answer ${r.status}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  const ms = performance.now() - t0;
  await new Promise((res) => setTimeout(res, 1000));
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
  const exited = new Promise((res) => proc.on('exit', res));
  proc.kill('SIGTERM');
  await exited;
  return { ms, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

{
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-coldstart-'));
  const config = parseYaml(readFileSync(demo, 'utf8')) as Record<string, any>;
  config.store.url = `sqlite:${join(dir, 'gatehouse.db')}`;
  config.audit.path = join(dir, 'audit', 'audit.jsonl');
  config.policy.file = join(root, 'config', config.policy.file as string);
  const cfg = join(dir, 'demo.yaml');
  writeFileSync(cfg, stringify(config));
  const key = (JSON.parse(execFileSync(process.execPath, [...compiled, 'keys', 'create', '--config', cfg, '--account', 'coldstart', '--nationality', 'US', '--json'], { cwd: root, encoding: 'utf8' })) as { secret: string }).secret;
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const bareJs = join(root, '.tmp', 'bare-proxy.mjs');
  writeFileSync(bareJs, transformSync(readFileSync(join(root, 'bench/bare-proxy.ts'), 'utf8'), { loader: 'ts', format: 'esm' }).code);
  const upstream = await startProcess(['bench/noop-upstream.ts']);
  const body = JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'Hello' }] });
  const gw: { ms: number; rssMiB: number }[] = [];
  const bare: { ms: number; rssMiB: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    gw.push(await coldStart([...compiled, 'serve', '--config', cfg, '--port', '0'], {}, { authorization: `Bearer ${key}` }, body));
    bare.push(await coldStart([bareJs], { UPSTREAM: `http://127.0.0.1:${upstream.port}` }, {}, body));
  }
  upstream.proc.kill('SIGTERM');
  const g = median(gw.map((r) => r.ms));
  const b = median(bare.map((r) => r.ms));
  console.log(`cold start to first 200: gatehouse serve (compiled, config/demo.yaml) ${g.toFixed(0)} ms, bare proxy ${b.toFixed(0)} ms (baseline); ratio ${(g / b).toFixed(2)} (median of ${RUNS}, alternated; runs ${gw.map((r) => r.ms.toFixed(0)).join('/')} vs ${bare.map((r) => r.ms.toFixed(0)).join('/')})`);
  console.log(`idle RSS 1 s after the first 200: gatehouse ${median(gw.map((r) => r.rssMiB)).toFixed(0)} MiB, bare proxy ${median(bare.map((r) => r.rssMiB)).toFixed(0)} MiB (baseline); ratio ${(median(gw.map((r) => r.rssMiB)) / median(bare.map((r) => r.rssMiB))).toFixed(2)}`);
  if (values['cold-only']) process.exit(0);
}

const fromSource = ['--import', 'tsx', join(root, 'src/cli/main.ts')];
for (const [label, args] of [
  ['--version', ['--version']],
  ['config check config/demo.yaml', ['config', 'check', demo]],
] as const) {
  const c = wall([...compiled, ...args]);
  const s = wall([...fromSource, ...args]);
  console.log(`gatehouse ${label}: compiled ${c.toFixed(0)} ms, from source via tsx ${s.toFixed(0)} ms (baseline); ratio ${(c / s).toFixed(2)} (median of ${RUNS})`);
}

// In process: the shared validation (policy compile, classifier artefact load, keys, audit keys) against parsing alone.
const parse: number[] = [];
const full: number[] = [];
for (let i = 0; i < RUNS * 3; i++) {
  let t = performance.now();
  loadConfigFile(demo);
  parse.push(performance.now() - t);
  t = performance.now();
  await validateConfigFile(demo);
  full.push(performance.now() - t);
}
console.log(`validateConfigFile(config/demo.yaml): ${median(full).toFixed(1)} ms; loadConfigFile alone ${median(parse).toFixed(2)} ms (baseline); ratio ${(median(full) / median(parse)).toFixed(1)} (median of ${RUNS * 3}, once per start or SIGHUP)`);
