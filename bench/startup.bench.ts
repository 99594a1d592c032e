/**
 * Start-up cost of the CLI: the compiled dist/ (what `npm start` and `bin/gatehouse.mjs` run) against the same
 * commands run from the TypeScript sources through tsx (the baseline, measured in the same run), and the cost of
 * the full config validation `serve` and `config check` share.
 *   node --import tsx bench/startup.bench.ts [--runs N]
 * Builds dist/ first when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../src/config/load.ts';
import { validateConfigFile } from '../src/server/validate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
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
